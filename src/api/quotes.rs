//! Quotes over the API (issue 14 §2), for a CRM or CPQ tool and the ERP: create a quote for an
//! account, price it, send it (a discount past the seller's threshold still waits for a sales
//! manager — a person signs it off on the web), record the customer's acceptance (an order at the
//! quoted prices, through the one pipeline, under an `Idempotency-Key`) or decline, revise,
//! withdraw, write in its thread; read and list them by cursor. Scopes `quotes:read` and
//! `quotes:write`.

use super::input::{Checks, reference};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::money::Money;
use crate::domain::quotes::QuoteStatus;
use crate::service::accounts::find_account;
use crate::service::idempotency::{IdemKey, Keyed};
use crate::service::orders::{OrderHeader, ProductRef};
use crate::service::quotes::{self as service, NewQuote, QuoteLineInput, QuoteView};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/quotes", post(create_quote).get(list_quotes))
        .route("/api/v1/quotes/{id}", get(get_quote))
        .route("/api/v1/quotes/{id}/lines", put(price_quote))
        .route("/api/v1/quotes/{id}/send", post(send_quote))
        .route("/api/v1/quotes/{id}/accept", post(accept_quote))
        .route("/api/v1/quotes/{id}/decline", post(decline_quote))
        .route("/api/v1/quotes/{id}/revise", post(revise_quote))
        .route("/api/v1/quotes/{id}/withdraw", post(withdraw_quote))
        .route("/api/v1/quotes/{id}/messages", post(post_message))
}

/// A quote line: the product by SKU or external id, the quantity, and optionally the price.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct SalesQuoteLineIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    external_id: Option<String>,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
    /// The quoted unit price (decimal string); the account's own price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    unit_price: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SalesQuoteIn {
    /// Account id, number (A-10001) or external (ERP) id.
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: String,
    /// 1 to 500 lines.
    #[schema(min_items = 1, max_items = 500)]
    lines: Vec<SalesQuoteLineIn>,
    /// Notes the customer reads.
    #[serde(default)]
    #[schema(max_length = 4000)]
    notes: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SalesQuotePriceIn {
    /// The `version` you last saw; a stale version is refused with 409.
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    expected_version: Option<i64>,
    /// The quote's lines from now on (they replace the current revision's).
    #[schema(min_items = 1, max_items = 500)]
    lines: Vec<SalesQuoteLineIn>,
}

