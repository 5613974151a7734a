//! Stock CSV rows (pure): `sku, warehouse, on_hand[, incoming, incoming_eta]`. On hand is set, not
//! added: the file is the ERP's count. Every problem is named by line and column.

use super::catalog::Sku;
use super::import::RowError;
use super::input::{MAX_STOCK_LEVEL, check_range};
use std::collections::HashSet;
use time::Date;

/// The columns of a stock file, in export order.
pub const STOCK_COLUMNS: [&str; 5] = ["sku", "warehouse", "on_hand", "incoming", "incoming_eta"];
pub const STOCK_REQUIRED: [&str; 3] = ["sku", "warehouse", "on_hand"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockRow {
    pub line: u64,
    pub sku: Sku,
    /// Warehouse code, upper case.
    pub warehouse: String,
    pub on_hand: i64,
    /// `None` when the file has no incoming columns: incoming stock is left as it is.
    pub incoming: Option<(i64, Option<Date>)>,
}

fn quantity(line: u64, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<i64> {
    match v.parse::<i64>() {
        Ok(q) if q < 0 => {
            errors.push(RowError { line, column: column.into(), reason: format!("{v} is negative") });
            None
        }
        Ok(q) => match check_range(q, 0, MAX_STOCK_LEVEL) {
            Ok(q) => Some(q),
            Err(reason) => {
                errors.push(RowError { line, column: column.into(), reason });
                None
            }
        },
        Err(_) => {
            errors.push(RowError { line, column: column.into(), reason: format!("“{v}” is not a whole number") });
            None
        }
    }
}

/// Reads one data row (`get` returns the trimmed cell of a column, empty when absent);
/// `with_incoming` says whether the file has the incoming columns.
pub fn parse_stock_row<'a>(
    line: u64,
    with_incoming: bool,
    get: impl Fn(&str) -> &'a str,
) -> Result<StockRow, Vec<RowError>> {
    let mut errors = Vec::new();
    for c in STOCK_REQUIRED {
        if get(c).is_empty() {
            errors.push(RowError { line, column: c.into(), reason: "is empty".into() });
        }
    }
    let sku = match Sku::parse(get("sku")) {
        Ok(s) => Some(s),
        Err(reason) if !get("sku").is_empty() => {
            errors.push(RowError { line, column: "sku".into(), reason });
            None
        }
        Err(_) => None,
    };
    let on_hand = if get("on_hand").is_empty() { None } else { quantity(line, "on_hand", get("on_hand"), &mut errors) };
    let incoming = if with_incoming {
        let q = match get("incoming") {
            "" => Some(0),
            v => quantity(line, "incoming", v, &mut errors),
        };
        let eta = match get("incoming_eta") {
            "" => None,
            v => match Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(RowError {
                        line,
                        column: "incoming_eta".into(),
                        reason: format!("“{v}” is not a date (use YYYY-MM-DD)"),
                    });
                    None
                }
            },
        };
        if q == Some(0) && eta.is_some() {
            errors.push(RowError {
                line,
                column: "incoming_eta".into(),
                reason: "an ETA needs an incoming quantity".into(),
            });
        }
        q.map(|q| (q, eta))
    } else {
        None
    };
    match (errors.is_empty(), sku, on_hand) {
        (true, Some(sku), Some(on_hand)) => Ok(StockRow {
            line,
            sku,
            warehouse: get("warehouse").to_uppercase(),
            on_hand,
            incoming: if with_incoming { incoming } else { None },
        }),
        _ => Err(errors),
    }
}

/// Cross-row checks: the same SKU and warehouse twice.
pub fn check_stock_rows(rows: &[StockRow]) -> Vec<RowError> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter(|r| !seen.insert((r.sku.as_str().to_string(), r.warehouse.clone())))
        .map(|r| RowError {
            line: r.line,
            column: "sku".into(),
            reason: format!("{} in {} appears more than once", r.sku, r.warehouse),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> &'a str + 'a {
        move |c| cells.iter().find(|(k, _)| *k == c).map(|(_, v)| *v).unwrap_or("")
    }

    #[test]
    fn reads_a_row_and_names_every_problem() {
        let ok = parse_stock_row(
            2,
            true,
            row(&[
                ("sku", "glv-1"),
                ("warehouse", "chi"),
                ("on_hand", "40"),
                ("incoming", "10"),
                ("incoming_eta", "2027-01-15"),
            ]),
        )
        .unwrap();
        assert_eq!((ok.sku.as_str(), ok.warehouse.as_str(), ok.on_hand), ("GLV-1", "CHI", 40));
        assert_eq!(ok.incoming.unwrap().0, 10);
        let errs = parse_stock_row(
            3,
            true,
            row(&[("sku", ""), ("warehouse", "CHI"), ("on_hand", "-2"), ("incoming", "x"), ("incoming_eta", "soon")]),
        )
        .unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, vec!["sku", "on_hand", "incoming", "incoming_eta"]);
        assert!(
            parse_stock_row(4, false, row(&[("sku", "A-1"), ("warehouse", "CHI"), ("on_hand", "1")]))
                .unwrap()
                .incoming
                .is_none()
        );
    }

    #[test]
    fn duplicates_are_reported_on_the_repeat() {
        let r = |line, wh: &str| StockRow {
            line,
            sku: Sku::parse("A-1").unwrap(),
            warehouse: wh.into(),
            on_hand: 1,
            incoming: None,
        };
        let errs = check_stock_rows(&[r(2, "CHI"), r(3, "IND"), r(4, "CHI")]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 4);
    }
}
