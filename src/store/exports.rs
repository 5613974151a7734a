//! The pages of the CSV exports. An export reads a page at a time by key (keyset paging: the
//! rows after the previous page's last key, in key order), so writing a million orders holds one
//! page in memory and no read connection between pages; each page is one indexed range read
//! (DESIGN.md §6: paginate by key, never by offset). One statement streamed over a whole table
//! would instead hold a read connection — and, on SQLite, the WAL snapshot it reads, so no
//! checkpoint can pass it — for as long as the slowest client takes to download the file.

use super::{Db, StoreResult};
use crate::on_db;

/// Rows read per page of an export.
pub const PAGE: i64 = 1000;

/// One value of a page's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    Text(String),
    Int(i64),
}

/// The key of a page's last row: the values of the export's `ORDER BY`, in order.
pub type Key = Vec<KeyPart>;

/// One page of `sql` after the key `after` of the previous page's last row. `sql`'s `{after}` is
/// replaced by the keyset condition and its `{limit}` by the rows still wanted; `key` names the
/// `ORDER BY` expressions (e.g. `l.code`, `p.sku`, `i.min_qty`).
///
/// The rows after a key `(a, b, c)` are read as up to three queries, each an equality prefix and
/// one range — `k1 = a AND k2 = b AND k3 > c`, then `k1 = a AND k2 > b`, then `k1 > a` — not as one
/// row-value comparison `(k1, k2, k3) > (a, b, c)`: SQLite does not seek an index on a row value
/// spanning joined tables, so every page of the base price list (300,000 prices) scanned the
/// products from the first (51 s for the list's export on the large dataset, against 3 s this way).
async fn page<T>(db: &Db, sql: &str, key: &[&str], after: Option<&Key>) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let Some(after) = after else {
        // The first page as a range on the first key (text in every export) like the pages after
        // it: with no condition, SQLite sorted all million contract prices for it (2.8 s).
        return rows_where(db, sql, &format!("{} >= $1", key[0]), &[KeyPart::Text(String::new())], PAGE).await;
    };
    let mut out = Vec::new();
    for depth in (0..key.len().min(after.len())).rev() {
        let mut cond: Vec<String> = (0..depth).map(|i| format!("{} = ${}", key[i], i + 1)).collect();
        cond.push(format!("{} > ${}", key[depth], depth + 1));
        let wanted = PAGE - out.len() as i64;
        out.extend(rows_where::<T>(db, sql, &cond.join(" AND "), &after[..=depth], wanted).await?);
        if out.len() as i64 >= PAGE {
            break;
        }
    }
    Ok(out)
}

/// The rows of `sql` with `{after}` replaced by `cond` (binding `binds` as `$1…`), at most `limit`.
async fn rows_where<T>(db: &Db, sql: &str, cond: &str, binds: &[KeyPart], limit: i64) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let sql = sql.replace("{after}", cond).replace("{limit}", &limit.to_string());
    on_db!(db, |c| {
        let q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.clone()));
        let q = binds.iter().fold(q, |q, part| match part {
            KeyPart::Int(i) => q.bind(*i),
            KeyPart::Text(s) => q.bind(s.clone()),
        });
        q.fetch_all(c).await
    })
}

/// A product page: by SKU, after `after` (SKU).
pub async fn products(db: &Db, after: Option<&Key>) -> StoreResult<Vec<super::products::ProductRow>> {
    let sql = format!(
        "SELECT {} FROM products p WHERE {{after}} ORDER BY p.sku LIMIT {{limit}}",
        super::products::PRODUCT_COLUMNS
    );
    page(db, &sql, &["p.sku"], after).await
}

/// The attributes of some products: (product id, key, value), by product and key.
pub async fn attributes_of(db: &Db, product_ids: &[String]) -> StoreResult<Vec<(String, String, String)>> {
    let sql = format!(
        "SELECT product_id, key, value FROM product_attributes WHERE product_id IN ({})
         ORDER BY product_id, key",
        db.json_values("$1")
    );
    let list = super::json_list(product_ids);
    on_db!(db, |c| sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(list.as_str())
        .fetch_all(c)
        .await)
}

/// A stock page: by SKU and warehouse code.
pub async fn stock(db: &Db, after: Option<&Key>) -> StoreResult<Vec<super::inventory::StockExportRow>> {
    let sql = "SELECT p.sku, w.code AS warehouse, s.on_hand, s.incoming, s.incoming_eta
               FROM stock_levels s JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id
               WHERE {after} ORDER BY p.sku, w.code LIMIT {limit}";
    page(db, sql, &["p.sku", "w.code"], after).await
}

