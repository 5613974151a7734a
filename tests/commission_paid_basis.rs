//! Commission on the paid basis (issue 18 item 6): a plan on the `paid` basis earns nothing when
//! the invoice is issued; each payment applied earns its part of the invoice's commission (40 %
//! paid, 40 % earned) at the rate of the invoice's day, naming the payment; a payment taken off
//! or reversed claws its part back; paid in full the lines add up to exactly rate × net; a credit
//! note after payment claws back its part; a locked month sends later lines to the next open one;
//! payments through the API and the staff form accrue alike; an order split by a hand-over
//! shares each payment's part; a rep on the invoiced basis is unchanged. Runs on SQLite and, with
//! TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use portico::domain::auth::{Principal, Scope};
use portico::domain::commissions::{PlanDraft, StatementAction, next_period};
use portico::domain::money::Money;
use portico::service::credit_notes::{CreditRequest, issue_credit_note};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::payments::{self, ApplyInput, PaymentInput};
use portico::service::{Actor, commissions, invoices};
use portico::store::products::ProductInput;
use serde_json::json;

struct Fixture {
    account: String,
    account_number: String,
    rep_a: Principal,
    rep_b: Principal,
    admin: Principal,
    finance: Principal,
    cs: Principal,
}

/// Gloves at 10.00 (no tax rates); rep A on a paid-basis plan of 5 %, rep B on an invoiced-basis
/// plan of 6 %; the account owned by A.
async fn fixture(app: &TestApp) -> Fixture {
    let common::CommissionStaff { rep_a, rep_b, admin, finance, cs } = app.commission_staff().await;
    let account = app.account("Smile Dental", Some(&rep_a.user_id)).await;
    let account_number = portico::store::accounts::get(app.db(), &account).await.unwrap().unwrap().number;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 1000)]).await;
    let ad = Actor::web(&admin);
    for (rep, name, rate, basis) in [(&rep_a, "On payment", "5", "paid"), (&rep_b, "On invoice", "6", "invoiced")] {
        let draft = PlanDraft {
            name: name.into(),
            effective_from: "2000-01-01".into(),
            default_rate: rate.into(),
            basis: basis.into(),
            ..Default::default()
        };
        let plan = commissions::save_plan(app.db(), app.now(), &ad, None, &draft).await.unwrap();
        commissions::assign_plan(app.db(), app.now(), &ad, &rep.user_id, &plan, "2000-01-01", "").await.unwrap();
    }
    Fixture { account, account_number, rep_a, rep_b, admin, finance, cs }
}

/// Places an order of `qty` gloves and ships them all: one invoice of qty × 10.00. Its number.
async fn invoiced(app: &TestApp, f: &Fixture, qty: i64) -> String {
    let cs = Actor::web(&f.cs);
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: vec![LineInput::sku("GLV-1", qty)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let o = match orders::place_order(app.db(), app.now(), &cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    };
    orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, qty)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
    let list = invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 100).await.unwrap();
    list.into_iter().find(|i| i.order_number == o.number).expect("the shipment's invoice").number
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

async fn pay(app: &TestApp, f: &Fixture, invoice: &str, amount: &str) -> payments::Payment {
    let input = PaymentInput {
        account: f.account_number.clone(),
        amount: amount.into(),
        received_on: String::new(),
        method: "check".into(),
        reference: "CHK 1".into(),
        external_id: None,
        apply: ApplyInput::Amounts(vec![(invoice.to_string(), amount.into())]),
    };
    payments::record_payment(app.db(), app.now(), &Actor::web(&f.finance), &input).await.unwrap().payment
}

/// (kind, invoice, payment, base, rate ppm, rule, amount) of a rep's lines in a month, oldest first.
type Line = (String, String, Option<String>, Money, i64, String, Money);

async fn lines_of(app: &TestApp, rep: &Principal, period: &str) -> Vec<Line> {
    commissions::statement_lines(app.db(), &Actor::web(rep), &rep.user_id, period, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| {
            (
                l.kind,
                l.invoice_number,
                l.payment_number,
                Money::from_raw(l.base),
                l.rate_ppm,
                l.rule,
                Money::from_raw(l.amount),
            )
        })
        .collect()
}

