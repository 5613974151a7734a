//! The bounds of every number and the rule for every text Portico accepts, in one place
//! (DESIGN.md invariant 8). Pages, the API and CSV imports all check against these, so a value is
//! accepted or refused the same way whatever channel sends it and whichever database stores it.
//!
//! Why bounds at all: an unbounded stock level (i64::MAX) was once accepted and then overflowed
//! every `SUM` that listed the product; a NUL character is stored by SQLite but refused by
//! PostgreSQL ("invalid byte sequence"). Refusing both at the edge of the service layer turns a
//! later 500 into a 422 that names the field.

use super::money::Money;

/// Units on hand (or incoming) of one product in one warehouse: 0 ..= 1,000,000,000. Far above
/// any real warehouse, far below where a sum over many warehouses and products could overflow.
pub const MAX_STOCK_LEVEL: i64 = 1_000_000_000;

/// One stock adjustment: -1,000,000,000 ..= 1,000,000,000 (not zero), and the level it leads to
/// stays within 0 ..= [`MAX_STOCK_LEVEL`].
pub const MAX_STOCK_DELTA: i64 = 1_000_000_000;

/// Units on one order, cart, list or quote line: 1 ..= 1,000,000. Also the bound of a product's
/// pack size and minimum / multiple / maximum order quantity and of a price tier's (volume
/// break's) minimum quantity: a rule no line could ever meet is a typo.
pub const MAX_QUANTITY: i64 = super::catalog::MAX_LINE_QUANTITY;

/// The largest amount of money Portico accepts as input (a price, a credit limit):
/// 999,999,999,999.99. Amounts are never negative as input. (Totals computed from bounded
/// inputs can still exceed it; they are computed with checked arithmetic and refused, never
/// wrapped.)
pub const MAX_AMOUNT: Money = Money::from_raw(9_999_999_999_999_900);

/// A price list's priority: 0 ..= 1,000,000 (lower wins).
pub const MAX_PRIORITY: i64 = 1_000_000;

/// Days: payment terms (net N), lead times and ETAs given as a number of days: 0 ..= 3,650 (ten
/// years). Payment terms have their own, tighter bound (`account::MAX_NET_DAYS`, 365).
pub const MAX_DAYS: i64 = 3_650;

/// A category's sort position: -1,000,000 ..= 1,000,000.
pub const MAX_SORT: i64 = 1_000_000;

/// Checks a whole number against its bounds; the message names the range.
pub fn check_range(value: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{} is out of range: use a whole number from {} to {}", value, group(min), group(max)))
    }
}

/// Checks an amount of money entered as input: 0 ..= [`MAX_AMOUNT`].
pub fn check_amount(value: Money) -> Result<Money, String> {
    if value.is_negative() {
        Err("amount must not be negative".into())
    } else if value > MAX_AMOUNT {
        Err(format!("{} is too large: at most {}", value.to_plain(), MAX_AMOUNT.to_plain()))
    } else {
        Ok(value)
    }
}

/// 1000000 → "1,000,000", for messages people read.
fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// What kind of text a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// One line (names, codes, SKUs, PO numbers, references): no control characters at all.
    Line,
    /// Several lines (notes, descriptions): tab, line feed and carriage return are allowed.
    Multiline,
}

/// Whether a character is refused in text of this kind: every C0 control (NUL always), DEL and
/// every C1 control; tab, line feed and carriage return only in one-line text.
pub fn is_refused(c: char, kind: TextKind) -> bool {
    match c {
        '\t' | '\n' | '\r' => kind == TextKind::Line,
        c => c.is_control(),
    }
}

/// Checks a text input; the message says which character was found and where (1-based), since a
/// control character is invisible in the text it is in.
pub fn check_text(value: &str, kind: TextKind) -> Result<(), String> {
    match value.chars().enumerate().find(|(_, c)| is_refused(*c, kind)) {
        None => Ok(()),
        Some((i, c)) => Err(format!(
            "contains a control character (U+{:04X}) at position {}; remove it{}",
            c as u32,
            i + 1,
            if kind == TextKind::Line && matches!(c, '\t' | '\n' | '\r') { " (this field is one line)" } else { "" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused() {
        assert!(check_text("PO-1234 / Müller & Söhne", TextKind::Line).is_ok());
        assert!(check_text("line one\r\n\tline two", TextKind::Multiline).is_ok());
        let nul = check_text("PO\u{0}1", TextKind::Multiline).unwrap_err();
        assert!(nul.contains("U+0000") && nul.contains("position 3"), "{nul}");
        assert!(check_text("a\nb", TextKind::Line).unwrap_err().contains("one line"));
        for c in ['\u{1}', '\u{1b}', '\u{7f}', '\u{80}', '\u{9f}'] {
            assert!(check_text(&format!("x{c}"), TextKind::Multiline).is_err(), "{c:?}");
        }
        assert!(check_text("\u{a0}€\u{200b}", TextKind::Line).is_ok(), "printable non-ASCII stays");
    }

    #[test]
    fn numbers_have_bounds() {
        assert_eq!(check_range(5, 0, MAX_STOCK_LEVEL), Ok(5));
        let e = check_range(i64::MAX, 0, MAX_STOCK_LEVEL).unwrap_err();
        assert!(e.contains("from 0 to 1,000,000,000"), "{e}");
        assert!(check_range(-1_000_000_001, -MAX_STOCK_DELTA, MAX_STOCK_DELTA).unwrap_err().contains("-1,000,000,000"));
        assert_eq!(MAX_AMOUNT.to_plain(), "999999999999.99");
        assert!(check_amount(MAX_AMOUNT).is_ok());
        assert!(check_amount(MAX_AMOUNT.checked_add(Money::from_cents(1)).unwrap()).is_err());
        assert!(check_amount(Money::from_cents(-1)).is_err());
    }
}
