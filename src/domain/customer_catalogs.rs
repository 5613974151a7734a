//! Customer catalogs, as rules: which products an account may see and buy. A catalog is every
//! product (`includes_all`) or the categories and products it includes, minus those it excludes;
//! an account sees the union of the catalogs assigned to it or to its group, else the default
//! catalog. The store materialises the membership; this module only says what a valid catalog
//! and rule are.

use std::fmt;

/// What one rule of a catalog does. Category rules cover the category and everything beneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    IncludeCategory,
    ExcludeCategory,
    IncludeProduct,
    ExcludeProduct,
}

impl RuleKind {
    pub const ALL: [RuleKind; 4] =
        [RuleKind::IncludeCategory, RuleKind::ExcludeCategory, RuleKind::IncludeProduct, RuleKind::ExcludeProduct];

    /// The stored and API name (`include_category`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::IncludeCategory => "include_category",
            RuleKind::ExcludeCategory => "exclude_category",
            RuleKind::IncludeProduct => "include_product",
            RuleKind::ExcludeProduct => "exclude_product",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RuleKind::IncludeCategory => "Include category",
            RuleKind::ExcludeCategory => "Exclude category",
            RuleKind::IncludeProduct => "Include product",
            RuleKind::ExcludeProduct => "Exclude product",
        }
    }

    pub fn parse(s: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Whether the rule names a category (by path) rather than a product (by SKU).
    pub fn is_category(self) -> bool {
        matches!(self, RuleKind::IncludeCategory | RuleKind::ExcludeCategory)
    }

    pub fn is_include(self) -> bool {
        matches!(self, RuleKind::IncludeCategory | RuleKind::IncludeProduct)
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most rules one catalog holds: a catalog is built from categories; thousands of single
/// products belong in a category of their own.
pub const MAX_RULES: usize = 1_000;
/// The most accounts and groups one catalog is assigned to in one document.
pub const MAX_ASSIGNMENTS: usize = 10_000;

/// A catalog's header as someone typed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogHeader {
    pub name: String,
    pub includes_all: bool,
    pub is_default: bool,
}

impl CatalogHeader {
    /// The name trimmed, or why it is not a name: (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let name = self.name.trim();
        let mut out = Vec::new();
        if name.is_empty() || name.chars().count() > 100 {
            out.push(("name".to_string(), "A catalog name is 1 to 100 characters.".to_string()));
        }
        out
    }
}

/// Why a catalog with these rules shows nothing, if it does: a hint for the admin, not an error.
pub fn emptiness_hint(includes_all: bool, rules: &[RuleKind]) -> Option<&'static str> {
    if includes_all || rules.iter().any(|r| r.is_include()) {
        None
    } else {
        Some("This catalog includes nothing yet: tick “every product” or include a category or a product.")
    }
}

/// Rules that appear twice (same kind, same target) in a document, by position: the second and
/// later ones.
pub fn duplicate_rules<T: Eq + std::hash::Hash>(rules: &[(RuleKind, T)]) -> Vec<usize> {
    let mut seen = std::collections::HashSet::new();
    rules.iter().enumerate().filter(|(_, r)| !seen.insert((r.0, &r.1))).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_kinds_round_trip() {
        for k in RuleKind::ALL {
            assert_eq!(RuleKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(RuleKind::parse("include_everything"), None);
        assert!(RuleKind::IncludeCategory.is_category() && !RuleKind::ExcludeProduct.is_category());
    }

    #[test]
    fn names_and_hints() {
        let h = |name: &str| CatalogHeader { name: name.into(), includes_all: false, is_default: false };
        assert!(h("Contractors").problems().is_empty());
        assert_eq!(h("  ").problems()[0].0, "name");
        assert_eq!(h(&"x".repeat(101)).problems().len(), 1);
        assert!(emptiness_hint(false, &[RuleKind::ExcludeCategory]).is_some());
        assert!(emptiness_hint(false, &[RuleKind::IncludeProduct]).is_none());
        assert!(emptiness_hint(true, &[]).is_none());
        assert_eq!(duplicate_rules(&[(RuleKind::IncludeProduct, "a"), (RuleKind::IncludeProduct, "a")]), vec![1]);
    }
}
