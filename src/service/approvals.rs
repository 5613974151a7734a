//! Buyer approvals (issue 14 §1): the rules a purchasing manager sets for the account, each user's
//! spending limits and budget, and the step of the placement pipeline that sends an order for
//! approval. Approving and rejecting an order are order actions (`service::orders::approve`).
//!
//! The rules are read before the placing unit (they are settings, like prices); the placer's
//! limits and what they have spent this month are read inside it, so two orders of one user
//! racing cannot both slip under a monthly limit.

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::approvals::{self, Limits, Placer, Rule, RuleKind, Step};
use crate::domain::auth::{BuyerRole, Permission, PrincipalKind};
use crate::domain::money::Money;
use crate::service::evaluation::PricedLine;
use crate::store::approvals::{self as store, RuleRow};
use crate::store::{Db, Tx, new_id};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// What the approval step needs to know before the placing unit runs.
#[derive(Clone, Debug, Default)]
pub struct ApprovalInput {
    pub rules: Vec<Rule>,
    /// Category path of each line's product.
    pub line_categories: Vec<Option<String>>,
    /// The placer, when a portal user of the account (limits and the requester role apply).
    pub account_user: Option<(String, BuyerRole)>,
}

/// Loads the account's rules and, when a rule looks at categories, the lines' category paths.
pub async fn input(db: &Db, actor: &Actor<'_>, account_id: &str, lines: &[PricedLine]) -> ServiceResult<ApprovalInput> {
    let rules: Vec<Rule> = store::rules(db, account_id).await?.iter().filter_map(RuleRow::rule).collect();
    let line_categories = if rules.iter().any(|r| matches!(r.kind, RuleKind::Category { .. })) {
        let paths: HashMap<String, String> =
            crate::store::categories::categories(db).await?.into_iter().map(|c| (c.id, c.path)).collect();
        lines.iter().map(|l| l.product.category_id.as_ref().and_then(|c| paths.get(c).cloned())).collect()
    } else {
        Vec::new()
    };
    let account_user = match &actor.principal.kind {
        PrincipalKind::Buyer { account_id: own, role } if own == account_id => {
            Some((actor.principal.user_id.clone(), *role))
        }
        _ => None,
    };
    Ok(ApprovalInput { rules, line_categories, account_user })
}

/// The first moment (unix seconds, UTC) of the calendar month `now` is in.
pub fn month_start(now: i64) -> i64 {
    let today = crate::service::catalog::today(now);
    today.replace_day(1).unwrap_or(today).midnight().assume_utc().unix_timestamp()
}

/// The approvals an order of `total` needs, decided inside the placing unit. Empty: it goes on
/// through the pipeline. A manager placing it approves what they may (their order waits only for
/// other approvers a rule names); whether that approval counts is returned, to be recorded with
/// the steps.
pub(crate) async fn steps_in_unit(
    tx: &mut Tx,
    account_id: &str,
    input: &ApprovalInput,
    total: Money,
    now: i64,
) -> ServiceResult<(Vec<Step>, bool)> {
    let (limits, spent) = match &input.account_user {
        Some((user, _)) => store::limits_and_spent(tx, user, month_start(now)).await?,
        None => (Limits::default(), Money::ZERO),
    };
    let steps = required_by(input, limits, spent, total);
    match &input.account_user {
        Some((user, BuyerRole::Manager)) if !steps.is_empty() => {
            let managers: BTreeSet<String> = store::managers_tx(tx, account_id).await?.into_iter().collect();
            Ok(approvals::after_placer(steps, user, &managers))
        }
        _ => Ok((steps, false)),
    }
}

