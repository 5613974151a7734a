//! Routing (issue 14 §3): a rep-led account's portal and API orders are requests its rep completes;
//! a hybrid account's orders go to the rep when a seller rule catches them; self-service accounts
//! order directly. A routed order waits unreserved in `escalated`; the rep completes it (placed
//! now, through stock and credit) or sends it back with a comment. Orders staff place are not
//! routed. Every channel that the customer uses is routed the same.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::money::Money;
use portico::domain::orders::OrderStatus;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError, routing};
use portico::store::products::ProductInput;
use serde_json::json;

struct Fixture {
    account: String,
    rep: Principal,
    rep_email: String,
    buyer: Principal,
    buyer_email: String,
    admin: Principal,
}

/// A rep-led account owned by Rita Rep, with a buyer; gloves at $10.00 (1,000 in stock) and a
/// ventilator at $5,000.00 (3 in stock).
async fn fixture(app: &TestApp, mode: &'static str) -> Fixture {
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let account = app.account("Routed Clinic", Some(&rep.id)).await;
    set_mode(app, &account, mode).await;
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Gloves"), "10.00", 1000),
            (ProductInput::new("VENT-1", "Ventilator"), "5000.00", 3),
        ],
    )
    .await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Buyer).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    Fixture {
        account,
        rep_email: rep.email.clone(),
        rep: rep.principal().unwrap(),
        buyer_email: buyer.email.clone(),
        buyer: buyer.principal().unwrap(),
        admin,
    }
}

async fn set_mode(app: &TestApp, account: &str, mode: &'static str) {
    let a = account.to_string();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET ownership_mode = $2 WHERE id = $1", portico::args![a, mode])
                .await
                .map(|_| ())
        })
    })
    .await;
}

async fn place(app: &TestApp, who: &Principal, account: &str, lines: &[(&str, i64)], notes: &str) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader { notes: notes.into(), ..Default::default() },
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(who), &req, None, |o, _| (201, o.id.clone())).await {
        Ok(Placement::Placed { order, .. }) => order,
        other => panic!("{other:?}"),
    }
}

async fn reserved(app: &TestApp) -> i64 {
    app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await
}

async fn exposure(app: &TestApp, account: &str) -> i64 {
    let running = portico::store::credit::get(app.db(), account).await.unwrap();
    assert_eq!(running, portico::store::credit::from_records(app.db(), account).await.unwrap());
    running.uninvoiced
}

