//! Warehouses and stock levels. Every change of stock goes through [`adjust_on_hand`], which keeps
//! the movement journal (who, what, why) in the same transaction.

use super::{Db, StoreResult, Tx, new_id};
use crate::{args, on_db};
use std::collections::HashMap;

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct WarehouseRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub sort: i64,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct StockRow {
    pub product_id: String,
    pub warehouse_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub incoming: i64,
    pub incoming_eta: Option<String>,
}

/// Stock of one product summed over warehouses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockTotal {
    pub on_hand: i64,
    pub reserved: i64,
    pub incoming: i64,
    /// The earliest expected arrival of incoming stock.
    pub next_eta: Option<String>,
}

pub async fn insert_warehouse(tx: &mut Tx, id: &str, code: &str, name: &str, sort: i64, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO warehouses (id, code, name, sort, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![id, code, name, sort, now],
    )
    .await?;
    Ok(())
}

pub async fn warehouses(db: &Db) -> StoreResult<Vec<WarehouseRow>> {
    // One JSON row, read on the caller's thread on SQLite (every shipment checks its warehouse).
    let sql = format!(
        "SELECT {} FROM warehouses w",
        db.json_rows(&super::json_fields("w.id, w.code, w.name, w.sort"), "w.sort, w.code")
    );
    super::fetch_json_rows(db, &sql, &[]).await
}

/// Per-warehouse rows for some products.
pub async fn levels(db: &Db, product_ids: &[String]) -> StoreResult<Vec<StockRow>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let fields = super::json_fields("s.product_id, s.warehouse_id, s.on_hand, s.reserved, s.incoming, s.incoming_eta");
    let sql = format!(
        "SELECT {} FROM stock_levels s WHERE s.product_id IN ({})",
        db.json_rows(&fields, ""),
        db.json_values("$1")
    );
    super::fetch_json_rows(db, &sql, &[&super::json_list(product_ids)]).await
}

/// Stock totals of many products, summed in the database (what placement and quotes need; one row
/// per product instead of one per warehouse). Same sums as [`sum_levels`].
pub async fn totals(db: &Db, product_ids: &[String]) -> StoreResult<HashMap<String, StockTotal>> {
    #[derive(serde::Deserialize)]
    struct Row {
        product_id: String,
        on_hand: i64,
        reserved: i64,
        incoming: i64,
        next_eta: Option<String>,
    }
    if product_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let fields = super::json_fields("t.product_id, t.on_hand, t.reserved, t.incoming, t.next_eta");
    let sql = format!(
        "SELECT {} FROM (SELECT s.product_id, CAST(SUM(s.on_hand) AS BIGINT) AS on_hand,
                CAST(SUM(s.reserved) AS BIGINT) AS reserved, CAST(SUM(s.incoming) AS BIGINT) AS incoming,
                MIN(CASE WHEN s.incoming > 0 THEN s.incoming_eta END) AS next_eta
         FROM stock_levels s WHERE s.product_id IN ({}) GROUP BY s.product_id) t",
        db.json_rows(&fields, ""),
        db.json_values("$1")
    );
    let rows: Vec<Row> = super::fetch_json_rows(db, &sql, &[&super::json_list(product_ids)]).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let t = StockTotal { on_hand: r.on_hand, reserved: r.reserved, incoming: r.incoming, next_eta: r.next_eta };
            (r.product_id, t)
        })
        .collect())
}

/// Sums one product's warehouse rows; the ETA is the earliest of the incoming stock.
pub fn sum_levels(rows: &[StockRow]) -> StockTotal {
    let mut t = StockTotal::default();
    for r in rows {
        t.on_hand += r.on_hand;
        t.reserved += r.reserved;
        t.incoming += r.incoming;
        if r.incoming > 0 && r.incoming_eta.is_some() && (t.next_eta.is_none() || r.incoming_eta < t.next_eta) {
            t.next_eta = r.incoming_eta.clone();
        }
    }
    t
}

/// Sets incoming stock and its ETA for a product in a warehouse (creating the level row if needed).
pub async fn set_incoming(
    tx: &mut Tx,
    product_id: &str,
    warehouse_id: &str,
    incoming: i64,
    eta: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, incoming, incoming_eta, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (product_id, warehouse_id) DO UPDATE SET incoming = excluded.incoming, incoming_eta = excluded.incoming_eta,
             updated_at = excluded.updated_at",
        args![product_id, warehouse_id, incoming, eta, now],
    )
    .await?;
    Ok(())
}

