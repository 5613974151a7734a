//! Every API scope against every API route: a route answers 403 (problem+json, naming the scope it
//! needs) to a token without its scope, and does not to a token with it — whatever staff
//! permissions the token's scope maps to. (`pricing:read` once listed every account's orders, and
//! `orders:read` quoted any account's prices.) The OpenAPI document names the same scope for each
//! operation, and the table covers every operation of the document.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{Principal, Scope, StaffRole};
use portico::service::Actor;
use portico::store::new_id;
use portico::store::products::ProductInput;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A call with a JSON body — or, when the body is a JSON string, that text as a CSV file; or, for
/// `{"png_base64": …}`, those bytes as an image/png file.
async fn call(app: &TestApp, method: &Method, path: &str, token: &str, body: Option<&Value>) -> TestResponse {
    let mut b = Request::builder().method(method.clone()).uri(path).header("authorization", format!("Bearer {token}"));
    let bytes: Vec<u8> = match body {
        Some(Value::String(csv)) => {
            b = b.header("content-type", "text/csv");
            csv.clone().into_bytes()
        }
        Some(Value::Object(o)) if o.contains_key("png_base64") => {
            use base64::Engine;
            b = b.header("content-type", "image/png");
            base64::engine::general_purpose::STANDARD.decode(o["png_base64"].as_str().unwrap()).unwrap()
        }
        Some(json) => {
            b = b.header("content-type", "application/json");
            json.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    app.send(b.body(Body::from(bytes)).unwrap()).await
}

/// The live application of a payment or credit note (by number), for the routes that take one
/// off; "none" when it has none.
async fn live_application(app: &TestApp, number: &str) -> String {
    portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>(
        "SELECT pa.id FROM payment_applications pa
          WHERE pa.reversed_at IS NULL AND pa.source_id IN (SELECT id FROM payments WHERE number = $1
                                                             UNION SELECT id FROM invoices WHERE number = $1)
          ORDER BY pa.created_at DESC LIMIT 1"
    )
    .bind(number)
    .fetch_optional(c)
    .await)
    .unwrap()
    .unwrap_or_else(|| "none".into())
}

/// A small logo the logo row uploads.
fn logo_base64() -> String {
    use base64::Engine;
    let accent = portico::domain::branding::Accent::parse("#0b6e4f").unwrap();
    base64::engine::general_purpose::STANDARD.encode(portico::domain::branding::generated_logo(&accent).bytes)
}

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    let admin = app.staff(&format!("Admin {}", &new_id()[30..]), &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", scopes).await.unwrap().1
}

/// `{application}` of a path: the live application of the payment (PAY-100001) or credit note
/// (CN-100001) the path names.
async fn with_application(app: &TestApp, path: String) -> String {
    if !path.contains("{application}") {
        return path;
    }
    let source = if path.contains("/credit-notes/") { "CN-100001" } else { "PAY-100001" };
    path.replace("{application}", &live_application(app, source).await)
}

/// One API route: method, path as documented, query string, the scope it needs, a body.
struct Route {
    method: Method,
    path: &'static str,
    query: &'static str,
    scope: Scope,
    body: Option<Value>,
}

/// The commission plan and sales rep the commission rows use (made before the table).
struct CommissionIds<'a> {
    plan: &'a str,
    rep: &'a str,
}

