//! Products, stock adjustments and batch price quotes over the API.

use super::input::{Checks, MAX_QUANTITY, MAX_STOCK_DELTA, MAX_STOCK_LEVEL, reference};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::catalog::Sku;
use crate::domain::pricing::format_iso_date;
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::catalog::{self as catalog_service, CatalogRecord, ProductDraft, QuoteOutcome};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/products", get(list_products))
        .route("/api/v1/products/{sku}", get(get_product).put(put_product))
        .route("/api/v1/stock/adjustments", post(adjust_stock))
        .route("/api/v1/stock/levels/{sku}/{warehouse}", put(set_stock_level))
        .route("/api/v1/accounts/{account}/price-quote", post(price_quote))
}

fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

/// A product as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct ProductOut {
    sku: String,
    name: String,
    description: String,
    /// Category path, e.g. "Medical / Gloves".
    category: Option<String>,
    uom: String,
    pack_size: i64,
    min_qty: i64,
    multiple_qty: i64,
    max_qty: Option<i64>,
    active: bool,
    /// `deny` or `allow`.
    backorder: String,
    /// The regulated class (licence rules apply to it), if any.
    regulated_class: Option<String>,
    image_url: Option<String>,
    external_id: Option<String>,
}

fn product_out(r: CatalogRecord) -> ProductOut {
    let p = r.product;
    ProductOut {
        category: r.category_path,
        sku: p.sku,
        name: p.name,
        description: p.description,
        uom: p.uom,
        pack_size: p.pack_size,
        min_qty: p.min_qty,
        multiple_qty: p.multiple_qty,
        max_qty: p.max_qty,
        active: p.active,
        backorder: p.backorder_policy,
        regulated_class: p.regulated_class,
        image_url: p.image_url,
        external_id: p.external_id,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    products: Vec<ProductOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// The page size asked for: 1–500, 100 when absent.
pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    Checks::default().range("limit", limit, 1, 500).done()?;
    Ok(limit)
}

/// Products (active or not) created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/products", params(super::paging::ChangesParams), responses(
    (status = 200, body = ProductPage)
), security(("bearer" = ["catalog:read"])), tag = "catalog")]
pub async fn list_products(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<super::paging::ChangesParams>, ApiError>,
) -> Result<Json<ProductPage>, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows =
        catalog_service::records_changed_since(&state.db, &actor(&caller), c.since, c.after(), c.limit + 1).await?;
    let next_cursor =
        super::paging::cut_page(&mut rows, c.limit, |r| super::paging::cursor_of(r.product.updated_at, &r.product.id));
    Ok(Json(ProductPage { products: rows.into_iter().map(product_out).collect(), next_cursor }))
}

/// One product by SKU.
#[utoipa::path(get, path = "/api/v1/products/{sku}", params(("sku" = String, Path)), responses(
    (status = 200, body = ProductOut), (status = 404, description = "no product with this SKU", body = super::Problem)
), security(("bearer" = ["catalog:read"])), tag = "catalog")]
pub async fn get_product(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<ProductOut>, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let ApiPath(sku) = path?;
    reference(&sku)?;
    Ok(Json(product_out(catalog_service::record_by_sku(&state.db, &actor(&caller), &sku).await?)))
}

