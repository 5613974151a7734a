//! Credit (DESIGN.md §3, the pipeline's credit step): an account's exposure is the value of its
//! open orders not yet invoiced plus its unpaid invoices; an order that would take the exposure past
//! the account's limit is held (`on_hold`) for finance to release or reject. Pure and exact.
//!
//! A limit of 0 means no limit is set (no check), and prepay accounts are never checked: they pay
//! before anything ships.

use super::money::Money;

/// What an account owes or has committed to owe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    /// Open orders (placed, confirmed, partly shipped, held) not yet invoiced.
    pub open_orders: Money,
    /// Invoices not yet paid (total less payments).
    pub unpaid_invoices: Money,
}

impl Exposure {
    pub fn total(self) -> Money {
        self.open_orders.checked_add(self.unpaid_invoices).unwrap_or(Money::from_raw(i64::MAX))
    }

    /// What is left under `limit` (never below zero).
    pub fn available(self, limit: Money) -> Money {
        limit.checked_sub(self.total()).filter(|m| !m.is_negative()).unwrap_or(Money::ZERO)
    }
}

/// The credit step's answer for one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditCheck {
    /// No check applies (prepay, or no limit set).
    NotChecked,
    Within,
    /// The order would take exposure past the limit.
    Over {
        limit: Money,
        exposure: Money,
        order: Money,
        available: Money,
    },
}

impl CreditCheck {
    /// Checks an order of value `order` against `limit` for an account with `exposure` (not
    /// counting this order) and `prepay` terms.
    pub fn of(limit: Money, exposure: Exposure, order: Money, prepay: bool) -> CreditCheck {
        if prepay || limit.is_zero() {
            return CreditCheck::NotChecked;
        }
        let after = exposure.total().checked_add(order).unwrap_or(Money::from_raw(i64::MAX));
        if after > limit {
            CreditCheck::Over { limit, exposure: exposure.total(), order, available: exposure.available(limit) }
        } else {
            CreditCheck::Within
        }
    }

    /// Why an order is held, with the figures, as buyers and finance read it.
    pub fn reason(self) -> Option<String> {
        match self {
            CreditCheck::Over { limit, exposure, order, available } => Some(format!(
                "Credit hold: this order (${}) is more than the available credit (${} of ${}; ${} already open or unpaid). Finance will review it.",
                order.format(),
                available.format(),
                limit.format(),
                exposure.format()
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn an_order_past_the_limit_is_held_with_the_figures() {
        let e = Exposure { open_orders: m("60000"), unpaid_invoices: m("25000") };
        assert_eq!(e.available(m("90000")), m("5000"));
        assert_eq!(CreditCheck::of(m("90000"), e, m("5000"), false), CreditCheck::Within, "exactly at the limit");
        let over = CreditCheck::of(m("90000"), e, m("303000"), false);
        assert!(matches!(over, CreditCheck::Over { .. }));
        assert_eq!(
            over.reason().unwrap(),
            "Credit hold: this order ($303,000.00) is more than the available credit ($5,000.00 of $90,000.00; $85,000.00 already open or unpaid). Finance will review it."
        );
        assert_eq!(CreditCheck::of(m("90000"), e, m("303000"), true), CreditCheck::NotChecked, "prepay");
        assert_eq!(CreditCheck::of(Money::ZERO, e, m("303000"), false), CreditCheck::NotChecked, "no limit set");
        let owing = Exposure { open_orders: m("0"), unpaid_invoices: m("95000") };
        assert_eq!(owing.available(m("90000")), Money::ZERO, "never negative");
    }

    proptest! {
        /// Held exactly when exposure plus the order exceeds a set limit on credit terms.
        #[test]
        fn held_iff_over(limit in 0i64..10_000_000, open in 0i64..10_000_000, unpaid in 0i64..10_000_000, order in 0i64..10_000_000, prepay: bool) {
            let cents = |c: i64| Money::from_raw(c * 100);
            let e = Exposure { open_orders: cents(open), unpaid_invoices: cents(unpaid) };
            let check = CreditCheck::of(cents(limit), e, cents(order), prepay);
            let expected_over = !prepay && limit > 0 && open + unpaid + order > limit;
            prop_assert_eq!(matches!(check, CreditCheck::Over { .. }), expected_over);
            prop_assert_eq!(e.available(cents(limit)), cents((limit - open - unpaid).max(0)));
        }
    }
}
