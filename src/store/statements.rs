//! What statements and aging read (`domain::aging`, `domain::statement`): an account's ledger
//! (invoices, credit notes, payments and their reversals), its open invoices and unapplied
//! credits, and the receivables of every account summed by aging bucket in one grouped query.
//! Read only: payments and their applications are written by the payments service.
//!
//! The aging across accounts is one scan of the open invoices (`invoices_open_due`: status, due
//! date) and the payments with money unapplied, grouped by account with the buckets as `CASE`
//! sums over ISO due dates compared as text with the boundaries `domain::aging::Bounds` gives.

use super::{Db, StoreResult};
use crate::on_db;

/// One entry of an account's ledger as stored: `on` is the ISO date, or empty for a reversal,
/// whose day is `at` (unix seconds).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LedgerRow {
    pub on_date: String,
    pub at: i64,
    pub kind: String,
    pub reference: String,
    pub detail: String,
    pub amount: i64,
}

/// The ledger as one union; `$1` the account. Void invoices never count; a reversed payment
/// counts when received and again (the other way) when reversed.
const LEDGER: &str = "
    SELECT i.issued_on AS on_date, 0 AS at, i.kind AS kind, i.number AS reference,
           CASE WHEN i.kind = 'invoice' THEN 'Order ' || o.number || ', due ' || i.due_on ELSE i.reason END AS detail,
           i.total AS amount
      FROM invoices i JOIN orders o ON o.id = i.order_id
     WHERE i.account_id = $1 AND i.status <> 'void' AND i.issued_on >= $2 AND i.issued_on <= $3
    UNION ALL
    SELECT p.received_on, 0, 'payment', p.number,
           CASE WHEN p.reference = '' THEN p.method ELSE p.method || ' ' || p.reference END, p.amount
      FROM payments p
     WHERE p.account_id = $1 AND p.received_on >= $2 AND p.received_on <= $3
    UNION ALL
    SELECT '', p.reversed_at, 'payment_reversal', p.number, p.reversal_reason, p.amount
      FROM payments p
     WHERE p.account_id = $1 AND p.status = 'reversed' AND p.reversed_at >= $4 AND p.reversed_at < $5";

/// The period's ledger entries: dates `from ..= to` (ISO), reversals between `from_ts` and
/// `until_ts` (the start of `from` and of the day after `to`, unix seconds).
pub async fn ledger(
    db: &Db,
    account_id: &str,
    (from, to): (&str, &str),
    (from_ts, until_ts): (i64, i64),
) -> StoreResult<Vec<LedgerRow>> {
    on_db!(db, |c| sqlx::query_as::<_, LedgerRow>(LEDGER)
        .bind(account_id)
        .bind(from)
        .bind(to)
        .bind(from_ts)
        .bind(until_ts)
        .fetch_all(c)
        .await)
}

/// The balance before a day (ISO `before`; `before_ts` its start in unix seconds): invoices less
/// credit notes and payments, plus reversals.
pub async fn balance_before(db: &Db, account_id: &str, before: &str, before_ts: i64) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(x.amount), 0) AS BIGINT) FROM (
             SELECT CASE WHEN kind = 'invoice' THEN total ELSE -total END AS amount FROM invoices
              WHERE account_id = $1 AND status <> 'void' AND issued_on < $2
             UNION ALL
             SELECT -amount FROM payments WHERE account_id = $1 AND received_on < $2
             UNION ALL
             SELECT amount FROM payments WHERE account_id = $1 AND status = 'reversed' AND reversed_at < $3
         ) x"
    )
    .bind(account_id)
    .bind(before)
    .bind(before_ts)
    .fetch_one(c)
    .await)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpenInvoiceRow {
    pub number: String,
    pub issued_on: String,
    pub due_on: String,
    pub total: i64,
    pub paid: i64,
}

/// The account's open invoices, oldest due first (`invoices_account_open`).
pub async fn open_invoices(db: &Db, account_id: &str) -> StoreResult<Vec<OpenInvoiceRow>> {
    on_db!(db, |c| sqlx::query_as::<_, OpenInvoiceRow>(
        "SELECT number, issued_on, due_on, total, paid FROM invoices
          WHERE account_id = $1 AND status = 'open' AND kind = 'invoice'
          ORDER BY due_on, number"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)
}

/// What the account is owed back: payments not yet applied and credit notes not yet applied.
pub async fn unapplied_credits(db: &Db, account_id: &str) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE((SELECT SUM(unapplied) FROM payments WHERE account_id = $1 AND status = 'posted'), 0)
                   + COALESCE((SELECT SUM(total - paid) FROM invoices
                                WHERE account_id = $1 AND kind = 'credit_note' AND status = 'open'), 0) AS BIGINT)"
    )
    .bind(account_id)
    .fetch_one(c)
    .await)
}

