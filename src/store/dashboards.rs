//! The dashboards' figures (issue 18 §4): the monthly rollup of orders and revenue per account and
//! channel (`order_months`) and each account's recent order times (`account_rhythm`), both kept by
//! [`record`] in the transaction that writes the order (migration 0035 explains why and backfills
//! them); and the reads of the dashboards, each scoped to the whole seller, a rep's book or one
//! account ([`Scope`]).
//!
//! Sizes: the rollup has a row per account, month and channel an account ordered through, so a
//! seller with 1,000,000 orders from 5,000 accounts over two years reads at most a few hundred
//! thousand small rows for the whole seller (from the covering index `order_months_month`) and a
//! few thousand for a rep's book; the rhythm one row per account. Reads return one JSON document
//! ([`fetch_json_rows`]) so the SQLite driver hands over one value, not thousands of rows.

use super::orders::OrderRow;
use super::{Db, StoreResult, Tx, fetch_json_rows};
use crate::args;
use crate::domain::dashboards::{self as rules, RECENT_ORDERS};
use serde::Deserialize;

/// Whose figures a dashboard shows. Built by the service after it checked the actor may see them.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    /// The accounts a rep owns now.
    Book(&'a str),
    Account(&'a str),
}

impl Scope<'_> {
    /// A join and condition on `accounts a` for rows whose account id is `{col}`, and its bind
    /// (as parameter `$n`).
    fn filter(&self, col: &str, n: usize) -> (String, Option<String>) {
        match self {
            Scope::All => (String::new(), None),
            Scope::Book(rep) => {
                (format!(" AND {col} IN (SELECT id FROM accounts WHERE owner_rep_id = ${n})"), Some(rep.to_string()))
            }
            Scope::Account(id) => (format!(" AND {col} = ${n}"), Some(id.to_string())),
        }
    }
}

/// Keeps the rollup and the account's rhythm in step with a change to an order: `before` is the
/// order as it was (`None` for a new one), `after` as written. The order's account, month and
/// channel never change, so one row moves.
pub async fn record(tx: &mut Tx, before: Option<&OrderRow>, after: &OrderRow) -> StoreResult<()> {
    let (orders, revenue) =
        rules::rollup_delta(before.map(|b| (b.status.as_str(), b.subtotal)), (after.status.as_str(), after.subtotal));
    if orders == 0 && revenue == 0 {
        return Ok(());
    }
    let month = rules::month_of(after.placed_at);
    tx.execute(
        "INSERT INTO order_months (account_id, month, channel, orders, revenue) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, month, channel)
         DO UPDATE SET orders = order_months.orders + excluded.orders, revenue = order_months.revenue + excluded.revenue",
        args![after.account_id.as_str(), month.as_str(), after.channel.as_str(), orders, revenue],
    )
    .await?;
    // A new order (the case of every placement) is prepended in one statement; anything else — a
    // cancellation, an order older than the account's last one — re-reads the account's orders.
    if orders == 1 && push(tx, &after.account_id, after.placed_at).await? {
        return Ok(());
    }
    if orders != 0 {
        rhythm(tx, &after.account_id, orders).await?;
    }
    Ok(())
}

/// Adds an order at `at` to the account's rhythm without reading its orders: the time is
/// prepended to `recent` and the text cut to the latest [`RECENT_ORDERS`] (fixed width, see
/// [`rules::parse_recent`]). Returns false, having written nothing, when the account already has
/// a later order: then [`rhythm`] re-reads, as the order does not go first.
async fn push(tx: &mut Tx, account_id: &str, at: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            &format!(
                "INSERT INTO account_rhythm (account_id, orders, last_at, recent) VALUES ($1, 1, $2, $3)
                 ON CONFLICT (account_id) DO UPDATE SET orders = account_rhythm.orders + 1, last_at = excluded.last_at,
                     recent = substr(excluded.recent || ' ' || account_rhythm.recent, 1, {})
                 WHERE excluded.last_at >= account_rhythm.last_at",
                rules::RECENT_TEXT_LEN
            ),
            args![account_id, at, rules::format_time(at).as_str()],
        )
        .await?;
    Ok(n == 1)
}

