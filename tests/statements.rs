//! Statements and aging (issue 15 §5): a partial shipment → invoice → partial payment → statement
//! chain exact to the cent; aging buckets on boundary days; the statement's CSV and PDF say the
//! same figures; finance's receivables aging across accounts with totals and drill-down; the
//! buyer finance role sees billing and not the catalog or cart; nobody sees another account's.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::aging::Bucket;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::domain::credit::Exposure;
use portico::domain::money::Money;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::statements::{self, AgingQuery, Period};
use portico::service::{Actor, ServiceError};
use portico::store::new_id;
use portico::store::products::ProductInput;
use portico::{args, store};
use serde_json::Value;
use time::{Date, Duration};

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn iso(d: Date) -> String {
    portico::domain::pricing::format_iso_date(d)
}

fn today(app: &TestApp) -> Date {
    portico::service::catalog::today(app.now())
}

struct Fixture {
    account: String,
    other: String,
    finance_buyer: String,
    manager: String,
    buyer: String,
    other_finance: String,
    cs: Principal,
}

async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Statement Clinic", None).await;
    let other = app.account("Other Labs", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 100)]).await;
    Fixture {
        finance_buyer: app.buyer(&account, "Fay Finance", BuyerRole::Finance).await.email,
        manager: app.buyer(&account, "Mia Manager", BuyerRole::Manager).await.email,
        buyer: app.buyer(&account, "Bo Buyer", BuyerRole::Buyer).await.email,
        other_finance: app.buyer(&other, "Otto Finance", BuyerRole::Finance).await.email,
        cs: app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap(),
        account,
        other,
    }
}

