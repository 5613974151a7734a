//! Commission rules (DESIGN.md §3 "Commission", issue 18): which rate a plan gives an invoiced
//! line and why, what a line earns, what a credit note claws back, which period a line lands in,
//! and a statement's totals with its tier bonus and cap. Pure: the store loads the plan and the
//! lines, the service writes them.
//!
//! **Rates** are parts per million (ppm), the unit of tax rates: 5 % is 50,000, 0.125 % is 1,250;
//! at most 100 % ([`MAX_RATE_PPM`]). Typed and shown as percentages with up to 4 decimals
//! (`invoicing::parse_rate` / `format_rate`).
//!
//! **Which rate.** A channel override for the order's channel wins; else the rate of the longest
//! category path the product's category starts with ("Dental" covers "Dental / Burs"); else the
//! plan's default rate. The rule that applied is kept on every line ([`Rate::rule`]), like a price's
//! explanation.
//!
//! **Rounding rule (one, stated here).** Commission is computed per invoice line on what is still
//! invoiced of it — its net less what credit notes credited — × rate, rounded half away from zero
//! to whole cents ([`commission`], the same rounding as tax). The invoice writes that figure for its
//! full net; each credit note writes the *change* in it ([`clawback`]). So the lines of an invoice
//! line always add up exactly to the rounded commission on what remains invoiced of it, a fully
//! credited line nets to exactly zero, and an order invoiced in parts sums to its invoice lines'
//! commissions — never counted twice, and within half a cent per invoice line of rate × net
//! invoiced (property-tested below).
//!
//! **Tiers and caps** are per plan and period, on the statement: the highest tier whose threshold
//! the period's net base (of that plan's lines) reaches adds its bonus rate on that whole base
//! (rounded as above); a cap then limits what the plan's lines and bonus pay in the period. Both
//! are shown as adjustment lines, so the accrual lines themselves never change.

use super::invoicing::line_tax;
use super::money::Money;
use serde::{Deserialize, Serialize};

pub use super::invoicing::MAX_RATE_PPM;

/// Every order channel (orders.channel).
pub const CHANNELS: [&str; 6] = ["portal", "rep", "phone", "api", "edi", "punchout"];

/// Channels where the customer placed the order themselves (their "self-service" orders).
pub const SELF_SERVICE: [&str; 2] = ["portal", "punchout"];

pub fn is_self_service(channel: &str) -> bool {
    SELF_SERVICE.contains(&channel)
}

/// When a plan's commission accrues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// When the invoice is issued (the default).
    Invoiced,
    /// When the invoice is paid (stored on the plan; accrual on payment is not built yet).
    Paid,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Invoiced => "invoiced",
            Basis::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Option<Basis> {
        [Basis::Invoiced, Basis::Paid].into_iter().find(|b| b.as_str() == s.trim())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRate {
    /// A category path ("Dental / Burs"); covers its sub-categories.
    pub path: String,
    pub rate_ppm: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRate {
    pub channel: String,
    pub rate_ppm: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Net base (ten-thousandths) the period must reach.
    pub threshold: i64,
    /// Extra rate on the period's whole base once reached.
    pub bonus_ppm: i64,
}

/// A plan's rules besides its default rate (stored as JSON on the plan).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRules {
    #[serde(default)]
    pub categories: Vec<CategoryRate>,
    #[serde(default)]
    pub channels: Vec<ChannelRate>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Most a plan's lines (and bonus) pay per period, in ten-thousandths.
    #[serde(default)]
    pub cap: Option<i64>,
}

/// What a plan is, as the accrual needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub default_rate_ppm: i64,
    pub basis: Basis,
    pub rules: PlanRules,
}

/// A rate and the rule it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rate {
    pub ppm: i64,
    /// `default`, `category:<path>` or `channel:<channel>`.
    pub rule: String,
}

/// The rule of a line as people read it: "Channel portal", "Category Dental", "Default rate".
pub fn rule_label(rule: &str) -> String {
    match rule.split_once(':') {
        Some(("category", path)) => format!("Category {path}"),
        Some(("channel", c)) => format!("Channel {c}"),
        Some(("clawback", inner)) => format!("Clawback ({})", rule_label(inner)),
        _ => "Default rate".into(),
    }
}

