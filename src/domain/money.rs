//! Exact money (DESIGN.md invariant 3).
//!
//! An amount is an `i64` count of ten-thousandths of the seller's currency unit, stored as BIGINT on
//! both backends so SQL `SUM` stays exact. Four decimals hold unit prices such as 0.0125; amounts a
//! customer pays (line totals, tax, invoice totals) are rounded to cents with [`Money::round_to_cents`],
//! the one place rounding happens. Rounding is **half away from zero** ("commercial rounding", what
//! buyers check on a calculator and what most ERPs use): 0.125 → 0.13, −0.125 → −0.13.

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// Ten-thousandths per currency unit.
pub const SCALE: i64 = 10_000;
const CENT: i64 = 100;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("“{0}” is not an amount (use digits with an optional decimal point, e.g. 1250.00)")]
    Invalid(String),
    #[error("“{0}” has more than 4 decimal places")]
    TooPrecise(String),
    #[error("amount is too large")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
    /// Above [`crate::domain::input::MAX_AMOUNT`], the largest amount accepted as input.
    #[error("amount is too large: at most 999999999999.99")]
    AboveMaximum,
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// From the stored integer (ten-thousandths).
    pub const fn from_raw(raw: i64) -> Money {
        Money(raw)
    }

    /// The stored integer (ten-thousandths).
    pub const fn raw(self) -> i64 {
        self.0
    }

    pub const fn from_cents(cents: i64) -> Money {
        Money(cents * CENT)
    }

    pub fn from_units(units: i64) -> Option<Money> {
        units.checked_mul(SCALE).map(Money)
    }

    /// Parses user or file input such as `1250`, `1,250.50`, `0.0125`, `-3.10`.
    /// Thousands separators are accepted; more than four decimals are refused, never rounded silently.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let cleaned: String = input.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
        let cleaned = cleaned.strip_prefix('$').unwrap_or(&cleaned);
        if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
            return Err(MoneyError::Invalid(input.trim().to_string()));
        }
        let d = Decimal::from_str(cleaned).map_err(|_| MoneyError::Invalid(input.trim().to_string()))?;
        Money::from_decimal(d).map_err(|e| match e {
            MoneyError::TooPrecise(_) => MoneyError::TooPrecise(input.trim().to_string()),
            other => other,
        })
    }

    /// Like [`Money::parse`] but within the bounds of an amount entered as input (prices, credit
    /// limits): 0 ..= [`crate::domain::input::MAX_AMOUNT`].
    pub fn parse_non_negative(input: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(input)?;
        if m.is_negative() {
            return Err(MoneyError::Negative);
        }
        if m > crate::domain::input::MAX_AMOUNT {
            return Err(MoneyError::AboveMaximum);
        }
        Ok(m)
    }

    pub fn from_decimal(d: Decimal) -> Result<Money, MoneyError> {
        let scaled = d.checked_mul(Decimal::from(SCALE)).ok_or(MoneyError::Overflow)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise(d.to_string()));
        }
        i64::try_from(scaled).map(Money).map_err(|_| MoneyError::Overflow)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 4)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// Unit price × quantity, exact (no rounding: a unit price of 0.0125 × 7 is 0.0875).
    pub fn checked_mul_qty(self, qty: i64) -> Option<Money> {
        self.0.checked_mul(qty).map(Money)
    }

    /// Rounds to whole cents, half away from zero. The only rounding rule in Portico.
    pub fn round_to_cents(self) -> Money {
        let rem = self.0 % CENT;
        let base = self.0 - rem;
        let adjusted = if rem.abs() * 2 >= CENT { base + rem.signum() * CENT } else { base };
        Money(adjusted)
    }

    /// Applies a percentage given in basis points (1/100 of a percent), rounded to cents.
    /// Used for tax and discounts: 19.95 at 825 bp (8.25 %) → 1.65.
    pub fn percent_bp(self, basis_points: i64) -> Option<Money> {
        // raw × bp / 10_000, rounded half away from zero at the 4th decimal, then to cents.
        let num = (self.0 as i128).checked_mul(basis_points as i128)?;
        let q = num / 10_000;
        let r = num % 10_000;
        let q = if r.abs() * 2 >= 10_000 { q + r.signum() } else { q };
        i64::try_from(q).ok().map(|v| Money(v).round_to_cents())
    }

    /// Sum of amounts; `None` on overflow.
    pub fn sum<I: IntoIterator<Item = Money>>(items: I) -> Option<Money> {
        items.into_iter().try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }

    /// Display with thousands separators and 2 decimals, or up to 4 when the sub-cent digits matter
    /// (unit prices like 0.0125). No currency symbol: templates add it.
    pub fn format(self) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let units = abs / SCALE as u64;
        let frac = abs % SCALE as u64;
        let mut frac_s = format!("{frac:04}");
        while frac_s.len() > 2 && frac_s.ends_with('0') {
            frac_s.pop();
        }
        let digits = units.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{}{grouped}.{frac_s}", if neg { "-" } else { "" })
    }

    /// Plain form for inputs and CSV: no separators, at least 2 decimals (`1250.50`, `0.0125`).
    pub fn to_plain(self) -> String {
        self.format().replace(',', "")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(m("1250").raw(), 12_500_000);
        assert_eq!(m("1,250.50").format(), "1,250.50");
        assert_eq!(m("0.0125").format(), "0.0125");
        assert_eq!(m("0.1").format(), "0.10");
        assert_eq!(m("-3.10").format(), "-3.10");
        assert_eq!(m("1234567.891").format(), "1,234,567.891");
        assert_eq!(m("$25,000").to_plain(), "25000.00");
        assert_eq!(Money::ZERO.format(), "0.00");
    }

    #[test]
    fn refuses_bad_input() {
        assert!(matches!(Money::parse("abc"), Err(MoneyError::Invalid(_))));
        assert!(matches!(Money::parse(""), Err(MoneyError::Invalid(_))));
        assert!(matches!(Money::parse("1e5"), Err(MoneyError::Invalid(_))));
        assert!(matches!(Money::parse("0.00001"), Err(MoneyError::TooPrecise(_))));
        assert!(matches!(Money::parse("99999999999999999999"), Err(MoneyError::Overflow)));
        assert!(matches!(Money::parse_non_negative("-1"), Err(MoneyError::Negative)));
    }

    #[test]
    fn decimal_arithmetic_has_no_float_drift() {
        // 0.1 + 0.2 == 0.3 exactly, unlike f64.
        let total = Money::sum([m("0.1"), m("0.2")]).unwrap();
        assert_eq!(total, m("0.3"));
        // A unit price with sub-cent digits times a quantity is exact before rounding.
        assert_eq!(m("0.0125").checked_mul_qty(7).unwrap(), m("0.0875"));
        assert_eq!(m("19.99").checked_mul_qty(3).unwrap(), m("59.97"));
    }

    #[test]
    fn rounds_half_away_from_zero_to_cents() {
        assert_eq!(m("0.125").round_to_cents(), m("0.13"));
        assert_eq!(m("0.1249").round_to_cents(), m("0.12"));
        assert_eq!(m("0.0875").round_to_cents(), m("0.09"));
        assert_eq!(m("-0.125").round_to_cents(), m("-0.13"));
        assert_eq!(m("-0.1249").round_to_cents(), m("-0.12"));
        assert_eq!(m("2.50").round_to_cents(), m("2.50"));
        assert_eq!(m("0.005").round_to_cents(), m("0.01"));
        assert_eq!(m("0.0049").round_to_cents(), m("0.00"));
    }

    #[test]
    fn percentages_in_basis_points() {
        assert_eq!(m("19.95").percent_bp(825).unwrap(), m("1.65")); // 1.645875 → 1.65
        assert_eq!(m("100").percent_bp(1000).unwrap(), m("10"));
        assert_eq!(m("0.10").percent_bp(500).unwrap(), m("0.01")); // 0.005 → 0.01
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        let big = Money::from_raw(i64::MAX);
        assert!(big.checked_add(Money::from_raw(1)).is_none());
        assert!(big.checked_mul_qty(2).is_none());
        assert!(Money::sum([big, big]).is_none());
    }

    #[test]
    fn decimal_round_trip() {
        for s in ["0", "0.0001", "12.34", "-7.5", "1000000.0125"] {
            let v = m(s);
            assert_eq!(Money::from_decimal(v.to_decimal()).unwrap(), v);
        }
    }
}
