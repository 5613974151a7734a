//! Payments (DESIGN.md §3 "Payment"), pure: what a payment must be to be recorded, how its amount
//! is spread over an account's open invoices, and the bank's (or ERP's) payment file.
//!
//! **Allocation.** A payment is applied to invoices either with an amount per invoice (each at most
//! the invoice's balance, together at most what of the payment is unapplied — more is refused,
//! never clipped) or automatically, oldest due first, each invoice paid as far as the payment goes.
//! What is not applied stays on the payment as unapplied cash (the account's credit).
//!
//! Payments are in whole cents: banks move cents, and invoices are totalled to cents.

use super::import::{RowError, check_columns};
use super::input::{MAX_AMOUNT, TextKind, check_text};
use super::money::{Money, MoneyError};
use std::collections::HashSet;
use time::Date;

/// How a payment was made. A fixed list: reports and reconciliation group by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Check,
    Wire,
    Ach,
    Card,
    Online,
    Other,
}

impl Method {
    pub const ALL: [Method; 6] =
        [Method::Check, Method::Wire, Method::Ach, Method::Card, Method::Online, Method::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Check => "check",
            Method::Wire => "wire",
            Method::Ach => "ach",
            Method::Card => "card",
            Method::Online => "online",
            Method::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Method::Check => "Check",
            Method::Wire => "Wire transfer",
            Method::Ach => "ACH",
            Method::Card => "Card",
            Method::Online => "Online (payment provider)",
            Method::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        let s = s.trim().to_ascii_lowercase();
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    fn names() -> String {
        Method::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The longest reference (check number, bank reference) kept.
pub const MAX_REFERENCE_LEN: usize = 200;
/// The longest external id (the bank's or provider's transaction id).
pub const MAX_EXTERNAL_ID_LEN: usize = 200;
/// The longest reversal reason.
pub const MAX_REASON_LEN: usize = 500;

/// A payment as checked for recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentDraft {
    pub amount: Money,
    pub received_on: Date,
    pub method: Method,
    pub reference: String,
}

/// A payment amount: more than zero, whole cents, at most [`MAX_AMOUNT`].
pub fn parse_amount(input: &str) -> Result<Money, String> {
    if input.trim().is_empty() {
        return Err("Enter the amount received.".into());
    }
    let m = Money::parse(input).map_err(|e| match e {
        MoneyError::TooPrecise(v) => format!("“{v}” has more than 2 decimal places (payments are in cents)"),
        other => other.to_string(),
    })?;
    check_amount(m)
}

/// A payment amount already parsed: more than zero, whole cents, at most [`MAX_AMOUNT`].
pub fn check_amount(m: Money) -> Result<Money, String> {
    if m.raw() <= 0 {
        Err("The amount must be more than 0.".into())
    } else if m > MAX_AMOUNT {
        Err(format!("{} is too large: at most {}", m.to_plain(), MAX_AMOUNT.to_plain()))
    } else if m.round_to_cents() != m {
        Err(format!("{} has more than 2 decimal places (payments are in cents)", m.to_plain()))
    } else {
        Ok(m)
    }
}

/// A received date: `YYYY-MM-DD`, not after `today`.
pub fn parse_received_on(input: &str, today: Date) -> Result<Date, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err("Enter the date the payment was received.".into());
    }
    match Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) if d > today => Err(format!("{v} is in the future.")),
        Ok(d) => Ok(d),
        Err(_) => Err(format!("“{v}” is not a date (use YYYY-MM-DD).")),
    }
}

pub fn parse_method(input: &str) -> Result<Method, String> {
    Method::parse(input).ok_or_else(|| {
        if input.trim().is_empty() {
            format!("Choose how it was paid ({}).", Method::names())
        } else {
            format!("“{}” is not a payment method (use one of {}).", input.trim(), Method::names())
        }
    })
}

/// A one-line text of at most `max` characters, without control characters.
pub fn check_line(input: &str, max: usize) -> Result<String, String> {
    check_text(input, TextKind::Line)?;
    let v = input.trim();
    if v.chars().count() > max { Err(format!("at most {max} characters")) } else { Ok(v.to_string()) }
}

