//! Licences for regulated products (DESIGN.md §3, pipeline step 4).
//!
//! A product may carry a **regulated class** (a short code such as `controlled_substance` or
//! `rx_device`). The seller's **rules** say which licence type a class needs, everywhere or only
//! when shipping to some states: "controlled substances need a DEA registration", "prescription
//! devices shipped to TX need a state device licence". An account keeps its **licences** (type,
//! number, issuing state, valid from / expires on, whether staff verified the document).
//!
//! [`check`] decides one line: every rule for the product's class that applies to the ship-to
//! state must be met by one licence of the rule's type that
//! - covers the ship-to state: issued by that state. A licence with no issuing state (a federal
//!   registration) covers every state; a ship-to without a state is covered by any licence of the
//!   type (there is no state to match);
//! - is in force on the day: `valid_from <= today <= expires_on` (the expiry day is the last valid
//!   day);
//! - is verified by staff, when the rule demands it (`require_verified`, the seller's choice per
//!   rule: a demanding seller checks the document before the first order ships; a trusting one
//!   lets the number stand until staff get to it).
//!
//! A class with no rule is not restricted (classes describe products; rules restrict them). The
//! reason codes are `licence_required`, `licence_expired` and `licence_unverified`, with a message
//! that names the licence and the state.

use super::pricing::format_date;
use time::Date;

/// Licences expiring within this many days are flagged for staff and raise `licence.expiring`.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The licence types the seller can require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LicenceType {
    /// A DEA registration (controlled substances).
    Dea,
    /// A state controlled substance registration.
    StateControlled,
    /// A state board of pharmacy licence (wholesale or pharmacy).
    StatePharmacy,
    /// A licence to buy prescription medical devices.
    RxDevice,
}

impl LicenceType {
    pub const ALL: [LicenceType; 4] =
        [LicenceType::Dea, LicenceType::StateControlled, LicenceType::StatePharmacy, LicenceType::RxDevice];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenceType::Dea => "dea",
            LicenceType::StateControlled => "state_controlled",
            LicenceType::StatePharmacy => "state_pharmacy",
            LicenceType::RxDevice => "rx_device",
        }
    }

    pub fn parse(s: &str) -> Option<LicenceType> {
        LicenceType::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }

    /// As people read it, in a sentence: "a valid DEA registration".
    pub fn label(self) -> &'static str {
        match self {
            LicenceType::Dea => "DEA registration",
            LicenceType::StateControlled => "state controlled substance registration",
            LicenceType::StatePharmacy => "state pharmacy licence",
            LicenceType::RxDevice => "prescription device licence",
        }
    }
}

/// A regulated class code as products and rules carry it: trimmed, lower case, words joined by
/// `_` ("Controlled substance" and "controlled_substance" are the same class).
pub fn class_code(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether a class code is acceptable: 1–40 characters of a–z, 0–9 and `_`.
pub fn class_code_problem(code: &str) -> Option<String> {
    if code.is_empty()
        || code.len() > 40
        || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Some(format!(
            "“{code}” is not a regulated class: use up to 40 letters, digits and underscores, e.g. controlled_substance."
        ));
    }
    None
}