/// A product to create or replace (by SKU in the path). Omitted fields take their defaults.
#[derive(Deserialize, ToSchema)]
pub struct ProductIn {
    #[schema(min_length = 1, max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    description: String,
    /// Category path, e.g. "Medical / Gloves".
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    category: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    uom: String,
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pack_size: i64,
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    min_qty: i64,
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    multiple_qty: i64,
    #[schema(minimum = 1, maximum = 1_000_000)]
    max_qty: Option<i64>,
    #[serde(default = "yes")]
    active: bool,
    /// `deny` (default) or `allow`.
    #[serde(default = "deny")]
    #[schema(pattern = "^(deny|allow)$")]
    backorder: String,
    /// The regulated class licence rules name (e.g. `controlled_substance`; written as a class code:
    /// "Controlled substance" becomes `controlled_substance`); empty or absent: not regulated.
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    regulated_class: Option<String>,
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    image_url: Option<String>,
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    external_id: Option<String>,
    /// Searchable attributes, e.g. {"Size": "M"}.
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

impl ProductIn {
    /// The bounds the schema declares; the rest (SKU, category, backorder, rules across fields)
    /// the service checks, reporting every problem at once.
    fn check(&self) -> Result<(), ApiError> {
        Checks::default()
            .chars("name", &self.name, 1, 300)
            .range("pack_size", self.pack_size, 1, MAX_QUANTITY)
            .range("min_qty", self.min_qty, 1, MAX_QUANTITY)
            .range("multiple_qty", self.multiple_qty, 1, MAX_QUANTITY)
            .range_opt("max_qty", self.max_qty, 1, MAX_QUANTITY)
            .done()
    }
}

fn one() -> i64 {
    1
}
fn yes() -> bool {
    true
}
fn deny() -> String {
    "deny".into()
}

/// Create or update a product by SKU (idempotent: the same body twice changes nothing more).
#[utoipa::path(put, path = "/api/v1/products/{sku}", params(("sku" = String, Path, description = "1–64 letters, digits and - . _ /")), request_body = ProductIn, responses(
    (status = 200, description = "updated", body = ProductOut), (status = 201, description = "created", body = ProductOut),
    (status = 422, description = "every bad field (also: a SKU or external id another product has, quantity rules that contradict each other); nothing changed", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn put_product(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<ProductIn>, ApiError>,
) -> Result<(StatusCode, Json<ProductOut>), ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiPath(sku) = path?;
    let ApiJson(b) = body?;
    Checks::default().line("sku", &sku).done()?;
    b.check()?;
    let draft = ProductDraft {
        sku,
        name: b.name,
        description: b.description,
        category: b.category,
        uom: b.uom,
        pack_size: b.pack_size,
        min_qty: b.min_qty,
        multiple_qty: b.multiple_qty,
        max_qty: b.max_qty,
        image_url: b.image_url,
        regulated_class: b.regulated_class,
        active: b.active,
        backorder: b.backorder,
        external_id: b.external_id,
        attributes: b.attributes.into_iter().collect(),
    };
    let (row, created) = catalog_service::upsert_product(&state.db, state.now(), &actor(&caller), &draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(product_out(catalog_service::catalog_record(&state.db, &actor(&caller), row).await?))))
}

#[derive(Deserialize, ToSchema)]
pub struct StockAdjustmentIn {
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sku: String,
    /// Warehouse code, e.g. "CHI".
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    warehouse: String,
    /// Units to add (negative to remove); not zero.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
    delta: i64,
    /// Why (e.g. "receipt", "damage"); journaled with the change.
    #[schema(min_length = 1, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct StockAdjustmentOut {
    sku: String,
    warehouse: String,
    on_hand: i64,
}

/// Adjust on-hand stock; refused (409, nothing changed) if it would go below zero or below reserved.
#[utoipa::path(post, path = "/api/v1/stock/adjustments", request_body = StockAdjustmentIn, responses(
    (status = 200, body = StockAdjustmentOut), (status = 404, description = "no product with this SKU", body = super::Problem),
    (status = 409, description = "it would go below zero or below what is reserved", body = super::Problem),
    (status = 422, description = "every bad field (also: a zero delta, an unknown warehouse, a blank reason, a level beyond 1,000,000,000)", body = super::Problem)
), security(("bearer" = ["stock:write"])), tag = "stock")]
pub async fn adjust_stock(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<StockAdjustmentIn>, ApiError>,
) -> Result<Json<StockAdjustmentOut>, ApiError> {
    caller.require(Scope::StockWrite)?;
    let ApiJson(b) = body?;
    Checks::default().range("delta", b.delta, -MAX_STOCK_DELTA, MAX_STOCK_DELTA).done()?;
    let on_hand = crate::service::inventory::adjust_stock(
        &state.db,
        state.now(),
        &actor(&caller),
        &b.sku,
        &b.warehouse,
        b.delta,
        &b.reason,
    )
    .await?;
    Ok(Json(StockAdjustmentOut { sku: Sku::normalize(&b.sku), warehouse: b.warehouse.trim().to_uppercase(), on_hand }))
}

#[derive(Deserialize, ToSchema)]
pub struct StockLevelIn {
    /// The counted quantity on hand (not a change).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    on_hand: i64,
    /// Why (e.g. "ERP sync", "cycle count"); journaled with the change.
    #[schema(min_length = 1, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: String,
}

