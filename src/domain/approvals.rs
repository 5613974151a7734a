//! Buyer approvals (DESIGN.md §3 "buyer approval rules"): the rules an account's purchasing manager
//! sets, which orders they send for approval, and when an order waiting for approval is approved.
//! Pure: the store loads the rules and the placer's spending, the service writes what is decided.
//!
//! An order needs approval for each of these that applies (every reason is named to the buyer):
//! - its placer is a **requester** (every order of theirs is approved by a manager);
//! - its total is above a rule's amount (`order_total` rule);
//! - it has a line in a rule's category or any of its subcategories (`category` rule, e.g.
//!   capital equipment);
//! - it is above the placer's own **limit per order**, or takes the placer past their **monthly
//!   limit** (orders placed this calendar month, pending ones included, cancelled ones not).
//!
//! Account-wide rules apply whoever keys the order (the portal, a rep, the desk, the API): they are
//! the customer's control over its own spending. Per-user limits and the requester role are the
//! placer's own, so they apply to the portal user who placed it.
//!
//! **Who approves.** A rule names its approvers (managers of the account) and whether *one* of them
//! or *all* must approve; no names means any manager. Of the named approvers, those who are no
//! longer active managers are dropped, and a rule left with none falls back to any manager — so no
//! order can wait for someone who can never approve. A manager who places an order approves, by
//! placing it, every step they may approve: their own order waits only for the *other* approvers a
//! rule with "all" names. A rejection by anyone who may decide a step ends the order.

use super::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What an approval rule looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// Orders whose total (before tax) is above this amount.
    OrderTotalOver(Money),
    /// Orders with a line in this category or below it (`path` is the category's materialised
    /// path, `name` what people read).
    Category { id: String, path: String, name: String },
}

impl RuleKind {
    pub fn code(&self) -> &'static str {
        match self {
            RuleKind::OrderTotalOver(_) => "order_total",
            RuleKind::Category { .. } => "category",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            RuleKind::OrderTotalOver(m) => format!("Orders over ${m}"),
            RuleKind::Category { name, .. } => format!("Orders with {name}"),
        }
    }
}

/// An account's approval rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    /// Named approvers (user ids); empty means any manager of the account.
    pub approvers: Vec<String>,
    /// All named approvers must approve (otherwise one is enough).
    pub require_all: bool,
}

/// A placer's own spending limits (set by their manager).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub per_order: Option<Money>,
    pub per_month: Option<Money>,
}

/// Who places the order, as approval sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placer {
    pub user_id: String,
    /// A portal user of the account (per-user limits and the requester role apply); false for
    /// staff and integrations ordering for the account.
    pub is_account_user: bool,
    pub is_requester: bool,
    pub limits: Limits,
    /// What the placer has ordered this calendar month before this order.
    pub month_spent: Money,
}

/// The most an order's rules may ask before it is placed.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub placer: &'a Placer,
    pub total: Money,
    /// Category path of each line's product (`None` when it has none).
    pub line_categories: &'a [Option<String>],
    pub rules: &'a [Rule],
}

/// One approval an order needs, with why (the reason is shown to the buyer and the approver).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable code: `requester`, `order_total`, `category`, `order_limit`, `monthly_limit`.
    pub code: String,
    pub reason: String,
    /// Named approvers; empty means any manager.
    pub approvers: Vec<String>,
    pub require_all: bool,
}

/// Every approval the order needs, in a stable order (requester, limits, then the account's rules).
pub fn required(f: &Facts<'_>) -> Vec<Step> {
    let mut out = Vec::new();
    let any = |code: &str, reason: String| Step { code: code.into(), reason, approvers: vec![], require_all: false };
    let p = f.placer;
    if p.is_account_user {
        if p.is_requester {
            out.push(any("requester", "Orders you submit are approved by a purchasing manager.".into()));
        }
        if let Some(limit) = p.limits.per_order
            && f.total > limit
        {
            out.push(any("order_limit", format!("${} is above your limit of ${limit} per order.", f.total)));
        }
        if let Some(limit) = p.limits.per_month {
            let after = p.month_spent.checked_add(f.total).unwrap_or(Money::from_raw(i64::MAX));
            if after > limit {
                out.push(any(
                    "monthly_limit",
                    format!(
                        "This order takes you to ${after} this month, above your monthly limit of ${limit} (${} left before it).",
                        left(limit, p.month_spent)
                    ),
                ));
            }
        }
    }
    for r in f.rules {
        let applies = match &r.kind {
            RuleKind::OrderTotalOver(amount) => f.total > *amount,
            RuleKind::Category { path, .. } => {
                f.line_categories.iter().flatten().any(|c| super::categories::is_self_or_descendant(path, c))
            }
        };
        if applies {
            let reason = match &r.kind {
                RuleKind::OrderTotalOver(amount) => {
                    format!("Orders over ${amount} need approval (this one is ${}).", f.total)
                }
                RuleKind::Category { name, .. } => format!("Orders with {name} need approval."),
            };
            out.push(Step {
                code: r.kind.code().into(),
                reason,
                approvers: r.approvers.clone(),
                require_all: r.require_all && r.approvers.len() > 1,
            });
        }
    }
    out
}