fn total(lines: &[Line]) -> (Money, Money) {
    (Money::sum(lines.iter().map(|l| l.3)).unwrap(), Money::sum(lines.iter().map(|l| l.6)).unwrap())
}

fn line(kind: &str, invoice: &str, payment: Option<&str>, base: &str, amount: &str) -> Line {
    (kind.into(), invoice.into(), payment.map(str::to_string), m(base), 50_000, "default".into(), m(amount))
}

#[tokio::test]
async fn each_payment_earns_its_part_reversals_and_credit_notes_claw_back_and_paid_in_full_is_rate_times_net() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let fin = Actor::web(&f.finance);
    let inv = invoiced(&app, &f, 10).await; // 100.00: 5.00 of commission once paid
    assert!(lines_of(&app, &f.rep_a, &period).await.is_empty(), "nothing accrues at invoicing");
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_paid_terms").await, 1, "the rate of the day is kept");

    // 40 % paid: 40 % of the commission, naming the payment.
    let p1 = pay(&app, &f, &inv, "40.00").await;
    assert_eq!(
        lines_of(&app, &f.rep_a, &period).await,
        vec![line("accrual", &inv, Some(&p1.row.number), "40.00", "2.00")]
    );
    // The payment reversed (a bounced check): its part is clawed back.
    payments::reverse_payment(app.db(), app.now(), &fin, &p1.row.number, "Bounced").await.unwrap();
    let lines = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(lines[1], line("clawback", &inv, Some(&p1.row.number), "-40.00", "-2.00"));
    assert_eq!(total(&lines), (Money::ZERO, Money::ZERO));

    // 25.00, then its application taken off, then paid in full in two payments.
    let p2 = pay(&app, &f, &inv, "25.00").await;
    payments::unapply_payment(app.db(), app.now(), &fin, &p2.row.number, &p2.applications[0].id).await.unwrap();
    assert_eq!(total(&lines_of(&app, &f.rep_a, &period).await), (Money::ZERO, Money::ZERO), "taken off: nothing");
    let p3 = pay(&app, &f, &inv, "33.33").await;
    let lines = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(lines.last().unwrap(), &line("accrual", &inv, Some(&p3.row.number), "33.33", "1.67"), "1.6665 → 1.67");
    pay(&app, &f, &inv, "66.67").await;
    let row = portico::store::invoices::get(app.db(), &inv).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.paid), ("paid", m("100.00").raw()));
    assert_eq!(
        total(&lines_of(&app, &f.rep_a, &period).await),
        (m("100.00"), m("5.00")),
        "paid in full: exactly rate × net, as the invoiced basis"
    );

    // A credit note of 3 units after full payment claws back their part (30.00 → 1.50).
    let cn = issue_credit_note(
        app.db(),
        app.now(),
        &fin,
        &inv,
        &CreditRequest { lines: vec![(1, 3)], reason: "Returned".into() },
    )
    .await
    .unwrap();
    let lines = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(lines.last().unwrap(), &line("clawback", &cn.number, None, "-30.00", "-1.50"));
    assert_eq!(total(&lines), (m("70.00"), m("3.50")), "5 % of what remains invoiced, paid in full");
    // The statement and the SQL sums agree; nothing was counted twice.
    let s = commissions::statement(app.db(), &fin, &f.rep_a.user_id, &period).await.unwrap();
    assert_eq!((s.base, s.earned), (m("70.00"), m("3.50")));
    assert_eq!(app.count("SELECT CAST(SUM(amount) AS BIGINT) FROM commission_accruals").await, m("3.50").raw());
    // A payment to another invoice leaves these lines alone.
    let before = lines.len();
    let other = invoiced(&app, &f, 1).await;
    pay(&app, &f, &other, "10.00").await;
    let lines = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(lines.len(), before + 1, "one line, for the other invoice");
    assert_eq!(lines.last().unwrap().1, other);
}

