//! Account and ship-to CSV rules (pure): the columns, shared by export and import so an export
//! imports back unchanged, and reading one row's cells into typed values with every problem named
//! by line and column. The account rules themselves (name, address, owning rep) are the account
//! service's, whichever channel writes.

use super::account::{AccountStatus, OwnershipMode, PaymentTerms};
use super::import::RowError;
use super::money::{Money, MoneyError};

/// The columns of an account file, in export order.
pub const ACCOUNT_COLUMNS: [&str; 17] = [
    "number",
    "external_id",
    "name",
    "status",
    "ownership_mode",
    "owner_rep",
    "terms",
    "credit_limit",
    "po_required",
    "phone",
    "group",
    "bill_line1",
    "bill_line2",
    "bill_city",
    "bill_region",
    "bill_postal_code",
    "bill_country",
];
pub const ACCOUNT_REQUIRED: [&str; 1] = ["name"];

/// The columns of a ship-to file, in export order.
pub const SHIP_TO_COLUMNS: [&str; 11] =
    ["account", "id", "external_id", "label", "default", "line1", "line2", "city", "region", "postal_code", "country"];
pub const SHIP_TO_REQUIRED: [&str; 6] = ["account", "label", "line1", "city", "postal_code", "country"];

/// The longest cell an account or ship-to file may hold (characters); longer is refused by name
/// before any rule reads it.
pub const MAX_CELL_CHARS: usize = 1000;

/// An account row as read. A field is `None` when its column is absent from the file: an update
/// keeps what is stored, a new account takes the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountLine {
    pub line: u64,
    /// Portico's number (`A-10001`); empty for a new account.
    pub number: String,
    /// The ERP's id; empty for none.
    pub external_id: String,
    pub name: String,
    pub status: Option<AccountStatus>,
    pub ownership_mode: Option<OwnershipMode>,
    /// The owning rep's e-mail address or id (`Some("")`: none).
    pub owner_rep: Option<String>,
    pub terms: Option<PaymentTerms>,
    pub credit_limit: Option<Money>,
    pub po_required: Option<bool>,
    pub phone: Option<String>,
    /// The account group by name (`Some("")`: none).
    pub group: Option<String>,
    /// bill_line1 … bill_country, in [`ACCOUNT_COLUMNS`] order.
    pub bill_to: [Option<String>; 6],
}

/// The bill-to columns, in the order of [`AccountLine::bill_to`].
pub const BILL_COLUMNS: [&str; 6] =
    ["bill_line1", "bill_line2", "bill_city", "bill_region", "bill_postal_code", "bill_country"];

/// A ship-to row as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipToLine {
    pub line: u64,
    /// The account's number, id or external id.
    pub account: String,
    /// Portico's id of the ship-to; empty for a new one (then `external_id` keys it).
    pub id: String,
    pub external_id: String,
    pub label: String,
    /// `true` makes it the account's default; `false` or empty leaves the default where it is.
    pub make_default: bool,
    /// line1, line2, city, region, postal_code, country.
    pub address: [String; 6],
}

/// A `true`/`false` cell (also yes/no, 1/0); `None` when empty.
pub fn parse_bool(line: u64, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "" => None,
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => {
            errors.push(RowError { line, column: column.into(), reason: format!("“{v}” is not true or false") });
            None
        }
    }
}

/// Refuses cells longer than [`MAX_CELL_CHARS`], naming each.
fn check_lengths<'a>(line: u64, columns: &[&str], get: &impl Fn(&str) -> Option<&'a str>) -> Vec<RowError> {
    columns
        .iter()
        .filter_map(|c| {
            let n = get(c)?.chars().count();
            (n > MAX_CELL_CHARS).then(|| RowError {
                line,
                column: c.to_string(),
                reason: format!("is {n} characters long; a cell holds at most {MAX_CELL_CHARS}"),
            })
        })
        .collect()
}

