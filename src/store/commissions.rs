//! Commission plans, their assignments to reps, house accounts, accrual lines and the status of
//! reps' statements. Accrual lines are written once and never changed: a credit note writes
//! negative lines, a closed period's corrections land in the next open one.

use super::{Cell, Db, StoreResult, Tx, bulk_insert};
use crate::domain::commissions::Assignee;
use crate::{args, on_db};

/// A plan as stored (`rules` is `domain::commissions::PlanRules` as JSON).
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct PlanRow {
    pub id: String,
    pub name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub default_rate_ppm: i64,
    pub basis: String,
    pub rules: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an invoice's accrual needs, in one indexed read: the plan assigned to the rep on the day,
/// whether the account is a house account, and the last period the rep's statements are closed
/// through (approved or locked).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct AccrualFacts {
    pub id: String,
    pub name: String,
    pub default_rate_ppm: i64,
    pub basis: String,
    pub rules: String,
    pub house: i64,
    pub closed_through: Option<String>,
}

/// A rep's commission months are read and written under the rep's user row: every invoice and
/// credit note that accrues holds it shared ([`hold_rep`], many at once), approving or reopening a
/// month holds it alone ([`lock_rep`]). So on PostgreSQL a month is never approved while an
/// invoice that read it as open is still writing into it (SQLite's one writer serialises both).
pub async fn hold_rep(tx: &mut Tx, rep_id: &str) -> StoreResult<()> {
    tx.share_only("SELECT id FROM users WHERE id = $1", args![rep_id]).await
}

/// See [`hold_rep`].
pub async fn lock_rep(tx: &mut Tx, rep_id: &str) -> StoreResult<()> {
    tx.lock_only("SELECT id FROM users WHERE id = $1", args![rep_id]).await
}

/// The plan in force for a rep on a day (domain::commissions::plan_in_force: the rep's own
/// assignment in force wins, else their current team's), with the account's house flag.
pub async fn accrual_facts(
    tx: &mut Tx,
    rep_id: &str,
    account_id: &str,
    day: &str,
) -> StoreResult<Option<AccrualFacts>> {
    tx.fetch_optional(
        "SELECT p.id, p.name, p.default_rate_ppm, p.basis, p.rules,
                CAST(CASE WHEN acc.commission_house THEN 1 ELSE 0 END AS BIGINT) AS house,
                (SELECT MAX(s.period) FROM commission_statements s WHERE s.rep_id = $1 AND s.status <> 'open') AS closed_through
         FROM commission_assignments ca JOIN commission_plans p ON p.id = ca.plan_id JOIN accounts acc ON acc.id = $2
         WHERE (ca.rep_id = $1 OR ca.team_id = (SELECT m.team_id FROM commission_team_members m WHERE m.rep_id = $1))
           AND ca.effective_from <= $3 AND (ca.effective_to IS NULL OR ca.effective_to >= $3)
           AND p.effective_from <= $3 AND (p.effective_to IS NULL OR p.effective_to >= $3)
         ORDER BY CASE WHEN ca.rep_id IS NULL THEN 1 ELSE 0 END, ca.effective_from DESC, ca.created_at DESC LIMIT 1",
        args![rep_id, account_id, day],
    )
    .await
}

/// The last period a rep's statements are closed through (approved or locked), if any.
pub async fn closed_through(tx: &mut Tx, rep_id: &str) -> StoreResult<Option<String>> {
    let rows: Vec<Option<String>> = tx
        .fetch_all(
            "SELECT MAX(period) FROM commission_statements WHERE rep_id = $1 AND status <> 'open'",
            args![rep_id],
        )
        .await?;
    Ok(rows.into_iter().next().flatten())
}