#[tokio::test]
async fn a_rep_led_accounts_orders_are_requests_the_rep_completes() {
    let app = TestApp::new().await;
    let f = fixture(&app, "rep_led").await;
    let request = place(&app, &f.buyer, &f.account, &[("GLV-1", 40)], "").await;
    assert_eq!(request.status(), OrderStatus::Escalated);
    assert_eq!(request.reasons, "Rita Rep places the orders of this account: your request is with them.");
    assert_eq!((reserved(&app).await, exposure(&app, &f.account).await), (0, 0), "nothing held while it waits");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.escalated'").await, 1);
    // The API is the customer's channel too: routed the same.
    let token = app.api_token(&[Scope::OrdersWrite, Scope::OrdersRead]).await;
    let body = json!({ "account": f.account, "lines": [{ "sku": "GLV-1", "quantity": 40 }] });
    let r = app.api("POST", "/api/v1/orders", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((v["status"].as_str(), v["reasons"].as_str()), (Some("escalated"), Some(request.reasons.as_str())));
    // The rep's own order for the account is not routed back to them.
    assert_eq!(place(&app, &f.rep, &f.account, &[("GLV-1", 1)], "").await.status(), OrderStatus::Placed);

    // The buyer cannot complete it; another rep does not see it.
    let err = orders::complete_order(app.db(), app.now(), &Actor::web(&f.buyer), &request.number, None, "")
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    let other = app.staff("Otto Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let err =
        orders::complete_order(app.db(), app.now(), &Actor::web(&other), &request.number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");

    // The rep completes it from the order's page: placed now, stock reserved, credit counted.
    let mut rep = app.signed_in(&f.rep_email).await;
    let page = rep.get(&format!("/orders/{}", request.number)).await;
    assert!(page.body.contains("id=\"complete-form\""), "{}", page.body);
    let version = page.attr("name=\"version\" value=\"");
    let r = rep
        .post(
            &format!("/orders/{}/complete", request.number),
            &[("version", &version), ("comment", "Confirmed by phone")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = orders::get_order(app.db(), &Actor::web(&f.rep), &request.number).await.unwrap();
    assert_eq!(done.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 41);
    assert_eq!(exposure(&app, &f.account).await, Money::parse("410").unwrap().raw());
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.completed'").await, 1);
    let r = rep.post(&format!("/orders/{}/complete", request.number), &[("version", &version)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "completing twice places once");

    // The API order goes back to the customer, with the reason they read.
    let api_id = v["id"].as_str().unwrap();
    let r = app.api("POST", &format!("/api/v1/orders/{api_id}/send-back"), &token, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required: {}", r.body);
    let read_only = app.api_token(&[Scope::OrdersRead]).await;
    let r =
        app.api("POST", &format!("/api/v1/orders/{api_id}/send-back"), &read_only, Some(json!({"reason": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(
            "POST",
            &format!("/api/v1/orders/{api_id}/send-back"),
            &token,
            Some(json!({"reason": "Use the contract SKU"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut b = app.signed_in(&f.buyer_email).await;
    let number = v["number"].as_str().unwrap();
    let page = b.get(&format!("/portal/orders/{number}")).await;
    assert!(page.body.contains("Sent back by") && page.body.contains("Use the contract SKU"), "{}", page.body);
}

#[tokio::test]
async fn hybrid_rules_send_only_what_they_catch_and_self_service_never_routes() {
    let app = TestApp::new().await;
    let f = fixture(&app, "hybrid").await;
    let actor = Actor::web(&f.admin);
    routing::add_rule(app.db(), app.now(), &actor, "order_total", "1000", "").await.unwrap();
    routing::add_rule(app.db(), app.now(), &actor, "line_quantity", "", "500").await.unwrap();
    routing::add_rule(app.db(), app.now(), &actor, "consult_product", "", "").await.unwrap();
    routing::add_rule(app.db(), app.now(), &actor, "has_notes", "", "").await.unwrap();
    routing::set_consult(app.db(), app.now(), &actor, "vent-1", true).await.unwrap();

    let small = place(&app, &f.buyer, &f.account, &[("GLV-1", 5)], "").await;
    assert_eq!(small.status(), OrderStatus::Placed, "nothing catches it");
    let cases = [
        (vec![("VENT-1", 1)], "", "Orders over $1,000.00 go to your rep (this one is $5,000.00). Sent to Rita Rep."),
        (vec![("GLV-1", 501)], "", "501 × GLV-1 is more than 500 units of one product."),
        (vec![("GLV-1", 1)], "Leave at the back door", "The order has notes for us. Sent to Rita Rep."),
    ];
    for (lines, notes, reason) in cases {
        let o = place(&app, &f.buyer, &f.account, &lines, notes).await;
        assert_eq!(o.status(), OrderStatus::Escalated);
        assert!(o.reasons.contains(reason), "{reason} in {}", o.reasons);
    }
    let vent = place(&app, &f.buyer, &f.account, &[("VENT-1", 1)], "").await;
    assert!(vent.reasons.contains("VENT-1 needs a specialist's advice."), "{}", vent.reasons);
    // The first-orders rule counts the account's orders.
    routing::add_rule(app.db(), app.now(), &actor, "first_orders", "", "100").await.unwrap();
    let o = place(&app, &f.buyer, &f.account, &[("GLV-1", 1)], "").await;
    assert!(o.reasons.contains("This is one of the account's first 100 orders (number 6)."), "{}", o.reasons);
    // The same account in self-service: nothing is routed.
    set_mode(&app, &f.account, "self_service").await;
    assert_eq!(place(&app, &f.buyer, &f.account, &[("VENT-1", 1)], "x").await.status(), OrderStatus::Placed);
}

#[tokio::test]
async fn approval_comes_first_and_routing_after_it() {
    let app = TestApp::new().await;
    let f = fixture(&app, "rep_led").await;
    let requester = app.buyer(&f.account, "Rae Requester", BuyerRole::Requester).await.principal().unwrap();
    let manager = app.buyer(&f.account, "Mia Manager", BuyerRole::Manager).await.principal().unwrap();
    let o = place(&app, &requester, &f.account, &[("GLV-1", 2)], "").await;
    assert_eq!(o.status(), OrderStatus::PendingApproval);
    let approved =
        orders::approve_order(app.db(), app.now(), &Actor::web(&manager), &o.number, None, "").await.unwrap();
    assert_eq!(approved.status(), OrderStatus::Escalated, "approved, then with the rep");
    assert_eq!(reserved(&app).await, 0);
    let placed = orders::complete_order(app.db(), app.now(), &Actor::web(&f.rep), &o.number, None, "").await.unwrap();
    assert_eq!(placed.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 2);
    // A request whose stock is gone cannot be completed; it stays with the rep, unchanged.
    let big = place(&app, &f.buyer, &f.account, &[("VENT-1", 3)], "").await;
    place(&app, &f.rep, &f.account, &[("VENT-1", 3)], "").await;
    let err =
        orders::complete_order(app.db(), app.now(), &Actor::web(&f.rep), &big.number, None, "").await.unwrap_err();
    match err {
        ServiceError::Blocked(issues) => assert_eq!(issues[0].code, "out_of_stock", "{issues:?}"),
        e => panic!("{e:?}"),
    }
    let still = orders::get_order(app.db(), &Actor::web(&f.rep), &big.number).await.unwrap();
    assert_eq!((still.status(), still.version), (OrderStatus::Escalated, big.version), "unchanged");
    // The rep adjusts a request before completing it: still with the rep, still holding nothing;
    // confirming it directly (skipping stock and credit) is refused.
    let req = place(&app, &f.buyer, &f.account, &[("GLV-1", 1)], "").await;
    let (before, owed) = (reserved(&app).await, exposure(&app, &f.account).await);
    let amend = orders::Amendment {
        expected_version: req.version,
        lines: vec![LineInput::sku("GLV-1", 2)],
        header: OrderHeader::default(),
        reason: "Two boxes, as agreed on the phone".into(),
    };
    let adjusted = orders::amend_order(app.db(), app.now(), &Actor::web(&f.rep), &req.number, &amend).await.unwrap();
    assert_eq!((adjusted.status(), adjusted.revision), (OrderStatus::Escalated, 2));
    assert_eq!(reserved(&app).await, before);
    assert_eq!(exposure(&app, &f.account).await, owed, "a request counts nothing until completed");
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let err = orders::confirm_order(app.db(), app.now(), &Actor::web(&cs), &req.number, None).await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    let err = orders::amend_order(app.db(), app.now(), &Actor::web(&f.buyer), &req.number, &amend).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden | ServiceError::NotFound), "{err:?}");
    let done = orders::complete_order(app.db(), app.now(), &Actor::web(&f.rep), &req.number, None, "").await.unwrap();
    assert_eq!(done.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, before + 2);
}

#[tokio::test]
async fn the_admin_sets_rules_and_previews_an_order() {
    let app = TestApp::new().await;
    let f = fixture(&app, "hybrid").await;
    let admin = app.staff("Adam Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let r = c.post("/admin/routing", &[("kind", "order_total"), ("amount", "lots")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"routing-error\"") && r.body.contains("lots"), "{}", r.body);
    let r = c.post("/admin/routing", &[("kind", "line_quantity"), ("quantity", "-3")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c.post("/admin/routing", &[("kind", "order_total"), ("amount", "2,000")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c.post("/admin/routing/consult", &[("sku", "NOPE-1"), ("consult", "1")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("No product has SKU “NOPE-1”"), "{}", r.body);
    let r = c
        .post("/admin/routing/preview", &[("account", &f.account), ("lines", "VENT-1 1\nGLV-1 3"), ("notes", "")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("Goes to the rep: Orders over $2,000.00 go to your rep (this one is $5,030.00)."),
        "{}",
        r.body
    );
    let r = c.post("/admin/routing/preview", &[("account", &f.account), ("lines", "GLV-1 3"), ("notes", "")]).await;
    assert!(r.body.contains("Placed directly"), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0, "a preview places nothing");
    // Staff other than admins cannot change routing.
    let mut rep = app.signed_in(&f.rep_email).await;
    assert_eq!(rep.get("/admin/routing").await.status, StatusCode::FORBIDDEN);
    let r = rep.post("/admin/routing", &[("kind", "has_notes")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM routing_rules").await, 1);
}
