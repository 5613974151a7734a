//! Credit (DESIGN.md §3 "Credit"): an account's exposure, and what the placement pipeline does
//! with an order that would take it past its limit. Pure: the store keeps the exposure's parts
//! current (`store::credit`), the service decides with [`check`].
//!
//! **Exposure** = open orders' value not yet invoiced (net of tax) + invoices not yet paid −
//! payments and credit notes not yet applied. "Open" is every order status but draft, waiting for
//! approval or with the rep (escalated), cancelled and closed: an order held for credit counts (finance decides on it with it counted), a
//! cancelled or closed one no longer can be billed. A limit of 0 means no limit.

use super::money::Money;
use super::orders::OrderStatus;

/// The three running parts of an account's exposure (ten-thousandths, like [`Money`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exposure {
    pub uninvoiced: i64,
    pub receivable: i64,
    pub credits: i64,
}

impl Exposure {
    /// What the account owes or has ordered and not paid for.
    pub fn total(&self) -> Money {
        Money::from_raw(self.uninvoiced.saturating_add(self.receivable).saturating_sub(self.credits))
    }

    /// Credit still available under `limit` (never below zero); `None` when there is no limit.
    pub fn available(&self, limit: Money) -> Option<Money> {
        (limit.raw() > 0).then(|| Money::from_raw((limit.raw().saturating_sub(self.total().raw())).max(0)))
    }

    pub fn plus(self, d: Exposure) -> Exposure {
        Exposure {
            uninvoiced: self.uninvoiced.saturating_add(d.uninvoiced),
            receivable: self.receivable.saturating_add(d.receivable),
            credits: self.credits.saturating_add(d.credits),
        }
    }
}

/// The value of one order line not yet invoiced: the units not invoiced at the line's unit price,
/// rounded to cents (so a line invoiced in full counts nothing, and one never invoiced counts its
/// line total).
pub fn line_uninvoiced(unit_price: i64, quantity: i64, invoiced_qty: i64) -> i64 {
    let rest = quantity.saturating_sub(invoiced_qty);
    if rest <= 0 {
        return 0;
    }
    Money::from_raw(unit_price).checked_mul_qty(rest).map(|m| m.round_to_cents().raw()).unwrap_or(i64::MAX)
}

/// Whether an order in `status` still counts towards exposure. An order waiting for the buyer's
/// approval or with the rep does not yet: approval or the rep takes it through the credit step.
pub fn counts(status: OrderStatus) -> bool {
    !matches!(status, OrderStatus::Draft | OrderStatus::PendingApproval | OrderStatus::Cancelled | OrderStatus::Closed)
}

/// An order's value not yet invoiced, from its status and its lines' (unit price, quantity,
/// invoiced quantity).
pub fn order_uninvoiced(status: OrderStatus, lines: impl IntoIterator<Item = (i64, i64, i64)>) -> i64 {
    if !counts(status) {
        return 0;
    }
    lines.into_iter().fold(0i64, |acc, (p, q, i)| acc.saturating_add(line_uninvoiced(p, q, i)))
}

/// What a document — an invoice (receivable) or a credit note (a credit) — counts towards exposure
/// from its status, total and paid (applied) amount: its open balance while it is `open`, nothing
/// once `paid` in full or `void` (as `store::credit`'s query over the records counts it).
pub fn open_balance(status: &str, total: i64, paid: i64) -> i64 {
    if status == "open" { total.saturating_sub(paid) } else { 0 }
}

/// How much taking `amount` of what was applied to (or from) a document off it moves what the
/// document counts: it is open again by that amount (a fully paid one reopens; a void one stays
/// void and counts nothing).
pub fn reopened(status: &str, total: i64, paid: i64, amount: i64) -> i64 {
    let paid_after = paid.saturating_sub(amount);
    let status_after = match status {
        "void" => "void",
        _ if paid_after >= total => "paid",
        _ => "open",
    };
    open_balance(status_after, total, paid_after) - open_balance(status, total, paid)
}

/// What an account does with an order that would take it past its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverLimit {
    /// Place it `on_hold` for finance to release or reject.
    Hold,
    /// Tell the buyer before placing: the order is refused with the figures.
    Tell,
}

impl OverLimit {
    pub fn parse(s: &str) -> OverLimit {
        if s == "tell" { OverLimit::Tell } else { OverLimit::Hold }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OverLimit::Hold => "hold",
            OverLimit::Tell => "tell",
        }
    }
}

