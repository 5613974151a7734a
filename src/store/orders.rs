//! Orders — one table for every channel — with their lines, stock allocations, status timeline and
//! revisions. Reservation lives here too: it is part of writing an order.

use super::{Cell, Db, StoreResult, Tx, bind_cells, bulk_insert, new_id};
use crate::domain::orders::OrderStatus;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub status: String,
    pub channel: String,
    pub placed_by_user_id: String,
    pub placed_by_name: String,
    pub on_behalf_of_account_id: Option<String>,
    pub ship_to_id: Option<String>,
    pub ship_to_text: String,
    pub po_number: String,
    pub requested_date: Option<String>,
    pub notes: String,
    pub terms_days: i64,
    pub subtotal: i64,
    pub line_count: i64,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub backordered: bool,
    pub reasons: String,
    pub revision: i64,
    pub version: i64,
    pub placed_at: i64,
    pub updated_at: i64,
    /// The account's owning rep when the order was placed: credited with its commission.
    #[serde(default)]
    #[sqlx(default)]
    pub owner_rep_id: Option<String>,
    /// Placed during a hand-over of the account: its previous owner, who earns `handover_share_ppm`
    /// of the order's commission base (domain::commissions::order_handover).
    #[serde(default)]
    #[sqlx(default)]
    pub handover_rep_id: Option<String>,
    #[serde(default)]
    #[sqlx(default)]
    pub handover_share_ppm: i64,
}

impl OrderRow {
    /// The status as the state machine's type. Every stored status is one (a CHECK constraint
    /// keeps it so); one that were not would read as closed, which nothing may change.
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Closed)
    }
}

const ORDER_COLUMNS: &str = "o.id, o.number, o.account_id, o.status, o.channel, o.placed_by_user_id, o.placed_by_name, o.on_behalf_of_account_id, o.ship_to_id, o.ship_to_text, o.po_number, o.requested_date, o.notes, o.terms_days, o.subtotal, o.line_count, o.backordered, o.reasons, o.revision, o.version, o.placed_at, o.updated_at, o.owner_rep_id, o.handover_rep_id, o.handover_share_ppm";

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct OrderLineRow {
    pub line_no: i64,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub uom: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub list_price: Option<i64>,
    pub line_total: i64,
    pub price_source: String,
    pub price_explanation: String,
    pub reserved_qty: i64,
    pub backordered_qty: i64,
    /// Units shipped so far (by shipments).
    pub shipped_qty: i64,
    /// Units billed so far (by invoices).
    pub invoiced_qty: i64,
}

impl OrderLineRow {
    pub fn unit(&self) -> crate::domain::money::Money {
        crate::domain::money::Money::from_raw(self.unit_price)
    }
    pub fn total(&self) -> crate::domain::money::Money {
        crate::domain::money::Money::from_raw(self.line_total)
    }
    pub fn list(&self) -> Option<crate::domain::money::Money> {
        self.list_price.map(crate::domain::money::Money::from_raw)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderEventRow {
    pub at: i64,
    pub status: String,
    pub actor_name: String,
    pub channel: String,
    pub note: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RevisionRow {
    pub revision: i64,
    pub at: i64,
    pub actor_name: String,
    pub reason: String,
    pub diff_json: String,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct AllocationRow {
    pub product_id: String,
    pub warehouse_id: String,
    pub quantity: i64,
}

/// A stock row locked for allocation, with its warehouse's position in the allocation order.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct LockedStock {
    pub product_id: String,
    pub warehouse_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub warehouse_sort: i64,
}

/// Reads and locks the stock rows of some products, in one global order (product id, then
/// warehouse): two transactions that lock overlapping products then never wait for each other
/// crosswise. An amendment locks its old and new products in one call, before it changes any.
pub async fn lock_stock(tx: &mut Tx, product_ids: &[String]) -> StoreResult<Vec<LockedStock>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = product_ids.to_vec();
    ids.sort();
    ids.dedup();
    let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT s.product_id, s.warehouse_id, s.on_hand, s.reserved, w.sort AS warehouse_sort
         FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
         WHERE s.product_id IN ({}) ORDER BY s.product_id, s.warehouse_id",
        ph.join(", ")
    );
    let sql = if tx.is_sqlite() { sql } else { format!("{sql} FOR UPDATE OF s") };
    tx.fetch_all(&sql, ids.into_iter().map(Cell::Text).collect()).await
}

/// Locks the stock rows of some products, in the same global order as [`lock_stock`], for a
/// change that needs none of their values (a shipment consumes what its order already holds).
pub async fn lock_stock_only(tx: &mut Tx, product_ids: &[String]) -> StoreResult<()> {
    if product_ids.is_empty() {
        return Ok(());
    }
    let mut ids = product_ids.to_vec();
    ids.sort();
    ids.dedup();
    let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT s.product_id FROM stock_levels s WHERE s.product_id IN ({}) ORDER BY s.product_id, s.warehouse_id",
        ph.join(", ")
    );
    tx.lock_only(&sql, ids.into_iter().map(Cell::Text).collect()).await
}

