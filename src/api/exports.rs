//! CSV exports and the account and ship-to imports, for an ERP that moves whole files: each export
//! is a `GET` answering `text/csv`, streamed a page at a time (the same export as the command line
//! and the staff pages, `service::exports`), under the read scope of what it holds; the imports
//! take a `text/csv` body and answer what changed, or every bad row (422, nothing changed).

use super::{ApiCaller, ApiError, ProblemField};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::account_imports::{self, AccountImportReport};
use crate::service::exports::Export;
use crate::service::imports::{ImportError, Kind};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

/// The largest import file the API takes.
const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports/products", get(export_products))
        .route("/api/v1/exports/stock", get(export_stock))
        .route("/api/v1/exports/price-lists", get(export_price_lists))
        .route("/api/v1/exports/contract-prices", get(export_contract_prices))
        .route("/api/v1/exports/orders", get(export_orders))
        .route("/api/v1/exports/accounts", get(export_accounts))
        .route("/api/v1/exports/ship-tos", get(export_ship_tos))
        .route("/api/v1/imports/accounts", post(import_accounts).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .route("/api/v1/imports/ship-tos", post(import_ship_tos).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
}

/// Starts the export for the caller (who has `scope`) and streams it as the response body.
async fn stream(state: &AppState, caller: &ApiCaller, scope: Scope, kind: Kind) -> Result<Response, ApiError> {
    caller.require(scope)?;
    let export = Export::start(&state.db, &Actor::api(&caller.0), kind).await?;
    let disposition = format!("attachment; filename=\"{}\"", kind.file_name());
    let headers =
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)];
    Ok((headers, Body::from_stream(export.into_stream())).into_response())
}

/// Every product, by SKU (columns: docs/csv.md). Imports back unchanged with `portico import products`.
#[utoipa::path(get, path = "/api/v1/exports/products",
    responses((status = 200, description = "The product file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["catalog:read"])), tag = "exports")]
pub async fn export_products(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::CatalogRead, Kind::Products).await
}

/// Every stock row (product and warehouse), by SKU and warehouse code (columns: docs/csv.md).
#[utoipa::path(get, path = "/api/v1/exports/stock",
    responses((status = 200, description = "The stock file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["catalog:read"])), tag = "exports")]
pub async fn export_stock(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::CatalogRead, Kind::Stock).await
}

/// Every price list price, by list code, SKU and quantity (columns: docs/csv.md).
#[utoipa::path(get, path = "/api/v1/exports/price-lists",
    responses((status = 200, description = "The price list file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["pricing:read"])), tag = "exports")]
pub async fn export_price_lists(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::PricingRead, Kind::PriceLists).await
}

/// Every contract price, by contract number, SKU and quantity (columns: docs/csv.md).
#[utoipa::path(get, path = "/api/v1/exports/contract-prices",
    responses((status = 200, description = "The contract price file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["pricing:read"])), tag = "exports")]
pub async fn export_contract_prices(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::PricingRead, Kind::ContractPrices).await
}

/// Every line of every order (drafts aside), by order number and line, with its order's header
/// (columns: docs/csv.md).
#[utoipa::path(get, path = "/api/v1/exports/orders",
    responses((status = 200, description = "The order line file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["orders:read"])), tag = "exports")]
pub async fn export_orders(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::OrdersRead, Kind::Orders).await
}

/// Every account, by number (columns: docs/csv.md); `POST /api/v1/imports/accounts` takes it back
/// unchanged.
#[utoipa::path(get, path = "/api/v1/exports/accounts",
    responses((status = 200, description = "The account file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["accounts:read"])), tag = "exports")]
pub async fn export_accounts(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::AccountsRead, Kind::Accounts).await
}

/// Every ship-to of every account, by account number (columns: docs/csv.md);
/// `POST /api/v1/imports/ship-tos` takes it back unchanged.
#[utoipa::path(get, path = "/api/v1/exports/ship-tos",
    responses((status = 200, description = "The ship-to file, streamed", content_type = "text/csv", body = String)),
    security(("bearer" = ["accounts:read"])), tag = "exports")]
pub async fn export_ship_tos(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    stream(&state, &caller, Scope::AccountsRead, Kind::ShipTos).await
}

/// What an import changed.
#[derive(Serialize, ToSchema)]
pub struct ImportOut {
    /// Data rows read.
    rows: u64,
    created: u64,
    /// Rows that changed what was stored (rows equal to it write nothing).
    updated: u64,
}

/// An import's answer: what changed, or every bad row as a problem with its line and column.
fn import_answer(r: Result<AccountImportReport, ImportError>) -> Result<Json<ImportOut>, ApiError> {
    match r {
        Ok(r) => Ok(Json(ImportOut { rows: r.rows, created: r.created, updated: r.updated })),
        Err(ImportError::Invalid(errors)) => Err(ApiError::problems(
            errors
                .into_iter()
                .map(|e| ProblemField {
                    field: format!("line {}, {}", e.line, e.column),
                    message: e.reason,
                    line: Some(e.line),
                    column: Some(e.column).filter(|c| c != "-"),
                    ..Default::default()
                })
                .collect(),
        )),
        Err(ImportError::Service(e)) => Err(ApiError::from(e)),
    }
}

/// Creates and updates accounts from a CSV file (columns: docs/csv.md; an export from
/// `GET /api/v1/exports/accounts` imports back unchanged). A row with a `number` updates that
/// account; a row without one is keyed by `external_id` (created when no account has it). A
/// column left out of the file keeps what is stored. All or nothing: any bad row refuses the whole
/// file (422, every problem with its `line` and `column`) and nothing changes. Rows equal to what
/// is stored write nothing, so sending the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/imports/accounts",
    request_body(content = String, content_type = "text/csv", description = "The account file, UTF-8, at most 16 MB."),
    responses(
    (status = 200, body = ImportOut, description = "imported"),
    (status = 413, body = super::Problem, description = "the file is larger than 16 MB"),
    (status = 415, body = super::Problem, description = "the body is not text/csv"),
    (status = 422, body = super::Problem, description = "bad rows (every one listed with its line and column; nothing changed)")
), security(("bearer" = ["accounts:write"])), tag = "exports")]
pub async fn import_accounts(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportOut>, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let bytes = super::input::csv_body(&headers, body, "16 MB")?;
    let actor = Actor::api(&caller.0);
    import_answer(account_imports::import_accounts(&state.db, state.now(), &actor, &bytes[..], |_| {}).await)
}

/// Creates and updates ship-tos from a CSV file (columns: docs/csv.md; an export from
/// `GET /api/v1/exports/ship-tos` imports back unchanged). A row with an `id` updates that ship-to;
/// a row without one is keyed by `external_id` within its account (created when new). All or
/// nothing, like the account import.
#[utoipa::path(post, path = "/api/v1/imports/ship-tos",
    request_body(content = String, content_type = "text/csv", description = "The ship-to file, UTF-8, at most 16 MB."),
    responses(
    (status = 200, body = ImportOut, description = "imported"),
    (status = 413, body = super::Problem, description = "the file is larger than 16 MB"),
    (status = 415, body = super::Problem, description = "the body is not text/csv"),
    (status = 422, body = super::Problem, description = "bad rows (every one listed with its line and column; nothing changed)")
), security(("bearer" = ["accounts:write"])), tag = "exports")]
pub async fn import_ship_tos(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportOut>, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let bytes = super::input::csv_body(&headers, body, "16 MB")?;
    let actor = Actor::api(&caller.0);
    import_answer(account_imports::import_ship_tos(&state.db, state.now(), &actor, &bytes[..], |_| {}).await)
}
