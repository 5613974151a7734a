//! Invoicing rules (DESIGN.md §3 "Invoice"): when an invoice is due, which tax rate applies to a
//! line, and the tax of a line and of an invoice — exact to the cent with one stated rounding rule.
//! Pure: the store loads the rates and the account's terms, the service writes the invoice.
//!
//! **Rounding rule.** Tax is computed per line — net × rate, rounded half away from zero to whole
//! cents ([`line_tax`]) — and an invoice's tax is the sum of its lines' taxes. So every line shows a
//! tax that adds up to the total exactly, and a credit note for some lines reverses exactly their tax.

use super::money::Money;
use time::{Date, Duration};

/// A rate in millionths (parts per million): 8.875 % is 88,750. At most 100 %.
pub const MAX_RATE_PPM: i64 = 1_000_000;

/// When payment is due, from the account's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueTerms {
    /// Paid before anything ships: due the day it is issued.
    Prepay,
    /// Net N days from the invoice date.
    Net(i64),
    /// N days after the end of the invoice's month ("EOM + N").
    EndOfMonth(i64),
}

impl DueTerms {
    /// The account's stored terms: days (0 = prepay) and whether they count from the month's end.
    pub fn of(days: i64, from_month_end: bool) -> DueTerms {
        match (days, from_month_end) {
            (d, true) if d >= 0 => DueTerms::EndOfMonth(d),
            (d, _) if d <= 0 => DueTerms::Prepay,
            (d, _) => DueTerms::Net(d),
        }
    }

    pub fn label(self) -> String {
        match self {
            DueTerms::Prepay => "Prepay".into(),
            DueTerms::Net(d) => format!("Net {d}"),
            DueTerms::EndOfMonth(0) => "Due at month end".into(),
            DueTerms::EndOfMonth(d) => format!("End of month + {d}"),
        }
    }

    /// The due date of an invoice issued on `issued`.
    pub fn due(self, issued: Date) -> Date {
        let add = |d: Date, days: i64| d.checked_add(Duration::days(days)).unwrap_or(Date::MAX);
        match self {
            DueTerms::Prepay => issued,
            DueTerms::Net(days) => add(issued, days),
            DueTerms::EndOfMonth(days) => add(month_end(issued), days),
        }
    }
}

/// The last day of `d`'s month.
pub fn month_end(d: Date) -> Date {
    let (y, m) = (d.year(), d.month());
    let last = time::util::days_in_month(m, y);
    Date::from_calendar_date(y, m, last).unwrap_or(d)
}

/// A tax rate for a region and a product tax class. An empty `region` covers the whole country.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxRate {
    pub country: String,
    pub region: String,
    pub tax_class: String,
    pub rate_ppm: i64,
    /// As printed on invoices, e.g. "IL sales tax 10.25%".
    pub label: String,
}

/// The rate for a line shipped to `country`/`region` of a product in `tax_class`: the region's own
/// rate if there is one, else the country's; none (0) when neither exists. Codes compare without
/// regard to case or surrounding space.
pub fn rate_for<'a>(rates: &'a [TaxRate], country: &str, region: &str, tax_class: &str) -> Option<&'a TaxRate> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let matching = |r: &&TaxRate| same(&r.country, country) && same(&r.tax_class, tax_class);
    rates
        .iter()
        .filter(matching)
        .find(|r| !r.region.trim().is_empty() && same(&r.region, region))
        .or_else(|| rates.iter().filter(matching).find(|r| r.region.trim().is_empty()))
}

/// The tax of one line: `net` × `rate_ppm` / 1,000,000, rounded half away from zero to whole
/// cents, in one step (no intermediate rounding). `None` on overflow.
pub fn line_tax(net: Money, rate_ppm: i64) -> Option<Money> {
    // net is in ten-thousandths; net × ppm / 10^6 is ten-thousandths of tax, / 100 more is cents.
    let num = (net.raw() as i128).checked_mul(rate_ppm as i128)?;
    const PER_CENT: i128 = 100_000_000;
    let (q, r) = (num / PER_CENT, num % PER_CENT);
    let cents = if r.abs() * 2 >= PER_CENT { q + r.signum() } else { q };
    i64::try_from(cents.checked_mul(100)?).ok().map(Money::from_raw)
}

/// An account's tax exemption: exempt while its certificate is valid on the invoice date.
pub fn exempt_on(certificate: &str, valid_until: Option<Date>, day: Date) -> bool {
    !certificate.trim().is_empty() && valid_until.is_none_or(|until| day <= until)
}

/// A rate shown to people: `88750` → "8.875%".
pub fn format_rate(rate_ppm: i64) -> String {
    let whole = rate_ppm / 10_000;
    let mut frac = format!("{:04}", (rate_ppm % 10_000).abs());
    while frac.ends_with('0') {
        frac.pop();
    }
    if frac.is_empty() { format!("{whole}%") } else { format!("{whole}.{frac}%") }
}

/// Parses a percentage as typed ("8.875", "8.875%", "0") into millionths; at most 4 decimals and
/// at most 100 %.
pub fn parse_rate(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('%').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 4 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) || whole.len() > 3 {
        return None;
    }
    let ppm = whole.parse::<i64>().ok()? * 10_000 + format!("{frac:0<4}").parse::<i64>().ok()?;
    (ppm <= MAX_RATE_PPM).then_some(ppm)
}

