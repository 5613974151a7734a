//! The JSON API under `/api/v1`: bearer API tokens with scopes, RFC 9457 problem+json errors,
//! cursor pagination, and the OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the
//! same annotated handlers. A route must be listed in [`ApiDoc`]'s `paths` too: tests/openapi.rs
//! compares the routes the router serves with the document's operations, both ways.

//!
//! The document says exactly what the API does, and a schema-driven fuzzer (`.ci/fuzz`) holds the
//! two together: every route names the one scope it needs (checked first thing in the handler, and
//! declared as the operation's `security`), every error is problem+json (rejected queries, paths and
//! bodies, unknown paths, 405s too), and every bound the server enforces on input is in the schema
//! ([`input`]).

mod account_groups;
mod account_users;
mod accounts;
mod catalog;
mod catalogs;
mod categories;
mod commission_plans;
mod commissions;
mod company;
mod credit;
mod dashboards;
mod escalations;
mod exports;
mod input;
mod invoices;
mod licences;
mod orders;
mod paging;
mod payments;
mod pricing;
mod product_images;
mod quotes;
mod ship_tos;
mod shipments;
mod statements;
mod warehouses;
mod webhooks;

use crate::app::AppState;
use crate::domain::auth::{Principal, Scope};
use crate::service::{ServiceError, api_tokens};
use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

pub use input::{ApiJson, ApiPath, ApiQuery};

/// Where every API route lives.
pub const PREFIX: &str = "/api/";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(accounts::router())
        .merge(account_users::router())
        .merge(account_groups::router())
        .merge(warehouses::router())
        .merge(ship_tos::router())
        .merge(catalog::router())
        .merge(product_images::router())
        .merge(catalogs::router())
        .merge(categories::router())
        .merge(commissions::router())
        .merge(company::router())
        .merge(dashboards::router())
        .merge(invoices::router())
        .merge(licences::router())
        .merge(credit::router())
        .merge(escalations::router())
        .merge(exports::router())
        .merge(orders::router())
        .merge(payments::router())
        .merge(pricing::router())
        .merge(quotes::router())
        .merge(shipments::router())
        .merge(statements::router())
        .merge(webhooks::router())
        .layer(axum::middleware::from_fn(errors_as_problems))
}

/// Every error the API's routes answer is a problem document, including those no handler wrote:
/// axum's 405 for a method a path does not serve (its `Allow` header kept) and any rejection a
/// handler did not map itself.
async fn errors_as_problems(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    if res.status().as_u16() < 400 || is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned());
    let (title, detail) = match parts.status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("");
            ("Method not allowed", format!("This path does not answer {method}; it answers {allow}."))
        }
        status => (
            status.canonical_reason().unwrap_or("Error"),
            text.ok().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "See /api/v1/openapi.json.".into()),
        ),
    };
    let mut problem = ApiError::new(parts.status, title, detail).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            problem.headers_mut().insert(name, v.clone());
        }
    }
    if method == Method::HEAD {
        *problem.body_mut() = axum::body::Body::empty();
    }
    problem
}