#[derive(Deserialize, ToSchema)]
pub struct SalesQuoteSendIn {
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    expected_version: Option<i64>,
    /// The last day it can be accepted (today to a year ahead); the seller's default when absent.
    #[serde(default)]
    #[schema(format = Date)]
    expires_on: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SalesQuoteAcceptIn {
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    expected_version: Option<i64>,
    /// The line numbers accepted (1 to 500 of them); the others are not ordered.
    #[schema(min_items = 1, max_items = 500)]
    lines: Vec<i64>,
    /// Ship-to id; the account's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    ship_to_id: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$", max_length = 64)]
    po_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    requested_date: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SalesQuoteDecisionIn {
    #[schema(minimum = 0, maximum = 253_402_300_799_i64)]
    expected_version: Option<i64>,
    /// Why (optional).
    #[serde(default)]
    #[schema(max_length = 2000)]
    reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SalesQuoteMessageIn {
    /// 1 to 4,000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    body: String,
}

#[derive(Serialize, ToSchema)]
pub struct SalesQuoteLineOut {
    line: i64,
    sku: String,
    name: String,
    uom: String,
    quantity: i64,
    /// The quoted unit price (decimal string, exact).
    unit_price: String,
    /// The account's own price at this quantity when the line was priced.
    normal_price: Option<String>,
    /// What the customer asked to pay.
    target_price: Option<String>,
    /// The product's cost when priced (seller's data).
    cost: Option<String>,
    /// Below the account's own price, in basis points (negative: above it).
    discount_bp: Option<i64>,
    /// Margin on the quoted price, in basis points of it (negative: below cost).
    margin_bp: Option<i64>,
    line_total: String,
    /// Ordered when the quote was accepted.
    accepted: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SalesQuoteMessageOut {
    author: String,
    /// `seller` or `customer`.
    from: String,
    body: String,
    /// Unix seconds.
    at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SalesQuoteOut {
    id: String,
    number: String,
    account_id: String,
    account_name: String,
    /// `requested`, `draft`, `awaiting_signoff`, `sent`, `accepted`, `declined`, `expired` or
    /// `withdrawn` (a sent quote past its last day reads `expired`).
    status: String,
    /// Where it started: `portal` (the customer asked), `rep`, `phone` or `api`.
    origin: String,
    revision: i64,
    /// Pass as `expected_version` to change it.
    version: i64,
    requested_by: String,
    notes: String,
    #[schema(format = Date)]
    expires_on: Option<String>,
    /// Why it needs a sales manager's sign-off ("" if it does not).
    signoff_reasons: String,
    signed_off_by: Option<String>,
    /// The order it became, once accepted.
    order_id: Option<String>,
    order_number: Option<String>,
    subtotal: String,
    lines: Vec<SalesQuoteLineOut>,
    messages: Vec<SalesQuoteMessageOut>,
    created_at: i64,
    updated_at: i64,
}

fn money(raw: i64) -> String {
    Money::from_raw(raw).to_plain()
}

fn out(v: &QuoteView) -> SalesQuoteOut {
    let q = &v.quote;
    SalesQuoteOut {
        id: q.id.clone(),
        number: q.number.clone(),
        account_id: q.account_id.clone(),
        account_name: q.account_name.clone(),
        status: v.status.as_str().into(),
        origin: q.origin.clone(),
        revision: q.revision,
        version: q.version,
        requested_by: q.requested_by_name.clone(),
        notes: q.notes.clone(),
        expires_on: q.expires_on.clone(),
        signoff_reasons: q.signoff_reasons.clone(),
        signed_off_by: q.signed_off_by_name.clone(),
        order_id: q.order_id.clone(),
        order_number: q.order_number.clone(),
        subtotal: money(q.subtotal),
        lines: v
            .lines
            .iter()
            .map(|l| {
                let p = crate::domain::quotes::PricedLine {
                    line_no: l.row.line_no,
                    sku: l.row.sku.clone(),
                    quantity: l.row.quantity,
                    unit_price: l.unit(),
                    normal_price: l.normal(),
                    cost: l.cost(),
                };
                SalesQuoteLineOut {
                    line: l.row.line_no,
                    sku: l.row.sku.clone(),
                    name: l.row.name.clone(),
                    uom: l.row.uom.clone(),
                    quantity: l.row.quantity,
                    unit_price: money(l.row.unit_price),
                    normal_price: l.row.normal_price.map(money),
                    target_price: l.row.target_price.map(money),
                    cost: l.row.cost.map(money),
                    discount_bp: p.discount_bp(),
                    margin_bp: p.margin_bp(),
                    line_total: money(l.row.line_total),
                    accepted: l.row.accepted,
                }
            })
            .collect(),
        messages: v
            .messages
            .iter()
            .map(|m| SalesQuoteMessageOut {
                author: m.author_name.clone(),
                from: if m.seller { "seller" } else { "customer" }.into(),
                body: m.body.clone(),
                at: m.created_at,
            })
            .collect(),
        created_at: q.created_at,
        updated_at: q.updated_at,
    }
}

async fn load(state: &AppState, caller: &ApiCaller, id: &str) -> Result<Json<SalesQuoteOut>, ApiError> {
    let v = service::quote_view(&state.db, state.now(), &super::orders::actor(caller), id).await?;
    Ok(Json(out(&v)))
}

fn lines_in(lines: &[SalesQuoteLineIn]) -> Result<Vec<QuoteLineInput>, ApiError> {
    let mut checks = Checks::default();
    checks.items("lines", lines.len(), 1, service::MAX_LINES);
    for (i, l) in lines.iter().enumerate() {
        if let Some(p) = &l.unit_price {
            checks.amount(&format!("lines[{i}].unit_price"), p);
        }
    }
    checks.done()?;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let product = match (&l.sku, &l.external_id) {
                (Some(s), None) => ProductRef::sku(s),
                (None, Some(e)) => ProductRef::ExternalId(e.trim().to_string()),
                _ => return Err(ApiError::invalid(&format!("lines[{i}]"), "give exactly one of sku or external_id")),
            };
            let unit_price = match &l.unit_price {
                Some(p) => Some(
                    Money::parse_non_negative(p)
                        .map_err(|e| ApiError::invalid(&format!("lines[{i}].unit_price"), e.to_string()))?,
                ),
                None => None,
            };
            Ok(QuoteLineInput { product, quantity: l.quantity, target_price: None, unit_price })
        })
        .collect()
}

fn path_id(caller: &ApiCaller, scope: Scope, path: Result<ApiPath<String>, ApiError>) -> Result<String, ApiError> {
    caller.require(scope)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    Ok(id)
}

/// Create a quote for an account (`draft`): lines priced at the account's own prices unless a
/// `unit_price` is given. Price, then send it.
#[utoipa::path(post, path = "/api/v1/quotes", request_body = SalesQuoteIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and body answer the first quote (`idempotent-replayed: true`); another body with the key is 422; a retry while the first is running is 409.")),
    responses((status = 201, body = SalesQuoteOut), (status = 404, description = "unknown account", body = super::Problem),
    (status = 409, description = "the same key still in flight", body = super::Problem),
    (status = 422, description = "invalid, or a line the account cannot buy (every reason listed with its code), or the key reused with another body", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn create_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<ApiJson<SalesQuoteIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::QuotesWrite)?;
    let ApiJson(b) = body?;
    Checks::default().chars("notes", &b.notes, 0, 4000).done()?;
    reference(&b.account)?;
    let lines = lines_in(&b.lines)?;
    let key = idem_key(&caller, &headers, "quotes", &b)?;
    let actor = super::orders::actor(&caller);
    let account_id = find_account(&state.db, &actor, &b.account).await?.id;
    let req = NewQuote { account_id, lines, notes: b.notes.clone() };
    let (id, replayed) = match service::create_quote_once(&state.db, state.now(), &actor, &req, key.as_ref()).await? {
        Keyed::Ran(q) => (q.id, false),
        Keyed::Replayed { body, .. } => (body, true),
    };
    let Json(o) = load(&state, &caller, &id).await?;
    let mut res = (StatusCode::CREATED, Json(o)).into_response();
    if replayed {
        res.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// The request's `Idempotency-Key` (if it sent one) for an operation, keyed to the body.
fn idem_key<B: Serialize>(
    caller: &ApiCaller,
    headers: &HeaderMap,
    operation: &str,
    body: &B,
) -> Result<Option<IdemKey>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let key = v.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    let key = key.ok_or_else(|| ApiError::invalid("Idempotency-Key", "1 to 255 visible characters"))?;
    // serde_json sorts object keys, so the hash is the same for the same JSON whatever its layout.
    let canonical = serde_json::to_string(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok(Some(IdemKey::hashed(format!("api:{}:{operation}", caller.0.user_id), key, canonical.as_bytes())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteListParams {
    /// Unix seconds: only quotes created or changed at or after this time.
    #[param(minimum = 0, maximum = 253_402_300_799_i64)]
    updated_since: Option<i64>,
    /// Only this account (id, number or external id).
    account: Option<String>,
    /// Only quotes in this status (stored status; a sent quote past its day is swept to `expired`).
    #[param(pattern = r"^(requested|draft|awaiting_signoff|sent|accepted|declined|expired|withdrawn)$")]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.([2-6][0-9a-fA-F]|7[0-9a-eA-E]){1,64}$")]
    cursor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SalesQuotePage {
    quotes: Vec<SalesQuoteOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Quotes created or changed since a time, oldest change first (how an ERP pulls them).
#[utoipa::path(get, path = "/api/v1/quotes", params(QuoteListParams), responses(
    (status = 200, body = SalesQuotePage), (status = 404, description = "no such account", body = super::Problem),
    (status = 422, description = "a bad status, cursor or limit", body = super::Problem)
), security(("bearer" = ["quotes:read"])), tag = "quotes")]
pub async fn list_quotes(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<QuoteListParams>, ApiError>,
) -> Result<Json<SalesQuotePage>, ApiError> {
    caller.require(Scope::QuotesRead)?;
    let ApiQuery(p) = query?;
    // Quotes are read whole (lines and messages), so a page is at most 200.
    Checks::default().range_opt("limit", p.limit, 1, 200).done()?;
    let c = super::paging::changes(p.updated_since, p.cursor.as_deref(), p.limit)?;
    let statuses = match p.status.as_deref() {
        None => Vec::new(),
        Some(s) => vec![QuoteStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "one of requested, draft, awaiting_signoff, sent, accepted, declined, expired, withdrawn",
            )
        })?],
    };
    let actor = super::orders::actor(&caller);
    let account = match &p.account {
        Some(a) => {
            reference(a)?;
            Some(find_account(&state.db, &actor, a).await?.id)
        }
        None => None,
    };
    let page = service::QuotePage::ChangedSince(c.since, c.after.clone());
    let list =
        service::list_quotes(&state.db, state.now(), &actor, account.as_deref(), &statuses, page, c.limit).await?;
    let mut quotes = Vec::with_capacity(list.quotes.len());
    for (q, _) in &list.quotes {
        quotes.push(out(&service::quote_view(&state.db, state.now(), &actor, &q.id).await?));
    }
    let next_cursor = list.next.map(|(at, id)| super::paging::cursor_of(at, &id));
    Ok(Json(SalesQuotePage { quotes, next_cursor }))
}

/// One quote with its current lines and messages.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", params(("id" = String, Path, description = "Quote id or number (Q-100001)")),
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem)),
    security(("bearer" = ["quotes:read"])), tag = "quotes")]
