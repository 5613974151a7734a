//! Credit notes: finance credits returned units of an invoice's lines at the rates they were billed,
//! exact to the cent however a line is credited in parts; the note is applied to what is open of the
//! invoice and any rest is the account's credit; cancelling an order billed before it shipped
//! credits it whole. Finance only; a printable page, a PDF and the API like any invoice.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::invoicing::TaxRate;
use portico::domain::money::Money;
use portico::service::credit_notes::{CreditRequest, issue_credit_note};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, invoices};
use portico::store::products::ProductInput;
use portico::store::{credit, new_id};

struct Fixture {
    account: String,
    cs: Principal,
    finance: Principal,
    manager: String,
}

/// Gloves at $10.00, taxed at Illinois' 10.25 % (the test ship-to is in Illinois).
async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Return Clinic", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 100)]).await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            let r = TaxRate {
                country: "US".into(),
                region: "IL".into(),
                tax_class: "standard".into(),
                rate_ppm: 102_500,
                label: String::new(),
            };
            portico::store::invoices::put_tax_rate(tx, &new_id(), &r).await
        })
    })
    .await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await.principal().unwrap();
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await.email;
    Fixture { account, cs, finance, manager }
}

async fn shipped_invoice(app: &TestApp, f: &Fixture, qty: i64) -> String {
    let cs = Actor::web(&f.cs);
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: vec![LineInput::sku("GLV-1", qty)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let Placement::Placed { order, .. } =
        orders::place_order(app.db(), app.now(), &cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap()
    else {
        panic!()
    };
    orders::confirm_order(app.db(), app.now(), &cs, &order.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, qty)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &order.number, &input).await.unwrap();
    invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 1).await.unwrap()[0].number.clone()
}

async fn assert_exposure(app: &TestApp, account: &str) -> portico::domain::credit::Exposure {
    let running = credit::get(app.db(), account).await.unwrap();
    assert_eq!(running, credit::from_records(app.db(), account).await.unwrap(), "running = records");
    running
}

fn m(s: &str) -> i64 {
    Money::parse(s).unwrap().raw()
}

#[tokio::test]
async fn a_line_credited_in_parts_credits_exactly_what_it_billed() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let inv = shipped_invoice(&app, &f, 3).await;
    let fin = Actor::web(&f.finance);
    let (i, _) = invoices::get_invoice(app.db(), &fin, &inv).await.unwrap();
    assert_eq!((i.subtotal, i.tax, i.total), (m("30.00"), m("3.08"), m("33.08")), "3.075 rounds up");
    assert_eq!(assert_exposure(&app, &f.account).await.receivable, m("33.08"));

    let one = CreditRequest { lines: vec![(1, 1)], reason: "Returned: torn box".into() };
    let cn = issue_credit_note(app.db(), app.now(), &fin, &inv, &one).await.unwrap();
    assert_eq!((cn.kind.as_str(), cn.number.as_str()), ("credit_note", "CN-100001"));
    assert_eq!((cn.subtotal, cn.tax, cn.total), (m("10.00"), m("1.03"), m("11.03")));
    assert_eq!(cn.credited_invoice_number.as_deref(), Some(inv.as_str()));
    let (i, lines) = invoices::get_invoice(app.db(), &fin, &inv).await.unwrap();
    assert_eq!((i.paid, i.status.as_str(), lines[0].credited_qty), (m("11.03"), "open", 1), "applied to the invoice");
    let e = assert_exposure(&app, &f.account).await;
    assert_eq!((e.receivable, e.credits), (m("22.05"), 0));

    // More than is left: refused, naming the line; nothing changes.
    let too_many = CreditRequest { lines: vec![(1, 3)], reason: "Returned".into() };
    let err = issue_credit_note(app.db(), app.now(), &fin, &inv, &too_many).await.unwrap_err();
    let ServiceError::Invalid(errors) = err else { panic!("{err:?}") };
    assert!(errors[0].message.contains("Line 1 (GLV-1): credit between 1 and 2 units"), "{errors:?}");
    // The rest: 20.00 and 2.05, so the two notes add up to the invoice to the cent.
    let rest = CreditRequest { lines: vec![(1, 2)], reason: "Returned".into() };
    let cn2 = issue_credit_note(app.db(), app.now(), &fin, &inv, &rest).await.unwrap();
    assert_eq!((cn2.subtotal, cn2.tax, cn2.total), (m("20.00"), m("2.05"), m("22.05")));
    assert_eq!(cn.total + cn2.total, i.total);
    let (i, _) = invoices::get_invoice(app.db(), &fin, &inv).await.unwrap();
    assert_eq!((i.paid, i.status.as_str()), (i.total, "paid"));
    let e = assert_exposure(&app, &f.account).await;
    assert_eq!((e.receivable, e.credits), (0, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'credit_note.issued'").await, 2);

    // The credit note reads like an invoice: PDF with "Credit note", the reason, the amount credited.
    let (name, bytes) = invoices::invoice_pdf(app.db(), &fin, "CN-100001").await.unwrap();
    assert_eq!(name, "CN-100001.pdf");
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for wanted in ["Credit note", "CN-100001", inv.as_str(), "Returned: torn box", "Amount credited", "$11.03"] {
        assert!(text.contains(wanted), "{wanted} in {text}");
    }
    // The buyer's manager reads it among the invoices.
    let mut c = app.signed_in(&f.manager).await;
    assert!(c.get("/portal/invoices/CN-100001").await.body.contains("Returned: torn box"));
}

#[tokio::test]
async fn a_credit_beyond_the_open_balance_is_the_accounts_credit() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let inv = shipped_invoice(&app, &f, 3).await;
    // Paid in full already (as a payment would): the credit note has nothing open to apply to.
    let (acct, number) = (f.account.clone(), inv.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE invoices SET paid = total, status = 'paid' WHERE number = $1", portico::args![number])
                .await?;
            let paid = portico::domain::credit::Exposure { receivable: -m("33.08"), ..Default::default() };
            credit::adjust(tx, &acct, paid, 0).await.map(|_| ())
        })
    })
    .await;
    let fin = Actor::web(&f.finance);
    let req = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    let cn = issue_credit_note(app.db(), app.now(), &fin, &inv, &req).await.unwrap();
    assert_eq!((cn.paid, cn.status.as_str()), (0, "open"), "nothing applied");
    let e = assert_exposure(&app, &f.account).await;
    assert_eq!((e.receivable, e.credits), (0, m("11.03")));
    assert_eq!(e.total().raw(), -m("11.03"), "the account is owed");
}