#[derive(OpenApi)]
#[openapi(
    nest((path = "/api/v1/commissions", api = commissions::CommissionsApi), (path = "/api/v1/dashboards", api = dashboards::DashboardsApi)),
    info(title = "Portico API", version = "1", description = "Catalog, pricing and stock for ERP/CRM integrations. Authenticate with `Authorization: Bearer <token>`; tokens are created by an administrator under Admin → API tokens, each with scopes."),
    paths(openapi_json, catalog::list_products, catalog::get_product, catalog::put_product, catalog::adjust_stock, catalog::set_stock_level, catalog::price_quote, categories::list_categories, categories::put_category, categories::delete_category, orders::create_order, orders::get_order, orders::list_orders, orders::confirm_order, orders::cancel_order, orders::amend_order, pricing::put_contract, pricing::put_price_list, shipments::create_shipment, shipments::list_shipments, invoices::list_invoices, invoices::get_invoice, invoices::invoice_pdf, credit::release_order, credit::reject_order, escalations::complete_order, escalations::send_back_order, credit::create_credit_note, payments::create_payment, payments::import_payments, payments::unapply_payment, credit::unapply_credit_note, payments::list_payments, payments::get_payment, payments::apply_payment, payments::reverse_payment, statements::get_statement, statements::send_statement, statements::get_aging, licences::list_licences, licences::put_licence, quotes::create_quote, quotes::list_quotes, quotes::get_quote, quotes::price_quote, quotes::send_quote, quotes::accept_quote, quotes::decline_quote, quotes::revise_quote, quotes::withdraw_quote, quotes::post_message, webhooks::list_webhooks, webhooks::create_webhook, webhooks::get_webhook, webhooks::update_webhook, webhooks::delete_webhook, webhooks::rotate_webhook_secret, webhooks::test_webhook, webhooks::list_webhook_deliveries, webhooks::replay_webhook_delivery, accounts::list_accounts, accounts::get_account, accounts::put_account, ship_tos::list_ship_tos, ship_tos::put_ship_to, account_users::list_account_users, account_users::put_account_user, account_groups::list_account_groups, account_groups::put_account_group, account_groups::delete_account_group, warehouses::list_warehouses, warehouses::put_warehouse, pricing::list_price_lists, catalogs::list_catalogs, catalogs::put_catalog, catalogs::delete_catalog, exports::export_products, exports::export_stock, exports::export_price_lists, exports::export_contract_prices, exports::export_orders, exports::export_accounts, exports::export_ship_tos, exports::import_accounts, exports::import_ship_tos, company::get_branding, company::put_branding, company::put_logo, company::delete_logo, product_images::list_images, product_images::upload_image, product_images::update_image, product_images::delete_image),
    components(schemas(Problem, ProblemField, catalog::ProductOut, catalog::ProductIn, catalog::ProductPage, catalog::StockAdjustmentIn, catalog::StockAdjustmentOut, catalog::StockLevelIn, catalog::QuoteIn, catalog::QuoteLineIn, catalog::QuoteOut, catalog::QuoteLineOut, catalog::PriceExplanationOut, catalog::LineError, categories::CategoryOut, categories::CategoryList, categories::CategoryIn, categories::CategoryUpsertOut, categories::CategoryDeletedOut, orders::OrderIn, orders::OrderLineIn, orders::OrderOut, orders::OrderLineOut, orders::OrderPage, orders::StatusIn, orders::AmendIn, pricing::PriceIn, pricing::ContractIn, pricing::PriceListIn, pricing::UpsertOut, shipments::ShipmentIn, shipments::ShipmentLineIn, shipments::ShipmentOut, shipments::ShipmentLineOut, shipments::ShipmentList, invoices::InvoiceOut, invoices::InvoiceLineOut, invoices::InvoicePage, credit::CreditNoteIn, credit::CreditLineIn, payments::PaymentIn, payments::ApplicationIn, payments::ApplyIn, payments::ReversalIn, payments::PaymentOut, payments::ApplicationOut, payments::PaymentPage, payments::PaymentImportOut, payments::SkippedRowOut, statements::StatementOut, statements::SendStatementIn, statements::SentStatementOut, statements::StatementLineOut, statements::OpenInvoiceOut, statements::AgingOut, statements::AgingRowOut, statements::AgingReportOut, licences::LicenceOut, licences::LicenceList, licences::LicenceIn, quotes::SalesQuoteIn, quotes::SalesQuoteLineIn, quotes::SalesQuotePriceIn, quotes::SalesQuoteSendIn, quotes::SalesQuoteAcceptIn, quotes::SalesQuoteDecisionIn, quotes::SalesQuoteMessageIn, quotes::SalesQuoteOut, quotes::SalesQuoteLineOut, quotes::SalesQuoteMessageOut, quotes::SalesQuotePage, webhooks::WebhookEndpointOut, webhooks::WebhookEndpointList, webhooks::WebhookEndpointIn, webhooks::EventTypeName, webhooks::WebhookEndpointCreatedOut, webhooks::WebhookEndpointPatch, webhooks::WebhookRotateIn, webhooks::WebhookSecretOut, webhooks::WebhookAttemptOut, webhooks::WebhookDeliveryOut, webhooks::WebhookDeliveryPage, accounts::AddressIn, accounts::AddressOut, accounts::AccountOut, accounts::HandoverOut, accounts::AccountPage, accounts::AccountIn, accounts::AccountUpsertOut, ship_tos::ShipToOut, ship_tos::ShipToPage, ship_tos::ShipToIn, ship_tos::ShipToUpsertOut, account_users::AccountUserOut, account_users::AccountUserPage, account_users::AccountUserIn, account_users::AccountUserUpsertOut, account_groups::AccountGroupOut, account_groups::AccountGroupPage, account_groups::AccountGroupIn, account_groups::AccountGroupUpsertOut, warehouses::WarehouseOut, warehouses::WarehousePage, warehouses::WarehouseIn, warehouses::WarehouseUpsertOut, pricing::PriceListOut, pricing::PriceListPage, catalogs::CatalogRuleOut, catalogs::CatalogAccountOut, catalogs::CatalogOut, catalogs::CatalogPage, catalogs::CatalogRuleIn, catalogs::CatalogIn, catalogs::CatalogUpsertOut, exports::ImportOut, company::BrandingOut, company::LogoOut, company::BrandingIn, company::LogoIn, product_images::ImageUrlsOut, product_images::ImageOut, product_images::ImageList, product_images::ImagePatch)),
    modifiers(&BearerAuth, &Problems)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (Admin → API tokens). Each operation names the one scope it needs; \
                         `catalog:write` includes `catalog:read` and `orders:write` includes `orders:read`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What every operation can answer besides its own responses, written once: each error status as
