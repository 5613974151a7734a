//! Changes staff make to an order (customer service and admins): amend, cancel, confirm, and
//! record a shipment; finance releases or rejects orders held for credit.

use crate::domain::orders::parse_paste;
use crate::service::ServiceError;
use crate::service::orders::{self, Amendment, LineInput, OrderHeader};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::form::Refusal;
use crate::web::session::Ctx;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{number}/amend", post(amend))
        .route("/orders/{number}/cancel", post(cancel))
        .route("/orders/{number}/confirm", post(confirm))
        .route("/orders/{number}/shipments", post(record_shipment))
        .route("/orders/{number}/release", post(release))
        .route("/orders/{number}/reject", post(reject))
}

#[derive(Deserialize)]
struct DecisionForm {
    version: i64,
    #[serde(default)]
    comment: String,
}

/// Finance lifts a credit hold: the order continues as placed.
async fn release(
    state: State<AppState>,
    ctx: Ctx,
    number: Path<String>,
    f: Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    decide(state, ctx, number, f, true).await
}

/// Finance rejects a held order: it is cancelled with the comment.
async fn reject(
    state: State<AppState>,
    ctx: Ctx,
    number: Path<String>,
    f: Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    decide(state, ctx, number, f, false).await
}

async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<DecisionForm>,
    release: bool,
) -> Result<Redirect, WebError> {
    let (db, now, actor) = (&state.db, state.now(), ctx.actor());
    let o = match release {
        true => orders::release_order(db, now, &actor, &number, Some(f.version), &f.comment).await?,
        false => orders::reject_order(db, now, &actor, &number, Some(f.version), &f.comment).await?,
    };
    let notice = if release { "released" } else { "rejected" };
    Ok(Redirect::to(&format!("/orders/{}?notice={notice}", o.number)))
}

/// The shipment form: warehouse, carrier, tracking number, ship date and `ship_<line>` quantities
/// (blank or 0 leaves a line out).
async fn record_shipment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    match shipment(&state, &ctx, &number, &fields).await {
        Ok(()) => Ok(Redirect::to(&format!("/orders/{number}?notice=shipment_recorded")).into_response()),
        Err(e) => refused(&state, &ctx, &number, ("ship", "warehouse"), fields, e).await,
    }
}

async fn shipment(state: &AppState, ctx: &Ctx, number: &str, fields: &[(String, String)]) -> Result<(), ServiceError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut lines = Vec::new();
    for (k, v) in fields {
        let Some(line_no) = k.strip_prefix("ship_").and_then(|n| n.parse::<i64>().ok()) else { continue };
        if v.trim().is_empty() {
            continue;
        }
        let qty = v
            .trim()
            .parse::<i64>()
            .map_err(|_| ServiceError::invalid(k, format!("Line {line_no}: “{v}” is not a quantity.")))?;
        if qty != 0 {
            lines.push((line_no, qty));
        }
    }
    let input = orders::ShipmentInput {
        warehouse: get("warehouse"),
        carrier: get("carrier"),
        tracking_number: get("tracking_number"),
        shipped_on: Some(get("shipped_on")),
        lines,
        external_id: None,
    };
    orders::record_shipment(&state.db, state.now(), &ctx.actor(), number, &input).await?;
    Ok(())
}

/// The order page again with the refused form `form` (its reasons above it and beside its fields,
/// what was typed kept); a conflict is named at `conflict_field`. Anything else is an error page.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    (form, conflict_field): (&'static str, &str),
    fields: Vec<(String, String)>,
    e: ServiceError,
) -> Result<Response, WebError> {
    let refusal = Refusal::of(form, e, conflict_field)?;
    super::order_page::render_refused(state, ctx, number, super::order_page::Refused { fields, refusal }).await
}

async fn amend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    match amendment(&state, &ctx, &number, &fields).await {
        Ok(n) => Ok(Redirect::to(&format!("/orders/{n}?notice=amended")).into_response()),
        Err(e) => refused(&state, &ctx, &number, ("amend", "reason"), fields, e).await,
    }
}

async fn amendment(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    fields: &[(String, String)],
) -> Result<String, ServiceError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let version = get("version")
        .parse::<i64>()
        .map_err(|_| ServiceError::invalid("version", "The form lacks the order's version: reload the page."))?;
    let mut lines = Vec::new();
    for (k, v) in fields {
        if let Some(sku) = k.strip_prefix("qty_") {
            let qty = v
                .trim()
                .parse::<i64>()
                .map_err(|_| ServiceError::invalid(k, format!("{sku}: “{v}” is not a quantity.")))?;
            if qty > 0 {
                lines.push(LineInput::sku(sku, qty));
            }
        }
    }
    let added = parse_paste(&get("add_lines"));
    if let Some(e) = added.errors.first() {
        return Err(ServiceError::invalid("add_lines", format!("Added line {}: {}", e.line, e.reason)));
    }
    lines.extend(added.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)));
    let a = Amendment {
        expected_version: version,
        lines,
        header: OrderHeader {
            ship_to_id: Some(get("ship_to_id")).filter(|s| !s.is_empty()),
            po_number: get("po_number"),
            requested_date: Some(get("requested_date")).filter(|s| !s.trim().is_empty()),
            notes: get("notes"),
        },
        reason: get("reason"),
    };
    Ok(orders::amend_order(&state.db, state.now(), &ctx.actor(), number, &a).await?.number)
}

#[derive(Deserialize)]
struct StatusForm {
    version: i64,
}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let result = match get("version").parse::<i64>() {
        Ok(v) => orders::cancel_order(&state.db, state.now(), &ctx.actor(), &number, Some(v), &get("reason")).await,
        Err(_) => Err(ServiceError::invalid("version", "The form lacks the order's version: reload the page.")),
    };
    match result {
        Ok(o) => Ok(Redirect::to(&format!("/orders/{}?notice={}", o.number, o.status().as_str())).into_response()),
        Err(e) => refused(&state, &ctx, &number, ("cancel", "reason"), fields, e).await,
    }
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Redirect, WebError> {
    let o = orders::confirm_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version)).await?;
    Ok(Redirect::to(&format!("/orders/{}?notice={}", o.number, o.status().as_str())))
}
