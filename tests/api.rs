//! The JSON API: tokens and scopes, problem+json errors, products, stock, batch price quotes and
//! their isolation between accounts, and the OpenAPI document.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::catalog::QuantityRules;
use portico::domain::money::Money;
use portico::service::Actor;
use portico::store::new_id;
use portico::store::pricing::{self, NewContract, NewPriceList};
use portico::store::products::{self, ProductInput};
use portico::store::{catalogs, categories};
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (TestResponse, Value) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let res = app.send(b.body(Body::from(body.map(|v| v.to_string()).unwrap_or_default())).unwrap()).await;
    let json = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    (res, json)
}

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    let admin = app.staff(&format!("Admin {}", &new_id()[30..]), &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP sync", scopes).await.unwrap().1
}

struct Fixture {
    a: String,
    b: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let now = app.now();
    let a = app.account("Alpha Clinic", None).await;
    let b = app.account("Beta Labs", None).await;
    let (a2, b2) = (a.clone(), b.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let (a, b) = (a2, b2);
            portico::store::accounts::set_group(tx, &b, None).await?;
            let cat = new_id();
            categories::insert_category(tx, &cat, None, "Medical", "Medical", 0, now).await?;
            let mut ids = Vec::new();
            for (sku, rules) in [
                ("GLV-1", QuantityRules::default()),
                ("BOX-10", QuantityRules { min: 10, multiple: 10, max: Some(100) }),
            ] {
                let input = ProductInput {
                    category_id: Some(cat.clone()),
                    rules,
                    ..ProductInput::new(sku, &format!("Item {sku}"))
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
            pricing::set_list_price(tx, &base, &ids[0], 1, Money::parse("10.00").unwrap()).await?;
            pricing::set_list_price(tx, &base, &ids[0], 100, Money::parse("8.00").unwrap()).await?;
            pricing::set_list_price(tx, &base, &ids[1], 1, Money::parse("0.0125").unwrap()).await?;
            let k = new_id();
            pricing::insert_contract(
                tx,
                &NewContract {
                    id: &k,
                    number: "C-77",
                    account_id: &a,
                    name: "Deal",
                    valid_from: None,
                    valid_to: Some("2099-12-31"),
                },
                now,
            )
            .await?;
            pricing::set_contract_price(tx, &k, &ids[0], 1, Money::parse("7.25").unwrap()).await?;
            let catalog = new_id();
            catalogs::insert_catalog(tx, &catalog, "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            portico::store::inventory::insert_warehouse(tx, &new_id(), "CHI", "Chicago", 0, now).await?;
            Ok(())
        })
    })
    .await;
    Fixture { a, b }
}