#[tokio::test]
async fn cancelling_an_order_billed_before_it_shipped_credits_it() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = f.account.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET terms_days = 0 WHERE id = $1", portico::args![a]).await.map(|_| ())
        })
    })
    .await;
    let cs = Actor::web(&f.cs);
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: vec![LineInput::sku("GLV-1", 4)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let Placement::Placed { order, .. } =
        orders::place_order(app.db(), app.now(), &cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(assert_exposure(&app, &f.account).await.receivable, m("44.10"), "prepay: billed at placement");
    orders::cancel_order(app.db(), app.now(), &cs, &order.number, None, "Customer changed their mind").await.unwrap();
    let notes = invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 10).await.unwrap();
    let cn = notes.iter().find(|i| i.kind == "credit_note").expect("a credit note");
    assert_eq!(cn.total, m("44.10"));
    assert!(cn.reason.contains("Customer changed their mind"), "{}", cn.reason);
    let e = assert_exposure(&app, &f.account).await;
    assert_eq!((e.uninvoiced, e.receivable, e.credits), (0, 0, 0));
}

#[tokio::test]
async fn only_finance_credits_and_only_invoices_it_may_see() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let inv = shipped_invoice(&app, &f, 3).await;
    let req = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    let err = issue_credit_note(app.db(), app.now(), &Actor::web(&f.cs), &inv, &req).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "customer service: {err:?}");
    let manager = app.buyer(&f.account, "Mo Manager", BuyerRole::Manager).await.principal().unwrap();
    let err = issue_credit_note(app.db(), app.now(), &Actor::web(&manager), &inv, &req).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "a buyer: {err:?}");
    let fin = Actor::web(&f.finance);
    let no_reason = CreditRequest { lines: vec![(1, 1)], reason: " ".into() };
    assert!(matches!(
        issue_credit_note(app.db(), app.now(), &fin, &inv, &no_reason).await,
        Err(ServiceError::Invalid(_))
    ));
    let no_line = CreditRequest { lines: vec![(7, 1)], reason: "x".into() };
    assert!(matches!(
        issue_credit_note(app.db(), app.now(), &fin, &inv, &no_line).await,
        Err(ServiceError::Invalid(_))
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices WHERE kind = 'credit_note'").await, 0, "nothing issued");
    let cn = issue_credit_note(app.db(), app.now(), &fin, &inv, &req).await.unwrap();
    let err = issue_credit_note(app.db(), app.now(), &fin, &cn.number, &req).await.unwrap_err();
    assert!(matches!(err, ServiceError::Invalid(_)), "a credit note is not credited: {err:?}");
}

#[tokio::test]
async fn finance_credits_on_the_web_and_the_erp_through_the_api() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let inv = shipped_invoice(&app, &f, 3).await;
    let mut fin = app.signed_in(&f.finance.email).await;
    let page = fin.get(&format!("/invoices/{inv}")).await;
    assert!(page.body.contains("Issue credit note"), "{}", page.body);
    assert!(
        !app.signed_in(&f.cs.email).await.get(&format!("/invoices/{inv}")).await.body.contains("Issue credit note")
    );
    // A bad quantity is named next to its line, with what was typed kept.
    let r = fin.post(&format!("/invoices/{inv}/credit"), &[("line_1", "5"), ("reason", "Damaged")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("credit between 1 and 3 units")
            && r.body.contains("value=\"5\"")
            && r.body.contains("value=\"Damaged\""),
        "{}",
        r.body
    );
    let r = fin.post(&format!("/invoices/{inv}/credit"), &[("line_1", "1"), ("reason", "Damaged")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/invoices/CN-100001"));
    let note = fin.get("/invoices/CN-100001").await;
    assert!(note.body.contains("Credit note CN-100001") && note.body.contains("Reason: Damaged"), "{}", note.body);

    // The API: credit:write issues; invoices:read alone may not.
    let reader = app.api_token(&[Scope::InvoicesRead]).await;
    let body = serde_json::json!({ "lines": [{ "line": 1, "quantity": 2 }], "reason": "Returned" });
    let r = app.api("POST", &format!("/api/v1/invoices/{inv}/credit-notes"), &reader, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let writer = app.api_token(&[Scope::CreditWrite]).await;
    let over = serde_json::json!({ "lines": [{ "line": 1, "quantity": 3 }], "reason": "Returned" });
    let r = app.api("POST", &format!("/api/v1/invoices/{inv}/credit-notes"), &writer, Some(over)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app.api("POST", &format!("/api/v1/invoices/{inv}/credit-notes"), &writer, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["number"].as_str(), v["total"].as_str()),
        (Some("credit_note"), Some("CN-100002"), Some("22.05"))
    );
    let (i, _) = invoices::get_invoice(app.db(), &Actor::web(&f.finance), &inv).await.unwrap();
    assert_eq!(i.status, "paid");
    assert_exposure(&app, &f.account).await;
}