/// An accrual line, as written and as read.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct AccrualRow {
    pub id: String,
    pub rep_id: String,
    pub period: String,
    /// `accrual` or `clawback`.
    pub kind: String,
    pub plan_id: String,
    /// The invoice (or, for a clawback, the credit note) that wrote the line.
    pub invoice_id: String,
    pub invoice_number: String,
    pub invoice_line_no: i64,
    /// Of a clawback: the invoice whose accrual it reverses.
    pub credited_invoice_id: Option<String>,
    pub order_id: String,
    pub order_number: String,
    pub account_id: String,
    pub channel: String,
    pub sku: String,
    pub category: String,
    pub base: i64,
    pub rate_ppm: i64,
    pub rule: String,
    pub amount: i64,
    pub issued_on: String,
    pub created_at: i64,
    /// The payment whose application (or its taking back) wrote the line (the paid basis).
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub payment_number: Option<String>,
}

/// Writes accrual lines: one entry per invoice and rep (who, period, plan) and one short line per
/// invoice line (category, base, rate, rule, amount); the rest of what a line names is read from
/// its invoice, order and invoice line (the `commission_accruals` view). The lines' `id`s are
/// given by the entry and are not read from `rows`.
/// An accrual or clawback line as written: what `commission_entries` and `commission_entry_lines`
/// store. Everything else an [`AccrualRow`] shows is read through the `commission_accruals` view.
#[derive(Clone, Debug)]
pub struct NewAccrualLine {
    pub rep_id: String,
    pub period: String,
    pub plan_id: String,
    /// The invoice (or, for a clawback, the credit note) that writes the line.
    pub invoice_id: String,
    pub invoice_line_no: i64,
    /// Of a clawback: the invoice whose accrual it reverses.
    pub credited_invoice_id: Option<String>,
    /// The payment whose application (or its taking back) writes the line (the paid basis).
    pub payment_id: Option<String>,
    pub category: String,
    pub base: i64,
    pub rate_ppm: i64,
    pub rule: String,
    pub amount: i64,
    pub created_at: i64,
}

pub async fn insert_accruals(tx: &mut Tx, rows: &[NewAccrualLine]) -> StoreResult<()> {
    let mut entries: Vec<Vec<Cell>> = Vec::new();
    let mut lines: Vec<Vec<Cell>> = Vec::new();
    let mut current: Option<(&str, &str, Option<&str>, String)> = None;
    for r in rows {
        let entry_id = match &current {
            Some((invoice, rep, payment, id))
                if *invoice == r.invoice_id && *rep == r.rep_id && *payment == r.payment_id.as_deref() =>
            {
                id.clone()
            }
            _ => {
                let id = super::new_id();
                entries.push(vec![
                    Cell::text(&id),
                    Cell::text(&r.rep_id),
                    Cell::text(&r.period),
                    Cell::text(&r.plan_id),
                    Cell::text(&r.invoice_id),
                    Cell::opt_text(r.credited_invoice_id.as_deref()),
                    Cell::opt_text(r.payment_id.as_deref()),
                    Cell::Int(r.created_at),
                ]);
                current = Some((&r.invoice_id, &r.rep_id, r.payment_id.as_deref(), id.clone()));
                id
            }
        };
        lines.push(vec![
            Cell::Text(entry_id),
            Cell::Int(r.invoice_line_no),
            Cell::text(&r.category),
            Cell::Int(r.base),
            Cell::Int(r.rate_ppm),
            Cell::text(&r.rule),
            Cell::Int(r.amount),
        ]);
    }
    if entries.is_empty() {
        return Ok(());
    }
    bulk_insert(
        tx,
        "commission_entries",
        &["id", "rep_id", "period", "plan_id", "invoice_id", "credited_invoice_id", "payment_id", "created_at"],
        &entries,
    )
    .await?;
    bulk_insert(
        tx,
        "commission_entry_lines",
        &["entry_id", "line_no", "category", "base", "rate_ppm", "rule", "amount"],
        &lines,
    )
    .await
}

const SELECT_ACCRUALS: &str =
    "SELECT id, rep_id, period, kind, plan_id, invoice_id, invoice_number, invoice_line_no, credited_invoice_id,
     order_id, order_number, account_id, channel, sku, category, base, rate_ppm, rule, amount, issued_on, created_at,
     payment_id, payment_number
     FROM commission_accruals";

