//! Products: SKUs, quantity rules, stock availability as buyers see it.

use std::fmt;

/// A stock-keeping unit: 1–64 characters of A–Z, 0–9 and `- . _ /`, stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);

impl Sku {
    /// Parses a SKU as people and systems type it: surrounding space ignored, any case.
    pub fn parse(input: &str) -> Result<Sku, String> {
        let s = Sku::normalize(input);
        if s.is_empty() {
            return Err("SKU is empty".into());
        }
        if s.len() > 64 {
            return Err(format!("SKU “{s}” is longer than 64 characters"));
        }
        if let Some(bad) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/'))) {
            return Err(format!("SKU “{s}” contains “{bad}”; use letters, digits and - . _ /"));
        }
        Ok(Sku(s))
    }

    /// The text as a SKU is written (trimmed, upper-case), whether or not it is a valid one: how a
    /// request that names no product is echoed back.
    pub fn normalize(input: &str) -> String {
        input.trim().to_uppercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Words a product is found by: every word of its SKU, name and attribute values, lower-cased,
/// plus the parts of compound words ("glv-1082-m" also gives "glv", "1082", "m"). Searched by
/// prefix, so "nitr" finds "nitrile" and "glv-10" finds the SKU.
pub fn index_terms(texts: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in texts {
        for word in query_terms(text) {
            if word.contains(['-', '/', '.', '_']) {
                out.extend(word.split(['-', '/', '.', '_']).filter(|p| !p.is_empty()).map(str::to_string));
            }
            out.push(word);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The words of a search, lower-cased; every one must match (by prefix).
pub fn query_terms(text: &str) -> Vec<String> {
    text.to_lowercase()
        // Control characters separate words too: no product has one, and PostgreSQL refuses a NUL.
        .split(|c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '(' | ')' | '"' | '\'' | '+' | '*' | '%')
        })
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '-' | '/' | '_' | ':')))
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect())
        .collect()
}

/// Per order line: at least `min`, in steps of `multiple`, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantityRules {
    pub min: i64,
    pub multiple: i64,
    pub max: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantityProblem {
    NotPositive,
    /// Above [`MAX_LINE_QUANTITY`], whatever the product's own rules.
    TooLarge,
    BelowMinimum {
        min: i64,
    },
    NotMultiple {
        multiple: i64,
        lower: i64,
        upper: i64,
    },
    AboveMaximum {
        max: i64,
    },
}

impl fmt::Display for QuantityProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantityProblem::NotPositive => write!(f, "quantity must be at least 1"),
            QuantityProblem::TooLarge => write!(f, "a line holds at most 1,000,000 units"),
            QuantityProblem::BelowMinimum { min } => write!(f, "minimum order quantity is {min}"),
            QuantityProblem::NotMultiple { multiple, lower, upper } => {
                if *lower > 0 {
                    write!(f, "sold in multiples of {multiple} (try {lower} or {upper})")
                } else {
                    write!(f, "sold in multiples of {multiple} (try {upper})")
                }
            }
            QuantityProblem::AboveMaximum { max } => write!(f, "at most {max} per order line"),
        }
    }
}

impl QuantityProblem {
    /// A stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            QuantityProblem::NotPositive => "quantity",
            QuantityProblem::TooLarge => "quantity_too_large",
            QuantityProblem::BelowMinimum { .. } => "below_minimum",
            QuantityProblem::NotMultiple { .. } => "not_multiple",
            QuantityProblem::AboveMaximum { .. } => "above_maximum",
        }
    }
}

impl Default for QuantityRules {
    fn default() -> Self {
        QuantityRules { min: 1, multiple: 1, max: None }
    }
}

/// The most units one order, cart or list line may hold, for every product: a bound on what any
/// channel can ask for, so a typo or a hostile client cannot reserve every unit in stock or
/// overflow a total (a 1,000,000,000,000-unit line was once placed).
pub const MAX_LINE_QUANTITY: i64 = 1_000_000;

impl QuantityRules {
    pub fn check(&self, qty: i64) -> Result<(), QuantityProblem> {
        if qty < 1 {
            return Err(QuantityProblem::NotPositive);
        }
        if qty > MAX_LINE_QUANTITY {
            return Err(QuantityProblem::TooLarge);
        }
        if qty < self.min {
            return Err(QuantityProblem::BelowMinimum { min: self.min });
        }
        if self.multiple > 1 && qty % self.multiple != 0 {
            let lower = qty / self.multiple * self.multiple;
            return Err(QuantityProblem::NotMultiple {
                multiple: self.multiple,
                lower: if lower >= self.min { lower } else { 0 },
                upper: lower + self.multiple,
            });
        }
        if let Some(max) = self.max
            && qty > max
        {
            return Err(QuantityProblem::AboveMaximum { max });
        }
        Ok(())
    }

