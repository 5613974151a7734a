//! Aging (DESIGN.md §3 "Statement"; issue 15 §5): what an account owes, by how long it is past
//! due on a given day. Pure: the store sums open amounts per bucket in SQL with the boundaries
//! [`Bounds::on`] gives, so the page and this module can never disagree on a boundary day.
//!
//! Buckets by days past due (as-of date − due date): **current** (0 or fewer: not yet due, or due
//! today), **1–30**, **31–60**, **61–90**, **90+** (91 and more). An open amount is an invoice's
//! total less what has been applied to it. Unapplied credits — payments and credit notes not yet
//! applied to an invoice — are not aged: they are shown beside the buckets and netted into the
//! balance (balance = Σ buckets − credits).

use super::money::Money;
use time::{Date, Duration};

/// An aging bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl Bucket {
    pub const ALL: [Bucket; 5] =
        [Bucket::Current, Bucket::Days1To30, Bucket::Days31To60, Bucket::Days61To90, Bucket::Over90];

    /// The bucket of an amount `days` past due (negative: not yet due).
    pub fn of_days(days: i64) -> Bucket {
        match days {
            ..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::Over90,
        }
    }

    /// The bucket of an amount due on `due` on the day `as_of`.
    pub fn of(due: Date, as_of: Date) -> Bucket {
        Bucket::of_days(days_past_due(due, as_of))
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::Current => "Current",
            Bucket::Days1To30 => "1–30 days",
            Bucket::Days31To60 => "31–60 days",
            Bucket::Days61To90 => "61–90 days",
            Bucket::Over90 => "90+ days",
        }
    }

    /// The name in CSV headers and the API.
    pub fn key(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "days_1_30",
            Bucket::Days31To60 => "days_31_60",
            Bucket::Days61To90 => "days_61_90",
            Bucket::Over90 => "days_over_90",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Days from `due` to `as_of`: positive when past due.
pub fn days_past_due(due: Date, as_of: Date) -> i64 {
    (as_of - due).whole_days()
}

/// The due dates that separate the buckets on a day, for SQL over ISO dates (which compare as
/// text): an amount is current when due on or after `current_from`, 1–30 when due on or after
/// `d30_from` (and before `current_from`), and so on; 90+ when due before `d90_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub current_from: Date,
    pub d30_from: Date,
    pub d60_from: Date,
    pub d90_from: Date,
}

impl Bounds {
    pub fn on(as_of: Date) -> Bounds {
        let back = |days| as_of.checked_sub(Duration::days(days)).unwrap_or(Date::MIN);
        Bounds { current_from: as_of, d30_from: back(30), d60_from: back(60), d90_from: back(90) }
    }

    /// The bucket of a due date by these boundaries (what the SQL computes).
    pub fn bucket(&self, due: Date) -> Bucket {
        if due >= self.current_from {
            Bucket::Current
        } else if due >= self.d30_from {
            Bucket::Days1To30
        } else if due >= self.d60_from {
            Bucket::Days31To60
        } else if due >= self.d90_from {
            Bucket::Days61To90
        } else {
            Bucket::Over90
        }
    }
}

/// Amounts per bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Buckets([Money; 5]);

impl Buckets {
    pub fn from_amounts(amounts: [Money; 5]) -> Buckets {
        Buckets(amounts)
    }

    pub fn get(&self, b: Bucket) -> Money {
        self.0[b.index()]
    }

    /// Adds `amount` to bucket `b`; `None` on overflow.
    pub fn add(&mut self, b: Bucket, amount: Money) -> Option<()> {
        self.0[b.index()] = self.0[b.index()].checked_add(amount)?;
        Some(())
    }

    pub fn total(&self) -> Option<Money> {
        Money::sum(self.0)
    }

    /// The amounts in bucket order (current first).
    pub fn amounts(&self) -> [Money; 5] {
        self.0
    }

    /// Bucket-wise sum; `None` on overflow.
    pub fn plus(&self, other: &Buckets) -> Option<Buckets> {
        let mut out = *self;
        for b in Bucket::ALL {
            out.add(b, other.get(b))?;
        }
        Some(out)
    }
}

/// One open amount: an invoice's unpaid part and its due date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenItem {
    pub due_on: Date,
    pub open: Money,
}

/// An account's aging: its open invoices by bucket, its unapplied credits and its net balance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountAging {
    pub buckets: Buckets,
    /// Payments and credit notes not yet applied (a positive amount the account is owed back).
    pub credits: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the amounts are too large to add up")]
pub struct Overflow;

