//! Price lists and contracts over the API (scope `pricing:write`): each is upserted as a whole
//! document — header, assignments, every price — so an ERP sends what it has and Portico matches it.

use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::service::Actor;
use crate::service::price_admin::{self, ContractDoc, PriceInput, PriceListDoc, Validity};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contracts/{number}", put(put_contract))
        .route("/api/v1/price-lists/{code}", put(put_price_list))
}

fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

#[derive(Deserialize, ToSchema)]
pub struct PriceIn {
    sku: String,
    /// The tier starts at this quantity (default 1).
    #[serde(default = "one")]
    min_qty: i64,
    /// Decimal string, e.g. "12.50" or "0.0125".
    unit_price: String,
}

fn one() -> i64 {
    1
}

fn prices(p: Vec<PriceIn>) -> Vec<PriceInput> {
    p.into_iter().map(|p| PriceInput { sku: p.sku, min_qty: p.min_qty, unit_price: p.unit_price }).collect()
}

#[derive(Deserialize, ToSchema)]
pub struct ContractIn {
    /// Account id, number (A-10001) or external (ERP) id.
    account: String,
    #[serde(default)]
    name: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    /// Every price of the contract; prices not listed are removed.
    prices: Vec<PriceIn>,
}

#[derive(Serialize, ToSchema)]
pub struct UpsertOut {
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
}

#[utoipa::path(put, path = "/api/v1/contracts/{number}", params(("number" = String, Path)), request_body = ContractIn,
    responses((status = 201, body = UpsertOut), (status = 200, body = UpsertOut), (status = 422, body = super::Problem, description = "every bad field and price, nothing changed")), tag = "pricing")]
pub async fn put_contract(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(number): Path<String>,
    body: Result<Json<ContractIn>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<UpsertOut>), ApiError> {
    let Json(b) = body?;
    let doc = ContractDoc {
        number,
        account: b.account,
        name: b.name,
        validity: Validity { valid_from: b.valid_from, valid_to: b.valid_to },
        prices: prices(b.prices),
    };
    let r = price_admin::upsert_contract(&state.db, state.now(), &actor(&caller), &doc).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(UpsertOut { created: r.created, changed: r.changed })))
}

#[derive(Deserialize, ToSchema)]
pub struct PriceListIn {
    name: String,
    /// Lower wins when several lists of the same kind apply (default 100).
    #[serde(default = "hundred")]
    priority: i64,
    valid_from: Option<String>,
    valid_to: Option<String>,
    /// Accounts (id, number or ERP id) the list applies to; absent keeps the current assignments.
    accounts: Option<Vec<String>>,
    /// Account groups (by name) the list applies to; absent keeps the current assignments.
    groups: Option<Vec<String>>,
    /// Every price of the list; prices not listed are removed.
    prices: Vec<PriceIn>,
}

fn hundred() -> i64 {
    100
}

#[utoipa::path(put, path = "/api/v1/price-lists/{code}", params(("code" = String, Path)), request_body = PriceListIn,
    responses((status = 201, body = UpsertOut), (status = 200, body = UpsertOut), (status = 422, body = super::Problem)), tag = "pricing")]
pub async fn put_price_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(code): Path<String>,
    body: Result<Json<PriceListIn>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<UpsertOut>), ApiError> {
    let Json(b) = body?;
    let doc = PriceListDoc {
        code,
        name: b.name,
        priority: b.priority,
        validity: Validity { valid_from: b.valid_from, valid_to: b.valid_to },
        accounts: b.accounts,
        groups: b.groups,
        prices: prices(b.prices),
    };
    let r = price_admin::upsert_price_list(&state.db, state.now(), &actor(&caller), &doc).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(UpsertOut { created: r.created, changed: r.changed })))
}