/// A page of price list prices: by list code, SKU and quantity.
pub async fn list_prices(db: &Db, after: Option<&Key>) -> StoreResult<Vec<super::pricing::ListPriceExport>> {
    let sql = "SELECT l.code, l.name, l.priority, l.valid_from, l.valid_to, p.sku, i.min_qty, i.unit_price
               FROM price_list_items i JOIN price_lists l ON l.id = i.price_list_id JOIN products p ON p.id = i.product_id
               WHERE {after} ORDER BY l.code, p.sku, i.min_qty LIMIT {limit}";
    page(db, sql, &["l.code", "p.sku", "i.min_qty"], after).await
}

/// A page of contract prices: by contract number, SKU and quantity.
pub async fn contract_prices(db: &Db, after: Option<&Key>) -> StoreResult<Vec<super::pricing::ContractPriceExport>> {
    let sql = "SELECT k.number AS contract_number, a.number AS account, k.name AS contract_name, k.valid_from,
                      k.valid_to, p.sku, cp.min_qty, cp.unit_price
               FROM contract_prices cp JOIN contracts k ON k.id = cp.contract_id JOIN accounts a ON a.id = k.account_id
               JOIN products p ON p.id = cp.product_id
               WHERE {after} ORDER BY k.number, p.sku, cp.min_qty LIMIT {limit}";
    page(db, sql, &["k.number", "p.sku", "cp.min_qty"], after).await
}

/// An order line as exported, with its order's header.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderLineExport {
    pub number: String,
    pub account: String,
    pub account_name: String,
    pub status: String,
    pub channel: String,
    pub placed_at: i64,
    pub po_number: String,
    pub requested_date: Option<String>,
    pub ship_to: String,
    pub placed_by: String,
    pub subtotal: i64,
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub uom: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

/// A page of order lines: by order number and line.
pub async fn order_lines(db: &Db, after: Option<&Key>) -> StoreResult<Vec<OrderLineExport>> {
    let sql = "SELECT o.number, a.number AS account, a.name AS account_name, o.status, o.channel, o.placed_at,
                      o.po_number, o.requested_date, o.ship_to_text AS ship_to, o.placed_by_name AS placed_by,
                      o.subtotal, l.line_no, l.sku, l.name, l.uom, l.quantity, l.unit_price, l.line_total
               FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN accounts a ON a.id = o.account_id
               WHERE o.status <> 'draft' AND {after} ORDER BY o.number, l.line_no LIMIT {limit}";
    page(db, sql, &["o.number", "l.line_no"], after).await
}

/// An account as exported: its group by name and its owning rep by e-mail address.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountExport {
    pub number: String,
    pub external_id: Option<String>,
    pub name: String,
    pub status: String,
    pub ownership_mode: String,
    pub owner_rep: Option<String>,
    pub terms_days: i64,
    pub credit_limit: i64,
    pub po_required: bool,
    pub phone: String,
    pub account_group: Option<String>,
    pub bill_line1: String,
    pub bill_line2: String,
    pub bill_city: String,
    pub bill_region: String,
    pub bill_postal_code: String,
    pub bill_country: String,
}

/// A page of accounts: by number.
pub async fn accounts(db: &Db, after: Option<&Key>) -> StoreResult<Vec<AccountExport>> {
    let sql = "SELECT a.number, a.external_id, a.name, a.status, a.ownership_mode, u.email AS owner_rep, a.terms_days,
                      a.credit_limit, a.po_required, a.phone, g.name AS account_group, a.bill_line1, a.bill_line2,
                      a.bill_city, a.bill_region, a.bill_postal_code, a.bill_country
               FROM accounts a LEFT JOIN users u ON u.id = a.owner_rep_id LEFT JOIN account_groups g ON g.id = a.group_id
               WHERE {after} ORDER BY a.number LIMIT {limit}";
    page(db, sql, &["a.number"], after).await
}

/// A ship-to as exported: its account by number.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShipToExport {
    pub account: String,
    pub id: String,
    pub external_id: Option<String>,
    pub label: String,
    pub is_default: bool,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

/// A page of ship-tos: by account number and ship-to id.
pub async fn ship_tos(db: &Db, after: Option<&Key>) -> StoreResult<Vec<ShipToExport>> {
    let sql = "SELECT a.number AS account, s.id, s.external_id, s.label, s.is_default, s.line1, s.line2, s.city,
                      s.region, s.postal_code, s.country
               FROM ship_tos s JOIN accounts a ON a.id = s.account_id
               WHERE {after} ORDER BY a.number, s.id LIMIT {limit}";
    page(db, sql, &["a.number", "s.id"], after).await
}