#[tokio::test]
async fn tokens_authenticate_with_scopes_and_can_be_revoked() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let (res, body) = call(&app, Method::GET, "/api/v1/products", None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers.get("content-type").unwrap(), "application/problem+json");
    assert_eq!(res.headers.get("www-authenticate").unwrap(), "Bearer");
    assert_eq!(body["status"], 401);
    let (res, _) = call(&app, Method::GET, "/api/v1/products", Some("pt_nonsense"), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Created through the admin page: shown once, hashed at rest.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let page = c.post("/admin/api-tokens", &[("name", "ERP"), ("scope_catalog:read", "1")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let raw = page.text_after("id=\"new-token\">").unwrap();
    assert!(raw.starts_with("pt_"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE 'pt_%'").await,
        0,
        "only the hash is stored"
    );
    let (res, body) = call(&app, Method::GET, "/api/v1/products", Some(&raw), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(body["products"].as_array().unwrap().len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL").await, 1);
    // Read-only scope: writes are forbidden.
    let (res, _) = call(&app, Method::PUT, "/api/v1/products/NEW-1", Some(&raw), Some(json!({"name": "New"}))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let (res, _) = call(
        &app,
        Method::POST,
        "/api/v1/stock/adjustments",
        Some(&raw),
        Some(json!({"sku": "GLV-1", "warehouse": "CHI", "delta": 5, "reason": "count"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Revoked: refused at once.
    let id: String =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT id FROM api_tokens").fetch_one(c).await)
            .unwrap();
    c.post(&format!("/admin/api-tokens/{id}/revoke"), &[]).await;
    let (res, _) = call(&app, Method::GET, "/api/v1/products", Some(&raw), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_write_scope_reaches_only_its_own_data() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let stock = token(&app, &[Scope::StockWrite]).await;
    let prices = token(&app, &[Scope::PricingWrite]).await;
    let catalog = token(&app, &[Scope::CatalogWrite]).await;
    let product = || Some(json!({"name": "New product"}));
    let adjust = || Some(json!({"sku": "GLV-1", "warehouse": "CHI", "delta": 5, "reason": "count"}));
    let list = || Some(json!({"name": "East", "priority": 10, "prices": [{"sku": "GLV-1", "unit_price": "1.00"}]}));
    let category = || Some(json!({"path": "Dental / Burs"}));
    for (t, method, path, body, allowed) in [
        (&stock, Method::POST, "/api/v1/stock/adjustments", adjust(), true),
        (&stock, Method::PUT, "/api/v1/products/NEW-1", product(), false),
        (&stock, Method::PUT, "/api/v1/price-lists/EAST", list(), false),
        (&stock, Method::PUT, "/api/v1/categories", category(), false),
        (&prices, Method::PUT, "/api/v1/price-lists/EAST", list(), true),
        (&prices, Method::POST, "/api/v1/stock/adjustments", adjust(), false),
        (&prices, Method::PUT, "/api/v1/products/NEW-2", product(), false),
        (&catalog, Method::PUT, "/api/v1/products/NEW-3", product(), true),
        (&catalog, Method::PUT, "/api/v1/categories", category(), true),
        (&catalog, Method::POST, "/api/v1/stock/adjustments", adjust(), false),
        (&catalog, Method::PUT, "/api/v1/price-lists/WEST", list(), false),
    ] {
        let (res, body) = call(&app, method.clone(), path, Some(t.as_str()), body).await;
        if allowed {
            assert!(res.status.is_success(), "{method} {path}: {} {body}", res.status);
        } else {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE sku IN ('NEW-1', 'NEW-2')").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM price_lists WHERE code = 'WEST'").await, 0);
}

#[tokio::test]
async fn products_are_upserted_by_sku_with_every_problem_reported() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let t = token(&app, &[Scope::CatalogRead, Scope::CatalogWrite]).await;
    let before = app.count("SELECT COUNT(*) FROM products").await;
    let bad = json!({"name": " ", "min_qty": 10, "max_qty": 5, "category": "Nowhere", "backorder": "maybe"});
    let (res, body) = call(&app, Method::PUT, "/api/v1/products/bad%20sku", Some(&t), Some(bad)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["sku", "name", "quantity_rules", "category", "backorder"] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, before, "nothing changed");
    let good = json!({"name": "Sterile Gauze 4x4", "category": "Medical", "min_qty": 2, "multiple_qty": 2, "attributes": {"Size": "4x4 in"}, "external_id": "ERP-9"});
    let (res, body) = call(&app, Method::PUT, "/api/v1/products/gz-44", Some(&t), Some(good.clone())).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!((body["sku"].as_str(), body["category"].as_str()), (Some("GZ-44"), Some("Medical")));
    let (res, _) = call(&app, Method::PUT, "/api/v1/products/GZ-44", Some(&t), Some(good)).await;
    assert_eq!(res.status, StatusCode::OK, "the same body again is an update, not a duplicate");
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, before + 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'product'").await, 2);
    // It joined the default catalog and is searchable.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM catalog_products cp JOIN products p ON p.id = cp.product_id WHERE p.sku = 'GZ-44'"
        )
        .await,
        1
    );
    assert!(app.count("SELECT COUNT(*) FROM product_terms WHERE term = 'gauze'").await == 1);
    let (res, body) = call(&app, Method::GET, "/api/v1/products/gz-44", Some(&t), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(body["min_qty"], 2);
    // Cursor pagination walks every product exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?limit=1&cursor={c}"),
            None => "/api/v1/products?limit=1".to_string(),
        };
        let (_, body) = call(&app, Method::GET, &path, Some(&t), None).await;
        seen.extend(body["products"].as_array().unwrap().iter().map(|i| i["sku"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, vec!["BOX-10", "GLV-1", "GZ-44"]);
}

#[tokio::test]
async fn batch_quotes_price_each_account_its_own_way() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let t = token(&app, &[Scope::PricingRead]).await;
    let lines = json!({"lines": [
        {"sku": "GLV-1", "quantity": 5},
        {"sku": "glv-1", "quantity": 100},
        {"sku": "BOX-10", "quantity": 7},
        {"sku": "BOX-10", "quantity": 30},
        {"sku": "NOPE", "quantity": 1}
    ]});
    let (res, a) =
        call(&app, Method::POST, &format!("/api/v1/accounts/{}/price-quote", f.a), Some(&t), Some(lines.clone())).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let l = a["lines"].as_array().unwrap();
    assert_eq!(l[0]["unit_price"], "7.25");
    assert_eq!(l[0]["explanation"]["source"], "contract");
    assert_eq!(l[0]["explanation"]["text"], "Your contract price — contract C-77, valid to 31 Dec 2099");
    assert_eq!(l[0]["explanation"]["list_price"], "10.00");
    assert_eq!(l[1]["unit_price"], "7.25", "the contract beats the list's volume break");
    assert_eq!(l[2]["error"]["code"], "below_minimum");
    assert!(l[2]["error"]["reason"].as_str().unwrap().contains("minimum order quantity is 10"));
    assert_eq!(l[3]["unit_price"], "0.0125");
    assert_eq!(l[3]["line_total"], "0.38", "0.375 rounds half away from zero");
    assert_eq!(l[4]["error"]["code"], "unknown_sku");
    assert_eq!(a["total"], "761.63", "36.25 + 725.00 + 0.38, exact");
    // Account B pays list prices and never sees A's contract.
    let (_, b) =
        call(&app, Method::POST, &format!("/api/v1/accounts/{}/price-quote", f.b), Some(&t), Some(lines)).await;
    let l = b["lines"].as_array().unwrap();
    assert_eq!((l[0]["unit_price"].as_str(), l[1]["unit_price"].as_str()), (Some("10.00"), Some("8.00")));
    assert!(!b.to_string().contains("C-77") && !b.to_string().contains("7.25"));
    // Accounts can be named by number too (as ERPs do).
    let number: String =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT number FROM accounts WHERE id = $1")
            .bind(&f.a)
            .fetch_one(c)
            .await)
        .unwrap();
    let (res, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{number}/price-quote"),
        Some(&t),
        Some(json!({"lines": [{"sku": "GLV-1", "quantity": 1}]})),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(body["lines"][0]["unit_price"], "7.25");
    // 500 lines in one call.
    let many: Vec<Value> = (0..500).map(|i| json!({"sku": "GLV-1", "quantity": 1 + i})).collect();
    let (res, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/price-quote", f.b),
        Some(&t),
        Some(json!({"lines": many})),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(body["lines"].as_array().unwrap().len(), 500);
    // Unknown accounts are 404; so is any account for a token without pricing:read.
    let (res, _) = call(
        &app,
        Method::POST,
        "/api/v1/accounts/nope/price-quote",
        Some(&t),
        Some(json!({"lines": [{"sku": "GLV-1", "quantity": 1}]})),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Quoting needs pricing:read, whatever else the token may do (tests/api_scopes.rs has every
    // scope against every route).
    let read_only = token(&app, &[Scope::CatalogRead]).await;
    let (res, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/price-quote", f.a),
        Some(&read_only),
        Some(json!({"lines": [{"sku": "GLV-1", "quantity": 1}]})),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Malformed JSON is a 422 problem naming the field, not a crash.
    let (res, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/price-quote", f.a),
        Some(&t),
        Some(json!({"lines": "x"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "lines");
}

#[tokio::test]
async fn stock_adjustments_over_the_api() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let t = token(&app, &[Scope::StockWrite]).await;
    let (res, body) = call(
        &app,
        Method::POST,
        "/api/v1/stock/adjustments",
        Some(&t),
        Some(json!({"sku": "GLV-1", "warehouse": "chi", "delta": 12, "reason": "ERP receipt"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(body["on_hand"], 12);
    let (res, body) = call(
        &app,
        Method::POST,
        "/api/v1/stock/adjustments",
        Some(&t),
        Some(json!({"sku": "GLV-1", "warehouse": "CHI", "delta": -13, "reason": "pick"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains("Not enough stock"));
    let channel: String =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT channel FROM stock_movements")
            .fetch_one(c)
            .await)
        .unwrap();
    assert_eq!(channel, "api");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::new().await;
    let (res, doc) = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/products",
        "/api/v1/products/{sku}",
        "/api/v1/stock/adjustments",
        "/api/v1/accounts/{account}/price-quote",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Every parameter of every operation is where the path says it is: a name in the path
    // template is a path parameter, anything else is not.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(p["in"] == "path", in_path, "{method} {path}: parameter {name} is in {}", p["in"]);
            }
        }
    }
}

#[tokio::test]
async fn buyers_and_non_admins_cannot_manage_tokens() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let account = app.account("Acme", None).await;
    let buyer = app.buyer(&account, "Bo", BuyerRole::Manager).await;
    let mut r = app.signed_in(&rep.email).await;
    assert_eq!(r.get("/admin/api-tokens").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.post("/admin/api-tokens", &[("name", "x"), ("scope_catalog:read", "1")]).await.status,
        StatusCode::FORBIDDEN
    );
    let mut b = app.signed_in(&buyer.email).await;
    assert_eq!(b.get("/admin/api-tokens").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
}
