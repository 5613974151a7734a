//! Quotes, their lines per revision and their message thread (see `domain::quotes`). Every read
//! for a customer names the account; staff reads take the scope the service checked.

use super::{Db, StoreResult, Tx};
use crate::domain::money::Money;
use crate::domain::quotes::QuoteStatus;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct QuoteRow {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub account_name: String,
    pub status: String,
    pub origin: String,
    pub requested_by_user_id: String,
    pub requested_by_name: String,
    pub owner_rep_id: Option<String>,
    pub notes: String,
    pub revision: i64,
    pub expires_on: Option<String>,
    pub sent_at: Option<i64>,
    pub signoff_reasons: String,
    pub signed_off_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: String,
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    pub subtotal: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl QuoteRow {
    /// The stored status (see [`QuoteStatus::as_of`] for the status on a given day).
    pub fn stored_status(&self) -> QuoteStatus {
        QuoteStatus::parse(&self.status).unwrap_or(QuoteStatus::Withdrawn)
    }

    pub fn total(&self) -> Money {
        Money::from_raw(self.subtotal)
    }
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct QuoteLineRow {
    pub line_no: i64,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub uom: String,
    pub quantity: i64,
    pub target_price: Option<i64>,
    pub unit_price: i64,
    pub normal_price: Option<i64>,
    pub cost: Option<i64>,
    pub line_total: i64,
    pub accepted: bool,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub author_name: String,
    pub seller: bool,
    pub body: String,
    pub created_at: i64,
}

const COLUMNS: &str = "q.id, q.number, q.account_id, a.name AS account_name, q.status, q.origin,
    q.requested_by_user_id, q.requested_by_name, q.owner_rep_id, q.notes, q.revision, q.expires_on,
    q.sent_at, q.signoff_reasons, q.signed_off_by_name, q.decided_at, q.decision_note, q.order_id,
    o.number AS order_number, q.subtotal, q.version, q.created_at, q.updated_at";
const FROM: &str = "FROM quotes q JOIN accounts a ON a.id = q.account_id LEFT JOIN orders o ON o.id = q.order_id";

const LINE_COLUMNS: &str = "line_no, product_id, sku, name, uom, quantity, target_price, unit_price, normal_price,
    cost, line_total, accepted";

/// A quote by id or number (`None`: no such quote).
pub async fn get(db: &Db, id_or_number: &str) -> StoreResult<Option<QuoteRow>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE q.id = $1 OR q.number = $1");
    on_db!(db, |c| sqlx::query_as::<_, QuoteRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id_or_number)
        .fetch_optional(c)
        .await)
}

/// The quote, locked for a change.
pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<QuoteRow>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE q.id = $1");
    // Lock the quote row only (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join).
    let sql = if tx.is_sqlite() { sql } else { format!("{sql} FOR UPDATE OF q") };
    tx.fetch_optional(&sql, args![id]).await
}

/// The lines of one revision, in order.
pub async fn lines(db: &Db, quote_id: &str, revision: i64) -> StoreResult<Vec<QuoteLineRow>> {
    let sql = format!("SELECT {LINE_COLUMNS} FROM quote_lines WHERE quote_id = $1 AND revision = $2 ORDER BY line_no");
    on_db!(db, |c| sqlx::query_as::<_, QuoteLineRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(quote_id)
        .bind(revision)
        .fetch_all(c)
        .await)
}

/// Revisions before the current one, newest first, with their totals: (revision, lines, total).
pub async fn earlier_revisions(db: &Db, quote_id: &str, current: i64) -> StoreResult<Vec<(i64, i64, i64)>> {
    on_db!(db, |c| sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT revision, COUNT(*), CAST(COALESCE(SUM(line_total), 0) AS BIGINT) FROM quote_lines
          WHERE quote_id = $1 AND revision < $2 GROUP BY revision ORDER BY revision DESC"
    )
    .bind(quote_id)
    .bind(current)
    .fetch_all(c)
    .await)
}