/// One account's receivables by bucket (ten-thousandths), as the grouped query sums them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AgingRowRaw {
    pub account_id: String,
    pub account_number: String,
    pub account_name: String,
    pub rep_name: Option<String>,
    pub current: i64,
    pub d1_30: i64,
    pub d31_60: i64,
    pub d61_90: i64,
    pub over_90: i64,
    pub credits: i64,
}

/// Which accounts the aging covers.
pub struct AgingFilter<'a> {
    /// Only accounts this rep owns ('' for all).
    pub rep_id: &'a str,
    /// A LIKE pattern on name, number or ERP id (`like_pattern`; "%%" for all).
    pub pattern: &'a str,
    /// Only this account ('' for all).
    pub account_id: &'a str,
}

/// Every account with something open, summed by bucket: boundaries are the ISO due dates from
/// which an amount is current, 1–30, 31–60 and 61–90 days past due (`Bounds`). Each row's bucket
/// (5: a credit) is decided once, by the first boundary its due date reaches.
///
/// Filters absent from a request are absent from the SQL text (not `$n = '' OR …`): PostgreSQL's
/// generic plan for a catch-all parameter estimated one open invoice and re-aggregated the whole
/// table once per account (27 s for 1,000 accounts × 50 invoices, against 45 ms planned right).
pub async fn aging(db: &Db, bounds: [&str; 4], f: &AgingFilter<'_>) -> StoreResult<Vec<AgingRowRaw>> {
    let mut binds: Vec<&str> = bounds.to_vec();
    let mut one_account = String::new();
    if !f.account_id.is_empty() {
        binds.push(f.account_id);
        one_account = format!(" AND account_id = ${}", binds.len());
    }
    let mut filters = String::new();
    if !f.rep_id.is_empty() {
        binds.push(f.rep_id);
        filters.push_str(&format!(" AND a.owner_rep_id = ${}", binds.len()));
    }
    if f.pattern != "%%" {
        binds.push(f.pattern);
        let n = binds.len();
        filters.push_str(&format!(
            " AND (LOWER(a.name) LIKE ${n} ESCAPE '\\' OR LOWER(a.number) LIKE ${n} ESCAPE '\\'
                   OR LOWER(COALESCE(a.external_id, '')) LIKE ${n} ESCAPE '\\')"
        ));
    }
    // Only static fragments and parameter numbers are interpolated; every value is bound.
    let sql = format!(
        "SELECT a.id AS account_id, a.number AS account_number, a.name AS account_name, u.name AS rep_name,
                x.current, x.d1_30, x.d31_60, x.d61_90, x.over_90, x.credits
           FROM (SELECT o.account_id,
                        CAST(SUM(CASE WHEN o.b = 0 THEN o.open ELSE 0 END) AS BIGINT) AS current,
                        CAST(SUM(CASE WHEN o.b = 1 THEN o.open ELSE 0 END) AS BIGINT) AS d1_30,
                        CAST(SUM(CASE WHEN o.b = 2 THEN o.open ELSE 0 END) AS BIGINT) AS d31_60,
                        CAST(SUM(CASE WHEN o.b = 3 THEN o.open ELSE 0 END) AS BIGINT) AS d61_90,
                        CAST(SUM(CASE WHEN o.b = 4 THEN o.open ELSE 0 END) AS BIGINT) AS over_90,
                        CAST(SUM(CASE WHEN o.b = 5 THEN o.open ELSE 0 END) AS BIGINT) AS credits
                   FROM (SELECT account_id,
                                CASE WHEN kind <> 'invoice' THEN 5 WHEN due_on >= $1 THEN 0 WHEN due_on >= $2 THEN 1
                                     WHEN due_on >= $3 THEN 2 WHEN due_on >= $4 THEN 3 ELSE 4 END AS b,
                                total - paid AS open
                           FROM invoices WHERE status = 'open'{one_account}
                         UNION ALL
                         SELECT account_id, 5, unapplied FROM payments
                          WHERE status = 'posted' AND unapplied > 0{one_account}) o
                  GROUP BY o.account_id) x
           JOIN accounts a ON a.id = x.account_id
           LEFT JOIN users u ON u.id = a.owner_rep_id
          WHERE 1 = 1{filters}"
    );
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, AgingRowRaw>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(*b);
        }
        q.fetch_all(c).await
    })
}
