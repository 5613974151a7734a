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
//!
//! **The hand-over split** (issue 18 item 5). When an account changes owner, the seller may let
//! the previous rep keep a share of the orders placed during a hand-over period
//! ([`HandoverTerms`]: days and share, settings `commissions.handover_days` and
//! `commissions.handover_share`). The account remembers the change with the terms in force then
//! ([`handover_after_owner_change`]); an order placed before its end copies them
//! ([`order_handover`]). Each invoice line's net is then split ([`split`]): the previous rep's
//! share rounded half away from zero to the cent, the remainder to the owner, so the two bases
//! always add up to the net exactly; each rep earns on their own base at their own plan's rate.
//! A credit note reverses each rep's part the same way ([`clawback_share`]): what a rep's lines of
//! an invoice line add up to is always the commission on their share of what remains invoiced.
//!
//! **The paid basis** (issue 18 item 6). A plan on the `paid` basis earns as the invoice is paid,
//! not when it is issued: at any moment a rep has earned on an invoice line exactly
//! [`paid_target`] — the invoiced basis' figure (the commission on their share of what remains
//! invoiced of the line) times the part of the invoice paid, `paid / due` with `due` the invoice
//! total less its credit notes (net and tax), capped at 1 and rounded half away from zero to the
//! cent. Every payment, payment taken back and credit note writes the difference between that
//! and what the rep's lines of the line add up to — negative lines are clawbacks — so the lines
//! always add up to the target, an event that changes nothing writes nothing, and once the
//! invoice is paid in full they add up to exactly what the invoiced basis accrues.

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
    /// As the invoice is paid: each payment earns its part of the invoice's commission, a
    /// payment taken back takes its part back ([`paid_target`]).
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

/// Who a plan is assigned to: a sales rep or a team (an assignment names exactly one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignee {
    Rep(String),
    Team(String),
}

impl Assignee {
    /// (rep id, team id): one of them.
    pub fn ids(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Assignee::Rep(r) => (Some(r), None),
            Assignee::Team(t) => (None, Some(t)),
        }
    }
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

/// The rule of a line as people read it: "Channel portal", "Category Dental", "Default rate";
/// a hand-over share's note follows ("Default rate; hand-over 30% to previous rep").
pub fn rule_label(rule: &str) -> String {
    if let Some((inner, note)) = rule.split_once("; ") {
        return format!("{}; {note}", rule_label(inner));
    }
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
    clawback_share(net, unit_price, credited_before, qty, rate_ppm, Share::Whole)
}

// ---- The hand-over split ----

/// The longest hand-over the seller may set, in days.
pub const MAX_HANDOVER_DAYS: i64 = 365;

/// The seller's hand-over terms: for how many days after an account changes owner its previous
/// rep keeps a share of its new orders (0: off), and that share in ppm (0..=1,000,000; typed as
/// a percentage with at most 2 decimals, so a multiple of 100).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandoverTerms {
    pub days: i64,
    pub share_ppm: i64,
}

impl HandoverTerms {
    /// Does a change of owner start a hand-over?
    pub fn is_on(self) -> bool {
        self.days > 0 && self.share_ppm > 0
    }

    /// The terms as stored (settings text); anything unreadable or out of bounds is off.
    pub fn from_stored(days: Option<&str>, share_ppm: Option<&str>) -> HandoverTerms {
        let days = days.and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| (0..=MAX_HANDOVER_DAYS).contains(d));
        let share = share_ppm.and_then(|s| s.trim().parse::<i64>().ok()).filter(|s| (0..=MAX_RATE_PPM).contains(s));
        HandoverTerms { days: days.unwrap_or(0), share_ppm: share.unwrap_or(0) }
    }
}

/// The hand-over terms as typed in the admin form or sent by the API, checked field by field.
#[derive(Clone, Debug, Default)]
pub struct HandoverDraft {
    pub days: String,
    pub share: String,
}

impl HandoverDraft {
    pub fn check(&self) -> Result<HandoverTerms, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let days = self.days.trim();
        let days = (!days.is_empty() && days.len() <= 3 && days.bytes().all(|b| b.is_ascii_digit()))
            .then(|| days.parse::<i64>().ok())
            .flatten()
            .filter(|d| *d <= MAX_HANDOVER_DAYS);
        if days.is_none() {
            problems.push((
                "handover_days".to_string(),
                format!("Hand-over days: a whole number from 0 to {MAX_HANDOVER_DAYS} (0 turns the split off)."),
            ));
        }
        let share = parse_share(&self.share);
        if share.is_none() {
            problems.push((
                "handover_share".to_string(),
                "Previous rep's share: a percentage from 0 to 100 with at most 2 decimals, e.g. 30 or 12.5."
                    .to_string(),
            ));
        }
        match (days, share) {
            (Some(days), Some(share_ppm)) if problems.is_empty() => Ok(HandoverTerms { days, share_ppm }),
            _ => Err(problems),
        }
    }

    /// The form of stored terms.
    pub fn of(t: HandoverTerms) -> HandoverDraft {
        HandoverDraft { days: t.days.to_string(), share: format_share(t.share_ppm) }
    }
}

/// A share as typed: a percentage from 0 to 100 with at most 2 decimals ("30", "12.5", "33.33",
/// "30%"), in ppm. No sign, no exponent, nothing else.
pub fn parse_share(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = t.strip_suffix('%').map(str::trim_end).unwrap_or(t);
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return None;
    }
    let ppm = whole.parse::<i64>().ok()? * 10_000 + format!("{frac:0<2}").parse::<i64>().ok()? * 100;
    (ppm <= MAX_RATE_PPM).then_some(ppm)
}

/// A share shown to people (without the % sign): `300000` → "30", `333300` → "33.33".
pub fn format_share(ppm: i64) -> String {
    super::invoicing::format_rate(ppm).trim_end_matches('%').to_string()
}

/// An account's hand-over: its previous owner keeps `share_ppm` of the orders placed before
/// `until` (unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    pub rep_id: String,
    pub until: i64,
    pub share_ppm: i64,
}

/// An account's hand-over after a save that sets its owner from `before_owner` to `new_owner`
/// at `now`: unchanged owner, the hand-over stays as it was (`current`); a change from a rep to
/// another rep with the split on starts one with the terms in force now (a later change of the
/// setting does not re-split it); any other change (to no rep, from no rep, the setting off)
/// clears it.
pub fn handover_after_owner_change(
    before_owner: Option<&str>,
    current: Option<Handover>,
    new_owner: Option<&str>,
    terms: HandoverTerms,
    now: i64,
) -> Option<Handover> {
    if before_owner == new_owner {
        return current;
    }
    match (before_owner, new_owner) {
        (Some(old), Some(_)) if terms.is_on() => Some(Handover {
            rep_id: old.to_string(),
            until: now.saturating_add(terms.days.saturating_mul(86_400)),
            share_ppm: terms.share_ppm,
        }),
        _ => None,
    }
}