/// Checks a payment as entered; every bad field is named `(field, why)`.
pub fn check_payment(
    amount: &str,
    received_on: &str,
    method: &str,
    reference: &str,
    today: Date,
) -> Result<PaymentDraft, Vec<(String, String)>> {
    let mut problems = Vec::new();
    fn field<T>(problems: &mut Vec<(String, String)>, name: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| problems.push((name.to_string(), format!("{name}: {e}")))).ok()
    }
    let amount = field(&mut problems, "amount", parse_amount(amount));
    let received_on = field(&mut problems, "received_on", parse_received_on(received_on, today));
    let method = field(&mut problems, "method", parse_method(method));
    let reference = field(&mut problems, "reference", check_line(reference, MAX_REFERENCE_LEN));
    match (amount, received_on, method, reference) {
        (Some(amount), Some(received_on), Some(method), Some(reference)) if problems.is_empty() => {
            Ok(PaymentDraft { amount, received_on, method, reference })
        }
        _ => Err(problems),
    }
}

/// An open invoice a payment can be applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: String,
    pub number: String,
    /// `YYYY-MM-DD` (sorts as a date).
    pub due_on: String,
    /// What is still owed on it (> 0).
    pub balance: Money,
}

/// What to apply: amounts per invoice (by number or id), or oldest due first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allocation {
    OldestFirst,
    Explicit(Vec<(String, Money)>),
}

/// One application decided: the index of the invoice in the list given, and the amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub invoice: usize,
    pub amount: Money,
}

/// Spreads `available` (what of the payment is unapplied) over `invoices` as `wanted` says.
/// Explicit amounts that name an invoice not in the list, are not more than zero, exceed an
/// invoice's balance or together exceed `available` are refused, each named `(field, why)` with the
/// field `invoices[i]`; nothing is clipped. Oldest first never fails (it may apply nothing).
pub fn allocate(
    available: Money,
    invoices: &[OpenInvoice],
    wanted: &Allocation,
) -> Result<Vec<Applied>, Vec<(String, String)>> {
    match wanted {
        Allocation::OldestFirst => {
            let mut order: Vec<usize> = (0..invoices.len()).collect();
            order.sort_by(|a, b| {
                let (a, b) = (&invoices[*a], &invoices[*b]);
                (&a.due_on, &a.number).cmp(&(&b.due_on, &b.number))
            });
            let mut left = available.raw().max(0);
            let mut out = Vec::new();
            for i in order {
                if left == 0 {
                    break;
                }
                let take = invoices[i].balance.raw().min(left);
                if take > 0 {
                    out.push(Applied { invoice: i, amount: Money::from_raw(take) });
                    left -= take;
                }
            }
            Ok(out)
        }
        Allocation::Explicit(lines) => {
            let mut problems = Vec::new();
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            let mut total: i64 = 0;
            for (k, (reference, amount)) in lines.iter().enumerate() {
                let field = format!("invoices[{k}]");
                let r = reference.trim();
                let Some(i) = invoices.iter().position(|inv| inv.number == r || inv.id == r) else {
                    problems.push((field, format!("{r} is not an open invoice of this account.")));
                    continue;
                };
                if !seen.insert(i) {
                    problems.push((field, format!("{} is named twice.", invoices[i].number)));
                    continue;
                }
                if let Err(e) = check_amount(*amount) {
                    problems.push((field, format!("{}: {e}", invoices[i].number)));
                    continue;
                }
                if *amount > invoices[i].balance {
                    problems.push((
                        field,
                        format!(
                            "{}: {} is more than its balance of {}.",
                            invoices[i].number,
                            amount.to_plain(),
                            invoices[i].balance.to_plain()
                        ),
                    ));
                    continue;
                }
                total = total.saturating_add(amount.raw());
                out.push(Applied { invoice: i, amount: *amount });
            }
            if problems.is_empty() && total > available.raw() {
                problems.push((
                    "invoices".into(),
                    format!(
                        "The amounts add up to {}, more than the {} of the payment left to apply.",
                        Money::from_raw(total).to_plain(),
                        available.to_plain()
                    ),
                ));
            }
            if problems.is_empty() { Ok(out) } else { Err(problems) }
        }
    }
}

/// The columns of a bank (or ERP) payment file.
pub const CSV_COLUMNS: [&str; 7] =
    ["account", "amount", "received_on", "method", "reference", "invoices", "external_id"];
pub const CSV_REQUIRED: [&str; 4] = ["account", "amount", "received_on", "method"];

/// One payment of a bank file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvPayment {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// Account number (or id, or ERP id).
    pub account: String,
    pub draft: PaymentDraft,
    /// Invoice numbers to pay, oldest first as listed (`;` or spaces between them); empty: none.
    pub invoices: Vec<String>,
    pub external_id: Option<String>,
}

