//! Orders as CSV, for the buyer's own systems: one order, or the filtered history.

use super::history::HistoryQuery;
use crate::domain::money::Money;
use crate::service::orders::{self, OrderLineRow, OrderRow};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ordering::working;
use crate::web::session::Ctx;
use crate::web::shell::datetime;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/orders.csv", get(history_csv))
        .route("/portal/orders/{number}/csv", get(order_csv))
        .route("/orders/{number}/csv", get(order_csv))
}

const CSV_COLUMNS: [&str; 15] = [
    "order_number",
    "po_number",
    "placed_at",
    "status",
    "channel",
    "line",
    "sku",
    "name",
    "quantity",
    "uom",
    "unit_price",
    "line_total",
    "backordered",
    "price_source",
    "price_explanation",
];

/// Writes an order's lines as CSV rows; text cells are neutralised against spreadsheet formulas.
fn write_order(w: &mut csv::Writer<Vec<u8>>, o: &OrderRow, lines: &[OrderLineRow]) -> Result<(), WebError> {
    let n = crate::domain::import::neutralise_cell;
    for l in lines {
        w.write_record([
            n(&o.number),
            n(&o.po_number),
            datetime(o.placed_at),
            o.status.clone(),
            o.channel.clone(),
            l.line_no.to_string(),
            n(&l.sku),
            n(&l.name),
            l.quantity.to_string(),
            n(&l.uom),
            Money::from_raw(l.unit_price).to_plain(),
            Money::from_raw(l.line_total).to_plain(),
            l.backordered_qty.to_string(),
            l.price_source.clone(),
            n(&l.price_explanation),
        ])
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    }
    Ok(())
}

fn csv_response(w: csv::Writer<Vec<u8>>, file: &str) -> Result<Response, WebError> {
    let body = w.into_inner().map_err(|e| WebError::BadRequest(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.csv\"")),
        ],
        body,
    )
        .into_response())
}

/// The order's lines as CSV (for the buyer's own systems).
async fn order_csv(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Result<Response, WebError> {
    let v = orders::order_view(&state.db, &ctx.order_actor(), &number).await?;
    if !ctx.session.principal.is_staff() && Some(v.order.account_id.as_str()) != ctx.working_account() {
        return Err(WebError::NotFound);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(|e| WebError::BadRequest(e.to_string()))?;
    write_order(&mut w, &v.order, &v.lines)?;
    csv_response(w, &v.order.number)
}

/// The most orders one history download holds.
const CSV_MAX_ORDERS: usize = 10_000;

/// The filtered history as CSV: one row per order line, newest order first.
async fn history_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut q): Query<HistoryQuery>,
) -> Result<Response, WebError> {
    q.account = working(&ctx)?;
    let actor = ctx.order_actor();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let mut after: Option<(i64, String)> = None;
    let mut written = 0;
    loop {
        let after_key = after.as_ref().map(|(a, i)| (*a, i.as_str()));
        let page = orders::list_orders_with_lines(&state.db, &actor, q.filter(), after_key, 500).await?;
        for (o, lines) in &page {
            write_order(&mut w, o, lines)?;
        }
        written += page.len();
        match page.last() {
            Some((o, _)) if page.len() == 500 && written < CSV_MAX_ORDERS => after = Some((o.placed_at, o.id.clone())),
            _ => break,
        }
    }
    csv_response(w, "orders")
}