/// A class as people read it: "Controlled substances", "Prescription devices", else the code in
/// words ("Hazmat class 3").
pub fn class_label(code: &str) -> String {
    match code {
        "controlled_substance" => "Controlled substances".into(),
        "rx_device" => "Prescription devices".into(),
        "rx" => "Prescription products".into(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

/// A state or region code as ship-tos and licences carry it (trimmed, upper case).
pub fn region_code(s: &str) -> String {
    s.trim().to_uppercase()
}

/// "class X needs a licence of type T (when shipping to `region`, or everywhere)".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceRule {
    pub class: String,
    pub licence_type: LicenceType,
    /// The ship-to state the rule is limited to; `None`: every destination.
    pub region: Option<String>,
    /// Only a licence staff verified counts.
    pub require_verified: bool,
}

impl LicenceRule {
    fn applies(&self, class: &str, region: &str) -> bool {
        self.class == class && self.region.as_deref().is_none_or(|r| r == region)
    }
}

/// A licence an account holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Licence {
    pub licence_type: LicenceType,
    pub number: String,
    /// The issuing state ("" for a federal registration, which covers every state).
    pub issuing_region: String,
    pub valid_from: Option<Date>,
    /// The last day it is valid.
    pub expires_on: Date,
    pub verified: bool,
}

impl Licence {
    /// Whether this licence can serve for shipping to `region` (see the module doc).
    pub fn covers(&self, region: &str) -> bool {
        self.issuing_region.is_empty() || region.is_empty() || self.issuing_region == region
    }

    pub fn in_force(&self, today: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= today) && today <= self.expires_on
    }

    /// Days from `today` to the expiry day (0 on the day itself, negative once expired).
    pub fn days_left(&self, today: Date) -> i64 {
        (self.expires_on - today).whole_days()
    }
}

/// Where a licence stands on a day, for badges (most urgent first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicenceStatus {
    Expired,
    NotYetValid,
    Unverified,
    /// In force, verified, and expiring within [`EXPIRY_WARNING_DAYS`]: days left.
    ExpiresSoon(i64),
    Valid,
}

impl LicenceStatus {
    pub fn of(l: &Licence, today: Date) -> LicenceStatus {
        if today > l.expires_on {
            LicenceStatus::Expired
        } else if l.valid_from.is_some_and(|f| f > today) {
            LicenceStatus::NotYetValid
        } else if !l.verified {
            LicenceStatus::Unverified
        } else if l.days_left(today) <= EXPIRY_WARNING_DAYS {
            LicenceStatus::ExpiresSoon(l.days_left(today))
        } else {
            LicenceStatus::Valid
        }
    }

    /// The badge's text: "Valid", "Expires in 12 days", "Expired", "Not verified".
    pub fn label(self) -> String {
        match self {
            LicenceStatus::Expired => "Expired".into(),
            LicenceStatus::NotYetValid => "Not yet valid".into(),
            LicenceStatus::Unverified => "Not verified".into(),
            LicenceStatus::ExpiresSoon(0) => "Expires today".into(),
            LicenceStatus::ExpiresSoon(1) => "Expires tomorrow".into(),
            LicenceStatus::ExpiresSoon(n) => format!("Expires in {n} days"),
            LicenceStatus::Valid => "Valid".into(),
        }
    }

    /// The badge's CSS class suffix (`badge-…`).
    pub fn css(self) -> &'static str {
        match self {
            LicenceStatus::Expired => "on_hold",
            LicenceStatus::NotYetValid | LicenceStatus::Unverified => "onboarding",
            LicenceStatus::ExpiresSoon(_) => "pending_approval",
            LicenceStatus::Valid => "active",
        }
    }
}

/// Whether a licence is in its expiry window on `today` (in force and expiring within
/// [`EXPIRY_WARNING_DAYS`]): the `licence.expiring` event is raised once per licence per window
/// (the window is known by the expiry date, so a renewed licence gets a new one).
pub fn in_expiry_window(expires_on: Date, today: Date) -> bool {
    let left = (expires_on - today).whole_days();
    (0..=EXPIRY_WARNING_DAYS).contains(&left)
}

/// What the pipeline's licence step decides on for one evaluation: the ship-to state, the
/// account's licences and the rules for the classes the lines name.
#[derive(Clone, Debug, Default)]
pub struct LicenceFacts {
    pub region: String,
    pub licences: Vec<Licence>,
    pub rules: Vec<LicenceRule>,
}

/// Why a line of a regulated class cannot be ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenceProblem {
    /// No licence of the type covers the state (or none is in force yet).
    Required { rule: LicenceRule, not_yet_valid: Option<(String, Date)> },
    /// The best licence of the type for the state has expired.
    Expired { rule: LicenceRule, number: String, expired_on: Date },
    /// A licence is in force but staff have not verified its document, and the rule demands it.
    Unverified { rule: LicenceRule, number: String },
}

