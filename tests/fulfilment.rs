//! Fulfilment: shipments of confirmed orders (partial, from a warehouse, with carrier and
//! tracking) consume the stock the order holds; the order goes partially shipped → shipped; stock
//! that arrives is reserved for backorders oldest order first; buyers see per line what shipped
//! and each shipment's tracking; nobody else's orders can be shipped or seen.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::domain::catalog::BackorderPolicy;
use portico::domain::orders::OrderStatus;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, inventory};
use portico::store::products::ProductInput;

struct Fixture {
    account: String,
    other_account: String,
    buyer: String,
    other_buyer: String,
    cs: Principal,
    cs_email: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Fill Clinic", None).await;
    let other_account = app.account("Other Labs", None).await;
    let backorderable =
        ProductInput { backorder: BackorderPolicy::Allow, ..ProductInput::new("BO-1", "Backorder Box") };
    common::sell(
        app.db(),
        app.now(),
        vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 100), (backorderable, "4.00", 5)],
    )
    .await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let other_buyer = app.buyer(&other_account, "Olga Other", BuyerRole::Buyer).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    Fixture {
        account,
        other_account,
        buyer: buyer.email.clone(),
        other_buyer: other_buyer.email.clone(),
        cs_email: cs.email.clone(),
        cs: cs.principal().unwrap(),
    }
}

async fn place(app: &TestApp, f: &Fixture, account: &str, lines: &[(&str, i64)]) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.into(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
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

fn ship(lines: &[(i64, i64)]) -> ShipmentInput {
    ShipmentInput {
        warehouse: "CHI".into(),
        carrier: "UPS".into(),
        tracking_number: "1Z999AA10123456784".into(),
        shipped_on: None,
        lines: lines.to_vec(),
        external_id: None,
    }
}

async fn stock(app: &TestApp, sku: &str) -> (i64, i64) {
    let sql =
        format!("SELECT on_hand FROM stock_levels s JOIN products p ON p.id = s.product_id WHERE p.sku = '{sku}'");
    let on_hand = app.count_dyn(&sql).await;
    let reserved = app.count_dyn(&sql.replace("SELECT on_hand", "SELECT reserved")).await;
    (on_hand, reserved)
}

#[tokio::test]
async fn partial_shipments_consume_reserved_stock_and_move_the_order_to_shipped() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let cs = Actor::web(&f.cs);
    let o = place(&app, &f, &f.account, &[("GLV-1", 30), ("BO-1", 8)]).await;
    assert_eq!(stock(&app, "BO-1").await, (5, 5), "5 reserved, 3 backordered");
    // Not before it is confirmed.
    let err = orders::record_shipment(app.db(), app.now(), &cs, &o.number, &ship(&[(1, 10)])).await.unwrap_err();
    assert!(matches!(&err, ServiceError::Conflict(m) if m.contains("confirm it before shipping")), "{err}");
    orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await.unwrap();

    // More than is reserved, a line twice, a line that does not exist: every reason, nothing moved.
    let err = orders::record_shipment(app.db(), app.now(), &cs, &o.number, &ship(&[(2, 6), (1, 5), (1, 5), (9, 1)]))
        .await
        .unwrap_err();
    let ServiceError::Invalid(errors) = err else { panic!("{err}") };
    let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
    assert_eq!(
        fields,
        vec![
            ("lines[0]", "Line 2 (BO-1): 6 asked, but only 5 reserved at CHI; 3 backordered, not in stock yet."),
            ("lines[2]", "Line 1 (GLV-1) is listed twice."),
            ("lines[3]", "The order has no line 9."),
        ]
    );
    assert_eq!(stock(&app, "GLV-1").await, (100, 30));
    assert_eq!(app.count("SELECT COUNT(*) FROM shipments").await, 0);

    // First shipment: 10 gloves and the 5 boxes in stock.
    let s1 = orders::record_shipment(app.db(), app.now(), &cs, &o.number, &ship(&[(1, 10), (2, 5)])).await.unwrap();
    assert!(s1.row.number.starts_with("SH-"));
    assert_eq!(s1.tracking_url.as_deref(), Some("https://www.ups.com/track?tracknum=1Z999AA10123456784"));
    assert_eq!(
        s1.lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect::<Vec<_>>(),
        vec![("GLV-1", 10), ("BO-1", 5)]
    );
    assert_eq!(stock(&app, "GLV-1").await, (90, 20), "shipping takes on hand and reservation together");
    assert_eq!(stock(&app, "BO-1").await, (0, 0));
    let after = orders::get_order(app.db(), &cs, &o.number).await.unwrap();
    assert_eq!(after.status(), OrderStatus::PartiallyShipped);
    let lines = orders::order_view(app.db(), &cs, &o.number).await.unwrap().lines;
    assert_eq!(
        lines.iter().map(|l| (l.shipped_qty, l.reserved_qty, l.backordered_qty)).collect::<Vec<_>>(),
        vec![(10, 20, 0), (5, 0, 3)]
    );
    // Part shipped: the lines can no longer be amended.
    let a = orders::Amendment {
        expected_version: after.version,
        lines: vec![LineInput::sku("GLV-1", 1)],
        header: OrderHeader::default(),
        reason: "smaller".into(),
    };
    assert!(matches!(
        orders::amend_order(app.db(), app.now(), &cs, &o.number, &a).await,
        Err(ServiceError::Conflict(_))
    ));

    // Three boxes arrive: they are reserved for the waiting line at once and can ship.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    inventory::adjust_stock(app.db(), app.now(), &Actor::web(&admin), "BO-1", "CHI", 4, "delivery").await.unwrap();
    assert_eq!(stock(&app, "BO-1").await, (4, 3), "3 of the 4 taken by the backorder");
    let s2 = orders::record_shipment(app.db(), app.now(), &cs, &o.number, &ship(&[(1, 20), (2, 3)])).await.unwrap();
    assert_ne!(s1.row.number, s2.row.number);
    let done = orders::get_order(app.db(), &cs, &o.number).await.unwrap();
    assert_eq!(done.status(), OrderStatus::Shipped);
    assert!(!done.backordered);
    assert_eq!(stock(&app, "GLV-1").await, (70, 0));
    assert_eq!(stock(&app, "BO-1").await, (1, 0));
    // Nothing more to ship; every shipment is audited and sent out.
    let err = orders::record_shipment(app.db(), app.now(), &cs, &o.number, &ship(&[(1, 1)])).await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err}");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'shipment.created'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.shipped'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'shipment.created'").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stock_movements WHERE reason = 'shipment'").await,
        4,
        "each line of each shipment journalled"
    );
}

