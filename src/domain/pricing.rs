//! Price resolution: which price a given account pays for a product at a quantity, and why.
//!
//! Pure: the caller loads every candidate source (the account's contracts, the price lists assigned
//! to the account and to its group, and the base list) and this decides. The most specific *valid*
//! source wins — quote (only on an order from an accepted quote) → contract → account price list → group price list → base — and within it the tier
//! with the highest minimum quantity not above the line quantity. A source that has no tier for the
//! quantity (its lowest break is above it) does not apply, and the next source is tried.

use super::money::Money;
use time::Date;

/// How specific a price source is; lower ranks win.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// A price the seller quoted this account (an order from an accepted quote).
    Quote,
    Contract,
    AccountList,
    GroupList,
    Base,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Quote => "quote",
            SourceKind::Contract => "contract",
            SourceKind::AccountList => "account_list",
            SourceKind::GroupList => "group_list",
            SourceKind::Base => "base",
        }
    }

    /// Short form for tables: "Contract", "Group list".
    pub fn short_label(self) -> &'static str {
        match self {
            SourceKind::Quote => "Quote",
            SourceKind::Contract => "Contract",
            SourceKind::AccountList => "Account list",
            SourceKind::GroupList => "Group list",
            SourceKind::Base => "List",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Quote => "Your quoted price",
            SourceKind::Contract => "Your contract price",
            SourceKind::AccountList => "Your account price list",
            SourceKind::GroupList => "Your group price list",
            SourceKind::Base => "List price",
        }
    }
}

/// One quantity break: from `min_qty` units on, each unit costs `unit_price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub min_qty: i64,
    pub unit_price: Money,
}

/// A contract or price list, with its tiers for one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceSource {
    pub kind: SourceKind,
    pub id: String,
    /// Shown to buyers: "C-1042", "Hospitals 2027".
    pub name: String,
    /// Among sources of the same kind, the lower number wins.
    pub priority: i64,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub tiers: Vec<Tier>,
}

impl PriceSource {
    /// Valid on `day`: both ends inclusive; open ends are unbounded.
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }

    /// The tier for `qty`: the highest minimum quantity not above it.
    pub fn tier_for(&self, qty: i64) -> Option<Tier> {
        self.tiers.iter().filter(|t| t.min_qty <= qty).max_by_key(|t| t.min_qty).copied()
    }
}

/// The price and the reason for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPrice {
    pub unit_price: Money,
    pub kind: SourceKind,
    pub source_id: String,
    pub source_name: String,
    /// Minimum quantity of the tier that applied (1 for an unbroken price).
    pub tier_min_qty: i64,
    pub valid_to: Option<Date>,
    /// The base list price at the same quantity, for comparison (None if the base list has none).
    pub list_price: Option<Money>,
}

impl ResolvedPrice {
    /// The explanation in words, e.g. "Your contract price — contract C-1042, valid to 31 Mar 2027".
    pub fn explain(&self) -> String {
        let mut s = match self.kind {
            SourceKind::Contract => format!("{} — contract {}", self.kind.label(), self.source_name),
            SourceKind::Quote => format!("{} — quote {}", self.kind.label(), self.source_name),
            SourceKind::Base => self.kind.label().to_string(),
            _ => format!("{} — {}", self.kind.label(), self.source_name),
        };
        if self.tier_min_qty > 1 {
            s.push_str(&format!(", volume price from {} units", self.tier_min_qty));
        }
        if let Some(to) = self.valid_to {
            s.push_str(&format!(", valid to {}", format_date(to)));
        }
        s
    }

    /// Whether the buyer pays less than list (to show the list price struck through).
    pub fn below_list(&self) -> bool {
        self.list_price.is_some_and(|l| l > self.unit_price)
    }
}

pub fn format_date(d: Date) -> String {
    d.format(time::macros::format_description!("[day padding:none] [month repr:short] [year]")).unwrap_or_default()
}