/// Re-reads the account's latest order times (a short range of `orders_account_placed`) and
/// stores them with the changed count.
async fn rhythm(tx: &mut Tx, account_id: &str, delta: i64) -> StoreResult<()> {
    let times: Vec<i64> = tx
        .fetch_all(
            &format!(
                "SELECT placed_at FROM orders WHERE account_id = $1 AND status NOT IN ('draft', 'cancelled')
                 ORDER BY placed_at DESC LIMIT {RECENT_ORDERS}"
            ),
            args![account_id],
        )
        .await?;
    if times.is_empty() {
        tx.execute("DELETE FROM account_rhythm WHERE account_id = $1", args![account_id]).await?;
        return Ok(());
    }
    let last = times.iter().copied().max().unwrap_or(0);
    tx.execute(
        "INSERT INTO account_rhythm (account_id, orders, last_at, recent) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id)
         DO UPDATE SET orders = account_rhythm.orders + $5, last_at = excluded.last_at, recent = excluded.recent",
        args![account_id, delta.max(0), last, rules::format_recent(&times).as_str(), delta],
    )
    .await?;
    Ok(())
}

/// Rebuilds both tables from the orders (after a bulk load that wrote orders directly: the demo's
/// scale data). The same statements as migrations 0035 and 0039 (the rhythm in its fixed-width form).
pub async fn rebuild(tx: &mut Tx) -> StoreResult<()> {
    let (month, agg) = if tx.is_sqlite() {
        (
            "strftime('%Y-%m', placed_at, 'unixepoch')",
            "group_concat(printf('%010d', r.placed_at), ' ' ORDER BY r.placed_at DESC, r.id DESC)",
        )
    } else {
        (
            "to_char(to_timestamp(placed_at) AT TIME ZONE 'UTC', 'YYYY-MM')",
            "string_agg(lpad(r.placed_at::text, 10, '0'), ' ' ORDER BY r.placed_at DESC, r.id DESC)",
        )
    };
    tx.execute("DELETE FROM order_months", Vec::new()).await?;
    tx.execute("DELETE FROM account_rhythm", Vec::new()).await?;
    tx.execute(
        &format!(
            "INSERT INTO order_months (account_id, month, channel, orders, revenue)
             SELECT account_id, {month}, channel, COUNT(*), SUM(subtotal)
               FROM orders WHERE status NOT IN ('draft', 'cancelled')
              GROUP BY account_id, {month}, channel"
        ),
        Vec::new(),
    )
    .await?;
    tx.execute(
        &format!(
            "INSERT INTO account_rhythm (account_id, orders, last_at, recent)
             SELECT r.account_id, c.n, MAX(r.placed_at), {agg}
               FROM (SELECT account_id, placed_at, id,
                            ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY placed_at DESC, id DESC) AS rn
                       FROM orders WHERE status NOT IN ('draft', 'cancelled')) r
               JOIN (SELECT account_id, COUNT(*) AS n FROM orders WHERE status NOT IN ('draft', 'cancelled')
                      GROUP BY account_id) c ON c.account_id = r.account_id
              WHERE r.rn <= {RECENT_ORDERS}
              GROUP BY r.account_id, c.n"
        ),
        Vec::new(),
    )
    .await?;
    Ok(())
}

/// Orders and revenue of a month through a channel.
#[derive(Clone, Debug, Deserialize)]
pub struct ChannelMonth {
    pub month: String,
    pub channel: String,
    pub orders: i64,
    pub revenue: i64,
}

/// Orders and revenue per month and channel from `first` to `last` (months, inclusive).
pub async fn channel_months(db: &Db, scope: Scope<'_>, first: &str, last: &str) -> StoreResult<Vec<ChannelMonth>> {
    let (cond, bind) = scope.filter("m.account_id", 3);
    let json = db.json_rows(
        &[("month", "g.month"), ("channel", "g.channel"), ("orders", "g.orders"), ("revenue", "g.revenue")],
        "g.month, g.channel",
    );
    let sql = format!(
        "SELECT {json} FROM (SELECT m.month, m.channel, CAST(SUM(m.orders) AS BIGINT) AS orders,
                CAST(SUM(m.revenue) AS BIGINT) AS revenue
           FROM order_months m WHERE m.month >= $1 AND m.month <= $2{cond}
          GROUP BY m.month, m.channel) g"
    );
    let mut binds = vec![first, last];
    binds.extend(bind.as_deref());
    fetch_json_rows(db, &sql, &binds).await
}