/// Does `category` (a path) fall under `prefix` (itself or a sub-category)? Case-insensitive.
fn under(category: &str, prefix: &str) -> bool {
    let (c, p) = (category.trim().to_lowercase(), prefix.trim().to_lowercase());
    !p.is_empty() && (c == p || c.starts_with(&format!("{p} /")))
}

/// The rate `plan` gives a line of a product in `category` on an order from `channel` (see the
/// module doc for the order of rules).
pub fn rate_for(plan: &Plan, category: &str, channel: &str) -> Rate {
    if let Some(c) = plan.rules.channels.iter().find(|c| c.channel == channel) {
        return Rate { ppm: c.rate_ppm, rule: format!("channel:{channel}") };
    }
    let best = plan.rules.categories.iter().filter(|c| under(category, &c.path)).max_by_key(|c| c.path.trim().len());
    match best {
        Some(c) => Rate { ppm: c.rate_ppm, rule: format!("category:{}", c.path.trim()) },
        None => Rate { ppm: plan.default_rate_ppm, rule: "default".into() },
    }
}

/// What `base` earns at `rate_ppm`: rounded half away from zero to whole cents. `None` on overflow.
pub fn commission(base: Money, rate_ppm: i64) -> Option<Money> {
    line_tax(base, rate_ppm)
}

/// What a credit note of `qty` units of an invoice line claws back: (base, amount), both ≤ 0 —
/// the change in the line's commission on what remains invoiced of it. `net` is the invoice line's
/// net, `credited_before` the units credited before this note.
pub fn clawback(
    net: Money,
    unit_price: Money,
    credited_before: i64,
    qty: i64,
    rate_ppm: i64,
) -> Option<(Money, Money)> {
    let credited = |q: i64| unit_price.checked_mul_qty(q).map(Money::round_to_cents);
    let remaining_before = net.checked_sub(credited(credited_before)?)?;
    let remaining_after = net.checked_sub(credited(credited_before.checked_add(qty)?)?)?;
    let base = remaining_after.checked_sub(remaining_before)?;
    let amount = commission(remaining_after, rate_ppm)?.checked_sub(commission(remaining_before, rate_ppm)?)?;
    Some((base, amount))
}

/// A month, `YYYY-MM`.
pub fn period_of(date: time::Date) -> String {
    format!("{:04}-{:02}", date.year(), date.month() as u8)
}

/// A period as typed: `YYYY-MM` with a real month, from 1970 (the API documents the same range).
pub fn parse_period(text: &str) -> Option<String> {
    let t = text.trim();
    let (y, m) = t.split_once('-')?;
    let ok = y.len() == 4 && m.len() == 2 && y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit());
    let (y, m): (i32, u8) = (y.parse().ok()?, m.parse().ok()?);
    (ok && (1..=12).contains(&m) && y >= 1970).then(|| format!("{y:04}-{m:02}"))
}

/// The month after `period`.
pub fn next_period(period: &str) -> String {
    let (y, m) = period
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u8>().ok()?)))
        .unwrap_or((1970, 1));
    if m >= 12 { format!("{:04}-01", y + 1) } else { format!("{y:04}-{:02}", m + 1) }
}

/// The month before `period`.
pub fn previous_period(period: &str) -> String {
    let (y, m) = period
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u8>().ok()?)))
        .unwrap_or((1970, 2));
    if m <= 1 { format!("{:04}-12", y - 1) } else { format!("{y:04}-{:02}", m - 1) }
}

/// Where a line written on a day of `month` lands: that month, unless the rep's statements are
/// closed (approved or locked) through `closed_through` or later — then the month after it. A
/// closed period never takes new lines; corrections land in the next open one.
pub fn landing_period(month: &str, closed_through: Option<&str>) -> String {
    match closed_through {
        Some(c) if c >= month => next_period(c),
        _ => month.to_string(),
    }
}

/// A rep's statement for a period: open → approved (finance or admin) → locked; finance may send an
/// approved statement back to open. A locked statement never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementStatus {
    Open,
    Approved,
    Locked,
}