impl AccountAging {
    /// Ages `items` on `as_of`; every item lands in exactly one bucket.
    pub fn of(items: &[OpenItem], credits: Money, as_of: Date) -> Result<AccountAging, Overflow> {
        let mut buckets = Buckets::default();
        for i in items {
            buckets.add(Bucket::of(i.due_on, as_of), i.open).ok_or(Overflow)?;
        }
        Ok(AccountAging { buckets, credits })
    }

    /// What the open invoices add up to.
    pub fn open_total(&self) -> Money {
        self.buckets.total().unwrap_or(Money::from_raw(i64::MAX))
    }

    /// What is past due (every bucket but current).
    pub fn overdue(&self) -> Money {
        self.open_total().checked_sub(self.buckets.get(Bucket::Current)).unwrap_or(Money::ZERO)
    }

    /// Open invoices less unapplied credits: what the account owes (negative: it is owed).
    pub fn balance(&self) -> Money {
        self.open_total().checked_sub(self.credits).unwrap_or(Money::from_raw(i64::MIN))
    }

    pub fn plus(&self, other: &AccountAging) -> Result<AccountAging, Overflow> {
        Ok(AccountAging {
            buckets: self.buckets.plus(&other.buckets).ok_or(Overflow)?,
            credits: self.credits.checked_add(other.credits).ok_or(Overflow)?,
        })
    }
}

/// One row of the receivables aging across accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgingRow {
    pub account_id: String,
    pub account_number: String,
    pub account_name: String,
    pub rep_name: Option<String>,
    pub aging: AccountAging,
}

/// The order of the aging report: most over 90 days first, then the largest open total, then
/// by account number (so the order is total and a cursor can resume after any row).
pub fn report_order(a: &AgingRow, b: &AgingRow) -> std::cmp::Ordering {
    b.aging
        .buckets
        .get(Bucket::Over90)
        .cmp(&a.aging.buckets.get(Bucket::Over90))
        .then(b.aging.open_total().cmp(&a.aging.open_total()))
        .then(a.account_number.cmp(&b.account_number))
}

/// Whether `row` comes after the row whose sort key is `after` in [`report_order`].
pub fn is_after(row: &AgingRow, after: &ReportKey) -> bool {
    let key = ReportKey::of(row);
    (std::cmp::Reverse(key.over90), std::cmp::Reverse(key.total), &key.account_number)
        > (std::cmp::Reverse(after.over90), std::cmp::Reverse(after.total), &after.account_number)
}

/// A row's place in the report: its 90+ amount, its open total, its account number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportKey {
    pub over90: Money,
    pub total: Money,
    pub account_number: String,
}

impl ReportKey {
    pub fn of(row: &AgingRow) -> ReportKey {
        ReportKey {
            over90: row.aging.buckets.get(Bucket::Over90),
            total: row.aging.open_total(),
            account_number: row.account_number.clone(),
        }
    }
}

/// The report: rows in [`report_order`] and the totals over all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgingReport {
    pub rows: Vec<AgingRow>,
    pub totals: AccountAging,
}