#[tokio::test]
async fn a_credit_note_on_a_partly_paid_invoice_keeps_what_was_earned_in_proportion() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let fin = Actor::web(&f.finance);
    let inv = invoiced(&app, &f, 10).await; // 100.00
    pay(&app, &f, &inv, "40.00").await; // 2.00
    // 3 units credited: applied at once to what is open (30.00 of 60.00); 70.00 now due, 40.00 paid.
    let cn =
        issue_credit_note(app.db(), app.now(), &fin, &inv, &CreditRequest { lines: vec![(1, 3)], reason: "R".into() })
            .await
            .unwrap();
    // 5 % of 70.00 = 3.50, × 40 / 70 = 2.00: the credit note's own application is not a payment.
    assert_eq!(total(&lines_of(&app, &f.rep_a, &period).await), (m("40.00"), m("2.00")));
    // Taking that application off changes neither what is paid nor what is due: nothing written.
    let before = lines_of(&app, &f.rep_a, &period).await;
    let applied = payments::invoice_applications(app.db(), &fin, &inv).await.unwrap();
    let own = applied.iter().find(|a| a.source_kind == "credit_note").expect("the note's application");
    portico::service::credit_notes::unapply_credit_note(app.db(), app.now(), &fin, &cn.number, &own.id).await.unwrap();
    assert_eq!(lines_of(&app, &f.rep_a, &period).await, before, "an event that changes nothing writes nothing");
    pay(&app, &f, &inv, "30.00").await;
    assert_eq!(
        total(&lines_of(&app, &f.rep_a, &period).await),
        (m("70.00"), m("3.50")),
        "70.00 paid of 70.00 due: in full"
    );
    // Rep B's invoiced-basis plan is untouched by any of this: the account is A's.
    assert!(lines_of(&app, &f.rep_b, &period).await.is_empty());
}

#[tokio::test]
async fn a_locked_month_sends_later_payments_lines_to_the_next_open_month() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let fin = Actor::web(&f.finance);
    let inv = invoiced(&app, &f, 10).await;
    pay(&app, &f, &inv, "40.00").await;
    let rep = f.rep_a.user_id.as_str();
    commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, StatementAction::Approve).await.unwrap();
    commissions::act_on_statement(app.db(), app.now(), &fin, rep, &period, StatementAction::Lock).await.unwrap();
    let p = pay(&app, &f, &inv, "60.00").await;
    payments::reverse_payment(app.db(), app.now(), &fin, &p.row.number, "Recorded twice").await.unwrap();
    let s = commissions::statement(app.db(), &fin, rep, &period).await.unwrap();
    assert_eq!(
        (s.earned, s.total, s.status.as_str()),
        (m("2.00"), m("2.00"), "locked"),
        "a locked month never changes"
    );
    let next = lines_of(&app, &f.rep_a, &next_period(&period)).await;
    let amounts: Vec<Money> = next.iter().map(|l| l.6).collect();
    assert_eq!(amounts, vec![m("3.00"), m("-3.00")], "the payment and its reversal, next month");
}

#[tokio::test]
async fn payments_through_the_api_and_the_staff_form_accrue_alike() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let a = invoiced(&app, &f, 2).await; // 20.00
    let b = invoiced(&app, &f, 5).await; // 50.00
    // The API: 10.00 to A (half of it: 0.50 of 1.00).
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    let body = json!({"account": f.account_number, "amount": "10.00", "method": "wire", "reference": "W-1",
                      "applications": [{"invoice": a, "amount": "10.00"}]});
    let req = Request::post("/api/v1/payments")
        .header("authorization", format!("Bearer {t}"))
        .header("idempotency-key", "paid-basis-1")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // The staff form: 50.00 to B, all of it (2.50).
    let mut fin = app.signed_in(&f.finance.email).await;
    let form = fin.get(&format!("/finance/payments/new?account={}&amount=50", f.account_number)).await;
    assert_eq!(form.status, StatusCode::OK);
    let token = form.attr("name=\"form_token\" value=\"");
    let (apply_a, apply_b) = (format!("apply_{a}"), format!("apply_{b}"));
    let res = fin
        .post(
            "/finance/payments",
            &[
                ("account", &f.account_number),
                ("amount", "50"),
                ("method", "wire"),
                ("reference", "W-2"),
                ("form_token", &token),
                (&apply_a, ""),
                (&apply_b, "50"),
            ],
        )
        .await;
    assert!(res.status.is_redirection() || res.status == StatusCode::OK, "{}", res.body);
    let lines = lines_of(&app, &f.rep_a, &period).await;
    let got: Vec<(&str, bool, Money)> = lines.iter().map(|l| (l.1.as_str(), l.2.is_some(), l.6)).collect();
    assert_eq!(got, vec![(a.as_str(), true, m("0.50")), (b.as_str(), true, m("2.50"))]);
    // The rep's page and CSV name the payment; the API's lines do too.
    let mut rep = app.signed_in(&f.rep_a.email).await;
    let page = rep.get(&format!("/commissions?period={period}")).await;
    assert!(page.body.contains("payment PAY-"), "{}", page.body);
    let csv = rep.get(&format!("/commissions/statement.csv?period={period}")).await;
    assert!(csv.body.starts_with("period,kind,issued_on,invoice,payment,order"), "{}", csv.body);
    assert!(csv.body.contains(&format!(",{a},PAY-")), "{}", csv.body);
    let t = app.api_token(&[Scope::CommissionsRead]).await;
    let req = Request::get("/api/v1/commissions/accruals")
        .header("authorization", format!("Bearer {t}"))
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert!(v["accruals"].as_array().unwrap().iter().all(|l| l["payment_number"].as_str().is_some()), "{v}");
}

