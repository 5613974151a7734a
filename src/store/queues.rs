//! The work queues' reads: orders in progress that need someone (the desk, a rep's home), oldest
//! first, paged by key, and how many wait for each reason. The rules are `domain::queues`; this
//! is the same selection in SQL, so a page never scans finished orders.
//!
//! Every query carries [`ATTENTION`] word for word: it is the predicate of the partial index
//! `orders_attention (placed_at, id)` (migration 0023), and both planners use a partial index only
//! when the query's WHERE contains (SQLite) or implies (PostgreSQL) its predicate. The index holds
//! only unfinished orders that may need someone, so a page reads a few dozen index entries however
//! many orders the seller has.

use super::{Cell, Db, StoreResult, bind_cells};
use crate::domain::queues::Reason;
use crate::on_db;

/// The static part of "needs someone": the partial index's predicate (keep it identical to
/// migrations/*/0023_work_queues.sql).
pub const ATTENTION: &str = "(o.status IN ('escalated', 'pending_approval', 'on_hold') \
    OR (o.backordered AND o.status IN ('placed', 'confirmed', 'partially_shipped')) \
    OR (o.revision > 1 AND o.status IN ('placed', 'confirmed', 'partially_shipped')))";

/// An order in a queue, with its account and owning rep.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QueueRow {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub account_name: String,
    pub account_number: String,
    pub owner_rep_id: Option<String>,
    pub owner_rep_name: Option<String>,
    pub status: String,
    pub channel: String,
    pub placed_by_name: String,
    pub po_number: String,
    pub backordered: bool,
    pub subtotal: i64,
    pub line_count: i64,
    pub placed_at: i64,
    /// When the order was last amended, if ever.
    pub amended_at: Option<i64>,
}

/// Which orders a queue holds.
pub struct QueueSelection<'a> {
    /// Only the accounts this rep owns (a rep's book); `None` for every account.
    pub owner_rep_id: Option<&'a str>,
    /// The reasons asked for (any of them).
    pub reasons: &'a [Reason],
    /// Orders pending approval count when placed before this time.
    pub pending_before: i64,
    /// Amendments count from this time on.
    pub amended_since: i64,
}

/// Binds parameters in order while building the text (`$?` is replaced by the next number).
struct Sql {
    text: String,
    binds: Vec<Cell>,
}

impl Sql {
    fn push(&mut self, clause: &str, values: Vec<Cell>) {
        let mut out = String::new();
        let mut rest = clause;
        let mut values = values.into_iter();
        while let Some(i) = rest.find("$?") {
            out.push_str(&rest[..i]);
            self.binds.push(values.next().expect("a value per placeholder"));
            out.push_str(&format!("${}", self.binds.len()));
            rest = &rest[i + 2..];
        }
        out.push_str(rest);
        self.text.push_str(&out);
    }
}

/// The SQL condition of one reason, on top of [`ATTENTION`].
fn reason_condition(sql: &mut Sql, reason: Reason, sel: &QueueSelection<'_>) {
    match reason {
        Reason::Escalated => sql.push("o.status = 'escalated'", vec![]),
        Reason::PendingApproval => {
            sql.push("(o.status = 'pending_approval' AND o.placed_at < $?)", vec![Cell::Int(sel.pending_before)])
        }
        Reason::OnHold => sql.push("o.status = 'on_hold'", vec![]),
        Reason::Backordered => sql.push("o.backordered", vec![]),
        Reason::Amended => sql.push(
            "(o.revision > 1 AND EXISTS (SELECT 1 FROM order_revisions r WHERE r.order_id = o.id AND r.at >= $?))",
            vec![Cell::Int(sel.amended_since)],
        ),
    }
}

/// The WHERE of a queue over `orders o CROSS JOIN accounts a`. The cross join keeps SQLite's
/// join order (orders first, through `orders_attention`): with a rep's filter it would otherwise
/// start from the rep's accounts and read every order they ever placed (`orders_account_placed`)
/// — 10x slower at 300,000 orders. PostgreSQL plans it as the inner join it is.
fn selection(sql: &mut Sql, sel: &QueueSelection<'_>) {
    sql.push(&format!(" WHERE a.id = o.account_id AND {ATTENTION}"), vec![]);
    if let Some(rep) = sel.owner_rep_id {
        sql.push(" AND a.owner_rep_id = $?", vec![Cell::text(rep)]);
    }
    sql.push(" AND (", vec![]);
    if sel.reasons.is_empty() {
        sql.push("1 = 0", vec![]);
    }
    for (i, r) in sel.reasons.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ", vec![]);
        }
        reason_condition(sql, *r, sel);
    }
    sql.push(")", vec![]);
}