/// Writes an order's new status (and version), if nothing changed it since `before` was read:
/// a status move needs none of the other columns [`update_header`] rewrites. The dashboards'
/// rollup follows in the same transaction ([`super::dashboards::record`]).
pub async fn update_status(tx: &mut Tx, before: &OrderRow, o: &OrderRow) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE orders SET status = $3, version = $4, updated_at = $5 WHERE id = $1 AND version = $2",
            args![&o.id, before.version, &o.status, o.version, o.updated_at],
        )
        .await?;
    if n == 1 {
        super::dashboards::record(tx, Some(before), o).await?;
    }
    Ok(n == 1)
}

/// Reserves stock for many (product, warehouse, quantity) allocations. The caller planned them
/// from rows locked in this transaction ([`lock_stock`]); the table's `CHECK (reserved <=
/// on_hand)` still guards them: an allocation larger than what is available fails the unit
/// instead of overselling.
pub async fn reserve_many(tx: &mut Tx, allocations: &[(String, String, i64)], now: i64) -> StoreResult<()> {
    if allocations.is_empty() {
        return Ok(());
    }
    if tx.is_sqlite() {
        // One statement per row by primary key: no round trips on the writer's thread, and
        // cheaper than the one-statement form below (which SQLite runs as a scan of the listed
        // products with a subquery per row).
        for (p, w, q) in allocations {
            tx.execute(
                "UPDATE stock_levels SET reserved = reserved + $1, updated_at = $2 WHERE product_id = $3 AND warehouse_id = $4",
                args![*q, now, p, w],
            )
            .await?;
        }
        return Ok(());
    }
    let values: Vec<String> = (0..allocations.len())
        .map(|i| format!("(${}, ${}, CAST(${} AS BIGINT))", 3 * i + 2, 3 * i + 3, 3 * i + 4))
        .collect();
    // One statement: each is a round trip on PostgreSQL. The explicit key list lets the planner
    // find the rows by primary key.
    let products: Vec<String> = (0..allocations.len()).map(|i| format!("${}", 3 * i + 2)).collect();
    let sql = format!(
        "WITH v (p, w, q) AS (VALUES {})
         UPDATE stock_levels SET reserved = reserved + (SELECT v.q FROM v WHERE v.p = stock_levels.product_id AND v.w = stock_levels.warehouse_id),
             updated_at = $1
         WHERE product_id IN ({})
           AND EXISTS (SELECT 1 FROM v WHERE v.p = stock_levels.product_id AND v.w = stock_levels.warehouse_id)",
        values.join(", "),
        products.join(", ")
    );
    let mut args = vec![Cell::Int(now)];
    for (p, w, q) in allocations {
        args.extend([Cell::text(p), Cell::text(w), Cell::Int(*q)]);
    }
    tx.execute(&sql, args).await?;
    Ok(())
}

/// Gives back everything an order holds (cancelled or amended: the reservation returns to
/// available stock) and forgets its allocations.
pub async fn release_allocations(tx: &mut Tx, order_id: &str, now: i64) -> StoreResult<()> {
    let rows: Vec<AllocationRow> = tx
        .fetch_all(
            "SELECT product_id, warehouse_id, quantity FROM order_allocations WHERE order_id = $1 ORDER BY product_id, warehouse_id",
            args![order_id],
        )
        .await?;
    for a in rows {
        tx.execute(
            "UPDATE stock_levels SET reserved = reserved - $3, updated_at = $4 WHERE product_id = $1 AND warehouse_id = $2",
            args![a.product_id, a.warehouse_id, a.quantity, now],
        )
        .await?;
    }
    tx.execute("DELETE FROM order_allocations WHERE order_id = $1", args![order_id]).await?;
    tx.execute("UPDATE order_lines SET reserved_qty = 0 WHERE order_id = $1", args![order_id]).await?;
    Ok(())
}