impl AgingReport {
    pub fn of(mut rows: Vec<AgingRow>) -> Result<AgingReport, Overflow> {
        let mut totals = AccountAging::default();
        for r in &rows {
            totals = totals.plus(&r.aging)?;
        }
        rows.sort_by(report_order);
        Ok(AgingReport { rows, totals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn boundary_days_fall_in_the_named_buckets() {
        let as_of = date!(2026 - 06 - 30);
        let cases = [
            (-5, Bucket::Current),
            (0, Bucket::Current),
            (1, Bucket::Days1To30),
            (30, Bucket::Days1To30),
            (31, Bucket::Days31To60),
            (60, Bucket::Days31To60),
            (61, Bucket::Days61To90),
            (90, Bucket::Days61To90),
            (91, Bucket::Over90),
            (400, Bucket::Over90),
        ];
        let bounds = Bounds::on(as_of);
        for (days, want) in cases {
            let due = as_of - Duration::days(days);
            assert_eq!(days_past_due(due, as_of), days);
            assert_eq!(Bucket::of(due, as_of), want, "{days} days");
            assert_eq!(bounds.bucket(due), want, "bounds, {days} days");
        }
    }

    #[test]
    fn an_account_owes_its_open_invoices_less_its_credits() {
        let as_of = date!(2026 - 03 - 31);
        let items = [
            OpenItem { due_on: date!(2026 - 04 - 15), open: m("100.00") },
            OpenItem { due_on: date!(2026 - 03 - 01), open: m("25.50") },
            OpenItem { due_on: date!(2025 - 12 - 01), open: m("0.01") },
        ];
        let a = AccountAging::of(&items, m("40.00"), as_of).unwrap();
        assert_eq!(a.buckets.amounts(), [m("100.00"), m("25.50"), Money::ZERO, Money::ZERO, m("0.01")]);
        assert_eq!(a.open_total(), m("125.51"));
        assert_eq!(a.overdue(), m("25.51"));
        assert_eq!(a.balance(), m("85.51"));
    }

    #[test]
    fn the_report_puts_the_oldest_debt_first_and_totals_every_row() {
        let row = |n: &str, cur: &str, over: &str| AgingRow {
            account_id: n.into(),
            account_number: n.into(),
            account_name: n.into(),
            rep_name: None,
            aging: AccountAging {
                buckets: Buckets::from_amounts([m(cur), Money::ZERO, Money::ZERO, Money::ZERO, m(over)]),
                credits: m("1.00"),
            },
        };
        let r = AgingReport::of(vec![row("A-1", "500", "0"), row("A-2", "1", "10"), row("A-3", "9", "10")]).unwrap();
        let order: Vec<&str> = r.rows.iter().map(|r| r.account_number.as_str()).collect();
        assert_eq!(order, ["A-3", "A-2", "A-1"]);
        assert_eq!(r.totals.open_total(), m("530.00"));
        assert_eq!(r.totals.credits, m("3.00"));
        assert!(is_after(&r.rows[1], &ReportKey::of(&r.rows[0])));
        assert!(!is_after(&r.rows[0], &ReportKey::of(&r.rows[1])));
    }

    fn item() -> impl Strategy<Value = (i64, i64)> {
        (-400i64..400, 1i64..100_000_000_000)
    }

    proptest! {
        /// Each amount is in exactly one bucket, the buckets add up to the open total, and the SQL
        /// boundaries agree with the day count on every day.
        #[test]
        fn buckets_partition_the_open_amounts(items in proptest::collection::vec(item(), 0..40), credits in 0i64..1_000_000_000) {
            let as_of = date!(2026 - 02 - 28);
            let bounds = Bounds::on(as_of);
            let open: Vec<OpenItem> = items.iter().map(|(d, raw)| OpenItem { due_on: as_of - Duration::days(*d), open: Money::from_raw(*raw) }).collect();
            let a = AccountAging::of(&open, Money::from_raw(credits), as_of).unwrap();
            let sum: i64 = items.iter().map(|(_, raw)| raw).sum();
            prop_assert_eq!(a.open_total().raw(), sum);
            prop_assert_eq!(a.balance().raw(), sum - credits);
            for b in Bucket::ALL {
                let in_b: i64 = open.iter().filter(|i| Bucket::of(i.due_on, as_of) == b).map(|i| i.open.raw()).sum();
                prop_assert_eq!(a.buckets.get(b).raw(), in_b);
            }
            for i in &open {
                let hits = Bucket::ALL.iter().filter(|b| Bucket::of(i.due_on, as_of) == **b).count();
                prop_assert_eq!(hits, 1);
                prop_assert_eq!(bounds.bucket(i.due_on), Bucket::of(i.due_on, as_of));
            }
        }

        /// The report's totals are the sum of its rows, bucket by bucket, whatever the order.
        #[test]
        fn report_totals_are_the_sum_of_rows(rows in proptest::collection::vec((proptest::array::uniform5(0i64..1_000_000_000), 0i64..1_000_000), 0..30)) {
            let rows: Vec<AgingRow> = rows.iter().enumerate().map(|(i, (b, c))| AgingRow {
                account_id: i.to_string(), account_number: format!("A-{i:04}"), account_name: String::new(), rep_name: None,
                aging: AccountAging { buckets: Buckets::from_amounts(b.map(Money::from_raw)), credits: Money::from_raw(*c) },
            }).collect();
            let r = AgingReport::of(rows.clone()).unwrap();
            for b in Bucket::ALL {
                prop_assert_eq!(r.totals.buckets.get(b).raw(), rows.iter().map(|x| x.aging.buckets.get(b).raw()).sum::<i64>());
            }
            prop_assert_eq!(r.totals.open_total().raw(), rows.iter().map(|x| x.aging.open_total().raw()).sum::<i64>());
            for w in r.rows.windows(2) {
                prop_assert!(report_order(&w[0], &w[1]) != std::cmp::Ordering::Greater);
                prop_assert!(is_after(&w[1], &ReportKey::of(&w[0])));
            }
        }
    }
}
