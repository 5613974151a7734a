//! CSV import rules (pure): reading one row into a typed value, with every problem of the row named
//! by line and column. Cross-row checks (duplicates, consistency) live in `check_contract_rows`.

use super::catalog::Sku;
use super::input::{MAX_QUANTITY, check_range};
use super::money::{Money, MoneyError};
use std::collections::HashMap;
use std::fmt;
use time::Date;

/// One problem in an import file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.reason)
    }
}

/// The columns of a contract price file, in export order.
pub const CONTRACT_PRICE_COLUMNS: [&str; 8] =
    ["contract_number", "account", "contract_name", "valid_from", "valid_to", "sku", "min_qty", "unit_price"];
pub const CONTRACT_PRICE_REQUIRED: [&str; 4] = ["contract_number", "account", "sku", "unit_price"];

/// A contract price as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractPriceRow {
    pub line: u64,
    pub contract_number: String,
    /// Account number, id or ERP id.
    pub account: String,
    pub contract_name: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub sku: Sku,
    pub min_qty: i64,
    pub unit_price: Money,
}

/// Checks the header of a contract price file.
pub fn check_header(header: &[String]) -> Vec<RowError> {
    check_columns(header, &CONTRACT_PRICE_COLUMNS, &CONTRACT_PRICE_REQUIRED)
}

/// Checks a header against a kind's columns: every required column present, no unknown or
/// repeated column.
pub fn check_columns(header: &[String], columns: &[&str], required: &[&str]) -> Vec<RowError> {
    let mut out = Vec::new();
    let err = |column: &str, reason: String| RowError { line: 1, column: column.to_string(), reason };
    for req in required {
        if !header.iter().any(|h| h == req) {
            out.push(err(req, format!("required column “{req}” is missing (columns: {})", columns.join(", "))));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for h in header {
        if !columns.contains(&h.as_str()) {
            out.push(err(h, format!("unknown column “{h}”")));
        } else if !seen.insert(h) {
            out.push(err(h, format!("column “{h}” appears twice")));
        }
    }
    out
}

fn parse_date(line: u64, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<Date> {
    if v.is_empty() {
        return None;
    }
    match Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(RowError {
                line,
                column: column.into(),
                reason: format!("“{v}” is not a date (use YYYY-MM-DD)"),
            });
            None
        }
    }
}

/// A tier's `min_qty` cell: empty means 1.
pub(crate) fn parse_min_qty(line: u64, v: &str, errors: &mut Vec<RowError>) -> i64 {
    let err = |reason: String| RowError { line, column: "min_qty".into(), reason };
    match v {
        "" => 1,
        v => match v.parse::<i64>() {
            Ok(q) => match check_range(q, 1, MAX_QUANTITY) {
                Ok(q) => q,
                Err(e) => {
                    errors.push(err(e));
                    1
                }
            },
            Err(_) => {
                errors.push(err(format!("“{v}” is not a whole number")));
                1
            }
        },
    }
}

/// A `unit_price` cell: an exact, non-negative amount (`None` when empty or bad).
pub(crate) fn parse_unit_price(line: u64, v: &str, errors: &mut Vec<RowError>) -> Option<Money> {
    let err = |reason: String| RowError { line, column: "unit_price".into(), reason };
    if v.is_empty() {
        return None;
    }
    match Money::parse_non_negative(v) {
        Ok(m) => Some(m),
        Err(MoneyError::Negative) => {
            errors.push(err(format!("price {v} is negative")));
            None
        }
        Err(e) => {
            errors.push(err(format!("“{v}”: {e}")));
            None
        }
    }
}

/// The `valid_from` / `valid_to` cells: dates, the range not inverted.
pub(crate) fn parse_validity(
    line: u64,
    from: &str,
    to: &str,
    errors: &mut Vec<RowError>,
) -> (Option<Date>, Option<Date>) {
    let valid_from = parse_date(line, "valid_from", from, errors);
    let valid_to = parse_date(line, "valid_to", to, errors);
    if let (Some(f), Some(t)) = (valid_from, valid_to)
        && t < f
    {
        errors.push(RowError {
            line,
            column: "valid_to".into(),
            reason: format!("date range inverted: valid_to {t} is before valid_from {f}"),
        });
    }
    (valid_from, valid_to)
}

/// Reads one data row (`get` returns the trimmed cell of a column, empty when absent).
pub fn parse_contract_price<'a>(line: u64, get: impl Fn(&str) -> &'a str) -> Result<ContractPriceRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut need = |column: &str| {
        let v = get(column);
        if v.is_empty() {
            errors.push(RowError { line, column: column.into(), reason: "is empty".into() });
        }
        v
    };
    let contract_number = need("contract_number").to_string();
    let account = need("account").to_string();
    let sku_raw = need("sku");
    let price_raw = need("unit_price");
    let sku = if sku_raw.is_empty() {
        None
    } else {
        Sku::parse(sku_raw).map_err(|e| errors.push(RowError { line, column: "sku".into(), reason: e })).ok()
    };
    let min_qty = parse_min_qty(line, get("min_qty"), &mut errors);
    let unit_price = parse_unit_price(line, price_raw, &mut errors);
    let (valid_from, valid_to) = parse_validity(line, get("valid_from"), get("valid_to"), &mut errors);
    match (errors.is_empty(), sku, unit_price) {
        (true, Some(sku), Some(unit_price)) => Ok(ContractPriceRow {
            line,
            contract_number,
            account,
            contract_name: get("contract_name").to_string(),
            valid_from,
            valid_to,
            sku,
            min_qty,
            unit_price,
        }),
        _ => Err(errors),
    }
}