    /// Problems with the rules themselves (forms and imports).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.min < 1 {
            out.push("minimum quantity must be at least 1".to_string());
        }
        if self.multiple < 1 {
            out.push("order multiple must be at least 1".to_string());
        }
        if let Some(max) = self.max
            && max < self.min
        {
            out.push(format!("maximum {max} is below the minimum {}", self.min));
        }
        out
    }

    /// A short description for product pages: "min 10 · multiples of 5 · max 500".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.min > 1 {
            parts.push(format!("min {}", self.min));
        }
        if self.multiple > 1 {
            parts.push(format!("multiples of {}", self.multiple));
        }
        if let Some(max) = self.max {
            parts.push(format!("max {max}"));
        }
        parts.join(" · ")
    }

    /// The smallest valid quantity (what "Add" starts with).
    pub fn first_valid(&self) -> i64 {
        let m = self.multiple.max(1);
        let min = self.min.max(1);
        (min + m - 1) / m * m
    }
}

/// What to do when stock runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackorderPolicy {
    Deny,
    Allow,
}

impl BackorderPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            BackorderPolicy::Deny => "deny",
            BackorderPolicy::Allow => "allow",
        }
    }
    pub fn parse(s: &str) -> Option<BackorderPolicy> {
        match s.trim() {
            "deny" => Some(BackorderPolicy::Deny),
            "allow" => Some(BackorderPolicy::Allow),
            _ => None,
        }
    }
}

/// Units that can be promised: on hand minus reserved, never negative.
pub fn available(on_hand: i64, reserved: i64) -> i64 {
    (on_hand - reserved).max(0)
}

/// Units at or below which stock shows as "low".
pub const LOW_STOCK: i64 = 10;

/// How a product's stock reads to a buyer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockStatus {
    InStock(i64),
    Low(i64),
    Backorder { eta: Option<String> },
    OutOfStock,
}

impl StockStatus {
    pub fn of(available: i64, policy: BackorderPolicy, incoming_eta: Option<String>) -> StockStatus {
        if available > LOW_STOCK {
            StockStatus::InStock(available)
        } else if available > 0 {
            StockStatus::Low(available)
        } else if policy == BackorderPolicy::Allow {
            StockStatus::Backorder { eta: incoming_eta }
        } else {
            StockStatus::OutOfStock
        }
    }

    pub fn css(&self) -> &'static str {
        match self {
            StockStatus::InStock(_) => "active",
            StockStatus::Low(_) => "onboarding",
            StockStatus::Backorder { .. } => "on_hold",
            StockStatus::OutOfStock => "inactive",
        }
    }

    pub fn label(&self) -> String {
        match self {
            StockStatus::InStock(n) => format!("{n} in stock"),
            StockStatus::Low(n) => format!("Low: {n} left"),
            StockStatus::Backorder { eta: Some(d) } => format!("Backorder, expected {d}"),
            StockStatus::Backorder { eta: None } => "Backorder".to_string(),
            StockStatus::OutOfStock => "Out of stock".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_validated_and_normalised() {
        assert_eq!(Sku::parse(" glv-nit-m ").unwrap().as_str(), "GLV-NIT-M");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("A B").unwrap_err().contains("“ ”"));
        assert!(Sku::parse(&"X".repeat(65)).is_err());
        assert!(Sku::parse("SYR-10ML/LL_2.0").is_ok());
    }

    #[test]
    fn search_terms() {
        let t = index_terms(&["GLV-1082-M", "CuraLine Nitrile Exam Gloves, L, 100/box", "Blue"]);
        for w in
            ["glv-1082-m", "glv", "1082", "m", "curaline", "nitrile", "gloves", "l", "100/box", "100", "box", "blue"]
        {
            assert!(t.contains(&w.to_string()), "{w} in {t:?}");
        }
        assert_eq!(query_terms("  Nitrile, GLOVES  10% "), vec!["nitrile", "gloves", "10"]);
        assert!(query_terms(" -- ").is_empty());
        assert_eq!(query_terms("glo\u{0}ves\u{7f}"), vec!["glo", "ves"]);
    }

    #[test]
    fn quantity_rules() {
        let r = QuantityRules { min: 10, multiple: 5, max: Some(500) };
        assert!(r.check(10).is_ok() && r.check(15).is_ok() && r.check(500).is_ok());
        assert_eq!(r.check(5), Err(QuantityProblem::BelowMinimum { min: 10 }));
        assert_eq!(r.check(12).unwrap_err().to_string(), "sold in multiples of 5 (try 10 or 15)");
        assert_eq!(r.check(505), Err(QuantityProblem::AboveMaximum { max: 500 }));
        assert_eq!(r.check(0), Err(QuantityProblem::NotPositive));
        assert_eq!(r.describe(), "min 10 · multiples of 5 · max 500");
        assert_eq!(r.first_valid(), 10);
        assert_eq!(QuantityRules { min: 3, multiple: 4, max: None }.first_valid(), 4);
        assert!(QuantityRules { min: 0, multiple: 0, max: Some(-1) }.problems().len() == 3);
    }

    #[test]
    fn stock_reads_for_buyers() {
        assert_eq!(available(5, 9), 0);
        assert_eq!(StockStatus::of(50, BackorderPolicy::Deny, None).label(), "50 in stock");
        assert_eq!(StockStatus::of(3, BackorderPolicy::Deny, None).label(), "Low: 3 left");
        assert_eq!(
            StockStatus::of(0, BackorderPolicy::Allow, Some("4 Dec 2026".into())).label(),
            "Backorder, expected 4 Dec 2026"
        );
        assert_eq!(StockStatus::of(0, BackorderPolicy::Deny, None), StockStatus::OutOfStock);
    }
}