/// An account's (or a rep's) orders and revenue in a window, split into self-service and the rest.
#[derive(Clone, Debug, Deserialize)]
pub struct AdoptionRow {
    pub id: String,
    pub number: String,
    pub name: String,
    /// The account's owning rep now (empty: none).
    pub rep_id: String,
    pub rep_name: String,
    pub orders: i64,
    pub self_orders: i64,
    pub revenue: i64,
    pub self_revenue: i64,
}

fn self_service_list() -> String {
    crate::domain::commissions::SELF_SERVICE.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
}

/// Per account: orders and revenue from `first` to `last`, and how much of it was self-service,
/// biggest revenue first.
pub async fn adoption_by_account(db: &Db, scope: Scope<'_>, first: &str, last: &str) -> StoreResult<Vec<AdoptionRow>> {
    let (cond, bind) = scope.filter("m.account_id", 3);
    let ss = self_service_list();
    let json = db.json_rows(
        &[
            ("id", "a.id"),
            ("number", "a.number"),
            ("name", "a.name"),
            ("rep_id", "COALESCE(a.owner_rep_id, '')"),
            ("rep_name", "COALESCE(u.name, '')"),
            ("orders", "g.orders"),
            ("self_orders", "g.self_orders"),
            ("revenue", "g.revenue"),
            ("self_revenue", "g.self_revenue"),
        ],
        "g.revenue DESC, a.name, a.id",
    );
    let sql = format!(
        "SELECT {json} FROM (SELECT m.account_id, CAST(SUM(m.orders) AS BIGINT) AS orders,
                CAST(SUM(CASE WHEN m.channel IN ({ss}) THEN m.orders ELSE 0 END) AS BIGINT) AS self_orders,
                CAST(SUM(m.revenue) AS BIGINT) AS revenue,
                CAST(SUM(CASE WHEN m.channel IN ({ss}) THEN m.revenue ELSE 0 END) AS BIGINT) AS self_revenue
           FROM order_months m WHERE m.month >= $1 AND m.month <= $2{cond}
          GROUP BY m.account_id) g
         JOIN accounts a ON a.id = g.account_id LEFT JOIN users u ON u.id = a.owner_rep_id"
    );
    let mut binds = vec![first, last];
    binds.extend(bind.as_deref());
    fetch_json_rows(db, &sql, &binds).await
}

/// An account's order count, last order and recent order times.
#[derive(Clone, Debug, Deserialize)]
pub struct RhythmRow {
    pub account_id: String,
    pub number: String,
    pub name: String,
    pub rep_name: String,
    pub orders: i64,
    pub last_at: i64,
    pub recent: String,
}

/// Every account in scope that has ordered, with its rhythm.
pub async fn rhythms(db: &Db, scope: Scope<'_>) -> StoreResult<Vec<RhythmRow>> {
    let (cond, bind) = scope.filter("r.account_id", 1);
    let json = db.json_rows(
        &[
            ("account_id", "r.account_id"),
            ("number", "a.number"),
            ("name", "a.name"),
            ("rep_name", "COALESCE(u.name, '')"),
            ("orders", "r.orders"),
            ("last_at", "r.last_at"),
            ("recent", "r.recent"),
        ],
        "",
    );
    let sql = format!(
        "SELECT {json} FROM account_rhythm r JOIN accounts a ON a.id = r.account_id
         LEFT JOIN users u ON u.id = a.owner_rep_id WHERE 1 = 1{cond}"
    );
    let binds: Vec<&str> = bind.as_deref().into_iter().collect();
    fetch_json_rows(db, &sql, &binds).await
}

