//! Account (customer company) vocabulary and validation.

use super::input::{TextKind, check_amount, check_text};
use super::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    OnHold,
    Onboarding,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 3] = [AccountStatus::Active, AccountStatus::OnHold, AccountStatus::Onboarding];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::OnHold => "on_hold",
            AccountStatus::Onboarding => "onboarding",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::Active => "Active",
            AccountStatus::OnHold => "On hold",
            AccountStatus::Onboarding => "Onboarding",
        }
    }

    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Who drives the relationship: the rep, the customer on the portal, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnershipMode {
    RepLed,
    SelfService,
    Hybrid,
}

impl OwnershipMode {
    pub const ALL: [OwnershipMode; 3] = [OwnershipMode::RepLed, OwnershipMode::SelfService, OwnershipMode::Hybrid];

    pub fn as_str(self) -> &'static str {
        match self {
            OwnershipMode::RepLed => "rep_led",
            OwnershipMode::SelfService => "self_service",
            OwnershipMode::Hybrid => "hybrid",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OwnershipMode::RepLed => "Rep-led",
            OwnershipMode::SelfService => "Self-service",
            OwnershipMode::Hybrid => "Hybrid",
        }
    }

    pub fn parse(s: &str) -> Option<OwnershipMode> {
        OwnershipMode::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Payment terms: pay before shipment, or pay within N days of invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentTerms {
    Prepay,
    Net(u16),
}

pub const MAX_NET_DAYS: u16 = 365;

impl PaymentTerms {
    /// Stored as a number of days; 0 means prepay.
    pub fn from_days(days: i64) -> PaymentTerms {
        if days <= 0 { PaymentTerms::Prepay } else { PaymentTerms::Net(days.min(MAX_NET_DAYS as i64) as u16) }
    }

    pub fn days(self) -> i64 {
        match self {
            PaymentTerms::Prepay => 0,
            PaymentTerms::Net(d) => d as i64,
        }
    }

    /// Parses `prepay`, `net30`, `net 30`, `30`.
    pub fn parse(s: &str) -> Option<PaymentTerms> {
        let s = s.trim().to_ascii_lowercase();
        if s == "prepay" || s == "0" {
            return Some(PaymentTerms::Prepay);
        }
        let digits = s.strip_prefix("net").unwrap_or(&s).trim();
        match digits.parse::<u16>() {
            Ok(d) if d > 0 && d <= MAX_NET_DAYS => Some(PaymentTerms::Net(d)),
            _ => None,
        }
    }

    pub fn label(self) -> String {
        match self {
            PaymentTerms::Prepay => "Prepay".to_string(),
            PaymentTerms::Net(d) => format!("Net {d} days"),
        }
    }

    pub fn code(self) -> String {
        match self {
            PaymentTerms::Prepay => "prepay".to_string(),
            PaymentTerms::Net(d) => format!("net{d}"),
        }
    }
}

/// A postal address as entered; validated for the fields a carrier needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

impl Address {
    /// Returns (field, message) pairs for every problem.
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, v) in [
            ("line1", &self.line1),
            ("line2", &self.line2),
            ("city", &self.city),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
        ] {
            if let Err(e) = check_text(v, TextKind::Line) {
                out.push((format!("{prefix}{name}"), format!("{prefix}{name} {e}.")));
            }
        }
        let mut need = |name: &str, v: &str, label: &str| {
            if v.trim().is_empty() {
                out.push((format!("{prefix}{name}"), format!("{label} is required.")));
            }
        };
        need("line1", &self.line1, "Street address");
        need("city", &self.city, "City");
        need("postal_code", &self.postal_code, "Postal code");
        need("country", &self.country, "Country");
        if !self.country.trim().is_empty() && self.country.trim().len() != 2 {
            out.push((format!("{prefix}country"), "Country must be a two-letter ISO code, e.g. US.".into()));
        }
        out
    }

    /// The address as it is stored: text trimmed, the country code in capitals.
    pub fn normalized(&self) -> Address {
        let t = |s: &str| s.trim().to_string();
        Address {
            line1: t(&self.line1),
            line2: t(&self.line2),
            city: t(&self.city),
            region: t(&self.region),
            postal_code: t(&self.postal_code),
            country: self.country.trim().to_uppercase(),
        }
    }

    pub fn one_line(&self) -> String {
        [&self.line1, &self.line2, &self.city, &self.region, &self.postal_code, &self.country]
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Validated input for creating or editing an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountDraft {
    pub name: String,
    pub status: AccountStatus,
    pub ownership_mode: OwnershipMode,
    pub owner_rep_id: Option<String>,
    pub terms: PaymentTerms,
    pub credit_limit: Money,
    pub po_required: bool,
    pub external_id: Option<String>,
    pub phone: String,
    pub bill_to: Address,
}

impl AccountDraft {
    /// The draft as it is stored (text trimmed, the country code in capitals): a draft equal to
    /// a stored account's once normalized changes nothing.
    pub fn normalized(&self) -> AccountDraft {
        let t = |s: &str| s.trim().to_string();
        AccountDraft { name: t(&self.name), phone: t(&self.phone), bill_to: self.bill_to.normalized(), ..self.clone() }
    }

    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (field, v) in [
            ("name", self.name.as_str()),
            ("owner_rep_id", self.owner_rep_id.as_deref().unwrap_or("")),
            ("external_id", self.external_id.as_deref().unwrap_or("")),
            ("phone", self.phone.as_str()),
        ] {
            if let Err(e) = check_text(v, TextKind::Line) {
                out.push((field.into(), format!("{field} {e}.")));
            }
        }
        let name = self.name.trim();
        if name.is_empty() {
            out.push(("name".into(), "Name is required.".into()));
        } else if name.chars().count() > 200 {
            out.push(("name".into(), "Name is at most 200 characters.".into()));
        }
        if let Err(e) = check_amount(self.credit_limit) {
            out.push(("credit_limit".into(), format!("Credit limit: {e}.")));
        }
        if self.ownership_mode != OwnershipMode::SelfService && self.owner_rep_id.is_none() {
            out.push(("owner_rep_id".into(), "Rep-led and hybrid accounts need an owning rep.".into()));
        }
        if let Some(ext) = &self.external_id
            && ext.len() > 100
        {
            out.push(("external_id".into(), "External id is at most 100 characters.".into()));
        }
        out.extend(self.bill_to.problems("bill_"));
        out
    }
}