/// What placing these lines now would need, for the pages that place (checkout, reorder): the
/// same decision as [`steps_in_unit`], on what the read pool sees.
pub async fn would_need(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    lines: &[PricedLine],
    total: Money,
) -> ServiceResult<Vec<Step>> {
    let input = input(db, actor, account_id, lines).await?;
    let (limits, spent) = match &input.account_user {
        Some((user, _)) => store::user_limits(db, user, month_start(now)).await?,
        None => (Limits::default(), Money::ZERO),
    };
    let steps = required_by(&input, limits, spent, total);
    match &input.account_user {
        Some((user, BuyerRole::Manager)) if !steps.is_empty() => {
            let managers: BTreeSet<String> = store::managers(db, account_id).await?.into_iter().collect();
            Ok(approvals::after_placer(steps, user, &managers).0)
        }
        _ => Ok(steps),
    }
}

fn required_by(input: &ApprovalInput, limits: Limits, month_spent: Money, total: Money) -> Vec<Step> {
    let role = input.account_user.as_ref().map(|(_, r)| *r);
    if input.rules.is_empty() && role != Some(BuyerRole::Requester) && limits == Limits::default() {
        return Vec::new();
    }
    let placer = Placer {
        user_id: input.account_user.as_ref().map(|(u, _)| u.clone()).unwrap_or_default(),
        is_account_user: role.is_some(),
        is_requester: role == Some(BuyerRole::Requester),
        limits,
        month_spent,
    };
    approvals::required(&approvals::Facts {
        placer: &placer,
        total,
        line_categories: &input.line_categories,
        rules: &input.rules,
    })
}

/// A user's spending limits and what is left of them this month, for their own pages.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    pub limits: Limits,
    pub spent: Money,
}

impl Budget {
    pub fn month_left(&self) -> Option<Money> {
        self.limits.per_month.map(|l| approvals::left(l, self.spent))
    }
    pub fn is_limited(&self) -> bool {
        self.limits != Limits::default()
    }
}

/// The signed-in buyer's own budget (limits and this month's spending).
pub async fn my_budget(db: &Db, now: i64, actor: &Actor<'_>) -> ServiceResult<Budget> {
    if actor.principal.buyer_account().is_none() {
        return Ok(Budget::default());
    }
    let (limits, spent) = store::user_limits(db, &actor.principal.user_id, month_start(now)).await?;
    Ok(Budget { limits, spent })
}

/// Every user's budget in an account (the manager's users page).
pub async fn account_budgets(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
) -> ServiceResult<HashMap<String, Budget>> {
    may_manage_rules(db, actor, account_id).await?;
    Ok(store::account_limits(db, account_id, month_start(now))
        .await?
        .into_iter()
        .map(|(id, limits, spent)| (id, Budget { limits, spent }))
        .collect())
}

/// Who may set an account's rules and limits: its own purchasing managers, and seller staff who
/// manage accounts. Anyone else: 404 for another account, 403 otherwise.
async fn may_manage_rules(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        if own != account_id {
            return Err(ServiceError::NotFound);
        }
        return actor.require(Permission::ManageOwnAccountUsers);
    }
    crate::service::accounts::get_account(db, actor, account_id).await?;
    actor.require(Permission::ManageAccounts)
}

/// An approval rule as its pages show it.
#[derive(Clone, Debug)]
pub struct RuleView {
    pub id: String,
    pub what: String,
    /// "Any purchasing manager", "One of: …", "All of: …".
    pub who: String,
}

pub async fn list_rules(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<RuleView>> {
    may_see_rules(db, actor, account_id).await?;
    let names = manager_names(db, account_id).await?;
    Ok(store::rules(db, account_id)
        .await?
        .iter()
        .filter_map(|r| r.rule())
        .map(|r| RuleView { id: r.id.clone(), what: r.kind.describe(), who: who(&r.approvers, r.require_all, &names) })
        .collect())
}

/// Everyone in the account sees its rules (a buyer should know before ordering); staff who may
/// see the account too.
async fn may_see_rules(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    match actor.principal.buyer_account() {
        Some(own) if own == account_id => Ok(()),
        Some(_) => Err(ServiceError::NotFound),
        None => crate::service::accounts::get_account(db, actor, account_id).await.map(|_| ()),
    }
}

/// The account's active purchasing managers: (user id, name), by id.
pub async fn manager_names(db: &Db, account_id: &str) -> ServiceResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = crate::store::users::list_for_account(db, account_id)
        .await?
        .into_iter()
        .filter(|u| u.active && u.buyer_role() == Some(BuyerRole::Manager))
        .map(|u| (u.id, u.name))
        .collect();
    out.sort();
    Ok(out)
}