/// A page of the queue, oldest order first, after the keyset (placed_at, id).
pub async fn page(
    db: &Db,
    sel: &QueueSelection<'_>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<QueueRow>> {
    let mut sql = Sql {
        text: "SELECT o.id, o.number, o.account_id, a.name AS account_name, a.number AS account_number,
                  a.owner_rep_id, u.name AS owner_rep_name, o.status, o.channel, o.placed_by_name, o.po_number,
                  o.backordered, o.subtotal, o.line_count, o.placed_at,
                  (SELECT MAX(r.at) FROM order_revisions r WHERE r.order_id = o.id) AS amended_at
           FROM orders o CROSS JOIN accounts a LEFT JOIN users u ON u.id = a.owner_rep_id"
            .to_string(),
        binds: Vec::new(),
    };
    selection(&mut sql, sel);
    if let Some((at, id)) = after {
        sql.push(
            " AND (o.placed_at > $? OR (o.placed_at = $? AND o.id > $?))",
            vec![Cell::Int(at), Cell::Int(at), Cell::text(id)],
        );
    }
    sql.push(&format!(" ORDER BY o.placed_at, o.id LIMIT {}", limit.clamp(1, 500)), vec![]);
    let Sql { text, binds } = sql;
    on_db!(db, |c| {
        let rows = bind_cells(sqlx::query(sqlx::AssertSqlSafe(text)), binds).fetch_all(c).await?;
        rows.iter().map(<QueueRow as sqlx::FromRow<_>>::from_row).collect()
    })
}

/// How many orders the selection holds, and how many wait for each of its reasons (an order with
/// two reasons counts under both), in the selection's order.
pub async fn counts(db: &Db, sel: &QueueSelection<'_>) -> StoreResult<(i64, Vec<(Reason, i64)>)> {
    if sel.reasons.is_empty() {
        return Ok((0, Vec::new()));
    }
    let mut sql = Sql { text: "SELECT COUNT(*)".to_string(), binds: Vec::new() };
    for (i, r) in sel.reasons.iter().enumerate() {
        sql.push(", ", vec![]);
        sql.push("CAST(COALESCE(SUM(CASE WHEN ", vec![]);
        reason_condition(&mut sql, *r, sel);
        sql.push(&format!(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS c{i}"), vec![]);
    }
    sql.push(" FROM orders o CROSS JOIN accounts a", vec![]);
    selection(&mut sql, sel);
    let Sql { text, binds } = sql;
    let n = sel.reasons.len();
    let values: Vec<i64> = on_db!(db, |c| {
        use sqlx::Row;
        let row = bind_cells(sqlx::query(sqlx::AssertSqlSafe(text)), binds).fetch_one(c).await?;
        (0..=n).map(|i| row.try_get::<i64, _>(i)).collect::<Result<Vec<_>, _>>()
    })?;
    Ok((values[0], sel.reasons.iter().copied().zip(values[1..].iter().copied()).collect()))
}

/// The last order of each account (not cancelled): account id → (number, placed_at). One query
/// for a page of accounts; each account's newest order is found through `orders_account_placed`.
pub async fn last_orders(
    db: &Db,
    account_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, (String, i64)>> {
    if account_ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT a.id, (SELECT o.number FROM orders o WHERE o.account_id = a.id AND o.status NOT IN ('cancelled', 'draft')
                       ORDER BY o.placed_at DESC, o.id DESC LIMIT 1) AS number,
                (SELECT o.placed_at FROM orders o WHERE o.account_id = a.id AND o.status NOT IN ('cancelled', 'draft')
                       ORDER BY o.placed_at DESC, o.id DESC LIMIT 1) AS placed_at
         FROM accounts a WHERE a.id IN ({})",
        db.json_values("$1")
    );
    let list = super::json_list(account_ids);
    let rows: Vec<(String, Option<String>, Option<i64>)> =
        on_db!(db, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(&list).fetch_all(c).await)?;
    Ok(rows.into_iter().filter_map(|(id, n, at)| Some((id, (n?, at?)))).collect())
}