async fn place(app: &TestApp, f: &Fixture, account: &str, qty: i64) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: vec![LineInput::sku("GLV-1", qty)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(&f.cs), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap()
    {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

async fn ship(app: &TestApp, f: &Fixture, o: &orders::OrderRow, qty: i64) {
    let cs = Actor::web(&f.cs);
    let _ = orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await;
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, qty)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
}

// ---- Payments through the payments service, as finance records them. ----

async fn clerk(app: &TestApp) -> portico::domain::auth::Principal {
    let id = new_id();
    app.staff(&format!("Pay Clerk {}", &id[id.len() - 10..]), &[portico::domain::auth::StaffRole::Finance])
        .await
        .principal()
        .unwrap()
}

/// A posted wire payment (reference REF-9) of `amount`, received on `on`, nothing applied yet.
/// Payments are numbered PAY-100001, PAY-100002, … in the order they are recorded.
async fn record_payment(app: &TestApp, account: &str, amount: Money, on: Date) -> String {
    use portico::service::payments::{ApplyInput, PaymentInput};
    let input = PaymentInput {
        account: account.to_string(),
        amount: amount.to_plain(),
        received_on: iso(on),
        method: "wire".into(),
        reference: "REF-9".into(),
        external_id: None,
        apply: ApplyInput::Nothing,
    };
    let p = clerk(app).await;
    portico::service::payments::record_payment(app.db(), app.now(), &portico::service::Actor::web(&p), &input)
        .await
        .unwrap()
        .payment
        .row
        .id
}

/// Applies `amount` of a payment to an invoice.
async fn apply(app: &TestApp, payment: &str, invoice: &str, amount: Money) {
    use portico::service::payments::ApplyInput;
    let p = clerk(app).await;
    let what = ApplyInput::Amounts(vec![(invoice.to_string(), amount.to_plain())]);
    portico::service::payments::apply_payment(app.db(), app.now(), &portico::service::Actor::web(&p), payment, &what)
        .await
        .unwrap();
}

/// Reverses a payment (returned by the bank).
async fn reverse(app: &TestApp, payment: &str) {
    let p = clerk(app).await;
    let actor = portico::service::Actor::web(&p);
    portico::service::payments::reverse_payment(app.db(), app.now(), &actor, payment, "returned by the bank")
        .await
        .unwrap();
}

async fn exposure_is_consistent(app: &TestApp, account: &str) {
    assert_eq!(
        store::credit::get(app.db(), account).await.unwrap(),
        store::credit::from_records(app.db(), account).await.unwrap(),
        "the running exposure matches the records"
    );
}

#[tokio::test]
async fn partial_shipment_invoice_partial_payment_statement_exact_to_the_cent() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.account, 3).await;
    ship(&app, &f, &o, 2).await; // INV-100001: 20.00
    ship(&app, &f, &o, 1).await; // INV-100002: 10.00
    let day = today(&app);
    let pay = record_payment(&app, &f.account, m("25.00"), day).await;
    apply(&app, &pay, "INV-100001", m("20.00")).await;
    apply(&app, &pay, "INV-100002", m("5.00")).await;
    exposure_is_consistent(&app, &f.account).await;

    let buyer = app.buyer(&f.account, "Fin Two", BuyerRole::Finance).await.principal().unwrap();
    let actor = Actor::web(&buyer);
    let period = Period { from: day - Duration::days(10), to: day };
    let doc = statements::statement(app.db(), app.now(), &actor, &f.account, period).await.unwrap();
    let s = &doc.statement;
    assert_eq!(s.opening, Money::ZERO);
    let lines: Vec<(&str, Money, Money)> =
        s.lines.iter().map(|l| (l.entry.reference.as_str(), l.entry.signed(), l.balance)).collect();
    assert_eq!(
        lines,
        vec![
            ("INV-100001", m("20.00"), m("20.00")),
            ("INV-100002", m("10.00"), m("30.00")),
            ("PAY-100001", m("-25.00"), m("5.00"))
        ]
    );
    assert_eq!(s.closing, m("5.00"));
    assert_eq!(doc.open_invoices.len(), 1);
    assert_eq!((doc.open_invoices[0].number.as_str(), doc.open_invoices[0].open), ("INV-100002", m("5.00")));
    assert_eq!(doc.aging.buckets.get(Bucket::Current), m("5.00"), "net 30: not yet due");
    assert_eq!(doc.aging.balance(), s.closing, "the statement closes on what the aging says is owed");

    // An overpayment sits unapplied: the balance goes negative, the aging shows it as credit.
    let extra = record_payment(&app, &f.account, m("10.01"), day).await;
    let doc = statements::statement(app.db(), app.now(), &actor, &f.account, period).await.unwrap();
    assert_eq!(doc.statement.closing, m("-5.01"));
    assert_eq!((doc.aging.credits, doc.aging.balance()), (m("10.01"), m("-5.01")));
    // The bank returns it: a reversal line puts it back.
    reverse(&app, &extra).await;
    exposure_is_consistent(&app, &f.account).await;
    let doc = statements::statement(app.db(), app.now(), &actor, &f.account, period).await.unwrap();
    let last = doc.statement.lines.last().unwrap();
    assert_eq!(
        (last.entry.reference.as_str(), last.entry.signed(), last.balance),
        ("PAY-100002", m("10.01"), m("5.00"))
    );
    assert_eq!(doc.statement.closing, m("5.00"));
    assert_eq!(doc.aging.balance(), m("5.00"));

    // A later period opens on the earlier one's closing balance.
    let next = Period { from: day + Duration::days(1), to: day + Duration::days(30) };
    let later = statements::statement(app.db(), app.now(), &actor, &f.account, next).await.unwrap();
    assert_eq!(
        (later.statement.opening, later.statement.lines.len(), later.statement.closing),
        (m("5.00"), 0, m("5.00"))
    );

    // The account's limit (25,000) less what it owes and has ordered: 25,000 − 5.00.
    assert_eq!(doc.credit, Some((m("25,000.00"), m("24,995.00"))));
}

/// Invoices written straight to the table, due `days` before today (fixture for fixed dates).
async fn invoice_due(app: &TestApp, account: &str, order_id: &str, number: &str, days_past_due: i64, total: &str) {
    let due = today(app) - Duration::days(days_past_due);
    let (account, order_id, number, total, now) =
        (account.to_string(), order_id.to_string(), number.to_string(), m(total).raw(), app.now());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO invoices (id, number, account_id, order_id, issued_on, due_on, terms, bill_to, ship_to, subtotal, tax, total, created_at)
                 VALUES ($1, $2, $3, $4, $5, $5, 'Net 0', '', '', $6, 0, $6, $7)",
                args![new_id(), number.as_str(), account.as_str(), order_id.as_str(), iso(due), total, now],
            )
            .await?;
            store::credit::adjust(tx, &account, Exposure { receivable: total, ..Default::default() }, now).await?;
            Ok(())
        })
    })
    .await;
}

