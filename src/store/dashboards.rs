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
use super::{Cell, Db, StoreResult, Tx, fetch_json_rows};
use crate::domain::dashboards::{self as rules, OrderCount, ProductMonth, RECENT_ORDERS};
use crate::{args, on_db};
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
    // Who buys what is counted by the worker: an order that starts or stops counting, or whose
    // lines were amended (a new revision), is marked for it (its own row: concurrent placements
    // of one account share none).
    let amended = before.is_some_and(|b| b.revision != after.revision) && rules::counts(&after.status);
    if orders == 0 && revenue == 0 && !amended {
        return Ok(());
    }
    let month = rules::month_of(after.placed_at);
    tx.execute(
        "INSERT INTO product_rollup_orders (order_id, account_id, month, seq, due_at) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (order_id) DO UPDATE SET seq = product_rollup_orders.seq + 1",
        args![after.id.as_str(), after.account_id.as_str(), month.as_str(), after.updated_at + RECOUNT_DELAY],
    )
    .await?;
    if orders == 0 && revenue == 0 {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO order_months (account_id, month, channel, orders, revenue) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, month, channel)
         DO UPDATE SET orders = order_months.orders + excluded.orders, revenue = order_months.revenue + excluded.revenue",
        args![after.account_id.as_str(), month.as_str(), after.channel.as_str(), orders, revenue],
    )
    .await?;
    let (self_orders, self_revenue) = if rules::is_self_service(&after.channel) { (orders, revenue) } else { (0, 0) };
    tx.execute(
        "INSERT INTO account_months (account_id, month, orders, revenue, self_orders, self_revenue)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, month)
         DO UPDATE SET orders = account_months.orders + excluded.orders, revenue = account_months.revenue + excluded.revenue,
             self_orders = account_months.self_orders + excluded.self_orders,
             self_revenue = account_months.self_revenue + excluded.self_revenue",
        args![after.account_id.as_str(), month.as_str(), orders, revenue, self_orders, self_revenue],
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

/// Rebuilds the rollups from the orders (after a bulk load that wrote orders directly: the demo's
/// scale data), leaving none of the orders it counted marked for the worker: the order writer's
/// (`rebuild_orders`), then who buys what (`fill_products`). The same statements as migrations
/// 0035, 0039, 0044 and 0050 (the rhythm in its fixed-width form).
pub async fn rebuild(db: &Db) -> StoreResult<()> {
    db.write((), |tx, _| Box::pin(rebuild_orders(tx))).await?;
    fill_products(db).await
}

/// Sums who buys what anew from the orders (the rollup's writer: on SQLite the rollup file), then
/// removes the marks of the orders it counted from the order writer's file (a mark set again
/// meanwhile stays, for the worker).
pub async fn fill_products(db: &Db) -> StoreResult<()> {
    let counted = db.write_rollup((), |tx, _| Box::pin(rebuild_products(tx))).await?;
    remove_marks_of(db, counted).await
}

/// Removes the marks of `counted` orders, each unless it was set again since (its `seq`).
async fn remove_marks_of(db: &Db, counted: Vec<(String, i64)>) -> StoreResult<()> {
    if counted.is_empty() {
        return Ok(());
    }
    db.write(counted, |tx, counted| Box::pin(remove_marks(tx, counted))).await
}

/// The order writer's rollups: orders and revenue per account, month and channel, and each
/// account's rhythm.
async fn rebuild_orders(tx: &mut Tx) -> StoreResult<()> {
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
    for table in ["order_months", "account_months", "account_rhythm"] {
        tx.execute(&format!("DELETE FROM {table}"), Vec::new()).await?;
    }
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
    let ss = self_service_list();
    tx.execute(
        &format!(
            "INSERT INTO account_months (account_id, month, orders, revenue, self_orders, self_revenue)
             SELECT account_id, month, SUM(orders), SUM(revenue),
                    SUM(CASE WHEN channel IN ({ss}) THEN orders ELSE 0 END),
                    SUM(CASE WHEN channel IN ({ss}) THEN revenue ELSE 0 END)
               FROM order_months GROUP BY account_id, month"
        ),
        Vec::new(),
    )
    .await?;
    Ok(())
}

/// Who buys what summed anew from the orders (on the rollup's writer); returns the marks it
/// found, (order, seq), which it counted.
async fn rebuild_products(tx: &mut Tx) -> StoreResult<Vec<(String, i64)>> {
    #[derive(Deserialize)]
    struct Mark {
        order_id: String,
        seq: i64,
    }
    // Millions of rows for a large history (the rollup's writer keeps the larger page cache).
    tx.bulk_mode().await?;
    let marks: Vec<Mark> = tx.fetch_all("SELECT order_id, seq FROM product_rollup_orders", Vec::new()).await?;
    tx.execute("UPDATE product_window_month SET month = ''", Vec::new()).await?;
    for table in ["product_months", "account_product_months", "order_product_counts", "product_windows"] {
        tx.execute(&format!("DELETE FROM {table}"), Vec::new()).await?;
    }
    let month = if tx.is_sqlite() {
        "strftime('%Y-%m', o.placed_at, 'unixepoch')"
    } else {
        "to_char(to_timestamp(o.placed_at) AT TIME ZONE 'UTC', 'YYYY-MM')"
    };
    tx.execute(
        &format!(
            "INSERT INTO account_product_months (account_id, month, product_id, quantity, revenue, orders)
             SELECT o.account_id, {month}, l.product_id, SUM(l.quantity), SUM(l.line_total), COUNT(DISTINCT o.id)
               FROM orders o JOIN order_lines l ON l.order_id = o.id
              WHERE o.status NOT IN ('draft', 'cancelled')
              GROUP BY o.account_id, {month}, l.product_id"
        ),
        Vec::new(),
    )
    .await?;
    // What is counted of each order, one row per order (`rules::pack_counts`' JSON).
    let packed = if tx.is_sqlite() {
        "json_group_array(json_array(product_id, quantity, revenue))"
    } else {
        "json_agg(json_build_array(product_id, quantity, revenue) ORDER BY product_id)::text"
    };
    tx.execute(
        &format!(
            "INSERT INTO order_product_counts (order_id, products)
             SELECT order_id, {packed}
               FROM (SELECT l.order_id, l.product_id, SUM(l.quantity) AS quantity, SUM(l.line_total) AS revenue
                       FROM orders o JOIN order_lines l ON l.order_id = o.id
                      WHERE o.status NOT IN ('draft', 'cancelled')
                      GROUP BY l.order_id, l.product_id) c
              GROUP BY order_id"
        ),
        Vec::new(),
    )
    .await?;
    tx.execute(
        "INSERT INTO product_months (month, product_id, quantity, revenue, orders, buyers)
         SELECT m.month, m.product_id, SUM(m.quantity), SUM(m.revenue), SUM(m.orders),
                SUM(CASE WHEN m.month = m.latest THEN 1 ELSE 0 END)
           FROM (SELECT month, product_id, quantity, revenue, orders,
                        MAX(month) OVER (PARTITION BY account_id, product_id) AS latest
                   FROM account_product_months) m
          GROUP BY m.month, m.product_id",
        Vec::new(),
    )
    .await?;
    if tx.is_sqlite() {
        super::rollup::mark_filled(tx).await?;
    }
    Ok(marks.into_iter().map(|m| (m.order_id, m.seq)).collect())
}

/// How long after an order's first uncounted change the worker counts it (seconds): a pass then
/// takes the orders of a few seconds at once, and their products' months over all accounts are
/// written once for all of them.
pub const RECOUNT_DELAY: i64 = 5;

/// Counts up to `limit` marked orders due by `due_by` into who buys what (on the rollup's writer)
/// and returns the marks it counted, (order, seq), for [`remove_marks`] once this commits (none:
/// nothing waits).
///
/// An order is counted by difference: its lines now (none if it no longer counts) against what
/// was counted of it before (`order_product_counts`, then rewritten), added to its account-month's
/// rows ([`rules::order_delta`], [`rules::add_delta`]) and from them to the months over all
/// accounts and the windows ([`rules::product_changes`], [`rules::buyers_moves`]). Counting an
/// order again changes nothing, so a mark counted twice or a worker killed mid-pass loses nothing.
///
/// Concurrency (several workers on PostgreSQL; on SQLite the one writer runs one at a time):
/// - an order writer marking an order again meanwhile moves its `seq`, so the mark stays for the
///   next pass: a change committed after the pass read the order's lines is never lost, and the
///   order writer never waits for a pass (no row lock is taken on the marks);
/// - one worker at a time counts an account's orders (a transaction-scoped advisory lock, tried
///   in account order; an account another worker holds is left to it), since an account's months
///   share its latest-month-of-buying (`buyers`), and an order's counts are its worker's;
/// - the months over all accounts are written once per pass, in (month, product) order, so two
///   workers never wait for each other crosswise.
pub async fn refresh_products(tx: &mut Tx, month: &str, due_by: i64, limit: i64) -> StoreResult<Vec<(String, i64)>> {
    roll_windows(tx, month).await?;
    #[derive(Deserialize)]
    struct Mark {
        order_id: String,
        account_id: String,
        month: String,
        seq: i64,
    }
    let mut marks: Vec<Mark> = tx
        .fetch_all(
            &format!(
                "SELECT order_id, account_id, month, seq FROM product_rollup_orders WHERE due_at <= $1
                  ORDER BY due_at, order_id LIMIT {}",
                limit.max(1)
            ),
            args![due_by],
        )
        .await?;
    marks.sort_by(|a, b| (&a.account_id, &a.order_id).cmp(&(&b.account_id, &b.order_id)));
    let mut done: Vec<&Mark> = Vec::new();
    let mut held: Option<(&str, bool)> = None;
    for m in &marks {
        let mine = match held {
            Some((account, mine)) if account == m.account_id => mine,
            _ => {
                let mine = tx.is_sqlite()
                    || tx
                        .fetch_one::<bool>(
                            &format!("SELECT pg_try_advisory_xact_lock({PRODUCT_LOCKS}, hashtext($1))"),
                            args![m.account_id.as_str()],
                        )
                        .await?;
                held = Some((&m.account_id, mine));
                mine
            }
        };
        if mine {
            done.push(m);
        }
    }
    // Each order's difference, summed per account-month (in account and month order).
    let ids: Vec<&str> = done.iter().map(|m| m.order_id.as_str()).collect();
    let (mut was, mut is) = (counted_of(tx, &ids).await?, counting_now(tx, &ids).await?);
    let mut deltas: std::collections::BTreeMap<(&str, &str), Vec<ProductMonth>> = std::collections::BTreeMap::new();
    // What is counted of each order now: one row per order (packed), none for one that no
    // longer counts. A changed order's row is deleted and written anew (`bulk_insert_new`).
    let mut replaced: Vec<&str> = Vec::new();
    let mut counts: Vec<Vec<Cell>> = Vec::new();
    for m in &done {
        let had = was.remove(&m.order_id);
        let (existed, was, is) = (had.is_some(), had.unwrap_or_default(), is.remove(&m.order_id).unwrap_or_default());
        if was == is {
            continue;
        }
        deltas.entry((&m.account_id, &m.month)).or_default().extend(rules::order_delta(&was, &is));
        if existed {
            replaced.push(&m.order_id);
        }
        if !is.is_empty() {
            counts.push(vec![Cell::text(&m.order_id), Cell::Text(rules::pack_counts(&is))]);
        }
    }
    for chunk in replaced.chunks(super::IN_CHUNK) {
        let (list, args) = super::padded_in(1, chunk);
        tx.execute(&format!("DELETE FROM order_product_counts WHERE order_id IN ({list})"), args).await?;
    }
    super::bulk::bulk_insert_new(tx, "order_product_counts", &["order_id", "products"], &counts).await?;
    let mut totals = MonthTotals::default();
    for ((account_id, month), delta) in &deltas {
        add_to_month(tx, account_id, month, delta, &mut totals).await?;
    }
    // The windows ending with `month` take the changes to their closed months (the current month
    // is read from product_months with them: `product_sales`), after product_months and in
    // (window, product) order, so two workers take the rows in one order.
    let mut windows = WindowTotals::new();
    let starts: Vec<(u32, String)> = rules::WINDOWS.into_iter().map(|n| (n, rules::window_start(month, n))).collect();
    let totals = totals.sorted();
    for (m, product_id, t) in &totals {
        for (n, start) in &starts {
            if m.as_str() >= start.as_str() && m.as_str() < month {
                let w = windows.entry((i64::from(*n), product_id.clone())).or_default();
                for (a, b) in w.iter_mut().zip(t) {
                    *a += b;
                }
            }
        }
    }
    add_sums(tx, SumsTable::Months, totals.into_iter().map(|(m, p, sums)| (Cell::Text(m), p, sums)).collect()).await?;
    add_sums(tx, SumsTable::Windows, windows.into_iter().map(|((n, p), sums)| (Cell::Int(n), p, sums)).collect())
        .await?;
    Ok(done.iter().map(|m| (m.order_id.clone(), m.seq)).collect())
}

/// Removes the marks of the orders counted, (order, seq), each unless it was set again since:
/// after the count committed (on SQLite the count is in the rollup file, the marks in the main
/// one), so an order whose count did not commit stays marked.
pub async fn remove_marks(tx: &mut Tx, counted: &[(String, i64)]) -> StoreResult<()> {
    // By their seq (nearly all 1: one statement per 500 of them).
    let mut by_seq: std::collections::BTreeMap<i64, Vec<&str>> = std::collections::BTreeMap::new();
    for (order_id, seq) in counted {
        by_seq.entry(*seq).or_default().push(order_id);
    }
    for (seq, ids) in by_seq {
        for chunk in ids.chunks(super::IN_CHUNK) {
            let (list, keys) = super::padded_in(2, chunk);
            let mut args = args![seq];
            args.extend(keys);
            tx.execute(&format!("DELETE FROM product_rollup_orders WHERE seq = $1 AND order_id IN ({list})"), args)
                .await?;
        }
    }
    Ok(())
}

/// Per order of `ids`, by product: what its lines count now (nothing for an order that does not
/// count: a draft, a cancelled order). Orders without any are absent.
async fn counting_now(tx: &mut Tx, ids: &[&str]) -> StoreResult<hashbrown::HashMap<String, Vec<OrderCount>>> {
    let mut found: hashbrown::HashMap<String, Vec<OrderCount>> = hashbrown::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::IN_CHUNK) {
        let (list, args) = super::padded_in(1, chunk);
        let rows: Vec<OrderCount> = tx
            .fetch_all(
                // The lines as they are (summed per product below: no sort in the query).
                &format!(
                    "SELECT l.order_id, l.product_id, l.quantity, l.line_total AS revenue
                       FROM orders o JOIN order_lines l ON l.order_id = o.id
                      WHERE o.id IN ({list}) AND o.status NOT IN ('draft', 'cancelled')"
                ),
                args,
            )
            .await?;
        for r in rows {
            match found.get_mut(r.order_id.as_str()) {
                Some(lines) => lines.push(r),
                None => {
                    found.insert(r.order_id.clone(), vec![r]);
                }
            }
        }
    }
    for rows in found.values_mut() {
        *rows = rules::per_product(std::mem::take(rows));
    }
    Ok(found)
}