/// The accrual lines an invoice wrote (a credit note of it reverses them).
pub async fn accruals_of_invoice(tx: &mut Tx, invoice_id: &str) -> StoreResult<Vec<AccrualRow>> {
    tx.fetch_all(
        &format!("{SELECT_ACCRUALS} WHERE invoice_id = $1 AND credited_invoice_id IS NULL ORDER BY invoice_line_no"),
        args![invoice_id],
    )
    .await
}

/// A rep's lines of a period, oldest first; `after` is the last (created_at, id) of the previous page.
pub async fn statement_lines(
    db: &Db,
    rep_id: &str,
    period: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<AccrualRow>> {
    let (at, id) = after.unwrap_or((-1, ""));
    let sql = format!(
        "{SELECT_ACCRUALS} WHERE rep_id = $1 AND period = $2 AND (created_at > $3 OR (created_at = $3 AND id > $4))
         ORDER BY created_at, id LIMIT {}",
        limit.clamp(1, 100_000)
    );
    on_db!(db, |c| sqlx::query_as::<_, AccrualRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(rep_id)
        .bind(period)
        .bind(at)
        .bind(id)
        .fetch_all(c)
        .await)
}

/// Accrual lines written at or after `since`, oldest first (the API's changes list); optionally of
/// one rep and one period.
pub async fn accruals_since(
    db: &Db,
    rep_id: Option<&str>,
    period: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<AccrualRow>> {
    let (at, id) = after.unwrap_or((since, ""));
    let at = at.max(since);
    let id = if after.is_some_and(|(a, _)| a >= since) { id } else { "" };
    let sql = format!(
        "{SELECT_ACCRUALS} WHERE created_at >= $1 AND (created_at > $2 OR (created_at = $2 AND id > $3))
           AND ($4 = '' OR rep_id = $4) AND ($5 = '' OR period = $5)
         ORDER BY created_at, id LIMIT {}",
        limit.clamp(1, 501)
    );
    on_db!(db, |c| sqlx::query_as::<_, AccrualRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(since)
        .bind(at)
        .bind(id)
        .bind(rep_id.unwrap_or(""))
        .bind(period.unwrap_or(""))
        .fetch_all(c)
        .await)
}

/// A rep's period summed by channel: (channel, base, amount, lines).
pub async fn totals_by_channel(db: &Db, rep_id: &str, period: &str) -> StoreResult<Vec<(String, i64, i64, i64)>> {
    on_db!(db, |c| sqlx::query_as(
        "SELECT channel, CAST(SUM(base) AS BIGINT), CAST(SUM(amount) AS BIGINT), COUNT(*) FROM commission_accruals
         WHERE rep_id = $1 AND period = $2 GROUP BY channel ORDER BY channel"
    )
    .bind(rep_id)
    .bind(period)
    .fetch_all(c)
    .await)
}

/// A rep's period summed by plan, with the plan: (plan name, rules, base, amount).
pub async fn totals_by_plan(db: &Db, rep_id: &str, period: &str) -> StoreResult<Vec<(String, String, i64, i64)>> {
    on_db!(db, |c| sqlx::query_as(
        "SELECT p.name, p.rules, CAST(SUM(l.base) AS BIGINT), CAST(SUM(l.amount) AS BIGINT)
         FROM commission_accruals l JOIN commission_plans p ON p.id = l.plan_id
         WHERE l.rep_id = $1 AND l.period = $2 GROUP BY p.id, p.name, p.rules ORDER BY p.name"
    )
    .bind(rep_id)
    .bind(period)
    .fetch_all(c)
    .await)
}

/// Every rep with lines or a statement in a period: (rep id, name, base, amount, self-service amount).
pub async fn reps_of_period(db: &Db, period: &str) -> StoreResult<Vec<(String, String, i64, i64, i64)>> {
    on_db!(db, |c| sqlx::query_as(
        "SELECT u.id, u.name, CAST(SUM(l.base) AS BIGINT), CAST(SUM(l.amount) AS BIGINT),
                CAST(SUM(CASE WHEN l.channel IN ('portal', 'punchout') THEN l.amount ELSE 0 END) AS BIGINT)
         FROM commission_accruals l JOIN users u ON u.id = l.rep_id
         WHERE l.period = $1 GROUP BY u.id, u.name ORDER BY u.name"
    )
    .bind(period)
    .fetch_all(c)
    .await)
}

/// A statement's stored status row.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct StatementRow {
    pub rep_id: String,
    pub period: String,
    pub status: String,
    pub total: i64,
    pub adjustments: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub locked_at: Option<i64>,
    pub updated_at: i64,
}

const SELECT_STATEMENT: &str = "SELECT rep_id, period, status, total, adjustments, approved_by, approved_at, locked_at, updated_at FROM commission_statements";

pub async fn statement(db: &Db, rep_id: &str, period: &str) -> StoreResult<Option<StatementRow>> {
    let sql = format!("{SELECT_STATEMENT} WHERE rep_id = $1 AND period = $2");
    on_db!(db, |c| sqlx::query_as::<_, StatementRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(rep_id)
        .bind(period)
        .fetch_optional(c)
        .await)
}

/// Statuses of every rep's statement in a period.
pub async fn statements_of_period(db: &Db, period: &str) -> StoreResult<Vec<StatementRow>> {
    let sql = format!("{SELECT_STATEMENT} WHERE period = $1");
    on_db!(db, |c| sqlx::query_as::<_, StatementRow>(sqlx::AssertSqlSafe(sql.clone())).bind(period).fetch_all(c).await)
}

/// The statement row, locked for its change (none: open).
pub async fn lock_statement(tx: &mut Tx, rep_id: &str, period: &str) -> StoreResult<Option<StatementRow>> {
    let rows: Vec<StatementRow> =
        tx.lock(&format!("{SELECT_STATEMENT} WHERE rep_id = $1 AND period = $2"), args![rep_id, period]).await?;
    Ok(rows.into_iter().next())
}

pub async fn put_statement(tx: &mut Tx, s: &StatementRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO commission_statements (rep_id, period, status, total, adjustments, approved_by, approved_at, locked_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (rep_id, period) DO UPDATE SET status = excluded.status, total = excluded.total,
             adjustments = excluded.adjustments, approved_by = excluded.approved_by, approved_at = excluded.approved_at,
             locked_at = excluded.locked_at, updated_at = excluded.updated_at",
        vec![
            Cell::text(&s.rep_id),
            Cell::text(&s.period),
            Cell::text(&s.status),
            Cell::Int(s.total),
            Cell::text(&s.adjustments),
            Cell::opt_text(s.approved_by.as_deref()),
            s.approved_at.map(Cell::Int).unwrap_or(Cell::NullInt),
            s.locked_at.map(Cell::Int).unwrap_or(Cell::NullInt),
            Cell::Int(s.updated_at),
        ],
    )
    .await?;
    Ok(())
}

// ---- Plans and assignments ----

const SELECT_PLAN: &str = "SELECT id, name, effective_from, effective_to, default_rate_ppm, basis, rules, created_at, updated_at FROM commission_plans";

pub async fn plans(db: &Db) -> StoreResult<Vec<PlanRow>> {
    let sql = format!("{SELECT_PLAN} ORDER BY effective_from DESC, name");
    on_db!(db, |c| sqlx::query_as::<_, PlanRow>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)
}

pub async fn plan(db: &Db, id: &str) -> StoreResult<Option<PlanRow>> {
    let sql = format!("{SELECT_PLAN} WHERE id = $1");
    on_db!(db, |c| sqlx::query_as::<_, PlanRow>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(c).await)
}

pub async fn plan_tx(tx: &mut Tx, id: &str) -> StoreResult<Option<PlanRow>> {
    tx.fetch_optional(&format!("{SELECT_PLAN} WHERE id = $1"), args![id]).await
}

/// Writes a plan (new or changed, by id).
pub async fn put_plan(tx: &mut Tx, p: &PlanRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO commission_plans (id, name, effective_from, effective_to, default_rate_ppm, basis, rules, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, effective_from = excluded.effective_from,
             effective_to = excluded.effective_to, default_rate_ppm = excluded.default_rate_ppm, basis = excluded.basis,
             rules = excluded.rules, updated_at = excluded.updated_at",
        vec![
            Cell::text(&p.id),
            Cell::text(&p.name),
            Cell::text(&p.effective_from),
            Cell::opt_text(p.effective_to.as_deref()),
            Cell::Int(p.default_rate_ppm),
            Cell::text(&p.basis),
            Cell::text(&p.rules),
            Cell::Int(p.created_at),
            Cell::Int(p.updated_at),
        ],
    )
    .await?;
    Ok(())
}

/// Is the name taken by another plan?
pub async fn plan_name_taken(tx: &mut Tx, name: &str, except_id: &str) -> StoreResult<bool> {
    let rows: Vec<String> = tx
        .fetch_all("SELECT id FROM commission_plans WHERE LOWER(name) = LOWER($1) AND id <> $2", args![name, except_id])
        .await?;
    Ok(!rows.is_empty())
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct AssignmentRow {
    pub id: String,
    pub rep_id: String,
    pub rep_name: String,
    pub plan_id: String,
    pub plan_name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub created_at: i64,
}

pub async fn assignments(db: &Db) -> StoreResult<Vec<AssignmentRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, AssignmentRow>(
        "SELECT a.id, a.rep_id, u.name AS rep_name, a.plan_id, p.name AS plan_name, a.effective_from, a.effective_to, a.created_at
         FROM commission_assignments a JOIN users u ON u.id = a.rep_id JOIN commission_plans p ON p.id = a.plan_id
         ORDER BY u.name, a.effective_from DESC"
    )
    .fetch_all(c)
    .await
    })
}

