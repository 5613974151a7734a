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

/// What the credit step decided for an order that added `delta` to its account's exposure.
pub(super) async fn credit_step(
    tx: &mut Tx,
    account: &AccountRow,
    delta: i64,
    now: i64,
) -> ServiceResult<Vec<Diversion>> {
    let after =
        exposure::adjust(tx, &account.id, credit::Exposure { uninvoiced: delta, ..Default::default() }, now).await?;
    decide(tx, account, delta, after, now).await
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
    if let Some(days) = account.overdue_hold_days {
        let today = crate::service::catalog::today(now);
        let cutoff = today.checked_sub(time::Duration::days(days)).unwrap_or(today);
        let iso = crate::store::pricing::format_iso;
        if let Some((number, due_on)) = exposure::oldest_overdue(tx, &account.id, &iso(cutoff)).await? {
            let due = crate::store::pricing::parse_date(Some(&due_on)).unwrap_or(today);
            let overdue = (today - due).whole_days();
            out.push(Diversion { status: OrderStatus::OnHold, reason: credit::overdue_reason(&number, overdue, days) });
        }
    }
    Ok(out)
}

/// The exposure of an order's lines as written: (unit price, quantity, invoiced quantity).
pub(super) fn value_of(lines: &[crate::store::orders::OrderLineRow]) -> i64 {
    credit::order_uninvoiced(OrderStatus::Placed, lines.iter().map(|l| (l.unit_price, l.quantity, l.invoiced_qty)))
}