/// What an order holds, per warehouse code: (warehouse code, [(line number, units reserved there)]).
pub async fn holdings(db: &Db, order_id: &str) -> StoreResult<Vec<(String, Vec<(i64, i64)>)>> {
    #[derive(serde::Deserialize)]
    struct Held {
        code: String,
        line_no: i64,
        quantity: i64,
    }
    let fields = [
        ("code", "w.code"),
        ("line_no", "l.line_no"),
        ("quantity", "CASE WHEN a.quantity < l.reserved_qty THEN a.quantity ELSE l.reserved_qty END"),
    ];
    let sql = format!(
        "SELECT {} FROM order_allocations a JOIN warehouses w ON w.id = a.warehouse_id
         JOIN order_lines l ON l.order_id = a.order_id AND l.product_id = a.product_id
         WHERE a.order_id = $1 AND l.reserved_qty > 0",
        db.json_rows(&fields, "w.sort, w.code, l.line_no")
    );
    let rows: Vec<(String, i64, i64)> = super::fetch_json_rows::<Held>(db, &sql, &[order_id])
        .await?
        .into_iter()
        .map(|h| (h.code, h.line_no, h.quantity))
        .collect();
    let mut out: Vec<(String, Vec<(i64, i64)>)> = Vec::new();
    for (code, line_no, qty) in rows {
        match out.last_mut() {
            Some((c, lines)) if *c == code => lines.push((line_no, qty)),
            _ => out.push((code, vec![(line_no, qty)])),
        }
    }
    Ok(out)
}

/// Writes the order's allocations.
pub async fn insert_allocations(tx: &mut Tx, order_id: &str, rows: &[(String, String, i64)]) -> StoreResult<()> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(p, w, q)| vec![Cell::Text(order_id.into()), Cell::Text(p.clone()), Cell::Text(w.clone()), Cell::Int(*q)])
        .collect();
    bulk_insert(tx, "order_allocations", &["order_id", "product_id", "warehouse_id", "quantity"], &cells).await
}

/// Writes the order's row, with what it adds to its account's exposure (`store::credit`). The
/// unit then adds it to the dashboards' rollup with [`count_new`].
pub async fn insert(tx: &mut Tx, o: &OrderRow, uninvoiced: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO orders (id, number, account_id, status, channel, placed_by_user_id, placed_by_name, on_behalf_of_account_id,
             ship_to_id, ship_to_text, po_number, requested_date, notes, terms_days, subtotal, line_count, backordered, reasons,
             revision, version, placed_at, updated_at, uninvoiced, owner_rep_id, handover_rep_id, handover_share_ppm)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
                 $25, $26)",
        vec![
            Cell::text(&o.id),
            Cell::text(&o.number),
            Cell::text(&o.account_id),
            Cell::text(&o.status),
            Cell::text(&o.channel),
            Cell::text(&o.placed_by_user_id),
            Cell::text(&o.placed_by_name),
            Cell::opt_text(o.on_behalf_of_account_id.as_deref()),
            Cell::opt_text(o.ship_to_id.as_deref()),
            Cell::text(&o.ship_to_text),
            Cell::text(&o.po_number),
            Cell::opt_text(o.requested_date.as_deref()),
            Cell::text(&o.notes),
            Cell::Int(o.terms_days),
            Cell::Int(o.subtotal),
            Cell::Int(o.line_count),
            Cell::Bool(o.backordered),
            Cell::text(&o.reasons),
            Cell::Int(o.revision),
            Cell::Int(o.version),
            Cell::Int(o.placed_at),
            Cell::Int(o.updated_at),
            Cell::Int(uninvoiced),
            Cell::opt_text(o.owner_rep_id.as_deref()),
            Cell::opt_text(o.handover_rep_id.as_deref()),
            Cell::Int(o.handover_share_ppm),
        ],
    )
    .await?;
    Ok(())
}