#[tokio::test]
async fn aging_buckets_on_the_boundary_days_across_accounts_with_totals() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let booked = app.account("Booked Hospital", Some(&rep.id)).await;
    let o = place(&app, &f, &f.account, 1).await;
    let ob = place(&app, &f, &booked, 1).await;
    let days = [
        (0, "0.01"),
        (1, "1.00"),
        (30, "30.00"),
        (31, "31.00"),
        (60, "60.00"),
        (61, "61.00"),
        (90, "90.00"),
        (91, "91.00"),
    ];
    for (d, total) in days {
        invoice_due(&app, &f.account, &o.id, &format!("INV-9{d:03}"), d, total).await;
    }
    invoice_due(&app, &booked, &ob.id, "INV-8001", 200, "1,000.00").await;
    record_payment(&app, &f.account, m("0.50"), today(&app)).await;
    exposure_is_consistent(&app, &f.account).await;

    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await.principal().unwrap();
    let report =
        statements::aging_report(app.db(), app.now(), &Actor::web(&finance), &AgingQuery::default()).await.unwrap();
    assert_eq!(report.rows.len(), 2, "only accounts with something open");
    assert_eq!(report.rows[0].account_id, booked, "the most 90+ first");
    let mine = &report.rows[1].aging;
    assert_eq!(
        mine.buckets.amounts(),
        [m("0.01"), m("31.00"), m("91.00"), m("151.00"), m("91.00")],
        "0 → current; 1, 30 → 1–30; 31, 60 → 31–60; 61, 90 → 61–90; 91 → 90+"
    );
    assert_eq!((mine.open_total(), mine.credits, mine.balance()), (m("364.01"), m("0.50"), m("363.51")));
    assert_eq!(report.totals.buckets.get(Bucket::Over90), m("1,091.00"));
    assert_eq!(report.totals.open_total(), m("1,364.01"));

    // The rep sees their book only; a filter by rep and a search narrow finance's view.
    let rep_p = rep.principal().unwrap();
    let theirs =
        statements::aging_report(app.db(), app.now(), &Actor::web(&rep_p), &AgingQuery::default()).await.unwrap();
    assert_eq!(theirs.rows.iter().map(|r| r.account_id.as_str()).collect::<Vec<_>>(), vec![booked.as_str()]);
    let by_rep = AgingQuery { rep_id: Some(rep.id.clone()), q: String::new() };
    assert_eq!(
        statements::aging_report(app.db(), app.now(), &Actor::web(&finance), &by_rep).await.unwrap().rows.len(),
        1
    );
    let search = AgingQuery { rep_id: None, q: "statement".into() };
    let found = statements::aging_report(app.db(), app.now(), &Actor::web(&finance), &search).await.unwrap();
    assert_eq!(found.rows.iter().map(|r| r.account_id.as_str()).collect::<Vec<_>>(), vec![f.account.as_str()]);
    // Buyers have no aging across accounts; customer service (no finance area) neither.
    let manager =
        portico::store::users::find_by_email(app.db(), &f.manager).await.unwrap().unwrap().principal().unwrap();
    assert!(matches!(
        statements::aging_report(app.db(), app.now(), &Actor::web(&manager), &AgingQuery::default()).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        statements::aging_report(app.db(), app.now(), &Actor::web(&f.cs), &AgingQuery::default()).await,
        Err(ServiceError::Forbidden)
    ));

    // The page: a row per account, totals, drill-down to the statement, CSV; paged by cursor.
    let mut fin = app.signed_in(&app.staff("Fiona Books", &[StaffRole::Finance]).await.email).await;
    let page = fin.get("/finance").await;
    assert!(page.body.contains("href=\"/finance/aging\""), "linked from the finance page");
    let page = fin.get("/finance/aging").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("/accounts/{}/statement", f.account)));
    assert!(page.body.contains("$1,364.01"), "the totals row");
    let csv = fin.get("/finance/aging/csv").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "Account,Name,Rep,current,days_1_30,days_31_60,days_61_90,days_over_90,open_total,unapplied_credits,balance"
    );
    assert!(lines[2].ends_with(",0.01,31.00,91.00,151.00,91.00,364.01,0.50,363.51"), "{}", lines[2]);
    assert!(lines[3].starts_with("Total,") && lines[3].ends_with(",1364.01,0.50,1363.51"), "{}", lines[3]);
    let drill = fin.get(&format!("/accounts/{}/statement", f.account)).await;
    assert_eq!(drill.status, StatusCode::OK);
    assert!(drill.body.contains("INV-9091") && drill.body.contains("$363.51"), "{}", drill.body);

    // The API pages the same report by cursor; the totals cover every page.
    let token = app.api_token(&[portico::domain::auth::Scope::InvoicesRead]).await;
    let first = app.api("GET", "/api/v1/receivables/aging?limit=1", &token, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let first: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!((first["accounts"].as_u64(), first["totals"]["open_total"].as_str()), (Some(2), Some("1364.01")));
    assert_eq!(first["rows"][0]["account_id"], booked.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let q = serde_urlencoded::to_string([("limit", "1"), ("cursor", cursor)]).unwrap();
    let second: Value =
        serde_json::from_str(&app.api("GET", &format!("/api/v1/receivables/aging?{q}"), &token, None).await.body)
            .unwrap();
    assert_eq!(second["rows"][0]["account_id"], f.account.as_str());
    assert_eq!(second["rows"][0]["aging"]["days_61_90"], "151.00");
    assert!(second["next_cursor"].is_null());
    for cursor in ["nonsense", ""] {
        let bad = app.api("GET", &format!("/api/v1/receivables/aging?cursor={cursor}"), &token, None).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "cursor {cursor:?}: {}", bad.body);
    }
}