/// Normalises and checks an e-mail address (enough to catch typos; ownership is proved by the
/// set-password link).
pub fn normalize_email(input: &str) -> Option<String> {
    let e = input.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_and_label() {
        assert_eq!(PaymentTerms::parse("prepay"), Some(PaymentTerms::Prepay));
        assert_eq!(PaymentTerms::parse("Net 30"), Some(PaymentTerms::Net(30)));
        assert_eq!(PaymentTerms::parse("net45"), Some(PaymentTerms::Net(45)));
        assert_eq!(PaymentTerms::parse("60"), Some(PaymentTerms::Net(60)));
        assert_eq!(PaymentTerms::parse("net 0"), None);
        assert_eq!(PaymentTerms::parse("net 999"), None);
        assert_eq!(PaymentTerms::Net(30).label(), "Net 30 days");
        assert_eq!(PaymentTerms::from_days(0), PaymentTerms::Prepay);
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(normalize_email("  Jane.Doe@Example.COM "), Some("jane.doe@example.com".into()));
        assert_eq!(normalize_email("nope"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a b@c.com"), None);
        assert_eq!(normalize_email("a@@c.com"), None);
    }

    #[test]
    fn draft_problems_name_fields() {
        let d = AccountDraft {
            name: " ".into(),
            status: AccountStatus::Active,
            ownership_mode: OwnershipMode::RepLed,
            owner_rep_id: None,
            terms: PaymentTerms::Net(30),
            credit_limit: Money::from_units(-1).unwrap(),
            po_required: false,
            external_id: None,
            phone: String::new(),
            bill_to: Address { country: "USA".into(), ..Default::default() },
        };
        let fields: Vec<String> = d.problems().into_iter().map(|(f, _)| f).collect();
        for f in ["name", "credit_limit", "owner_rep_id", "bill_line1", "bill_city", "bill_postal_code", "bill_country"]
        {
            assert!(fields.contains(&f.to_string()), "missing {f} in {fields:?}");
        }
    }
}