/// Who approves, in words.
pub fn who(approvers: &[String], require_all: bool, names: &[(String, String)]) -> String {
    let named: Vec<&str> =
        approvers.iter().filter_map(|a| names.iter().find(|(id, _)| id == a).map(|(_, n)| n.as_str())).collect();
    match named.len() {
        0 => "Any purchasing manager".into(),
        1 => named[0].to_string(),
        _ if require_all => format!("All of: {}", named.join(", ")),
        _ => format!("One of: {}", named.join(", ")),
    }
}

/// A rule as typed into the form.
#[derive(Clone, Debug, Default)]
pub struct NewRule {
    /// `order_total` or `category`.
    pub kind: String,
    pub amount: String,
    pub category_id: String,
    pub approvers: Vec<String>,
    pub require_all: bool,
}

/// Adds an approval rule to the account; audited, with an outbox event.
pub async fn add_rule(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str, r: &NewRule) -> ServiceResult<()> {
    may_manage_rules(db, actor, account_id).await?;
    let texts: Vec<(&str, &str)> = vec![("amount", &r.amount), ("category", &r.category_id)];
    super::check_texts(&[], &texts)?;
    let (amount, category_id) = match r.kind.as_str() {
        "order_total" => {
            let m = optional_amount("amount", &r.amount)?.ok_or_else(|| {
                ServiceError::invalid("amount", "Enter the order total above which approval is needed.")
            })?;
            (Some(m), None)
        }
        "category" => {
            let id = r.category_id.trim();
            if id.is_empty() {
                return Err(ServiceError::invalid("category", "Choose the category whose orders need approval."));
            }
            if !crate::store::categories::categories(db).await?.iter().any(|c| c.id == id) {
                return Err(ServiceError::invalid("category", "No such category."));
            }
            (None, Some(id.to_string()))
        }
        _ => {
            return Err(ServiceError::invalid("kind", "Choose what the rule looks at: the order total or a category."));
        }
    };
    let managers: BTreeSet<String> = store::managers(db, account_id).await?.into_iter().collect();
    let mut approvers: Vec<String> =
        r.approvers.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    approvers.sort();
    approvers.dedup();
    if approvers.iter().any(|a| !managers.contains(a)) {
        return Err(ServiceError::invalid(
            "approvers",
            "Approvers must be active purchasing managers of this account.",
        ));
    }
    let row = RuleRow {
        id: new_id(),
        account_id: account_id.to_string(),
        kind: r.kind.clone(),
        amount: amount.map(|m: Money| m.raw()),
        category_id,
        category_path: None,
        approvers: approvers.join(","),
        require_all: r.require_all && approvers.len() > 1,
        created_at: now,
    };
    let unit = (row, actor.owned(), now);
    db.write(unit, |tx, (row, actor, now)| {
        Box::pin(async move {
            store::insert_rule(tx, row).await?;
            let after = json!({ "account_id": row.account_id, "kind": row.kind, "amount": row.amount.map(|a| Money::from_raw(a).to_plain()),
                "category_id": row.category_id, "approvers": row.approvers, "require_all": row.require_all });
            audit(tx, Some(&actor.actor()), *now, "approval_rule.created", ("approval_rule", &row.id), None, Some(after.clone()))
                .await?;
            crate::store::audit::enqueue(tx, "approval_rule.created", &after, *now).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// Removes one of the account's rules (404 for another account's); audited.
pub async fn delete_rule(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str, rule_id: &str) -> ServiceResult<()> {
    may_manage_rules(db, actor, account_id).await?;
    let unit = (account_id.to_string(), rule_id.to_string(), actor.owned(), now);
    db.write(unit, |tx, (account_id, rule_id, actor, now)| {
        Box::pin(async move {
            let Some(before) = store::delete_rule(tx, account_id, rule_id).await? else {
                return Err(ServiceError::NotFound);
            };
            let b = json!({ "account_id": before.account_id, "kind": before.kind, "amount": before.amount, "category_id": before.category_id });
            audit(tx, Some(&actor.actor()), *now, "approval_rule.deleted", ("approval_rule", rule_id), Some(b.clone()), None)
                .await?;
            crate::store::audit::enqueue(tx, "approval_rule.deleted", &b, *now).await?;
            Ok(())
        })
    })
    .await
}

/// Sets a user's limits per order and per month (empty: none). The account's managers set them
/// for their users (not for themselves: a manager's own orders are theirs to approve), staff who
/// manage accounts for anyone in an account.
pub async fn set_limits(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    user_id: &str,
    per_order: &str,
    per_month: &str,
) -> ServiceResult<()> {
    super::check_texts(&[], &[("order_limit", per_order), ("monthly_limit", per_month)])?;
    let user = crate::store::users::get(db, user_id).await?.ok_or(ServiceError::NotFound)?;
    let account_id = user.account_id.clone().ok_or(ServiceError::NotFound)?;
    may_manage_rules(db, actor, &account_id).await?;
    if user.id == actor.principal.user_id {
        return Err(ServiceError::invalid(
            "order_limit",
            "Your own limits are set by another manager or your supplier.",
        ));
    }
    let limits = Limits {
        per_order: optional_amount("order_limit", per_order)?,
        per_month: optional_amount("monthly_limit", per_month)?,
    };
    let unit = (user.id.clone(), limits, actor.owned(), now, account_id);
    db.write(unit, |tx, (user_id, limits, actor, now, account_id)| {
        Box::pin(async move {
            store::set_limits(tx, user_id, *limits, *now).await?;
            let plain = |m: Option<Money>| m.map(|m| m.to_plain());
            let after = json!({ "account_id": account_id, "user_id": user_id,
                "order_limit": plain(limits.per_order), "monthly_limit": plain(limits.per_month) });
            audit(tx, Some(&actor.actor()), *now, "user.limits_changed", ("user", user_id), None, Some(after)).await?;
            Ok(())
        })
    })
    .await
}

/// An amount typed into a form: empty means none; otherwise 0 ..= the largest amount accepted.
fn optional_amount(field: &str, text: &str) -> ServiceResult<Option<Money>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let m = Money::parse(text).map_err(|e| ServiceError::invalid(field, format!("“{}”: {e}", text.trim())))?;
    crate::domain::input::check_amount(m).map(Some).map_err(|e| ServiceError::invalid(field, e))
}

/// Records, in the placing unit, the approvals a submitted order needs — and, when its placer is
/// a manager who may approve some of them, their approval by placing it.
pub(crate) async fn record_submission(
    tx: &mut Tx,
    order: &crate::store::orders::OrderRow,
    actor: &Actor<'_>,
    steps: &[Step],
    placer_approved: bool,
    now: i64,
) -> ServiceResult<()> {
    store::insert_steps(tx, &order.id, steps).await?;
    if placer_approved {
        let d = store::DecisionRow {
            user_id: actor.principal.user_id.clone(),
            user_name: actor.principal.name.clone(),
            approved: true,
            comment: "Approved by placing the order.".into(),
            decided_at: now,
        };
        store::insert_decision(tx, &order.id, &d).await?;
    }
    Ok(())
}

/// The categories a rule may name (id, path), for the rule form.
pub async fn rule_categories(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<(String, String)>> {
    may_manage_rules(db, actor, account_id).await?;
    let mut out: Vec<(String, String)> =
        crate::store::categories::categories(db).await?.into_iter().map(|c| (c.id, c.path)).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
