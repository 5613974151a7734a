//! Price list CSV rows (pure): `price_list, sku, min_qty, unit_price`, with optional list header
//! columns `list_name, priority, valid_from, valid_to`. Every problem is named by line and column.

use super::catalog::Sku;
use super::import::{RowError, parse_min_qty, parse_unit_price, parse_validity};
use super::money::Money;
use std::collections::HashMap;
use time::Date;

/// The columns of a price list file, in export order.
pub const PRICE_LIST_COLUMNS: [&str; 8] =
    ["price_list", "list_name", "priority", "valid_from", "valid_to", "sku", "min_qty", "unit_price"];
pub const PRICE_LIST_REQUIRED: [&str; 3] = ["price_list", "sku", "unit_price"];

/// The longest price list code (the API's rule too).
pub const MAX_CODE_LEN: usize = 32;

/// One price of a list as read from a file. Header cells left empty (or columns left out) keep what
/// the list has; a new list is named after its code with priority 100.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceListPriceRow {
    pub line: u64,
    /// The list's code, upper case.
    pub code: String,
    pub list_name: Option<String>,
    pub priority: Option<i64>,
    /// `None` when the file has no validity columns: the list's validity is left as it is.
    pub validity: Option<(Option<Date>, Option<Date>)>,
    pub sku: Sku,
    pub min_qty: i64,
    pub unit_price: Money,
}

/// Reads one data row (`get` returns the trimmed cell of a column, empty when absent);
/// `with_validity` says whether the file has a `valid_from` or `valid_to` column.
pub fn parse_price_list_price<'a>(
    line: u64,
    with_validity: bool,
    get: impl Fn(&str) -> &'a str,
) -> Result<PriceListPriceRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let err = |column: &str, reason: String| RowError { line, column: column.into(), reason };
    for c in PRICE_LIST_REQUIRED {
        if get(c).is_empty() {
            errors.push(err(c, "is empty".into()));
        }
    }
    let code = get("price_list").to_uppercase();
    if code.chars().count() > MAX_CODE_LEN {
        errors.push(err("price_list", format!("“{code}” is longer than {MAX_CODE_LEN} characters")));
    }
    let sku = match Sku::parse(get("sku")) {
        Ok(s) => Some(s),
        Err(reason) if !get("sku").is_empty() => {
            errors.push(err("sku", reason));
            None
        }
        Err(_) => None,
    };
    let priority = match get("priority") {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(p) if (0..=super::input::MAX_PRIORITY).contains(&p) => Some(p),
            _ => {
                let max = super::input::MAX_PRIORITY;
                errors.push(err("priority", format!("“{v}” is not a whole number from 0 to {max}")));
                None
            }
        },
    };
    let min_qty = parse_min_qty(line, get("min_qty"), &mut errors);
    let unit_price = parse_unit_price(line, get("unit_price"), &mut errors);
    let validity = with_validity.then(|| parse_validity(line, get("valid_from"), get("valid_to"), &mut errors));
    let list_name = Some(get("list_name").to_string()).filter(|n| !n.is_empty());
    match (errors.is_empty(), sku, unit_price) {
        (true, Some(sku), Some(unit_price)) => {
            Ok(PriceListPriceRow { line, code, list_name, priority, validity, sku, min_qty, unit_price })
        }
        _ => Err(errors),
    }
}

/// Cross-row rules: a (list, SKU, min_qty) appears once; the rows of one list agree on its name,
/// priority and validity.
pub fn check_price_list_rows(rows: &[PriceListPriceRow]) -> Vec<RowError> {
    let mut out = Vec::new();
    let mut keys: HashMap<(&str, &str, i64), u64> = HashMap::new();
    let mut headers: HashMap<&str, &PriceListPriceRow> = HashMap::new();
    for r in rows {
        if let Some(first) = keys.insert((&r.code, r.sku.as_str(), r.min_qty), r.line) {
            out.push(RowError {
                line: r.line,
                column: "sku".into(),
                reason: format!("duplicate key: {} {} from {} already on line {first}", r.code, r.sku, r.min_qty),
            });
        }
        let Some(h) = headers.get(r.code.as_str()) else {
            headers.insert(&r.code, r);
            continue;
        };
        for (column, same) in [
            ("list_name", h.list_name == r.list_name),
            ("priority", h.priority == r.priority),
            ("valid_from", h.validity.map(|v| v.0) == r.validity.map(|v| v.0)),
            ("valid_to", h.validity.map(|v| v.1) == r.validity.map(|v| v.1)),
        ] {
            if !same {
                out.push(RowError {
                    line: r.line,
                    column: column.into(),
                    reason: format!("differs from line {} for price list {}", h.line, r.code),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> &'a str {
        move |c| cells.iter().find(|(k, _)| *k == c).map(|(_, v)| *v).unwrap_or("")
    }

    #[test]
    fn a_good_row_parses_and_empty_header_cells_keep_the_list() {
        let cells = [("price_list", "whsl"), ("sku", "glv-1"), ("min_qty", "10"), ("unit_price", "7.25")];
        let r = parse_price_list_price(2, false, row(&cells)).unwrap();
        assert_eq!((r.code.as_str(), r.sku.as_str(), r.min_qty), ("WHSL", "GLV-1", 10));
        assert_eq!(r.unit_price, Money::parse("7.25").unwrap());
        assert_eq!((r.list_name, r.priority, r.validity), (None, None, None));
        let r = parse_price_list_price(2, true, row(&cells)).unwrap();
        assert_eq!(r.validity, Some((None, None)), "validity columns present and empty clear the dates");
    }

    #[test]
    fn every_problem_of_a_row_is_named() {
        let cells = [
            ("price_list", "LIST-WITH-A-CODE-FAR-TOO-LONG-FOR-ANY-ERP"),
            ("priority", "high"),
            ("sku", "bad sku"),
            ("min_qty", "0"),
            ("unit_price", "-2"),
            ("valid_from", "2027-05-01"),
            ("valid_to", "2027-01-01"),
        ];
        let errs = parse_price_list_price(9, true, row(&cells)).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, vec!["price_list", "sku", "priority", "min_qty", "unit_price", "valid_to"]);
        assert!(errs.iter().all(|e| e.line == 9));
        let empty = parse_price_list_price(3, false, row(&[])).unwrap_err();
        assert_eq!(empty.len(), 3, "{empty:?}");
    }

    #[test]
    fn duplicates_and_disagreeing_headers_are_reported() {
        let a = [("price_list", "W"), ("list_name", "Wholesale"), ("sku", "X"), ("unit_price", "1")];
        let b = [("price_list", "w"), ("list_name", "Other"), ("sku", "x"), ("unit_price", "2")];
        let rows = vec![
            parse_price_list_price(2, false, row(&a)).unwrap(),
            parse_price_list_price(3, false, row(&b)).unwrap(),
        ];
        let errs = check_price_list_rows(&rows);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].reason.contains("already on line 2"));
        assert_eq!(errs[1].column, "list_name");
    }
}
