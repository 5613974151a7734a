//! An account's statement (DESIGN.md §3 "Statement"; issue 15 §5): the balance before a period,
//! then every dated entry of the period with a running balance, and the closing balance.
//! Pure; exact: closing = opening + Σ lines, property-tested.
//!
//! The ledger an account's balance is made of: invoices (+ their total), credit notes (− theirs),
//! payments received (− the amount) and payment reversals (+ the amount, on the day reversed).
//! Applying a payment or credit note to an invoice moves nothing between the two sides, so it is
//! not a line; void invoices never count. The closing balance on any day is therefore what the
//! aging says the account owes that day: its open invoices less its unapplied credits.

use super::aging::{AccountAging, Overflow};
use super::money::Money;
use time::Date;

/// What a statement line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    Invoice,
    CreditNote,
    Payment,
    PaymentReversal,
}

impl EntryKind {
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Invoice => "Invoice",
            EntryKind::CreditNote => "Credit note",
            EntryKind::Payment => "Payment",
            EntryKind::PaymentReversal => "Payment reversed",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            EntryKind::Invoice => "invoice",
            EntryKind::CreditNote => "credit_note",
            EntryKind::Payment => "payment",
            EntryKind::PaymentReversal => "payment_reversal",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        [EntryKind::Invoice, EntryKind::CreditNote, EntryKind::Payment, EntryKind::PaymentReversal]
            .into_iter()
            .find(|k| k.key() == s)
    }

    /// Whether the entry raises what the account owes.
    pub fn is_charge(self) -> bool {
        matches!(self, EntryKind::Invoice | EntryKind::PaymentReversal)
    }
}

/// One dated entry of the ledger; `amount` is positive, the kind gives its sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub on: Date,
    pub kind: EntryKind,
    /// INV-100001, CN-100001, PAY-100001.
    pub reference: String,
    /// The order and due date, the credit note's reason, the payment's method and reference.
    pub detail: String,
    pub amount: Money,
}

impl Entry {
    /// The amount with its sign on the balance.
    pub fn signed(&self) -> Money {
        if self.kind.is_charge() { self.amount } else { Money::from_raw(-self.amount.raw()) }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    pub entry: Entry,
    /// The balance after this line.
    pub balance: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub from: Date,
    pub to: Date,
    pub opening: Money,
    pub lines: Vec<StatementLine>,
    pub closing: Money,
}

impl Statement {
    /// The statement of `from ..= to` from the balance before `from` and the period's entries
    /// (in any order: lines are by date, then invoices before credits, then reference).
    pub fn build(from: Date, to: Date, opening: Money, mut entries: Vec<Entry>) -> Result<Statement, Overflow> {
        entries.sort_by(|a, b| (a.on, a.kind, &a.reference).cmp(&(b.on, b.kind, &b.reference)));
        let mut balance = opening;
        let mut lines = Vec::with_capacity(entries.len());
        for entry in entries {
            balance = balance.checked_add(entry.signed()).ok_or(Overflow)?;
            lines.push(StatementLine { entry, balance });
        }
        Ok(Statement { from, to, opening, lines, closing: balance })
    }

    /// The statement of `from ..= to` from the account's whole ledger.
    pub fn from_history(from: Date, to: Date, history: &[Entry]) -> Result<Statement, Overflow> {
        let opening = Money::sum(history.iter().filter(|e| e.on < from).map(Entry::signed)).ok_or(Overflow)?;
        let period = history.iter().filter(|e| e.on >= from && e.on <= to).cloned().collect();
        Statement::build(from, to, opening, period)
    }

    /// What the period's lines charged (invoices, reversals) and credited (credit notes, payments).
    pub fn charges_and_credits(&self) -> (Money, Money) {
        let sum = |charge: bool| {
            Money::sum(self.lines.iter().filter(|l| l.entry.kind.is_charge() == charge).map(|l| l.entry.amount))
                .unwrap_or(Money::ZERO)
        };
        (sum(true), sum(false))
    }
}

/// An open invoice as a statement lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenInvoice {
    pub number: String,
    pub issued_on: Date,
    pub due_on: Date,
    pub total: Money,
    pub open: Money,
    /// Days past due on the statement's day (0 or less: not yet due).
    pub days_overdue: i64,
}

/// Everything the printed statement shows (page, PDF and CSV).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementDocument {
    /// The seller: name, then address lines.
    pub seller: Vec<String>,
    pub account_name: String,
    pub account_number: String,
    /// Bill to: account name, then address lines.
    pub bill_to: Vec<String>,
    /// The day the open invoices are aged on.
    pub as_of: Date,
    pub statement: Statement,
    pub open_invoices: Vec<OpenInvoice>,
    pub aging: AccountAging,
    /// The account's credit limit and what is available under it, when it has one.
    pub credit: Option<(Money, Money)>,
}