impl StatementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Open => "open",
            StatementStatus::Approved => "approved",
            StatementStatus::Locked => "locked",
        }
    }

    pub fn parse(s: &str) -> Option<StatementStatus> {
        [StatementStatus::Open, StatementStatus::Approved, StatementStatus::Locked]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            StatementStatus::Open => "Open",
            StatementStatus::Approved => "Approved",
            StatementStatus::Locked => "Locked",
        }
    }
}

/// A statement action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementAction {
    Approve,
    Lock,
    Reopen,
}

impl StatementAction {
    pub fn parse(s: &str) -> Option<StatementAction> {
        match s.trim() {
            "approve" => Some(StatementAction::Approve),
            "lock" => Some(StatementAction::Lock),
            "reopen" => Some(StatementAction::Reopen),
            _ => None,
        }
    }

    /// The status after the action, or why it cannot be taken.
    pub fn apply(self, from: StatementStatus) -> Result<StatementStatus, &'static str> {
        use StatementStatus::*;
        match (self, from) {
            (StatementAction::Approve, Open) => Ok(Approved),
            (StatementAction::Lock, Approved) => Ok(Locked),
            (StatementAction::Reopen, Approved) => Ok(Open),
            (_, Locked) => Err("The statement is locked; it never changes. Corrections land in the next open period."),
            (StatementAction::Lock, Open) => Err("Approve the statement before locking it."),
            (StatementAction::Approve, Approved) => Err("The statement is already approved."),
            (StatementAction::Reopen, Open) => Err("The statement is already open."),
        }
    }
}

/// A plan's lines in one period, summed, with the plan's tiers and cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPeriod {
    pub plan_name: String,
    pub base: Money,
    pub amount: Money,
    pub tiers: Vec<Tier>,
    pub cap: Option<i64>,
}

/// An adjustment line of a statement (tier bonus or cap).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub label: String,
    /// Ten-thousandths.
    pub amount: i64,
}

/// The tier bonus and cap adjustments of a period, plan by plan. `None` on overflow.
pub fn adjustments(plans: &[PlanPeriod]) -> Option<Vec<Adjustment>> {
    let mut out = Vec::new();
    for p in plans {
        let mut paid = p.amount;
        let tier =
            p.tiers.iter().filter(|t| p.base.raw() > 0 && p.base.raw() >= t.threshold).max_by_key(|t| t.threshold);
        if let Some(t) = tier {
            let bonus = commission(p.base, t.bonus_ppm)?;
            if !bonus.is_zero() {
                out.push(Adjustment {
                    label: format!(
                        "{}: tier bonus {} on ${} (reached ${})",
                        p.plan_name,
                        super::invoicing::format_rate(t.bonus_ppm),
                        p.base,
                        Money::from_raw(t.threshold)
                    ),
                    amount: bonus.raw(),
                });
            }
            paid = paid.checked_add(bonus)?;
        }
        if let Some(cap) = p.cap
            && paid.raw() > cap
        {
            out.push(Adjustment {
                label: format!("{}: capped at ${} per period", p.plan_name, Money::from_raw(cap)),
                amount: cap - paid.raw(),
            });
        }
    }
    Some(out)
}

/// A plan as typed in the admin form or sent by the API, checked: every problem by field.
#[derive(Clone, Debug, Default)]
pub struct PlanDraft {
    pub name: String,
    pub effective_from: String,
    pub effective_to: String,
    pub default_rate: String,
    pub basis: String,
    /// One `<category path> = <rate %>` per line.
    pub category_rates: String,
    /// One `<channel> = <rate %>` per line.
    pub channel_rates: String,
    /// One `<threshold $> = <bonus rate %>` per line.
    pub tiers: String,
    /// Dollars; empty for none.
    pub cap: String,
}

/// A checked plan: (name, from, to, default rate, basis, rules).
pub type CheckedPlan = (String, String, Option<String>, i64, Basis, PlanRules);

fn pairs(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| match l.rsplit_once('=') {
        Some((k, v)) => (i + 1, k.trim(), v.trim()),
        None => (i + 1, l.trim(), ""),
    })
}

