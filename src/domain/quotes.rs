//! Quotes (issue 14 §2): the states a quote goes through, who may move it, and the seller's
//! sign-off policy — a quoted price more than a set share below the account's normal price (or
//! below cost) waits for a sales manager. Pure: the service loads the facts and writes the result.
//!
//! ```text
//!  requested ─┐        (a buyer's request; a rep's or the desk's quote starts as draft)
//!  draft ─────┼─ send ─→ awaiting_signoff ─ sign off ─→ sent ─ accept ─→ accepted (an order)
//!             │              └─ refuse ─→ draft          ├── decline ─→ declined
//!             │                                          ├── past its expiry ─→ expired
//!             └─ withdraw ─→ withdrawn                   └── revise ─→ draft (revision + 1)
//! ```
//! A declined or expired quote can be revised too (the negotiation goes on); an accepted or
//! withdrawn one is over.

use super::money::Money;
use serde::Serialize;
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    /// The buyer asked; the seller has not sent a price yet.
    Requested,
    /// The seller is writing it.
    Draft,
    /// Sent by a rep with a discount past the threshold: a sales manager signs it off first.
    AwaitingSignoff,
    /// With the buyer, until its expiry date.
    Sent,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
}

impl QuoteStatus {
    pub const ALL: [QuoteStatus; 8] = [
        QuoteStatus::Requested,
        QuoteStatus::Draft,
        QuoteStatus::AwaitingSignoff,
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        QuoteStatus::Declined,
        QuoteStatus::Expired,
        QuoteStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Requested => "requested",
            QuoteStatus::Draft => "draft",
            QuoteStatus::AwaitingSignoff => "awaiting_signoff",
            QuoteStatus::Sent => "sent",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Declined => "declined",
            QuoteStatus::Expired => "expired",
            QuoteStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<QuoteStatus> {
        QuoteStatus::ALL.into_iter().find(|q| q.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            QuoteStatus::Requested => "Requested",
            QuoteStatus::Draft => "Being priced",
            QuoteStatus::AwaitingSignoff => "Awaiting sign-off",
            QuoteStatus::Sent => "Sent",
            QuoteStatus::Accepted => "Accepted",
            QuoteStatus::Declined => "Declined",
            QuoteStatus::Expired => "Expired",
            QuoteStatus::Withdrawn => "Withdrawn",
        }
    }

    /// What the buyer reads: until it is sent, the quote is with the seller.
    pub fn buyer_label(self) -> &'static str {
        match self {
            QuoteStatus::Requested | QuoteStatus::Draft | QuoteStatus::AwaitingSignoff => "With the seller",
            QuoteStatus::Sent => "Ready to accept",
            s => s.label(),
        }
    }

    /// Still with the seller: lines and prices can change.
    pub fn is_editable(self) -> bool {
        matches!(self, QuoteStatus::Requested | QuoteStatus::Draft)
    }

    /// Over: nothing more happens to it (a declined or expired quote can still be revised).
    pub fn is_closed(self) -> bool {
        matches!(self, QuoteStatus::Accepted | QuoteStatus::Withdrawn)
    }

    /// The status as of `today`: a sent quote past its last day is expired, whether or not the
    /// sweep has written it yet.
    pub fn as_of(self, expires_on: Option<Date>, today: Date) -> QuoteStatus {
        match (self, expires_on) {
            (QuoteStatus::Sent, Some(last)) if today > last => QuoteStatus::Expired,
            (s, _) => s,
        }
    }

    pub fn can(self, action: Action) -> bool {
        use QuoteStatus::*;
        match action {
            Action::Price => self.is_editable(),
            Action::Send => self.is_editable(),
            Action::SignOff => self == AwaitingSignoff,
            Action::Accept | Action::Decline => self == Sent,
            Action::Revise => matches!(self, AwaitingSignoff | Sent | Declined | Expired),
            Action::Withdraw => matches!(self, Requested | Draft | AwaitingSignoff | Sent),
            Action::Message => !self.is_closed(),
        }
    }
}

/// What someone does to a quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Price,
    Send,
    SignOff,
    Accept,
    Decline,
    Revise,
    Withdraw,
    Message,
}

/// The seller's quoting policy (admin setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A line priced more than this many basis points below the account's normal price needs a
    /// sales manager's sign-off (1500 = 15 %).
    pub signoff_discount_bp: i64,
    /// Days a sent quote is valid unless the sender picks a date.
    pub valid_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { signoff_discount_bp: 1500, valid_days: 30 }
    }
}