/// Adds a new order to the dashboards' rollup ([`super::dashboards::record`]). Its rows are the
/// account's, and their locks are held to commit (on PostgreSQL, concurrent orders of the account
/// wait for them): placement calls this at the end of its unit.
pub async fn count_new(tx: &mut Tx, o: &OrderRow) -> StoreResult<()> {
    super::dashboards::record(tx, None, o).await
}

/// Writes the header fields an amendment or a status change may touch, if the version is still
/// `before`'s. Returns false when someone else changed the order first. The dashboards' rollup
/// follows in the same transaction ([`super::dashboards::record`]).
pub async fn update_header(tx: &mut Tx, before: &OrderRow, o: &OrderRow) -> StoreResult<bool> {
    let expected_version = before.version;
    let n = tx
        .execute(
            "UPDATE orders SET status = $3, ship_to_id = $4, ship_to_text = $5, po_number = $6, requested_date = $7, notes = $8,
                 subtotal = $9, line_count = $10, backordered = $11, reasons = $12, revision = $13, version = $14, updated_at = $15
             WHERE id = $1 AND version = $2",
            args![
                &o.id,
                expected_version,
                &o.status,
                &o.ship_to_id,
                &o.ship_to_text,
                &o.po_number,
                &o.requested_date,
                &o.notes,
                o.subtotal,
                o.line_count,
                o.backordered,
                &o.reasons,
                o.revision,
                o.version,
                o.updated_at
            ],
        )
        .await?;
    if n == 1 {
        super::dashboards::record(tx, Some(before), o).await?;
    }
    Ok(n == 1)
}

pub async fn replace_lines(tx: &mut Tx, order_id: &str, lines: &[OrderLineRow]) -> StoreResult<()> {
    tx.execute("DELETE FROM order_lines WHERE order_id = $1", args![order_id]).await?;
    insert_lines(tx, order_id, lines).await
}

/// Writes the lines of an order.
pub async fn insert_lines(tx: &mut Tx, order_id: &str, lines: &[OrderLineRow]) -> StoreResult<()> {
    let cells: Vec<Vec<Cell>> = lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(order_id.into()),
                Cell::Int(l.line_no),
                Cell::Text(l.product_id.clone()),
                Cell::Text(l.sku.clone()),
                Cell::Text(l.name.clone()),
                Cell::Text(l.uom.clone()),
                Cell::Int(l.quantity),
                Cell::Int(l.unit_price),
                l.list_price.map(Cell::Int).unwrap_or(Cell::NullInt),
                Cell::Int(l.line_total),
                Cell::Text(l.price_source.clone()),
                Cell::Text(l.price_explanation.clone()),
                Cell::Int(l.reserved_qty),
                Cell::Int(l.backordered_qty),
            ]
        })
        .collect();
    bulk_insert(
        tx,
        "order_lines",
        &[
            "order_id",
            "line_no",
            "product_id",
            "sku",
            "name",
            "uom",
            "quantity",
            "unit_price",
            "list_price",
            "line_total",
            "price_source",
            "price_explanation",
            "reserved_qty",
            "backordered_qty",
        ],
        &cells,
    )
    .await
}

pub struct NewEvent<'a> {
    pub status: &'a str,
    pub actor_user_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub channel: &'a str,
    pub note: &'a str,
}

/// Appends an event to the order's timeline.
pub async fn add_event(tx: &mut Tx, order_id: &str, e: &NewEvent<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO order_events (id, order_id, at, status, actor_user_id, actor_name, channel, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            Cell::Text(new_id()),
            Cell::text(order_id),
            Cell::Int(now),
            Cell::text(e.status),
            Cell::opt_text(e.actor_user_id),
            Cell::text(e.actor_name),
            Cell::text(e.channel),
            Cell::text(e.note),
        ],
    )
    .await?;
    Ok(())
}

pub async fn add_revision(
    tx: &mut Tx,
    order_id: &str,
    revision: i64,
    actor: (Option<&str>, &str),
    reason: &str,
    diff_json: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO order_revisions (order_id, revision, at, actor_user_id, actor_name, reason, diff_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![order_id, revision, now, actor.0, actor.1, reason, diff_json],
    )
    .await?;
    Ok(())
}