pub async fn insert(tx: &mut Tx, q: &QuoteRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO quotes (id, number, account_id, status, origin, requested_by_user_id, requested_by_name,
            owner_rep_id, notes, revision, subtotal, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        args![
            &q.id,
            &q.number,
            &q.account_id,
            &q.status,
            &q.origin,
            &q.requested_by_user_id,
            &q.requested_by_name,
            q.owner_rep_id.as_deref(),
            &q.notes,
            q.revision,
            q.subtotal,
            q.version,
            q.created_at
        ],
    )
    .await?;
    Ok(())
}

/// Writes the quote's changeable fields if it is still at `expected_version`; false if someone
/// changed it meanwhile.
pub async fn update(tx: &mut Tx, q: &QuoteRow, expected_version: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE quotes SET status = $3, revision = $4, expires_on = $5, sent_at = $6, signoff_reasons = $7,
                signed_off_by_name = $8, decided_at = $9, decision_note = $10, order_id = $11, subtotal = $12,
                version = $13, updated_at = $14
              WHERE id = $1 AND version = $2",
            args![
                &q.id,
                expected_version,
                &q.status,
                q.revision,
                q.expires_on.as_deref(),
                q.sent_at,
                &q.signoff_reasons,
                q.signed_off_by_name.as_deref(),
                q.decided_at,
                &q.decision_note,
                q.order_id.as_deref(),
                q.subtotal,
                q.version,
                q.updated_at
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Replaces the lines of one revision.
pub async fn replace_lines(tx: &mut Tx, quote_id: &str, revision: i64, lines: &[QuoteLineRow]) -> StoreResult<()> {
    tx.execute("DELETE FROM quote_lines WHERE quote_id = $1 AND revision = $2", args![quote_id, revision]).await?;
    for l in lines {
        tx.execute(
            "INSERT INTO quote_lines (quote_id, revision, line_no, product_id, sku, name, uom, quantity, target_price,
                unit_price, normal_price, cost, line_total, accepted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            args![
                quote_id,
                revision,
                l.line_no,
                &l.product_id,
                &l.sku,
                &l.name,
                &l.uom,
                l.quantity,
                l.target_price,
                l.unit_price,
                l.normal_price,
                l.cost,
                l.line_total,
                l.accepted
            ],
        )
        .await?;
    }
    Ok(())
}

/// Marks the accepted lines of a revision.
pub async fn mark_accepted(tx: &mut Tx, quote_id: &str, revision: i64, line_nos: &[i64]) -> StoreResult<()> {
    for n in line_nos {
        tx.execute(
            "UPDATE quote_lines SET accepted = TRUE WHERE quote_id = $1 AND revision = $2 AND line_no = $3",
            args![quote_id, revision, *n],
        )
        .await?;
    }
    Ok(())
}

pub async fn messages(db: &Db, quote_id: &str) -> StoreResult<Vec<MessageRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, MessageRow>(
        "SELECT id, author_name, seller, body, created_at FROM quote_messages WHERE quote_id = $1 ORDER BY created_at, id"
    )
    .bind(quote_id)
    .fetch_all(c)
    .await
    })
}

pub async fn insert_message(
    tx: &mut Tx,
    quote_id: &str,
    author: (&str, &str),
    seller: bool,
    body: &str,
    now: i64,
) -> StoreResult<String> {
    let id = super::new_id();
    tx.execute(
        "INSERT INTO quote_messages (id, quote_id, author_user_id, author_name, seller, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![&id, quote_id, author.0, author.1, seller, body, now],
    )
    .await?;
    Ok(id)
}

/// Which quotes a list shows.
#[derive(Clone, Debug, Default)]
pub struct QuoteFilter {
    /// Only this account's (a customer always; staff when they pick one).
    pub account_id: Option<String>,
    /// Only the accounts this rep owns (a rep's book).
    pub owner_rep_id: Option<String>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<QuoteStatus>,
    /// Which way the list runs and where this page starts.
    pub page: QuotePage,
    pub limit: i64,
}