/// Per order of `ids`, by product: what was counted of it (`order_product_counts`, one packed row
/// per order: [`rules::unpack_counts`]). Orders of which nothing was counted are absent.
async fn counted_of(tx: &mut Tx, ids: &[&str]) -> StoreResult<hashbrown::HashMap<String, Vec<OrderCount>>> {
    #[derive(Deserialize)]
    struct Counted {
        order_id: String,
        products: String,
    }
    let mut found = hashbrown::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let (list, args) = super::padded_in(1, chunk);
        let rows: Vec<Counted> = tx
            .fetch_all(&format!("SELECT order_id, products FROM order_product_counts WHERE order_id IN ({list})"), args)
            .await?;
        for r in rows {
            let counts = rules::unpack_counts(&r.order_id, &r.products).map_err(|e| sqlx::Error::Decode(e.into()))?;
            found.insert(r.order_id, counts);
        }
    }
    Ok(found)
}

/// The sums kept per product: by month (`product_months`) or by window (`product_windows`).
#[derive(Clone, Copy)]
enum SumsTable {
    Months,
    Windows,
}

impl SumsTable {
    fn table(self) -> &'static str {
        match self {
            SumsTable::Months => "product_months",
            SumsTable::Windows => "product_windows",
        }
    }

    fn key_column(self) -> &'static str {
        match self {
            SumsTable::Months => "month",
            SumsTable::Windows => "months",
        }
    }

    fn upsert(self) -> &'static str {
        match self {
            SumsTable::Months => {
                "ON CONFLICT (month, product_id) DO UPDATE SET quantity = product_months.quantity + excluded.quantity,
                 revenue = product_months.revenue + excluded.revenue, orders = product_months.orders + excluded.orders,
                 buyers = product_months.buyers + excluded.buyers"
            }
            SumsTable::Windows => {
                "ON CONFLICT (months, product_id) DO UPDATE SET quantity = product_windows.quantity + excluded.quantity,
                 revenue = product_windows.revenue + excluded.revenue, orders = product_windows.orders + excluded.orders,
                 buyers = product_windows.buyers + excluded.buyers"
            }
        }
    }
}