impl LicenceProblem {
    /// The stable reason code (see the pipeline's table).
    pub fn code(&self) -> &'static str {
        match self {
            LicenceProblem::Required { .. } => "licence_required",
            LicenceProblem::Expired { .. } => "licence_expired",
            LicenceProblem::Unverified { .. } => "licence_unverified",
        }
    }

    fn rule(&self) -> &LicenceRule {
        match self {
            LicenceProblem::Required { rule, .. }
            | LicenceProblem::Expired { rule, .. }
            | LicenceProblem::Unverified { rule, .. } => rule,
        }
    }

    /// For people: "Controlled substances need a valid DEA registration for shipping to TX;
    /// licence RX-1234 expired on 31 Oct 2026."
    pub fn message(&self, region: &str) -> String {
        let rule = self.rule();
        let what = class_label(&rule.class);
        let needs = if rule.require_verified { "a verified" } else { "a valid" };
        let to = if region.is_empty() { String::new() } else { format!(" for shipping to {region}") };
        let head = format!("{what} need {needs} {}{to}", rule.licence_type.label());
        match self {
            LicenceProblem::Required { not_yet_valid: Some((n, from)), .. } => {
                format!("{head}; licence {n} is valid only from {}.", format_date(*from))
            }
            LicenceProblem::Required { .. } => format!("{head}; the account has none on file."),
            LicenceProblem::Expired { number, expired_on, .. } => {
                format!("{head}; licence {number} expired on {}.", format_date(*expired_on))
            }
            LicenceProblem::Unverified { number, .. } => {
                format!("{head}; licence {number} is waiting for staff to verify its document.")
            }
        }
    }
}