/// Inserts an assignment of a plan to a rep or a team.
pub async fn insert_assignment(
    tx: &mut Tx,
    id: &str,
    to_whom: &Assignee,
    plan_id: &str,
    from: &str,
    to: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let (rep_id, team_id) = to_whom.ids();
    tx.execute(
        "INSERT INTO commission_assignments (id, rep_id, team_id, plan_id, effective_from, effective_to, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![id, rep_id, team_id, plan_id, from, to, now],
    )
    .await?;
    Ok(())
}

pub async fn delete_assignment(tx: &mut Tx, id: &str) -> StoreResult<bool> {
    Ok(tx.execute("DELETE FROM commission_assignments WHERE id = $1", args![id]).await? > 0)
}

/// Sets an account's house flag; whether the account exists.
pub async fn set_house(tx: &mut Tx, account_id: &str, house: bool, now: i64) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE accounts SET commission_house = $2, updated_at = $3 WHERE id = $1",
            vec![Cell::text(account_id), Cell::Bool(house), Cell::Int(now)],
        )
        .await?
        > 0)
}

/// House accounts: (id, number, name).
pub async fn house_accounts(db: &Db) -> StoreResult<Vec<(String, String, String)>> {
    on_db!(db, |c| sqlx::query_as("SELECT id, number, name FROM accounts WHERE commission_house = TRUE ORDER BY name")
        .fetch_all(c)
        .await)
}

