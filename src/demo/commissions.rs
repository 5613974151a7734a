//! The demo's commissions (issue 18): one plan — 5 %, Medical at 6 %, customers' own portal orders
//! at 4.5 %, a 0.5 % bonus past $100,000 a month — assigned to every rep from a year back, before
//! the order history is seeded, so accruals follow from its invoices; then months before last are
//! approved and locked, as finance would have done.
//!
//! The hand-over split is on (60 days, 50 %), and one account changes hands during the history
//! (Keystone Fabrication, from Daniel Okafor to Tom Becker, a day before its second-last order):
//! the hand-over still runs, and the orders placed since are split — Daniel's statement shows
//! the “hand-over 50% to previous rep” lines, Tom's the “kept” ones.

use crate::domain::account::AccountDraft;
use crate::domain::auth::{Principal, StaffRole};
use crate::domain::commissions::{HandoverDraft, PlanDraft, StatementAction, previous_period};
use crate::service::{Actor, ServiceError, accounts, commissions};
use crate::store::Db;
use crate::store::users;

async fn admin(db: &Db) -> Result<Principal, ServiceError> {
    let staff = users::list_staff(db).await?;
    let u = staff
        .into_iter()
        .find(|u| u.staff_roles().contains(&StaffRole::Admin))
        .ok_or_else(|| ServiceError::Internal("demo has an admin".into()))?;
    Ok(Principal::staff(u.id.clone(), u.name.clone(), u.email.clone(), u.staff_roles()))
}

/// The plan and its assignments (before the order history).
pub(crate) async fn seed_plan(db: &Db, now: i64) -> Result<(), ServiceError> {
    let admin = admin(db).await?;
    let actor = Actor::cli(&admin);
    let year_ago = crate::service::catalog::today(now - 365 * 86_400);
    let from = format!("{:04}-{:02}-01", year_ago.year(), year_ago.month() as u8);
    let draft = PlanDraft {
        name: "Standard".into(),
        effective_from: from.clone(),
        default_rate: "5".into(),
        basis: "invoiced".into(),
        category_rates: "Medical = 6".into(),
        channel_rates: "portal = 4.5".into(),
        tiers: "100000 = 0.5".into(),
        ..Default::default()
    };
    let plan = commissions::save_plan(db, now, &actor, None, &draft).await?;
    for rep in users::list_reps(db).await? {
        commissions::assign_plan(db, now, &actor, &rep.id, &plan, &from, "").await?;
    }
    let split = HandoverDraft { days: HANDOVER_DAYS.into(), share: HANDOVER_SHARE.into() };
    commissions::set_handover_settings(db, now, &actor, &split).await?;
    Ok(())
}

/// The hand-over split's settings.
pub(crate) const HANDOVER_DAYS: &str = "60";
pub(crate) const HANDOVER_SHARE: &str = "50";
/// The account that changes hands during the history, and its new owning rep (by name).
pub(crate) const HANDED_OVER: (&str, &str) = ("Keystone Fabrication", "Tom Becker");

/// The account is given to `rep_id` at `at` (the admin's save on the account page): its previous
/// rep keeps the hand-over share of the orders placed in the next days.
pub(crate) async fn hand_over(db: &Db, at: i64, account_id: &str, rep_id: &str) -> Result<(), ServiceError> {
    let admin = admin(db).await?;
    let actor = Actor::cli(&admin);
    let a = accounts::get_account(db, &actor, account_id).await?;
    let draft = AccountDraft { owner_rep_id: Some(rep_id.to_string()), ..a.draft() };
    accounts::update_account(db, at, &actor, &a.id, a.version, &draft, a.group_id.as_deref()).await?;
    Ok(())
}

/// Approves and locks every rep's statements of the months before last (after the history).
pub(crate) async fn close_old_months(db: &Db, now: i64) -> Result<(), ServiceError> {
    let admin = admin(db).await?;
    let actor = Actor::cli(&admin);
    let last = previous_period(&commissions::this_period(now));
    let mut period = previous_period(&last);
    for _ in 0..8 {
        for rep in commissions::period_summary(db, &actor, &period).await? {
            commissions::act_on_statement(db, now, &actor, &rep.rep_id, &period, StatementAction::Approve).await?;
            commissions::act_on_statement(db, now, &actor, &rep.rep_id, &period, StatementAction::Lock).await?;
        }
        period = previous_period(&period);
    }
    Ok(())
}