#[tokio::test]
async fn arriving_stock_goes_to_the_oldest_backorder_first() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let first = place(&app, &f, &f.account, &[("BO-1", 8)]).await;
    let second = place(&app, &f, &f.other_account, &[("BO-1", 4)]).await;
    async fn waiting(app: &TestApp, o: &orders::OrderRow) -> i64 {
        app.count_dyn(&format!("SELECT backordered_qty FROM order_lines WHERE order_id = '{}'", o.id)).await
    }
    assert_eq!((waiting(&app, &first).await, waiting(&app, &second).await), (3, 4));
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    // 5 arrive: 3 fill the older order, 2 go to the next.
    inventory::adjust_stock(app.db(), app.now(), &Actor::web(&admin), "BO-1", "CHI", 5, "delivery").await.unwrap();
    assert_eq!((waiting(&app, &first).await, waiting(&app, &second).await), (0, 2));
    assert_eq!(stock(&app, "BO-1").await, (10, 10));
    // A cancelled order waits for nothing: its stock goes back and the next arrival skips it.
    orders::cancel_order(app.db(), app.now(), &Actor::web(&f.cs), &second.number, None, "customer changed plans")
        .await
        .unwrap();
    assert_eq!(stock(&app, "BO-1").await, (10, 8));
    inventory::set_on_hand(app.db(), app.now(), &Actor::web(&admin), "BO-1", "CHI", 12, "count").await.unwrap();
    assert_eq!(stock(&app, "BO-1").await, (12, 8), "no open backorder takes it");
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_levels WHERE reserved > on_hand").await, 0);
}

