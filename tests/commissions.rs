//! Commissions (issue 18, slice 1): the owning rep at the time of the order earns on what is
//! invoiced, by the plan assigned to them (category, channel and default rates, explained on each
//! line); credit notes claw back exactly what they credit; house accounts and reps without a plan
//! earn nothing; statements total by channel, are approved and locked by finance only, and a closed
//! month never changes (later lines land in the next open one); pages for the rep and finance, CSV,
//! and the API with its scopes. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::commissions::{PlanDraft, StatementAction, next_period};
use portico::domain::money::Money;
use portico::service::credit_notes::{CreditRequest, issue_credit_note};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, commissions};
use portico::store::new_id;
use portico::store::products::ProductInput;
use serde_json::Value;

struct Fixture {
    account: String,
    rep_a: Principal,
    rep_b: Principal,
    admin: Principal,
    finance: Principal,
    cs: Principal,
    buyer: Principal,
    plan: String,
}

/// Gloves (category Dental / Gloves) at 10.00, gauze (no category) at 0.0125; a plan of 5 %, Dental
/// at 6 %, portal orders at 4 %, assigned to reps A and B; the account owned by A.
async fn fixture(app: &TestApp) -> Fixture {
    let common::CommissionStaff { rep_a, rep_b, admin, finance, cs } = app.commission_staff().await;
    let account = app.account("Smile Dental", Some(&rep_a.user_id)).await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await.principal().unwrap();
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 1000),
            (ProductInput::new("GZ-1", "Gauze"), "0.0125", 100_000),
        ],
    )
    .await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            let (top, sub) = (new_id(), new_id());
            portico::store::categories::insert_category(tx, &top, None, "Dental", "Dental", 0, 0).await?;
            portico::store::categories::insert_category(tx, &sub, Some(&top), "Gloves", "Dental / Gloves", 0, 0)
                .await?;
            tx.execute("UPDATE products SET category_id = $1 WHERE sku = 'GLV-1'", portico::args![sub.as_str()])
                .await?;
            Ok(())
        })
    })
    .await;
    let draft = PlanDraft {
        name: "Standard".into(),
        effective_from: "2000-01-01".into(),
        default_rate: "5".into(),
        category_rates: "Dental = 6".into(),
        channel_rates: "portal = 4".into(),
        ..Default::default()
    };
    let plan = commissions::save_plan(app.db(), app.now(), &Actor::web(&admin), None, &draft).await.unwrap();
    for rep in [&rep_a, &rep_b] {
        commissions::assign_plan(app.db(), app.now(), &Actor::web(&admin), &rep.user_id, &plan, "2000-01-01", "")
            .await
            .unwrap();
    }
    Fixture { account, rep_a, rep_b, admin, finance, cs, buyer, plan }
}

async fn place(app: &TestApp, who: &Principal, account: &str, lines: &[(&str, i64)]) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(who), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap()
    {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

async fn ship(app: &TestApp, f: &Fixture, number: &str, lines: &[(i64, i64)]) {
    let cs = Actor::web(&f.cs);
    let _ = orders::confirm_order(app.db(), app.now(), &cs, number, None).await;
    let input = ShipmentInput { warehouse: "CHI".into(), lines: lines.to_vec(), ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, number, &input).await.unwrap();
}

async fn set_owner(app: &TestApp, account: &str, rep: &str) {
    let (account, rep) = (account.to_string(), rep.to_string());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE accounts SET owner_rep_id = $2 WHERE id = $1",
                portico::args![account.as_str(), rep.as_str()],
            )
            .await?;
            Ok(())
        })
    })
    .await;
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// (invoice, sku, base, rate ppm, rule, amount) of a rep's lines this month, oldest first.
async fn lines_of(app: &TestApp, rep: &Principal, period: &str) -> Vec<(String, String, Money, i64, String, Money)> {
    commissions::statement_lines(app.db(), &Actor::web(rep), &rep.user_id, period, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.invoice_number, l.sku, Money::from_raw(l.base), l.rate_ppm, l.rule, Money::from_raw(l.amount)))
        .collect()
}