#[tokio::test]
async fn the_plan_form_offers_the_paid_basis_and_a_hand_over_shares_each_payment() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let mut admin = app.signed_in(&f.admin.email).await;
    let page = admin.get("/admin/commissions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"cp-basis\"") && page.body.contains("value=\"paid\""), "{}", page.body);
    assert!(!page.body.contains("not built") && !page.body.contains("not available yet"));
    assert!(page.body.contains("on payment</span>"), "the plan list says which plan earns on payment");
    // A hand-over of 30 % from A (paid basis, 5 %) to B (invoiced basis, 6 %): an order placed
    // during it earns B 70 % at once, and A 30 % as it is paid.
    let ad = Actor::web(&f.admin);
    let draft = portico::domain::commissions::HandoverDraft { days: "30".into(), share: "30".into() };
    commissions::set_handover_settings(app.db(), app.now(), &ad, &draft).await.unwrap();
    let a = portico::service::accounts::get_account(app.db(), &ad, &f.account).await.unwrap();
    let mut draft = a.draft();
    draft.owner_rep_id = Some(f.rep_b.user_id.clone());
    draft.ownership_mode = portico::domain::account::OwnershipMode::Hybrid;
    portico::service::accounts::update_account(
        app.db(),
        app.now(),
        &ad,
        &a.id,
        a.version,
        &draft,
        a.group_id.as_deref(),
    )
    .await
    .unwrap();
    let inv = invoiced(&app, &f, 10).await; // 100.00: A's base 30.00, B's 70.00
    assert_eq!(total(&lines_of(&app, &f.rep_b, &period).await), (m("70.00"), m("4.20")), "invoiced: at once");
    assert!(lines_of(&app, &f.rep_a, &period).await.is_empty());
    pay(&app, &f, &inv, "50.00").await;
    let a = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(total(&a), (m("15.00"), m("0.75")), "half paid: half of 5 % of 30.00");
    assert!(a[0].5.ends_with("; hand-over 30% to previous rep"), "{a:?}");
    pay(&app, &f, &inv, "50.00").await;
    assert_eq!(total(&lines_of(&app, &f.rep_a, &period).await), (m("30.00"), m("1.50")));
    assert_eq!(total(&lines_of(&app, &f.rep_b, &period).await), (m("70.00"), m("4.20")), "B's unchanged");
}