// ---- The hand-over split ----

/// The settings of the hand-over split, as stored: (days, share in ppm), each None when unset.
const HANDOVER_SQL: &str = "SELECT (SELECT value FROM settings WHERE key = 'commissions.handover_days'),
            (SELECT value FROM settings WHERE key = 'commissions.handover_share')";

pub async fn handover_settings(db: &Db) -> StoreResult<(Option<String>, Option<String>)> {
    on_db!(db, |c| sqlx::query_as(HANDOVER_SQL).fetch_one(c).await)
}

/// The same, in a unit of work (a change of an account's owner reads the terms in force).
pub async fn handover_settings_tx(tx: &mut Tx) -> StoreResult<(Option<String>, Option<String>)> {
    let rows: Vec<(Option<String>, Option<String>)> = tx.fetch_all(HANDOVER_SQL, Vec::new()).await?;
    Ok(rows.into_iter().next().unwrap_or((None, None)))
}

/// An order's hand-over as placed: (previous rep, share ppm); a credit note splits its clawback
/// as the invoice's accrual was split.
pub async fn order_handover(tx: &mut Tx, order_id: &str) -> StoreResult<(Option<String>, i64)> {
    let rows: Vec<(Option<String>, i64)> =
        tx.fetch_all("SELECT handover_rep_id, handover_share_ppm FROM orders WHERE id = $1", args![order_id]).await?;
    Ok(rows.into_iter().next().unwrap_or((None, 0)))
}

