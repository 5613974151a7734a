//! The JSON API under `/api/v1`: bearer API tokens with scopes, RFC 9457 problem+json errors,
//! cursor pagination, and the OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the
//! same annotated handlers. A route must be listed in [`ApiDoc`]'s `paths` too: tests/openapi.rs
//! compares the routes the router serves with the document's operations, both ways.

mod catalog;
mod categories;
mod orders;
mod pricing;

use crate::app::AppState;
use crate::domain::auth::Principal;
use crate::service::{ServiceError, api_tokens};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Where every API route lives.
pub const PREFIX: &str = "/api/";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(catalog::router())
        .merge(categories::router())
        .merge(orders::router())
        .merge(pricing::router())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Portico API", version = "1", description = "Catalog, pricing and stock for ERP/CRM integrations. Authenticate with `Authorization: Bearer <token>`; tokens are created by an administrator under Admin → API tokens, each with scopes."),
    paths(openapi_json, catalog::list_products, catalog::get_product, catalog::put_product, catalog::adjust_stock, catalog::set_stock_level, catalog::price_quote, categories::list_categories, categories::put_category, categories::delete_category, orders::create_order, orders::get_order, orders::list_orders, orders::confirm_order, orders::cancel_order, orders::amend_order, pricing::put_contract, pricing::put_price_list),
    components(schemas(Problem, ProblemField, catalog::ProductOut, catalog::ProductIn, catalog::ProductPage, catalog::StockAdjustmentIn, catalog::StockAdjustmentOut, catalog::StockLevelIn, catalog::QuoteIn, catalog::QuoteLineIn, catalog::QuoteOut, catalog::QuoteLineOut, catalog::PriceExplanationOut, catalog::LineError, categories::CategoryOut, categories::CategoryList, categories::CategoryIn, categories::CategoryUpsertOut, categories::CategoryDeletedOut, orders::OrderIn, orders::OrderLineIn, orders::OrderOut, orders::OrderLineOut, orders::OrderPage, orders::StatusIn, orders::AmendIn, pricing::PriceIn, pricing::ContractIn, pricing::PriceListIn, pricing::UpsertOut)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document (no token needed).
#[utoipa::path(get, path = "/api/v1/openapi.json", security(()), responses(
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
    /// A stable reason code where there is one (e.g. `out_of_stock`, `not_available`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
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

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid request",
            detail: message.clone(),
            errors: vec![ProblemField { field: field.into(), message, code: None }],
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
                    .map(|e| ProblemField { field: e.field, message: e.message, code: None })
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
                    })
                    .collect(),
            },
            ServiceError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request body; use a new key.",
            ),
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
        ApiError::invalid("body", r.body_text())
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