#[tokio::test]
async fn a_bank_file_import_accrues_like_any_payment() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let inv = invoiced(&app, &f, 2).await; // 20.00: 1.00 once paid
    let file = format!(
        "account,amount,received_on,method,reference,invoices,external_id\n{},8.00,2026-01-05,ach,A-1,{inv},BANK-9\n",
        f.account_number
    );
    portico::service::payment_imports::import_payments_csv(
        app.db(),
        app.now(),
        &Actor::web(&f.finance),
        file.as_bytes(),
    )
    .await
    .unwrap();
    let lines = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].1.as_str(), lines[0].2.is_some(), lines[0].3, lines[0].6),
        (inv.as_str(), true, m("8.00"), m("0.40"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_through_the_online_provider_accrues_once_however_often_its_confirmation_comes() {
    use portico::domain::auth::BuyerRole;
    use portico::service::payment_provider::{Checkout, LocalTestProvider, http_request};
    const SECRET: &str = "test-provider-secret";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public = base.clone();
    let app = TestApp::configured(move |c| {
        c.public_url = public;
        c.test_provider_secret = Some(SECRET.into());
    })
    .await;
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    let a = invoiced(&app, &f, 2).await; // 20.00: 1.00 once paid
    let b = invoiced(&app, &f, 3).await; // 30.00: 1.50 once paid
    assert!(lines_of(&app, &f.rep_a, &period).await.is_empty(), "nothing at invoicing");

    // The buyer pays A online: the provider's page, Pay, its signed callback to Portico.
    let manager = app.buyer(&f.account, "Mia Manager", BuyerRole::Manager).await;
    let mut buyer = app.signed_in(&manager.email).await;
    let res = buyer.post("/portal/invoices/pay", &[("invoice", &a)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let query = res.location().split_once('?').unwrap().1.to_string();
    let (status, body) = http_request(
        "POST",
        &format!("{base}/test-provider/checkout/pay"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        query.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(status, 303, "{body}");
    let fin = Actor::web(&f.finance);
    let paid = payments::list_payments(app.db(), &fin, Some(&f.account), None, 10).await.unwrap();
    assert_eq!(paid.len(), 1);
    let online = paid[0].number.clone();
    assert_eq!(
        lines_of(&app, &f.rep_a, &period).await,
        vec![line("accrual", &a, Some(&online), "20.00", "1.00")],
        "paid through the provider: earned, naming the payment"
    );

    // The provider confirms B's payment twice at once, then once more later: one payment, one line.
    let provider = LocalTestProvider::new(&base, SECRET);
    let now = app.now();
    let checkout = Checkout {
        reference: "r-b".into(),
        account_id: f.account.clone(),
        user_id: manager.id.clone(),
        description: format!("Invoices {b}"),
        amount: "30.00".into(),
        invoices: vec![b.clone()],
        callback_url: format!("{base}/payments/callback"),
        return_url: format!("{base}/portal/payments"),
        created: now,
    };
    let event = provider.succeeded(checkout, now);
    let body = serde_json::to_vec(&event).unwrap();
    let signature = provider.signature_header(now, &body);
    let callback = format!("{base}/payments/callback");
    let headers = [("Content-Type", "application/json"), ("Provider-Signature", signature.as_str())];
    let (first, second) = tokio::join!(
        http_request("POST", &callback, &headers, &body),
        http_request("POST", &callback, &headers, &body)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut statuses = vec![first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, vec![200, 200], "both acknowledged: {first:?} {second:?}");
    let answers = [first.1.as_str(), second.1.as_str()];
    assert!(answers.contains(&"this payment was reported before"), "one is told it was a replay: {answers:?}");
    assert!(answers.iter().any(|a| a.starts_with("recorded ")), "the other recorded it: {answers:?}");
    let again = http_request("POST", &callback, &headers, &body).await.unwrap();
    assert_eq!(again, (200, "this payment was reported before".to_string()), "{again:?}");
    let paid = payments::list_payments(app.db(), &fin, Some(&f.account), None, 10).await.unwrap();
    let of_b: Vec<_> = paid.iter().filter(|p| p.external_id.as_deref() == Some(event.id.as_str())).collect();
    assert_eq!(of_b.len(), 1, "one payment for the provider's id");
    let mut lines = lines_of(&app, &f.rep_a, &period).await;
    lines.sort_by(|x, y| x.1.cmp(&y.1));
    assert_eq!(
        lines,
        vec![
            line("accrual", &a, Some(&online), "20.00", "1.00"),
            line("accrual", &b, Some(&of_b[0].number), "30.00", "1.50"),
        ],
        "each invoice earned once"
    );
    assert_eq!(total(&lines), (m("50.00"), m("2.50")));
    let row = portico::store::invoices::get(app.db(), &b).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.paid), ("paid", m("30.00").raw()));
    server.abort();
}