impl PlanDraft {
    pub fn check(&self) -> Result<CheckedPlan, Vec<(String, String)>> {
        use super::invoicing::parse_rate;
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut bad = |f: &str, m: String| problems.push((f.to_string(), m));
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            bad("name", "Name the plan (1 to 100 characters).".into());
        }
        let date = |s: &str| super::pricing::parse_iso_date(s.trim()).map(|_| s.trim().to_string());
        let from = date(&self.effective_from);
        if from.is_none() {
            bad("effective_from", "Effective from: a date, YYYY-MM-DD.".into());
        }
        let to =
            if self.effective_to.trim().is_empty() { Ok(None) } else { date(&self.effective_to).map(Some).ok_or(()) };
        match (&from, &to) {
            (_, Err(())) => bad("effective_to", "Effective to: a date, YYYY-MM-DD, or empty for open-ended.".into()),
            (Some(f), Ok(Some(t))) if t < f => bad("effective_to", "Effective to is before effective from.".into()),
            _ => {}
        }
        let rate = parse_rate(&self.default_rate);
        if rate.is_none() {
            bad(
                "default_rate",
                "Default rate: a percentage from 0 to 100 with at most 4 decimals, e.g. 5 or 2.5.".into(),
            );
        }
        let basis = if self.basis.trim().is_empty() { Some(Basis::Invoiced) } else { Basis::parse(&self.basis) };
        if basis.is_none() {
            bad("basis", "Basis: invoiced or paid.".into());
        }
        let mut rules = PlanRules::default();
        for (n, k, v) in pairs(&self.category_rates) {
            match parse_rate(v) {
                Some(r) if !k.is_empty() && !k.chars().any(char::is_control) => {
                    rules.categories.push(CategoryRate { path: k.to_string(), rate_ppm: r })
                }
                _ => bad(
                    "category_rates",
                    format!("Category rates, line {n}: write “Category path = rate %”, e.g. “Dental = 6”."),
                ),
            }
        }
        for (n, k, v) in pairs(&self.channel_rates) {
            match parse_rate(v) {
                Some(r) if CHANNELS.contains(&k) => {
                    rules.channels.push(ChannelRate { channel: k.to_string(), rate_ppm: r })
                }
                _ => bad(
                    "channel_rates",
                    format!(
                        "Channel rates, line {n}: write “channel = rate %” with a channel of {}.",
                        CHANNELS.join(", ")
                    ),
                ),
            }
        }
        for (n, k, v) in pairs(&self.tiers) {
            match (Money::parse_non_negative(k.trim_start_matches('$')), parse_rate(v)) {
                (Ok(t), Some(r)) => rules.tiers.push(Tier { threshold: t.raw(), bonus_ppm: r }),
                _ => bad("tiers", format!("Tiers, line {n}: write “threshold $ = bonus rate %”, e.g. “50000 = 1”.")),
            }
        }
        rules.tiers.sort_by_key(|t| t.threshold);
        if !self.cap.trim().is_empty() {
            match Money::parse_non_negative(self.cap.trim().trim_start_matches('$')) {
                Ok(c) => rules.cap = Some(c.raw()),
                Err(_) => bad("cap", "Cap: an amount in dollars, or empty for none.".into()),
            }
        }
        let dup = |names: Vec<String>| names.iter().enumerate().any(|(i, a)| names[..i].contains(a));
        if dup(rules.categories.iter().map(|c| c.path.to_lowercase()).collect()) {
            bad("category_rates", "Each category may be named once.".into());
        }
        if dup(rules.channels.iter().map(|c| c.channel.clone()).collect()) {
            bad("channel_rates", "Each channel may be named once.".into());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        match (from, to, rate, basis) {
            (Some(f), Ok(t), Some(r), Some(b)) => Ok((name, f, t, r, b, rules)),
            _ => Err(vec![("name".into(), "The plan is not valid.".into())]),
        }
    }

