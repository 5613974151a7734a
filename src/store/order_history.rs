//! Orders written as history, not placed: the demo's scale datasets (`demo::history_scale`, a
//! million orders as an ERP history import would leave them; `demo::receivables_scale`, the orders
//! the aging benchmark's invoices bill). Multi-row inserts ([`bulk_insert`]) of the columns such an
//! order has — one list of them, here; everything else takes its default (no ship-to text,
//! nothing uninvoiced, nothing reserved). Placement writes its orders and lines itself
//! (`store::orders`): this is setup, not a path an order takes.

use super::{Cell, StoreResult, Tx, bulk_insert};

/// An order of the history, with its totals as written.
#[derive(Clone, Debug)]
pub struct HistoryOrder {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub placed_by_user_id: &'static str,
    pub placed_by_name: &'static str,
    pub po_number: String,
    pub terms_days: i64,
    /// Ten-thousandths.
    pub subtotal: i64,
    pub line_count: i64,
    /// Also its `updated_at`.
    pub placed_at: i64,
    pub owner_rep_id: Option<String>,
}

/// A line of a history order, at its price (ten-thousandths), unit "each".
#[derive(Clone, Debug)]
pub struct HistoryLine {
    pub order_id: String,
    pub line_no: i64,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

const ORDER_COLUMNS: [&str; 16] = [
    "id",
    "number",
    "account_id",
    "status",
    "channel",
    "placed_by_user_id",
    "placed_by_name",
    "ship_to_text",
    "po_number",
    "terms_days",
    "subtotal",
    "line_count",
    "placed_at",
    "updated_at",
    "owner_rep_id",
    "uninvoiced",
];

const LINE_COLUMNS: [&str; 11] = [
    "order_id",
    "line_no",
    "product_id",
    "sku",
    "name",
    "uom",
    "quantity",
    "unit_price",
    "line_total",
    "price_source",
    "price_explanation",
];

/// Writes history orders in the caller's unit of work.
pub async fn insert_orders(tx: &mut Tx, orders: &[HistoryOrder]) -> StoreResult<()> {
    let rows: Vec<Vec<Cell>> = orders
        .iter()
        .map(|o| {
            vec![
                Cell::Text(o.id.clone()),
                Cell::Text(o.number.clone()),
                Cell::Text(o.account_id.clone()),
                Cell::Text(o.status.into()),
                Cell::Text(o.channel.into()),
                Cell::Text(o.placed_by_user_id.into()),
                Cell::Text(o.placed_by_name.into()),
                Cell::Text(String::new()),
                Cell::Text(o.po_number.clone()),
                Cell::Int(o.terms_days),
                Cell::Int(o.subtotal),
                Cell::Int(o.line_count),
                Cell::Int(o.placed_at),
                Cell::Int(o.placed_at),
                Cell::opt_text(o.owner_rep_id.as_deref()),
                Cell::Int(0),
            ]
        })
        .collect();
    bulk_insert(tx, "orders", &ORDER_COLUMNS, &rows).await
}

/// Writes history orders' lines (price source `history`) in the caller's unit of work.
pub async fn insert_lines(tx: &mut Tx, lines: &[HistoryLine]) -> StoreResult<()> {
    let rows: Vec<Vec<Cell>> = lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(l.order_id.clone()),
                Cell::Int(l.line_no),
                Cell::Text(l.product_id.clone()),
                Cell::Text(l.sku.clone()),
                Cell::Text(l.name.clone()),
                Cell::Text("each".into()),
                Cell::Int(l.quantity),
                Cell::Int(l.unit_price),
                Cell::Int(l.line_total),
                Cell::Text("history".into()),
                Cell::Text(String::new()),
            ]
        })
        .collect();
    bulk_insert(tx, "order_lines", &LINE_COLUMNS, &rows).await
}