/// What an order placed at `placed_at` for an account owned by `owner` copies of the account's
/// hand-over: (previous rep, share) while it runs and splits something, else nothing.
pub fn order_handover(account: Option<&Handover>, owner: Option<&str>, placed_at: i64) -> Option<(String, i64)> {
    let h = account?;
    let owner = owner?;
    (placed_at < h.until && h.share_ppm > 0 && h.share_ppm <= MAX_RATE_PPM && h.rep_id != owner)
        .then(|| (h.rep_id.clone(), h.share_ppm))
}

/// A base split between the previous rep (`share_ppm` of it, rounded half away from zero to the
/// cent, as tax and commission are) and the owner (the remainder): (previous, kept). The two
/// always add up to `base` exactly. `None` on overflow.
pub fn split(base: Money, share_ppm: i64) -> Option<(Money, Money)> {
    let previous = line_tax(base, share_ppm.clamp(0, MAX_RATE_PPM))?;
    Some((previous, base.checked_sub(previous)?))
}

/// Which part of an order's lines a rep earns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// No hand-over: the owner earns on the whole.
    Whole,
    /// The previous rep's share (ppm) during a hand-over.
    Previous(i64),
    /// What the owner keeps when the previous rep has this share (ppm).
    Kept(i64),
}

impl Share {
    /// This part of `base`. `None` on overflow.
    pub fn of(self, base: Money) -> Option<Money> {
        match self {
            Share::Whole => Some(base),
            Share::Previous(s) => split(base, s).map(|(p, _)| p),
            Share::Kept(s) => split(base, s).map(|(_, k)| k),
        }
    }

    /// What a line's rule adds: "; hand-over 30% to previous rep", "; hand-over 70% kept".
    pub fn rule_note(self) -> String {
        match self {
            Share::Whole => String::new(),
            Share::Previous(s) => format!("; hand-over {}% to previous rep", format_share(s)),
            Share::Kept(s) => format!("; hand-over {}% kept", format_share(MAX_RATE_PPM - s.clamp(0, MAX_RATE_PPM))),
        }
    }
}

/// [`clawback`] for one rep's part of an invoice line: the change in the commission on their
/// share of what remains invoiced of it — (base, amount), both ≤ 0.
pub fn clawback_share(
    net: Money,
    unit_price: Money,
    credited_before: i64,
    qty: i64,
    rate_ppm: i64,
    share: Share,
) -> Option<(Money, Money)> {
    let credited = |q: i64| unit_price.checked_mul_qty(q).map(Money::round_to_cents);
    let remaining_before = share.of(net.checked_sub(credited(credited_before)?)?)?;
    let remaining_after = share.of(net.checked_sub(credited(credited_before.checked_add(qty)?)?)?)?;
    let base = remaining_after.checked_sub(remaining_before)?;
    let amount = commission(remaining_after, rate_ppm)?.checked_sub(commission(remaining_before, rate_ppm)?)?;
    Some((base, amount))
}

// ---- The paid basis ----

/// An invoice line as the paid basis needs it: its net and tax as billed, its unit price and tax
/// rate (what a credit note of some of its units credits), and the units credited so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BilledLine {
    pub net: Money,
    pub tax: Money,
    pub unit_price: Money,
    pub tax_rate_ppm: i64,
    pub credited_qty: i64,
}

impl BilledLine {
    /// What credit notes have credited of the line so far, (net, tax): "everything credited so
    /// far, as one amount", as `service::credit_notes` credits it.
    pub fn credited(&self) -> Option<(Money, Money)> {
        let net = self.unit_price.checked_mul_qty(self.credited_qty)?.round_to_cents();
        Some((net, line_tax(net, self.tax_rate_ppm)?))
    }

    /// The net that remains invoiced of the line after its credit notes.
    pub fn remaining_net(&self) -> Option<Money> {
        self.net.checked_sub(self.credited()?.0)
    }
}

/// What remains due of an invoice of `total` once its credit notes are taken off (its lines'
/// credited net and tax) — what the customer is to pay for what they keep.
pub fn due_after_credits(total: Money, lines: &[BilledLine]) -> Option<Money> {
    lines.iter().try_fold(total, |due, l| {
        let (net, tax) = l.credited()?;
        due.checked_sub(net)?.checked_sub(tax)
    })
}

/// `full × paid / due`, the part of `full` the payments cover: `full` itself once `paid` reaches
/// `due` (or nothing is due any more), nothing while nothing is paid, else rounded half away from
/// zero to whole cents (the one rounding rule). `None` on overflow.
pub fn paid_part(full: Money, paid: Money, due: Money) -> Option<Money> {
    if due.raw() <= 0 || paid.raw() >= due.raw() {
        return Some(full);
    }
    if paid.raw() <= 0 {
        return Some(Money::ZERO);
    }
    let num = (full.raw() as i128).checked_mul(paid.raw() as i128)?;
    let den = (due.raw() as i128).checked_mul(100)?;
    let (q, r) = (num / den, num % den);
    let cents = if r.abs() * 2 >= den { q + r.signum() } else { q };
    i64::try_from(cents.checked_mul(100)?).ok().map(Money::from_raw)
}

/// What one rep has earned so far on one line of an invoice under a plan on the **paid** basis,
/// (base, amount): their share of what remains invoiced of the line and the commission on it at
/// `rate_ppm` — exactly what the invoiced basis would have accrued by now — each times the part
/// of the invoice paid (`paid` of `due`, [`paid_part`]). Fully paid, that is exactly the invoiced
/// basis' figure; fully credited, zero. Each event that changes what is paid or credited writes
/// the difference between this and what the rep's lines of the line already add up to.
pub fn paid_target(line: &BilledLine, share: Share, rate_ppm: i64, paid: Money, due: Money) -> Option<(Money, Money)> {
    let base = share.of(line.remaining_net()?)?;
    let full = commission(base, rate_ppm)?;
    Some((paid_part(base, paid, due)?, paid_part(full, paid, due)?))
}

/// A plan assignment as the plan-in-force rule sees it: to a rep (`own`) or to the rep's team.
/// Days are ISO dates (`YYYY-MM-DD`), which compare correctly as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentSpan {
    pub plan_id: String,
    pub own: bool,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub created_at: i64,
}