#[tokio::test]
async fn the_statement_as_page_csv_pdf_and_api_says_the_same_figures() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.account, 3).await;
    ship(&app, &f, &o, 3).await; // INV-100001: 30.00
    let pay = record_payment(&app, &f.account, m("12.34"), today(&app)).await;
    apply(&app, &pay, "INV-100001", m("12.34")).await;
    let (from, to) = (iso(today(&app) - Duration::days(5)), iso(today(&app)));

    let mut fin = app.signed_in(&f.finance_buyer).await;
    let page = fin.get(&format!("/portal/statement?from={from}&to={to}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("$17.66") && page.body.contains("INV-100001") && page.body.contains("PAY-100001"));

    let csv = fin.get(&format!("/portal/statement/csv?from={from}&to={to}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains(".csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[2], "Date,Type,Reference,Detail,Amount,Balance");
    assert_eq!(lines[3], format!("{from},Opening balance,,,,0.00"));
    assert!(
        lines[4].starts_with(&format!("{to},Invoice,INV-100001,")) && lines[4].ends_with(",30.00,30.00"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5], format!("{to},Payment,PAY-100001,wire REF-9,-12.34,17.66"));
    assert_eq!(lines[6], format!("{to},Closing balance,,,,17.66"));
    assert!(
        csv.body.contains("\nINV-100001,") && csv.body.contains(",30.00,17.66\n"),
        "the open invoice: {}",
        csv.body
    );
    assert!(csv.body.contains("17.66,0.00,0.00,0.00,0.00,17.66,0.00,17.66"), "the aging: {}", csv.body);

    let (name, pdf) = statements::statement_pdf(
        app.db(),
        app.now(),
        &Actor::web(&f.cs),
        &f.account,
        Period::parse(Some(&from), Some(&to), today(&app)).unwrap(),
    )
    .await
    .unwrap();
    assert!(name.starts_with("statement-A-") && name.ends_with(&format!("{from}-{to}.pdf")), "{name}");
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    for want in [
        "Statement",
        "Statement Clinic",
        "Opening balance",
        "INV-100001",
        "PAY-100001",
        "-$12.34",
        "$30.00",
        "Closing balance",
        "$17.66",
        "Available credit",
    ] {
        assert!(text.contains(want), "the PDF says {want}: {text}");
    }
    let download = fin.get(&format!("/portal/statement/pdf?from={from}&to={to}")).await;
    assert_eq!(
        (download.status, download.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "application/pdf")
    );

    let token = app.api_token(&[portico::domain::auth::Scope::InvoicesRead]).await;
    let api =
        app.api("GET", &format!("/api/v1/accounts/{}/statement?from={from}&to={to}", f.account), &token, None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!((v["opening_balance"].as_str(), v["closing_balance"].as_str()), (Some("0.00"), Some("17.66")));
    assert_eq!(v["lines"][1]["amount"], "-12.34");
    assert_eq!(v["lines"][1]["kind"], "payment");
    assert_eq!(v["aging"]["balance"], "17.66");
    // A read answers whatever its schema allows: a reversed period is swapped, and says so.
    let swapped =
        app.api("GET", &format!("/api/v1/accounts/{}/statement?from={to}&to={from}", f.account), &token, None).await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.body);
    let w: Value = serde_json::from_str(&swapped.body).unwrap();
    assert_eq!(
        (w["from"].clone(), w["to"].clone(), w["closing_balance"].clone()),
        (v["from"].clone(), v["to"].clone(), v["closing_balance"].clone())
    );
    let empty = app.api("GET", &format!("/api/v1/accounts/{}/statement?to=", f.account), &token, None).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.body);
    let bad = fin.get("/portal/statement?from=2026-02-30").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("2026-02-30") && bad.body.contains("YYYY-MM-DD"), "{}", bad.body);
}