/// Adds each (key, product, (quantity, revenue, orders, buyers)) to its product's row in `table`,
/// in multi-row upserts in the order given (sorted: two workers take the rows in one order), and
/// removes the rows that came to hold nothing (only a row whose counts did not grow can).
async fn add_sums(tx: &mut Tx, table: SumsTable, sums: Vec<(Cell, String, [i64; 4])>) -> StoreResult<()> {
    let mut rows = Vec::with_capacity(sums.len());
    let mut shrunk = Vec::new();
    for (key, product_id, [quantity, revenue, orders, buyers]) in sums {
        if quantity == 0 && revenue == 0 && orders == 0 && buyers == 0 {
            continue;
        }
        if orders <= 0 && buyers <= 0 {
            shrunk.push((key.clone(), product_id.clone()));
        }
        rows.push(vec![
            key,
            Cell::Text(product_id),
            Cell::Int(quantity),
            Cell::Int(revenue),
            Cell::Int(orders),
            Cell::Int(buyers),
        ]);
    }
    let columns = [table.key_column(), "product_id", "quantity", "revenue", "orders", "buyers"];
    super::bulk::bulk_insert_with(tx, table.table(), &columns, &rows, table.upsert()).await?;
    for (key, product_id) in shrunk {
        tx.execute(
            &format!(
                "DELETE FROM {} WHERE {} = $1 AND product_id = $2 AND orders = 0 AND buyers = 0",
                table.table(),
                table.key_column()
            ),
            vec![key, Cell::Text(product_id)],
        )
        .await?;
    }
    Ok(())
}