#[tokio::test]
async fn the_rep_at_the_time_of_the_order_earns_on_what_is_invoiced_and_credit_notes_claw_back() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    // Placed by the desk (phone) and by the buyer (portal) while A owns the account…
    let phone = place(&app, &f.cs, &f.account, &[("GLV-1", 3), ("GZ-1", 333)]).await;
    let portal = place(&app, &f.buyer, &f.account, &[("GLV-1", 2)]).await;
    assert_eq!((phone.channel.as_str(), portal.channel.as_str()), ("phone", "portal"));
    assert_eq!(phone.owner_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()), "recorded at placement");
    // …then the account changes hands: those orders stay with A; a new one is B's.
    set_owner(&app, &f.account, &f.rep_b.user_id).await;
    let later = place(&app, &f.cs, &f.account, &[("GZ-1", 1000)]).await;
    assert_eq!(later.owner_rep_id.as_deref(), Some(f.rep_b.user_id.as_str()));

    // The phone order is invoiced in two parts; nothing is counted twice.
    ship(&app, &f, &phone.number, &[(1, 2), (2, 333)]).await;
    ship(&app, &f, &phone.number, &[(1, 1)]).await;
    ship(&app, &f, &portal.number, &[(1, 2)]).await;
    ship(&app, &f, &later.number, &[(1, 1000)]).await;
    let mut a_lines = lines_of(&app, &f.rep_a, &period).await;
    a_lines.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    let expected = vec![
        // 2 × 10.00 = 20.00 at Dental's 6 % (the gloves are in Dental / Gloves) = 1.20
        ("INV-100001", "GLV-1", m("20.00"), 60_000, "category:Dental", m("1.20")),
        // 333 × 0.0125 = 4.1625 → 4.16 net; 5 % = 0.208 → 0.21
        ("INV-100001", "GZ-1", m("4.16"), 50_000, "default", m("0.21")),
        ("INV-100002", "GLV-1", m("10.00"), 60_000, "category:Dental", m("0.60")),
        // The buyer's own order: the portal rate wins over the category.
        ("INV-100003", "GLV-1", m("20.00"), 40_000, "channel:portal", m("0.80")),
    ];
    let got: Vec<(&str, &str, Money, i64, &str, Money)> =
        a_lines.iter().map(|l| (l.0.as_str(), l.1.as_str(), l.2, l.3, l.4.as_str(), l.5)).collect();
    assert_eq!(got, expected);
    let b_lines = lines_of(&app, &f.rep_b, &period).await;
    assert_eq!(b_lines.len(), 1, "the order placed after the hand-over: {b_lines:?}");
    assert_eq!((b_lines[0].2, b_lines[0].5), (m("12.50"), m("0.63")), "1000 × 0.0125 at 5 % = 0.625 → 0.63");

    // A credit note for one of the two gloves of INV-100001 claws back exactly its share, and
    // crediting the other one brings that invoice line's commission to exactly zero.
    let fin = Actor::web(&f.finance);
    let one = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    let cn = issue_credit_note(app.db(), app.now(), &fin, "INV-100001", &one).await.unwrap();
    issue_credit_note(app.db(), app.now(), &fin, "INV-100001", &one).await.unwrap();
    let mut a_lines = lines_of(&app, &f.rep_a, &period).await;
    a_lines.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    let clawbacks: Vec<(&str, Money, &str, Money)> =
        a_lines.iter().filter(|l| l.0.starts_with("CN-")).map(|l| (l.0.as_str(), l.2, l.4.as_str(), l.5)).collect();
    assert_eq!(
        clawbacks,
        vec![
            (cn.number.as_str(), m("-10.00"), "category:Dental", m("-0.60")),
            ("CN-100002", m("-10.00"), "category:Dental", m("-0.60")),
        ]
    );
    let glove_line: Money = Money::sum(
        a_lines.iter().filter(|l| l.1 == "GLV-1" && (l.0 == "INV-100001" || l.0.starts_with("CN-"))).map(|l| l.5),
    )
    .unwrap();
    assert_eq!(glove_line, Money::ZERO, "fully credited: nothing earned on it");

    // The statement: by channel, the self-service part, the total.
    let s = commissions::statement(app.db(), &Actor::web(&f.rep_a), &f.rep_a.user_id, &period).await.unwrap();
    assert_eq!(s.earned, m("1.61"), "1.20 + 0.21 + 0.60 + 0.80 − 1.20");
    assert_eq!(s.self_service, m("0.80"));
    assert_eq!(s.base, m("34.16"), "20 + 4.16 + 10 + 20 − 20");
    let channels: Vec<(&str, Money)> = s.by_channel.iter().map(|c| (c.channel.as_str(), c.amount)).collect();
    assert_eq!(channels, vec![("phone", m("0.81")), ("portal", m("0.80"))]);
    assert_eq!(s.total, s.earned, "no tiers, no cap");
    // The same from SQL sums: lines are written once, exactly.
    assert_eq!(app.count("SELECT CAST(SUM(amount) AS BIGINT) FROM commission_accruals").await, m("2.24").raw());

    // A rep cannot read another rep's statement; finance can read anyone's.
    let err = commissions::statement(app.db(), &Actor::web(&f.rep_b), &f.rep_a.user_id, &period).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    assert!(commissions::statement(app.db(), &Actor::web(&f.finance), &f.rep_a.user_id, &period).await.is_ok());
    let err = commissions::statement(app.db(), &Actor::web(&f.cs), &f.cs.user_id, &period).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "the desk has no book and no statement: {err:?}");
    let err = commissions::statement(app.db(), &Actor::web(&f.buyer), &f.rep_a.user_id, &period).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "buyers: as if there were none");
}