/// Cross-row rules: a (contract, SKU, min_qty) appears once; every row of a contract names the same
/// account, name and validity.
pub fn check_contract_rows(rows: &[ContractPriceRow]) -> Vec<RowError> {
    let mut out = Vec::new();
    let mut keys: HashMap<(&str, &str, i64), u64> = HashMap::new();
    let mut headers: HashMap<&str, &ContractPriceRow> = HashMap::new();
    for r in rows {
        if let Some(first) = keys.insert((&r.contract_number, r.sku.as_str(), r.min_qty), r.line) {
            out.push(RowError {
                line: r.line,
                column: "sku".into(),
                reason: format!(
                    "duplicate key: {} {} from {} already on line {first}",
                    r.contract_number, r.sku, r.min_qty
                ),
            });
        }
        match headers.get(r.contract_number.as_str()) {
            None => {
                headers.insert(&r.contract_number, r);
            }
            Some(h) => {
                for (column, same) in [
                    ("account", h.account == r.account),
                    ("contract_name", h.contract_name == r.contract_name),
                    ("valid_from", h.valid_from == r.valid_from),
                    ("valid_to", h.valid_to == r.valid_to),
                ] {
                    if !same {
                        out.push(RowError {
                            line: r.line,
                            column: column.into(),
                            reason: format!("differs from line {} for contract {}", h.line, r.contract_number),
                        });
                    }
                }
            }
        }
    }
    out
}

/// A cell made safe for spreadsheets: text starting with `= + - @` (or tab/CR) would run as a
/// formula, so it is prefixed with an apostrophe. Plain numbers (prices, "-3") stay as they are.
pub fn neutralise_cell(v: &str) -> String {
    let risky = v.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let numeric = <rust_decimal::Decimal as std::str::FromStr>::from_str(v).is_ok();
    if risky && !numeric { format!("'{v}") } else { v.to_string() }
}

/// The inverse of [`neutralise_cell`] on import, so an exported file imports back unchanged.
pub fn restore_cell(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> &'a str {
        move |c| cells.iter().find(|(k, _)| *k == c).map(|(_, v)| *v).unwrap_or("")
    }

    #[test]
    fn a_good_row_parses() {
        let cells = [
            ("contract_number", "C-1"),
            ("account", "A-10001"),
            ("sku", "glv-1"),
            ("min_qty", "10"),
            ("unit_price", "7.25"),
            ("valid_to", "2027-03-31"),
        ];
        let r = parse_contract_price(2, row(&cells)).unwrap();
        assert_eq!((r.sku.as_str(), r.min_qty, r.unit_price), ("GLV-1", 10, Money::parse("7.25").unwrap()));
    }

    #[test]
    fn every_problem_of_a_row_is_named() {
        let cells = [
            ("contract_number", ""),
            ("account", "A"),
            ("sku", "bad sku"),
            ("min_qty", "x"),
            ("unit_price", "-1"),
            ("valid_from", "2027-05-01"),
            ("valid_to", "2027-01-01"),
        ];
        let errs = parse_contract_price(7, row(&cells)).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, vec!["contract_number", "sku", "min_qty", "unit_price", "valid_to"]);
        assert!(errs.iter().all(|e| e.line == 7));
        assert!(errs[4].reason.contains("inverted"));
    }

    #[test]
    fn header_and_cross_row_checks() {
        let h: Vec<String> = ["contract_number", "sku", "price", "sku"].iter().map(|s| s.to_string()).collect();
        let errs = check_header(&h);
        assert!(errs.iter().any(|e| e.reason.contains("“account” is missing")));
        assert!(errs.iter().any(|e| e.reason.contains("unknown column “price”")));
        assert!(errs.iter().any(|e| e.reason.contains("appears twice")));
        let cells_a = [("contract_number", "C-1"), ("account", "A-1"), ("sku", "X"), ("unit_price", "1")];
        let cells_b = [("contract_number", "C-1"), ("account", "A-2"), ("sku", "X"), ("unit_price", "2")];
        let rows =
            vec![parse_contract_price(2, row(&cells_a)).unwrap(), parse_contract_price(3, row(&cells_b)).unwrap()];
        let errs = check_contract_rows(&rows);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].reason.contains("already on line 2"));
        assert!(errs[1].column == "account");
    }

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        assert_eq!(neutralise_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_cell("+cmd"), "'+cmd");
        assert_eq!(neutralise_cell("-3"), "-3");
        assert_eq!(neutralise_cell("Gloves"), "Gloves");
        for v in ["=1+1", "@x", "plain", "-3", "'quoted"] {
            assert_eq!(restore_cell(&neutralise_cell(v)), v);
        }
    }
}
