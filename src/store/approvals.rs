//! Buyer approvals: each account's approval rules, users' spending limits, and the approvals an
//! order waiting for approval needs and has had (see `domain::approvals`).

use super::{Db, StoreResult, Tx};
use crate::domain::approvals::{Decision, Limits, Rule, RuleKind, Step};
use crate::domain::money::Money;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub amount: Option<i64>,
    pub category_id: Option<String>,
    pub category_path: Option<String>,
    pub approvers: String,
    pub require_all: bool,
    pub created_at: i64,
}

impl RuleRow {
    /// The rule as the domain reads it (`None` for a category rule whose category is gone).
    pub fn rule(&self) -> Option<Rule> {
        let kind = match (self.kind.as_str(), self.amount, &self.category_id, &self.category_path) {
            ("order_total", Some(a), _, _) => RuleKind::OrderTotalOver(Money::from_raw(a)),
            ("category", _, Some(id), Some(path)) => RuleKind::Category {
                id: id.clone(),
                path: path.clone(),
                // The whole path reads better than the last name ("Medical / Diagnostics").
                name: path.clone(),
            },
            _ => return None,
        };
        Some(Rule { id: self.id.clone(), kind, approvers: split(&self.approvers), require_all: self.require_all })
    }
}

fn split(ids: &str) -> Vec<String> {
    ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

const RULE_SELECT: &str = "SELECT r.id, r.account_id, r.kind, r.amount, r.category_id, c.path AS category_path,
        r.approvers, r.require_all, r.created_at
   FROM approval_rules r LEFT JOIN categories c ON c.id = r.category_id";

/// The account's approval rules, oldest first.
pub async fn rules(db: &Db, account_id: &str) -> StoreResult<Vec<RuleRow>> {
    let sql = format!("{RULE_SELECT} WHERE r.account_id = $1 ORDER BY r.created_at, r.id");
    on_db!(db, |c| sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(sql.clone())).bind(account_id).fetch_all(c).await)
}

pub async fn insert_rule(tx: &mut Tx, r: &RuleRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO approval_rules (id, account_id, kind, amount, category_id, approvers, require_all, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        args![&r.id, &r.account_id, &r.kind, r.amount, r.category_id.as_deref(), &r.approvers, r.require_all, r.created_at],
    )
    .await?;
    Ok(())
}

/// Deletes one of the account's rules; returns the rule as it was (`None`: no such rule there).
pub async fn delete_rule(tx: &mut Tx, account_id: &str, id: &str) -> StoreResult<Option<RuleRow>> {
    let sql = format!("{RULE_SELECT} WHERE r.account_id = $1 AND r.id = $2");
    let Some(row) = tx.fetch_optional::<RuleRow>(&sql, args![account_id, id]).await? else { return Ok(None) };
    tx.execute("DELETE FROM approval_rules WHERE account_id = $1 AND id = $2", args![account_id, id]).await?;
    Ok(Some(row))
}

const MANAGERS: &str =
    "SELECT id FROM users WHERE account_id = $1 AND kind = 'buyer' AND roles = 'manager' AND active ORDER BY id";

/// The active purchasing managers of an account (user ids): who may approve.
pub async fn managers(db: &Db, account_id: &str) -> StoreResult<Vec<String>> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>(MANAGERS).bind(account_id).fetch_all(c).await)
}

/// [`managers`], inside a unit (the decision is taken on what the unit reads).
pub async fn managers_tx(tx: &mut Tx, account_id: &str) -> StoreResult<Vec<String>> {
    tx.fetch_all(MANAGERS, args![account_id]).await
}

/// What orders placed by a user since `since` (unix seconds) add up to: every order but
/// cancelled ones and drafts, waiting ones included. (PostgreSQL sums BIGINTs as NUMERIC: cast.)
const SPENT: &str = "CAST(COALESCE((SELECT SUM(o.subtotal) FROM orders o
        WHERE o.placed_by_user_id = u.id AND o.placed_at >= $2 AND o.status NOT IN ('cancelled', 'draft')), 0) AS BIGINT)";

/// One user's limits and, when they have a monthly one, what they have ordered since `$2`.
const LIMITS: &str = "SELECT u.order_limit, u.monthly_limit, CASE WHEN u.monthly_limit IS NULL THEN 0 ELSE {SPENT} END
    FROM users u WHERE u.id = $1";

fn limits_of(row: Option<(Option<i64>, Option<i64>, i64)>) -> (Limits, Money) {
    row.map(|(o, m, s)| {
        (Limits { per_order: o.map(Money::from_raw), per_month: m.map(Money::from_raw) }, Money::from_raw(s))
    })
    .unwrap_or_default()
}