/// Set on-hand stock of a SKU in a warehouse to a counted quantity; journaled as an adjustment by
/// the difference. Refused (409, nothing changed) below what is reserved for open orders.
#[utoipa::path(put, path = "/api/v1/stock/levels/{sku}/{warehouse}", params(("sku" = String, Path), ("warehouse" = String, Path, description = "Warehouse code")),
    request_body = StockLevelIn, responses(
    (status = 200, body = StockAdjustmentOut), (status = 404, description = "no product with this SKU", body = super::Problem),
    (status = 409, description = "below what is reserved for open orders", body = super::Problem),
    (status = 422, description = "every bad field (also: an unknown warehouse, a blank reason)", body = super::Problem)
), security(("bearer" = ["stock:write"])), tag = "stock")]
pub async fn set_stock_level(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<StockLevelIn>, ApiError>,
) -> Result<Json<StockAdjustmentOut>, ApiError> {
    caller.require(Scope::StockWrite)?;
    let ApiPath((sku, warehouse)) = path?;
    reference(&sku)?;
    reference(&warehouse)?;
    let ApiJson(b) = body?;
    Checks::default().range("on_hand", b.on_hand, 0, MAX_STOCK_LEVEL).done()?;
    let on_hand = crate::service::inventory::set_on_hand(
        &state.db,
        state.now(),
        &actor(&caller),
        &sku,
        &warehouse,
        b.on_hand,
        &b.reason,
    )
    .await?;
    Ok(Json(StockAdjustmentOut { sku: Sku::normalize(&sku), warehouse: warehouse.trim().to_uppercase(), on_hand }))
}

#[derive(Deserialize, ToSchema)]
pub struct QuoteLineIn {
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sku: String,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct QuoteIn {
    /// 1 to 1,000 lines.
    #[schema(min_items = 1, max_items = 1000)]
    lines: Vec<QuoteLineIn>,
}

/// Why the price is what it is.
#[derive(Serialize, ToSchema)]
pub struct PriceExplanationOut {
    /// `contract`, `account_list`, `group_list` or `base`.
    source: String,
    source_id: String,
    source_name: String,
    tier_min_qty: i64,
    /// Last day the source is valid (YYYY-MM-DD), if it ends.
    valid_to: Option<String>,
    /// The base list price at this quantity, for comparison.
    list_price: Option<String>,
    /// The explanation in words.
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct LineError {
    /// The reason code an order of this line would give (the same on every channel):
    /// `unknown_sku`, `not_available`, `quantity`, `quantity_too_large`, `below_minimum`,
    /// `not_multiple`, `above_maximum` or `no_price`.
    code: String,
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteLineOut {
    sku: String,
    quantity: i64,
    /// Unit price as a decimal string, e.g. "12.50" or "0.0125".
    unit_price: Option<String>,
    /// Unit price × quantity, rounded to cents (half away from zero).
    line_total: Option<String>,
    explanation: Option<PriceExplanationOut>,
    error: Option<LineError>,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteOut {
    account_id: String,
    lines: Vec<QuoteLineOut>,
    /// Sum of the priced lines.
    total: String,
}

/// Price many lines for an account at once — the account's own prices, with explanations. Lines
/// that cannot be priced carry an error instead; the rest are still priced.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/price-quote", params(("account" = String, Path, description = "Account id, number (A-10001) or external (ERP) id")),
    request_body = QuoteIn, responses((status = 200, body = QuoteOut), (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["pricing:read"])), tag = "pricing")]
pub async fn price_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<QuoteIn>, ApiError>,
) -> Result<Json<QuoteOut>, ApiError> {
    caller.require(Scope::PricingRead)?;
    let ApiPath(account) = path?;
    reference(&account)?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks.items("lines", b.lines.len(), 1, super::input::MAX_LINES);
    for (i, l) in b.lines.iter().enumerate() {
        checks.range(&format!("lines[{i}].quantity"), l.quantity, 1, MAX_QUANTITY);
    }
    checks.done()?;
    let db = &state.db;
    let account_id = find_account(db, &actor(&caller), &account).await?.id;
    let lines: Vec<(String, i64)> = b.lines.into_iter().map(|l| (l.sku, l.quantity)).collect();
    let quoted = catalog_service::quote(db, state.now(), &actor(&caller), &account_id, &lines).await?;
    let mut total = crate::domain::money::Money::ZERO;
    let lines = quoted
        .into_iter()
        .map(|l| match l.outcome {
            QuoteOutcome::Priced { price, line_total } => {
                total = total.checked_add(line_total).unwrap_or(total);
                QuoteLineOut {
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_price: Some(price.unit_price.to_plain()),
                    line_total: Some(line_total.to_plain()),
                    explanation: Some(PriceExplanationOut {
                        text: price.explain(),
                        source: price.kind.as_str().into(),
                        source_id: price.source_id,
                        source_name: price.source_name,
                        tier_min_qty: price.tier_min_qty,
                        valid_to: price.valid_to.map(format_iso_date),
                        list_price: price.list_price.map(|m| m.to_plain()),
                    }),
                    error: None,
                }
            }
            QuoteOutcome::Refused { code, reason } => QuoteLineOut {
                sku: l.sku,
                quantity: l.quantity,
                unit_price: None,
                line_total: None,
                explanation: None,
                error: Some(LineError { code: code.into(), reason }),
            },
        })
        .collect();
    Ok(Json(QuoteOut { account_id, lines, total: total.to_plain() }))
}