/// The first key of the advisory locks a recount takes on PostgreSQL (the second is the account
/// id's hash); no other code takes advisory locks.
const PRODUCT_LOCKS: i32 = 1801;

/// (month, product) -> (quantity, revenue, orders, buyers) to add to `product_months`; sorted.
/// Kept by month, then product, in hash maps: a pass adds to tens of thousands of them, and a
/// sorted map keyed by two owned strings allocated both for every addition (with the comparisons,
/// 7 % of the rollup writer's CPU); sorted once at the end. The maps hash with foldhash and look
/// up by the borrowed key, allocating a key only when it is new (SipHash and a lookup before each
/// insert were another 7 %).
#[derive(Default)]
struct MonthTotals(hashbrown::HashMap<String, hashbrown::HashMap<String, [i64; 4]>>);

impl MonthTotals {
    /// The sums of (`month`, `product_id`), zero when new.
    fn of(&mut self, month: &str, product_id: &str) -> &mut [i64; 4] {
        self.0.entry_ref(month).or_default().entry_ref(product_id).or_insert([0; 4])
    }

    /// (month, product, sums), sorted by month and product.
    fn sorted(self) -> Vec<(String, String, [i64; 4])> {
        let mut months: Vec<(String, hashbrown::HashMap<String, [i64; 4]>)> = self.0.into_iter().collect();
        months.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut all = Vec::with_capacity(months.iter().map(|(_, p)| p.len()).sum());
        for (month, products) in months {
            let mut products: Vec<(String, [i64; 4])> = products.into_iter().collect();
            products.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            all.extend(products.into_iter().map(|(p, sums)| (month.clone(), p, sums)));
        }
        all
    }
}
/// (window in months, product) -> the same to add to `product_windows`; sorted.
type WindowTotals = std::collections::BTreeMap<(i64, String), [i64; 4]>;

