//! Shipments and what they move: a shipment consumes the stock an order holds at one warehouse
//! (reservation and on-hand together, journalled as a stock movement), and arriving stock is
//! reserved for backordered lines.

use super::inventory::StockReason;
use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ShipmentRow {
    pub id: String,
    pub number: String,
    pub order_id: String,
    pub account_id: String,
    pub warehouse_id: String,
    pub warehouse_code: String,
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_on: String,
    pub created_by_name: String,
    pub channel: String,
    pub created_at: i64,
    pub external_id: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ShipmentLineRow {
    pub shipment_id: String,
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

/// A shipment to write.
pub struct NewShipment<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub order_id: &'a str,
    pub account_id: &'a str,
    pub warehouse_id: &'a str,
    pub carrier: &'a str,
    pub tracking_number: &'a str,
    pub shipped_on: &'a str,
    pub created_by_user_id: &'a str,
    pub created_by_name: &'a str,
    pub channel: &'a str,
    pub external_id: Option<&'a str>,
    /// (order line number, product id, quantity)
    pub lines: &'a [(i64, String, i64)],
}

/// What an order holds at one warehouse, per product (read in the shipment's transaction, after
/// the order row was locked).
pub async fn held_at(tx: &mut Tx, order_id: &str, warehouse_id: &str) -> StoreResult<Vec<(String, i64)>> {
    tx.fetch_all(
        "SELECT product_id, quantity FROM order_allocations WHERE order_id = $1 AND warehouse_id = $2 ORDER BY product_id",
        args![order_id, warehouse_id],
    )
    .await
}

/// The shipment an integration reported under its own id, if any.
pub async fn by_external_id(tx: &mut Tx, external_id: &str) -> StoreResult<Option<ShipmentRow>> {
    tx.fetch_optional(
        &format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments s JOIN warehouses w ON w.id = s.warehouse_id WHERE s.external_id = $1"
        ),
        args![external_id],
    )
    .await
}

/// Writes the shipment and its lines.
pub async fn insert(tx: &mut Tx, s: &NewShipment<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO shipments (id, number, order_id, account_id, warehouse_id, carrier, tracking_number, shipped_on,
             created_by_user_id, created_by_name, channel, created_at, external_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        args![
            s.id,
            s.number,
            s.order_id,
            s.account_id,
            s.warehouse_id,
            s.carrier,
            s.tracking_number,
            s.shipped_on,
            s.created_by_user_id,
            s.created_by_name,
            s.channel,
            now,
            s.external_id
        ],
    )
    .await?;
    let rows: Vec<Vec<super::Cell>> =
        s.lines.iter().map(|(line_no, product_id, qty)| args![s.id, *line_no, product_id.as_str(), *qty]).collect();
    super::bulk::bulk_insert(tx, "shipment_lines", &["shipment_id", "line_no", "product_id", "quantity"], &rows).await
}

/// Ships `qty` of a product an order holds at a warehouse: the order's allocation there shrinks,
/// and the warehouse's reservation and on-hand drop together; returns the on hand after. The
/// caller then records the lines and the stock movements of the whole shipment
/// ([`record_shipped`]). The tables' CHECKs guard every step (never below zero).
pub async fn ship_from(
    tx: &mut Tx,
    order_id: &str,
    product_id: &str,
    warehouse_id: &str,
    qty: i64,
    now: i64,
) -> StoreResult<i64> {
    // All of the allocation goes (the row may not hold 0), or part of it.
    let key = "order_id = $1 AND product_id = $2 AND warehouse_id = $3";
    let gone = tx
        .execute(
            &format!("DELETE FROM order_allocations WHERE {key} AND quantity = $4"),
            args![order_id, product_id, warehouse_id, qty],
        )
        .await?;
    if gone == 0 {
        tx.execute(
            &format!("UPDATE order_allocations SET quantity = quantity - $4 WHERE {key}"),
            args![order_id, product_id, warehouse_id, qty],
        )
        .await?;
    }
    // Reservation and on-hand leave together, in one statement on the row the reservation proves
    // exists; then the movement is journalled as every on-hand change is (inventory::adjust_on_hand).
    let after = tx
        .fetch_optional::<i64>(
            "UPDATE stock_levels SET reserved = reserved - $3, on_hand = on_hand - $3, updated_at = $4
             WHERE product_id = $1 AND warehouse_id = $2 AND reserved >= $3 AND on_hand >= $3
             RETURNING on_hand",
            args![product_id, warehouse_id, qty, now],
        )
        .await?;
    let Some(after) = after else {
        return Err(sqlx::Error::Protocol(format!("stock of {product_id} at {warehouse_id} below a shipment")));
    };
    Ok(after)
}

/// What a shipment took from one order line: (line number, product id, quantity, on hand after).
pub struct Shipped<'a> {
    pub line_no: i64,
    pub product_id: &'a str,
    pub quantity: i64,
    pub on_hand_after: i64,
}

