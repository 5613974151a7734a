//! Credit limits on real exposure: open orders not yet invoiced + unpaid invoices − unapplied
//! credits, kept running per account in the units that change them (always equal to what the
//! records say), checked in the one pipeline for every channel. Past the limit an order is held
//! for finance with the figures — or, on accounts set to "tell", refused before it is placed and
//! nothing changes. An invoice overdue past the account's allowance holds new orders.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::catalog::BackorderPolicy;
use portico::domain::credit::Exposure;
use portico::domain::money::Money;
use portico::domain::orders::OrderStatus;
use portico::service::orders::{self, Amendment, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError};
use portico::store::credit;
use portico::store::products::ProductInput;
use serde_json::json;

struct Fixture {
    account: String,
    buyer: Principal,
    cs: Principal,
    finance: Principal,
}

/// An account with the default $25,000 limit; pumps at $10,000.00, gloves at $10.00, and boxes at
/// $0.01 (226 in stock, backorders allowed).
async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Limit Clinic", None).await;
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("PUMP-1", "Infusion pump"), "10000.00", 50),
            (ProductInput::new("GLV-1", "Gloves"), "10.00", 1000),
            (ProductInput { backorder: BackorderPolicy::Allow, ..ProductInput::new("BOX-1", "Boxes") }, "0.01", 226),
        ],
    )
    .await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await.principal().unwrap();
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await.principal().unwrap();
    Fixture { account, buyer, cs, finance }
}

async fn place(
    app: &TestApp,
    who: &Principal,
    account: &str,
    lines: &[(&str, i64)],
) -> Result<orders::OrderRow, ServiceError> {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(who), &req, None, |o, _| (201, o.id.clone())).await? {
        Placement::Placed { order, .. } => Ok(order),
        Placement::Replayed { .. } => panic!("not a replay"),
    }
}

fn m(s: &str) -> i64 {
    Money::parse(s).unwrap().raw()
}

/// The running figures equal what the records say, and a rebuild from the records changes nothing.
async fn assert_exposure(app: &TestApp, account: &str, uninvoiced: &str, receivable: &str) -> Exposure {
    let running = credit::get(app.db(), account).await.unwrap();
    let records = credit::from_records(app.db(), account).await.unwrap();
    assert_eq!(running, records, "the running exposure is what the records say");
    assert_eq!(running.uninvoiced, m(uninvoiced), "uninvoiced");
    assert_eq!(running.receivable, m(receivable), "receivable");
    running
}

async fn set(app: &TestApp, sql: &'static str, account: &str) {
    let a = account.to_string();
    common::write(app.db(), move |tx| Box::pin(async move { tx.execute(sql, portico::args![a]).await.map(|_| ()) }))
        .await;
}