/// The month the kept windows end with (empty: never summed).
pub async fn windows_month(db: &Db) -> StoreResult<String> {
    Ok(db.read_text("SELECT month FROM product_window_month WHERE id = 1", &[]).await?.unwrap_or_default())
}

/// Sums the windows ending with `month` anew from `product_months` when they end with another
/// month (the month turned, or a rebuild cleared them); returns whether it did. Checked again
/// under the state row's lock, so two workers at the turn of the month sum once.
///
/// A window holds its closed months only, `month` itself excluded: the orders of the current
/// month, nearly all of what the worker counts, then move one row per product
/// (`product_months`) instead of three, and the window's reader adds the current month's rows.
pub async fn roll_windows(tx: &mut Tx, month: &str) -> StoreResult<bool> {
    let kept: Option<String> =
        tx.fetch_optional("SELECT month FROM product_window_month WHERE id = 1", Vec::new()).await?;
    if kept.as_deref() == Some(month) {
        return Ok(false);
    }
    let kept: Vec<String> = tx.lock("SELECT month FROM product_window_month WHERE id = 1", Vec::new()).await?;
    if kept.first().map(String::as_str) == Some(month) {
        return Ok(false);
    }
    tx.execute("DELETE FROM product_windows", Vec::new()).await?;
    for n in rules::WINDOWS {
        tx.execute(
            "INSERT INTO product_windows (months, product_id, quantity, revenue, orders, buyers)
             SELECT $1, product_id, SUM(quantity), SUM(revenue), SUM(orders), SUM(buyers)
               FROM product_months WHERE month >= $2 AND month < $3 GROUP BY product_id",
            args![i64::from(n), rules::window_start(month, n).as_str(), month],
        )
        .await?;
    }
    tx.execute("UPDATE product_window_month SET month = $1 WHERE id = 1", args![month]).await?;
    Ok(true)
}

