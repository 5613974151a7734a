//! Where and how to deliver an order, and the checks against the account every placement and
//! amendment makes.

use super::{LineInput, ProductRef};
use crate::service::catalog::today;
use crate::service::{ServiceError, ServiceResult, text_problems};
use crate::store::accounts::{self, AccountRow};
use crate::store::{Db, pricing};

/// Where and how to deliver, as the buyer (or the rep, desk or ERP) asked.
#[derive(Clone, Debug, Default)]
pub struct OrderHeader {
    /// `None`: the account's default ship-to.
    pub ship_to_id: Option<String>,
    pub po_number: String,
    /// ISO date (YYYY-MM-DD), optional.
    pub requested_date: Option<String>,
    pub notes: String,
}

/// The text rule ([`crate::service::check_texts`]) over what a placement or amendment names: the
/// header's fields and each line's SKU or external id (`lines[i]`, 0-based as the API numbers
/// them). Checked before anything is looked up: PostgreSQL refuses a NUL even in a query.
pub(super) fn check_text(h: &OrderHeader, lines: &[LineInput]) -> ServiceResult<()> {
    let mut problems = text_problems(
        &[
            ("ship_to_id", h.ship_to_id.as_deref().unwrap_or("")),
            ("po_number", &h.po_number),
            ("requested_date", h.requested_date.as_deref().unwrap_or("")),
        ],
        &[("notes", &h.notes)],
    );
    for (i, l) in lines.iter().enumerate() {
        let (what, text) = match &l.product {
            ProductRef::Sku(s) => ("sku", s.as_str()),
            ProductRef::NotASku(s) => ("sku", s.as_str()),
            ProductRef::ExternalId(s) => ("external_id", s.as_str()),
            ProductRef::Id(s) => ("product_id", s.as_str()),
        };
        problems.extend(text_problems(&[(&format!("lines[{i}].{what}"), text)], &[]));
    }
    ServiceError::from_problems(problems)
}

/// Validates the header against the account; returns the ship-to id and its address line.
pub(super) async fn check_header(
    db: &Db,
    now: i64,
    account: &AccountRow,
    h: &OrderHeader,
) -> ServiceResult<(String, String)> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let ship_tos = accounts::ship_tos(db, &account.id).await?;
    let ship_to = match h.ship_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => ship_tos.iter().find(|s| s.id == id),
        None => ship_tos.iter().find(|s| s.is_default).or(ship_tos.first()),
    };
    if ship_to.is_none() {
        problems.push(("ship_to".into(), "Choose a ship-to address of this account.".into()));
    }
    let po = h.po_number.trim();
    if account.po_required && po.is_empty() {
        problems.push(("po_number".into(), "This account requires a PO number on every order.".into()));
    }
    if po.chars().count() > 64 {
        problems.push(("po_number".into(), "The PO number is longer than 64 characters.".into()));
    }
    if let Some(d) = h.requested_date.as_deref().filter(|d| !d.trim().is_empty()) {
        match pricing::parse_date(Some(d.trim())) {
            None => problems.push(("requested_date".into(), format!("“{d}” is not a date (YYYY-MM-DD)."))),
            Some(day) if day < today(now) => {
                problems.push(("requested_date".into(), "The requested delivery date is in the past.".into()))
            }
            Some(_) => {}
        }
    }
    if h.notes.chars().count() > 2000 {
        problems.push(("notes".into(), "Notes are longer than 2,000 characters.".into()));
    }
    ServiceError::from_problems(problems)?;
    let s = ship_to.expect("checked above");
    Ok((s.id.clone(), format!("{} — {}", s.label, s.address().one_line())))
}