pub async fn get_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    let id = path_id(&caller, Scope::QuotesRead, path)?;
    load(&state, &caller, &id).await
}

/// Price a quote that is still with the seller (`requested` or `draft`): the lines replace the
/// current revision's (a customer's target prices are kept per product).
#[utoipa::path(put, path = "/api/v1/quotes/{id}/lines", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuotePriceIn,
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, or the quote is not with the seller (revise it first)", body = super::Problem),
    (status = 422, description = "invalid, or a line the account cannot buy", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn price_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuotePriceIn>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    let id = path_id(&caller, Scope::QuotesWrite, path)?;
    let ApiJson(b) = body?;
    let lines = lines_in(&b.lines)?;
    let actor = super::orders::actor(&caller);
    let q = service::price_quote(&state.db, state.now(), &actor, &id, b.expected_version, &lines).await?;
    load(&state, &caller, &q.id).await
}

/// Send the quote to the customer, valid to `expires_on`. A discount past the seller's threshold
/// (or a price below cost) makes it `awaiting_signoff` instead, until a sales manager signs it off.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/send", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuoteSendIn,
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, or the quote cannot be sent in its state", body = super::Problem),
    (status = 422, description = "an expiry in the past or more than a year ahead", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn send_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteSendIn>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    let id = path_id(&caller, Scope::QuotesWrite, path)?;
    let ApiJson(b) = body?;
    Checks::default().date_opt("expires_on", b.expires_on.as_deref()).done()?;
    let actor = super::orders::actor(&caller);
    let q =
        service::send_quote(&state.db, state.now(), &actor, &id, b.expected_version, b.expires_on.as_deref()).await?;
    load(&state, &caller, &q.id).await
}