/// Whether any order waits to be counted, or the windows for the month's turn (the
/// worker's probe: reads, so an idle worker does not take the writer).
pub async fn products_waiting(db: &Db, month: &str, due_by: i64) -> StoreResult<bool> {
    let due = due_by.to_string();
    Ok(db
        .read_text("SELECT order_id FROM product_rollup_orders WHERE due_at <= CAST($1 AS BIGINT) LIMIT 1", &[&due])
        .await?
        .is_some()
        || windows_month(db).await? != month)
}

/// How many orders are due by `due_by` to be counted, up to `enough` (the worker's probe of
/// whether a full transaction's worth waits: reads at most `enough` entries of the marks' index).
pub async fn products_due(db: &Db, due_by: i64, enough: i64) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 AS one FROM product_rollup_orders WHERE due_at <= $1 LIMIT {}) AS due",
        enough.max(1)
    );
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(due_by).fetch_one(c).await)
}

/// How many orders wait to be counted.
pub async fn products_backlog(db: &Db) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM product_rollup_orders").fetch_one(c).await)
}

/// Adds `delta` (orders' differences, several rows for a product where several orders had it) to
/// one account-month's rows and moves the difference into the months over all accounts' `totals`
/// ([`rules::product_changes`], [`rules::buyers_moves`]).
async fn add_to_month(
    tx: &mut Tx,
    account_id: &str,
    month: &str,
    delta: &[ProductMonth],
    totals: &mut MonthTotals,
) -> StoreResult<()> {
    let products: std::collections::BTreeSet<&str> = delta.iter().map(|d| d.product_id.as_str()).collect();
    let products: Vec<&str> = products.into_iter().collect();
    let (old, others) = account_products(tx, account_id, month, &products).await?;
    let new = rules::add_delta(&old, delta);
    let changes = rules::product_changes(&old, &new);
    // The rows that change and were there are deleted, and the rows as they are now written anew
    // (`bulk_insert_new`: an upsert of many rows would need SQLite's statement journal).
    let mut gone: Vec<&str> = Vec::new();
    let mut rows = Vec::with_capacity(changes.len());
    for c in &changes {
        if !(c.presence_changed && c.now.is_some()) {
            gone.push(&c.product_id);
        }
        if let Some(r) = &c.now {
            rows.push(vec![
                Cell::text(account_id),
                Cell::text(month),
                Cell::text(&c.product_id),
                Cell::Int(r.quantity),
                Cell::Int(r.revenue),
                Cell::Int(r.orders),
            ]);
        }
        let t = totals.of(month, &c.product_id);
        t[0] += c.quantity;
        t[1] += c.revenue;
        t[2] += c.orders;
        if c.presence_changed {
            let other = others.get(&c.product_id).map(String::as_str);
            let was = rules::latest_month(other, month, c.now.is_none());
            let is = rules::latest_month(other, month, c.now.is_some());
            for (m, d) in rules::buyers_moves(was, is) {
                totals.of(m, &c.product_id)[3] += d;
            }
        }
    }
    for chunk in gone.chunks(super::IN_CHUNK) {
        let (list, keys) = super::padded_in(3, chunk);
        let mut args = args![account_id, month];
        args.extend(keys);
        tx.execute(
            &format!(
                "DELETE FROM account_product_months WHERE account_id = $1 AND month = $2 AND product_id IN ({list})"
            ),
            args,
        )
        .await?;
    }
    super::bulk::bulk_insert_new(
        tx,
        "account_product_months",
        &["account_id", "month", "product_id", "quantity", "revenue", "orders"],
        &rows,
    )
    .await?;
    Ok(())
}