/// After [`ship_from`] for every line of a shipment: the lines count what shipped (one statement)
/// and every stock movement is journalled (one statement), as every on-hand change is.
pub async fn record_shipped(
    tx: &mut Tx,
    order_id: &str,
    warehouse_id: &str,
    shipped: &[Shipped<'_>],
    why: &StockReason<'_>,
    now: i64,
) -> StoreResult<()> {
    if shipped.is_empty() {
        return Ok(());
    }
    let mut cases = String::new();
    let mut cells = args![order_id];
    for s in shipped {
        cells.push(super::Cell::Int(s.line_no));
        cells.push(super::Cell::Int(s.quantity));
        cases.push_str(&format!(" WHEN ${} THEN ${}", cells.len() - 1, cells.len()));
    }
    let lines: Vec<String> = (0..shipped.len()).map(|i| format!("${}", 2 + 2 * i)).collect();
    tx.execute(
        &format!(
            "UPDATE order_lines SET shipped_qty = shipped_qty + (CASE line_no{cases} END),
                 reserved_qty = reserved_qty - (CASE line_no{cases} END)
             WHERE order_id = $1 AND line_no IN ({})",
            lines.join(", ")
        ),
        cells,
    )
    .await?;
    let moves: Vec<(&str, &str, i64, i64)> =
        shipped.iter().map(|s| (s.product_id, warehouse_id, -s.quantity, s.on_hand_after)).collect();
    super::inventory::journal_many(tx, &moves, why, now).await
}

/// Backordered lines of a product waiting for stock, oldest order first (orders that can still
/// ship: placed, confirmed, partially shipped, on hold, escalated).
pub async fn waiting_for(tx: &mut Tx, product_id: &str) -> StoreResult<Vec<(String, i64, i64)>> {
    tx.fetch_all(
        "SELECT l.order_id, l.line_no, l.backordered_qty
         FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.product_id = $1 AND l.backordered_qty > 0
           AND o.status IN ('placed', 'confirmed', 'partially_shipped', 'on_hold', 'escalated')
         ORDER BY o.placed_at, o.id, l.line_no",
        args![product_id],
    )
    .await
}

/// Reserves `qty` arrived units at a warehouse for a backordered line.
pub async fn fill_backorder(
    tx: &mut Tx,
    order_id: &str,
    line_no: i64,
    product_id: &str,
    warehouse_id: &str,
    qty: i64,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE stock_levels SET reserved = reserved + $3, updated_at = $4 WHERE product_id = $1 AND warehouse_id = $2",
        args![product_id, warehouse_id, qty, now],
    )
    .await?;
    tx.execute(
        "INSERT INTO order_allocations (order_id, product_id, warehouse_id, quantity) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id, product_id, warehouse_id) DO UPDATE SET quantity = order_allocations.quantity + excluded.quantity",
        args![order_id, product_id, warehouse_id, qty],
    )
    .await?;
    tx.execute(
        "UPDATE order_lines SET reserved_qty = reserved_qty + $3, backordered_qty = backordered_qty - $3
         WHERE order_id = $1 AND line_no = $2",
        args![order_id, line_no, qty],
    )
    .await?;
    tx.execute(
        "UPDATE orders SET backordered = EXISTS (SELECT 1 FROM order_lines WHERE order_id = $1 AND backordered_qty > 0)
         WHERE id = $1",
        args![order_id],
    )
    .await?;
    Ok(())
}

/// Unreserved stock of a product per warehouse, in the seller's warehouse order, on rows locked
/// for this transaction.
pub async fn free_stock(tx: &mut Tx, product_id: &str) -> StoreResult<Vec<(String, i64)>> {
    let locked = super::orders::lock_stock(tx, &[product_id.to_string()]).await?;
    let mut rows: Vec<(i64, String, i64)> =
        locked.into_iter().map(|s| (s.warehouse_sort, s.warehouse_id, (s.on_hand - s.reserved).max(0))).collect();
    rows.sort();
    Ok(rows.into_iter().map(|(_, w, free)| (w, free)).collect())
}

const SHIPMENT_COLUMNS: &str =
    "s.id, s.number, s.order_id, s.account_id, s.warehouse_id, w.code AS warehouse_code, s.carrier,
     s.tracking_number, s.shipped_on, s.created_by_name, s.channel, s.created_at, s.external_id";

/// An order's shipments, oldest first.
pub async fn for_order(db: &Db, order_id: &str) -> StoreResult<Vec<ShipmentRow>> {
    let sql = format!(
        "SELECT {SHIPMENT_COLUMNS} FROM shipments s JOIN warehouses w ON w.id = s.warehouse_id
         WHERE s.order_id = $1 ORDER BY s.created_at, s.number"
    );
    on_db!(db, |c| sqlx::query_as::<_, ShipmentRow>(sqlx::AssertSqlSafe(sql.clone())).bind(order_id).fetch_all(c).await)
}

const LINE_QUERY: &str = "SELECT sl.shipment_id, sl.line_no, l.sku, l.name, sl.quantity
     FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
     JOIN order_lines l ON l.order_id = s.order_id AND l.line_no = sl.line_no";

/// The lines of an order's shipments.
pub async fn lines_for_order(db: &Db, order_id: &str) -> StoreResult<Vec<ShipmentLineRow>> {
    let sql = format!("{LINE_QUERY} WHERE s.order_id = $1 ORDER BY sl.shipment_id, sl.line_no");
    on_db!(db, |c| sqlx::query_as::<_, ShipmentLineRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(order_id)
        .fetch_all(c)
        .await)
}

/// The lines of one shipment.
pub async fn lines_of(db: &Db, shipment_id: &str) -> StoreResult<Vec<ShipmentLineRow>> {
    let sql = format!("{LINE_QUERY} WHERE sl.shipment_id = $1 ORDER BY sl.line_no");
    on_db!(db, |c| sqlx::query_as::<_, ShipmentLineRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(shipment_id)
        .fetch_all(c)
        .await)
}