/// Everything a printed invoice or credit note shows, as text and exact amounts (the PDF and the
/// printable page are drawn from this alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// "Invoice" or "Credit note".
    pub title: String,
    /// INV-100001 / CN-100001
    pub number: String,
    pub issued_on: String,
    pub due_on: String,
    /// The seller: name, then address lines.
    pub seller: Vec<String>,
    /// Bill to: account name, then address lines.
    pub bill_to: Vec<String>,
    /// Ship to: one or more lines.
    pub ship_to: Vec<String>,
    /// Label/value pairs under the header: account number, order, PO number, terms, shipment.
    pub references: Vec<(String, String)>,
    pub lines: Vec<DocumentLine>,
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
    /// What is still to pay (total less payments applied); for a credit note, what it credits.
    pub amount_due: Money,
    /// Closing remarks (tax exemption, payment instructions), one paragraph each.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentLine {
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub net: Money,
    /// e.g. "8.875%" or "exempt" or "" (untaxed).
    pub tax_label: String,
    pub tax: Money,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn due_dates_follow_the_terms() {
        let d = date!(2026 - 01 - 20);
        assert_eq!(DueTerms::of(0, false).due(d), d);
        assert_eq!(DueTerms::of(30, false).due(d), date!(2026 - 02 - 19));
        assert_eq!(DueTerms::of(15, true).due(d), date!(2026 - 02 - 15));
        assert_eq!(DueTerms::of(0, true).due(date!(2028 - 02 - 03)), date!(2028 - 02 - 29), "leap year");
        assert_eq!(DueTerms::of(30, false).label(), "Net 30");
        assert_eq!(DueTerms::of(10, true).label(), "End of month + 10");
    }

    #[test]
    fn the_most_specific_rate_applies() {
        let rate = |country: &str, region: &str, class: &str, ppm| TaxRate {
            country: country.into(),
            region: region.into(),
            tax_class: class.into(),
            rate_ppm: ppm,
            label: String::new(),
        };
        let rates = vec![
            rate("US", "", "standard", 50_000),
            rate("US", "IL", "standard", 102_500),
            rate("US", "IL", "medical", 10_000),
        ];
        assert_eq!(rate_for(&rates, "us", " il ", "standard").unwrap().rate_ppm, 102_500);
        assert_eq!(rate_for(&rates, "US", "WI", "standard").unwrap().rate_ppm, 50_000, "the country's rate");
        assert_eq!(rate_for(&rates, "US", "IL", "medical").unwrap().rate_ppm, 10_000);
        assert!(rate_for(&rates, "US", "WI", "medical").is_none(), "no rate: untaxed");
        assert!(rate_for(&rates, "CA", "ON", "standard").is_none());
    }

    #[test]
    fn line_tax_rounds_half_away_from_zero_to_cents() {
        let m = |s: &str| Money::parse(s).unwrap();
        assert_eq!(line_tax(m("19.95"), 82_500), Some(m("1.65")), "1.645875");
        assert_eq!(line_tax(m("10.00"), 88_750), Some(m("0.89")), "0.8875");
        assert_eq!(line_tax(m("0.10"), 50_000), Some(m("0.01")), "0.005 rounds up");
        assert_eq!(line_tax(m("0.0990"), 50_000), Some(m("0.00")), "0.00495 rounds down in one step");
        assert_eq!(line_tax(Money::from_raw(-1000), 50_000), Some(Money::from_raw(-100)), "credit notes mirror");
        assert_eq!(line_tax(m("5.00"), 0), Some(Money::ZERO));
    }

    #[test]
    fn rates_are_read_and_shown_as_people_write_them() {
        assert_eq!(parse_rate("8.875%"), Some(88_750));
        assert_eq!(parse_rate(" 10.25 "), Some(102_500));
        assert_eq!(parse_rate("0"), Some(0));
        assert_eq!(parse_rate("100"), Some(1_000_000));
        for bad in ["", "-1", "100.0001", "8.87501", "abc", "1e2", "8,5"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
        assert_eq!(format_rate(88_750), "8.875%");
        assert_eq!(format_rate(100_000), "10%");
        assert!(exempt_on("CERT-1", Some(date!(2026 - 12 - 31)), date!(2026 - 12 - 31)));
        assert!(!exempt_on("CERT-1", Some(date!(2026 - 12 - 31)), date!(2027 - 01 - 01)));
        assert!(!exempt_on(" ", None, date!(2027 - 01 - 01)));
    }

    proptest! {
        /// Per line: never more than half a cent from the exact tax; negating the net negates the
        /// tax (credit notes reverse exactly); an invoice's tax is exactly the sum of its lines'.
        #[test]
        fn line_tax_is_exact_to_the_cent(nets in proptest::collection::vec(0i64..10_000_000_000, 1..20), ppm in 0i64..=MAX_RATE_PPM) {
            let mut total = Money::ZERO;
            for raw in &nets {
                let net = Money::from_raw(*raw);
                let tax = line_tax(net, ppm).unwrap();
                prop_assert_eq!(tax.raw() % 100, 0, "whole cents");
                // exact tax in units of 10^-10: raw × ppm; the rounded tax in the same units.
                let exact = (*raw as i128) * (ppm as i128);
                let rounded = (tax.raw() as i128) * 1_000_000;
                prop_assert!((rounded - exact).abs() * 2 <= 100 * 1_000_000, "{} vs {}", rounded, exact);
                prop_assert_eq!(line_tax(Money::from_raw(-raw), ppm).unwrap(), Money::from_raw(-tax.raw()));
                total = total.checked_add(tax).unwrap();
            }
            let sum = Money::sum(nets.iter().map(|r| line_tax(Money::from_raw(*r), ppm).unwrap())).unwrap();
            prop_assert_eq!(total, sum);
        }
    }
}