/// The most a quote may be valid for.
pub const MAX_VALID_DAYS: i64 = 365;

/// The price facts of one quote line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: Money,
    /// The account's normal unit price at this quantity (`None`: it has none).
    pub normal_price: Option<Money>,
    pub cost: Option<Money>,
}

impl PricedLine {
    /// How far below the normal price, in basis points (negative: above it), rounded toward zero.
    /// `None` without a normal price (or a zero one).
    pub fn discount_bp(&self) -> Option<i64> {
        let normal = self.normal_price?.raw() as i128;
        if normal <= 0 {
            return None;
        }
        let off = normal - self.unit_price.raw() as i128;
        i64::try_from(off * 10_000 / normal).ok()
    }

    /// Margin on the quoted price in basis points of that price (negative: below cost), rounded
    /// toward zero. `None` without a cost or for a free line.
    pub fn margin_bp(&self) -> Option<i64> {
        let cost = self.cost?.raw() as i128;
        let price = self.unit_price.raw() as i128;
        if price <= 0 {
            return None;
        }
        i64::try_from((price - cost) * 10_000 / price).ok()
    }

    /// Exactly whether the discount passes the threshold: (normal − price) / normal > bp / 10,000,
    /// compared in integers so 15.00 % is not past a 15 % threshold.
    pub fn past_threshold(&self, threshold_bp: i64) -> bool {
        match self.normal_price {
            Some(normal) if normal.raw() > 0 => {
                let off = normal.raw() as i128 - self.unit_price.raw() as i128;
                off * 10_000 > threshold_bp as i128 * normal.raw() as i128
            }
            _ => false,
        }
    }

    pub fn below_cost(&self) -> bool {
        self.cost.is_some_and(|c| self.unit_price < c)
    }

    /// The line total: unit price × quantity, rounded to cents (the one rounding rule).
    pub fn total(&self) -> Option<Money> {
        self.unit_price.checked_mul_qty(self.quantity).map(Money::round_to_cents)
    }
}

/// A percentage in basis points as people read it: "12.5 %", "-3 %".
pub fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let abs = bp.unsigned_abs();
    let (whole, frac) = (abs / 100, abs % 100);
    if frac == 0 {
        format!("{sign}{whole} %")
    } else if frac % 10 == 0 {
        format!("{sign}{whole}.{} %", frac / 10)
    } else {
        format!("{sign}{whole}.{frac:02} %")
    }
}

/// Why a quote needs a sales manager's sign-off before it goes out, one reason per line that
/// needs it (empty: it can be sent).
pub fn signoff_reasons(lines: &[PricedLine], policy: Policy) -> Vec<String> {
    let mut reasons = Vec::new();
    for l in lines {
        if l.below_cost() {
            let cost = l.cost.map(|c| c.format()).unwrap_or_default();
            reasons.push(format!(
                "Line {} ({}): ${} is below cost (${cost}).",
                l.line_no,
                l.sku,
                l.unit_price.format()
            ));
        } else if l.past_threshold(policy.signoff_discount_bp) {
            reasons.push(format!(
                "Line {} ({}): {} below the account's price (${}); more than {} needs sign-off.",
                l.line_no,
                l.sku,
                percent(l.discount_bp().unwrap_or(0)),
                l.normal_price.map(|p| p.format()).unwrap_or_default(),
                percent(policy.signoff_discount_bp)
            ));
        }
    }
    reasons
}

/// The expiry a sender may set: from today to [`MAX_VALID_DAYS`] ahead.
pub fn check_expiry(expires_on: Date, today: Date) -> Result<(), String> {
    if expires_on < today {
        return Err("The expiry date is in the past.".into());
    }
    if (expires_on - today).whole_days() > MAX_VALID_DAYS {
        return Err(format!("A quote may be valid for at most {MAX_VALID_DAYS} days."));
    }
    Ok(())
}