/// problem+json with the [`Problem`] schema; on every operation that needs a token, 401 (no or a
/// bad token), 403 (a token without the operation's scope, which the description names) and 422
/// (a query, path or body the operation refuses); on every operation with a body, 413 (over 2 MB).
struct Problems;

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = || {
            ContentBuilder::new()
                .schema(Some(RefOr::<utoipa::openapi::schema::Schema>::Ref(Ref::from_schema_name("Problem"))))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                let scopes: Vec<String> = op
                    .security
                    .iter()
                    .flatten()
                    .filter_map(|req| serde_json::to_value(req).ok())
                    .filter_map(|v| v.get("bearer").cloned())
                    .filter_map(|v| serde_json::from_value::<Vec<String>>(v).ok())
                    .flatten()
                    .collect();
                if !scopes.is_empty() {
                    let needs = format!("Needs an API token with scope `{}`.", scopes.join("`, `"));
                    op.description = Some(match op.description.take() {
                        Some(d) if !d.is_empty() => format!("{d}\n\n{needs}"),
                        _ => needs,
                    });
                    let defaults = [
                        ("401", "No API token, or an unknown or revoked one"),
                        ("403", "The token lacks this operation's scope"),
                        ("422", "A query, path or body this operation refuses (every problem listed in errors)"),
                    ];
                    for (status, description) in defaults {
                        op.responses
                            .responses
                            .entry(status.to_string())
                            .or_insert_with(|| ResponseBuilder::new().description(description).build().into());
                    }
                }
                if op.request_body.is_some() {
                    op.responses.responses.entry("413".to_string()).or_insert_with(|| {
                        ResponseBuilder::new().description("The body is larger than 2 MB").build().into()
                    });
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (true, RefOr::T(r)) = (status.parse::<u16>().is_ok_and(|s| s >= 400), response) {
                        r.content.clear();
                        r.content.insert("application/problem+json".to_string(), problem());
                    }
                }
            }
        }
    }
}