/// An order by id or by number (no scope: the service checks who may see it).
pub async fn get(db: &Db, id_or_number: &str) -> StoreResult<Option<OrderRow>> {
    // One JSON row: on SQLite it is read on the caller's thread (`store::readers`), not handed
    // over from the driver's; every order page and every change of an order starts here.
    let sql = format!(
        "SELECT {} FROM (SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = $1 OR o.number = $1) o",
        db.json_rows(&super::json_fields(ORDER_COLUMNS), "")
    );
    Ok(super::fetch_json_rows(db, &sql, &[id_or_number]).await?.pop())
}

/// The order row, locked for a change (amend, cancel, confirm).
pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<OrderRow>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = $1");
    Ok(tx.lock(&sql, args![id]).await?.into_iter().next())
}

pub async fn lines(db: &Db, order_id: &str) -> StoreResult<Vec<OrderLineRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, OrderLineRow>(
        "SELECT line_no, product_id, sku, name, uom, quantity, unit_price, list_price, line_total, price_source, price_explanation,
                reserved_qty, backordered_qty, shipped_qty, invoiced_qty
         FROM order_lines WHERE order_id = $1 ORDER BY line_no"
    )
    .bind(order_id)
    .fetch_all(c)
    .await
    })
}

#[derive(sqlx::FromRow)]
struct OwnedLine {
    order_id: String,
    #[sqlx(flatten)]
    line: OrderLineRow,
}

/// The lines of many orders in one query: order id → lines by line number.
pub async fn lines_of_orders(
    db: &Db,
    order_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, Vec<OrderLineRow>>> {
    let mut out: std::collections::HashMap<String, Vec<OrderLineRow>> = std::collections::HashMap::new();
    if order_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT order_id, line_no, product_id, sku, name, uom, quantity, unit_price, list_price, line_total, price_source,
                price_explanation, reserved_qty, backordered_qty, shipped_qty, invoiced_qty
         FROM order_lines WHERE order_id IN ({}) ORDER BY order_id, line_no",
        db.json_values("$1")
    );
    let list = super::json_list(order_ids);
    let rows = on_db!(db, |c| sqlx::query_as::<_, OwnedLine>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&list)
        .fetch_all(c)
        .await)?;
    for r in rows {
        out.entry(r.order_id).or_default().push(r.line);
    }
    Ok(out)
}

pub async fn lines_tx(tx: &mut Tx, order_id: &str) -> StoreResult<Vec<OrderLineRow>> {
    tx.fetch_all(
        "SELECT line_no, product_id, sku, name, uom, quantity, unit_price, list_price, line_total, price_source, price_explanation,
                reserved_qty, backordered_qty, shipped_qty, invoiced_qty
         FROM order_lines WHERE order_id = $1 ORDER BY line_no",
        args![order_id],
    )
    .await
}

pub async fn events(db: &Db, order_id: &str) -> StoreResult<Vec<OrderEventRow>> {
    on_db!(db, |c| sqlx::query_as::<_, OrderEventRow>(
        "SELECT at, status, actor_name, channel, note FROM order_events WHERE order_id = $1 ORDER BY at, id"
    )
    .bind(order_id)
    .fetch_all(c)
    .await)
}

pub async fn revisions(db: &Db, order_id: &str) -> StoreResult<Vec<RevisionRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, RevisionRow>(
        "SELECT revision, at, actor_name, reason, diff_json FROM order_revisions WHERE order_id = $1 ORDER BY revision DESC"
    )
    .bind(order_id)
    .fetch_all(c)
    .await
    })
}

/// Filters of an order history (all optional; values already validated).
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub account_id: Option<String>,
    /// Restricts to the accounts a rep owns (a rep's book).
    pub owner_rep_id: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub po: Option<String>,
    pub sku: Option<String>,
    pub placed_by: Option<String>,
    /// Order number or PO number, partial.
    pub q: Option<String>,
}

/// A page of orders, newest first, after the keyset (placed_at, id).
pub async fn list(db: &Db, f: &OrderFilter, after: Option<(i64, &str)>, limit: i64) -> StoreResult<Vec<OrderRow>> {
    let after = after.map(|(at, id)| OrderCursor { value: None, placed_at: at, id: id.to_string() });
    let rows = list_sorted(db, f, OrderSort::default(), after.as_ref(), limit).await?;
    Ok(rows.into_iter().map(|r| r.order).collect())
}

