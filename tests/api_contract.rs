//! The API says exactly what it does: every error is `application/problem+json` with its status
//! (a rejected query string, an unknown path under /api/v1, a method a path does not serve, a bad
//! JSON body, a missing token), input outside the document's bounds is refused naming the field
//! and changes nothing, and the document declares each error status as problem+json and the
//! bounds the server holds requests to. (`.ci/fuzz` checks the same against the served document
//! with schemathesis; this is the part that runs with `cargo test`, on both databases.)

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{Principal, Scope, StaffRole};
use portico::service::Actor;
use portico::store::new_id;
use portico::store::products::ProductInput;
use serde_json::{Value, json};

async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<&str>) -> TestResponse {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    app.send(b.body(Body::from(body.unwrap_or_default().to_string())).unwrap()).await
}

async fn token(app: &TestApp) -> String {
    let admin = app.staff(&format!("Admin {}", &new_id()[30..]), &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", &Scope::ALL).await.unwrap().1
}

/// The response is a problem document with this status; returns it.
fn problem(res: &TestResponse, status: StatusCode, what: &str) -> Value {
    assert_eq!(res.status, status, "{what}: {}", res.body);
    assert_eq!(res.headers["content-type"], "application/problem+json", "{what}");
    let p: Value = serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("{what}: not JSON: {}", res.body));
    assert_eq!(p["status"], status.as_u16(), "{what}");
    assert!(p["title"].is_string() && p["detail"].is_string(), "{what}: {p}");
    p
}

