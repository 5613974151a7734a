//! Orders over the API (channel `api`): create with an `Idempotency-Key`, get, list by cursor with
//! `updated_since` (how an ERP pulls), confirm, cancel, amend. Creation goes through the same
//! placement pipeline as every other channel; prices are always computed by the server.

use super::input::{Checks, MAX_LINES, MAX_SECONDS, canonical, idempotency_key, recorded_json, reference};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::money::Money;
use crate::domain::orders::OrderStatus;
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::orders::{
    self as order_service, Amendment, LineInput, OrderHeader, OrderLineRow, OrderRow, PlaceOrder, Placement, ProductRef,
};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", post(create_order).get(list_orders))
        .route("/api/v1/orders/{id}", get(get_order))
        .route("/api/v1/orders/{id}/confirm", post(confirm_order))
        .route("/api/v1/orders/{id}/cancel", post(cancel_order))
        .route("/api/v1/orders/{id}/amend", post(amend_order))
}

pub(super) fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

/// A line to order: by SKU or by the product's external (ERP) id.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct OrderLineIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    external_id: Option<String>,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OrderIn {
    /// Account id, number (A-10001) or external (ERP) id.
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: String,
    /// 1 to 1,000 lines.
    #[schema(min_items = 1, max_items = 1000)]
    lines: Vec<OrderLineIn>,
    /// Ship-to id; the account's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    ship_to_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    po_number: String,
    /// YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    requested_date: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    notes: String,
}

/// The bounds of an order's lines and header, the same for a new order and an amendment.
fn check_order(
    lines: &[OrderLineIn],
    po_number: &str,
    requested_date: Option<&str>,
    notes: &str,
) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    checks.items("lines", lines.len(), 1, MAX_LINES);
    // Quantities outside 1..=1,000,000 are the pipeline's to refuse, with the reason code every
    // channel gives (`quantity`, `quantity_too_large`), naming the line.
    checks
        .chars("po_number", po_number, 0, 64)
        .date_opt("requested_date", requested_date)
        .chars("notes", notes, 0, 2000);
    checks.done()
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineOut {
    line: i64,
    sku: String,
    name: String,
    quantity: i64,
    uom: String,
    /// Decimal string, exact.
    unit_price: String,
    list_price: Option<String>,
    line_total: String,
    price_source: String,
    price_explanation: String,
    reserved: i64,
    backordered: i64,
    /// Units shipped so far (see the order's shipments).
    shipped: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrderOut {
    id: String,
    number: String,
    account_id: String,
    status: String,
    channel: String,
    placed_by: String,
    placed_by_name: String,
    on_behalf_of: Option<String>,
    ship_to_id: Option<String>,
    ship_to: String,
    po_number: String,
    requested_date: Option<String>,
    notes: String,
    terms_days: i64,
    subtotal: String,
    backordered: bool,
    /// Why the order was diverted (e.g. credit hold), if it was.
    reasons: String,
    revision: i64,
    /// Send it back as `expected_version` to amend, confirm or cancel.
    version: i64,
    placed_at: i64,
    updated_at: i64,
    lines: Vec<OrderLineOut>,
}

fn money(raw: i64) -> String {
    Money::from_raw(raw).to_plain()
}

pub fn order_out(o: &OrderRow, lines: &[OrderLineRow]) -> OrderOut {
    OrderOut {
        id: o.id.clone(),
        number: o.number.clone(),
        account_id: o.account_id.clone(),
        status: o.status.clone(),
        channel: o.channel.clone(),
        placed_by: o.placed_by_user_id.clone(),
        placed_by_name: o.placed_by_name.clone(),
        on_behalf_of: o.on_behalf_of_account_id.clone(),
        ship_to_id: o.ship_to_id.clone(),
        ship_to: o.ship_to_text.clone(),
        po_number: o.po_number.clone(),
        requested_date: o.requested_date.clone(),
        notes: o.notes.clone(),
        terms_days: o.terms_days,
        subtotal: money(o.subtotal),
        backordered: o.backordered,
        reasons: o.reasons.clone(),
        revision: o.revision,
        version: o.version,
        placed_at: o.placed_at,
        updated_at: o.updated_at,
        lines: lines
            .iter()
            .map(|l| OrderLineOut {
                line: l.line_no,
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity,
                uom: l.uom.clone(),
                unit_price: money(l.unit_price),
                list_price: l.list_price.map(money),
                line_total: money(l.line_total),
                price_source: l.price_source.clone(),
                price_explanation: l.price_explanation.clone(),
                reserved: l.reserved_qty,
                backordered: l.backordered_qty,
                shipped: l.shipped_qty,
            })
            .collect(),
    }
}

fn lines_in(lines: &[OrderLineIn]) -> Result<Vec<LineInput>, ApiError> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let product = match (&l.sku, &l.external_id) {
                (Some(s), None) => ProductRef::sku(s),
                (None, Some(e)) => ProductRef::ExternalId(e.trim().to_string()),
                _ => return Err(ApiError::invalid(&format!("lines[{i}]"), "give exactly one of sku or external_id")),
            };
            Ok(LineInput { product, quantity: l.quantity })
        })
        .collect()
}