/// The credit check's answer for an order of `order_value` (its uninvoiced value) on an account
/// whose exposure without it is `before`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditVerdict {
    Within,
    /// Over the limit: (exposure with the order, limit, by how much).
    Over {
        with_order: Money,
        limit: Money,
        excess: Money,
    },
}

/// Whether an account's credit limit is one (0 or less: the account has none).
pub fn limit_applies(limit: Money) -> bool {
    limit.raw() > 0
}

/// Whether an order keeps the account within its limit (a limit of 0 means none). An order that
/// adds nothing (an amendment that lowers the value) is never stopped by credit.
pub fn check(limit: Money, before: Exposure, order_value: i64) -> CreditVerdict {
    if !limit_applies(limit) || order_value <= 0 {
        return CreditVerdict::Within;
    }
    let with_order = before.plus(Exposure { uninvoiced: order_value, ..Exposure::default() }).total();
    if with_order.raw() <= limit.raw() {
        return CreditVerdict::Within;
    }
    CreditVerdict::Over { with_order, limit, excess: Money::from_raw(with_order.raw() - limit.raw()) }
}

impl CreditVerdict {
    /// The reason a held or refused order names: the figures finance and the buyer need.
    pub fn reason(&self) -> Option<String> {
        match self {
            CreditVerdict::Within => None,
            CreditVerdict::Over { with_order, limit, excess } => Some(format!(
                "Over the credit limit: with this order the account would owe ${with_order} against a limit of ${limit} (${excess} over)."
            )),
        }
    }
}

/// The longest overdue allowance an account may have (ten years, in days).
pub const MAX_OVERDUE_DAYS: i64 = 3_650;

/// Finance's settings of an account beyond its terms and limit: how terms count, what happens past
/// the limit, when overdue invoices hold orders, and its sales-tax exemption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditSettings {
    /// Terms count from the end of the invoice's month ("EOM + N").
    pub terms_from_month_end: bool,
    pub over_limit: OverLimit,
    /// Hold new orders while an invoice is overdue by more than this many days (`None`: never).
    pub overdue_hold_days: Option<i64>,
    /// The exemption certificate's number ("" when the account pays tax).
    pub tax_exempt_certificate: String,
    /// The last day the certificate is valid (`None`: no expiry).
    pub tax_exempt_until: Option<time::Date>,
}

impl CreditSettings {
    /// Every problem, as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(d) = self.overdue_hold_days
            && !(0..=MAX_OVERDUE_DAYS).contains(&d)
        {
            out.push((
                "overdue_hold_days".into(),
                format!("Hold after: {d} days is not possible; use 0 to {MAX_OVERDUE_DAYS} days, or leave it empty for never."),
            ));
        }
        let cert = self.tax_exempt_certificate.trim();
        if cert.chars().count() > 100 {
            out.push(("tax_exempt_certificate".into(), "Exemption certificate: at most 100 characters.".into()));
        }
        if cert.is_empty() && self.tax_exempt_until.is_some() {
            out.push((
                "tax_exempt_certificate".into(),
                "Exemption certificate: give the certificate's number for the date it is valid to.".into(),
            ));
        }
        out
    }
}