impl AssignmentSpan {
    pub fn in_force(&self, day: &str) -> bool {
        self.effective_from.as_str() <= day && self.effective_to.as_deref().is_none_or(|to| day <= to)
    }
}

/// Which assignment decides a rep's plan on a day: the rep's own assignment in force that day
/// wins; otherwise their team's in force that day; otherwise none. Among several in force, the
/// latest effective date, then the latest made. `store::commissions::accrual_facts` does the same
/// in one query (own first).
pub fn plan_in_force<'a>(assignments: &'a [AssignmentSpan], day: &str) -> Option<&'a AssignmentSpan> {
    assignments
        .iter()
        .filter(|a| a.in_force(day))
        .max_by(|a, b| (a.own, &a.effective_from, a.created_at).cmp(&(b.own, &b.effective_from, b.created_at)))
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

/// Most characters of a plan's name and of a category path in its rates.
pub const MAX_PLAN_NAME: usize = 100;
pub const MAX_CATEGORY_PATH: usize = 200;

/// A plan as the API sends it: the same as [`PlanDraft`] but structured — each list item on its
/// own, rates as percentage strings ("5", "2.5"), amounts as decimal strings ("50000.00") — and
/// held exactly to the API's schema (no `%`, `$`, separators or spaces around numbers and dates).
/// Checked by the same rules as the form ([`PlanDraft::check`]); a problem in a list names the
/// item (`category_rates[2].rate`).
#[derive(Clone, Debug, Default)]
pub struct PlanSpec {
    pub name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub default_rate: String,
    /// `invoiced` (the default when absent) or `paid`.
    pub basis: Option<String>,
    /// (category path, rate %)
    pub category_rates: Vec<(String, String)>,
    /// (channel, rate %)
    pub channel_rates: Vec<(String, String)>,
    /// (threshold $, bonus rate %)
    pub tiers: Vec<(String, String)>,
    /// Dollars; None for no cap.
    pub cap: Option<String>,
}

impl PlanSpec {
    pub fn check(&self) -> Result<CheckedPlan, Vec<(String, String)>> {
        let items = indexed;
        let input = PlanInput {
            name: &self.name,
            effective_from: &self.effective_from,
            effective_to: self.effective_to.as_deref().unwrap_or(""),
            default_rate: &self.default_rate,
            basis: self.basis.as_deref().unwrap_or(""),
            category_rates: items(&self.category_rates),
            channel_rates: items(&self.channel_rates),
            tiers: items(&self.tiers),
            cap: self.cap.as_deref().unwrap_or(""),
            exact: true,
        };
        let mut problems = Vec::new();
        // Written exactly as the schema says: an empty `effective_to` or `cap` is not "none" here
        // (null or absent is), and a name is counted as sent.
        if self.effective_to.as_deref().is_some_and(|t| !exact_date(t)) {
            problems.push(("effective_to".into(), "Effective to: a date, YYYY-MM-DD, or null for open-ended.".into()));
        }
        if self.cap.as_deref().is_some_and(|c| !exact_amount(c)) {
            problems.push(("cap".into(), CAP_PROBLEM.into()));
        }
        if self.basis.as_deref().is_some_and(|b| Basis::parse(b).is_none() || b.trim() != b) {
            problems.push(("basis".into(), "Basis: invoiced or paid.".into()));
        }
        if self.name.chars().count() > MAX_PLAN_NAME {
            problems.push(("name".into(), NAME_PROBLEM.into()));
        }
        match input.check() {
            Ok(plan) if problems.is_empty() => Ok(plan),
            Ok(_) => Err(problems),
            Err(more) => {
                for p in more {
                    if !problems.iter().any(|(f, _)| *f == p.0) {
                        problems.push(p);
                    }
                }
                Err(problems)
            }
        }
    }
}

const NAME_PROBLEM: &str = "Name the plan (1 to 100 characters).";
const CAP_PROBLEM: &str = "Cap: an amount in dollars, or empty for none.";

/// Whether a text is a percentage exactly as the API writes it: digits, at most 4 decimals, at
/// most 100 (`^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$`).
pub fn exact_rate(text: &str) -> bool {
    let digits = |s: &str, n: usize| (1..=n).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let frac_ok = frac.is_none_or(|f| digits(f, 4) && (whole != "100" || f.bytes().all(|c| c == b'0')));
    (whole == "100" || digits(whole, 2)) && frac_ok
}

/// Whether a text is an amount exactly as the API writes it: digits, at most 12 before the point
/// and 4 after (`^[0-9]{1,12}(\.[0-9]{1,4})?$`).
pub fn exact_amount(text: &str) -> bool {
    let digits = |s: &str, n: usize| (1..=n).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
    match text.split_once('.') {
        Some((w, f)) => digits(w, 12) && digits(f, 4),
        None => digits(text, 12),
    }
}

/// Whether a text is a day exactly YYYY-MM-DD.
pub fn exact_date(text: &str) -> bool {
    text.len() == 10
        && text.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() })
        && super::pricing::parse_iso_date(text).is_some()
}

/// Where an item of a plan's list was given: a line of the form's text, or an index of the API's
/// list — so each problem names it the way its sender can find it.
#[derive(Clone, Copy, Debug)]
enum At {
    Line(usize),
    Index(usize),
}

#[derive(Clone, Copy, Debug)]
struct Item<'a> {
    at: At,
    key: &'a str,
    value: &'a str,
}

/// The one check of a plan, whoever sent it ([`PlanDraft`]: the admin form; [`PlanSpec`]: the API).
struct PlanInput<'a> {
    name: &'a str,
    effective_from: &'a str,
    effective_to: &'a str,
    default_rate: &'a str,
    basis: &'a str,
    category_rates: Vec<Item<'a>>,
    channel_rates: Vec<Item<'a>>,
    tiers: Vec<Item<'a>>,
    cap: &'a str,
    /// Numbers and dates exactly as the API's schema writes them (no `%`, `$`, spaces).
    exact: bool,
}

fn indexed(list: &[(String, String)]) -> Vec<Item<'_>> {
    list.iter().enumerate().map(|(i, (k, v))| Item { at: At::Index(i), key: k, value: v }).collect()
}

fn pairs(text: &str) -> Vec<Item<'_>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| match l.rsplit_once('=') {
            Some((k, v)) => Item { at: At::Line(i + 1), key: k.trim(), value: v.trim() },
            None => Item { at: At::Line(i + 1), key: l.trim(), value: "" },
        })
        .collect()
}