    /// The form of a stored plan.
    pub fn of(
        name: &str,
        from: &str,
        to: Option<&str>,
        default_rate_ppm: i64,
        basis: &str,
        rules: &PlanRules,
    ) -> PlanDraft {
        use super::invoicing::format_rate;
        let pct = |ppm: i64| format_rate(ppm).trim_end_matches('%').to_string();
        PlanDraft {
            name: name.into(),
            effective_from: from.into(),
            effective_to: to.unwrap_or_default().into(),
            default_rate: pct(default_rate_ppm),
            basis: basis.into(),
            category_rates: rules
                .categories
                .iter()
                .map(|c| format!("{} = {}", c.path, pct(c.rate_ppm)))
                .collect::<Vec<_>>()
                .join("\n"),
            channel_rates: rules
                .channels
                .iter()
                .map(|c| format!("{} = {}", c.channel, pct(c.rate_ppm)))
                .collect::<Vec<_>>()
                .join("\n"),
            tiers: rules
                .tiers
                .iter()
                .map(|t| format!("{} = {}", Money::from_raw(t.threshold).to_plain(), pct(t.bonus_ppm)))
                .collect::<Vec<_>>()
                .join("\n"),
            cap: rules.cap.map(|c| Money::from_raw(c).to_plain()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan() -> Plan {
        Plan {
            id: "p".into(),
            name: "Standard".into(),
            default_rate_ppm: 50_000,
            basis: Basis::Invoiced,
            rules: PlanRules {
                categories: vec![
                    CategoryRate { path: "Dental".into(), rate_ppm: 60_000 },
                    CategoryRate { path: "Dental / Burs".into(), rate_ppm: 80_000 },
                ],
                channels: vec![ChannelRate { channel: "portal".into(), rate_ppm: 40_000 }],
                tiers: vec![Tier { threshold: 1_000_000_000, bonus_ppm: 10_000 }],
                cap: Some(20_000_000),
            },
        }
    }

    #[test]
    fn the_channel_then_the_most_specific_category_then_the_default() {
        let p = plan();
        assert_eq!(
            rate_for(&p, "Dental / Burs / Carbide", "rep"),
            Rate { ppm: 80_000, rule: "category:Dental / Burs".into() }
        );
        assert_eq!(rate_for(&p, "dental / Gloves", "phone"), Rate { ppm: 60_000, rule: "category:Dental".into() });
        assert_eq!(rate_for(&p, "Dentalware", "phone").rule, "default", "a prefix is a whole path segment");
        assert_eq!(rate_for(&p, "", "api"), Rate { ppm: 50_000, rule: "default".into() });
        assert_eq!(rate_for(&p, "Dental / Burs", "portal"), Rate { ppm: 40_000, rule: "channel:portal".into() });
        assert_eq!(rule_label("category:Dental"), "Category Dental");
        assert_eq!(rule_label("clawback:channel:portal"), "Clawback (Channel portal)");
    }

    #[test]
    fn commission_rounds_half_away_from_zero_to_cents() {
        let m = |s: &str| Money::parse(s).unwrap();
        assert_eq!(commission(m("10.10"), 50_000), Some(m("0.51")), "0.505");
        assert_eq!(commission(m("-10.10"), 50_000), Some(m("-0.51")));
        assert_eq!(commission(m("19.99"), 12_500), Some(m("0.25")), "0.249875");
        // Three units of 3.3333 billed, then one credited twice over two notes.
        let (base, amount) = clawback(m("10.00"), m("3.3333"), 0, 1, 50_000).unwrap();
        assert_eq!((base, amount), (m("-3.33"), m("-0.17")), "10.00 → 6.67: 0.50 → 0.33");
        let (_, rest) = clawback(m("10.00"), m("3.3333"), 1, 2, 50_000).unwrap();
        assert_eq!(
            m("0.50").checked_add(amount).unwrap().checked_add(rest).unwrap(),
            Money::ZERO,
            "fully credited nets to zero"
        );
    }

    #[test]
    fn periods_and_where_corrections_land() {
        assert_eq!(parse_period(" 2026-12 "), Some("2026-12".into()));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(parse_period(bad), None, "{bad}");
        }
        assert_eq!(next_period("2026-12"), "2027-01");
        assert_eq!(previous_period("2027-01"), "2026-12");
        assert_eq!(landing_period("2026-11", None), "2026-11");
        assert_eq!(landing_period("2026-11", Some("2026-10")), "2026-11");
        assert_eq!(landing_period("2026-11", Some("2026-11")), "2026-12", "a closed month takes nothing new");
        assert_eq!(landing_period("2026-10", Some("2026-11")), "2026-12");
        use StatementAction::*;
        use StatementStatus::*;
        assert_eq!(Approve.apply(Open), Ok(Approved));
        assert_eq!(Lock.apply(Approved), Ok(Locked));
        assert_eq!(Reopen.apply(Approved), Ok(Open));
        assert!(Reopen.apply(Locked).is_err() && Approve.apply(Locked).is_err() && Lock.apply(Open).is_err());
    }

    #[test]
    fn tiers_add_a_bonus_and_caps_limit_the_period() {
        let m = |s: &str| Money::parse(s).unwrap();
        let p = plan();
        let period = |base: &str, amount: &str| PlanPeriod {
            plan_name: "Standard".into(),
            base: m(base),
            amount: m(amount),
            tiers: p.rules.tiers.clone(),
            cap: p.rules.cap,
        };
        assert!(adjustments(&[period("99999.99", "1500")]).unwrap().is_empty(), "below the tier, under the cap");
        let a = adjustments(&[period("100000", "500")]).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].amount, m("1000").raw(), "1% of 100,000");
        let a = adjustments(&[period("200000", "1500")]).unwrap();
        assert_eq!(a.iter().map(|x| x.amount).sum::<i64>(), m("500").raw(), "1,500 + 2,000 bonus capped at 2,000");
    }