fn fields(p: &Value) -> Vec<String> {
    p["errors"].as_array().into_iter().flatten().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let app = TestApp::new().await;
    let raw = token(&app).await;
    let t = Some(raw.as_str());

    // A body over 2 MB: 413, as a problem.
    let big = format!(r#"{{"account":"A-1","lines":[],"notes":"{}"}}"#, "x".repeat(3 << 20));
    let p = problem(
        &send(&app, Method::POST, "/api/v1/orders", t, Some(&big)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "3 MB body",
    );
    assert!(p["detail"].as_str().unwrap().contains("2 MB"), "{p}");

    // A query string the route cannot read names the parameter (it was a text/plain 400).
    let p = problem(
        &send(&app, Method::GET, "/api/v1/products?limit=abc", t, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad limit",
    );
    assert_eq!(fields(&p), vec!["limit"]);
    let p = problem(
        &send(&app, Method::GET, "/api/v1/orders?updated_since=4.5e-114", t, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad updated_since",
    );
    assert_eq!(fields(&p), vec!["updated_since"]);
    // Out of the documented bounds: refused, not clamped.
    let p = problem(
        &send(&app, Method::GET, "/api/v1/products?limit=501", t, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "limit above 500",
    );
    assert_eq!(fields(&p), vec!["limit"]);
    let p = problem(
        &send(&app, Method::DELETE, "/api/v1/categories", t, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no path",
    );
    assert_eq!(fields(&p), vec!["path"]);
    problem(
        &send(&app, Method::GET, "/api/v1/orders?cursor=zz", t, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a cursor",
    );

    // Unknown paths under /api/ (it was an HTML page for some).
    for path in ["/api/v1/no-such-thing", "/api/v1/products/GLV-1/extra", "/api/v2/products", "/api/"] {
        problem(&send(&app, Method::GET, path, t, None).await, StatusCode::NOT_FOUND, path);
    }

    // A method the path does not serve: 405 with a body and the Allow header (it had no body).
    let res = send(&app, Method::PATCH, "/api/v1/products", t, None).await;
    problem(&res, StatusCode::METHOD_NOT_ALLOWED, "PATCH /api/v1/products");
    assert!(res.headers["allow"].to_str().unwrap().contains("GET"), "{:?}", res.headers);
    let res = send(&app, Method::DELETE, "/api/v1/orders", None, None).await;
    problem(&res, StatusCode::METHOD_NOT_ALLOWED, "DELETE /api/v1/orders");
    let allow = res.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    // Bodies: not JSON, not an object, a field of the wrong type, no content type.
    for (body, field) in [("{", "body"), ("[]", "body"), (r#"{"path": 5}"#, "path")] {
        let p = problem(
            &send(&app, Method::PUT, "/api/v1/categories", t, Some(body)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            body,
        );
        assert_eq!(fields(&p), vec![field], "{body}");
    }
    let no_type = Request::put("/api/v1/categories")
        .header("authorization", format!("Bearer {raw}"))
        .body(Body::from(r#"{"path": "A"}"#))
        .unwrap();
    problem(&app.send(no_type).await, StatusCode::UNPROCESSABLE_ENTITY, "no content type");

    // No token, and an unknown one.
    let res = send(&app, Method::GET, "/api/v1/orders", None, None).await;
    problem(&res, StatusCode::UNAUTHORIZED, "no token");
    assert_eq!(res.headers["www-authenticate"], "Bearer");
    problem(
        &send(&app, Method::GET, "/api/v1/orders", Some("pt_unknown"), None).await,
        StatusCode::UNAUTHORIZED,
        "bad token",
    );

    // An unknown id.
    problem(
        &send(&app, Method::GET, "/api/v1/orders/SO-999999", t, None).await,
        StatusCode::NOT_FOUND,
        "unknown order",
    );
}

#[tokio::test]
async fn input_outside_the_documented_bounds_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let account = app.account("Alpha Clinic", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "5.00", 100)]).await;
    let t = token(&app).await;
    let t = Some(t.as_str());
    let audit = || app.count("SELECT COUNT(*) FROM audit_log");
    let before = audit().await;

    let cases: Vec<(Method, &str, Value, &str)> = vec![
        (Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", json!({"on_hand": i64::MAX, "reason": "count"}), "on_hand"),
        (Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", json!({"on_hand": -1, "reason": "count"}), "on_hand"),
        (
            Method::POST,
            "/api/v1/stock/adjustments",
            json!({"sku": "GLV-1", "warehouse": "CHI", "delta": 1_000_000_001, "reason": "x"}),
            "delta",
        ),
        (
            Method::POST,
            "/api/v1/orders",
            json!({"account": account, "lines": [{"sku": "GLV-1", "quantity": 1_000_001}]}),
            // The pipeline's own refusal, as every channel gives it (code `quantity_too_large`).
            "lines[0]",
        ),
        (
            Method::POST,
            "/api/v1/orders",
            json!({"account": account, "lines": [{"sku": "GLV-1", "quantity": 1}], "po_number": "PO\u{0}1"}),
            "po_number",
        ),
        (
            Method::POST,
            "/api/v1/orders",
            json!({"account": account, "lines": [{"sku": "GLV-1", "quantity": 1}], "requested_date": "2025-02-30"}),
            "requested_date",
        ),
        (
            Method::PUT,
            "/api/v1/price-lists/EAST",
            json!({"name": "East", "prices": [{"sku": "GLV-1", "unit_price": "1234567890123.00"}]}),
            "prices[0].unit_price",
        ),
        (Method::PUT, "/api/v1/price-lists/EAST", json!({"name": "East", "priority": -1, "prices": []}), "priority"),
        (Method::PUT, "/api/v1/products/NEW-1", json!({"name": "New", "pack_size": 0}), "pack_size"),
        (Method::PUT, "/api/v1/categories", json!({"path": "Dental", "sort": 1_000_001}), "sort"),
    ];
    for (method, path, body, field) in cases {
        let res = send(&app, method.clone(), path, t, Some(&body.to_string())).await;
        let p = problem(&res, StatusCode::UNPROCESSABLE_ENTITY, &format!("{method} {path} {body}"));
        assert!(fields(&p).contains(&field.to_string()), "{method} {path}: {field} not in {p}");
    }
    assert_eq!(audit().await, before, "nothing changed");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);

    // A whole number written with a zero fraction is the number (JSON Schema counts it an integer).
    let res =
        send(&app, Method::PUT, "/api/v1/stock/levels/GLV-1/CHI", t, Some(r#"{"on_hand": 250.0, "reason": "count"}"#))
            .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(serde_json::from_str::<Value>(&res.body).unwrap()["on_hand"], 250);
    // A reference with a control character names nothing: 404, before any query (PostgreSQL
    // refuses a NUL).
    problem(&send(&app, Method::GET, "/api/v1/products/GLV%001", t, None).await, StatusCode::NOT_FOUND, "NUL in a SKU");
    problem(
        &send(&app, Method::GET, "/api/v1/orders?account=A%00", t, None).await,
        StatusCode::NOT_FOUND,
        "NUL account",
    );
}

#[tokio::test]
async fn the_document_declares_every_error_as_a_problem_and_the_bounds() {
    let app = TestApp::new().await;
    let res = app.send(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    let doc: Value = serde_json::from_str(&res.body).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if op.get("security").is_some() {
                for status in ["401", "403", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} does not declare {status}");
                }
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("413"), "{method} {path} does not declare 413");
            }
            for (status, response) in responses {
                // Only an empty success (204 deleted, 202 queued) has no body.
                if matches!(status.as_str(), "202" | "204") && response.get("content").is_none() {
                    continue;
                }
                let content = response["content"].as_object().unwrap();
                if status.as_str() >= "400" {
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        vec!["application/problem+json"],
                        "{method} {path} {status}"
                    );
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                } else {
                    let expected = if path.ends_with("/pdf") {
                        "application/pdf"
                    } else if path.starts_with("/api/v1/exports/") {
                        "text/csv"
                    } else {
                        "application/json"
                    };
                    assert_eq!(content.keys().collect::<Vec<_>>(), vec![expected], "{method} {path} {status}");
                }
            }
        }
    }
    let schema = |name: &str, field: &str| doc["components"]["schemas"][name]["properties"][field].clone();
    assert_eq!(
        (schema("StockLevelIn", "on_hand")["minimum"].clone(), schema("StockLevelIn", "on_hand")["maximum"].clone()),
        (json!(0), json!(1_000_000_000))
    );
    assert_eq!(schema("StockAdjustmentIn", "delta")["minimum"], json!(-1_000_000_000));
    assert_eq!(schema("OrderLineIn", "quantity")["maximum"], json!(1_000_000));
    assert_eq!(schema("PriceIn", "unit_price")["pattern"], r"^[0-9]{1,12}(\.[0-9]{1,4})?$");
    assert!(schema("OrderIn", "po_number")["pattern"].as_str().unwrap().contains(r"\u0000-\u001F"));
    assert_eq!(schema("OrderIn", "po_number")["maxLength"], 64);
}
