//! Every number has bounds and every text the one rule (no control characters), the same on
//! every channel and both backends (DESIGN.md invariant 8): out of bounds or with a control
//! character is a 422 naming the field (the API), the field's error on the form (pages), or the
//! line and column (CSV) — and nothing changes.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::import::RowError;
use portico::service::Actor;
use portico::service::imports::ImportError;
use portico::store::products::ProductInput;
use serde_json::{Value, json};

async fn api(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> (TestResponse, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.send(req).await;
    let json = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    (res, json)
}

/// The fields a problem document names.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn admin() -> Principal {
    Principal::staff("cli-test".into(), "Test".into(), String::new(), vec![StaffRole::Admin])
}

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    let a = app.staff(&format!("Admin {}", &portico::store::new_id()[30..]), &[StaffRole::Admin]).await;
    let p = Principal::staff(a.id, a.name, a.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", scopes).await.unwrap().1
}

/// GLV-1 (ERP id ERP-GLV-1) with 50 on hand in CHI, in the default catalog at 10.00; an account
/// with a buyer. Returns the account id.
async fn fixture(app: &TestApp) -> String {
    let glv = ProductInput { external_id: Some("ERP-GLV-1".into()), ..ProductInput::new("GLV-1", "Nitrile gloves") };
    common::sell(app.db(), app.now(), vec![(glv, "10.00", 50)]).await;
    app.account("Alpha Clinic", None).await
}

async fn on_hand(app: &TestApp) -> i64 {
    app.count("SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM stock_levels").await
}