#[tokio::test]
async fn house_accounts_and_reps_without_a_plan_earn_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let admin = Actor::web(&f.admin);
    let account = portico::store::accounts::get(app.db(), &f.account).await.unwrap().unwrap();
    commissions::set_house_account(app.db(), app.now(), &admin, &account.number, true).await.unwrap();
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 1)]).await;
    ship(&app, &f, &o.number, &[(1, 1)]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_accruals").await, 0, "a house account");
    commissions::set_house_account(app.db(), app.now(), &admin, &account.number, false).await.unwrap();
    // A rep with no plan assigned.
    let rep_c = app.staff("Cleo Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let other = app.account("Bright Smiles", Some(&rep_c.user_id)).await;
    let o = place(&app, &f.cs, &other, &[("GLV-1", 1)]).await;
    ship(&app, &f, &o.number, &[(1, 1)]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_accruals").await, 0, "no plan");
    // A plan that ended before the invoice's day does not apply either.
    let old = PlanDraft {
        name: "Old".into(),
        effective_from: "2000-01-01".into(),
        effective_to: "2000-12-31".into(),
        default_rate: "9".into(),
        ..Default::default()
    };
    let old = commissions::save_plan(app.db(), app.now(), &admin, None, &old).await.unwrap();
    commissions::assign_plan(app.db(), app.now(), &admin, &rep_c.user_id, &old, "2000-01-01", "").await.unwrap();
    let o = place(&app, &f.cs, &other, &[("GLV-1", 1)]).await;
    ship(&app, &f, &o.number, &[(1, 1)]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_accruals").await, 0, "plan out of its dates");
    // The plan's changes are audited and published.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_plan.created'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_plan.assigned'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_house.changed'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'commission_%'").await, 7);
    let _ = f.plan;
}

#[tokio::test]
async fn closed_months_never_change_and_corrections_land_in_the_next_open_month() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 4)]).await;
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    let (rep, fin) = (f.rep_a.user_id.as_str(), Actor::web(&f.finance));
    // Only finance (and admins) approve; a rep may not approve their own.
    let err = commissions::act_on_statement(
        app.db(),
        app.now(),
        &Actor::web(&f.rep_a),
        rep,
        &period,
        StatementAction::Approve,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    let err = commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, StatementAction::Lock)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "approve first: {err:?}");
    let s =
        commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, StatementAction::Approve).await.unwrap();
    assert_eq!((s.status.as_str(), s.total), ("approved", m("1.20")));
    // The rest ships, and a credit note follows: both land in next month, this one stays as approved.
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    let one = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    issue_credit_note(app.db(), app.now(), &fin, "INV-100001", &one).await.unwrap();
    let s = commissions::statement(app.db(), &fin, rep, &period).await.unwrap();
    assert_eq!((s.earned, s.total), (m("1.20"), m("1.20")), "nothing new in a closed month");
    let next = commissions::statement(app.db(), &fin, rep, &next_period(&period)).await.unwrap();
    assert_eq!(next.earned, m("0.60"), "1.20 for INV-100002 − 0.60 clawed back");
    assert_eq!(next.status.as_str(), "open");
    let s =
        commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, StatementAction::Lock).await.unwrap();
    assert_eq!(s.status.as_str(), "locked");
    for action in [StatementAction::Reopen, StatementAction::Approve, StatementAction::Lock] {
        let err = commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, action).await.unwrap_err();
        assert!(matches!(err, ServiceError::Conflict(_)), "{action:?}: {err:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type LIKE 'commission_statement.%'").await, 2);
    // Finance's summary of the month lists the rep.
    let summary = commissions::period_summary(app.db(), &fin, &period).await.unwrap();
    assert_eq!(
        summary.iter().map(|r| (r.rep_name.as_str(), r.earned, r.status.as_str())).collect::<Vec<_>>(),
        vec![("Rita Rep", m("1.20"), "locked")]
    );
    let err = commissions::period_summary(app.db(), &Actor::web(&f.rep_a), &period).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden));
}