/// What the staff order list sorts by. Ties are broken by (placed_at, id) in the same direction,
/// so every sort is a keyset over an index: `orders_placed`, `orders_subtotal`,
/// `orders_status_placed` (migration 0023); by account, the accounts' name order joined to each
/// account's `orders_account_placed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Placed,
    Total,
    Account,
    Status,
}

impl SortBy {
    pub const ALL: [SortBy; 4] = [SortBy::Placed, SortBy::Total, SortBy::Account, SortBy::Status];

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Placed => "placed",
            SortBy::Total => "total",
            SortBy::Account => "account",
            SortBy::Status => "status",
        }
    }

    pub fn parse(s: &str) -> Option<SortBy> {
        SortBy::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The sort column before the (placed_at, id) tie-breakers; none when sorting by date.
    fn column(self) -> Option<&'static str> {
        match self {
            SortBy::Placed => None,
            SortBy::Total => Some("o.subtotal"),
            SortBy::Account => Some("a.name"),
            SortBy::Status => Some("o.status"),
        }
    }
}

/// A sort and its direction (newest, largest, Z→A first when descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderSort {
    pub by: SortBy,
    pub descending: bool,
}

impl Default for OrderSort {
    fn default() -> OrderSort {
        OrderSort { by: SortBy::Placed, descending: true }
    }
}

/// Where a sorted page ends: the last row's sort value (none when sorting by date), placed_at and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub value: Option<SortValue>,
    pub placed_at: i64,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// An order of a list with its account's name and number.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ListedOrder {
    #[sqlx(flatten)]
    pub order: OrderRow,
    pub account_name: String,
    pub account_number: String,
}

impl ListedOrder {
    /// This row as the cursor of a page that ends with it.
    pub fn cursor(&self, by: SortBy) -> OrderCursor {
        let value = match by {
            SortBy::Placed => None,
            SortBy::Total => Some(SortValue::Int(self.order.subtotal)),
            SortBy::Account => Some(SortValue::Text(self.account_name.clone())),
            SortBy::Status => Some(SortValue::Text(self.order.status.clone())),
        };
        OrderCursor { value, placed_at: self.order.placed_at, id: self.order.id.clone() }
    }
}

/// A page of orders in `sort` order after the cursor (a row-value comparison on the sort key, so
/// paging never skips or repeats a row and never counts past rows).
pub async fn list_sorted(
    db: &Db,
    f: &OrderFilter,
    sort: OrderSort,
    after: Option<&OrderCursor>,
    limit: i64,
) -> StoreResult<Vec<ListedOrder>> {
    let mut sql = format!(
        "SELECT {ORDER_COLUMNS}, a.name AS account_name, a.number AS account_number
         FROM orders o JOIN accounts a ON a.id = o.account_id WHERE 1 = 1"
    );
    let mut binds: Vec<Cell> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, v: Cell| {
        binds.push(v);
        sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
    };
    if let Some(a) = &f.account_id {
        push(&mut sql, " AND o.account_id = $?", Cell::Text(a.clone()));
    }
    if let Some(r) = &f.owner_rep_id {
        push(&mut sql, " AND o.account_id IN (SELECT id FROM accounts WHERE owner_rep_id = $?)", Cell::Text(r.clone()));
    }
    if let Some(s) = &f.status {
        push(&mut sql, " AND o.status = $?", Cell::Text(s.clone()));
    }
    if let Some(s) = &f.channel {
        push(&mut sql, " AND o.channel = $?", Cell::Text(s.clone()));
    }
    if let Some(t) = f.from {
        push(&mut sql, " AND o.placed_at >= $?", Cell::Int(t));
    }
    if let Some(t) = f.to {
        push(&mut sql, " AND o.placed_at < $?", Cell::Int(t));
    }
    if let Some(p) = &f.po {
        push(&mut sql, " AND LOWER(o.po_number) = $?", Cell::Text(p.trim().to_lowercase()));
    }
    if let Some(s) = &f.sku {
        push(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.sku = $?)",
            Cell::Text(s.trim().to_uppercase()),
        );
    }
    if let Some(u) = &f.placed_by {
        push(&mut sql, " AND o.placed_by_user_id = $?", Cell::Text(u.clone()));
    }
    if let Some(q) = &f.q {
        let pattern = super::like_pattern(q);
        push(&mut sql, " AND (LOWER(o.number) LIKE $? ESCAPE '\\'", Cell::Text(pattern.clone()));
        push(&mut sql, " OR LOWER(o.po_number) LIKE $? ESCAPE '\\')", Cell::Text(pattern));
    }
    let (cmp, dir) = if sort.descending { ("<", "DESC") } else { (">", "ASC") };
    let column = sort.by.column();
    if let Some(c) = after {
        match (column, &c.value) {
            (Some(col), Some(v)) => {
                let v = match v {
                    SortValue::Int(i) => Cell::Int(*i),
                    SortValue::Text(t) => Cell::Text(t.clone()),
                };
                push(&mut sql, &format!(" AND ({col}, o.placed_at, o.id) {cmp} ($?"), v);
                push(&mut sql, ", $?", Cell::Int(c.placed_at));
                push(&mut sql, ", $?)", Cell::Text(c.id.clone()));
            }
            _ => {
                push(&mut sql, &format!(" AND (o.placed_at, o.id) {cmp} ($?"), Cell::Int(c.placed_at));
                push(&mut sql, ", $?)", Cell::Text(c.id.clone()));
            }
        }
    }
    let order = match column {
        Some(col) => format!("{col} {dir}, o.placed_at {dir}, o.id {dir}"),
        None => format!("o.placed_at {dir}, o.id {dir}"),
    };
    sql.push_str(&format!(" ORDER BY {order} LIMIT {}", limit.clamp(1, 1000)));
    on_db!(db, |c| {
        let rows = bind_cells(sqlx::query(sqlx::AssertSqlSafe(sql)), binds).fetch_all(c).await?;
        rows.iter().map(<ListedOrder as sqlx::FromRow<_>>::from_row).collect()
    })
}