#[tokio::test]
async fn an_order_past_the_limit_is_held_with_the_figures_whatever_the_channel() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let first = place(&app, &f.buyer, &f.account, &[("PUMP-1", 2)]).await.unwrap();
    assert_eq!(first.status(), OrderStatus::Placed, "within the limit: $20,000 of $25,000");
    assert_exposure(&app, &f.account, "20000", "0").await;

    // Through the API: $10,000 more is $30,000 against $25,000 — held, and the answer says why.
    let token = app.api_token(&[Scope::OrdersWrite, Scope::OrdersRead]).await;
    let body = json!({ "account": f.account, "lines": [{ "sku": "PUMP-1", "quantity": 1 }] });
    let r = app.api("POST", "/api/v1/orders", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "on_hold", "{v}");
    let reasons = v["reasons"].as_str().unwrap_or_default().to_string();
    for figure in ["$30,000.00", "$25,000.00", "$5,000.00"] {
        assert!(reasons.contains(figure), "{figure} in {reasons}");
    }
    // A held order still counts: the next small portal order is held too.
    let small = place(&app, &f.buyer, &f.account, &[("GLV-1", 1)]).await.unwrap();
    assert_eq!(small.status(), OrderStatus::OnHold);
    assert_exposure(&app, &f.account, "30010", "0").await;

    // Finance rejects both: the exposure falls back; customer service cannot release.
    let number = v["number"].as_str().unwrap().to_string();
    let err = orders::release_order(app.db(), app.now(), &Actor::web(&f.cs), &number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    for n in [number.as_str(), small.number.as_str()] {
        orders::reject_order(app.db(), app.now(), &Actor::web(&f.finance), n, None, "Over the limit").await.unwrap();
    }
    assert_exposure(&app, &f.account, "20000", "0").await;

    // With no limit (0) nothing is held, and the exposure — which placement then moves last in
    // its unit — still follows every order, concurrent ones too.
    set(&app, "UPDATE accounts SET credit_limit = 0 WHERE id = $1", &f.account).await;
    let big = place(&app, &f.cs, &f.account, &[("PUMP-1", 30)]).await.unwrap();
    assert_eq!(big.status(), OrderStatus::Placed);
    assert_exposure(&app, &f.account, "320000", "0").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (db, now, who, account) = (app.db().clone(), app.now(), f.cs.clone(), f.account.clone());
        tasks.push(tokio::spawn(async move {
            let req = PlaceOrder {
                account_id: account,
                lines: vec![LineInput::sku("GLV-1", 1)],
                header: OrderHeader::default(),
                clear_cart: false,
            };
            let placed = orders::place_order(&db, now, &Actor::web(&who), &req, None, |o, _| (201, o.id.clone())).await;
            matches!(placed, Ok(Placement::Placed { order, .. }) if order.status() == OrderStatus::Placed)
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap(), "placed, not held");
    }
    assert_exposure(&app, &f.account, "320080", "0").await;
}

#[tokio::test]
async fn on_tell_accounts_an_order_past_the_limit_is_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    set(&app, "UPDATE accounts SET credit_over_limit = 'tell' WHERE id = $1", &f.account).await;
    place(&app, &f.buyer, &f.account, &[("PUMP-1", 2)]).await.unwrap();
    let orders_before = app.count("SELECT COUNT(*) FROM orders").await;
    let reserved_before = app.count("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels").await;
    let err = place(&app, &f.buyer, &f.account, &[("PUMP-1", 1)]).await.unwrap_err();
    let ServiceError::Blocked(issues) = err else { panic!("{err:?}") };
    assert_eq!(issues[0].code, "credit_limit");
    assert!(issues[0].message.contains("Available credit: $5,000.00"), "{}", issues[0].message);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, orders_before, "nothing placed");
    assert_eq!(app.count("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels").await, reserved_before);
    assert_exposure(&app, &f.account, "20000", "0").await;

    // The API answers 422 with the code, and the order that fits still goes through.
    let token = app.api_token(&[Scope::OrdersWrite]).await;
    let body = json!({ "account": f.account, "lines": [{ "sku": "PUMP-1", "quantity": 1 }] });
    let r = app.api("POST", "/api/v1/orders", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("credit_limit"), "{}", r.body);
    assert_eq!(place(&app, &f.buyer, &f.account, &[("GLV-1", 500)]).await.unwrap().status(), OrderStatus::Placed);
}