#[tokio::test]
async fn buyers_track_shipments_and_only_staff_who_manage_orders_record_them() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.account, &[("GLV-1", 30), ("BO-1", 8)]).await;
    let mut cs = app.signed_in(&f.cs_email).await;
    // The staff order page offers the shipment form once the order is confirmed.
    assert!(!cs.get(&format!("/orders/{}", o.number)).await.body.contains("Record a shipment"));
    let r = cs.post(&format!("/orders/{}/confirm", o.number), &[("version", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = cs.get(&format!("/orders/{}", o.number)).await;
    assert!(page.body.contains("Record a shipment") && page.body.contains("name=\"ship_1\""), "{}", page.body);
    let r = cs
        .post(
            &format!("/orders/{}/shipments", o.number),
            &[
                ("warehouse", "CHI"),
                ("carrier", "UPS"),
                ("tracking_number", "1Z999AA10123456784"),
                ("shipped_on", ""),
                ("ship_1", "12"),
                ("ship_2", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A bad quantity names the line and ships nothing.
    let r = cs.post(&format!("/orders/{}/shipments", o.number), &[("warehouse", "CHI"), ("ship_1", "ten")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Line 1: “ten” is not a quantity."), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM shipments").await, 1);

    // More boxes are on their way.
    common::write(app.db(), |tx| {
        Box::pin(async move {
            let product: String = tx.fetch_one("SELECT id FROM products WHERE sku = 'BO-1'", vec![]).await?;
            let warehouse: String = tx.fetch_one("SELECT id FROM warehouses WHERE code = 'CHI'", vec![]).await?;
            portico::store::inventory::set_incoming(tx, &product, &warehouse, 40, Some("2031-01-15"), 0).await
        })
    })
    .await;
    // The buyer sees per line what shipped and what waits (and when it is expected), and the
    // tracking link.
    let mut buyer = app.signed_in(&f.buyer).await;
    let page = buyer.get(&format!("/portal/orders/{}", o.number)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains("Partly shipped"), "{body}");
    assert!(body.contains("href=\"https://www.ups.com/track?tracknum=1Z999AA10123456784\""), "{body}");
    assert!(body.contains("18 reserved") && body.contains("3 backordered · expected 15 Jan 2031"), "{body}");
    assert!(body.contains("12 × Nitrile Gloves"), "{body}");
    assert!(!body.contains("Record a shipment"));
    // A buyer cannot record shipments, even of their own order; another account's buyer cannot
    // even see the order.
    let r = buyer.post(&format!("/orders/{}/shipments", o.number), &[("warehouse", "CHI"), ("ship_1", "1")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut other = app.signed_in(&f.other_buyer).await;
    assert_eq!(other.get(&format!("/portal/orders/{}", o.number)).await.status, StatusCode::NOT_FOUND);
    let other_principal =
        Principal::buyer("x".into(), "Olga".into(), f.other_buyer.clone(), f.other_account.clone(), BuyerRole::Manager);
    let err = orders::order_shipments(app.db(), &Actor::web(&other_principal), &o.number).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
    assert_eq!(app.count("SELECT COUNT(*) FROM shipments").await, 1);
}

/// The ERP or WMS records shipments through the API and reads them back with their tracking;
/// the order's lines say what shipped; refusals are problems naming the field.
#[tokio::test]
async fn the_api_records_and_lists_shipments() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &f.account, &[("GLV-1", 30)]).await;
    let token = app.api_token(&[portico::domain::auth::Scope::OrdersWrite]).await;
    let send = |method: &'static str, path: String, body: Option<serde_json::Value>| {
        let token = token.clone();
        let app = &app;
        async move { app.api(method, &path, &token, body).await }
    };
    let path = format!("/api/v1/orders/{}/shipments", o.number);
    let body = serde_json::json!({"warehouse": "CHI", "carrier": "FedEx", "tracking_number": "123456789012",
        "shipped_on": "2026-12-01", "lines": [{"line": 1, "quantity": 10}]});
    // Placed, not confirmed: a conflict that says what to do.
    let r = send("POST", path.clone(), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("confirm it before shipping"));
    orders::confirm_order(app.db(), app.now(), &Actor::web(&f.cs), &o.number, None).await.unwrap();
    // More than is held, and an unknown warehouse: every problem, by field.
    let bad = serde_json::json!({"warehouse": "XYZ", "lines": [{"line": 1, "quantity": 31}]});
    let r = send("POST", path.clone(), Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert!(r.body.contains("\"field\":\"warehouse\""), "{}", r.body);
    let r = send(
        "POST",
        path.clone(),
        Some(serde_json::json!({"warehouse": "CHI", "lines": [{"line": 1, "quantity": 31}]})),
    )
    .await;
    assert!(r.body.contains("\"field\":\"lines[0]\"") && r.body.contains("only 30 reserved at CHI"), "{}", r.body);
    // Recorded.
    let r = send("POST", path.clone(), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(s["tracking_url"], "https://www.fedex.com/fedextrack/?trknbr=123456789012");
    assert_eq!(s["shipped_on"], "2026-12-01");
    assert_eq!(s["lines"], serde_json::json!([{"line": 1, "sku": "GLV-1", "quantity": 10}]));
    let list: serde_json::Value = serde_json::from_str(&send("GET", path.clone(), None).await.body).unwrap();
    assert_eq!(list["shipments"][0]["number"], s["number"]);
    let order: serde_json::Value =
        serde_json::from_str(&send("GET", format!("/api/v1/orders/{}", o.number), None).await.body).unwrap();
    assert_eq!(order["status"], "partially_shipped");
    assert_eq!((order["lines"][0]["shipped"].clone(), order["lines"][0]["reserved"].clone()), (10.into(), 20.into()));
    // Another account's order does not exist for a buyer; an unknown one does not exist at all.
    assert_eq!(send("GET", "/api/v1/orders/SO-999999/shipments".into(), None).await.status, StatusCode::NOT_FOUND);

    // With the WMS's own id, a retried report answers the shipment it made and ships nothing more.
    let with_id =
        serde_json::json!({"warehouse": "CHI", "external_id": "WMS-77", "lines": [{"line": 1, "quantity": 5}]});
    let first = send("POST", path.clone(), Some(with_id.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = send("POST", path.clone(), Some(with_id.clone())).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&first.body).unwrap(), serde_json::from_str(&again.body).unwrap());
    assert_eq!((a["number"].clone(), b["external_id"].clone()), (b["number"].clone(), "WMS-77".into()));
    let order: serde_json::Value =
        serde_json::from_str(&send("GET", format!("/api/v1/orders/{}", o.number), None).await.body).unwrap();
    assert_eq!(order["lines"][0]["shipped"], 15, "shipped once");
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 2, "billed once");
    // The same id on another order is a conflict.
    let other = place(&app, &f, &f.account, &[("GLV-1", 2)]).await;
    orders::confirm_order(app.db(), app.now(), &Actor::web(&f.cs), &other.number, None).await.unwrap();
    let r = send("POST", format!("/api/v1/orders/{}/shipments", other.number), Some(with_id)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