#[tokio::test]
async fn nobody_reads_another_accounts_statement() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.other, 1).await;
    ship(&app, &f, &o, 1).await;
    let mut other = app.signed_in(&f.other_finance).await;
    assert_eq!(other.get("/portal/statement").await.status, StatusCode::OK);
    // The other account's finance contact cannot reach this account's statement by any path.
    let mut fin = app.signed_in(&f.finance_buyer).await;
    let mine = fin.get("/portal/statement").await;
    assert!(!mine.body.contains("INV-100001"), "another account's invoice never shows");
    for path in [
        format!("/accounts/{}/statement", f.other),
        format!("/accounts/{}/statement/pdf", f.other),
        format!("/accounts/{}/statement/csv", f.other),
        "/finance/aging".to_string(),
        "/finance/aging/csv".to_string(),
    ] {
        assert_eq!(fin.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let p =
        portico::store::users::find_by_email(app.db(), &f.finance_buyer).await.unwrap().unwrap().principal().unwrap();
    let period = Period::parse(None, None, today(&app)).unwrap();
    assert!(matches!(
        statements::statement(app.db(), app.now(), &Actor::web(&p), &f.other, period).await,
        Err(ServiceError::NotFound)
    ));
    // A buyer without billing rights has no statement, even their own.
    let mut buyer = app.signed_in(&f.buyer).await;
    assert_eq!(buyer.get("/portal/statement").await.status, StatusCode::NOT_FOUND);
    assert_eq!(buyer.get("/portal/statement/pdf").await.status, StatusCode::NOT_FOUND);
    // A rep outside the book: 404.
    let rep = app.staff("Ron Rep", &[StaffRole::SalesRep]).await;
    let mut rep = app.signed_in(&rep.email).await;
    assert_eq!(rep.get(&format!("/accounts/{}/statement", f.other)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_finance_role_sees_billing_and_not_the_catalog_or_cart() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.account, 2).await;
    ship(&app, &f, &o, 2).await;
    let mut fin = app.signed_in(&f.finance_buyer).await;
    let home = fin.get("/portal").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let nav = home.body.split("</nav>").next().unwrap();
    for hidden in ["/portal/catalog", "/portal/cart", "/portal/quick-order", "/portal/lists"] {
        assert!(!nav.contains(&format!("href=\"{hidden}\"")), "{hidden} is not in the finance role's navigation");
    }
    for shown in ["/portal/invoices", "/portal/statement"] {
        assert!(nav.contains(&format!("href=\"{shown}\"")), "{shown} is");
    }
    assert!(home.body.contains("id=\"home-balance\"><strong>$20.00"), "the balance on the home page");
    assert!(home.body.contains("id=\"home-available\">$24,980.00"), "available credit");
    assert!(!home.body.contains("id=\"home-lists\""));
    for path in [
        "/portal/catalog",
        "/portal/products/GLV-1",
        "/portal/cart",
        "/portal/quick-order",
        "/portal/lists",
        "/portal/buy-again",
    ] {
        assert_eq!(fin.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = fin.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0, "nothing added");
    assert_eq!(fin.get("/portal/invoices/INV-100001").await.status, StatusCode::OK);
    // Buyers and viewers still browse.
    let mut buyer = app.signed_in(&f.buyer).await;
    assert_eq!(buyer.get("/portal/catalog").await.status, StatusCode::OK);
    assert!(!buyer.get("/portal").await.body.contains("home-balance"), "no billing without billing rights");
}