/// A cart untouched since `last_at`: whose, for which account, how many lines.
#[derive(Clone, Debug, Deserialize)]
pub struct CartRow {
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
    pub number: String,
    pub name: String,
    pub rep_name: String,
    pub lines: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// Carts in scope last touched at or before `idle_since`, most recently touched first.
pub async fn idle_carts(db: &Db, scope: Scope<'_>, idle_since: i64, limit: i64) -> StoreResult<Vec<CartRow>> {
    let (cond, bind) = scope.filter("c.account_id", 2);
    let json = db.json_rows(
        &[
            ("user_id", "g.user_id"),
            ("user_name", "u.name"),
            ("account_id", "g.account_id"),
            ("number", "a.number"),
            ("name", "a.name"),
            ("rep_name", "COALESCE(r.name, '')"),
            ("lines", "g.lines"),
            ("first_at", "g.first_at"),
            ("last_at", "g.last_at"),
        ],
        "g.last_at DESC, g.user_id, g.account_id",
    );
    let sql = format!(
        "SELECT {json} FROM (SELECT c.user_id, c.account_id, COUNT(*) AS lines, MIN(c.added_at) AS first_at,
                MAX(c.added_at) AS last_at
           FROM cart_lines c WHERE 1 = 1{cond}
          GROUP BY c.user_id, c.account_id HAVING MAX(c.added_at) <= CAST($1 AS BIGINT)
          ORDER BY MAX(c.added_at) DESC LIMIT {limit}) g
         JOIN users u ON u.id = g.user_id JOIN accounts a ON a.id = g.account_id
         LEFT JOIN users r ON r.id = a.owner_rep_id"
    );
    let since = idle_since.to_string();
    let mut binds = vec![since.as_str()];
    binds.extend(bind.as_deref());
    fetch_json_rows(db, &sql, &binds).await
}

/// The lines of a user's cart for an account: (product id, quantity).
pub async fn cart_items(db: &Db, user_id: &str, account_id: &str) -> StoreResult<Vec<(String, String, i64)>> {
    #[derive(Deserialize)]
    struct Item {
        product_id: String,
        sku: String,
        quantity: i64,
    }
    let json = db.json_rows(&[("product_id", "c.product_id"), ("sku", "p.sku"), ("quantity", "c.quantity")], "p.sku");
    let sql = format!(
        "SELECT {json} FROM cart_lines c JOIN products p ON p.id = c.product_id WHERE c.user_id = $1 AND c.account_id = $2"
    );
    let items: Vec<Item> = fetch_json_rows(db, &sql, &[user_id, account_id]).await?;
    Ok(items.into_iter().map(|i| (i.product_id, i.sku, i.quantity)).collect())
}

/// A product's sales in a window.
#[derive(Clone, Debug, Deserialize)]
pub struct ProductSales {
    pub category: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub revenue: i64,
    pub orders: i64,
    pub accounts: i64,
}

/// What was bought from `since` (unix seconds) on, per product, in scope, biggest revenue first
/// (at most `limit` products). Reads the order lines of the orders placed in the window (the
/// `orders_placed` or, for an account, `orders_account_placed` index): no rollup yet.
pub async fn product_sales(db: &Db, scope: Scope<'_>, since: i64, limit: i64) -> StoreResult<Vec<ProductSales>> {
    let (cond, bind) = scope.filter("o.account_id", 2);
    let json = db.json_rows(
        &[
            ("category", "COALESCE(c.path, '')"),
            ("sku", "p.sku"),
            ("name", "p.name"),
            ("quantity", "g.quantity"),
            ("revenue", "g.revenue"),
            ("orders", "g.orders"),
            ("accounts", "g.accounts"),
        ],
        "g.revenue DESC, p.sku",
    );
    let sql = format!(
        "SELECT {json} FROM (SELECT l.product_id, CAST(SUM(l.quantity) AS BIGINT) AS quantity,
                CAST(SUM(l.line_total) AS BIGINT) AS revenue, COUNT(DISTINCT o.id) AS orders,
                COUNT(DISTINCT o.account_id) AS accounts
           FROM orders o JOIN order_lines l ON l.order_id = o.id
          WHERE o.placed_at >= CAST($1 AS BIGINT) AND o.status NOT IN ('draft', 'cancelled'){cond}
          GROUP BY l.product_id ORDER BY SUM(l.line_total) DESC LIMIT {limit}) g
         JOIN products p ON p.id = g.product_id LEFT JOIN categories c ON c.id = p.category_id"
    );
    let since = since.to_string();
    let mut binds = vec![since.as_str()];
    binds.extend(bind.as_deref());
    fetch_json_rows(db, &sql, &binds).await
}