// ---- The paid basis ----

/// The rate, rule and category a rep earns at on a line of an invoice under a plan on the paid
/// basis, kept when the invoice is issued (so later payments earn at the rate of that day).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct PaidTermsRow {
    pub rep_id: String,
    pub line_no: i64,
    pub plan_id: String,
    pub category: String,
    pub rate_ppm: i64,
    pub rule: String,
}

pub async fn insert_paid_terms(tx: &mut Tx, invoice_id: &str, rows: &[PaidTermsRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            vec![
                Cell::text(invoice_id),
                Cell::text(&r.rep_id),
                Cell::Int(r.line_no),
                Cell::text(&r.plan_id),
                Cell::text(&r.category),
                Cell::Int(r.rate_ppm),
                Cell::text(&r.rule),
            ]
        })
        .collect();
    bulk_insert(
        tx,
        "commission_paid_terms",
        &["invoice_id", "rep_id", "line_no", "plan_id", "category", "rate_ppm", "rule"],
        &cells,
    )
    .await
}

/// An invoice's paid-basis terms, by rep and line (one read by the primary key's prefix; none for
/// an invoice whose reps earn on the invoiced basis).
pub async fn paid_terms(tx: &mut Tx, invoice_id: &str) -> StoreResult<Vec<PaidTermsRow>> {
    tx.fetch_all(
        "SELECT rep_id, line_no, plan_id, category, rate_ppm, rule FROM commission_paid_terms
          WHERE invoice_id = $1 ORDER BY rep_id, line_no",
        args![invoice_id],
    )
    .await
}

/// What each rep's lines of each line of an invoice add up to so far — the invoice's own entries
/// and its credit notes' — as (rep, line, base, amount).
pub async fn accrued_on_invoice(tx: &mut Tx, invoice_id: &str) -> StoreResult<Vec<(String, i64, i64, i64)>> {
    tx.fetch_all(
        "SELECT e.rep_id, l.line_no, CAST(SUM(l.base) AS BIGINT), CAST(SUM(l.amount) AS BIGINT)
           FROM commission_entries e JOIN commission_entry_lines l ON l.entry_id = e.id
          WHERE (e.invoice_id = $1 AND e.credited_invoice_id IS NULL) OR e.credited_invoice_id = $1
          GROUP BY e.rep_id, l.line_no",
        args![invoice_id],
    )
    .await
}

/// What is paid of an invoice for commission: its live applications, of payments and of credit
/// notes of other invoices (an account's credit spent on it), not of its own credit notes (those
/// lower what is due instead).
pub async fn paid_for_commission(tx: &mut Tx, invoice_id: &str) -> StoreResult<i64> {
    let rows: Vec<Option<i64>> = tx
        .fetch_all(
            "SELECT CAST(SUM(pa.amount) AS BIGINT) FROM payment_applications pa
              WHERE pa.invoice_id = $1 AND pa.reversed_at IS NULL
                AND NOT (pa.source_kind = 'credit_note'
                         AND EXISTS (SELECT 1 FROM invoices n WHERE n.id = pa.source_id AND n.credited_invoice_id = $1))",
            args![invoice_id],
        )
        .await?;
    Ok(rows.into_iter().next().flatten().unwrap_or(0))
}

/// A commission team (migration 0048): a name and its member reps, assigned plans like a rep.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A rep in a team.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct TeamMemberRow {
    pub team_id: String,
    pub rep_id: String,
    pub rep_name: String,
}