/// Who changed stock and why (written to the movement journal).
pub struct StockReason<'a> {
    pub reason: &'a str,
    pub actor_user_id: Option<&'a str>,
    pub channel: &'a str,
}

/// Changes on-hand stock by `delta` with a guarded update: the row's CHECK constraints refuse a
/// result below zero or below what is reserved, so concurrent adjustments can never oversell.
/// Returns the new on-hand quantity, or `None` when the change would go below zero / reserved.
pub async fn adjust_on_hand(
    tx: &mut Tx,
    product_id: &str,
    warehouse_id: &str,
    delta: i64,
    why: &StockReason<'_>,
    now: i64,
) -> StoreResult<Option<i64>> {
    tx.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, updated_at) VALUES ($1, $2, $3) ON CONFLICT (product_id, warehouse_id) DO NOTHING",
        args![product_id, warehouse_id, now],
    )
    .await?;
    let after = tx
        .fetch_optional::<i64>(
            "UPDATE stock_levels SET on_hand = on_hand + $3, updated_at = $4
         WHERE product_id = $1 AND warehouse_id = $2 AND on_hand + $3 >= reserved AND on_hand + $3 >= 0
         RETURNING on_hand",
            args![product_id, warehouse_id, delta, now],
        )
        .await?;
    let Some(after) = after else { return Ok(None) };
    journal(tx, product_id, warehouse_id, delta, after, why, now).await?;
    Ok(Some(after))
}

/// Journals a change of on-hand stock (the movement behind every on-hand figure).
pub async fn journal(
    tx: &mut Tx,
    product_id: &str,
    warehouse_id: &str,
    delta: i64,
    after: i64,
    why: &StockReason<'_>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO stock_movements (id, at, product_id, warehouse_id, on_hand_delta, on_hand_after, reason, actor_user_id, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![new_id(), now, product_id, warehouse_id, delta, after, why.reason, why.actor_user_id, why.channel],
    )
    .await?;
    Ok(())
}

/// [`journal`] for several movements of one cause, in one statement: (product id, warehouse id,
/// on-hand delta, on hand after).
pub async fn journal_many(
    tx: &mut Tx,
    moves: &[(&str, &str, i64, i64)],
    why: &StockReason<'_>,
    now: i64,
) -> StoreResult<()> {
    let rows: Vec<Vec<super::Cell>> = moves
        .iter()
        .map(|(product, warehouse, delta, after)| {
            args![new_id(), now, *product, *warehouse, *delta, *after, why.reason, why.actor_user_id, why.channel]
        })
        .collect();
    super::bulk::bulk_insert(
        tx,
        "stock_movements",
        &[
            "id",
            "at",
            "product_id",
            "warehouse_id",
            "on_hand_delta",
            "on_hand_after",
            "reason",
            "actor_user_id",
            "channel",
        ],
        &rows,
    )
    .await
}

/// Every stock row (imports compare a whole file against it).
pub async fn all_levels(db: &Db) -> StoreResult<Vec<StockRow>> {
    on_db!(db, |c| sqlx::query_as::<_, StockRow>(
        "SELECT product_id, warehouse_id, on_hand, reserved, incoming, incoming_eta FROM stock_levels"
    )
    .fetch_all(c)
    .await)
}

/// A stock row as exported: SKU and warehouse code instead of ids.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StockExportRow {
    pub sku: String,
    pub warehouse: String,
    pub on_hand: i64,
    pub incoming: i64,
    pub incoming_eta: Option<String>,
}

/// The on-hand quantity of one stock row (0 when there is none), locked for a change.
pub async fn on_hand_for_update(tx: &mut Tx, product_id: &str, warehouse_id: &str) -> StoreResult<i64> {
    let v = tx
        .lock::<i64>(
            "SELECT on_hand FROM stock_levels WHERE product_id = $1 AND warehouse_id = $2",
            args![product_id, warehouse_id],
        )
        .await?;
    Ok(v.into_iter().next().unwrap_or(0))
}