impl PlanInput<'_> {
    fn check(&self) -> Result<CheckedPlan, Vec<(String, String)>> {
        use super::invoicing::parse_rate;
        let exact = self.exact;
        let rate_of = |s: &str| if exact && !exact_rate(s) { None } else { parse_rate(s) };
        let amount_of = |s: &str| {
            if exact && !exact_amount(s) {
                return None;
            }
            Money::parse_non_negative(s.trim().trim_start_matches('$')).ok()
        };
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut bad = |f: &str, m: String| problems.push((f.to_string(), m));
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_PLAN_NAME || name.chars().any(char::is_control) {
            bad("name", NAME_PROBLEM.into());
        }
        let date = |s: &str| {
            if exact && !exact_date(s) {
                return None;
            }
            super::pricing::parse_iso_date(s.trim()).map(|_| s.trim().to_string())
        };
        let from = date(self.effective_from);
        if from.is_none() {
            bad("effective_from", "Effective from: a date, YYYY-MM-DD.".into());
        }
        let to =
            if self.effective_to.trim().is_empty() { Ok(None) } else { date(self.effective_to).map(Some).ok_or(()) };
        match (&from, &to) {
            (_, Err(())) => bad("effective_to", "Effective to: a date, YYYY-MM-DD, or empty for open-ended.".into()),
            (Some(f), Ok(Some(t))) if t < f => bad("effective_to", "Effective to is before effective from.".into()),
            _ => {}
        }
        let rate = rate_of(self.default_rate);
        if rate.is_none() {
            bad(
                "default_rate",
                "Default rate: a percentage from 0 to 100 with at most 4 decimals, e.g. 5 or 2.5.".into(),
            );
        }
        let basis = if self.basis.trim().is_empty() { Some(Basis::Invoiced) } else { Basis::parse(self.basis) };
        if basis.is_none() {
            bad("basis", "Basis: invoiced or paid.".into());
        }
        // An item's problem: on the form, the list's field and the line; over the API, the item's
        // own field (`category_rates[2].rate`).
        let mut item_problem =
            |list: &str, it: &Item, key_ok: bool, value_ok: bool, form: &dyn Fn(usize) -> String| match it.at {
                At::Line(n) => bad(list, form(n)),
                At::Index(i) => {
                    let (k, v, key_msg, value_msg) = match list {
                        "category_rates" => (
                            "path",
                            "rate",
                            format!("A category path, 1 to {MAX_CATEGORY_PATH} characters."),
                            "A rate: a percentage from 0 to 100 with at most 4 decimals.",
                        ),
                        "channel_rates" => (
                            "channel",
                            "rate",
                            format!("A channel: one of {}.", CHANNELS.join(", ")),
                            "A rate: a percentage from 0 to 100 with at most 4 decimals.",
                        ),
                        _ => (
                            "threshold",
                            "bonus_rate",
                            "A threshold: an amount in dollars, e.g. 50000.".to_string(),
                            "A bonus rate: a percentage from 0 to 100 with at most 4 decimals.",
                        ),
                    };
                    if !key_ok {
                        bad(&format!("{list}[{i}].{k}"), key_msg);
                    }
                    if !value_ok {
                        bad(&format!("{list}[{i}].{v}"), value_msg.to_string());
                    }
                }
            };
        let mut rules = PlanRules::default();
        let mut category_at = Vec::new();
        for it in &self.category_rates {
            let path = it.key.trim();
            // Over the API the path is counted as sent, as its schema counts it.
            let length = if exact { it.key.chars().count() } else { path.chars().count() };
            let path_ok = !path.is_empty() && length <= MAX_CATEGORY_PATH && !path.chars().any(char::is_control);
            match (path_ok, rate_of(it.value)) {
                (true, Some(r)) => {
                    rules.categories.push(CategoryRate { path: path.to_string(), rate_ppm: r });
                    category_at.push(it.at);
                }
                (p, r) => item_problem("category_rates", it, p, r.is_some(), &|n| {
                    format!("Category rates, line {n}: write “Category path = rate %”, e.g. “Dental = 6”.")
                }),
            }
        }
        let mut channel_at = Vec::new();
        for it in &self.channel_rates {
            let channel_ok = CHANNELS.contains(&it.key);
            match (channel_ok, rate_of(it.value)) {
                (true, Some(r)) => {
                    rules.channels.push(ChannelRate { channel: it.key.to_string(), rate_ppm: r });
                    channel_at.push(it.at);
                }
                (c, r) => item_problem("channel_rates", it, c, r.is_some(), &|n| {
                    format!(
                        "Channel rates, line {n}: write “channel = rate %” with a channel of {}.",
                        CHANNELS.join(", ")
                    )
                }),
            }
        }
        for it in &self.tiers {
            match (amount_of(it.key), rate_of(it.value)) {
                (Some(t), Some(r)) => rules.tiers.push(Tier { threshold: t.raw(), bonus_ppm: r }),
                (t, r) => item_problem("tiers", it, t.is_some(), r.is_some(), &|n| {
                    format!("Tiers, line {n}: write “threshold $ = bonus rate %”, e.g. “50000 = 1”.")
                }),
            }
        }
        rules.tiers.sort_by_key(|t| t.threshold);
        if !self.cap.trim().is_empty() {
            match amount_of(self.cap) {
                Some(c) => rules.cap = Some(c.raw()),
                None => bad("cap", CAP_PROBLEM.into()),
            }
        }
        // The first item naming a category (regardless of case) or a channel again.
        let repeated = |names: Vec<String>| names.iter().enumerate().position(|(i, a)| names[..i].contains(a));
        let field_of = |list: &str, at: At, part: &str| match at {
            At::Line(_) => list.to_string(),
            At::Index(i) => format!("{list}[{i}].{part}"),
        };
        if let Some(i) = repeated(rules.categories.iter().map(|c| c.path.to_lowercase()).collect()) {
            bad(&field_of("category_rates", category_at[i], "path"), "Each category may be named once.".into());
        }
        if let Some(i) = repeated(rules.channels.iter().map(|c| c.channel.clone()).collect()) {
            bad(&field_of("channel_rates", channel_at[i], "channel"), "Each channel may be named once.".into());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        match (from, to, rate, basis) {
            (Some(f), Ok(t), Some(r), Some(b)) => Ok((name, f, t, r, b, rules)),
            _ => Err(vec![("name".into(), "The plan is not valid.".into())]),
        }
    }
}