/// The order of a quote list and the keyset of its page.
#[derive(Clone, Debug)]
pub enum QuotePage {
    /// Newest change first, before the previous page's last (updated_at, id) (people's lists).
    NewestFirst(Option<(i64, String)>),
    /// Oldest change first, changed at or after a time, after the previous page's last
    /// (updated_at, id) (how an ERP pulls them).
    ChangedSince(i64, Option<(i64, String)>),
}

impl Default for QuotePage {
    fn default() -> Self {
        QuotePage::NewestFirst(None)
    }
}

/// Quotes by the filter, in the order its page asks for.
pub async fn list(db: &Db, f: &QuoteFilter) -> StoreResult<Vec<QuoteRow>> {
    let mut sql = format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1");
    let mut texts: Vec<String> = Vec::new();
    let mut n = 0;
    let mut bind = |texts: &mut Vec<String>, v: String| {
        n += 1;
        texts.push(v);
        format!("${n}")
    };
    if let Some(a) = &f.account_id {
        let p = bind(&mut texts, a.clone());
        sql.push_str(&format!(" AND q.account_id = {p}"));
    }
    if let Some(r) = &f.owner_rep_id {
        let p = bind(&mut texts, r.clone());
        sql.push_str(&format!(" AND a.owner_rep_id = {p}"));
    }
    if !f.statuses.is_empty() {
        let ps: Vec<String> = f.statuses.iter().map(|s| bind(&mut texts, s.as_str().to_string())).collect();
        sql.push_str(&format!(" AND q.status IN ({})", ps.join(", ")));
    }
    let order = match &f.page {
        QuotePage::NewestFirst(before) => {
            if let Some((at, id)) = before {
                let p_at = bind(&mut texts, at.to_string());
                let p_id = bind(&mut texts, id.clone());
                sql.push_str(&format!(
                    " AND (q.updated_at < CAST({p_at} AS BIGINT) OR (q.updated_at = CAST({p_at} AS BIGINT) AND q.id < {p_id}))"
                ));
            }
            format!("ORDER BY q.updated_at DESC, q.id DESC LIMIT {}", f.limit.clamp(1, 500))
        }
        QuotePage::ChangedSince(since, after) => {
            let (keyset, order) = super::changes_keyset("q", texts.len() + 1, f.limit.clamp(1, 500));
            texts.extend(super::changes_binds(*since, after.as_ref().map(|(at, id)| (*at, id.as_str()))));
            sql.push_str(&format!(" AND {keyset}"));
            order
        }
    };
    let sql = format!("{sql} {order}");
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, QuoteRow>(sqlx::AssertSqlSafe(sql.clone()));
        for t in &texts {
            q = q.bind(t.clone());
        }
        q.fetch_all(c).await
    })
}

/// Sent quotes whose last day is before `today` (YYYY-MM-DD): the expiry sweep's work, oldest first.
pub async fn past_expiry(db: &Db, today: &str, limit: i64) -> StoreResult<Vec<(String, i64)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, i64)>(
        "SELECT id, version FROM quotes WHERE status = 'sent' AND expires_on < $1 ORDER BY expires_on, id LIMIT $2"
    )
    .bind(today)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// The quote an order was placed from, if it was: (quote id, number, revision).
pub async fn for_order(db: &Db, order_id: &str) -> StoreResult<Option<(String, String, i64)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String, i64)>(
        "SELECT id, number, revision FROM quotes WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_optional(c)
    .await)
}

/// The accepted lines' prices of the quote an order came from: (product id, unit price).
pub async fn accepted_prices(db: &Db, quote_id: &str, revision: i64) -> StoreResult<Vec<(String, i64)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, i64)>(
        "SELECT product_id, unit_price FROM quote_lines WHERE quote_id = $1 AND revision = $2 AND accepted"
    )
    .bind(quote_id)
    .bind(revision)
    .fetch_all(c)
    .await)
}

/// The products' costs (id → cost) where known.
pub async fn costs(db: &Db, product_ids: &[String]) -> StoreResult<Vec<(String, i64)>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id, cost FROM products WHERE cost IS NOT NULL AND id IN ({})", db.json_values("$1"));
    let list = super::json_list(product_ids);
    on_db!(db, |c| sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql.clone())).bind(&list).fetch_all(c).await)
}
