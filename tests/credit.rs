//! Credit holds: an account on credit hold has its orders held (`on_hold`, stock reserved) in
//! finance's queue; finance — and only finance — releases them (they continue as placed) or
//! rejects them with a comment (cancelled, stock released). Customer service cannot lift a hold.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::domain::orders::OrderStatus;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError};
use portico::store::products::ProductInput;

struct Fixture {
    buyer: String,
    desk: String,
    finance: String,
    order: orders::OrderRow,
}

async fn held_order(app: &TestApp) -> Fixture {
    let account = app.account("Slow Payer Clinic", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "10.00", 100)]).await;
    let a = account.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET status = 'on_hold' WHERE id = $1", portico::args![a]).await?;
            Ok(())
        })
    })
    .await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let desk = app.staff("Dora Desk", &[StaffRole::CustomerService]).await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let req = PlaceOrder {
        account_id: account.clone(),
        lines: vec![LineInput::sku("GLV-1", 30)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let p = buyer.principal().unwrap();
    let order = match orders::place_order(app.db(), app.now(), &Actor::web(&p), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap()
    {
        Placement::Placed { order, .. } => order,
        _ => panic!(),
    };
    Fixture { buyer: buyer.email, desk: desk.email, finance: finance.email, order }
}

async fn reserved(app: &TestApp) -> i64 {
    app.count("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels").await
}

#[tokio::test]
async fn finance_releases_a_held_order_and_customer_service_cannot() {
    let app = TestApp::new().await;
    let f = held_order(&app).await;
    assert_eq!(f.order.status(), OrderStatus::OnHold);
    assert!(f.order.reasons.contains("credit hold"), "{}", f.order.reasons);
    assert_eq!(reserved(&app).await, 30, "a held order keeps its stock");
    let path = format!("/orders/{}", f.order.number);
    let version = f.order.version.to_string();

    // Customer service can neither confirm nor release it.
    let mut desk = app.signed_in(&f.desk).await;
    assert!(!desk.get(&path).await.body.contains("Release order"));
    let r = desk.post(&format!("{path}/confirm"), &[("version", &version)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = desk.post(&format!("{path}/release"), &[("version", &version)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The buyer does not even see these actions exist.
    let mut buyer = app.signed_in(&f.buyer).await;
    assert_eq!(buyer.post(&format!("{path}/release"), &[("version", &version)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'on_hold'").await, 1, "nothing changed");

    // Finance finds it in the queue and releases it.
    let mut fin = app.signed_in(&f.finance).await;
    let queue = fin.get("/finance").await;
    assert!(queue.body.contains("Held for credit") && queue.body.contains(&f.order.number), "{}", queue.body);
    assert!(fin.get(&path).await.body.contains("Release order"));
    let r = fin.post(&format!("{path}/release"), &[("version", &version), ("comment", "Payment received")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let o = orders::get_order(
        app.db(),
        &Actor::web(&app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap()),
        &f.order.number,
    )
    .await
    .unwrap();
    assert_eq!(o.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 30);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.released'").await, 1);
    assert!(!fin.get("/finance").await.body.contains(&f.order.number), "out of the queue");
    // Released once: releasing again is a conflict.
    let again = fin.post(&format!("{path}/release"), &[("version", &o.version.to_string())]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn finance_rejects_a_held_order_with_a_comment_the_customer_sees() {
    let app = TestApp::new().await;
    let f = held_order(&app).await;
    let fin = app.staff("Fin Two", &[StaffRole::Finance]).await.principal().unwrap();
    let actor = Actor::web(&fin);
    let err = orders::reject_order(app.db(), app.now(), &actor, &f.order.number, None, "  ").await.unwrap_err();
    assert!(matches!(err, ServiceError::Invalid(_)), "a reason is required");
    let o = orders::reject_order(app.db(), app.now(), &actor, &f.order.number, None, "Overdue invoices; call us")
        .await
        .unwrap();
    assert_eq!(o.status(), OrderStatus::Cancelled);
    assert_eq!(reserved(&app).await, 0, "its stock is released");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.rejected'").await, 1);
    let mut buyer = app.signed_in(&f.buyer).await;
    let page = buyer.get(&format!("/portal/orders/{}", f.order.number)).await;
    assert!(page.body.contains("Overdue invoices; call us"), "{}", page.body);
}

/// A prepay order is billed when it is placed for good: not while it is held, but when finance
/// releases it; a rejected one is never billed.
#[tokio::test]
async fn a_held_prepay_order_is_billed_on_release_not_before() {
    let app = TestApp::new().await;
    let f = held_order(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let actor = Actor::web(&admin);
    // The held order above was on net terms; a second one on prepay terms.
    common::write(app.db(), |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET terms_days = 0 WHERE name = 'Slow Payer Clinic'", vec![]).await?;
            Ok(())
        })
    })
    .await;
    let req = PlaceOrder {
        account_id: f.order.account_id.clone(),
        lines: vec![LineInput::sku("GLV-1", 2)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let Placement::Placed { order, .. } =
        orders::place_order(app.db(), app.now(), &actor, &req, None, |o, _| (201, o.id.clone())).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(order.status(), OrderStatus::OnHold);
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 0, "not billed while held");
    orders::reject_order(app.db(), app.now(), &actor, &f.order.number, None, "no").await.unwrap();
    orders::release_order(app.db(), app.now(), &actor, &order.number, None, "paid upfront").await.unwrap();
    let billed: Vec<String> =
        portico::service::invoices::list_invoices(app.db(), &actor, Some(&order.account_id), None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.order_number)
            .collect();
    assert_eq!(billed, vec![order.number.clone()], "billed on release; the rejected order never");
}