#[tokio::test]
async fn exposure_follows_amendments_shipments_invoices_and_cancellation() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let cs = Actor::web(&f.cs);
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 300), ("PUMP-1", 1)]).await.unwrap();
    assert_exposure(&app, &f.account, "13000", "0").await;

    // Amended down: the exposure follows. Amended past the limit: refused, nothing changes.
    let amend = |lines: Vec<LineInput>, version| Amendment {
        expected_version: version,
        lines,
        header: OrderHeader::default(),
        reason: "Customer call".into(),
    };
    let o =
        orders::amend_order(app.db(), app.now(), &cs, &o.number, &amend(vec![LineInput::sku("GLV-1", 300)], o.version))
            .await
            .unwrap();
    assert_exposure(&app, &f.account, "3000", "0").await;
    let err = orders::amend_order(
        app.db(),
        app.now(),
        &cs,
        &o.number,
        &amend(vec![LineInput::sku("GLV-1", 300), LineInput::sku("PUMP-1", 3)], o.version),
    )
    .await
    .unwrap_err();
    let ServiceError::Blocked(issues) = err else { panic!("{err:?}") };
    assert_eq!(issues[0].code, "credit_limit", "{issues:?}");
    assert_exposure(&app, &f.account, "3000", "0").await;

    // A partial shipment bills what shipped: out of uninvoiced, into receivable (untaxed here).
    orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 120)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
    assert_exposure(&app, &f.account, "1800", "1200").await;

    // Another order, cancelled: it counts, then it does not.
    let other = place(&app, &f.cs, &f.account, &[("GLV-1", 7)]).await.unwrap();
    assert_exposure(&app, &f.account, "1870", "1200").await;
    orders::cancel_order(app.db(), app.now(), &cs, &other.number, None, "Duplicate").await.unwrap();
    assert_exposure(&app, &f.account, "1800", "1200").await;

    // The rest ships: nothing left uninvoiced.
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 180)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
    let e = assert_exposure(&app, &f.account, "0", "3000").await;
    assert_eq!(e.available(Money::from_units(25_000).unwrap()), Some(Money::from_units(22_000).unwrap()));

    // A rebuild from the records gives the same figures; after a bulk write that bypassed the
    // units, `portico credit rebuild` repairs the running figure.
    common::write(app.db(), move |tx| Box::pin(async move { credit::rebuild_all(tx, 1).await })).await;
    assert_exposure(&app, &f.account, "0", "3000").await;
    let a = f.account.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE account_exposure SET receivable = 1 WHERE account_id = $1", portico::args![a])
                .await
                .map(|_| ())
        })
    })
    .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["credit", "rebuild"])
        .env("DATABASE_URL", &app.url)
        .env("PORTICO_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 account(s) changed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_exposure(&app, &f.account, "0", "3000").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'credit.rebuilt'").await, 1);
    // Customer service may not.
    let err = portico::service::accounts::rebuild_exposure(app.db(), app.now(), &cs).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
}

#[tokio::test]
async fn an_invoice_overdue_past_the_allowance_holds_new_orders() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let cs = Actor::web(&f.cs);
    let o = place(&app, &f.cs, &f.account, &[("GLV-1", 10)]).await.unwrap();
    orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 10)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
    set(&app, "UPDATE accounts SET overdue_hold_days = 15 WHERE id = $1", &f.account).await;
    let today = portico::service::catalog::today(app.now());
    let due = |days: i64| portico::store::pricing::format_iso(today - time::Duration::days(days));
    let (acct, ten) = (f.account.clone(), due(10));
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE invoices SET due_on = $2 WHERE account_id = $1", portico::args![acct, ten])
                .await
                .map(|_| ())
        })
    })
    .await;
    assert_eq!(place(&app, &f.buyer, &f.account, &[("GLV-1", 1)]).await.unwrap().status(), OrderStatus::Placed);
    // Due 20 days ago: past it — held, naming the invoice.
    let (acct, twenty) = (f.account.clone(), due(20));
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE invoices SET due_on = $2 WHERE account_id = $1", portico::args![acct, twenty])
                .await
                .map(|_| ())
        })
    })
    .await;
    let held = place(&app, &f.buyer, &f.account, &[("GLV-1", 1)]).await.unwrap();
    assert_eq!(held.status(), OrderStatus::OnHold);
    assert!(held.reasons.contains("INV-") && held.reasons.contains("20 days overdue"), "{}", held.reasons);
}

