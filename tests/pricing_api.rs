//! Price lists and contracts upserted over the API as whole documents: created, unchanged on a
//! repeat, changed prices take effect for the account at once; bad documents report every
//! problem and change nothing.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use portico::domain::auth::{Principal, Scope, StaffRole};
use portico::service::Actor;
use portico::store::catalogs;
use portico::store::new_id;
use portico::store::products::{self, ProductInput};
use serde_json::{Value, json};

async fn setup(app: &TestApp) -> String {
    let now = app.now();
    app.account("Alpha Clinic", None).await;
    app.account("Beta Labs", None).await;
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for sku in ["GLV-1", "BOX-10"] {
                products::upsert(tx, &new_id(), &ProductInput::new(sku, sku), now).await?;
            }
            catalogs::insert_catalog(tx, &new_id(), "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            Ok(())
        })
    })
    .await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(
        app.db(),
        now,
        &Actor::web(&p),
        "ERP",
        &[Scope::PricingWrite, Scope::PricingRead],
    )
    .await
    .unwrap()
    .1
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.send(req).await;
    (res.status, serde_json::from_str(&res.body).unwrap_or(Value::Null))
}

async fn quoted(app: &TestApp, token: &str, account: &str, sku: &str, qty: i64) -> Value {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/api/v1/accounts/{account}/price-quote"),
        token,
        json!({ "lines": [{ "sku": sku, "quantity": qty }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["lines"][0].clone()
}

#[tokio::test]
async fn contracts_are_upserted_whole_and_take_effect_at_once() {
    let app = TestApp::new().await;
    let t = setup(&app).await;
    let doc = json!({ "account": "A-10001", "name": "Gloves deal", "valid_to": "2099-12-31",
        "prices": [{ "sku": "glv-1", "unit_price": "7.25" }, { "sku": "GLV-1", "min_qty": 100, "unit_price": "6.50" }] });
    let (s, b) = call(&app, Method::PUT, "/api/v1/contracts/C-900", &t, doc.clone()).await;
    assert_eq!(
        (s, b["created"].as_bool(), b["changed"].as_bool()),
        (StatusCode::CREATED, Some(true), Some(true)),
        "{b}"
    );
    let (s, b) = call(&app, Method::PUT, "/api/v1/contracts/C-900", &t, doc.clone()).await;
    assert_eq!((s, b["changed"].as_bool()), (StatusCode::OK, Some(false)), "the same document changes nothing");
    assert_eq!(quoted(&app, &t, "A-10001", "GLV-1", 100).await["unit_price"], "6.50");
    assert_eq!(quoted(&app, &t, "A-10002", "GLV-1", 100).await["unit_price"], Value::Null, "B never sees A's contract");
    // Dropping the volume tier removes it.
    let (_, b) = call(
        &app,
        Method::PUT,
        "/api/v1/contracts/C-900",
        &t,
        json!({ "account": "A-10001", "name": "Gloves deal",
        "valid_to": "2099-12-31", "prices": [{ "sku": "GLV-1", "unit_price": "7.00" }] }),
    )
    .await;
    assert_eq!(b["changed"], true);
    assert_eq!(quoted(&app, &t, "A-10001", "GLV-1", 100).await["unit_price"], "7.00");
    assert_eq!(app.count("SELECT COUNT(*) FROM contract_prices").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'prices.changed'").await, 2);
}

#[tokio::test]
async fn a_bad_pricing_document_reports_everything_and_changes_nothing() {
    let app = TestApp::new().await;
    let t = setup(&app).await;
    call(&app, Method::PUT, "/api/v1/contracts/C-900", &t, json!({ "account": "A-10001", "prices": [] })).await;
    let (s, b) = call(&app, Method::PUT, "/api/v1/contracts/C-900", &t, json!({ "account": "A-10002",
        "valid_from": "2027-01-01", "valid_to": "2026-01-01",
        "prices": [{ "sku": "NOPE", "unit_price": "1" }, { "sku": "GLV-1", "unit_price": "-1" },
                   { "sku": "BOX-10", "min_qty": 0, "unit_price": "1" }, { "sku": "GLV-1", "min_qty": 5, "unit_price": "x" },
                   { "sku": "BOX-10", "min_qty": 5, "unit_price": "2" }, { "sku": "BOX-10", "min_qty": 5, "unit_price": "3" }] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let fields: Vec<&str> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in [
        "account",
        "valid_to",
        "prices[0].sku",
        "prices[1].unit_price",
        "prices[2].min_qty",
        "prices[3].unit_price",
        "prices[5]",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM contract_prices").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM contracts WHERE valid_from IS NOT NULL").await, 0);
}

#[tokio::test]
async fn price_lists_are_upserted_with_their_assignments() {
    let app = TestApp::new().await;
    let t = setup(&app).await;
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/price-lists/vip",
        &t,
        json!({ "name": "VIP", "priority": 10,
        "accounts": ["A-10002"], "prices": [{ "sku": "BOX-10", "unit_price": "0.0125" }] }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let line = quoted(&app, &t, "A-10002", "BOX-10", 3).await;
    assert_eq!(line["unit_price"], "0.0125");
    assert_eq!(line["explanation"]["source"], "account_list");
    assert_eq!(quoted(&app, &t, "A-10001", "BOX-10", 3).await["unit_price"], Value::Null);
    let (s, b) = call(
        &app,
        Method::PUT,
        "/api/v1/price-lists/VIP",
        &t,
        json!({ "name": "VIP", "priority": 10,
        "prices": [{ "sku": "BOX-10", "unit_price": "0.0125" }] }),
    )
    .await;
    assert_eq!((s, b["changed"].as_bool()), (StatusCode::OK, Some(false)));
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/price-lists/VIP",
        &t,
        json!({ "name": "VIP", "groups": ["Nobody"], "prices": [] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(quoted(&app, &t, "A-10002", "BOX-10", 3).await["unit_price"], "0.0125", "unchanged after a refusal");
}

#[tokio::test]
async fn staff_edit_contracts_and_price_lists_on_pages() {
    let app = TestApp::new().await;
    let t = setup(&app).await;
    call(&app, Method::PUT, "/api/v1/price-lists/BASE", &t, json!({ "name": "List", "priority": 1000, "accounts": ["A-10002"], "prices": [{ "sku": "GLV-1", "unit_price": "10" }] })).await;
    let admin = app.staff("Pat Pricing", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let page = c.get("/admin/pricing").await;
    assert!(page.body.contains("/admin/pricing/lists/BASE"));
    // A new contract, then its prices as a whole.
    let r = c.post("/admin/pricing", &[("number", "C-77"), ("account", "A-10001")]).await;
    assert_eq!(r.location(), "/admin/pricing/contracts/C-77?notice=saved");
    let r = c
        .post(
            "/admin/pricing/contracts/C-77",
            &[("name", "Spring deal"), ("valid_to", "2099-01-01"), ("lines", "GLV-1, 1, 8.00\nGLV-1, 50, 7.50")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(quoted(&app, &t, "A-10001", "GLV-1", 60).await["unit_price"], "7.50");
    let page = c.get("/admin/pricing/contracts/C-77").await.body;
    assert!(page.contains("GLV-1, 50, 7.50") && page.contains("Spring deal"));
    // A bad line changes nothing and says why.
    let r = c.post("/admin/pricing/contracts/C-77", &[("lines", "GLV-1, 1, -3")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(quoted(&app, &t, "A-10001", "GLV-1", 60).await["unit_price"], "7.50");
    // A price list: set a tier, then remove it; the rest stays.
    let r = c
        .post("/admin/pricing/lists/BASE/prices", &[("lines", "BOX-10, 1, 2.00\nGLV-1, 10, 9.00"), ("action", "set")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(quoted(&app, &t, "A-10002", "GLV-1", 10).await["unit_price"], "9.00");
    c.post("/admin/pricing/lists/BASE/prices", &[("lines", "GLV-1, 10, 0"), ("action", "remove")]).await;
    assert_eq!(quoted(&app, &t, "A-10002", "GLV-1", 10).await["unit_price"], "10.00");
    assert_eq!(quoted(&app, &t, "A-10002", "BOX-10", 1).await["unit_price"], "2.00");
    // Reps cannot.
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut r = app.signed_in(&rep.email).await;
    assert_eq!(r.get("/admin/pricing").await.status, StatusCode::FORBIDDEN);
}