    #[test]
    fn a_plan_form_is_checked_field_by_field() {
        let ok = PlanDraft {
            name: "Standard 2027".into(),
            effective_from: "2027-01-01".into(),
            default_rate: "5".into(),
            category_rates: "Dental = 6\nDental / Burs = 8".into(),
            channel_rates: "portal = 4".into(),
            tiers: "50000 = 1".into(),
            cap: "2000".into(),
            ..Default::default()
        };
        let (name, from, to, rate, basis, rules) = ok.check().unwrap();
        assert_eq!(
            (name.as_str(), from.as_str(), to, rate, basis),
            ("Standard 2027", "2027-01-01", None, 50_000, Basis::Invoiced)
        );
        assert_eq!(rules.categories.len(), 2);
        assert_eq!(rules.cap, Some(m_raw("2000")));
        let again = PlanDraft::of("Standard 2027", "2027-01-01", None, rate, "invoiced", &rules);
        assert_eq!(again.check().unwrap().5, rules, "the form of a plan reads back the same");
        let bad = PlanDraft {
            name: "".into(),
            effective_from: "2027-13-01".into(),
            default_rate: "101".into(),
            channel_rates: "fax = 1".into(),
            tiers: "lots = 1".into(),
            cap: "-5".into(),
            ..Default::default()
        };
        let fields: Vec<String> = bad.check().unwrap_err().into_iter().map(|(f, _)| f).collect();
        for f in ["name", "effective_from", "default_rate", "channel_rates", "tiers", "cap"] {
            assert!(fields.iter().any(|x| x == f), "{f}: {fields:?}");
        }
    }

    fn m_raw(s: &str) -> i64 {
        Money::parse(s).unwrap().raw()
    }