/// Orders changed since a time, oldest change first, after the keyset (updated_at, id): how an ERP
/// pulls. `status` narrows to orders now in that status (through `orders_status_updated`).
pub async fn changed_since(
    db: &Db,
    since: i64,
    account_id: Option<&str>,
    status: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<OrderRow>> {
    // With no cursor the keyset (since, "") includes every order changed at or after `since`.
    let (at, id) = after.unwrap_or((since, ""));
    let mut binds = vec![Cell::Int(since), Cell::Int(at), Cell::text(id)];
    let mut filters = String::new();
    if let Some(a) = account_id {
        binds.push(Cell::text(a));
        filters.push_str(&format!(" AND o.account_id = ${}", binds.len()));
    }
    if let Some(s) = status {
        binds.push(Cell::text(s));
        filters.push_str(&format!(" AND o.status = ${}", binds.len()));
    }
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE o.updated_at >= $1 AND (o.updated_at > $2 OR (o.updated_at = $2 AND o.id > $3)){filters}
         ORDER BY o.updated_at, o.id LIMIT {}",
        limit.clamp(1, 1000)
    );
    on_db!(db, |c| {
        let rows = bind_cells(sqlx::query(sqlx::AssertSqlSafe(sql)), binds).fetch_all(c).await?;
        rows.iter().map(<OrderRow as sqlx::FromRow<_>>::from_row).collect()
    })
}

/// Everyone who placed an order for an account: (user id, name), for the history's filter.
pub async fn placers(db: &Db, account_id: &str) -> StoreResult<Vec<(String, String)>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, (String, String)>(
        "SELECT placed_by_user_id, MAX(placed_by_name) FROM orders WHERE account_id = $1 GROUP BY placed_by_user_id ORDER BY 2"
    )
    .bind(account_id)
    .fetch_all(c)
    .await
    })
}

/// A product this account bought: one row per order line, newest first (aggregated by the service).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PurchaseRow {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub placed_at: i64,
}

pub async fn purchases_since(db: &Db, account_id: &str, since: i64, limit: i64) -> StoreResult<Vec<PurchaseRow>> {
    on_db!(db, |c| sqlx::query_as::<_, PurchaseRow>(
        "SELECT l.product_id, l.sku, l.name, l.quantity, l.unit_price, o.placed_at
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.account_id = $1 AND o.placed_at >= $2 AND o.status <> 'cancelled'
         ORDER BY o.placed_at DESC, l.line_no LIMIT $3"
    )
    .bind(account_id)
    .bind(since)
    .bind(limit)
    .fetch_all(c)
    .await)
}