impl PlanDraft {
    pub fn check(&self) -> Result<CheckedPlan, Vec<(String, String)>> {
        PlanInput {
            name: &self.name,
            effective_from: &self.effective_from,
            effective_to: &self.effective_to,
            default_rate: &self.default_rate,
            basis: &self.basis,
            category_rates: pairs(&self.category_rates),
            channel_rates: pairs(&self.channel_rates),
            tiers: pairs(&self.tiers),
            cap: &self.cap,
            exact: false,
        }
        .check()
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

    fn span(plan: &str, own: bool, from: &str, to: Option<&str>, at: i64) -> AssignmentSpan {
        AssignmentSpan {
            plan_id: plan.into(),
            own,
            effective_from: from.into(),
            effective_to: to.map(Into::into),
            created_at: at,
        }
    }

    #[test]
    fn a_reps_own_assignment_wins_over_the_teams_from_its_effective_date() {
        let spans =
            [span("team", false, "2026-01-01", None, 1), span("own", true, "2026-03-01", Some("2026-03-31"), 2)];
        let plan = |day| plan_in_force(&spans, day).map(|a| a.plan_id.as_str());
        assert_eq!(plan("2025-12-31"), None);
        assert_eq!(plan("2026-02-28"), Some("team"));
        assert_eq!(plan("2026-03-01"), Some("own"));
        assert_eq!(plan("2026-03-31"), Some("own"));
        assert_eq!(plan("2026-04-01"), Some("team"));
        assert_eq!(plan_in_force(&[], "2026-03-01"), None);
    }

    #[test]
    fn among_assignments_in_force_the_latest_effective_then_the_latest_made() {
        let spans = [
            span("old", false, "2026-01-01", None, 5),
            span("new", false, "2026-02-01", None, 1),
            span("again", false, "2026-02-01", None, 2),
        ];
        assert_eq!(plan_in_force(&spans, "2026-01-15").unwrap().plan_id, "old");
        assert_eq!(plan_in_force(&spans, "2026-02-15").unwrap().plan_id, "again");
    }

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

    #[test]
    fn the_apis_plan_is_checked_by_the_forms_rules_naming_each_item() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        let ok = PlanSpec {
            name: "Standard 2027".into(),
            effective_from: "2027-01-01".into(),
            default_rate: "5".into(),
            category_rates: vec![pair("Dental", "6"), pair("Dental / Burs", "8")],
            channel_rates: vec![pair("portal", "4")],
            tiers: vec![pair("50000", "1")],
            cap: Some("2000".into()),
            ..Default::default()
        };
        let form = PlanDraft {
            name: "Standard 2027".into(),
            effective_from: "2027-01-01".into(),
            default_rate: "5".into(),
            category_rates: "Dental = 6\nDental / Burs = 8".into(),
            channel_rates: "portal = 4".into(),
            tiers: "50000 = 1".into(),
            cap: "2000".into(),
            ..Default::default()
        };
        assert_eq!(ok.check().unwrap(), form.check().unwrap(), "the same plan either way");
        let bad = PlanSpec {
            name: " ".into(),
            effective_from: "2027-01-01 ".into(),
            effective_to: Some("".into()),
            default_rate: "5%".into(),
            basis: Some("monthly".into()),
            category_rates: vec![pair("A", "1"), pair("a", "2"), pair("B", "101")],
            channel_rates: vec![pair("fax", "1.00001")],
            tiers: vec![pair("$5", "1")],
            cap: Some("1,000".into()),
        };
        let fields: Vec<String> = bad.check().unwrap_err().into_iter().map(|(f, _)| f).collect();
        for f in [
            "name",
            "effective_from",
            "effective_to",
            "default_rate",
            "basis",
            "category_rates[2].rate",
            "category_rates[1].path",
            "channel_rates[0].channel",
            "channel_rates[0].rate",
            "tiers[0].threshold",
            "cap",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f}: {fields:?}");
        }
        assert!(!fields.iter().any(|x| x == "tiers[0].bonus_rate"), "{fields:?}");
        // What the form forgives (a % sign, spaces), the API's exact strings do not.
        assert!(parse_rate_loose_and_exact("5%"));
        assert!(exact_rate("100") && exact_rate("100.0000") && exact_rate("0.1234") && !exact_rate("100.01"));
        assert!(!exact_rate("007") && !exact_rate("5.") && !exact_rate(" 5"));
        assert!(exact_amount("999999999999.9999") && !exact_amount("1e3") && !exact_amount("-1"));
    }

    fn parse_rate_loose_and_exact(s: &str) -> bool {
        super::super::invoicing::parse_rate(s).is_some() && !exact_rate(s)
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
    #[test]
    fn hand_over_terms_are_typed_as_days_and_a_share_with_two_decimals() {
        let ok = |d: &str, s: &str| HandoverDraft { days: d.into(), share: s.into() }.check();
        assert_eq!(ok("30", "30"), Ok(HandoverTerms { days: 30, share_ppm: 300_000 }));
        assert_eq!(ok(" 0 ", "0"), Ok(HandoverTerms { days: 0, share_ppm: 0 }));
        assert_eq!(ok("365", "100"), Ok(HandoverTerms { days: 365, share_ppm: 1_000_000 }));
        assert_eq!(ok("1", "33.33%"), Ok(HandoverTerms { days: 1, share_ppm: 333_300 }));
        assert_eq!(ok("1", "12.5"), Ok(HandoverTerms { days: 1, share_ppm: 125_000 }));
        for (d, s, fields) in [
            ("-1", "30", &["handover_days"][..]),
            ("366", "30", &["handover_days"]),
            ("30.5", "30", &["handover_days"]),
            ("thirty", "30", &["handover_days"]),
            ("", "30", &["handover_days"]),
            ("30", "-5", &["handover_share"]),
            ("30", "100.01", &["handover_share"]),
            ("30", "12.345", &["handover_share"]),
            ("30", "1e2", &["handover_share"]),
            ("30", "30.", &["handover_share"]),
            ("30", "", &["handover_share"]),
            ("a\0", "x\0", &["handover_days", "handover_share"]),
        ] {
            let got: Vec<String> = ok(d, s).unwrap_err().into_iter().map(|(f, _)| f).collect();
            assert_eq!(got, fields, "{d:?} {s:?}");
        }
        let t = HandoverTerms { days: 14, share_ppm: 333_300 };
        assert_eq!(HandoverDraft::of(t).check(), Ok(t), "the form of stored terms reads back the same");
        assert_eq!(HandoverTerms::from_stored(Some("14"), Some("333300")), t);
        assert_eq!(HandoverTerms::from_stored(Some("400"), Some("x")), HandoverTerms::default(), "unreadable: off");
    }

    #[test]
    fn an_owner_change_starts_clears_or_keeps_the_hand_over() {
        let on = HandoverTerms { days: 30, share_ppm: 300_000 };
        let h = handover_after_owner_change(Some("a"), None, Some("b"), on, 1_000).unwrap();
        assert_eq!(h, Handover { rep_id: "a".into(), until: 1_000 + 30 * 86_400, share_ppm: 300_000 });
        assert_eq!(handover_after_owner_change(Some("b"), Some(h.clone()), Some("b"), on, 5_000), Some(h.clone()));
        let off = HandoverTerms { days: 0, share_ppm: 300_000 };
        assert_eq!(handover_after_owner_change(Some("b"), Some(h.clone()), Some("c"), off, 5_000), None, "setting off");
        assert_eq!(handover_after_owner_change(Some("b"), Some(h.clone()), None, on, 5_000), None, "to no rep");
        assert_eq!(handover_after_owner_change(None, None, Some("b"), on, 5_000), None, "from no rep");
        let again = handover_after_owner_change(Some("b"), Some(h.clone()), Some("a"), on, 5_000).unwrap();
        assert_eq!(again.rep_id, "b", "handed back: the rep it came from now keeps the share");
        // Orders copy it while it runs.
        assert_eq!(order_handover(Some(&h), Some("b"), h.until - 1), Some(("a".into(), 300_000)));
        assert_eq!(order_handover(Some(&h), Some("b"), h.until), None, "ended");
        assert_eq!(order_handover(Some(&h), Some("a"), 2_000), None, "never to the owner");
        assert_eq!(order_handover(None, Some("b"), 2_000), None);
    }

    #[test]
    fn a_split_sums_to_the_base_and_the_rule_says_so() {
        let m = |s: &str| Money::parse(s).unwrap();
        assert_eq!(split(m("10.01"), 300_000), Some((m("3.00"), m("7.01"))), "3.003 → 3.00");
        assert_eq!(split(m("0.05"), 500_000), Some((m("0.03"), m("0.02"))), "0.025: half away from zero");
        assert_eq!(split(m("-0.05"), 500_000), Some((m("-0.03"), m("-0.02"))));
        assert_eq!(split(m("20.00"), 1_000_000), Some((m("20.00"), Money::ZERO)));
        assert_eq!(Share::Previous(300_000).rule_note(), "; hand-over 30% to previous rep");
        assert_eq!(Share::Kept(300_000).rule_note(), "; hand-over 70% kept");
        assert_eq!(Share::Kept(333_300).rule_note(), "; hand-over 66.67% kept");
        assert_eq!(rule_label("default; hand-over 30% to previous rep"), "Default rate; hand-over 30% to previous rep");
        assert_eq!(rule_label("category:Dental; hand-over 70% kept"), "Category Dental; hand-over 70% kept");
        // 3 × 3.3333 billed (10.00), 30 % to the previous rep at 5 %, the owner keeps 70 % at 6 %.
        let (net, unit) = (m("10.00"), m("3.3333"));
        let (p, k) = split(net, 300_000).unwrap();
        let (pa, ka) = (commission(p, 50_000).unwrap(), commission(k, 60_000).unwrap());
        assert_eq!((p, pa, k, ka), (m("3.00"), m("0.15"), m("7.00"), m("0.42")));
        let (pb, pc) = clawback_share(net, unit, 0, 1, 50_000, Share::Previous(300_000)).unwrap();
        let (kb, kc) = clawback_share(net, unit, 0, 1, 60_000, Share::Kept(300_000)).unwrap();
        assert_eq!(pb.checked_add(kb), Some(m("-3.33")), "the two bases are what the note credits");
        assert_eq!((pb, pc, kb, kc), (m("-1.00"), m("-0.05"), m("-2.33"), m("-0.14")), "6.67: 2.00 / 4.67");
    }

    proptest! {
        /// Any base ≥ 0 and share 0..=100 %: the previous rep's part and the owner's add up to it
        /// exactly, the previous rep's is whole cents when the base is, and neither is negative.
        #[test]
        fn a_split_adds_up_to_the_base(cents in 0i64..100_000_000_000, ppm in 0i64..=MAX_RATE_PPM, tenths in 0i64..100) {
            for base in [Money::from_raw(cents * 100), Money::from_raw(cents * 100 + tenths)] {
                let (p, k) = split(base, ppm).unwrap();
                prop_assert_eq!(p.checked_add(k), Some(base));
                prop_assert!(!p.is_negative() && !k.is_negative());
                prop_assert_eq!(p.raw() % 100, 0);
                prop_assert_eq!(Share::Previous(ppm).of(base).unwrap().checked_add(Share::Kept(ppm).of(base).unwrap()), Some(base));
            }
        }

        /// For any sequence of invoices and credit notes on an order placed during a hand-over:
        /// each rep's lines of each invoice line add up exactly to the commission on their share
        /// of what remains invoiced of it, so each rep's accruals are within half a cent per
        /// invoice line of their rate × their share of the net invoiced (and their shares add up
        /// to the net invoiced); credited in full, both net to exactly zero.
        #[test]
        fn both_reps_accruals_sum_to_their_rate_times_their_share(
            units in proptest::collection::vec(1i64..100_000_000, 3),
            ordered in proptest::collection::vec(1i64..200, 3),
            rates in (0i64..=MAX_RATE_PPM, 0i64..=MAX_RATE_PPM),
            share_bp in 0i64..=10_000,
            steps in steps(),
            credit_all in any::<bool>(),
        ) {
            let share = share_bp * 100;
            let reps = [(Share::Previous(share), rates.0), (Share::Kept(share), rates.1)];
            // (order line, quantity, net, credited units)
            let mut invoice_lines: Vec<(usize, i64, Money, i64)> = Vec::new();
            let mut invoiced = [0i64; 3];
            let mut per_line: Vec<[Money; 2]> = Vec::new();
            let mut accrued = [Money::ZERO; 2];
            let mut bases = [Money::ZERO; 2];
            let credit = |il: &mut (usize, i64, Money, i64), q: i64, mine: &mut [Money; 2], acc: &mut [Money; 2], bases: &mut [Money; 2]| {
                let unit = Money::from_raw(units[il.0]);
                let credited = unit.checked_mul_qty(il.3 + q).unwrap().round_to_cents()
                    .checked_sub(unit.checked_mul_qty(il.3).unwrap().round_to_cents()).unwrap();
                let mut both = Money::ZERO;
                for (r, (share, rate)) in reps.iter().enumerate() {
                    let (base, amount) = clawback_share(il.2, unit, il.3, q, *rate, *share).unwrap();
                    both = both.checked_add(base).unwrap();
                    mine[r] = mine[r].checked_add(amount).unwrap();
                    acc[r] = acc[r].checked_add(amount).unwrap();
                    bases[r] = bases[r].checked_add(base).unwrap();
                }
                prop_assert_eq!(both.raw(), -credited.raw(), "the two clawbacks' bases are what the note credits");
                il.3 += q;
                Ok(())
            };
            for s in &steps {
                match *s {
                    Step::Invoice { line, qty } => {
                        let q = qty.min(ordered[line] - invoiced[line]);
                        if q <= 0 { continue; }
                        invoiced[line] += q;
                        let net = Money::from_raw(units[line]).checked_mul_qty(q).unwrap().round_to_cents();
                        let (p, k) = split(net, share).unwrap();
                        let mut mine = [Money::ZERO; 2];
                        for (r, part) in [p, k].into_iter().enumerate() {
                            mine[r] = commission(part, reps[r].1).unwrap();
                            accrued[r] = accrued[r].checked_add(mine[r]).unwrap();
                            bases[r] = bases[r].checked_add(part).unwrap();
                        }
                        invoice_lines.push((line, q, net, 0));
                        per_line.push(mine);
                    }
                    Step::Credit { invoice_line, qty } => {
                        let Some(il) = invoice_lines.get_mut(invoice_line) else { continue };
                        let q = qty.min(il.1 - il.3);
                        if q <= 0 { continue; }
                        credit(il, q, &mut per_line[invoice_line], &mut accrued, &mut bases)?;
                    }
                }
            }
            let mut net_invoiced = Money::ZERO;
            for (i, il) in invoice_lines.iter().enumerate() {
                let remaining = il.2.checked_sub(Money::from_raw(units[il.0]).checked_mul_qty(il.3).unwrap().round_to_cents()).unwrap();
                net_invoiced = net_invoiced.checked_add(remaining).unwrap();
                for (r, (part, rate)) in reps.iter().enumerate() {
                    prop_assert_eq!(per_line[i][r], commission(part.of(remaining).unwrap(), *rate).unwrap(), "invoice line {}, rep {}", i, r);
                }
            }
            prop_assert_eq!(bases[0].checked_add(bases[1]), Some(net_invoiced), "the shares add up to the net invoiced");
            let n = invoice_lines.len().max(1) as i128;
            for (r, (_, rate)) in reps.iter().enumerate() {
                // Each rep's share of the net is within half a cent per line of share × net…
                let exact_share = (net_invoiced.raw() as i128) * (if r == 0 { share } else { MAX_RATE_PPM - share }) as i128;
                prop_assert!(((bases[r].raw() as i128) * 1_000_000 - exact_share).abs() * 2 <= 100 * 1_000_000 * n, "rep {} base", r);
                // …and what they earned is within half a cent per line of rate × their base.
                let exact = (bases[r].raw() as i128) * (*rate as i128);
                let got = (accrued[r].raw() as i128) * 1_000_000;
                prop_assert!((got - exact).abs() * 2 <= 100 * 1_000_000 * n, "rep {}: {} vs {}", r, got, exact);
            }
            if credit_all {
                for i in 0..invoice_lines.len() {
                    let q = invoice_lines[i].1 - invoice_lines[i].3;
                    if q > 0 {
                        let mut il = invoice_lines[i];
                        credit(&mut il, q, &mut per_line[i], &mut accrued, &mut bases)?;
                        invoice_lines[i] = il;
                    }
                }
                prop_assert_eq!(accrued, [Money::ZERO; 2], "credited in full: nothing earned by either");
                prop_assert_eq!(bases, [Money::ZERO; 2]);
            }
        }
    }

    #[test]
    fn the_paid_basis_earns_the_part_paid_and_all_of_it_once_paid() {
        let m = |s: &str| Money::parse(s).unwrap();
        // 3 × 33.3333 (100.00 net) at 10 % tax: 110.00 due; 5 % commission: 5.00.
        let line = BilledLine {
            net: m("100.00"),
            tax: m("10.00"),
            unit_price: m("33.3333"),
            tax_rate_ppm: 100_000,
            credited_qty: 0,
        };
        let due = due_after_credits(m("110.00"), &[line]).unwrap();
        assert_eq!(due, m("110.00"));
        let at = |paid: &str| paid_target(&line, Share::Whole, 50_000, m(paid), due).unwrap();
        assert_eq!(at("0"), (Money::ZERO, Money::ZERO), "nothing paid, nothing earned");
        assert_eq!(at("44.00"), (m("40.00"), m("2.00")), "40 % paid: 40 % of the commission");
        assert_eq!(at("110.00"), (m("100.00"), m("5.00")), "paid in full: rate × net exactly");
        assert_eq!(at("120.00"), (m("100.00"), m("5.00")), "overpaid: capped at the whole");
        assert_eq!(at("0.01"), (m("0.01"), Money::ZERO), "0.0045… rounds to nothing");
        // A credit note of one unit (33.33 net, 3.33 tax) after full payment: 66.67 remains.
        let credited = BilledLine { credited_qty: 1, ..line };
        let due = due_after_credits(m("110.00"), &[credited]).unwrap();
        assert_eq!(due, m("73.34"));
        let after = paid_target(&credited, Share::Whole, 50_000, m("110.00"), due).unwrap();
        assert_eq!(after, (m("66.67"), m("3.33")), "the credited part is clawed back");
        assert_eq!(
            m("5.00").checked_add(clawback(m("100.00"), m("33.3333"), 0, 1, 50_000).unwrap().1),
            Some(after.1),
            "the same as the invoiced basis after the same credit note"
        );
        // Hand-over: each rep earns their share's part.
        let p = paid_target(&line, Share::Previous(300_000), 50_000, m("55.00"), m("110.00")).unwrap();
        let k = paid_target(&line, Share::Kept(300_000), 60_000, m("55.00"), m("110.00")).unwrap();
        assert_eq!((p, k), ((m("15.00"), m("0.75")), (m("35.00"), m("2.10"))));
        assert_eq!(paid_part(m("0.05"), m("1"), m("2")), Some(m("0.03")), "0.025: half away from zero");
        assert_eq!(paid_part(m("-0.05"), m("1"), m("2")), Some(m("-0.03")));
    }

    /// What happens to a paid-basis invoice: a payment, the reversal of an earlier one, or a
    /// credit note of units of a line.
    #[derive(Clone, Debug)]
    enum PaidStep {
        Pay(i64),
        TakeBack(usize),
        Credit { line: usize, qty: i64 },
    }

    proptest! {
        /// For any sequence of partial payments, payments taken back and credit notes on an
        /// invoice whose order is split between two reps (any share; a share of 0 is no
        /// hand-over): writing at each step the difference between the target and what was
        /// written before, each rep's lines of each invoice line add up to the target at every
        /// step, never above the commission on what remains invoiced, never below zero, and more
        /// paid never earns less; once paid in full, exactly what the invoiced basis accrues after
        /// the same credit notes (the commission on the rep's share of what remains invoiced);
        /// the two reps' bases add up to the net paid for; everything taken back or credited
        /// nets to zero.
        #[test]
        fn paid_accruals_follow_every_payment_and_credit(
            units in proptest::collection::vec(1i64..10_000_000, 1..4),
            qtys in proptest::collection::vec(1i64..50, 3),
            tax_rates in proptest::collection::vec(0i64..300_000, 3),
            rates in (0i64..=MAX_RATE_PPM, 0i64..=MAX_RATE_PPM),
            share_bp in 0i64..=10_000,
            steps in proptest::collection::vec(prop_oneof![
                (1i64..50_000_000).prop_map(PaidStep::Pay),
                (0usize..10).prop_map(PaidStep::TakeBack),
                (0usize..3, 1i64..20).prop_map(|(line, qty)| PaidStep::Credit { line, qty }),
            ], 1..25),
            settle in any::<bool>(),
        ) {
            let share = share_bp * 100;
            let reps = [(Share::Previous(share), rates.0), (Share::Kept(share), rates.1)];
            let mut lines: Vec<BilledLine> = units.iter().zip(&qtys).zip(&tax_rates).map(|((u, q), t)| {
                let net = Money::from_raw(*u).checked_mul_qty(*q).unwrap().round_to_cents();
                BilledLine { net, tax: line_tax(net, *t).unwrap(), unit_price: Money::from_raw(*u), tax_rate_ppm: *t, credited_qty: 0 }
            }).collect();
            let total = Money::sum(lines.iter().map(|l| l.net.checked_add(l.tax).unwrap())).unwrap();
            // Invoiced basis, for comparison: the accrual and the clawbacks as credit notes write them.
            let mut invoiced: Vec<[Money; 2]> = lines.iter().map(|l| {
                [0, 1].map(|r| commission(reps[r].0.of(l.net).unwrap(), reps[r].1).unwrap())
            }).collect();
            let mut written: Vec<[(Money, Money); 2]> = vec![[(Money::ZERO, Money::ZERO); 2]; lines.len()];
            let mut payments: Vec<(Money, bool)> = Vec::new();
            let mut last: Vec<[Money; 2]> = vec![[Money::ZERO; 2]; lines.len()];
            let mut run = |lines: &[BilledLine], payments: &[(Money, bool)], written: &mut Vec<[(Money, Money); 2]>, invoiced: &[[Money; 2]], monotone: Option<bool>| -> Result<(), TestCaseError> {
                let paid = Money::sum(payments.iter().filter(|p| p.1).map(|p| p.0)).unwrap();
                let due = due_after_credits(total, lines).unwrap();
                for (i, l) in lines.iter().enumerate() {
                    for r in 0..2 {
                        let (base, amount) = paid_target(l, reps[r].0, reps[r].1, paid, due).unwrap();
                        // The service writes the difference; zero writes nothing.
                        let (b0, a0) = written[i][r];
                        written[i][r] = (b0.checked_add(base.checked_sub(b0).unwrap()).unwrap(), a0.checked_add(amount.checked_sub(a0).unwrap()).unwrap());
                        prop_assert_eq!(written[i][r], (base, amount));
                        let full = commission(reps[r].0.of(l.remaining_net().unwrap()).unwrap(), reps[r].1).unwrap();
                        prop_assert!(!amount.is_negative() && amount.raw() <= full.raw(), "0 ≤ {} ≤ {}", amount, full);
                        if paid.raw() >= due.raw() {
                            prop_assert_eq!(amount, full, "paid in full: the invoiced basis' figure");
                            prop_assert_eq!(amount, invoiced[i][r], "…and what the invoiced basis wrote");
                        }
                        match monotone {
                            Some(true) => prop_assert!(amount.raw() >= last[i][r].raw(), "more paid never earns less"),
                            Some(false) => prop_assert!(amount.raw() <= last[i][r].raw(), "less paid never earns more"),
                            None => {}
                        }
                        last[i][r] = amount;
                    }
                    let whole = paid_part(l.remaining_net().unwrap(), paid, due).unwrap();
                    if paid.raw() >= due.raw() || paid.raw() <= 0 {
                        prop_assert_eq!(written[i][0].0.checked_add(written[i][1].0), Some(whole), "the bases add up");
                    }
                }
                Ok(())
            };
            for s in &steps {
                match *s {
                    PaidStep::Pay(cents) => {
                        payments.push((Money::from_raw(cents * 100), true));
                        run(&lines, &payments, &mut written, &invoiced, Some(true))?;
                    }
                    PaidStep::TakeBack(k) => {
                        let Some(p) = payments.get_mut(k) else { continue };
                        if !p.1 { continue; }
                        p.1 = false;
                        run(&lines, &payments, &mut written, &invoiced, Some(false))?;
                    }
                    PaidStep::Credit { line, qty } => {
                        let Some(l) = lines.get_mut(line) else { continue };
                        let q = qty.min(qtys[line] - l.credited_qty);
                        if q <= 0 { continue; }
                        for (r, (sh, rate)) in reps.iter().enumerate() {
                            let (_, claw) = clawback_share(l.net, l.unit_price, l.credited_qty, q, *rate, *sh).unwrap();
                            invoiced[line][r] = invoiced[line][r].checked_add(claw).unwrap();
                        }
                        l.credited_qty += q;
                        run(&lines, &payments, &mut written, &invoiced, None)?;
                    }
                }
            }
            if settle {
                // Everything taken back: nothing earned.
                for p in payments.iter_mut() { p.1 = false; }
                run(&lines, &payments, &mut written, &invoiced, Some(false))?;
                prop_assert!(written.iter().all(|w| w.iter().all(|(b, a)| b.is_zero() && a.is_zero())));
            } else {
                // Paid in full (what remains due), then everything credited: nothing earned either.
                let due = due_after_credits(total, &lines).unwrap();
                payments.push((due.max(Money::ZERO), true));
                run(&lines, &payments, &mut written, &invoiced, Some(true))?;
                for (i, l) in lines.iter_mut().enumerate() {
                    for (r, (sh, rate)) in reps.iter().enumerate() {
                        let (_, claw) = clawback_share(l.net, l.unit_price, l.credited_qty, qtys[i] - l.credited_qty, *rate, *sh).unwrap();
                        invoiced[i][r] = invoiced[i][r].checked_add(claw).unwrap();
                    }
                    l.credited_qty = qtys[i];
                }
                run(&lines, &payments, &mut written, &invoiced, None)?;
                prop_assert!(written.iter().all(|w| w.iter().all(|(b, a)| b.is_zero() && a.is_zero())), "fully credited nets to zero");
            }
        }
    }
}