/// A plan assigned to a team.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct TeamAssignmentRow {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub plan_id: String,
    pub plan_name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub created_at: i64,
}

pub async fn teams(db: &Db) -> StoreResult<Vec<TeamRow>> {
    on_db!(db, |c| sqlx::query_as::<_, TeamRow>("SELECT id, name, created_at FROM commission_teams ORDER BY name, id")
        .fetch_all(c)
        .await)
}

pub async fn team_members(db: &Db) -> StoreResult<Vec<TeamMemberRow>> {
    on_db!(db, |c| sqlx::query_as::<_, TeamMemberRow>(
        "SELECT m.team_id, m.rep_id, u.name AS rep_name
         FROM commission_team_members m JOIN users u ON u.id = m.rep_id ORDER BY u.name, m.rep_id"
    )
    .fetch_all(c)
    .await)
}

pub async fn team_assignments(db: &Db) -> StoreResult<Vec<TeamAssignmentRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, TeamAssignmentRow>(
        "SELECT a.id, a.team_id, t.name AS team_name, a.plan_id, p.name AS plan_name, a.effective_from, a.effective_to, a.created_at
         FROM commission_assignments a JOIN commission_teams t ON t.id = a.team_id JOIN commission_plans p ON p.id = a.plan_id
         ORDER BY t.name, a.effective_from DESC"
    )
    .fetch_all(c)
    .await
    })
}

pub async fn team_tx(tx: &mut Tx, id: &str) -> StoreResult<Option<TeamRow>> {
    tx.fetch_optional("SELECT id, name, created_at FROM commission_teams WHERE id = $1", args![id]).await
}

/// Is the name taken by another team (regardless of case)?
pub async fn team_name_taken(tx: &mut Tx, name: &str, except_id: &str) -> StoreResult<bool> {
    let rows: Vec<String> = tx
        .fetch_all("SELECT id FROM commission_teams WHERE LOWER(name) = LOWER($1) AND id <> $2", args![name, except_id])
        .await?;
    Ok(!rows.is_empty())
}

pub async fn insert_team(tx: &mut Tx, id: &str, name: &str, now: i64) -> StoreResult<()> {
    tx.execute("INSERT INTO commission_teams (id, name, created_at) VALUES ($1, $2, $3)", args![id, name, now]).await?;
    Ok(())
}

/// The team a rep is in, if any: (id, name).
pub async fn team_of_rep(tx: &mut Tx, rep_id: &str) -> StoreResult<Option<(String, String)>> {
    let rows: Vec<(String, String)> = tx
        .fetch_all(
            "SELECT t.id, t.name FROM commission_team_members m JOIN commission_teams t ON t.id = m.team_id WHERE m.rep_id = $1",
            args![rep_id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

pub async fn insert_team_member(tx: &mut Tx, team_id: &str, rep_id: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO commission_team_members (team_id, rep_id, created_at) VALUES ($1, $2, $3)",
        args![team_id, rep_id, now],
    )
    .await?;
    Ok(())
}

pub async fn delete_team_member(tx: &mut Tx, team_id: &str, rep_id: &str) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM commission_team_members WHERE team_id = $1 AND rep_id = $2", args![team_id, rep_id])
        .await?
        > 0)
}

/// Renames a team; whether it exists.
pub async fn rename_team(tx: &mut Tx, id: &str, name: &str) -> StoreResult<bool> {
    Ok(tx.execute("UPDATE commission_teams SET name = $2 WHERE id = $1", args![id, name]).await? > 0)
}

/// Deletes a team with no members and no assignments; whether it did (false: it has some, or is gone).
pub async fn delete_empty_team(tx: &mut Tx, id: &str) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "DELETE FROM commission_teams WHERE id = $1
               AND NOT EXISTS (SELECT 1 FROM commission_team_members m WHERE m.team_id = $1)
               AND NOT EXISTS (SELECT 1 FROM commission_assignments a WHERE a.team_id = $1)",
            args![id],
        )
        .await?
        > 0)
}