#[tokio::test]
async fn tiers_and_caps_adjust_the_month_on_the_statement() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let plan = portico::store::commissions::plan(app.db(), &f.plan).await.unwrap().unwrap();
    let mut draft = commissions::plan_draft(&plan);
    draft.tiers = "100 = 1".into();
    draft.cap = "5".into();
    commissions::save_plan(app.db(), app.now(), &Actor::web(&f.admin), Some(&f.plan), &draft).await.unwrap();
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 50)]).await;
    ship(&app, &f, &o.number, &[(1, 50)]).await;
    let s = commissions::statement(app.db(), &Actor::web(&f.rep_a), &f.rep_a.user_id, &period).await.unwrap();
    // 500.00 at 6 % = 30.00; tier bonus 1 % = 5.00; capped at 5.00 → −30.00.
    assert_eq!(s.earned, m("30.00"));
    let adj: Vec<Money> = s.adjustments.iter().map(|a| Money::from_raw(a.amount)).collect();
    assert_eq!(adj, vec![m("5.00"), m("-30.00")], "{:?}", s.adjustments);
    assert_eq!(s.total, m("5.00"));
}

#[tokio::test]
async fn the_rep_and_finance_pages_the_csv_and_the_plan_form() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let o = place(&app, &f.buyer, &f.account, &[("GLV-1", 2)]).await;
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    let mut rep = app.signed_in(&f.rep_a.email).await;
    let page = rep.get("/commissions").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"stat-self-service\">$0.80"), "{}", page.body);
    assert!(page.body.contains("cards-on-phone commission-lines"));
    assert!(!page.body.contains("commission-approve"), "reps do not approve");
    let home = rep.get("/rep").await;
    assert!(
        home.body.contains("id=\"rep-earned\">$0.80") && home.body.contains("id=\"rep-self-service\">$0.80"),
        "{}",
        home.body
    );
    let csv = rep.get(&format!("/commissions/statement.csv?period={period}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("period,kind,issued_on,invoice"), "{}", csv.body);
    assert!(csv.body.contains(",INV-100001,") && csv.body.contains(",0.80\n"), "{}", csv.body);
    let other = rep.get(&format!("/commissions?rep={}", f.rep_b.user_id)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    // The same month as a PDF, from the page's link: the lines, the self-service share, the total.
    assert!(page.body.contains("id=\"commission-pdf\""), "{}", page.body);
    let download = rep.get(&format!("/commissions/statement.pdf?period={period}")).await;
    assert_eq!(
        (download.status, download.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "application/pdf")
    );
    let (name, pdf) =
        commissions::statement_pdf(app.db(), &Actor::web(&f.rep_a), &f.rep_a.user_id, &period).await.unwrap();
    assert_eq!(name, format!("commission-Rita-Rep-{period}.pdf"));
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    for want in [
        "Commission statement",
        "Rita Rep",
        "INV-100001",
        "GLV-1",
        "Portal (self-service)",
        "$0.80",
        "Total commission",
        "Channel portal",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    let other = rep.get(&format!("/commissions/statement.pdf?rep={}&period={period}", f.rep_b.user_id)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let mut buyer = app.signed_in(&f.buyer.email).await;
    assert_eq!(buyer.get("/commissions/statement.pdf").await.status, StatusCode::NOT_FOUND);

    let mut fin = app.signed_in(&f.finance.email).await;
    let all = fin.get("/commissions").await;
    assert!(all.body.contains("Rita Rep") && all.body.contains("id=\"commission-reps\""), "{}", all.body);
    let res = fin
        .post("/commissions/statement", &[("rep", &f.rep_a.user_id), ("period", &period), ("action", "approve")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = fin.get(res.location()).await;
    assert!(page.body.contains("id=\"commission-status\">Approved"), "{}", page.body);
    assert!(fin.get("/admin/commissions").await.status == StatusCode::FORBIDDEN, "plans are the admin's");

    let mut admin = app.signed_in(&f.admin.email).await;
    let res = admin
        .post(
            "/admin/commissions",
            &[
                ("name", "Summer"),
                ("effective_from", "2027-02-30"),
                ("default_rate", "150"),
                ("channel_rates", "fax = 3"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"cp-rate-error\">Default rate:"), "{}", res.body);
    assert!(res.body.contains("id=\"cp-from-error\">Effective from:"));
    assert!(res.body.contains("id=\"cp-channels-error\">Channel rates, line 1"));
    assert!(res.body.contains("value=\"Summer\"") && res.body.contains(">fax = 3</textarea>"), "input kept");
    let res = admin
        .post("/admin/commissions", &[("name", "Summer"), ("effective_from", "2027-06-01"), ("default_rate", "3.5")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = admin.get("/admin/commissions").await;
    assert!(page.body.contains("data-plan=\"Summer\"") && page.body.contains("3.5%"), "{}", page.body);
}

#[tokio::test]
async fn the_api_reads_statements_and_pages_accrual_lines_with_its_scopes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 3), ("GZ-1", 333)]).await;
    ship(&app, &f, &o.number, &[(1, 1), (2, 333)]).await;
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    let read = app.api_token(&[Scope::CommissionsRead]).await;
    let res = app
        .api("GET", &format!("/api/v1/commissions/statements?rep={}&period={period}", f.rep_a.user_id), &read, None)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body: Value = serde_json::from_str(&res.body).unwrap();
    let s = &body["statements"][0];
    assert_eq!((s["earned"].as_str(), s["status"].as_str()), (Some("2.01"), Some("open")), "{s}");
    assert_eq!(s["by_channel"][0]["channel"], "phone");
    let all = app.api("GET", "/api/v1/commissions/statements", &read, None).await;
    let all: Value = serde_json::from_str(&all.body).unwrap();
    assert_eq!(all["statements"].as_array().unwrap().len(), 1);
    // Lines a page at a time, in the shape of every list an ERP pulls.
    let mut seen = Vec::new();
    let mut path = "/api/v1/commissions/accruals?limit=2".to_string();
    loop {
        let res = app.api("GET", &path, &read, None).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let page: Value = serde_json::from_str(&res.body).unwrap();
        for a in page["accruals"].as_array().unwrap() {
            seen.push((
                a["invoice_number"].as_str().unwrap().to_string(),
                a["amount"].as_str().unwrap().to_string(),
                a["rule"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/commissions/accruals?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.contains(&("INV-100002".into(), "1.20".into(), "category:Dental".into())), "{seen:?}");
    let bad = app.api("GET", "/api/v1/commissions/statements?period=2026-13", &read, None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Approving needs commissions:write.
    let path = format!("/api/v1/commissions/statements/{}/{period}/approve", f.rep_a.user_id);
    assert_eq!(app.api("POST", &path, &read, None).await.status, StatusCode::FORBIDDEN);
    let write = app.api_token(&[Scope::CommissionsWrite]).await;
    let res = app.api("POST", &path, &write, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let again = app.api("POST", &path, &write, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let other = app.api_token(&[Scope::InvoicesRead]).await;
    assert_eq!(app.api("GET", "/api/v1/commissions/accruals", &other, None).await.status, StatusCode::FORBIDDEN);
}

/// Finance approves rep A's `period`, after `delay_ms`, on a task of its own.
fn approve_in_background(
    app: &std::sync::Arc<TestApp>,
    f: &std::sync::Arc<Fixture>,
    period: &str,
    delay_ms: u64,
) -> tokio::task::JoinHandle<commissions::Statement> {
    let (app, f, period) = (app.clone(), f.clone(), period.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        let fin = Actor::web(&f.finance);
        commissions::act_on_statement(app.db(), app.now(), &fin, &f.rep_a.user_id, &period, StatementAction::Approve)
            .await
            .unwrap()
    })
}

/// Invoices written while finance approves the month (on PostgreSQL, truly at the same time): each
/// invoice's lines land either in the month before it is totalled or in the next one, never in
/// the approved month after its total was taken — the approved total is exactly the month's lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_month_approved_while_invoices_are_written_totals_exactly_its_lines() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let mut numbers = Vec::new();
    for _ in 0..16 {
        let o = place(&app, &f.cs, &f.account, &[("GLV-1", 1)]).await;
        let _ = orders::confirm_order(app.db(), app.now(), &Actor::web(&f.cs), &o.number, None).await;
        numbers.push(o.number);
    }
    let (app, f) = (std::sync::Arc::new(app), std::sync::Arc::new(f));
    let mut tasks = Vec::new();
    for (i, number) in numbers.into_iter().enumerate() {
        let (app, f) = (app.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            if i >= 8 {
                tokio::time::sleep(std::time::Duration::from_millis(2 * (i as u64 - 8))).await;
            }
            let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 1)], ..Default::default() };
            orders::record_shipment(app.db(), app.now(), &Actor::web(&f.cs), &number, &input).await.unwrap();
        }));
    }
    let approved = approve_in_background(&app, &f, &period, 5);
    for t in tasks {
        t.await.unwrap();
    }
    let approved = approved.await.unwrap();
    let this_month = lines_of(&app, &f.rep_a, &period).await;
    let next_month = lines_of(&app, &f.rep_a, &next_period(&period)).await;
    let sum = |lines: &[(String, String, Money, i64, String, Money)]| lines.iter().map(|l| l.5.raw()).sum::<i64>();
    assert_eq!(approved.total.raw(), sum(&this_month), "the approved total is the month's lines, all of them");
    assert_eq!(this_month.len() + next_month.len(), 16, "every invoice accrued once");
    let s = commissions::statement(app.db(), &Actor::web(&f.finance), &f.rep_a.user_id, &period).await.unwrap();
    assert_eq!((s.status.as_str(), s.earned, s.total), ("approved", approved.total, approved.total));

    // On PostgreSQL, the rule itself: an approval waits for an invoice that holds the rep (read
    // the month as open and is still writing) and goes on once it commits.
    if let portico::store::Db::Postgres(pool) = app.db() {
        let next = next_period(&period);
        let mut invoice = pool.begin().await.unwrap();
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR KEY SHARE")
            .bind(&f.rep_a.user_id)
            .execute(&mut *invoice)
            .await
            .unwrap();
        let approving = approve_in_background(&app, &f, &next, 0);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!approving.is_finished(), "the approval waits for the invoice holding the rep");
        invoice.commit().await.unwrap();
        assert_eq!(approving.await.unwrap().status.as_str(), "approved");
    }
}