#[tokio::test]
async fn stock_numbers_out_of_bounds_are_422_naming_the_field_and_change_nothing() {
    let app = TestApp::new().await;
    let account = fixture(&app).await;
    let t = token(&app, &[Scope::StockWrite]).await;
    let level = |n: i64| json!({ "on_hand": n, "reason": "ERP sync" });
    let adjust = |d: i64| json!({ "sku": "GLV-1", "warehouse": "CHI", "delta": d, "reason": "ERP sync" });
    let (r, body) = api(&app, Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", &t, level(i64::MAX)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&body), vec!["on_hand"], "{}", r.body);
    assert!(r.body.contains("from 0 to 1,000,000,000"), "{}", r.body);
    for (delta, why) in [(i64::MAX, "huge"), (i64::MIN, "hugely negative"), (1_000_000_000, "past the level bound")] {
        let (r, body) = api(&app, Method::POST, "/api/v1/stock/adjustments", &t, adjust(delta)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {}", r.body);
        assert_eq!(fields(&body), vec!["delta"], "{why}: {}", r.body);
    }
    assert_eq!(on_hand(&app).await, 50, "nothing changed");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'stock.%'").await, 0);

    // The bounds themselves are accepted, and buyers' pages listing the product still work.
    let (r, _) = api(&app, Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", &t, level(1_000_000_000)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (r, _) = api(&app, Method::POST, "/api/v1/stock/adjustments", &t, adjust(-1_000_000_000)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    api(&app, Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", &t, level(1_000_000_000)).await;
    let buyer = app.buyer(&account, "Ann", BuyerRole::Buyer).await;
    let mut c = app.signed_in(&buyer.email).await;
    for page in ["/portal/catalog", "/portal/catalog?q=glv", "/portal/products/GLV-1"] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
    }
}

#[tokio::test]
async fn api_numbers_out_of_bounds_name_the_field() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let t = token(&app, &[Scope::CatalogWrite, Scope::PricingWrite]).await;
    let product = json!({ "name": "Gauze", "min_qty": 2_000_000, "pack_size": i64::MAX, "max_qty": i64::MAX });
    let (r, body) = api(&app, Method::PUT, "/api/v1/products/GZ-1", &t, product).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for f in ["min_qty", "pack_size", "max_qty"] {
        assert!(fields(&body).contains(&f.to_string()), "{f} in {}", r.body);
    }
    let list = json!({ "name": "West", "priority": i64::MAX, "prices": [
        { "sku": "GLV-1", "unit_price": "1000000000000" },
        { "sku": "GLV-1", "min_qty": 2_000_000, "unit_price": "1.00" },
    ]});
    let (r, body) = api(&app, Method::PUT, "/api/v1/price-lists/WEST", &t, list).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for f in ["priority", "prices[0].unit_price", "prices[1].min_qty"] {
        assert!(fields(&body).contains(&f.to_string()), "{f} in {}", r.body);
    }
    assert!(r.body.contains("at most 999999999999.99"), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE sku = 'GZ-1'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM price_lists WHERE code = 'WEST'").await, 0);
    // The largest price is accepted.
    let list = json!({ "name": "West", "prices": [{ "sku": "GLV-1", "unit_price": "999999999999.99" }] });
    let (r, _) = api(&app, Method::PUT, "/api/v1/price-lists/WEST", &t, list).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

fn invalid(result: Result<impl std::fmt::Debug, ImportError>) -> Vec<RowError> {
    match result {
        Err(ImportError::Invalid(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn at(errors: &[RowError], line: u64, column: &str) -> bool {
    errors.iter().any(|e| e.line == line && e.column == column)
}

#[tokio::test]
async fn csv_numbers_out_of_bounds_name_the_line_and_column() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let p = admin();
    let actor = Actor::cli(&p);
    let csv = "price_list,priority,sku,min_qty,unit_price\nWEST,,GLV-1,1,1000000000000\nWEST,,GLV-1,2000000,1.00\nWEST,99999999999,GLV-1,5,1.00\n";
    let r =
        portico::service::price_list_imports::import_price_lists(app.db(), app.now(), &actor, csv.as_bytes(), |_| {})
            .await;
    let errors = invalid(r);
    assert!(at(&errors, 2, "unit_price") && at(&errors, 3, "min_qty") && at(&errors, 4, "priority"), "{errors:?}");
    assert!(errors.iter().any(|e| e.reason.contains("999999999999.99")), "{errors:?}");
    let csv = "sku,warehouse,on_hand,incoming\nGLV-1,CHI,9223372036854775807,\nGLV-1,CHI,5,1000000001\n";
    let errors = invalid(
        portico::service::stock_imports::import_stock(app.db(), app.now(), &actor, csv.as_bytes(), |_| {}).await,
    );
    assert!(at(&errors, 2, "on_hand") && at(&errors, 3, "incoming"), "{errors:?}");
    let csv = "sku,name,pack_size,min_qty\nGZ-1,Gauze,9999999999,\nGZ-2,Gauze,,9999999999\n";
    let errors = invalid(
        portico::service::product_imports::import_products(app.db(), app.now(), &actor, csv.as_bytes(), |_| {}).await,
    );
    assert!(at(&errors, 2, "pack_size") && at(&errors, 3, "min_qty"), "{errors:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM price_lists WHERE code = 'WEST'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 1);
    assert_eq!(on_hand(&app).await, 50);
}

#[tokio::test]
async fn a_control_character_in_an_api_order_is_422_naming_the_field() {
    let app = TestApp::new().await;
    let account = fixture(&app).await;
    let t = token(&app, &[Scope::OrdersWrite]).await;
    let order = |po: &str, notes: &str, line: Value| json!({ "account": account, "po_number": po, "notes": notes, "lines": [line] });
    let glv = json!({ "sku": "GLV-1", "quantity": 1 });
    for (body, field) in [
        (order("PO\u{0}1", "", glv.clone()), "po_number"),
        (order("PO-1", "call\u{0}first", glv.clone()), "notes"),
        (order("PO-1", "ring \u{7} twice", glv.clone()), "notes"),
        (order("PO-1", "", json!({ "sku": "GLV\u{0}-1", "quantity": 1 })), "lines[0].sku"),
        (order("PO-1", "", json!({ "external_id": "ERP\u{0}", "quantity": 1 })), "lines[0].external_id"),
        (order("PO\u{9b}1", "", glv.clone()), "po_number"),
        (json!({ "account": "A-\u{0}", "lines": [glv] }), "account"),
    ] {
        let (r, problem) = api(&app, Method::POST, "/api/v1/orders", &t, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        assert_eq!(fields(&problem), vec![field.to_string()], "{}", r.body);
    }
    // An id that cannot exist names nothing.
    let (r, _) = api(&app, Method::GET, "/api/v1/orders/SO-%00", &t, Value::Null).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0, "nothing placed");
    // Notes may span lines.
    let (r, body) = api(&app, Method::POST, "/api/v1/orders", &t, order("PO-1", "Dock 4\r\n\tafter 2 pm", glv)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(body["notes"], "Dock 4\r\n\tafter 2 pm");
}

#[tokio::test]
async fn a_control_character_in_a_csv_cell_names_the_line_and_column() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let p = admin();
    let actor = Actor::cli(&p);
    let csv = "sku,name,description,external_id\nGZ-1,Gauze,\"Sterile,\nten per box\",ERP-1\nGZ-2,Gau\u{0}ze,,\nGZ-3,Gauze,,ERP\u{1b}3\n";
    let errors = invalid(
        portico::service::product_imports::import_products(app.db(), app.now(), &actor, csv.as_bytes(), |_| {}).await,
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(at(&errors, 4, "name") && at(&errors, 5, "external_id"), "{errors:?}");
    assert!(errors[0].reason.contains("U+0000"), "{errors:?}");
    let csv = "sku,warehouse,on_hand\nGLV-1,CH\u{0}I,5\n";
    let errors = invalid(
        portico::service::stock_imports::import_stock(app.db(), app.now(), &actor, csv.as_bytes(), |_| {}).await,
    );
    assert!(at(&errors, 2, "warehouse"), "{errors:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 1, "nothing imported");
    assert_eq!(on_hand(&app).await, 50);
}

#[tokio::test]
async fn a_page_form_with_a_control_character_shows_the_error_and_saves_nothing() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let before = app.count("SELECT COUNT(*) FROM accounts").await;
    let res = c
        .post(
            "/admin/accounts/new",
            &[
                ("name", "Bluewater\u{0} Marine"),
                ("status", "active"),
                ("ownership_mode", "self_service"),
                ("terms", "net30"),
                ("credit_limit", "1000000000000"),
                ("bill_line1", "10 Harbor Rd"),
                ("bill_city", "Duluth\u{7f}"),
                ("bill_postal_code", "55802"),
                ("bill_country", "US"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    for msg in [
        "name contains a control character (U+0000)",
        "bill_city contains a control character (U+007F)",
        "Credit limit: amount is too large",
    ] {
        assert!(res.body.contains(msg), "{msg} missing in {}", res.body);
    }
    // Next to its field, too.
    assert!(res.body.contains("<span class=\"field-error\">name contains a control character"), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, before, "nothing saved");
}