/// The steps an order still needs once its placer has approved what they may by placing it (a
/// manager's own order): empty when nothing is left to approve. Returns the steps (all of them,
/// to be recorded) and whether the placer's approval counts.
pub fn after_placer(steps: Vec<Step>, placer: &str, managers: &BTreeSet<String>) -> (Vec<Step>, bool) {
    if steps.is_empty() || !managers.contains(placer) {
        return (steps, false);
    }
    let own = Decision { user_id: placer.to_string(), name: String::new(), approved: true, comment: String::new() };
    match outcome(&steps, std::slice::from_ref(&own), managers) {
        Outcome::Approved => (Vec::new(), false),
        _ => (steps, true),
    }
}

/// What is left of a limit after `spent` (never below zero).
pub fn left(limit: Money, spent: Money) -> Money {
    Money::from_raw(limit.raw().saturating_sub(spent.raw()).max(0))
}

/// A decision recorded on an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub user_id: String,
    pub name: String,
    pub approved: bool,
    pub comment: String,
}

/// Where an order waiting for approval stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step is approved: the order goes on through the pipeline.
    Approved,
    /// Someone who may decide rejected it.
    Rejected { by: String, comment: String },
    /// Steps still waiting, each with who may still approve it (user ids; empty = any manager
    /// who has not yet approved).
    Waiting(Vec<(usize, Vec<String>)>),
}

/// The approvers a step really waits for: its named approvers who are still active managers, or
/// any manager when none are left.
fn effective(step: &Step, managers: &BTreeSet<String>) -> Vec<String> {
    step.approvers.iter().filter(|a| managers.contains(*a)).cloned().collect()
}

/// Whether `user` may decide `step` (approve it or reject the order for it).
pub fn may_decide_step(step: &Step, user: &str, managers: &BTreeSet<String>) -> bool {
    if !managers.contains(user) {
        return false;
    }
    let named = effective(step, managers);
    named.is_empty() || named.iter().any(|a| a == user)
}

/// Where the order stands after `decisions` (oldest first), given the account's active managers.
pub fn outcome(steps: &[Step], decisions: &[Decision], managers: &BTreeSet<String>) -> Outcome {
    for d in decisions {
        if !d.approved && steps.iter().any(|s| may_decide_step(s, &d.user_id, managers)) {
            return Outcome::Rejected { by: d.name.clone(), comment: d.comment.clone() };
        }
    }
    let approvals: BTreeSet<&str> = decisions.iter().filter(|d| d.approved).map(|d| d.user_id.as_str()).collect();
    let mut waiting = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let named = effective(s, managers);
        let eligible: Vec<String> = if named.is_empty() { managers.iter().cloned().collect() } else { named.clone() };
        let approved_by: Vec<&String> = eligible.iter().filter(|u| approvals.contains(u.as_str())).collect();
        let done =
            if s.require_all && named.len() > 1 { approved_by.len() == named.len() } else { !approved_by.is_empty() };
        if !done {
            let still: Vec<String> = if s.require_all && named.len() > 1 {
                named.into_iter().filter(|u| !approvals.contains(u.as_str())).collect()
            } else {
                named
            };
            waiting.push((i, still));
        }
    }
    if waiting.is_empty() { Outcome::Approved } else { Outcome::Waiting(waiting) }
}