/// The account's rows of `month` for `products`, and the latest other month it bought each of
/// them in (where the account started or stopped buying a product in `month`, its latest month
/// of buying it, which `buyers` counts, may move to or from that month); products it bought in no
/// other month are absent from the second.
///
/// One read for both: the table is keyed by account, product, month, so a product's rows of every
/// month are side by side, and summing them in the query costs one seek per product.
async fn account_products(
    tx: &mut Tx,
    account_id: &str,
    month: &str,
    products: &[&str],
) -> StoreResult<(Vec<ProductMonth>, hashbrown::HashMap<String, String>)> {
    #[derive(Deserialize)]
    struct Product {
        product_id: String,
        quantity: i64,
        revenue: i64,
        orders: i64,
        /// Whether the account has a row of `month` for it.
        here: i64,
        other: Option<String>,
    }
    let (mut rows, mut others) = (Vec::with_capacity(products.len()), hashbrown::HashMap::new());
    for chunk in products.chunks(super::IN_CHUNK) {
        let (list, keys) = super::padded_in(3, chunk);
        let mut args = args![account_id, month];
        args.extend(keys);
        let found: Vec<Product> = tx
            .fetch_all(
                &format!(
                    "SELECT product_id,
                            CAST(SUM(CASE WHEN month = $2 THEN quantity ELSE 0 END) AS BIGINT) AS quantity,
                            CAST(SUM(CASE WHEN month = $2 THEN revenue ELSE 0 END) AS BIGINT) AS revenue,
                            CAST(SUM(CASE WHEN month = $2 THEN orders ELSE 0 END) AS BIGINT) AS orders,
                            CAST(SUM(CASE WHEN month = $2 THEN 1 ELSE 0 END) AS BIGINT) AS here,
                            MAX(CASE WHEN month <> $2 THEN month END) AS other
                       FROM account_product_months
                      WHERE account_id = $1 AND product_id IN ({list})
                      GROUP BY product_id"
                ),
                args,
            )
            .await?;
        for p in found {
            if let Some(other) = p.other {
                others.insert(p.product_id.clone(), other);
            }
            if p.here > 0 {
                rows.push(ProductMonth {
                    product_id: p.product_id,
                    quantity: p.quantity,
                    revenue: p.revenue,
                    orders: p.orders,
                });
            }
        }
    }
    Ok((rows, others))
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
                CAST(SUM(m.self_orders) AS BIGINT) AS self_orders, CAST(SUM(m.revenue) AS BIGINT) AS revenue,
                CAST(SUM(m.self_revenue) AS BIGINT) AS self_revenue
           FROM account_months m WHERE m.month >= $1 AND m.month <= $2{cond}
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
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ProductSales {
    pub category: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub revenue: i64,
    pub orders: i64,
    pub accounts: i64,
}

/// What was bought from the month `first` on (a window ending now), per product, in scope, biggest
/// revenue first (at most `limit` products), from the rollup the worker keeps
/// ([`refresh_products`]): the whole seller's from `product_windows` when `window` (its months
/// and the current month) is given — the caller checked that the windows end with this month —
/// with the current month's rows of `product_months` added (a window keeps its closed months),
/// else from `product_months` (its `buyers` add up to the accounts that bought in the window); a
/// book's or an account's from `account_product_months`.
pub async fn product_sales(
    db: &Db,
    scope: Scope<'_>,
    first: &str,
    window: Option<(u32, &str)>,
    limit: i64,
) -> StoreResult<Vec<ProductSales>> {
    let (cond, bind) = scope.filter("m.account_id", 2);
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
    if let (Scope::All, Some((n, month))) = (scope, window) {
        // The window's closed months plus the current month, for the products that can be among
        // the top: those bought this month, and the closed months' own top (a product not bought
        // this month has its closed months' figures, so only those can be). Two lookups each
        // instead of summing every product's rows (~100,000: 140 ms on SQLite against ~50).
        let total = |col: &str| format!("COALESCE(w.{col}, 0) + COALESCE(m.{col}, 0)");
        let (quantity, revenue, orders, buyers) =
            (total("quantity"), total("revenue"), total("orders"), total("buyers"));
        let sql = format!(
            "SELECT {json} FROM (SELECT k.product_id, {quantity} AS quantity, {revenue} AS revenue, {orders} AS orders,
                    {buyers} AS accounts
               FROM (SELECT product_id FROM (SELECT product_id FROM product_windows
                                             WHERE months = CAST($1 AS BIGINT) AND orders > 0
                                             ORDER BY revenue DESC LIMIT {limit}) t
                     UNION SELECT product_id FROM product_months WHERE month = $2) k
               LEFT JOIN product_windows w ON w.months = CAST($1 AS BIGINT) AND w.product_id = k.product_id
               LEFT JOIN product_months m ON m.month = $2 AND m.product_id = k.product_id
              WHERE {orders} > 0 ORDER BY {revenue} DESC LIMIT {limit}) g
             JOIN products p ON p.id = g.product_id LEFT JOIN categories c ON c.id = p.category_id"
        );
        return fetch_json_rows(db, &sql, &[&n.to_string(), month]).await;
    }
    let (table, accounts) = match scope {
        Scope::All => ("product_months", "CAST(SUM(m.buyers) AS BIGINT)"),
        Scope::Book(_) | Scope::Account(_) => ("account_product_months", "COUNT(DISTINCT m.account_id)"),
    };
    let sql = format!(
        "SELECT {json} FROM (SELECT m.product_id, CAST(SUM(m.quantity) AS BIGINT) AS quantity,
                CAST(SUM(m.revenue) AS BIGINT) AS revenue, CAST(SUM(m.orders) AS BIGINT) AS orders, {accounts} AS accounts
           FROM {table} m WHERE m.month >= $1{cond}
          GROUP BY m.product_id HAVING SUM(m.orders) > 0 ORDER BY SUM(m.revenue) DESC LIMIT {limit}) g
         JOIN products p ON p.id = g.product_id LEFT JOIN categories c ON c.id = p.category_id"
    );
    let mut binds = vec![first];
    binds.extend(bind.as_deref());
    fetch_json_rows(db, &sql, &binds).await
}