/// The reason an order is held while an invoice is overdue past the account's allowance.
pub fn overdue_reason(invoice_number: &str, days_overdue: i64, allowed: i64) -> String {
    format!(
        "Invoice {invoice_number} is {days_overdue} days overdue (orders are held past {allowed} days); finance will release the order."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(units: i64) -> Money {
        Money::from_units(units).unwrap()
    }

    #[test]
    fn exposure_is_uninvoiced_plus_receivable_less_credits() {
        let e = Exposure { uninvoiced: m(300).raw(), receivable: m(500).raw(), credits: m(100).raw() };
        assert_eq!(e.total(), m(700));
        assert_eq!(e.available(m(1_000)), Some(m(300)));
        assert_eq!(e.available(m(600)), Some(Money::ZERO), "never below zero");
        assert_eq!(e.available(Money::ZERO), None, "0 = no limit");
    }

    #[test]
    fn over_the_limit_names_the_figures() {
        let before = Exposure { uninvoiced: m(80_000).raw(), ..Default::default() };
        assert_eq!(check(m(90_000), before, m(5_000).raw()), CreditVerdict::Within);
        let v = check(m(90_000), before, m(303_000).raw());
        assert_eq!(v, CreditVerdict::Over { with_order: m(383_000), limit: m(90_000), excess: m(293_000) });
        let reason = v.reason().unwrap();
        assert!(
            reason.contains("$383,000.00") && reason.contains("$90,000.00") && reason.contains("$293,000.00"),
            "{reason}"
        );
        assert_eq!(check(Money::ZERO, before, m(1_000_000).raw()), CreditVerdict::Within, "no limit");
        assert_eq!(check(m(1), before, -5), CreditVerdict::Within, "a lower amendment is never stopped");
    }

    #[test]
    fn settings_name_each_bad_field() {
        let ok = CreditSettings {
            terms_from_month_end: true,
            over_limit: OverLimit::Tell,
            overdue_hold_days: Some(30),
            tax_exempt_certificate: "EX-1".into(),
            tax_exempt_until: None,
        };
        assert!(ok.problems().is_empty());
        let bad = CreditSettings {
            overdue_hold_days: Some(-1),
            tax_exempt_certificate: " ".into(),
            tax_exempt_until: Some(time::macros::date!(2027 - 01 - 01)),
            ..ok
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(fields, vec!["overdue_hold_days", "tax_exempt_certificate"]);
    }

    #[test]
    fn closed_and_cancelled_orders_count_nothing() {
        let lines = [(m(3).raw(), 10, 0), (Money::from_raw(12_345).raw(), 3, 1)];
        assert_eq!(order_uninvoiced(OrderStatus::Placed, lines), m(30).raw() + 24_700);
        assert_eq!(order_uninvoiced(OrderStatus::OnHold, lines), m(30).raw() + 24_700, "held orders count");
        for s in [OrderStatus::Cancelled, OrderStatus::Closed, OrderStatus::Draft] {
            assert_eq!(order_uninvoiced(s, lines), 0);
        }
    }

    #[test]
    fn taking_an_application_off_reopens_the_document_by_its_amount() {
        // Paid in full: open again by the amount taken off.
        assert_eq!(reopened("paid", 500, 500, 200), 200);
        // Open in part: its balance grows by the amount.
        assert_eq!(reopened("open", 500, 300, 100), 100);
        // A void document counts nothing before or after.
        assert_eq!(reopened("void", 500, 300, 100), 0);
        assert_eq!(open_balance("paid", 500, 500), 0);
    }

    proptest! {
        #[test]
        fn reopening_moves_the_balance_by_exactly_the_amount(total in 1i64..1_000_000_000, paid_part in 0i64..=100, amount_part in 1i64..=100) {
            let paid = total * paid_part / 100;
            let amount = (paid * amount_part / 100).max(1).min(paid.max(1));
            prop_assume!(amount <= paid);
            let status = if paid >= total { "paid" } else { "open" };
            prop_assert_eq!(reopened(status, total, paid, amount), amount);
        }
    }

    proptest! {
        /// However a line is invoiced in parts, what is left counts exactly the line total at the
        /// start and exactly nothing at the end; it never grows as more is invoiced.
        #[test]
        fn uninvoiced_falls_from_the_line_total_to_zero(unit in 0i64..10_000_000, qty in 1i64..10_000, parts in proptest::collection::vec(1i64..500, 1..8)) {
            let total = Money::from_raw(unit).checked_mul_qty(qty).unwrap().round_to_cents().raw();
            prop_assert_eq!(line_uninvoiced(unit, qty, 0), total);
            let mut invoiced = 0;
            let mut last = total;
            for p in parts {
                invoiced = (invoiced + p).min(qty);
                let now = line_uninvoiced(unit, qty, invoiced);
                prop_assert!(now <= last && now >= 0);
                last = now;
            }
            prop_assert_eq!(line_uninvoiced(unit, qty, qty), 0);
        }

        /// The check holds an order exactly when the exposure with it is above the limit.
        #[test]
        fn the_check_compares_exposure_with_the_limit(limit in 1i64..1_000_000_000, u in 0i64..1_000_000_000, r in 0i64..1_000_000_000, c in 0i64..1_000_000_000, v in 1i64..1_000_000_000) {
            let before = Exposure { uninvoiced: u, receivable: r, credits: c };
            let over = u + r - c + v > limit;
            prop_assert_eq!(matches!(check(Money::from_raw(limit), before, v), CreditVerdict::Over { .. }), over);
        }
    }
}