/// Decides whether a product of `class` may be shipped to `region` for an account holding
/// `licences` (see the module doc). `class` and the rules' classes are [`class_code`]s; `region`
/// a [`region_code`].
pub fn check(
    class: &str,
    region: &str,
    licences: &[Licence],
    rules: &[LicenceRule],
    today: Date,
) -> Result<(), LicenceProblem> {
    for rule in rules.iter().filter(|r| r.applies(class, region)) {
        let candidates: Vec<&Licence> =
            licences.iter().filter(|l| l.licence_type == rule.licence_type && l.covers(region)).collect();
        let ok = |l: &&Licence| l.in_force(today) && (l.verified || !rule.require_verified);
        if candidates.iter().any(ok) {
            continue;
        }
        // Nothing meets the rule: name the licence that comes closest.
        if let Some(l) = candidates.iter().filter(|l| l.in_force(today)).min_by(|a, b| a.number.cmp(&b.number)) {
            return Err(LicenceProblem::Unverified { rule: rule.clone(), number: l.number.clone() });
        }
        if let Some(l) = candidates.iter().filter(|l| l.expires_on < today).max_by_key(|l| l.expires_on) {
            return Err(LicenceProblem::Expired {
                rule: rule.clone(),
                number: l.number.clone(),
                expired_on: l.expires_on,
            });
        }
        let later = candidates.iter().filter_map(|l| l.valid_from.map(|f| (l.number.clone(), f))).min_by_key(|x| x.1);
        return Err(LicenceProblem::Required { rule: rule.clone(), not_yet_valid: later });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);

    fn dea(region: Option<&str>, verified: bool) -> LicenceRule {
        LicenceRule {
            class: "controlled_substance".into(),
            licence_type: LicenceType::Dea,
            region: region.map(String::from),
            require_verified: verified,
        }
    }

    fn licence(t: LicenceType, state: &str, expires: Date, verified: bool) -> Licence {
        Licence {
            licence_type: t,
            number: "RX-1234".into(),
            issuing_region: state.into(),
            valid_from: None,
            expires_on: expires,
            verified,
        }
    }

    #[test]
    fn every_reason_names_the_licence_and_the_state() {
        let rules = vec![dea(None, true)];
        let cs = "controlled_substance";
        let none = check(cs, "TX", &[], &rules, TODAY).unwrap_err();
        assert_eq!(none.code(), "licence_required");
        assert_eq!(
            none.message("TX"),
            "Controlled substances need a verified DEA registration for shipping to TX; the account has none on file."
        );
        let old = licence(LicenceType::Dea, "TX", date!(2026 - 10 - 31), true);
        let expired = check(cs, "TX", std::slice::from_ref(&old), &rules, TODAY).unwrap_err();
        assert_eq!(expired.code(), "licence_expired");
        assert_eq!(
            expired.message("TX"),
            "Controlled substances need a verified DEA registration for shipping to TX; licence RX-1234 expired on 31 Oct 2026."
        );
        let pending = licence(LicenceType::Dea, "TX", date!(2027 - 10 - 31), false);
        let unverified = check(cs, "TX", std::slice::from_ref(&pending), &rules, TODAY).unwrap_err();
        assert_eq!(unverified.code(), "licence_unverified");
        assert!(unverified.message("TX").contains("RX-1234 is waiting for staff to verify"));
        assert_eq!(
            check(cs, "TX", std::slice::from_ref(&pending), &[dea(None, false)], TODAY),
            Ok(()),
            "trusting rule"
        );
        let good = licence(LicenceType::Dea, "TX", date!(2027 - 10 - 31), true);
        assert_eq!(check(cs, "TX", &[old, good.clone()], &rules, TODAY), Ok(()));
        assert!(check(cs, "OK", std::slice::from_ref(&good), &rules, TODAY).is_err(), "a TX licence does not cover OK");
        assert_eq!(check("rx_device", "TX", &[], &rules, TODAY), Ok(()), "a class without rules is unrestricted");
        let mut later = good.clone();
        later.valid_from = Some(date!(2026 - 12 - 15));
        let e = check(cs, "TX", &[later], &rules, TODAY).unwrap_err();
        assert_eq!(e.code(), "licence_required");
        assert!(e.message("TX").ends_with("licence RX-1234 is valid only from 15 Dec 2026."));
    }

    #[test]
    fn a_state_limited_rule_applies_to_that_state_only() {
        let rules = vec![LicenceRule {
            class: "rx_device".into(),
            licence_type: LicenceType::RxDevice,
            region: Some("TX".into()),
            require_verified: false,
        }];
        assert!(check("rx_device", "TX", &[], &rules, TODAY).is_err());
        assert_eq!(check("rx_device", "IL", &[], &rules, TODAY), Ok(()));
    }

    #[test]
    fn the_expiry_day_is_the_last_valid_day() {
        let l = licence(LicenceType::Dea, "", TODAY, true);
        assert_eq!(check("controlled_substance", "WI", std::slice::from_ref(&l), &[dea(None, true)], TODAY), Ok(()));
        assert_eq!(LicenceStatus::of(&l, TODAY), LicenceStatus::ExpiresSoon(0));
        let next = TODAY.next_day().unwrap();
        assert_eq!(LicenceStatus::of(&l, next), LicenceStatus::Expired);
        assert!(in_expiry_window(TODAY, TODAY) && !in_expiry_window(TODAY, next));
        assert!(in_expiry_window(date!(2026 - 12 - 26), TODAY) && !in_expiry_window(date!(2026 - 12 - 27), TODAY));
    }

    #[test]
    fn codes_and_labels() {
        assert_eq!(class_code(" Controlled substance "), "controlled_substance");
        assert_eq!(class_code("RX-device"), "rx_device");
        assert!(class_code_problem("controlled_substance").is_none());
        assert!(class_code_problem("").is_some() && class_code_problem("a b").is_some());
        assert_eq!(class_label("hazmat_class_3"), "Hazmat class 3");
        for t in LicenceType::ALL {
            assert_eq!(LicenceType::parse(t.as_str()), Some(t));
        }
    }

    fn arb_type() -> impl Strategy<Value = LicenceType> {
        prop::sample::select(LicenceType::ALL.to_vec())
    }
    fn arb_region() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["".to_string(), "TX".into(), "IL".into(), "WI".into()])
    }
    fn arb_day() -> impl Strategy<Value = Date> {
        (-60i64..60).prop_map(|d| TODAY + time::Duration::days(d))
    }
    fn arb_licence() -> impl Strategy<Value = Licence> {
        (arb_type(), arb_region(), proptest::option::of(arb_day()), arb_day(), any::<bool>(), 0u8..5).prop_map(
            |(licence_type, issuing_region, valid_from, expires_on, verified, n)| Licence {
                licence_type,
                number: format!("L-{n}"),
                issuing_region,
                valid_from,
                expires_on,
                verified,
            },
        )
    }
    fn arb_rule() -> impl Strategy<Value = LicenceRule> {
        (
            prop::sample::select(vec!["controlled_substance", "rx_device"]),
            arb_type(),
            proptest::option::of(arb_region()),
            any::<bool>(),
        )
            .prop_map(|(class, licence_type, region, require_verified)| LicenceRule {
                class: class.into(),
                licence_type,
                region: region.filter(|r| !r.is_empty()),
                require_verified,
            })
    }

    proptest! {
        /// The check passes exactly when every applicable rule has a licence meeting it.
        #[test]
        fn passes_iff_every_applicable_rule_is_met(
            licences in prop::collection::vec(arb_licence(), 0..5),
            rules in prop::collection::vec(arb_rule(), 0..4),
            region in arb_region(),
            day in arb_day(),
        ) {
            let class = "controlled_substance";
            let met = rules.iter().filter(|r| r.class == class && r.region.as_deref().is_none_or(|x| x == region)).all(|r| {
                licences.iter().any(|l| {
                    l.licence_type == r.licence_type
                        && (l.issuing_region.is_empty() || region.is_empty() || l.issuing_region == region)
                        && l.valid_from.is_none_or(|f| f <= day)
                        && day <= l.expires_on
                        && (l.verified || !r.require_verified)
                })
            });
            let got = check(class, &region, &licences, &rules, day);
            prop_assert_eq!(got.is_ok(), met);
            if let Err(p) = got {
                let message = p.message(&region);
                prop_assert!(message.contains(p.rule().licence_type.label()), "names the licence type");
                match &p {
                    LicenceProblem::Expired { number, expired_on, .. } => {
                        prop_assert!(*expired_on < day);
                        prop_assert!(message.contains(number.as_str()));
                    }
                    LicenceProblem::Unverified { number, .. } => prop_assert!(message.contains(number.as_str())),
                    LicenceProblem::Required { .. } => {}
                }
            }
        }

        /// Adding a licence never turns a passing line into a refused one; removing every rule
        /// always passes.
        #[test]
        fn more_licences_never_hurt(
            licences in prop::collection::vec(arb_licence(), 0..4),
            extra in arb_licence(),
            rules in prop::collection::vec(arb_rule(), 0..4),
            region in arb_region(),
            day in arb_day(),
        ) {
            let class = "rx_device";
            prop_assert_eq!(check(class, &region, &licences, &[], day), Ok(()));
            if check(class, &region, &licences, &rules, day).is_ok() {
                let mut more = licences.clone();
                more.push(extra);
                prop_assert_eq!(check(class, &region, &more, &rules, day), Ok(()));
            }
        }

        /// The status badge agrees with the check of a rule for the licence's own type.
        #[test]
        fn the_badge_agrees_with_the_check(l in arb_licence(), day in arb_day()) {
            let rule = LicenceRule { class: "c".into(), licence_type: l.licence_type, region: None, require_verified: true };
            let ok = check("c", &l.issuing_region, std::slice::from_ref(&l), &[rule], day).is_ok();
            let status = LicenceStatus::of(&l, day);
            prop_assert_eq!(ok, matches!(status, LicenceStatus::Valid | LicenceStatus::ExpiresSoon(_)));
        }
    }
}