/// Record the customer's acceptance of some or all lines of a sent quote: an order for them at
/// the quoted prices, placed through the pipeline (the customer's approval rules, licences, stock
/// and credit apply). Answers the accepted quote; its `order_id` names the order.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/accept", params(("id" = String, Path, description = "Quote id or number"),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and body place one order; another body with the key is 422; a retry while the first is running is 409.")),
    request_body = SalesQuoteAcceptIn,
    responses((status = 201, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, the quote is not open for acceptance (or expired), or the same key is in flight", body = super::Problem),
    (status = 422, description = "no or unknown lines, or the order is blocked (every reason with its code)", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn accept_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteAcceptIn>, ApiError>,
) -> Result<Response, ApiError> {
    let id = path_id(&caller, Scope::QuotesWrite, path)?;
    let ApiJson(b) = body?;
    Checks::default()
        .items("lines", b.lines.len(), 1, service::MAX_LINES)
        .chars("po_number", &b.po_number, 0, 64)
        .date_opt("requested_date", b.requested_date.as_deref())
        .done()?;
    if let Some(s) = &b.ship_to_id {
        reference(s)?;
    }
    let key = idem_key(&caller, &headers, "quotes/accept", &(&id, &b))?;
    let header = OrderHeader {
        ship_to_id: b.ship_to_id.clone(),
        po_number: b.po_number.clone(),
        requested_date: b.requested_date.clone(),
        notes: String::new(),
    };
    let actor = super::orders::actor(&caller);
    service::accept_quote(&state.db, state.now(), &actor, &id, b.expected_version, &b.lines, header, key.as_ref())
        .await?;
    let Json(o) = load(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, Json(o)).into_response())
}

/// A decision on a quote that names only its version and a reason.
enum Decision {
    Decline,
    Revise,
    Withdraw,
}

async fn decide(
    state: &AppState,
    caller: &ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteDecisionIn>, ApiError>,
    which: Decision,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    let id = path_id(caller, Scope::QuotesWrite, path)?;
    let ApiJson(b) = body?;
    Checks::default().chars("reason", &b.reason, 0, 2000).done()?;
    let (db, now, actor, v) = (&state.db, state.now(), super::orders::actor(caller), b.expected_version);
    let q = match which {
        Decision::Decline => service::decline_quote(db, now, &actor, &id, v, &b.reason).await?,
        Decision::Revise => service::revise_quote(db, now, &actor, &id, v).await?,
        Decision::Withdraw => service::withdraw_quote(db, now, &actor, &id, v, &b.reason).await?,
    };
    load(state, caller, &q.id).await
}

/// Record that the customer declined a sent quote.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/decline", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuoteDecisionIn,
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, or the quote is not with the customer", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn decline_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteDecisionIn>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    decide(&state, &caller, path, body, Decision::Decline).await
}

