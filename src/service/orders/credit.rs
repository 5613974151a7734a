//! The pipeline's credit step (DESIGN.md §3 "Credit"), inside the unit that writes an order: the
//! order's change in value not yet invoiced moves the account's running exposure
//! (`store::credit`), and an order that takes the account past its limit is held for finance —
//! or, on accounts set to `tell`, refused with the figures before it is placed. An account with
//! an invoice overdue past its allowance has its orders held too. Every channel passes here.

use crate::domain::credit::{self, OverLimit};
use crate::domain::money::Money;
use crate::domain::orders::{Diversion, LineIssue, OrderStatus};
use crate::service::{ServiceError, ServiceResult};
use crate::store::accounts::AccountRow;
use crate::store::{Tx, credit as exposure};

/// The credit step of a new order that adds `delta` to its account's exposure: what it decided,
/// and what is left to add to the exposure at the end of the unit ([`settle`]; 0: nothing).
///
/// Only a credit limit reads the exposure. An account with one moves it here, first: the row's
/// lock, held to commit, then serialises the account's concurrent placements, so two orders cannot
/// both pass on the last of the credit. An account without one has nothing to decide on it, so its
/// unit moves it last, and the lock no longer spans the placement (on PostgreSQL it made one
/// account's concurrent orders run one at a time).
pub(super) async fn credit_step(
    tx: &mut Tx,
    account: &AccountRow,
    delta: i64,
    now: i64,
) -> ServiceResult<(Vec<Diversion>, i64)> {
    if !credit::limit_applies(account.credit_limit()) {
        let held = if delta > 0 { overdue(tx, account, now).await? } else { None };
        return Ok((held.into_iter().collect(), delta));
    }
    let after =
        exposure::adjust(tx, &account.id, credit::Exposure { uninvoiced: delta, ..Default::default() }, now).await?;
    Ok((decide(tx, account, delta, after, now).await?, 0))
}

/// Adds what [`credit_step`] left (`delta`) to the account's exposure: the last write of the unit.
pub(super) async fn settle(tx: &mut Tx, account_id: &str, delta: i64, now: i64) -> ServiceResult<()> {
    if delta != 0 {
        exposure::adjust(tx, account_id, credit::Exposure { uninvoiced: delta, ..Default::default() }, now).await?;
    }
    Ok(())
}

/// The decision once the unit has moved the exposure by `delta` to `after`.
pub(super) async fn decide(
    tx: &mut Tx,
    account: &AccountRow,
    delta: i64,
    after: credit::Exposure,
    now: i64,
) -> ServiceResult<Vec<Diversion>> {
    let mut out = Vec::new();
    if delta <= 0 {
        return Ok(out);
    }
    let before = after.plus(credit::Exposure { uninvoiced: -delta, ..Default::default() });
    let verdict = credit::check(account.credit_limit(), before, delta);
    if let Some(reason) = verdict.reason() {
        if OverLimit::parse(&account.credit_over_limit) == OverLimit::Tell {
            let available = before.available(account.credit_limit()).unwrap_or(Money::ZERO);
            return Err(ServiceError::Blocked(vec![LineIssue::new(
                0,
                "",
                "credit_limit",
                format!("{reason} Available credit: ${available}. Lower the order, or ask us to raise the limit."),
            )]));
        }
        out.push(Diversion { status: OrderStatus::OnHold, reason });
    }
    out.extend(overdue(tx, account, now).await?);
    Ok(out)
}

/// The hold for an invoice overdue longer than the account allows, if it has one.
async fn overdue(tx: &mut Tx, account: &AccountRow, now: i64) -> ServiceResult<Option<Diversion>> {
    let Some(days) = account.overdue_hold_days else {
        return Ok(None);
    };
    let today = crate::service::catalog::today(now);
    let cutoff = today.checked_sub(time::Duration::days(days)).unwrap_or(today);
    let iso = crate::store::pricing::format_iso;
    let Some((number, due_on)) = exposure::oldest_overdue(tx, &account.id, &iso(cutoff)).await? else {
        return Ok(None);
    };
    let due = crate::store::pricing::parse_date(Some(&due_on)).unwrap_or(today);
    let overdue = (today - due).whole_days();
    Ok(Some(Diversion { status: OrderStatus::OnHold, reason: credit::overdue_reason(&number, overdue, days) }))
}

/// The exposure of an order's lines as written: (unit price, quantity, invoiced quantity).
pub(super) fn value_of(lines: &[crate::store::orders::OrderLineRow]) -> i64 {
    credit::order_uninvoiced(OrderStatus::Placed, lines.iter().map(|l| (l.unit_price, l.quantity, l.invoiced_qty)))
}
