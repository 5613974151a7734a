//! Ordering: one record shape from every channel, tenant isolation of carts, lists and orders, no
//! oversell under concurrency, idempotent placement (API keys and one-time form tokens),
//! amendments with revisions and stale-edit refusal, cancellation releasing stock.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::catalog::{BackorderPolicy, QuantityRules, Sku};
use portico::domain::money::Money;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError};
use portico::store::inventory::{self, StockReason};
use portico::store::new_id;
use portico::store::pricing::{self, NewPriceList};
use portico::store::products::{self, ProductInput};
use portico::store::users::UserRow;
use portico::store::{catalogs, categories};
use serde_json::{Value, json};

struct Fixture {
    a: String,
    b: String,
    buyer_a: UserRow,
    buyer_b: UserRow,
    rep_a: UserRow,
    desk: UserRow,
    admin: UserRow,
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep_a = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let desk = app.staff("Dora Desk", &[StaffRole::CustomerService]).await;
    let a = app.account("Alpha Clinic", Some(&rep_a.id)).await;
    let b = app.account("Beta Labs", None).await;
    let buyer_a = app.buyer(&a, "Ann Buyer", BuyerRole::Buyer).await;
    let buyer_b = app.buyer(&b, "Ben Buyer", BuyerRole::Buyer).await;
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let cat = new_id();
            categories::insert_category(tx, &cat, None, "Medical", "Medical", 0, now).await?;
            let mut ids = Vec::new();
            for (sku, rules, policy) in [
                ("GLV-1", QuantityRules::default(), BackorderPolicy::Deny),
                ("BOX-10", QuantityRules { min: 10, multiple: 10, max: Some(100) }, BackorderPolicy::Deny),
                ("BO-1", QuantityRules::default(), BackorderPolicy::Allow),
                ("ONE-1", QuantityRules::default(), BackorderPolicy::Deny),
            ] {
                let input = ProductInput {
                    category_id: Some(cat.clone()),
                    rules,
                    backorder: policy,
                    external_id: Some(format!("ERP-{sku}")),
                    ..ProductInput::new(sku, &format!("Product {sku}"))
                };
                ids.push(products::upsert(tx, &new_id(), &input, now).await?);
            }
            let base = new_id();
            pricing::insert_price_list(
                tx,
                &NewPriceList {
                    id: &base,
                    code: "BASE",
                    name: "List",
                    is_base: true,
                    priority: 1000,
                    valid_from: None,
                    valid_to: None,
                },
                now,
            )
            .await?;
            for (i, price) in ["10.00", "2.50", "4.00", "1.00"].iter().enumerate() {
                pricing::set_list_price(tx, &base, &ids[i], 1, Money::parse(price).unwrap()).await?;
            }
            pricing::set_list_price(tx, &base, &ids[0], 50, Money::parse("9.00").unwrap()).await?;
            let default = new_id();
            catalogs::insert_catalog(tx, &default, "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            // Two warehouses: IND sorts first, so allocation takes from it first.
            let (chi, ind) = (new_id(), new_id());
            inventory::insert_warehouse(tx, &chi, "CHI", "Chicago", 1, now).await?;
            inventory::insert_warehouse(tx, &ind, "IND", "Indianapolis", 0, now).await?;
            let why = StockReason { reason: "count", actor_user_id: None, channel: "cli" };
            inventory::adjust_on_hand(tx, &ids[0], &chi, 60, &why, now).await?;
            inventory::adjust_on_hand(tx, &ids[0], &ind, 40, &why, now).await?;
            inventory::adjust_on_hand(tx, &ids[1], &chi, 1000, &why, now).await?;
            inventory::adjust_on_hand(tx, &ids[2], &chi, 2, &why, now).await?;
            inventory::adjust_on_hand(tx, &ids[3], &chi, 100, &why, now).await?;
            Ok(())
        })
    })
    .await;
    Fixture { a, b, buyer_a, buyer_b, rep_a, desk, admin }
}

fn buyer(u: &UserRow, account: &str) -> Principal {
    Principal::buyer(u.id.clone(), u.name.clone(), u.email.clone(), account.into(), BuyerRole::Buyer)
}

fn staff(u: &UserRow, roles: &[StaffRole]) -> Principal {
    Principal::staff(u.id.clone(), u.name.clone(), u.email.clone(), roles.to_vec())
}