/// Open a new revision of a sent, declined or expired quote (or one waiting for sign-off): a
/// draft again, with the same lines.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/revise", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuoteDecisionIn,
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, or the quote cannot be revised in its state", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn revise_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteDecisionIn>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    decide(&state, &caller, path, body, Decision::Revise).await
}

/// Withdraw a quote that is not yet accepted.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/withdraw", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuoteDecisionIn,
    responses((status = 200, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "stale expected_version, or the quote is over", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn withdraw_quote(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteDecisionIn>, ApiError>,
) -> Result<Json<SalesQuoteOut>, ApiError> {
    decide(&state, &caller, path, body, Decision::Withdraw).await
}

/// Write in the quote's thread (as the seller).
#[utoipa::path(post, path = "/api/v1/quotes/{id}/messages", params(("id" = String, Path, description = "Quote id or number")), request_body = SalesQuoteMessageIn,
    responses((status = 201, body = SalesQuoteOut), (status = 404, description = "no such quote", body = super::Problem),
    (status = 409, description = "the quote is over", body = super::Problem), (status = 422, description = "an empty or too long message", body = super::Problem)),
    security(("bearer" = ["quotes:write"])), tag = "quotes")]
pub async fn post_message(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SalesQuoteMessageIn>, ApiError>,
) -> Result<Response, ApiError> {
    let id = path_id(&caller, Scope::QuotesWrite, path)?;
    let ApiJson(b) = body?;
    Checks::default().chars("body", &b.body, 1, 4000).done()?;
    service::post_message(&state.db, state.now(), &super::orders::actor(&caller), &id, &b.body).await?;
    let Json(o) = load(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, Json(o)).into_response())
}