/// Two orders that each fit but not together, placed at the same moment: exactly one is held,
/// on both databases (on PostgreSQL the exposure row serialises them).
#[tokio::test]
async fn two_orders_racing_for_the_last_credit_hold_exactly_one() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    place(&app, &f.cs, &f.account, &[("PUMP-1", 1)]).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (db, now, who, account) = (app.db().clone(), app.now(), f.cs.clone(), f.account.clone());
        tasks.push(tokio::spawn(async move {
            let req = PlaceOrder {
                account_id: account,
                lines: vec![LineInput::sku("PUMP-1", 1)],
                header: OrderHeader::default(),
                clear_cart: false,
            };
            match orders::place_order(&db, now, &Actor::web(&who), &req, None, |o, _| (201, o.id.clone()))
                .await
                .unwrap()
            {
                Placement::Placed { order, .. } => order.status(),
                Placement::Replayed { .. } => panic!(),
            }
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_by_key(|s| s.as_str());
    assert_eq!(statuses, vec![OrderStatus::OnHold, OrderStatus::Placed], "$20,000 fits, $30,000 does not");
    assert_exposure(&app, &f.account, "30000", "0").await;
}

/// Checkout tells the buyer, before placing, what the order does to available credit — and on a
/// "tell" account that it cannot be placed — and asks to confirm a quantity far beyond stock.
#[tokio::test]
async fn checkout_shows_the_credit_effect_and_asks_to_confirm_a_quantity_far_beyond_stock() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    place(&app, &f.cs, &f.account, &[("PUMP-1", 2)]).await.unwrap();
    let mut c = app.signed_in(&app.buyer(&f.account, "Cara Cart", BuyerRole::Buyer).await.email).await;
    c.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "100")]).await;
    assert!(c.get("/portal/cart").await.body.contains("Available credit: $5,000.00"));
    let page = c.get("/portal/checkout").await;
    assert!(page.body.contains("$5,000.00 → $4,000.00 after this order"), "{}", page.body);
    assert!(!page.body.contains("id=\"credit-warning\""));

    // Past the limit: held (the buyer is told it will wait for finance)...
    c.post("/portal/cart/add", &[("sku", "PUMP-1"), ("quantity", "1")]).await;
    assert!(c.get("/portal/cart").await.body.contains("this cart is $6,000.00 over it"));
    let page = c.get("/portal/checkout").await;
    assert!(
        page.body.contains("$6,000.00 past its credit limit") && page.body.contains("wait for our finance team"),
        "{}",
        page.body
    );
    // ...or, on a "tell" account, refused: the button is disabled and a post is refused.
    set(&app, "UPDATE accounts SET credit_over_limit = 'tell' WHERE id = $1", &f.account).await;
    let page = c.get("/portal/checkout").await;
    assert!(page.body.contains("it cannot be placed"), "{}", page.body);
    let token = page.attr("name=\"form_token\" value=\"");
    let r = c.post("/portal/checkout", &[("form_token", &token)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);

    // 204,998 boxes against 226 in stock: checkout asks; without the confirmation nothing is placed.
    c.post("/portal/cart/set", &[("sku", "PUMP-1"), ("quantity", "0")]).await;
    c.post("/portal/cart/set", &[("sku", "GLV-1"), ("quantity", "0")]).await;
    set(&app, "UPDATE accounts SET credit_limit = 0 WHERE id = $1", &f.account).await;
    c.post("/portal/cart/add", &[("sku", "BOX-1"), ("quantity", "204998")]).await;
    let page = c.get("/portal/checkout").await;
    assert!(page.body.contains("you are ordering 204998 and 226 are in stock"), "{}", page.body);
    let token = page.attr("name=\"form_token\" value=\"");
    let r = c.post("/portal/checkout", &[("form_token", &token)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("BOX-1: you ordered 204998 and 226 are in stock"), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1, "nothing placed");
    let token = c.get("/portal/checkout").await.attr("name=\"form_token\" value=\"");
    let r = c.post("/portal/checkout", &[("form_token", &token), ("confirm_quantities", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 2);
}