    /// One step of an order's billing: invoice `qty` units of an order line, or credit `qty`
    /// units of an earlier invoice line.
    #[derive(Clone, Debug)]
    enum Step {
        Invoice { line: usize, qty: i64 },
        Credit { invoice_line: usize, qty: i64 },
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                (0usize..3, 1i64..50).prop_map(|(line, qty)| Step::Invoice { line, qty }),
                (0usize..20, 1i64..50).prop_map(|(invoice_line, qty)| Step::Credit { invoice_line, qty }),
            ],
            1..30,
        )
    }

    proptest! {
        /// For any sequence of invoices and credit notes on an order: the accrual lines of each
        /// invoice line add up exactly to the commission on what remains invoiced of it; so the
        /// order's accruals are within half a cent per invoice line of rate × net invoiced, and an
        /// order credited in full nets to exactly zero. Written the way the services write them:
        /// an invoice line's net is unit × qty rounded to cents; a credit note credits the change
        /// in "all credited so far".
        #[test]
        fn accruals_sum_to_rate_times_net_invoiced(
            units in proptest::collection::vec(1i64..100_000_000, 3),
            ordered in proptest::collection::vec(1i64..200, 3),
            rate in 0i64..=MAX_RATE_PPM,
            steps in steps(),
            credit_all in any::<bool>(),
        ) {
            // (order line, quantity, net, credited units)
            let mut invoice_lines: Vec<(usize, i64, Money, i64)> = Vec::new();
            let mut invoiced = [0i64; 3];
            let mut accrued = Money::ZERO;
            let mut per_line: Vec<Money> = Vec::new();
            let mut net_invoiced = Money::ZERO;
            let credit = |il: &mut (usize, i64, Money, i64), q: i64, acc: &mut Money, mine: &mut Money, net_inv: &mut Money| {
                let unit = Money::from_raw(units[il.0]);
                let (base, amount) = clawback(il.2, unit, il.3, q, rate).unwrap();
                // The credit note's net for these units, as credit_notes.rs computes it.
                let credited = unit.checked_mul_qty(il.3 + q).unwrap().round_to_cents()
                    .checked_sub(unit.checked_mul_qty(il.3).unwrap().round_to_cents()).unwrap();
                prop_assert_eq!(base.raw(), -credited.raw(), "the clawback's base is what the note credits");
                il.3 += q;
                *acc = acc.checked_add(amount).unwrap();
                *mine = mine.checked_add(amount).unwrap();
                *net_inv = net_inv.checked_sub(credited).unwrap();
                Ok(())
            };
            for s in &steps {
                match *s {
                    Step::Invoice { line, qty } => {
                        let q = qty.min(ordered[line] - invoiced[line]);
                        if q <= 0 { continue; }
                        invoiced[line] += q;
                        let net = Money::from_raw(units[line]).checked_mul_qty(q).unwrap().round_to_cents();
                        let amount = commission(net, rate).unwrap();
                        invoice_lines.push((line, q, net, 0));
                        per_line.push(amount);
                        accrued = accrued.checked_add(amount).unwrap();
                        net_invoiced = net_invoiced.checked_add(net).unwrap();
                    }
                    Step::Credit { invoice_line, qty } => {
                        let Some(il) = invoice_lines.get_mut(invoice_line) else { continue };
                        let q = qty.min(il.1 - il.3);
                        if q <= 0 { continue; }
                        credit(il, q, &mut accrued, &mut per_line[invoice_line], &mut net_invoiced)?;
                    }
                }
            }
            for (i, il) in invoice_lines.iter().enumerate() {
                let remaining = il.2.checked_sub(Money::from_raw(units[il.0]).checked_mul_qty(il.3).unwrap().round_to_cents()).unwrap();
                prop_assert_eq!(per_line[i], commission(remaining, rate).unwrap(), "invoice line {} sums exactly", i);
            }
            // Within half a cent per invoice line of the exact rate × net invoiced.
            let exact = (net_invoiced.raw() as i128) * (rate as i128);
            let got = (accrued.raw() as i128) * 1_000_000;
            prop_assert!((got - exact).abs() * 2 <= 100 * 1_000_000 * invoice_lines.len().max(1) as i128, "{} vs {}", got, exact);
            if credit_all {
                for i in 0..invoice_lines.len() {
                    let q = invoice_lines[i].1 - invoice_lines[i].3;
                    if q > 0 {
                        let mut il = invoice_lines[i];
                        credit(&mut il, q, &mut accrued, &mut per_line[i], &mut net_invoiced)?;
                        invoice_lines[i] = il;
                    }
                }
                prop_assert_eq!(accrued, Money::ZERO, "credited in full: nothing earned");
                prop_assert_eq!(net_invoiced, Money::ZERO);
            }
        }
    }
}