impl StatementDocument {
    /// The statement as CSV: a title row, the lines between the opening and closing balance, the
    /// open invoices, then the aging. Amounts are plain decimals (no separators), signed on the
    /// lines (credits negative).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        let iso = iso_date;
        let s = &self.statement;
        let mut rows: Vec<Vec<String>> = vec![
            vec![
                "Statement".into(),
                format!("{} ({})", self.account_name, self.account_number),
                iso(s.from),
                iso(s.to),
            ],
            vec![],
            ["Date", "Type", "Reference", "Detail", "Amount", "Balance"].map(String::from).to_vec(),
            vec![
                iso(s.from),
                "Opening balance".into(),
                String::new(),
                String::new(),
                String::new(),
                s.opening.to_plain(),
            ],
        ];
        for l in &s.lines {
            rows.push(vec![
                iso(l.entry.on),
                l.entry.kind.label().into(),
                l.entry.reference.clone(),
                l.entry.detail.clone(),
                l.entry.signed().to_plain(),
                l.balance.to_plain(),
            ]);
        }
        rows.push(vec![
            iso(s.to),
            "Closing balance".into(),
            String::new(),
            String::new(),
            String::new(),
            s.closing.to_plain(),
        ]);
        rows.push(vec![]);
        rows.push(["Open invoice", "Issued", "Due", "Days overdue", "Total", "Open"].map(String::from).to_vec());
        for i in &self.open_invoices {
            rows.push(vec![
                i.number.clone(),
                iso(i.issued_on),
                iso(i.due_on),
                i.days_overdue.max(0).to_string(),
                i.total.to_plain(),
                i.open.to_plain(),
            ]);
        }
        rows.push(vec![]);
        let mut head = vec![format!("Aging as of {}", iso(self.as_of))];
        let mut values = vec![String::new()];
        for b in super::aging::Bucket::ALL {
            head.push(b.label().replace('–', "-"));
            values.push(self.aging.buckets.get(b).to_plain());
        }
        head.extend(["Open total", "Unapplied credits", "Balance"].map(String::from));
        values.extend([
            self.aging.open_total().to_plain(),
            self.aging.credits.to_plain(),
            self.aging.balance().to_plain(),
        ]);
        rows.push(head);
        rows.push(values);
        for r in rows {
            // Writing to a Vec cannot fail.
            let _ = w.write_record(if r.is_empty() { vec![String::new()] } else { r });
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// A date as YYYY-MM-DD.
pub fn iso_date(d: Date) -> String {
    super::pricing::format_iso_date(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::date;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn e(on: Date, kind: EntryKind, reference: &str, amount: &str) -> Entry {
        Entry { on, kind, reference: reference.into(), detail: String::new(), amount: m(amount) }
    }

    #[test]
    fn a_running_balance_from_the_opening_to_the_closing() {
        let history = [
            e(date!(2026 - 01 - 10), EntryKind::Invoice, "INV-1", "1,000.00"),
            e(date!(2026 - 02 - 03), EntryKind::Invoice, "INV-2", "250.25"),
            e(date!(2026 - 02 - 03), EntryKind::Payment, "PAY-1", "400.00"),
            e(date!(2026 - 02 - 10), EntryKind::CreditNote, "CN-1", "50.00"),
            e(date!(2026 - 02 - 20), EntryKind::PaymentReversal, "PAY-1", "400.00"),
            e(date!(2026 - 03 - 01), EntryKind::Payment, "PAY-2", "0.01"),
        ];
        let s = Statement::from_history(date!(2026 - 02 - 01), date!(2026 - 02 - 28), &history).unwrap();
        assert_eq!(s.opening, m("1,000.00"));
        let balances: Vec<(&str, Money)> = s.lines.iter().map(|l| (l.entry.reference.as_str(), l.balance)).collect();
        assert_eq!(
            balances,
            vec![("INV-2", m("1,250.25")), ("PAY-1", m("850.25")), ("CN-1", m("800.25")), ("PAY-1", m("1,200.25"))]
        );
        assert_eq!(s.closing, m("1,200.25"));
        assert_eq!(s.charges_and_credits(), (m("650.25"), m("450.00")));
    }

    fn entry() -> impl Strategy<Value = Entry> {
        (0i64..365, 0usize..4, 1i64..10_000_000_000, 0u32..1000).prop_map(|(d, k, raw, r)| Entry {
            on: date!(2026 - 01 - 01) + Duration::days(d),
            kind: [EntryKind::Invoice, EntryKind::CreditNote, EntryKind::Payment, EntryKind::PaymentReversal][k],
            reference: format!("R-{r}"),
            detail: String::new(),
            amount: Money::from_raw(raw),
        })
    }

    proptest! {
        /// closing = opening + Σ lines; each line's balance is the one before plus its amount; a
        /// period's closing is the next period's opening; the whole history ends where the ledger does.
        #[test]
        fn closing_is_opening_plus_lines(history in proptest::collection::vec(entry(), 0..60), a in 0i64..365, b in 0i64..365) {
            let start = date!(2026 - 01 - 01);
            let (a, b) = (a.min(b), a.max(b));
            let (from, to) = (start + Duration::days(a), start + Duration::days(b));
            let s = Statement::from_history(from, to, &history).unwrap();
            let sum: i64 = s.lines.iter().map(|l| l.entry.signed().raw()).sum();
            prop_assert_eq!(s.closing.raw(), s.opening.raw() + sum);
            let mut running = s.opening;
            for l in &s.lines {
                running = running.checked_add(l.entry.signed()).unwrap();
                prop_assert_eq!(l.balance, running);
                prop_assert!(l.entry.on >= from && l.entry.on <= to);
            }
            let next = Statement::from_history(to + Duration::days(1), to + Duration::days(400), &history).unwrap();
            prop_assert_eq!(next.opening, s.closing);
            let all: i64 = history.iter().map(|e| e.signed().raw()).sum();
            let whole = Statement::from_history(start, start + Duration::days(400), &history).unwrap();
            prop_assert_eq!(whole.closing.raw(), all);
            let (charges, credits) = s.charges_and_credits();
            prop_assert_eq!(s.closing.raw(), s.opening.raw() + charges.raw() - credits.raw());
        }
    }
}