/// Whether `user` may still act on an order in this state: one of the steps it waits for is theirs
/// to decide, and they have not approved it yet.
pub fn may_act(steps: &[Step], decisions: &[Decision], managers: &BTreeSet<String>, user: &str) -> bool {
    let already = decisions.iter().any(|d| d.user_id == user && d.approved);
    match outcome(steps, decisions, managers) {
        Outcome::Waiting(w) => !already && w.iter().any(|(i, _)| may_decide_step(&steps[*i], user, managers)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn placer(requester: bool, per_order: Option<i64>, per_month: Option<i64>, spent: i64) -> Placer {
        Placer {
            user_id: "u1".into(),
            is_account_user: true,
            is_requester: requester,
            limits: Limits { per_order: per_order.map(Money::from_cents), per_month: per_month.map(Money::from_cents) },
            month_spent: Money::from_cents(spent),
        }
    }

    fn total_rule(cents: i64, approvers: &[&str], all: bool) -> Rule {
        Rule {
            id: "r".into(),
            kind: RuleKind::OrderTotalOver(Money::from_cents(cents)),
            approvers: approvers.iter().map(|s| s.to_string()).collect(),
            require_all: all,
        }
    }

    fn managers(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn approve(u: &str) -> Decision {
        Decision { user_id: u.into(), name: u.into(), approved: true, comment: String::new() }
    }

    #[test]
    fn each_rule_names_its_reason() {
        let cap = Rule {
            id: "c".into(),
            kind: RuleKind::Category { id: "cat".into(), path: "Equipment".into(), name: "Capital equipment".into() },
            approvers: vec![],
            require_all: false,
        };
        let rules = [total_rule(500_000, &[], false), cap];
        let p = placer(true, Some(100_000), Some(300_000), 250_000);
        let cats = [Some("Equipment / Beds".to_string()), None];
        let f = Facts { placer: &p, total: Money::from_cents(600_000), line_categories: &cats, rules: &rules };
        let codes: Vec<String> = required(&f).into_iter().map(|s| s.code).collect();
        assert_eq!(codes, ["requester", "order_limit", "monthly_limit", "order_total", "category"]);
        let steps = required(&f);
        assert!(steps[2].reason.contains("$8,500.00"), "{}", steps[2].reason);
        assert!(steps[2].reason.contains("$500.00 left"), "{}", steps[2].reason);
        assert_eq!(steps[3].reason, "Orders over $5,000.00 need approval (this one is $6,000.00).");
    }

    #[test]
    fn staff_orders_meet_account_rules_but_not_personal_limits() {
        let mut p = placer(true, Some(1), Some(1), 0);
        p.is_account_user = false;
        let rules = [total_rule(10_000, &[], false)];
        let f = Facts { placer: &p, total: Money::from_cents(20_000), line_categories: &[], rules: &rules };
        let codes: Vec<String> = required(&f).into_iter().map(|s| s.code).collect();
        assert_eq!(codes, ["order_total"]);
    }

    #[test]
    fn category_rules_cover_subcategories_only() {
        let r = Rule {
            id: "c".into(),
            kind: RuleKind::Category { id: "c".into(), path: "Equipment".into(), name: "Equipment".into() },
            approvers: vec![],
            require_all: false,
        };
        let p = placer(false, None, None, 0);
        for (path, hit) in [("Equipment", true), ("Equipment / Beds", true), ("Equipment parts", false)] {
            let cats = [Some(path.to_string())];
            let f = Facts { placer: &p, total: Money::ZERO, line_categories: &cats, rules: std::slice::from_ref(&r) };
            assert_eq!(!required(&f).is_empty(), hit, "{path}");
        }
    }

    #[test]
    fn all_of_several_needs_each_named_approver() {
        let rules = [total_rule(0, &["m1", "m2"], true)];
        let p = placer(false, None, None, 0);
        let f = Facts { placer: &p, total: Money::from_cents(1), line_categories: &[], rules: &rules };
        let steps = required(&f);
        let ms = managers(&["m1", "m2", "m3"]);
        assert_eq!(outcome(&steps, &[], &ms), Outcome::Waiting(vec![(0, vec!["m1".into(), "m2".into()])]));
        assert!(!may_act(&steps, &[], &ms, "m3"), "m3 is not named");
        assert_eq!(outcome(&steps, &[approve("m1")], &ms), Outcome::Waiting(vec![(0, vec!["m2".into()])]));
        assert!(!may_act(&steps, &[approve("m1")], &ms, "m1"), "m1 has approved already");
        assert_eq!(outcome(&steps, &[approve("m1"), approve("m2")], &ms), Outcome::Approved);
        // m2 leaves: the rule now waits for m1 alone.
        assert_eq!(outcome(&steps, &[approve("m1")], &managers(&["m1", "m3"])), Outcome::Approved);
        // Both leave: any manager.
        assert!(may_act(&steps, &[], &managers(&["m3"]), "m3"));
    }

    #[test]
    fn a_rejection_by_someone_who_may_decide_ends_it() {
        let rules = [total_rule(0, &["m1"], false)];
        let p = placer(false, None, None, 0);
        let f = Facts { placer: &p, total: Money::from_cents(1), line_categories: &[], rules: &rules };
        let steps = required(&f);
        let ms = managers(&["m1", "m2"]);
        let no = |u: &str| Decision { user_id: u.into(), name: u.into(), approved: false, comment: "too much".into() };
        assert!(matches!(outcome(&steps, &[no("m2")], &ms), Outcome::Waiting(_)), "m2 may not decide");
        assert_eq!(
            outcome(&steps, &[no("m1")], &ms),
            Outcome::Rejected { by: "m1".into(), comment: "too much".into() }
        );
    }

    fn arb_rule() -> impl Strategy<Value = Rule> {
        (0i64..1_000_000, proptest::collection::vec(0usize..4, 0..3), any::<bool>()).prop_map(|(c, a, all)| {
            let mut names: Vec<String> = a.into_iter().map(|i| format!("m{i}")).collect();
            names.sort();
            names.dedup();
            Rule {
                id: "r".into(),
                kind: RuleKind::OrderTotalOver(Money::from_cents(c)),
                approvers: names,
                require_all: all,
            }
        })
    }

    proptest! {
        /// Raising an order's total never removes a reason to approve it.
        #[test]
        fn more_money_never_needs_less_approval(
            rules in proptest::collection::vec(arb_rule(), 0..4),
            a in 0i64..2_000_000, extra in 0i64..2_000_000,
            per_order in proptest::option::of(0i64..2_000_000), per_month in proptest::option::of(0i64..2_000_000),
            spent in 0i64..2_000_000, requester in any::<bool>(),
        ) {
            let p = placer(requester, per_order, per_month, spent);
            let small = Facts { placer: &p, total: Money::from_cents(a), line_categories: &[], rules: &rules };
            let big = Facts { total: Money::from_cents(a + extra), ..small.clone() };
            let codes = |f: &Facts<'_>| required(f).into_iter().map(|s| s.code).collect::<Vec<_>>();
            let (s, b) = (codes(&small), codes(&big));
            prop_assert!(s.iter().all(|c| b.contains(c)), "{s:?} vs {b:?}");
        }

        /// With every eligible approver approving, any order is approved; with none, no order with a
        /// step is; the outcome never depends on approvals by people who may not decide.
        #[test]
        fn approvals_complete_exactly_when_every_step_has_its_approvers(
            rules in proptest::collection::vec(arb_rule(), 1..4),
            mgrs in proptest::collection::btree_set(0usize..4, 1..4),
        ) {
            let ms: BTreeSet<String> = mgrs.into_iter().map(|i| format!("m{i}")).collect();
            let p = placer(false, None, None, 0);
            let f = Facts { placer: &p, total: Money::from_cents(2_000_000), line_categories: &[], rules: &rules };
            let steps = required(&f);
            prop_assert!(matches!(outcome(&steps, &[], &ms), Outcome::Waiting(_)));
            let outsider = [approve("x9")];
            prop_assert_eq!(outcome(&steps, &outsider, &ms), outcome(&steps, &[], &ms));
            let everyone: Vec<Decision> = ms.iter().map(|m| approve(m)).collect();
            prop_assert_eq!(outcome(&steps, &everyone, &ms), Outcome::Approved);
        }

        /// A budget's remainder is never negative and never more than the limit.
        #[test]
        fn budget_left_is_bounded(limit in 0i64..i64::MAX / 2, spent in -10i64..i64::MAX / 2) {
            let l = left(Money::from_raw(limit), Money::from_raw(spent));
            prop_assert!(l.raw() >= 0);
            prop_assert!(l.raw() <= limit.max(limit - spent));
        }
    }
}