/// Reads one account row; `get` returns a column's trimmed cell, `None` when the file has no
/// such column.
pub fn parse_account<'a>(line: u64, get: impl Fn(&str) -> Option<&'a str>) -> Result<AccountLine, Vec<RowError>> {
    let mut errors = check_lengths(line, &ACCOUNT_COLUMNS, &get);
    if !errors.is_empty() {
        return Err(errors);
    }
    let err = |column: &str, reason: String| RowError { line, column: column.into(), reason };
    let text = |c: &str| get(c).unwrap_or("").to_string();
    let (number, external_id) = (text("number"), text("external_id"));
    if number.is_empty() && external_id.is_empty() {
        errors.push(err(
            "external_id",
            "give the account's number or its external_id (a row with neither would create a new account on every import)"
                .into(),
        ));
    }
    let name = text("name");
    if name.is_empty() {
        errors.push(err("name", "is empty".into()));
    }
    let status = match get("status") {
        None | Some("") => None,
        Some(v) => AccountStatus::parse(&v.to_ascii_lowercase()).or_else(|| {
            errors.push(err("status", format!("“{v}” is not a status (active, on_hold, onboarding)")));
            None
        }),
    };
    let ownership_mode = match get("ownership_mode") {
        None | Some("") => None,
        Some(v) => OwnershipMode::parse(&v.to_ascii_lowercase()).or_else(|| {
            errors
                .push(err("ownership_mode", format!("“{v}” is not an ownership mode (rep_led, self_service, hybrid)")));
            None
        }),
    };
    let terms = match get("terms") {
        None | Some("") => None,
        Some(v) => PaymentTerms::parse(v).or_else(|| {
            errors.push(err("terms", format!("“{v}” is not payment terms (prepay, or net1 to net365)")));
            None
        }),
    };
    let credit_limit = match get("credit_limit") {
        None => None,
        Some("") => Some(Money::ZERO),
        Some(v) => match Money::parse_non_negative(v) {
            Ok(m) => Some(m),
            Err(MoneyError::Negative) => {
                errors.push(err("credit_limit", format!("{v} is negative")));
                None
            }
            Err(e) => {
                errors.push(err("credit_limit", format!("“{v}”: {e}")));
                None
            }
        },
    };
    let po_required = get("po_required").map(|v| parse_bool(line, "po_required", v, &mut errors).unwrap_or(false));
    let own = |c: &str| get(c).map(str::to_string);
    let bill_to = BILL_COLUMNS.map(own);
    if errors.is_empty() {
        Ok(AccountLine {
            line,
            number,
            external_id,
            name,
            status,
            ownership_mode,
            owner_rep: own("owner_rep"),
            terms,
            credit_limit,
            po_required,
            phone: own("phone"),
            group: own("group"),
            bill_to,
        })
    } else {
        Err(errors)
    }
}

/// Reads one ship-to row (`get` as for [`parse_account`]).
pub fn parse_ship_to<'a>(line: u64, get: impl Fn(&str) -> Option<&'a str>) -> Result<ShipToLine, Vec<RowError>> {
    let mut errors = check_lengths(line, &SHIP_TO_COLUMNS, &get);
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |c: &str| get(c).unwrap_or("").to_string();
    let (account, id, external_id) = (text("account"), text("id"), text("external_id"));
    if account.is_empty() {
        errors.push(RowError { line, column: "account".into(), reason: "is empty".into() });
    }
    if id.is_empty() && external_id.is_empty() {
        errors.push(RowError {
            line,
            column: "external_id".into(),
            reason: "give the ship-to's id or its external_id (a row with neither would add the location again on every import)"
                .into(),
        });
    }
    let make_default = parse_bool(line, "default", get("default").unwrap_or(""), &mut errors).unwrap_or(false);
    let address = ["line1", "line2", "city", "region", "postal_code", "country"].map(text);
    if errors.is_empty() {
        Ok(ShipToLine { line, account, id, external_id, label: text("label"), make_default, address })
    } else {
        Err(errors)
    }
}

/// The file column of a problem the account rules name (`owner_rep_id`, `bill_city`, …).
pub fn account_column(field: &str) -> &str {
    match field {
        "owner_rep_id" => "owner_rep",
        f => f,
    }
}

/// The file column of a problem the ship-to rules name (`ship_label`, `ship_city`, …).
pub fn ship_to_column(field: &str) -> &str {
    field.strip_prefix("ship_").unwrap_or(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |c| cells.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
    }

    #[test]
    fn an_account_row_parses_and_absent_columns_stay_unset() {
        let row = [("number", "A-10001"), ("name", "Acme"), ("terms", "net45"), ("credit_limit", "1000.50")];
        let a = parse_account(2, cells(&row)).unwrap();
        assert_eq!(a.terms, Some(PaymentTerms::Net(45)));
        assert_eq!(a.credit_limit, Some(Money::parse("1000.50").unwrap()));
        assert_eq!((a.status, a.owner_rep, a.bill_to[0].clone()), (None, None, None));
    }

    #[test]
    fn every_problem_of_an_account_row_is_named() {
        let row =
            [("name", ""), ("status", "gone"), ("terms", "net999"), ("credit_limit", "-1"), ("po_required", "maybe")];
        let errs = parse_account(5, cells(&row)).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, ["external_id", "name", "status", "terms", "credit_limit", "po_required"]);
        assert!(errs.iter().all(|e| e.line == 5));
    }

    #[test]
    fn huge_cells_are_refused_by_name() {
        let long = "x".repeat(MAX_CELL_CHARS + 1);
        let row = [("account", "A-1"), ("external_id", "E"), ("label", long.as_str())];
        let errs = parse_ship_to(3, cells(&row)).unwrap_err();
        assert_eq!((errs[0].column.as_str(), errs.len()), ("label", 1));
        assert!(errs[0].reason.contains("at most 1000"));
    }

    #[test]
    fn a_ship_to_needs_a_key() {
        let row = [("account", "A-1"), ("label", "Dock"), ("default", "TRUE")];
        let errs = parse_ship_to(4, cells(&row)).unwrap_err();
        assert_eq!(errs[0].column, "external_id");
        assert_eq!(ship_to_column("ship_postal_code"), "postal_code");
        assert_eq!(account_column("owner_rep_id"), "owner_rep");
    }
}