/// A date as forms and the API write it: `YYYY-MM-DD`.
pub fn format_iso_date(d: Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

/// A `YYYY-MM-DD` date, if `s` is one.
pub fn parse_iso_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Orders sources most specific first: kind, then priority, then id (so ties are deterministic).
fn precedence(a: &PriceSource, b: &PriceSource) -> std::cmp::Ordering {
    (a.kind, a.priority, &a.id).cmp(&(b.kind, b.priority, &b.id))
}

/// Resolves the unit price for `qty` units on `today`. `None` when no valid source prices the
/// product for this quantity (the product cannot be sold at this quantity to this account).
pub fn resolve(sources: &[PriceSource], qty: i64, today: Date) -> Option<ResolvedPrice> {
    if qty < 1 {
        return None;
    }
    let mut valid: Vec<&PriceSource> = sources.iter().filter(|s| s.is_valid_on(today)).collect();
    valid.sort_by(|a, b| precedence(a, b));
    let list_price =
        valid.iter().filter(|s| s.kind == SourceKind::Base).find_map(|s| s.tier_for(qty)).map(|t| t.unit_price);
    valid.iter().find_map(|s| {
        s.tier_for(qty).map(|tier| ResolvedPrice {
            unit_price: tier.unit_price,
            kind: s.kind,
            source_id: s.id.clone(),
            source_name: s.name.clone(),
            tier_min_qty: tier.min_qty,
            valid_to: s.valid_to,
            list_price,
        })
    })
}

/// The full tier table a buyer sees: for each break of the winning sources, the price they would
/// pay at that quantity. Breaks are collected from every valid source, then each is resolved, so
/// a contract's single price and the list's volume breaks combine exactly as orders would.
pub fn tier_table(sources: &[PriceSource], today: Date) -> Vec<(i64, ResolvedPrice)> {
    let mut breaks: Vec<i64> =
        sources.iter().filter(|s| s.is_valid_on(today)).flat_map(|s| s.tiers.iter().map(|t| t.min_qty)).collect();
    breaks.sort_unstable();
    breaks.dedup();
    let mut out: Vec<(i64, ResolvedPrice)> = Vec::new();
    for q in breaks {
        if let Some(p) = resolve(sources, q, today) {
            // Only show a row when the price changes.
            if out.last().is_none_or(|(_, last)| last.unit_price != p.unit_price || last.source_id != p.source_id) {
                out.push((q, p));
            }
        }
    }
    out
}

/// Problems with tiers as entered (imports and forms).
pub fn tier_problems(tiers: &[Tier]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in tiers {
        if let Err(e) = super::input::check_range(t.min_qty, 1, super::input::MAX_QUANTITY) {
            out.push(format!("tier minimum quantity {e}"));
        }
        if let Err(e) = super::input::check_amount(t.unit_price) {
            out.push(format!("price {}: {e}", t.unit_price));
        }
        if !seen.insert(t.min_qty) {
            out.push(format!("two tiers start at quantity {}", t.min_qty));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn src(kind: SourceKind, id: &str, tiers: &[(i64, &str)]) -> PriceSource {
        PriceSource {
            kind,
            id: id.into(),
            name: id.to_uppercase(),
            priority: 0,
            valid_from: None,
            valid_to: None,
            tiers: tiers.iter().map(|(q, p)| Tier { min_qty: *q, unit_price: m(p) }).collect(),
        }
    }

    #[test]
    fn most_specific_valid_source_wins_then_tier() {
        let today = date!(2026 - 11 - 26);
        let base = src(SourceKind::Base, "base", &[(1, "10.00"), (10, "9.00"), (100, "8.00")]);
        let group = src(SourceKind::GroupList, "hosp", &[(1, "9.50")]);
        let mut contract = src(SourceKind::Contract, "c-1042", &[(1, "7.25")]);
        contract.valid_to = Some(date!(2027 - 03 - 31));
        let all = vec![base.clone(), group.clone(), contract.clone()];
        let p = resolve(&all, 5, today).unwrap();
        assert_eq!((p.kind, p.unit_price, p.list_price), (SourceKind::Contract, m("7.25"), Some(m("10.00"))));
        assert_eq!(p.explain(), "Your contract price — contract C-1042, valid to 31 Mar 2027");
        // Without the contract, the group list; at 100 units the base's break still does not beat the group.
        let p = resolve(&[base.clone(), group.clone()], 100, today).unwrap();
        assert_eq!((p.kind, p.unit_price, p.list_price), (SourceKind::GroupList, m("9.50"), Some(m("8.00"))));
        let p = resolve(std::slice::from_ref(&base), 10, today).unwrap();
        assert_eq!((p.unit_price, p.tier_min_qty), (m("9.00"), 10));
        assert_eq!(p.explain(), "List price, volume price from 10 units");
        assert!(resolve(&[base], 0, today).is_none());
    }

    #[test]
    fn expired_and_future_sources_never_apply() {
        let today = date!(2026 - 11 - 26);
        let base = src(SourceKind::Base, "base", &[(1, "10.00")]);
        let mut expired = src(SourceKind::Contract, "old", &[(1, "1.00")]);
        expired.valid_to = Some(date!(2026 - 11 - 25));
        let mut future = src(SourceKind::Contract, "new", &[(1, "2.00")]);
        future.valid_from = Some(date!(2026 - 11 - 27));
        let p = resolve(&[base.clone(), expired.clone(), future.clone()], 1, today).unwrap();
        assert_eq!(p.kind, SourceKind::Base);
        // Both ends are inclusive.
        assert_eq!(resolve(&[base.clone(), expired], 1, date!(2026 - 11 - 25)).unwrap().unit_price, m("1.00"));
        assert_eq!(resolve(&[base, future], 1, date!(2026 - 11 - 27)).unwrap().unit_price, m("2.00"));
    }

    #[test]
    fn a_source_without_a_tier_for_the_quantity_falls_through() {
        let today = date!(2026 - 11 - 26);
        let base = src(SourceKind::Base, "base", &[(1, "10.00")]);
        let bulk_contract = src(SourceKind::Contract, "bulk", &[(50, "6.00")]);
        let all = vec![base, bulk_contract];
        assert_eq!(resolve(&all, 49, today).unwrap().kind, SourceKind::Base);
        assert_eq!(resolve(&all, 50, today).unwrap().kind, SourceKind::Contract);
        let table = tier_table(&all, today);
        assert_eq!(
            table.iter().map(|(q, p)| (*q, p.unit_price)).collect::<Vec<_>>(),
            vec![(1, m("10.00")), (50, m("6.00"))]
        );
    }

    #[test]
    fn priority_then_id_break_ties_within_a_kind() {
        let today = date!(2026 - 11 - 26);
        let mut a = src(SourceKind::AccountList, "a", &[(1, "5.00")]);
        let mut b = src(SourceKind::AccountList, "b", &[(1, "4.00")]);
        a.priority = 2;
        b.priority = 1;
        assert_eq!(resolve(&[a.clone(), b.clone()], 1, today).unwrap().source_id, "b");
        b.priority = 2;
        assert_eq!(resolve(&[b, a], 1, today).unwrap().source_id, "a");
    }

    #[test]
    fn tier_problems_are_named() {
        let t = |q, p: &str| Tier { min_qty: q, unit_price: m(p) };
        assert!(tier_problems(&[t(1, "1"), t(10, "0.5")]).is_empty());
        let p = tier_problems(&[t(0, "1"), t(5, "-1"), t(5, "2")]);
        assert_eq!(p.len(), 3, "{p:?}");
    }
}