/// Which of the offered lines the buyer accepts: at least one, each one of the quote's, no repeats.
pub fn check_acceptance(offered: &[i64], chosen: &[i64]) -> Result<Vec<i64>, String> {
    if chosen.is_empty() {
        return Err("Choose at least one line to accept.".into());
    }
    let mut out = Vec::with_capacity(chosen.len());
    for n in chosen {
        if !offered.contains(n) {
            return Err(format!("Line {n} is not a line of this quote."));
        }
        if !out.contains(n) {
            out.push(*n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn line(price: i64, normal: Option<i64>, cost: Option<i64>) -> PricedLine {
        PricedLine {
            line_no: 1,
            sku: "A-1".into(),
            quantity: 3,
            unit_price: Money::from_raw(price),
            normal_price: normal.map(Money::from_raw),
            cost: cost.map(Money::from_raw),
        }
    }

    #[test]
    fn the_threshold_itself_is_not_past_it() {
        let policy = Policy { signoff_discount_bp: 1500, valid_days: 30 };
        // 85.00 against 100.00 is exactly 15 % off: no sign-off; 84.99 is past it.
        assert!(signoff_reasons(&[line(850_000, Some(1_000_000), None)], policy).is_empty());
        let r = signoff_reasons(&[line(849_900, Some(1_000_000), None)], policy);
        assert_eq!(r.len(), 1);
        assert!(r[0].contains("15.01 % below"), "{r:?}");
    }

    #[test]
    fn below_cost_needs_signoff_whatever_the_discount() {
        let policy = Policy::default();
        let r = signoff_reasons(&[line(90_000, Some(95_000), Some(100_000))], policy);
        assert_eq!(r, vec!["Line 1 (A-1): $9.00 is below cost ($10.00).".to_string()]);
        assert_eq!(line(90_000, Some(95_000), Some(100_000)).margin_bp(), Some(-1111));
    }

    #[test]
    fn expired_only_after_the_last_day() {
        let last = date!(2026 - 12 - 31);
        assert_eq!(QuoteStatus::Sent.as_of(Some(last), last), QuoteStatus::Sent);
        assert_eq!(QuoteStatus::Sent.as_of(Some(last), date!(2027 - 01 - 01)), QuoteStatus::Expired);
        assert_eq!(QuoteStatus::Draft.as_of(Some(last), date!(2027 - 01 - 01)), QuoteStatus::Draft);
    }

    #[test]
    fn acceptance_names_lines_of_the_quote() {
        assert_eq!(check_acceptance(&[1, 2, 3], &[3, 1, 3]), Ok(vec![1, 3]));
        assert!(check_acceptance(&[1, 2], &[]).is_err());
        assert_eq!(check_acceptance(&[1, 2], &[4]), Err("Line 4 is not a line of this quote.".into()));
    }

    #[test]
    fn percentages_read_naturally() {
        assert_eq!(percent(1500), "15 %");
        assert_eq!(percent(1250), "12.5 %");
        assert_eq!(percent(1501), "15.01 %");
        assert_eq!(percent(-300), "-3 %");
    }

    proptest! {
        /// Sign-off is needed exactly when some line is past the threshold or below cost, and the
        /// integer comparison agrees with exact rational arithmetic.
        #[test]
        fn signoff_iff_a_line_is_past_the_threshold(
            lines in proptest::collection::vec((0i64..10_000_000, proptest::option::of(1i64..10_000_000), proptest::option::of(0i64..10_000_000)), 1..8),
            threshold in 0i64..10_000,
        ) {
            let lines: Vec<PricedLine> = lines.into_iter().enumerate().map(|(i, (p, n, c))| PricedLine { line_no: i as i64 + 1, ..line(p, n, c) }).collect();
            let policy = Policy { signoff_discount_bp: threshold, valid_days: 30 };
            let expected = lines.iter().filter(|l| {
                let below_cost = l.cost.is_some_and(|c| l.unit_price < c);
                let past = l.normal_price.is_some_and(|n| {
                    let exact = rust_decimal::Decimal::from(n.raw() - l.unit_price.raw()) / rust_decimal::Decimal::from(n.raw());
                    exact > rust_decimal::Decimal::new(threshold, 4)
                });
                below_cost || past
            }).count();
            prop_assert_eq!(signoff_reasons(&lines, policy).len(), expected);
        }

        /// Only a sent quote can be accepted, and then only until its last day.
        #[test]
        fn accept_only_when_sent_and_current(i in 0usize..8, days in -5i64..5) {
            let today = date!(2027 - 03 - 10);
            let last = today + time::Duration::days(days);
            let s = QuoteStatus::ALL[i].as_of(Some(last), today);
            prop_assert_eq!(s.can(Action::Accept), QuoteStatus::ALL[i] == QuoteStatus::Sent && days >= 0);
        }
    }
}