fn routes(account: &str, c: &CommissionIds) -> Vec<Route> {
    let r = |method: Method, path: &'static str, query: &'static str, scope: Scope, body: Option<Value>| Route {
        method,
        path,
        query,
        scope,
        body,
    };
    let line = json!([{"sku": "GLV-1", "quantity": 1}]);
    vec![
        r(Method::GET, "/api/v1/products", "", Scope::CatalogRead, None),
        r(Method::GET, "/api/v1/products/{sku}", "", Scope::CatalogRead, None),
        r(Method::PUT, "/api/v1/products/{sku}", "", Scope::CatalogWrite, Some(json!({"name": "Nitrile gloves"}))),
        r(Method::GET, "/api/v1/products/{sku}/images", "", Scope::CatalogRead, None),
        r(Method::POST, "/api/v1/products/{sku}/images", "", Scope::CatalogWrite, Some(json!({"png_base64": logo_base64()}))),
        r(Method::PATCH, "/api/v1/products/{sku}/images/{id}", "", Scope::CatalogWrite, Some(json!({"alt": "Gloves", "primary": true}))),
        r(Method::DELETE, "/api/v1/products/{sku}/images/{id}", "", Scope::CatalogWrite, None),
        r(Method::GET, "/api/v1/categories", "", Scope::CatalogRead, None),
        r(Method::PUT, "/api/v1/categories", "", Scope::CatalogWrite, Some(json!({"path": "Dental / Burs"}))),
        r(Method::DELETE, "/api/v1/categories", "?path=Dental%20%2F%20Burs", Scope::CatalogWrite, None),
        r(
            Method::POST,
            "/api/v1/stock/adjustments",
            "",
            Scope::StockWrite,
            Some(json!({"sku": "GLV-1", "warehouse": "CHI", "delta": 5, "reason": "receipt"})),
        ),
        r(
            Method::PUT,
            "/api/v1/stock/levels/{sku}/{warehouse}",
            "",
            Scope::StockWrite,
            Some(json!({"on_hand": 500, "reason": "count"})),
        ),
        r(Method::POST, "/api/v1/accounts/{account}/price-quote", "", Scope::PricingRead, Some(json!({"lines": line}))),
        r(
            Method::PUT,
            "/api/v1/price-lists/{code}",
            "",
            Scope::PricingWrite,
            Some(json!({"name": "East", "prices": [{"sku": "GLV-1", "unit_price": "4.00"}]})),
        ),
        r(
            Method::PUT,
            "/api/v1/contracts/{number}",
            "",
            Scope::PricingWrite,
            Some(json!({"account": account, "prices": [{"sku": "GLV-1", "unit_price": "3.50"}]})),
        ),
        r(Method::GET, "/api/v1/orders", "", Scope::OrdersRead, None),
        r(Method::GET, "/api/v1/orders/{id}", "", Scope::OrdersRead, None),
        r(Method::POST, "/api/v1/orders", "", Scope::OrdersWrite, Some(json!({"account": account, "lines": line}))),
        r(Method::POST, "/api/v1/orders/{id}/confirm", "", Scope::OrdersWrite, Some(json!({}))),
        r(
            Method::POST,
            "/api/v1/orders/{id}/shipments",
            "",
            Scope::OrdersWrite,
            Some(json!({"warehouse": "CHI", "carrier": "UPS", "lines": [{"line": 1, "quantity": 1}]})),
        ),
        r(Method::GET, "/api/v1/orders/{id}/shipments", "", Scope::OrdersRead, None),
        r(Method::GET, "/api/v1/invoices", "", Scope::InvoicesRead, None),
        r(Method::GET, "/api/v1/invoices/{id}", "", Scope::InvoicesRead, None),
        r(Method::GET, "/api/v1/invoices/{id}/pdf", "", Scope::InvoicesRead, None),
        r(Method::GET, "/api/v1/accounts/{account}/statement", "", Scope::InvoicesRead, None),
        r(Method::POST, "/api/v1/accounts/{account}/statement/send", "", Scope::PaymentsWrite, Some(json!({}))),
        r(Method::GET, "/api/v1/receivables/aging", "", Scope::InvoicesRead, None),
        r(
            Method::POST,
            "/api/v1/payments",
            "",
            Scope::PaymentsWrite,
            Some(json!({"account": account, "amount": "1.00", "method": "check"})),
        ),
        r(Method::GET, "/api/v1/payments", "", Scope::PaymentsRead, None),
        r(Method::GET, "/api/v1/payments/{id}", "", Scope::PaymentsRead, None),
        r(
            Method::POST,
            "/api/v1/payments/{id}/applications",
            "",
            Scope::PaymentsWrite,
            Some(json!({"oldest_first": true})),
        ),
        // After the row above applied what the payment holds to the shipped order's invoice.
        r(Method::DELETE, "/api/v1/payments/{id}/applications/{application}", "", Scope::PaymentsWrite, None),
        r(Method::POST, "/api/v1/payments/{id}/reversal", "", Scope::PaymentsWrite, Some(json!({"reason": "bounced"}))),
        r(
            Method::POST,
            "/api/v1/payments/import",
            "",
            Scope::PaymentsWrite,
            Some(Value::String(format!("account,amount,received_on,method\n{account},1.00,2026-01-02,ach\n"))),
        ),
        r(
            Method::POST,
            "/api/v1/invoices/{id}/credit-notes",
            "",
            Scope::CreditWrite,
            Some(json!({"lines": [{"line": 1, "quantity": 1}], "reason": "Returned"})),
        ),
        // The credit note the row above issued, applied at once to the invoice it credits.
        r(Method::DELETE, "/api/v1/credit-notes/{id}/applications/{application}", "", Scope::CreditWrite, None),
        r(Method::POST, "/api/v1/orders/{id}/release", "", Scope::CreditWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/orders/{id}/reject", "", Scope::CreditWrite, Some(json!({"reason": "no"}))),
        r(Method::POST, "/api/v1/orders/{id}/complete", "", Scope::OrdersWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/orders/{id}/send-back", "", Scope::OrdersWrite, Some(json!({"reason": "no"}))),
        r(
            Method::POST,
            "/api/v1/orders/{id}/amend",
            "",
            Scope::OrdersWrite,
            Some(json!({"expected_version": 0, "lines": [{"sku": "GLV-1", "quantity": 2}], "reason": "more"})),
        ),
        r(Method::POST, "/api/v1/orders/{id}/cancel", "", Scope::OrdersWrite, Some(json!({"reason": "not needed"}))),
        r(Method::GET, "/api/v1/accounts/{account}/licences", "", Scope::LicencesRead, None),
        r(
            Method::PUT,
            "/api/v1/accounts/{account}/licences",
            "",
            Scope::LicencesWrite,
            Some(json!({"licence_type": "dea", "number": "BX1234563", "expires_on": "2030-01-31"})),
        ),
        r(Method::POST, "/api/v1/quotes", "", Scope::QuotesWrite, Some(json!({"account": account, "lines": line}))),
        r(Method::GET, "/api/v1/quotes", "", Scope::QuotesRead, None),
        r(Method::GET, "/api/v1/quotes/{id}", "", Scope::QuotesRead, None),
        r(Method::PUT, "/api/v1/quotes/{id}/lines", "", Scope::QuotesWrite, Some(json!({"lines": line}))),
        r(Method::POST, "/api/v1/quotes/{id}/send", "", Scope::QuotesWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/quotes/{id}/accept", "", Scope::QuotesWrite, Some(json!({"lines": [1]}))),
        r(Method::POST, "/api/v1/quotes/{id}/decline", "", Scope::QuotesWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/quotes/{id}/revise", "", Scope::QuotesWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/quotes/{id}/withdraw", "", Scope::QuotesWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/quotes/{id}/messages", "", Scope::QuotesWrite, Some(json!({"body": "Thanks"}))),
        r(Method::GET, "/api/v1/webhooks", "", Scope::WebhooksRead, None),
        r(Method::GET, "/api/v1/webhooks/{id}", "", Scope::WebhooksRead, None),
        r(Method::GET, "/api/v1/webhooks/{id}/deliveries", "", Scope::WebhooksRead, None),
        r(
            Method::POST,
            "/api/v1/webhooks",
            "",
            Scope::WebhooksWrite,
            Some(json!({"url": "https://crm.example.com/hook", "event_types": ["quote.*"]})),
        ),
        r(Method::PATCH, "/api/v1/webhooks/{id}", "", Scope::WebhooksWrite, Some(json!({"description": "ERP"}))),
        r(Method::POST, "/api/v1/webhooks/{id}/rotate-secret", "", Scope::WebhooksWrite, Some(json!({}))),
        r(Method::POST, "/api/v1/webhooks/{id}/test", "", Scope::WebhooksWrite, None),
        // Replaying a delivery the endpoint does not have is a conflict (accepted below).
        r(Method::POST, "/api/v1/webhooks/{id}/deliveries/{delivery}/replay", "", Scope::WebhooksWrite, None),
        r(Method::GET, "/api/v1/accounts", "", Scope::AccountsRead, None),
        r(Method::GET, "/api/v1/accounts/{account}", "", Scope::AccountsRead, None),
        r(
            Method::PUT,
            "/api/v1/accounts/{account}",
            "",
            Scope::AccountsWrite,
            Some(
                json!({"name": "Beta Clinic", "bill_to": {"line1": "1 Main St", "city": "Chicago", "postal_code": "60601", "country": "US"}}),
            ),
        ),
        r(Method::GET, "/api/v1/accounts/{account}/ship-tos", "", Scope::AccountsRead, None),
        r(
            Method::PUT,
            "/api/v1/accounts/{account}/ship-tos/{ship_to}",
            "",
            Scope::AccountsWrite,
            Some(
                json!({"label": "Dock", "address": {"line1": "2 Dock Rd", "city": "Chicago", "postal_code": "60601", "country": "US"}}),
            ),
        ),
        r(Method::GET, "/api/v1/accounts/{account}/users", "", Scope::AccountsRead, None),
        r(
            Method::PUT,
            "/api/v1/accounts/{account}/users/{email}",
            "",
            Scope::AccountsWrite,
            Some(json!({"name": "Bea Buyer", "role": "buyer"})),
        ),
        r(Method::GET, "/api/v1/account-groups", "", Scope::AccountsRead, None),
        r(Method::PUT, "/api/v1/account-groups/{name}", "", Scope::AccountsWrite, Some(json!({}))),
        r(Method::DELETE, "/api/v1/account-groups/{name}", "", Scope::AccountsWrite, None),
        r(Method::GET, "/api/v1/warehouses", "", Scope::CatalogRead, None),
        r(Method::PUT, "/api/v1/warehouses/{code}", "", Scope::StockWrite, Some(json!({"name": "East"}))),
        r(Method::GET, "/api/v1/price-lists", "", Scope::PricingRead, None),
        r(Method::GET, "/api/v1/catalogs", "", Scope::CatalogsRead, None),
        r(
            Method::PUT,
            "/api/v1/catalogs/{external_id}",
            "",
            Scope::CatalogsWrite,
            Some(json!({"name": "Clinics", "includes_all": true, "accounts": [account]})),
        ),
        r(Method::DELETE, "/api/v1/catalogs/{external_id}", "", Scope::CatalogsWrite, None),
        r(Method::GET, "/api/v1/exports/products", "", Scope::CatalogRead, None),
        r(Method::GET, "/api/v1/exports/stock", "", Scope::CatalogRead, None),
        r(Method::GET, "/api/v1/exports/price-lists", "", Scope::PricingRead, None),
        r(Method::GET, "/api/v1/exports/contract-prices", "", Scope::PricingRead, None),
        r(Method::GET, "/api/v1/exports/orders", "", Scope::OrdersRead, None),
        r(Method::GET, "/api/v1/exports/accounts", "", Scope::AccountsRead, None),
        r(Method::GET, "/api/v1/exports/ship-tos", "", Scope::AccountsRead, None),
        r(
            Method::POST,
            "/api/v1/imports/accounts",
            "",
            Scope::AccountsWrite,
            Some(Value::String(
                "external_id,name,bill_line1,bill_city,bill_postal_code,bill_country\nSCOPE-1,Scope Co,1 Main St,Chicago,60601,US\n".into(),
            )),
        ),
        r(
            Method::POST,
            "/api/v1/imports/ship-tos",
            "",
            Scope::AccountsWrite,
            Some(Value::String(format!(
                "account,external_id,label,line1,city,postal_code,country\n{account},S-1,Dock,1 St,Chicago,60601,US\n"
            ))),
        ),
        r(Method::GET, "/api/v1/commissions/statements", "", Scope::CommissionsRead, None),
        r(Method::GET, "/api/v1/commissions/accruals", "", Scope::CommissionsRead, None),
        r(Method::POST, "/api/v1/commissions/statements/{rep}/{period}/{action}", "", Scope::CommissionsWrite, None),
        r(Method::GET, "/api/v1/commissions/settings", "", Scope::CommissionsRead, None),
        r(
            Method::PUT,
            "/api/v1/commissions/settings",
            "",
            Scope::CommissionsWrite,
            Some(json!({"handover_days": 30, "handover_share": "30"})),
        ),
        r(Method::GET, "/api/v1/commissions/teams", "", Scope::CommissionsRead, None),
        r(Method::POST, "/api/v1/commissions/teams", "", Scope::CommissionsWrite, Some(json!({"name": "North"}))),
        r(Method::GET, "/api/v1/commissions/plans", "", Scope::CommissionsRead, None),
        r(Method::GET, "/api/v1/commissions/plans/{id}", "", Scope::CommissionsRead, None),
        r(
            Method::POST,
            "/api/v1/commissions/plans",
            "",
            Scope::CommissionsWrite,
            Some(json!({"name": "Scoped", "effective_from": "2026-01-01", "default_rate": "5"})),
        ),
        r(
            Method::PUT,
            "/api/v1/commissions/plans/{id}",
            "",
            Scope::CommissionsWrite,
            Some(json!({"name": "Standard", "effective_from": "2026-01-01", "default_rate": "6"})),
        ),
        r(Method::GET, "/api/v1/commissions/assignments", "", Scope::CommissionsRead, None),
        r(
            Method::POST,
            "/api/v1/commissions/assignments",
            "",
            Scope::CommissionsWrite,
            Some(json!({"plan_id": c.plan, "rep_id": c.rep, "effective_from": "2026-01-01"})),
        ),
        r(Method::DELETE, "/api/v1/commissions/assignments/{id}", "", Scope::CommissionsWrite, None),
        r(Method::PATCH, "/api/v1/commissions/teams/{id}", "", Scope::CommissionsWrite, Some(json!({"name": "East"}))),
        r(Method::PUT, "/api/v1/commissions/teams/{id}/members/{rep_id}", "", Scope::CommissionsWrite, None),
        r(Method::DELETE, "/api/v1/commissions/teams/{id}/members/{rep_id}", "", Scope::CommissionsWrite, None),
        r(Method::DELETE, "/api/v1/commissions/teams/{id}", "", Scope::CommissionsWrite, None),
        r(Method::GET, "/api/v1/commissions/house-accounts", "", Scope::CommissionsRead, None),
        r(Method::PUT, "/api/v1/commissions/house-accounts/{account}", "", Scope::CommissionsWrite, None),
        r(Method::DELETE, "/api/v1/commissions/house-accounts/{account}", "", Scope::CommissionsWrite, None),
        r(Method::GET, "/api/v1/dashboards/channels", "", Scope::DashboardsRead, None),
        r(Method::GET, "/api/v1/dashboards/adoption", "", Scope::DashboardsRead, None),
        r(Method::GET, "/api/v1/dashboards/reorders", "", Scope::DashboardsRead, None),
        r(Method::GET, "/api/v1/dashboards/carts", "", Scope::DashboardsRead, None),
        r(Method::GET, "/api/v1/dashboards/products", "", Scope::DashboardsRead, None),
        r(Method::GET, "/api/v1/company/branding", "", Scope::CompanyRead, None),
        r(Method::PUT, "/api/v1/company/branding", "", Scope::CompanyWrite, Some(json!({"name": "Scope Supply", "accent": "#0b6e4f"}))),
        r(Method::PUT, "/api/v1/company/logo", "", Scope::CompanyWrite, Some(json!({"image_base64": logo_base64()}))),
        r(Method::DELETE, "/api/v1/company/logo", "", Scope::CompanyWrite, None),
        // Last: the endpoint the rows above use is gone after it.
        r(Method::DELETE, "/api/v1/webhooks/{id}", "", Scope::WebhooksWrite, None),
    ]
}

#[tokio::test]
async fn each_route_answers_only_tokens_with_its_scope() {
    let app = TestApp::new().await;
    let account = app.account("Alpha Clinic", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "5.00", 100)]).await;
    let writer = token(&app, &[Scope::OrdersWrite]).await;
    let placed = call(
        &app,
        &Method::POST,
        "/api/v1/orders",
        &writer,
        Some(&json!({"account": account, "lines": [{"sku": "GLV-1", "quantity": 1}]})),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order: Value = serde_json::from_str(&placed.body).unwrap();
    let order = order["id"].as_str().unwrap().to_string();
    // A payment for the payment rows to read, apply and reverse (PAY-100001).
    let payments = token(&app, &[Scope::PaymentsWrite]).await;
    let paid = call(
        &app,
        &Method::POST,
        "/api/v1/payments",
        &payments,
        Some(&json!({"account": account, "amount": "5.00", "method": "wire"})),
    )
    .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    // A quote for the quote rows to read, price, send, accept… (Q-100001).
    let quoting = token(&app, &[Scope::QuotesWrite]).await;
    let quoted = call(
        &app,
        &Method::POST,
        "/api/v1/quotes",
        &quoting,
        Some(&json!({"account": account, "lines": [{"sku": "GLV-1", "quantity": 1}]})),
    )
    .await;
    assert_eq!(quoted.status, StatusCode::CREATED, "{}", quoted.body);
    // A webhook endpoint for the webhook rows.
    let hooks = token(&app, &[Scope::WebhooksWrite]).await;
    let hooked = call(
        &app,
        &Method::POST,
        "/api/v1/webhooks",
        &hooks,
        Some(&json!({"url": "https://erp.example.com/hook", "event_types": ["order.*"]})),
    )
    .await;
    assert_eq!(hooked.status, StatusCode::CREATED, "{}", hooked.body);
    let hook: Value = serde_json::from_str(&hooked.body).unwrap();
    let hook = format!("/webhooks/{}", hook["endpoint"]["id"].as_str().unwrap());
    // A rep whose (empty) commission statement the commissions:write row approves.
    let commission_rep = app.staff("Rex Rep", &[StaffRole::SalesRep]).await.id;
    // A plan, an assignment of it and a team for the commission rows to read, change and delete.
    let plans_admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let ad = Actor::web(&plans_admin);
    let draft = portico::domain::commissions::PlanDraft {
        name: "Standard".into(),
        effective_from: "2026-01-01".into(),
        default_rate: "5".into(),
        ..Default::default()
    };
    let plan = portico::service::commissions::save_plan(app.db(), app.now(), &ad, None, &draft).await.unwrap();
    let assignment =
        portico::service::commissions::assign_plan(app.db(), app.now(), &ad, &commission_rep, &plan, "2026-01-01", "")
            .await
            .unwrap();
    let team = portico::service::commissions::create_team(app.db(), app.now(), &ad, "Scoped").await.unwrap();
    // An image of GLV-1 for the image rows to change and delete.
    let catalog = token(&app, &[Scope::CatalogWrite]).await;
    let logo = json!({"png_base64": logo_base64()});
    let imaged = call(&app, &Method::POST, "/api/v1/products/GLV-1/images", &catalog, Some(&logo)).await;
    assert_eq!(imaged.status, StatusCode::CREATED, "{}", imaged.body);
    let image: Value = serde_json::from_str(&imaged.body).unwrap();
    let image = format!("/images/{}", image["images"][0]["id"].as_str().unwrap());
    let concrete = |route: &Route| {
        // The shipment row (orders:write) bills the order: its invoice is the first.
        let path = route
            .path
            .replace("/images/{id}", &image)
            .replace("/invoices/{id}", "/invoices/INV-100001")
            .replace("/payments/{id}", "/payments/PAY-100001")
            .replace("/quotes/{id}", "/quotes/Q-100001")
            .replace("/webhooks/{id}", &hook)
            .replace("{delivery}", "01939000-0000-7000-8000-000000000000")
            .replace("/credit-notes/{id}", "/credit-notes/CN-100001")
            .replace("{ship_to}", "DOCK-1")
            .replace("{external_id}", "K-1")
            .replace("{name}", "Dental")
            .replace("{email}", "bea@alpha.test")
            .replace("{sku}", "GLV-1")
            .replace("{rep}/{period}/{action}", &format!("{commission_rep}/2026-01/approve"))
            .replace("/commissions/plans/{id}", &format!("/commissions/plans/{plan}"))
            .replace("/commissions/assignments/{id}", &format!("/commissions/assignments/{assignment}"))
            .replace("/commissions/teams/{id}", &format!("/commissions/teams/{team}"))
            .replace("{rep_id}", &commission_rep)
            .replace("{warehouse}", "CHI")
            .replace("{account}", &account)
            .replace("{id}", &order)
            .replace("{code}", "EAST")
            .replace("{number}", "C-1");
        format!("{path}{}", route.query)
    };
    let table = routes(&account, &CommissionIds { plan: &plan, rep: &commission_rep });

    for scope in Scope::ALL {
        let t = token(&app, &[scope]).await;
        // Refused routes first: they change nothing (every write appends an audit row).
        let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
        for route in table.iter().filter(|r| !scope.grants(r.scope)) {
            let path = with_application(&app, concrete(route)).await;
            let res = call(&app, &route.method, &path, &t, route.body.as_ref()).await;
            let what = format!("{} {} with a {} token", route.method, route.path, scope.as_str());
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {}", res.body);
            assert_eq!(res.headers["content-type"], "application/problem+json", "{what}");
            let problem: Value = serde_json::from_str(&res.body).unwrap();
            assert_eq!(problem["status"], 403, "{what}");
            assert!(problem["detail"].as_str().unwrap().contains(route.scope.as_str()), "{what}: {}", res.body);
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            audit_before,
            "{}: refused, nothing changed",
            scope.as_str()
        );
        for route in table.iter().filter(|r| scope.grants(r.scope)) {
            let path = with_application(&app, concrete(route)).await;
            let res = call(&app, &route.method, &path, &t, route.body.as_ref()).await;
            let what = format!("{} {} with a {} token", route.method, route.path, scope.as_str());
            assert!(
                res.status != StatusCode::FORBIDDEN && res.status != StatusCode::UNAUTHORIZED,
                "{what}: {} {}",
                res.status,
                res.body
            );
            // A route reached with its scope answers as it would for any client: success here, or
            // (after an earlier row cancelled the order) a conflict about the order's state.
            assert!(
                res.status.is_success() || res.status == StatusCode::CONFLICT,
                "{what}: {} {}",
                res.status,
                res.body
            );
        }
    }

    // The scope lists: a write scope includes its own read scope only where documented.
    let granted = |s: Scope| Scope::ALL.into_iter().filter(|n| s.grants(*n)).map(|n| n.as_str()).collect::<Vec<_>>();
    assert_eq!(granted(Scope::PricingRead), vec!["pricing:read"]);
    assert_eq!(granted(Scope::OrdersRead), vec!["orders:read"]);
    assert_eq!(granted(Scope::PricingWrite), vec!["pricing:write"]);
    assert_eq!(granted(Scope::OrdersWrite), vec!["orders:read", "orders:write"]);
    assert!(Scope::OrdersWrite.describe().contains("includes orders:read"));
    assert!(Scope::CatalogWrite.describe().contains("includes catalog:read"));
}

#[tokio::test]
async fn the_document_names_each_operations_scope_and_the_table_covers_every_operation() {
    let app = TestApp::new().await;
    let res = app.send(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    let doc: Value = serde_json::from_str(&res.body).unwrap();
    let table = routes("x", &CommissionIds { plan: "x", rep: "x" });
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path == "/api/v1/openapi.json" {
                assert!(op.get("security").is_none(), "the document itself needs no token");
                continue;
            }
            documented.insert((method.to_uppercase(), path.clone()));
            let route = table
                .iter()
                .find(|r| r.method.as_str().eq_ignore_ascii_case(method) && r.path == path)
                .unwrap_or_else(|| panic!("{method} {path} is not in this test's table"));
            assert_eq!(op["security"], json!([{"bearer": [route.scope.as_str()]}]), "{method} {path}");
            let description = op["description"].as_str().unwrap_or("");
            assert!(description.contains(route.scope.as_str()), "{method} {path}: {description}");
        }
    }
    let listed: BTreeSet<_> = table.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(listed, documented, "the table lists exactly the document's operations");
}