/// A user's limits and, when they have a monthly one, what they have ordered since `since`,
/// read inside the placing unit so two orders of one user cannot both slip under the limit.
pub async fn limits_and_spent(tx: &mut Tx, user_id: &str, since: i64) -> StoreResult<(Limits, Money)> {
    let sql = LIMITS.replace("{SPENT}", SPENT);
    Ok(limits_of(tx.fetch_optional(&sql, args![user_id, since]).await?))
}

/// [`limits_and_spent`] on the read pool (the buyer's budget, checkout's "needs approval").
pub async fn user_limits(db: &Db, user_id: &str, since: i64) -> StoreResult<(Limits, Money)> {
    let sql = LIMITS.replace("{SPENT}", SPENT);
    let row = on_db!(db, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(user_id)
        .bind(since)
        .fetch_optional(c)
        .await)?;
    Ok(limits_of(row))
}

/// The limits of each user of an account, with what each ordered since `since`: (user id,
/// limits, spent).
pub async fn account_limits(db: &Db, account_id: &str, since: i64) -> StoreResult<Vec<(String, Limits, Money)>> {
    let sql = format!(
        "SELECT u.id, u.order_limit, u.monthly_limit, {SPENT} FROM users u WHERE u.account_id = $1 ORDER BY u.id"
    );
    let rows: Vec<(String, Option<i64>, Option<i64>, i64)> =
        on_db!(db, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(account_id)
            .bind(since)
            .fetch_all(c)
            .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, o, m, s)| {
            (id, Limits { per_order: o.map(Money::from_raw), per_month: m.map(Money::from_raw) }, Money::from_raw(s))
        })
        .collect())
}

pub async fn set_limits(tx: &mut Tx, user_id: &str, limits: Limits, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE users SET order_limit = $2, monthly_limit = $3, updated_at = $4 WHERE id = $1",
        args![user_id, limits.per_order.map(|m| m.raw()), limits.per_month.map(|m| m.raw()), now],
    )
    .await?;
    Ok(())
}

/// Records the approvals a submitted order needs.
pub async fn insert_steps(tx: &mut Tx, order_id: &str, steps: &[Step]) -> StoreResult<()> {
    for (i, s) in steps.iter().enumerate() {
        tx.execute(
            "INSERT INTO order_approval_steps (order_id, seq, code, reason, approvers, require_all)
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![order_id, i as i64, &s.code, &s.reason, s.approvers.join(","), s.require_all],
        )
        .await?;
    }
    Ok(())
}

#[derive(serde::Deserialize, sqlx::FromRow)]
struct StepRow {
    code: String,
    reason: String,
    approvers: String,
    require_all: bool,
}

impl From<StepRow> for Step {
    fn from(r: StepRow) -> Step {
        Step { code: r.code, reason: r.reason, approvers: split(&r.approvers), require_all: r.require_all }
    }
}

const STEPS: &str =
    "SELECT code, reason, approvers, require_all FROM order_approval_steps WHERE order_id = $1 ORDER BY seq";

pub async fn steps(db: &Db, order_id: &str) -> StoreResult<Vec<Step>> {
    let rows: Vec<StepRow> = on_db!(db, |c| sqlx::query_as(STEPS).bind(order_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(Step::from).collect())
}

pub async fn steps_tx(tx: &mut Tx, order_id: &str) -> StoreResult<Vec<Step>> {
    let rows: Vec<StepRow> = tx.fetch_all(STEPS, args![order_id]).await?;
    Ok(rows.into_iter().map(Step::from).collect())
}

#[derive(Clone, Debug, serde::Deserialize, sqlx::FromRow)]
pub struct DecisionRow {
    pub user_id: String,
    pub user_name: String,
    pub approved: bool,
    pub comment: String,
    pub decided_at: i64,
}

impl DecisionRow {
    pub fn decision(&self) -> Decision {
        Decision {
            user_id: self.user_id.clone(),
            name: self.user_name.clone(),
            approved: self.approved,
            comment: self.comment.clone(),
        }
    }
}

const DECISIONS: &str = "SELECT user_id, user_name, approved, comment, decided_at FROM order_approval_decisions
    WHERE order_id = $1 ORDER BY decided_at, id";

pub async fn decisions(db: &Db, order_id: &str) -> StoreResult<Vec<DecisionRow>> {
    on_db!(db, |c| sqlx::query_as::<_, DecisionRow>(DECISIONS).bind(order_id).fetch_all(c).await)
}

pub async fn decisions_tx(tx: &mut Tx, order_id: &str) -> StoreResult<Vec<DecisionRow>> {
    tx.fetch_all(DECISIONS, args![order_id]).await
}

pub async fn insert_decision(tx: &mut Tx, order_id: &str, d: &DecisionRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO order_approval_decisions (id, order_id, user_id, user_name, approved, comment, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![super::new_id(), order_id, &d.user_id, &d.user_name, d.approved, &d.comment, d.decided_at],
    )
    .await?;
    Ok(())
}