#[utoipa::path(post, path = "/api/v1/orders", request_body = OrderIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and body return the first response (status and body, with `idempotent-replayed: true`); another body with the key is 422; a retry while the first is running is 409. Keys are kept per token and operation.")),
    responses(
        (status = 201, body = OrderOut), (status = 404, body = super::Problem, description = "unknown account"),
        (status = 409, body = super::Problem, description = "same key still in flight"),
        (status = 422, body = super::Problem, description = "invalid (also: an unknown ship-to, a day that does not exist), or blocked (every reason listed with its code: stock, quantity rules, credit…), or key reused with another body")
    ), security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn create_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<ApiJson<OrderIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::OrdersWrite)?;
    let ApiJson(b) = body?;
    check_order(&b.lines, &b.po_number, b.requested_date.as_deref(), &b.notes)?;
    let idem = idempotency_key(&headers, &caller, None, &canonical(&b)?)?;
    let req = PlaceOrder {
        account_id: find_account(&state.db, &actor(&caller), &b.account).await?.id,
        lines: lines_in(&b.lines)?,
        header: OrderHeader {
            ship_to_id: b.ship_to_id.clone(),
            po_number: b.po_number.clone(),
            requested_date: b.requested_date.clone(),
            notes: b.notes.clone(),
        },
        clear_cart: false,
    };
    let placed =
        order_service::place_order(&state.db, state.now(), &actor(&caller), &req, idem.as_ref(), |o, lines| {
            (201, serde_json::to_string(&order_out(o, lines)).unwrap_or_default())
        })
        .await?;
    Ok(match placed {
        Placement::Placed { response, .. } => recorded_json(201, response.1, false),
        Placement::Replayed { status, body, .. } => recorded_json(status, body, true),
    })
}

/// The order named in the path and the body of a decision on it (release, reject, complete, send
/// back), once the caller's scope and the fields are checked.
pub(super) fn decision(
    caller: &ApiCaller,
    scope: Scope,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<(String, StatusIn), ApiError> {
    caller.require(scope)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    Checks::default()
        .range_opt("expected_version", b.expected_version, 0, MAX_SECONDS)
        .line("reason", &b.reason)
        .done()?;
    Ok((id, b))
}

pub(super) async fn load(state: &AppState, caller: &ApiCaller, id: &str) -> Result<Json<OrderOut>, ApiError> {
    let (o, lines) = order_service::order_with_lines(&state.db, &actor(caller), id).await?;
    Ok(Json(order_out(&o, &lines)))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", params(("id" = String, Path, description = "Order id or number (SO-100001)")),
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem)),
    security(("bearer" = ["orders:read"])), tag = "orders")]