fn req(account: &str, lines: &[(&str, i64)]) -> PlaceOrder {
    PlaceOrder {
        account_id: account.into(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    }
}

async fn stock(app: &TestApp, sku: &str) -> (i64, i64) {
    let on_hand = app
        .count_dyn(&format!("SELECT CAST(SUM(on_hand) AS BIGINT) FROM stock_levels s JOIN products p ON p.id = s.product_id WHERE p.sku = '{sku}'"))
        .await;
    let reserved = app
        .count_dyn(&format!("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels s JOIN products p ON p.id = s.product_id WHERE p.sku = '{sku}'"))
        .await;
    (on_hand, reserved)
}

async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (TestResponse, Value) {
    let mut b = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let res = app.send(b.body(Body::from(body.map(|v| v.to_string()).unwrap_or_default())).unwrap()).await;
    let json = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    (res, json)
}

async fn token(app: &TestApp, f: &Fixture, scopes: &[Scope]) -> String {
    let p = staff(&f.admin, &[StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", scopes).await.unwrap().1
}

/// Adds a product to the signed-in user's cart and checks out with a fresh form token.
async fn web_checkout(c: &mut common::Client<'_>, sku: &str, qty: &str, po: &str) -> TestResponse {
    let r = c.post("/portal/cart/add", &[("sku", sku), ("quantity", qty)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/portal/checkout").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = page.attr("name=\"form_token\" value=\"");
    c.post("/portal/checkout", &[("form_token", &token), ("po_number", po)]).await
}

#[tokio::test]
async fn every_channel_writes_the_same_order_record() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    // Portal: the buyer checks out their cart.
    let mut buyer_c = app.signed_in(&f.buyer_a.email).await;
    let r = web_checkout(&mut buyer_c, "GLV-1", "3", "PO-PORTAL").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with("/portal/orders/SO-"), "{}", r.location());
    // Rep: acts for the account from their book, same pages.
    let mut rep_c = app.signed_in(&f.rep_a.email).await;
    let r = rep_c.post(&format!("/accounts/{}/act", f.a), &[]).await;
    assert_eq!(r.location(), "/portal/catalog");
    assert!(rep_c.get("/portal/catalog").await.body.contains("Acting for <strong>Alpha Clinic</strong>"));
    assert_eq!(web_checkout(&mut rep_c, "GLV-1", "2", "PO-REP").await.status, StatusCode::SEE_OTHER);
    // Phone: customer service acts for the account.
    let mut desk_c = app.signed_in(&f.desk.email).await;
    desk_c.post(&format!("/accounts/{}/act", f.a), &[]).await;
    assert_eq!(web_checkout(&mut desk_c, "GLV-1", "1", "PO-PHONE").await.status, StatusCode::SEE_OTHER);
    // A rep cannot act for an account outside their book.
    assert_eq!(rep_c.post(&format!("/accounts/{}/act", f.b), &[]).await.status, StatusCode::NOT_FOUND);
    // API: the ERP.
    let t = token(&app, &f, &[Scope::OrdersWrite]).await;
    let (r, body) = api(
        &app,
        Method::POST,
        "/api/v1/orders",
        &t,
        None,
        Some(json!({
            "account": "A-10001", "po_number": "PO-API", "lines": [{ "external_id": "ERP-GLV-1", "quantity": 4 }]
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(body["channel"], "api");
    assert_eq!(body["lines"][0]["unit_price"], "10.00");

    let rows = portico::store::orders::list(
        app.db(),
        &portico::store::orders::OrderFilter { account_id: Some(f.a.clone()), ..Default::default() },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 4);
    let mut by_po: Vec<(String, String, String, Option<String>)> = rows
        .iter()
        .map(|o| (o.po_number.clone(), o.channel.clone(), o.placed_by_name.clone(), o.on_behalf_of_account_id.clone()))
        .collect();
    by_po.sort();
    assert_eq!(
        by_po,
        vec![
            ("PO-API".into(), "api".into(), "ERP".into(), Some(f.a.clone())),
            ("PO-PHONE".into(), "phone".into(), "Dora Desk".into(), Some(f.a.clone())),
            ("PO-PORTAL".into(), "portal".into(), "Ann Buyer".into(), None),
            ("PO-REP".into(), "rep".into(), "Rita Rep".into(), Some(f.a.clone())),
        ]
    );
    for o in &rows {
        assert_eq!(o.status, "placed");
        assert_eq!(o.line_count, 1);
        assert_eq!(portico::store::orders::lines(app.db(), &o.id).await.unwrap()[0].sku, "GLV-1");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.placed'").await, 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'order.placed'").await, 4);
    assert_eq!(stock(&app, "GLV-1").await, (100, 10));
    // The buyer sees all four in one history, with who placed them for them.
    let history = buyer_c.get("/portal/orders").await.body;
    assert!(history.contains("Rita Rep") && history.contains("Dora Desk") && history.contains("for you"));
    assert_eq!(history.matches("data-order=\"SO-").count(), 4);
    // The carts that checked out are empty again.
    assert!(buyer_c.get("/portal/cart").await.body.contains("Your cart is empty"));
}

#[tokio::test]
async fn carts_lists_and_orders_of_other_accounts_are_404() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.buyer_a.email).await;
    assert_eq!(web_checkout(&mut a, "GLV-1", "1", "").await.status, StatusCode::SEE_OTHER);
    let number = a.get("/portal/orders").await.attr("data-order=\"");
    a.post("/portal/cart/add", &[("sku", "BO-1"), ("quantity", "1")]).await;
    let r = a.post("/portal/lists", &[("name", "Private list"), ("from", "cart")]).await;
    let list_id = r.location().trim_start_matches("/portal/lists/").split('?').next().unwrap().to_string();
    let mut b = app.signed_in(&f.buyer_b.email).await;
    assert_eq!(b.get(&format!("/portal/orders/{number}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/portal/orders/{number}/csv")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/portal/reorder/order/{number}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/portal/lists/{list_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.post(&format!("/portal/lists/{list_id}/to-cart"), &[]).await.status, StatusCode::NOT_FOUND);
    assert!(!b.get("/portal/orders").await.body.contains(&number));
    assert!(b.get("/portal/cart").await.body.contains("Your cart is empty"), "A's cart never shows to B");
    // Buyer B's own CSV works; staff staff routes are not for buyers.
    assert_eq!(b.get(&format!("/orders/{number}")).await.status, StatusCode::NOT_FOUND);
    // An API token without order scopes sees nothing: it is told it lacks the scope.
    let t = token(&app, &f, &[Scope::CatalogRead]).await;
    let (r, _) = api(&app, Method::GET, &format!("/api/v1/orders/{number}"), &t, None, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (r, _) = api(&app, Method::GET, "/api/v1/orders", &t, None, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The owner gets the CSV, with its line.
    let csv = a.get(&format!("/portal/orders/{number}/csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.lines().nth(1).unwrap().contains("GLV-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_orders_never_oversell_a_hundred_units() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let p = buyer(&f.buyer_a, &f.a);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (db, p, a, now) = (app.db().clone(), p.clone(), f.a.clone(), app.now());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::web(&p);
            orders::place_order(&db, now, &actor, &req(&a, &[("ONE-1", 1)]), None, |o, _| (201, o.id.clone())).await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Placement::Placed { .. }) => ok += 1,
            Err(ServiceError::Blocked(issues)) => {
                assert_eq!(issues[0].code, "out_of_stock");
                refused += 1;
            }
            other => panic!("unexpected {:?}", other.map(|_| ()).err()),
        }
    }
    assert_eq!((ok, refused), (100, 100));
    assert_eq!(stock(&app, "ONE-1").await, (100, 100));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 100);
    assert_eq!(app.count("SELECT COUNT(DISTINCT number) FROM orders").await, 100, "human numbers stay unique");
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_levels WHERE reserved > on_hand OR on_hand < 0").await, 0);
    // On SQLite concurrent placements share commits (each in its own savepoint): every placed
    // order kept all its rows, and the refused ones left none.
    assert_eq!(app.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM order_allocations").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM order_lines").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM order_events").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'order.placed'").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.placed'").await, 100);
}

#[tokio::test]
async fn reservation_follows_warehouse_order_backorders_when_allowed_and_refuses_with_every_reason() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let p = buyer(&f.buyer_a, &f.a);
    let actor = Actor::web(&p);
    let now = app.now();
    let placed = orders::place_order(app.db(), now, &actor, &req(&f.a, &[("GLV-1", 50), ("BO-1", 5)]), None, |o, _| {
        (201, o.id.clone())
    })
    .await
    .unwrap();
    let Placement::Placed { order, .. } = placed else { panic!() };
    assert!(order.backordered);
    assert_eq!(Money::from_raw(order.subtotal), Money::parse("470.00").unwrap(), "50 × 9.00 (volume) + 5 × 4.00");
    let lines = portico::store::orders::lines(app.db(), &order.id).await.unwrap();
    assert_eq!((lines[0].reserved_qty, lines[0].backordered_qty), (50, 0));
    assert_eq!((lines[1].reserved_qty, lines[1].backordered_qty), (2, 3));
    assert!(lines[0].price_explanation.contains("volume price from 50"));
    // IND (sort 0) gave all 40 first, then CHI 10.
    assert_eq!(
        app.count("SELECT reserved FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id JOIN products p ON p.id = s.product_id WHERE p.sku = 'GLV-1' AND w.code = 'IND'").await,
        40
    );
    // Every reason at once, nothing changed.
    let before = app.count("SELECT COUNT(*) FROM orders").await;
    let err = orders::place_order(
        app.db(),
        now,
        &actor,
        &req(&f.a, &[("GLV-1", 51), ("BOX-10", 15), ("NOPE-1", 1), ("BOX-10", 0)]),
        None,
        |o, _| (201, o.id.clone()),
    )
    .await
    .unwrap_err();
    let ServiceError::Blocked(issues) = err else { panic!("{err}") };
    let codes: Vec<&str> = issues.iter().map(|i| i.code).collect();
    assert_eq!(codes, vec!["out_of_stock", "not_multiple", "unknown_sku", "quantity"], "{issues:?}");
    assert!(issues[0].message.contains("only 50 available"), "{}", issues[0].message);
    let err =
        orders::place_order(app.db(), now, &actor, &req(&f.a, &[("GLV-1", 51)]), None, |o, _| (201, o.id.clone()))
            .await
            .unwrap_err();
    let ServiceError::Blocked(issues) = err else { panic!() };
    assert_eq!(issues[0].code, "out_of_stock");
    assert!(issues[0].message.contains("only 50 available"), "{}", issues[0].message);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, before);
    assert_eq!(stock(&app, "GLV-1").await, (100, 50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_idempotency_replays_refuses_changed_bodies_and_places_once_under_concurrent_retries() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let t = token(&app, &f, &[Scope::OrdersWrite]).await;
    let body = json!({ "account": f.a, "lines": [{ "sku": "GLV-1", "quantity": 2 }] });
    let (first, a) = api(&app, Method::POST, "/api/v1/orders", &t, Some("key-1"), Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let (again, b) = api(&app, Method::POST, "/api/v1/orders", &t, Some("key-1"), Some(body.clone())).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(a, b, "the same response");
    let (changed, problem) = api(
        &app,
        Method::POST,
        "/api/v1/orders",
        &t,
        Some("key-1"),
        Some(json!({ "account": f.a, "lines": [{ "sku": "GLV-1", "quantity": 3 }] })),
    )
    .await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["title"], "Idempotency key reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    // Eight concurrent retries of a new key: one order; the others replay it or are told it is in flight.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let router = app.router.clone();
        let (t, body) =
            (t.clone(), json!({ "account": f.a, "lines": [{ "sku": "GLV-1", "quantity": 1 }] }).to_string());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let r = Request::post("/api/v1/orders")
                .header("authorization", format!("Bearer {t}"))
                .header("idempotency-key", "key-2")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            router.oneshot(r).await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::CREATED));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 2);
    // A refused request releases its key: fixing stock and retrying the same key works.
    let big = json!({ "account": f.a, "lines": [{ "sku": "GLV-1", "quantity": 500 }] });
    let (r, p) = api(&app, Method::POST, "/api/v1/orders", &t, Some("key-3"), Some(big.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["code"], "out_of_stock");
    assert_eq!(p["errors"][0]["field"], "lines[0]");
    let admin = staff(&f.admin, &[StaffRole::Admin]);
    portico::service::inventory::adjust_stock(app.db(), app.now(), &Actor::web(&admin), "GLV-1", "CHI", 500, "receipt")
        .await
        .unwrap();
    let (r, _) = api(&app, Method::POST, "/api/v1/orders", &t, Some("key-3"), Some(big)).await;
    assert_eq!(r.status, StatusCode::CREATED, "the same key places the order once stock is there: {}", r.body);
}

#[tokio::test]
async fn a_double_submitted_checkout_places_one_order() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_a.email).await;
    c.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "5")]).await;
    let token = c.get("/portal/checkout").await.attr("name=\"form_token\" value=\"");
    let first = c.post("/portal/checkout", &[("form_token", &token)]).await;
    let second = c.post("/portal/checkout", &[("form_token", &token)]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert!(first.location().starts_with("/portal/orders/SO-"), "{}", first.location());
    assert_eq!(second.location(), first.location(), "the second submit shows the first order");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(stock(&app, "GLV-1").await, (100, 5));
}

#[tokio::test]
async fn amendments_write_revisions_refuse_stale_edits_and_cancellation_releases_stock() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let p = buyer(&f.buyer_a, &f.a);
    let Placement::Placed { order, .. } = orders::place_order(
        app.db(),
        app.now(),
        &Actor::web(&p),
        &req(&f.a, &[("GLV-1", 10), ("BOX-10", 20)]),
        None,
        |o, _| (201, o.id.clone()),
    )
    .await
    .unwrap() else {
        panic!()
    };
    // Buyers cannot amend; customer service can, through the page.
    let mut b = app.signed_in(&f.buyer_a.email).await;
    assert_eq!(
        b.post(&format!("/orders/{}/amend", order.number), &[("version", "1")]).await.status,
        StatusCode::FORBIDDEN
    );
    let mut desk = app.signed_in(&f.desk.email).await;
    let page = desk.get(&format!("/orders/{}", order.number)).await;
    assert!(page.body.contains("Amend this order"));
    let r = desk
        .post(
            &format!("/orders/{}/amend", order.number),
            &[
                ("version", "1"),
                ("qty_GLV-1", "25"),
                ("qty_BOX-10", "0"),
                ("add_lines", "BO-1 1"),
                ("po_number", "PO-9"),
                ("reason", "Customer called"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = portico::store::orders::get(app.db(), &order.id).await.unwrap().unwrap();
    assert_eq!((after.revision, after.version, after.po_number.as_str()), (2, 2, "PO-9"));
    assert_eq!(stock(&app, "GLV-1").await.1, 25);
    assert_eq!(stock(&app, "BOX-10").await.1, 0, "removed line released");
    let diff =
        app.count("SELECT COUNT(*) FROM order_revisions WHERE revision = 2 AND reason = 'Customer called'").await;
    assert_eq!(diff, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.amended'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'order.amended'").await, 1);
    // The buyer sees the revision and its reason.
    let seen = b.get(&format!("/portal/orders/{}", order.number)).await.body;
    assert!(
        seen.contains("Revision 2") && seen.contains("Customer called") && seen.contains("GLV-1: 10 → 25"),
        "{seen}"
    );
    // A stale edit (version 1) is refused and changes nothing.
    let stale = desk
        .post(&format!("/orders/{}/amend", order.number), &[("version", "1"), ("qty_GLV-1", "1"), ("reason", "late")])
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stock(&app, "GLV-1").await.1, 25);
    // The API's amend takes the version too.
    let t = token(&app, &f, &[Scope::OrdersWrite]).await;
    let (r, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{}/amend", order.number),
        &t,
        None,
        Some(json!({
            "expected_version": 1, "lines": [{ "sku": "GLV-1", "quantity": 1 }], "reason": "ERP"
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Cancel releases everything it held.
    let (r, body) = api(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{}/cancel", order.number),
        &t,
        None,
        Some(json!({
            "expected_version": 2, "reason": "Customer cancelled"
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(body["status"], "cancelled");
    assert_eq!(stock(&app, "GLV-1").await, (100, 0));
    assert_eq!(stock(&app, "BO-1").await, (2, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'order.cancelled'").await, 1);
    // Customer service amending it now is told why it can't, not that someone else changed it.
    let late = desk
        .post(&format!("/orders/{}/amend", order.number), &[("version", "3"), ("qty_GLV-1", "1"), ("reason", "late")])
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("is cancelled and can no longer change"), "{}", late.body);
    assert!(!late.body.contains("Changed by someone else"), "{}", late.body);
    // And an ERP pulls changes since a time, by cursor.
    let (r, page) =
        api(&app, Method::GET, &format!("/api/v1/orders?updated_since={}&limit=1", app.now() - 60), &t, None, None)
            .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(page["orders"][0]["number"], order.number.as_str());
    assert!(page["next_cursor"].is_null());
}

#[tokio::test]
async fn quick_order_adds_valid_lines_and_keeps_bad_ones_with_reasons() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_a.email).await;
    let r = c
        .post("/portal/quick-order", &[("lines", "SKU\tQty\nGLV-1\t5\nglv-1,5\nBOX-10 15\nGLV-2 3\nBO-1 x\n\nONE-1")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("2 lines added"), "{}", r.body);
    assert!(r.body.contains("sold in multiples of 10"));
    assert!(r.body.contains("Did you mean GLV-1?"));
    assert!(r.body.contains("not a whole-number quantity"));
    let cart = c.get("/portal/cart").await.body;
    assert!(cart.contains("value=\"10\"") && cart.contains("ONE-1"), "merged GLV-1 5 + 5");
    // 500 lines in one paste.
    let text: String =
        (0..500).map(|i| if i % 2 == 0 { "BO-1 1\n".to_string() } else { format!("MISSING-{i} 1\n") }).collect();
    let r = c.post("/portal/quick-order", &[("lines", &text)]).await;
    assert!(r.body.contains("1 line added"), "500 lines merge to one valid line");
    assert_eq!(r.body.matches("There is no product with SKU").count(), 250);
    // More than the stock of a product that cannot be backordered is refused with the reason an
    // order would give, and kept to fix.
    let r = c.post("/portal/quick-order", &[("lines", "GLV-1 101")]).await;
    assert!(r.body.contains("GLV-1: only 100 available; it cannot be backordered."), "{}", r.body);
    assert!(!r.body.contains("1 line added"), "{}", r.body);
}

#[tokio::test]
async fn quick_order_uploads_without_script_and_suggests_only_what_the_account_can_buy() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    // 250 SKUs sharing a prefix before the one a buyer mistypes, and a product the account may not see.
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for i in 0..250 {
                let sku = format!("WND-{:04}", 1000 + i);
                products::upsert(tx, &new_id(), &ProductInput::new(&sku, &sku), now).await?;
            }
            products::upsert(tx, &new_id(), &ProductInput::new("WND-9999-BORDERX", "Late"), now).await?;
            let secret = products::upsert(tx, &new_id(), &ProductInput::new("SECRET-77", "Hidden"), now).await?;
            let standard: String = tx.fetch_one("SELECT id FROM catalogs", Vec::new()).await?;
            catalogs::add_catalog_rule(tx, &standard, "exclude_product", &secret).await?;
            catalogs::rebuild_catalog_membership(tx).await
        })
    })
    .await;

    let mut c = app.signed_in(&f.buyer_a.email).await;
    let page = c.get("/portal/quick-order").await.body;
    let token = c.csrf().await;
    let action = format!("/portal/quick-order/upload?_csrf={token}");
    assert!(page.contains(&format!("action=\"{action}\" enctype=\"multipart/form-data\"")), "{page}");
    let csv = "sku,quantity\nGLV-1,2\nWND-9999-BORDER,1\nSECRET-7,1\n";
    // Without script: the token in the action URL; without it the upload is refused.
    assert_eq!(
        c.upload_without_script("/portal/quick-order/upload", ("file", "o.csv", csv)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = c.upload_without_script(&action, ("file", "o.csv", csv)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("1 line added"), "{}", r.body);
    assert!(r.body.contains("Did you mean WND-9999-BORDERX?"), "a SKU late in its prefix is found: {}", r.body);
    assert!(!r.body.contains("SECRET-77"), "never suggests what the account cannot buy: {}", r.body);
    assert!(c.get("/portal/quick-order").await.body.contains("Cart (1)"), "the header counts the cart");
}

#[tokio::test]
async fn quick_order_checks_without_adding_fixes_a_typo_in_one_click_and_goes_to_checkout() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_a.email).await;
    let page = c.get("/portal/quick-order").await.body;
    assert!(page.contains("name=\"lines\"") && page.contains(" autofocus>"), "the empty box has the focus: {page}");

    // Checking reads the box as placement would and adds nothing.
    let text = "GLV-1 5\nONE-11\t2\nBOX-10 15";
    let r = c.post("/portal/quick-order/check", &[("lines", text)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<strong>1 of 3 lines ready</strong>"), "{}", r.body);
    assert!(r.body.contains("2 need fixing"), "{}", r.body);
    assert!(r.body.contains("sold in multiples of 10"), "{}", r.body);
    assert!(r.body.contains("Did you mean ONE-1?"), "{}", r.body);
    assert!(r.body.contains("name=\"fix\" value=\"2 ONE-1\""), "the suggestion is one button: {}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0, "a check adds nothing");

    // The suggestion taken: that line gets the SKU it meant, with its quantity; checked again.
    let r = c.post("/portal/quick-order/check", &[("lines", text), ("fix", "2 ONE-1")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(">GLV-1 5\nONE-1\t2\nBOX-10 15</textarea>"), "{}", r.body);
    assert!(r.body.contains("<strong>2 of 3 lines ready</strong>"), "{}", r.body);
    assert!(!r.body.contains("id=\"qo-add-checkout\" autofocus"), "a line is still to fix: {}", r.body);
    // Every line ready after the fix: the focus goes to "Add all and check out".
    let r = c.post("/portal/quick-order/check", &[("lines", "GLV-1 5\nONE-11 2"), ("fix", "2 ONE-1")]).await;
    assert!(r.body.contains("<strong>2 of 2 lines ready</strong>"), "{}", r.body);
    assert!(r.body.contains("id=\"qo-add-checkout\" autofocus"), "{}", r.body);
    // A fix for a line that no longer names a SKU leaves the box as it is; a fix that is not a
    // SKU is refused; neither adds anything.
    let r = c.post("/portal/quick-order/check", &[("lines", "GLV-1 5"), ("fix", "4 ONE-1")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(">GLV-1 5</textarea>"), "{}", r.body);
    for bad in ["2 ONE 1", "two ONE-1"] {
        let r = c.post("/portal/quick-order/check", &[("lines", text), ("fix", bad)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let r = c.post("/portal/quick-order/check", &[("lines", "GLV-1\u{0} 5")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0);

    // "Add all and check out" with a line still wrong: the good lines are added, the page says
    // what to fix (no checkout yet).
    let r = c.post("/portal/quick-order", &[("lines", "GLV-1 5\nONE-11 2"), ("then", "checkout")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("1 line added to your cart; 1 needs fixing"), "{}", r.body);
    // Fixed: the rest is added and the buyer goes straight to checkout.
    let r = c.post("/portal/quick-order", &[("lines", "ONE-1 2"), ("then", "checkout")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/portal/checkout");
    let checkout = c.get("/portal/checkout").await;
    assert!(checkout.body.contains("GLV-1") && checkout.body.contains("ONE-1"), "{}", checkout.body);
    let token = checkout.attr("name=\"form_token\" value=\"");
    let r = c.post("/portal/checkout", &[("form_token", &token), ("po_number", "PO-QUICK")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM order_lines WHERE order_id = (SELECT id FROM orders WHERE po_number = 'PO-QUICK')"
        )
        .await,
        2
    );

    // Whoever may not order may not check either; another account's buyer sees only their catalog.
    let viewer = app.buyer(&f.a, "Vic Viewer", BuyerRole::Viewer).await;
    let mut v = app.signed_in(&viewer.email).await;
    assert_eq!(v.post("/portal/quick-order/check", &[("lines", "GLV-1 1")]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_desks_phone_order_acts_for_the_account_on_its_quick_order_and_places_a_phone_order() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut desk = app.signed_in(&f.desk.email).await;
    let found = desk.get("/desk?q=Alpha").await.body;
    let form = format!("action=\"/accounts/{}/act\"><input type=\"hidden\" name=\"_csrf\"", f.a);
    assert!(found.contains(&form), "{found}");
    assert!(found.contains("name=\"next\" value=\"/portal/quick-order\""), "{found}");
    assert!(found.contains("Phone order<span class=\"sr-only\"> for Alpha Clinic</span>"), "{found}");
    let r = desk.post(&format!("/accounts/{}/act", f.a), &[("next", "/portal/quick-order")]).await;
    assert_eq!(r.location(), "/portal/quick-order");
    let page = desk.get("/portal/quick-order").await.body;
    assert!(page.contains("Acting for <strong>Alpha Clinic</strong>"), "{page}");
    let r = desk.post("/portal/quick-order/check", &[("lines", "GLV-1 2\nONE-1 1")]).await;
    assert!(r.body.contains("<strong>2 of 2 lines ready</strong>"), "{}", r.body);
    let r = desk.post("/portal/quick-order", &[("lines", "GLV-1 2\nONE-1 1"), ("then", "checkout")]).await;
    assert_eq!(r.location(), "/portal/checkout");
    let token = desk.get("/portal/checkout").await.attr("name=\"form_token\" value=\"");
    let r = desk.post("/portal/checkout", &[("form_token", &token), ("po_number", "PO-PHONE")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM orders WHERE po_number = 'PO-PHONE' AND channel = 'phone' AND status = 'placed'"
        )
        .await,
        1,
        "one order, by the one pipeline, on the phone channel"
    );
}

#[tokio::test]
async fn viewers_see_orders_but_never_change_them() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.buyer_a.email).await;
    assert_eq!(web_checkout(&mut a, "GLV-1", "1", "").await.status, StatusCode::SEE_OTHER);
    let number = a.get("/portal/orders").await.attr("data-order=\"");
    let viewer = app.buyer(&f.a, "Vic Viewer", BuyerRole::Viewer).await;
    let mut v = app.signed_in(&viewer.email).await;
    let history = v.get("/portal/orders").await;
    assert!(history.body.contains(&number));
    assert!(!history.body.contains("/portal/reorder/"), "no Reorder button for a viewer");
    assert_eq!(v.get(&format!("/portal/orders/{number}")).await.status, StatusCode::OK);
    assert_eq!(v.get(&format!("/portal/orders/{number}/csv")).await.status, StatusCode::OK);
    for path in ["/portal/quick-order", "/portal/cart", "/portal/checkout", &format!("/portal/reorder/order/{number}")]
    {
        assert_eq!(v.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(v.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "1")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(v.post("/portal/quick-order", &[("lines", "GLV-1 1")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0);
}

#[tokio::test]
async fn a_past_order_goes_back_to_the_cart_at_todays_prices() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_a.email).await;
    assert_eq!(web_checkout(&mut c, "GLV-1", "3", "").await.status, StatusCode::SEE_OTHER);
    let number = c.get("/portal/orders").await.attr("data-order=\"");
    let review = c.get(&format!("/portal/reorder/order/{number}")).await;
    assert!(review.body.contains("Change it in the cart instead"));
    let r = c.post("/portal/reorder/to-cart", &[("source", &format!("order:{number}"))]).await;
    assert_eq!(r.location(), "/portal/cart");
    let cart = c.get("/portal/cart").await.body;
    assert!(cart.contains("data-sku=\"GLV-1\"") && cart.contains("value=\"3\""), "{cart}");
}

#[tokio::test]
async fn the_filtered_history_downloads_as_csv_of_the_buyers_own_orders() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.buyer_a.email).await;
    web_checkout(&mut a, "GLV-1", "2", "PO-ONE").await;
    web_checkout(&mut a, "BO-1", "1", "PO-TWO").await;
    let all = a.get("/portal/orders.csv").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body.lines().count(), 3, "header + one line per order line: {}", all.body);
    let one = a.get("/portal/orders.csv?po=PO-ONE").await.body;
    assert_eq!(one.lines().count(), 2);
    assert!(one.contains("PO-ONE") && one.contains("GLV-1") && !one.contains("PO-TWO"));
    let mut b = app.signed_in(&f.buyer_b.email).await;
    let theirs = b.get("/portal/orders.csv").await.body;
    assert_eq!(theirs.lines().count(), 1, "B's download holds none of A's orders");
}

/// Writes inside a unit of work are seen by the unit's later reads and kept at commit; a unit
/// whose statement fails (here a reservation beyond what is on hand, refused by the stock table's
/// CHECK) keeps nothing of what it wrote.
#[tokio::test]
async fn writes_in_a_unit_are_seen_by_its_later_reads_and_a_failing_one_keeps_nothing() {
    use portico::store::{audit, orders as order_store};
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let db = app.db();
    let one = products::get_by_sku(db, &Sku::parse("ONE-1").unwrap()).await.unwrap().unwrap();
    let (one_id, now) = (one.id.clone(), app.now());
    let (warehouse, on_hand, reserved_before, reserved_after) = common::write(db, move |tx| {
        Box::pin(async move {
            let rows = order_store::lock_stock(tx, std::slice::from_ref(&one_id)).await?;
            let row = rows.iter().max_by_key(|r| r.on_hand).unwrap();
            let (warehouse, on_hand) = (row.warehouse_id.clone(), row.on_hand);
            let before: i64 = rows.iter().map(|r| r.reserved).sum();
            order_store::reserve_many(tx, &[(one_id.clone(), warehouse.clone(), 40)], now).await?;
            let after = order_store::lock_stock(tx, std::slice::from_ref(&one_id)).await?;
            let reserved: i64 = after.iter().map(|r| r.reserved).sum();
            Ok((warehouse, on_hand, before, reserved))
        })
    })
    .await;
    assert_eq!(reserved_before, 0);
    assert_eq!(reserved_after, 40, "the reservation is visible to the unit's next read");
    assert_eq!(stock(&app, "ONE-1").await, (100, 40));

    let input = (one.id.clone(), warehouse, on_hand - 40 + 1, f.a.clone(), app.now());
    let err = db
        .write(input, |tx, (product, warehouse, quantity, account, now)| {
            Box::pin(async move {
                let entry = audit::AuditEntry {
                    at: *now,
                    actor_user_id: None,
                    on_behalf_of_account_id: Some(account),
                    channel: "system",
                    action: "test.failing_unit",
                    object_type: "product",
                    object_id: product,
                    before: None,
                    after: None,
                };
                audit::append(tx, &entry).await?;
                order_store::reserve_many(tx, &[(product.clone(), warehouse.clone(), *quantity)], *now).await?;
                Ok::<_, sqlx::Error>(())
            })
        })
        .await
        .expect_err("reserving one more than is available must fail");
    assert!(err.to_string().to_lowercase().contains("check"), "{err}");
    assert_eq!(stock(&app, "ONE-1").await, (100, 40), "nothing reserved");
    assert!(audit::for_object(db, "product", &one.id, 10).await.unwrap().is_empty(), "the audit row went too");
    // The writer is free again: the next placement goes through.
    let p = buyer(&f.buyer_a, &f.a);
    let placed = orders::place_order(db, app.now(), &Actor::web(&p), &req(&f.a, &[("ONE-1", 2)]), None, |o, _| {
        (201, o.id.clone())
    })
    .await;
    assert!(matches!(placed, Ok(Placement::Placed { .. })), "{placed:?}");
    assert_eq!(stock(&app, "ONE-1").await, (100, 42));
}

#[tokio::test]
async fn the_cart_and_checkout_show_what_ships_now_and_what_is_backordered() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let eta = portico::service::catalog::today(now) + time::Duration::days(10);
    let iso = pricing::format_iso(eta);
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let bo: String = tx.fetch_one("SELECT id FROM products WHERE sku = 'BO-1'", Vec::new()).await?;
            let chi: String = tx.fetch_one("SELECT id FROM warehouses WHERE code = 'CHI'", Vec::new()).await?;
            inventory::set_incoming(tx, &bo, &chi, 50, Some(&iso), now).await
        })
    })
    .await;
    let mut c = app.signed_in(&f.buyer_a.email).await;
    c.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "3")]).await;
    c.post("/portal/cart/add", &[("sku", "BO-1"), ("quantity", "5")]).await;
    let expected = format!("Backordered: 3, expected {}", portico::domain::pricing::format_date(eta));
    for page in ["/portal/cart", "/portal/checkout"] {
        let body = c.get(page).await.body;
        assert!(body.contains("Ships now: all"), "{page}: GLV-1 ships in full\n{body}");
        assert!(body.contains("Ships now: 2"), "{page}: BO-1 has 2 in stock\n{body}");
        assert!(body.contains(&expected), "{page}: the rest waits for the incoming stock\n{body}");
    }
    // More than there is of a product that cannot be backordered: the cart keeps the line (to fix
    // it there) with the reason an order would give, and the checkout cannot place it.
    let r = c.post("/portal/cart/set", &[("sku", "GLV-1"), ("quantity", "150")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cart = c.get("/portal/cart").await.body;
    assert!(cart.contains("data-sku=\"GLV-1\" data-issue=\"out_of_stock\""), "{cart}");
    assert!(cart.contains("not counting 1 line that cannot be ordered"), "{cart}");
    assert!(cart.contains("GLV-1: only 100 available; it cannot be backordered."), "{cart}");
    let checkout = c.get("/portal/checkout").await.body;
    assert!(checkout.contains("GLV-1: only 100 available; it cannot be backordered."), "{checkout}");
    assert!(checkout.contains("id=\"place-order\" disabled"), "{checkout}");
}

#[tokio::test]
async fn quote_cart_and_placement_give_the_same_reasons() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let p = buyer(&f.buyer_a, &f.a);
    let actor = Actor::web(&p);
    let asked = [("BOX-10", 15), ("NOPE-1", 1), ("GLV-1", 0), ("ONE-1", 1_000_001)];
    let quoted = portico::service::catalog::quote(
        app.db(),
        now,
        &actor,
        &f.a,
        &asked.iter().map(|(s, q)| (s.to_string(), *q)).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let from_quote: Vec<(&str, String)> = quoted
        .iter()
        .map(|l| match &l.outcome {
            portico::service::catalog::QuoteOutcome::Refused { code, reason } => (*code, reason.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let Err(ServiceError::Blocked(placed)) =
        orders::place_order(app.db(), now, &actor, &req(&f.a, &asked), None, |o, _| (201, o.id.clone())).await
    else {
        panic!("refused")
    };
    let from_placement: Vec<(&str, String)> = placed.iter().map(|i| (i.code, i.message.clone())).collect();
    assert_eq!(from_quote, from_placement);
    let codes: Vec<&str> = from_quote.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, vec!["not_multiple", "unknown_sku", "quantity", "quantity_too_large"]);
    let lines: Vec<LineInput> = asked.iter().map(|(s, q)| LineInput::sku(s, *q)).collect();
    let (added, _) = portico::service::carts::add_to_cart(app.db(), now, &actor, &f.a, &lines).await.unwrap();
    let from_cart: Vec<(&str, String)> = added.issues.iter().map(|i| (i.code, i.message.clone())).collect();
    assert_eq!(from_cart, from_placement);
    // A quote keeps the price of a line that could not ship, and says why an order would be refused.
    let short = portico::service::catalog::quote(app.db(), now, &actor, &f.a, &[("ONE-1".into(), 101)]).await.unwrap();
    assert!(matches!(short[0].outcome, portico::service::catalog::QuoteOutcome::Priced { .. }));
    let blocked = short[0].blocked_by.as_ref().unwrap();
    assert_eq!(
        (blocked.code, blocked.message.as_str()),
        ("out_of_stock", "ONE-1: only 100 available; it cannot be backordered.")
    );
    assert_eq!(short[0].stock.as_ref().map(|s| (s.ships_now, s.short)), Some((100, 1)));
}

#[tokio::test]
async fn an_amendment_counts_the_stock_its_order_holds() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let p = buyer(&f.buyer_a, &f.a);
    let Placement::Placed { order, .. } =
        orders::place_order(app.db(), now, &Actor::web(&p), &req(&f.a, &[("ONE-1", 100)]), None, |o, _| {
            (201, o.id.clone())
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(stock(&app, "ONE-1").await, (100, 100));
    let desk = staff(&f.desk, &[StaffRole::CustomerService]);
    let amend = |qty: i64, version: i64| orders::Amendment {
        expected_version: version,
        lines: vec![LineInput::sku("ONE-1", qty), LineInput::sku("GLV-1", 1)],
        header: OrderHeader::default(),
        reason: "Customer called".into(),
    };
    // All the stock is this order's own: it may keep it (and add a line).
    orders::amend_order(app.db(), now, &Actor::web(&desk), &order.number, &amend(100, 1)).await.unwrap();
    assert_eq!(stock(&app, "ONE-1").await, (100, 100));
    // One more than exists is refused with the usual reason.
    let Err(ServiceError::Blocked(issues)) =
        orders::amend_order(app.db(), now, &Actor::web(&desk), &order.number, &amend(101, 2)).await
    else {
        panic!()
    };
    assert_eq!(issues[0].code, "out_of_stock");
    assert_eq!(issues[0].message, "ONE-1: only 100 available; it cannot be backordered.");
}
