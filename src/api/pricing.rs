//! Price lists and contracts over the API (scope `pricing:write`): each is upserted as a whole
//! document — header, assignments, every price — so an ERP sends what it has and Portico matches it.

use super::input::{Checks, MAX_PRIORITY, MAX_QUANTITY};
use super::{ApiCaller, ApiError, ApiJson, ApiPath};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::price_admin::{self, ContractDoc, PriceInput, PriceListDoc, Validity};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contracts/{number}", put(put_contract))
        .route("/api/v1/price-lists", get(list_price_lists))
        .route("/api/v1/price-lists/{code}", put(put_price_list))
}

fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

#[derive(Deserialize, ToSchema)]
pub struct PriceIn {
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sku: String,
    /// The tier starts at this quantity (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    min_qty: i64,
    /// Decimal string, e.g. "12.50" or "0.0125": up to 12 digits before the point, 4 after.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    unit_price: String,
}

/// The bounds the schema adds to the service's own checks of prices (which report every problem
/// of the document at once).
fn check_prices(checks: &mut Checks, prices: &[PriceIn]) {
    for (i, p) in prices.iter().enumerate() {
        checks.at_most(&format!("prices[{i}].min_qty"), p.min_qty, MAX_QUANTITY);
        checks.amount(&format!("prices[{i}].unit_price"), &p.unit_price);
    }
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
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: String,
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// First day valid (YYYY-MM-DD).
    #[schema(format = Date)]
    valid_from: Option<String>,
    /// Last day valid (YYYY-MM-DD).
    #[schema(format = Date)]
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

#[utoipa::path(put, path = "/api/v1/contracts/{number}", params(("number" = String, Path, description = "1–64 characters")), request_body = ContractIn,
    responses((status = 201, body = UpsertOut), (status = 200, body = UpsertOut), (status = 422, body = super::Problem, description = "every bad field and price (also: an unknown account or SKU, a day that does not exist, tiers that repeat); nothing changed")),
    security(("bearer" = ["pricing:write"])), tag = "pricing")]
pub async fn put_contract(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<ContractIn>, ApiError>,
) -> Result<(StatusCode, Json<UpsertOut>), ApiError> {
    caller.require(Scope::PricingWrite)?;
    let ApiPath(number) = path?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks.line("number", &number);
    checks.date_opt("valid_from", b.valid_from.as_deref()).date_opt("valid_to", b.valid_to.as_deref());
    check_prices(&mut checks, &b.prices);
    checks.done()?;
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
    #[schema(min_length = 1, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// Lower wins when several lists of the same kind apply (default 100).
    #[serde(default = "hundred")]
    #[schema(minimum = 0, maximum = 1_000_000)]
    priority: i64,
    /// First day valid (YYYY-MM-DD).
    #[schema(format = Date)]
    valid_from: Option<String>,
    /// Last day valid (YYYY-MM-DD).
    #[schema(format = Date)]
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

#[utoipa::path(put, path = "/api/v1/price-lists/{code}", params(("code" = String, Path, description = "1–32 characters")), request_body = PriceListIn,
    responses((status = 201, body = UpsertOut), (status = 200, body = UpsertOut), (status = 422, body = super::Problem, description = "every bad field and price (also: an unknown account, group or SKU, a day that does not exist, the base list's code); nothing changed")),
    security(("bearer" = ["pricing:write"])), tag = "pricing")]
pub async fn put_price_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<PriceListIn>, ApiError>,
) -> Result<(StatusCode, Json<UpsertOut>), ApiError> {
    caller.require(Scope::PricingWrite)?;
    let ApiPath(code) = path?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks.line("code", &code);
    checks.range("priority", b.priority, 0, MAX_PRIORITY);
    checks.date_opt("valid_from", b.valid_from.as_deref()).date_opt("valid_to", b.valid_to.as_deref());
    check_prices(&mut checks, &b.prices);
    checks.done()?;
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

/// A price list's header as an ERP pulls it (its prices: `portico export` today).
#[derive(Serialize, ToSchema)]
pub struct PriceListOut {
    id: String,
    code: String,
    name: String,
    /// The base list: every account's fallback.
    is_base: bool,
    priority: i64,
    #[schema(format = Date)]
    valid_from: Option<String>,
    #[schema(format = Date)]
    valid_to: Option<String>,
    /// How many prices (tiers included) it holds.
    prices: i64,
    /// Ids of the accounts it is assigned to.
    accounts: Vec<String>,
    /// Names of the account groups it is assigned to.
    groups: Vec<String>,
    created_at: i64,
    /// Changes when its header or prices change.
    updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PriceListPage {
    price_lists: Vec<PriceListOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Price lists created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/price-lists", params(super::paging::ChangesParams), responses((status = 200, body = PriceListPage)),
    security(("bearer" = ["pricing:read"])), tag = "pricing")]
pub async fn list_price_lists(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<super::ApiQuery<super::paging::ChangesParams>, ApiError>,
) -> Result<Json<PriceListPage>, ApiError> {
    caller.require(Scope::PricingRead)?;
    let super::ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows =
        price_admin::price_lists_changed_since(&state.db, &actor(&caller), c.since, c.after(), c.limit + 1).await?;
    let next_cursor =
        super::paging::cut_page(&mut rows, c.limit, |(l, _, _)| super::paging::cursor_of(l.updated_at, &l.id));
    let price_lists = rows
        .into_iter()
        .map(|(l, accounts, groups)| PriceListOut {
            id: l.id,
            code: l.code,
            name: l.name,
            is_base: l.is_base,
            priority: l.priority,
            valid_from: l.valid_from,
            valid_to: l.valid_to,
            prices: l.prices,
            accounts,
            groups,
            created_at: l.created_at,
            updated_at: l.updated_at,
        })
        .collect();
    Ok(Json(PriceListPage { price_lists, next_cursor }))
}