pub async fn get_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    caller.require(Scope::OrdersRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    load(&state, &caller, &id).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Unix seconds: orders created or changed at or after this time.
    #[param(minimum = 0, maximum = 253_402_300_799_i64)]
    updated_since: Option<i64>,
    /// Only this account (id, number or external id).
    account: Option<String>,
    /// Only orders now in this status (e.g. `on_hold` for the credit queue, `escalated`,
    /// `pending_approval`).
    #[param(
        pattern = r"^(draft|pending_approval|placed|escalated|confirmed|partially_shipped|shipped|closed|cancelled|on_hold)$"
    )]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.([2-6][0-9a-fA-F]|7[0-9a-eA-E]){1,64}$")]
    cursor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    orders: Vec<OrderOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orders", params(ListParams), responses(
    (status = 200, body = OrderPage), (status = 404, description = "no such account", body = super::Problem)
), security(("bearer" = ["orders:read"])), tag = "orders")]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ListParams>, ApiError>,
) -> Result<Json<OrderPage>, ApiError> {
    caller.require(Scope::OrdersRead)?;
    let ApiQuery(p) = query?;
    let limit = super::catalog::page_limit(p.limit)?;
    Checks::default().range_opt("updated_since", p.updated_since, 0, MAX_SECONDS).done()?;
    if let Some(account) = &p.account {
        reference(account)?;
    }
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "one of draft, pending_approval, placed, escalated, confirmed, partially_shipped, shipped, closed, cancelled, on_hold")
        })?),
    };
    let after = p.cursor.as_deref().map(order_cursor).transpose()?;
    let mut rows = order_service::orders_changed_since(
        &state.db,
        &actor(&caller),
        p.updated_since.unwrap_or(0),
        p.account.as_deref(),
        status,
        after.as_ref().map(|(a, i)| (*a, i.as_str())),
        limit + 1,
    )
    .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(o, _)| format!("{}.{}", o.updated_at, hex::encode(&o.id)))
    } else {
        None
    };
    let out = rows.iter().map(|(o, lines)| order_out(o, lines)).collect();
    Ok(Json(OrderPage { orders: out, next_cursor }))
}

/// An orders cursor: `<updated_at>.<hex of the order id>` of the last order of the previous page.
pub(super) fn order_cursor(c: &str) -> Result<(i64, String), ApiError> {
    super::paging::change_cursor(c)
}

#[derive(Deserialize, ToSchema)]
pub struct StatusIn {
    /// The `version` you last saw; a stale version is refused with 409.
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    pub(super) expected_version: Option<i64>,
    /// Why (needed to cancel; the customer sees it).
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) reason: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/confirm", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order cannot be confirmed in its state", body = super::Problem)),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn confirm_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    caller.require(Scope::OrdersWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    Checks::default().range_opt("expected_version", b.expected_version, 0, MAX_SECONDS).done()?;
    let o = order_service::confirm_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version).await?;
    load(&state, &caller, &o.id).await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order cannot be cancelled in its state", body = super::Problem),
    (status = 422, description = "no reason given, or a bad field", body = super::Problem)),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn cancel_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    caller.require(Scope::OrdersWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    Checks::default().range_opt("expected_version", b.expected_version, 0, MAX_SECONDS).done()?;
    let o = order_service::cancel_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version, &b.reason)
        .await?;
    load(&state, &caller, &o.id).await
}

#[derive(Deserialize, ToSchema)]
pub struct AmendIn {
    /// The `version` you last saw; a stale version is refused with 409.
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    expected_version: i64,
    /// The complete new set of lines (1 to 1,000).
    #[schema(min_items = 1, max_items = 1000)]
    lines: Vec<OrderLineIn>,
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    ship_to_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    po_number: String,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    requested_date: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    notes: String,
    /// Why the order changes (the customer sees it).
    #[schema(min_length = 1, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/amend", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = AmendIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, body = super::Problem, description = "stale expected_version, or the order can no longer be amended"),
    (status = 422, body = super::Problem, description = "invalid (also: nothing changed, a blank reason), or blocked (every reason listed with its code)")),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn amend_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<AmendIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    caller.require(Scope::OrdersWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    Checks::default().range("expected_version", b.expected_version, 0, MAX_SECONDS).done()?;
    check_order(&b.lines, &b.po_number, b.requested_date.as_deref(), &b.notes)?;
    let a = Amendment {
        expected_version: b.expected_version,
        lines: lines_in(&b.lines)?,
        header: OrderHeader {
            ship_to_id: b.ship_to_id,
            po_number: b.po_number,
            requested_date: b.requested_date,
            notes: b.notes,
        },
        reason: b.reason,
    };
    let o = order_service::amend_order(&state.db, state.now(), &actor(&caller), &id, &a).await?;
    load(&state, &caller, &o.id).await
}