/// Reads a whole payment file. Any bad row (or header) refuses the file: every problem is returned,
/// named by line, column and why.
pub fn read_csv(bytes: &[u8], today: Date) -> Result<Vec<CsvPayment>, Vec<RowError>> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect(),
        Some(Err(e)) => return Err(vec![RowError { line: 1, column: String::new(), reason: csv_reason(&e) }]),
        None => {
            return Err(vec![RowError { line: 1, column: String::new(), reason: "the file is empty".into() }]);
        }
    };
    let header_errors = check_columns(&header, &CSV_COLUMNS, &CSV_REQUIRED);
    if !header_errors.is_empty() {
        return Err(header_errors);
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut external_ids = HashSet::new();
    for (n, record) in records.enumerate() {
        let line = n as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line, column: String::new(), reason: csv_reason(&e) });
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > header.len() {
            errors.push(RowError {
                line,
                column: String::new(),
                reason: format!("{} cells, but the header has {} columns", record.len(), header.len()),
            });
            continue;
        }
        let cell = |name: &str| col(name).and_then(|i| record.get(i)).unwrap_or("").to_string();
        let before = errors.len();
        let mut bad = |column: &str, reason: String| errors.push(RowError { line, column: column.into(), reason });
        for name in CSV_COLUMNS {
            if let Err(e) = check_text(&cell(name), TextKind::Line) {
                bad(name, e);
            }
        }
        let account = cell("account");
        if account.is_empty() {
            bad("account", "the account number is missing".into());
        }
        let amount = parse_amount(&cell("amount")).map_err(|e| bad("amount", e)).ok();
        let received_on = parse_received_on(&cell("received_on"), today).map_err(|e| bad("received_on", e)).ok();
        let method = parse_method(&cell("method")).map_err(|e| bad("method", e)).ok();
        let reference = check_line(&cell("reference"), MAX_REFERENCE_LEN).map_err(|e| bad("reference", e)).ok();
        let invoices = split_invoices(&cell("invoices"));
        let external_id = match check_line(&cell("external_id"), MAX_EXTERNAL_ID_LEN) {
            Ok(e) if e.is_empty() => None,
            Ok(e) => {
                if !external_ids.insert(e.clone()) {
                    bad("external_id", format!("“{e}” appears on an earlier line too"));
                }
                Some(e)
            }
            Err(e) => {
                bad("external_id", e);
                None
            }
        };
        if errors.len() > before {
            continue;
        }
        if let (Some(amount), Some(received_on), Some(method), Some(reference)) =
            (amount, received_on, method, reference)
        {
            out.push(CsvPayment {
                line,
                account,
                draft: PaymentDraft { amount, received_on, method, reference },
                invoices,
                external_id,
            });
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(RowError { line: 2, column: String::new(), reason: "the file has no payments".into() });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Invoice numbers in one cell: separated by `;`, `,`, `|` or spaces.
pub fn split_invoices(cell: &str) -> Vec<String> {
    cell.split(|c: char| c == ';' || c == ',' || c == '|' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".into(),
        _ => format!("the row cannot be read as CSV ({e})"),
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

    fn inv(n: &str, due: &str, balance: &str) -> OpenInvoice {
        OpenInvoice { id: format!("id-{n}"), number: n.into(), due_on: due.into(), balance: m(balance) }
    }

    #[test]
    fn oldest_first_pays_the_oldest_due_in_full_then_part_of_the_next() {
        let invoices = [
            inv("INV-2", "2026-02-01", "50.00"),
            inv("INV-1", "2026-01-01", "30.00"),
            inv("INV-3", "2026-03-01", "10"),
        ];
        let got = allocate(m("60.00"), &invoices, &Allocation::OldestFirst).unwrap();
        assert_eq!(got, vec![Applied { invoice: 1, amount: m("30.00") }, Applied { invoice: 0, amount: m("30.00") }]);
        let got = allocate(m("500"), &invoices, &Allocation::OldestFirst).unwrap();
        assert_eq!(got.iter().map(|a| a.amount.raw()).sum::<i64>(), m("90").raw(), "the rest stays unapplied");
    }

    #[test]
    fn explicit_amounts_are_refused_not_clipped() {
        let invoices = [inv("INV-1", "2026-01-01", "30.00"), inv("INV-2", "2026-02-01", "50.00")];
        let wanted = |l: &[(&str, &str)]| Allocation::Explicit(l.iter().map(|(n, a)| (n.to_string(), m(a))).collect());
        assert_eq!(
            allocate(m("100"), &invoices, &wanted(&[("INV-2", "20"), ("id-INV-1", "30")])).unwrap(),
            vec![Applied { invoice: 1, amount: m("20") }, Applied { invoice: 0, amount: m("30") }]
        );
        let e = allocate(m("100"), &invoices, &wanted(&[("INV-1", "30.01")])).unwrap_err();
        assert!(e[0].1.contains("more than its balance of 30"), "{e:?}");
        let e = allocate(m("40"), &invoices, &wanted(&[("INV-1", "30"), ("INV-2", "20")])).unwrap_err();
        assert!(e[0].1.contains("more than the 40"), "{e:?}");
        let e =
            allocate(m("40"), &invoices, &wanted(&[("INV-9", "1"), ("INV-1", "0"), ("INV-2", "1"), ("INV-2", "1")]))
                .unwrap_err();
        assert_eq!(e.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["invoices[0]", "invoices[1]", "invoices[3]"]);
    }

    #[test]
    fn a_payment_is_more_than_zero_in_cents_received_by_today_by_a_known_method() {
        let today = date!(2026 - 12 - 06);
        let ok = check_payment("1,250.50", "2026-12-06", "Wire", " ref 1 ", today).unwrap();
        assert_eq!((ok.amount, ok.method, ok.reference.as_str()), (m("1250.50"), Method::Wire, "ref 1"));
        let e = check_payment("0", "2026-12-07", "cash", "a\u{0}b", today).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(fields, ["amount", "received_on", "method", "reference"]);
        assert!(e[1].1.contains("future") && e[2].1.contains("check, wire, ach, card, online, other"), "{e:?}");
        assert!(parse_amount("1.005").unwrap_err().contains("cents"));
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("1000000000000").unwrap_err().contains("too large"));
    }

    #[test]
    fn a_bank_file_is_read_whole_or_refused_with_every_bad_row_named() {
        let today = date!(2026 - 12 - 06);
        let good = "account,amount,received_on,method,reference,invoices,external_id\n\
                    A-1,100.00,2026-12-01,wire,W1,INV-1;INV-2,BANK-1\n\
                    A-2,5,2026-12-02,check,,,\n";
        let rows = read_csv(good.as_bytes(), today).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].line, rows[0].invoices.clone(), rows[0].external_id.as_deref()),
            (2, vec!["INV-1".into(), "INV-2".into()], Some("BANK-1"))
        );
        assert_eq!((rows[1].draft.amount, rows[1].external_id.clone()), (m("5"), None));
        let bad = "account,amount,received_on,method,external_id\n\
                   A-1,abc,2026-12-01,wire,X\n\
                   ,10,2027-01-01,cash,X\n\
                   A-3,10,2026-12-01,ach,Y\n";
        let e = read_csv(bad.as_bytes(), today).unwrap_err();
        let got: Vec<(u64, &str)> = e.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(got, [(2, "amount"), (3, "account"), (3, "received_on"), (3, "method"), (3, "external_id")]);
        let e = read_csv(b"account,amount,when\n", today).unwrap_err();
        assert!(
            e.iter().any(|r| r.reason.contains("“received_on” is missing")) && e.iter().any(|r| r.column == "when")
        );
    }

    proptest! {
        #[test]
        fn applications_never_exceed_balances_or_the_payment(
            available in 0i64..2_000_000,
            balances in proptest::collection::vec(1i64..500_000, 0..8),
            explicit in proptest::collection::vec((0usize..8, 0i64..600_000), 0..8),
            oldest in any::<bool>(),
        ) {
            let invoices: Vec<OpenInvoice> = balances.iter().enumerate()
                .map(|(i, b)| OpenInvoice { id: format!("i{i}"), number: format!("INV-{i}"), due_on: format!("2026-01-{:02}", 28 - i), balance: Money::from_cents(*b) })
                .collect();
            let available = Money::from_cents(available);
            let wanted = if oldest { Allocation::OldestFirst } else {
                Allocation::Explicit(explicit.iter().map(|(i, a)| (format!("INV-{i}"), Money::from_cents(*a))).collect())
            };
            if let Ok(applied) = allocate(available, &invoices, &wanted) {
                let mut per = vec![0i64; invoices.len()];
                for a in &applied {
                    prop_assert!(a.amount.raw() > 0);
                    per[a.invoice] += a.amount.raw();
                }
                for (i, p) in per.iter().enumerate() {
                    prop_assert!(*p <= invoices[i].balance.raw());
                }
                let applied_total: i64 = per.iter().sum();
                prop_assert!(applied_total <= available.raw());
                let unapplied = available.raw() - applied_total;
                prop_assert_eq!(applied_total + unapplied, available.raw());
                if oldest {
                    // Oldest first stops only when the payment or the invoices run out.
                    let owed: i64 = invoices.iter().map(|i| i.balance.raw()).sum();
                    prop_assert_eq!(applied_total, available.raw().min(owed));
                }
            }
        }
    }
}