/// This document (no token needed).
#[utoipa::path(get, path = "/api/v1/openapi.json", responses(
    (status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")
), tag = "meta")]
pub async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// The answer to a path under the API's prefix that nothing answers.
pub async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "Not found", "No such endpoint; see /api/v1/openapi.json.").into_response()
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level problems (validation), every one of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
    /// A stable reason code where there is one (e.g. `out_of_stock`, `not_available`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Of a problem in an uploaded CSV file: its line (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Of a problem in an uploaded CSV file: its column (absent when the whole row is at fault).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
    errors: Vec<ProblemField>,
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, title, detail: detail.into(), errors: Vec::new() }
    }

    fn internal(detail: String) -> ApiError {
        tracing::error!(error = %detail, "api request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "The error was logged; nothing was half-saved.",
        )
    }

    /// Every field-level problem at once (none: no error).
    pub fn fields(errors: Vec<ProblemField>) -> Result<(), ApiError> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(ApiError::problems(errors))
    }

    /// A 422 listing every problem.
    pub fn problems(errors: Vec<ProblemField>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid request",
            detail: "Nothing was changed; see errors.".into(),
            errors,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid request",
            detail: message.clone(),
            errors: vec![ProblemField { field: field.into(), message, ..Default::default() }],
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "Not found", "No such object, or not available to this token.")
            }
            ServiceError::Forbidden => {
                ApiError::new(StatusCode::FORBIDDEN, "Forbidden", "This token's scopes do not allow this.")
            }
            ServiceError::Invalid(errors) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Invalid request",
                detail: "Nothing was changed; see errors.".into(),
                errors: errors
                    .into_iter()
                    .map(|e| ProblemField { field: e.field, message: e.message, ..Default::default() })
                    .collect(),
            },
            ServiceError::Conflict(msg) => ApiError::new(StatusCode::CONFLICT, "Conflict", msg),
            ServiceError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid credentials.")
            }
            ServiceError::Throttled { retry_after } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests", format!("Retry in {retry_after} s."))
            }
            ServiceError::Blocked(issues) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Order cannot be placed",
                detail: "Nothing was placed; every reason is listed in errors.".into(),
                errors: issues
                    .into_iter()
                    .map(|i| ProblemField {
                        field: if i.line == 0 { "order".into() } else { format!("lines[{}]", i.line - 1) },
                        message: i.message,
                        code: Some(i.code.into()),
                        ..Default::default()
                    })
                    .collect(),
            },
            ServiceError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request body; use a new key.",
            ),
            ServiceError::TooLarge(msg) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request too large", msg),
            ServiceError::InFlight => ApiError::new(
                StatusCode::CONFLICT,
                "Request in progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request too large",
                "A request body may hold at most 2 MB; split the request (an order holds at most 1,000 lines).",
            );
        }
        ApiError::invalid("body", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        // axum names the parameter ("Failed to deserialize query string: limit: invalid digit …").
        let text = r.body_text();
        let rest = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
        let missing = rest.strip_prefix("missing field `").and_then(|r| r.split_once('`')).map(|(f, _)| f);
        match (missing, rest.split_once(": ")) {
            (Some(field), _) => ApiError::invalid(field, "required"),
            (None, Some((field, message))) if !field.contains(' ') => ApiError::invalid(field, message),
            _ => ApiError::invalid("query", rest),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::invalid("path", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let body = Problem {
            type_: "about:blank".into(),
            title: self.title.into(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if unauthorized {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The integration calling the API, from its bearer token.
pub struct ApiCaller(pub Principal);

impl ApiCaller {
    /// The route's scope check, first thing in every handler (before its input is read): a token
    /// without the scope the route names gets 403, whatever staff permissions its other scopes
    /// map to.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self.0.has_scope(scope) {
            true => Ok(()),
            false => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("This operation needs a token with scope `{}`.", scope.as_str()),
            )),
        }
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Send an API token: Authorization: Bearer <token>.",
                )
            })?;
        match api_tokens::authenticate(&state.db, state.now(), token).await? {
            Some(p) => Ok(ApiCaller(p)),
            None => {
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "The API token is unknown or revoked."))
            }
        }
    }
}
