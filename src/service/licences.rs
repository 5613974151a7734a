//! Licences for regulated products: staff record an account's licences, upload and verify their
//! documents, and the seller's admin sets the rules the pipeline enforces (`domain::licences`;
//! the check itself runs in every evaluation, see `service::evaluation`).
//!
//! Who may do what:
//! - staff who may see the account, and the account's own users, see its licences; the document
//!   is downloadable by those staff and by the account's manager; anyone else gets 404;
//! - staff with `ManageAccounts` add and edit licences, upload documents and verify them;
//! - admins (`ManageCatalog`) edit the rules.
//!
//! `licence.expiring` is raised once per licence per expiry window (30 days before the expiry
//! date; the window is known by that date, so a renewal opens a new one) by
//! [`raise_expiry_notices`], which runs when staff open the licence pages and from
//! `portico licences check` (for a daily cron): idempotent, so running it often costs one query.

use super::catalog::today;
use super::{Actor, ServiceError, ServiceResult, audit, check_texts};
use crate::domain::auth::Permission;
use crate::domain::licences::{
    self, EXPIRY_WARNING_DAYS, Licence, LicenceRule, LicenceStatus, LicenceType, class_code, class_code_problem,
    region_code,
};
use crate::domain::pricing::{format_iso_date, parse_iso_date};
use crate::store::licences::{self as store, AttentionRow, DocumentRow, LicenceFields, RuleRow};
use crate::store::{Db, accounts, is_unique_violation, new_id};
use serde_json::json;
use time::Date;

pub use crate::store::licences::{AttentionRow as LicenceAttention, LicenceRow, RuleRow as LicenceRuleRow};

/// Documents are at most this large.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

impl LicenceRow {
    pub fn licence_type(&self) -> Option<LicenceType> {
        LicenceType::parse(&self.licence_type)
    }

    /// The type as people read it ("DEA registration").
    pub fn type_label(&self) -> &'static str {
        self.licence_type().map(LicenceType::label).unwrap_or("licence")
    }

    pub fn verified(&self) -> bool {
        self.verified_at.is_some()
    }

    pub fn domain(&self) -> Option<Licence> {
        Some(Licence {
            licence_type: self.licence_type()?,
            number: self.number.clone(),
            issuing_region: self.issuing_region.clone(),
            valid_from: self.valid_from.as_deref().and_then(parse_iso_date),
            expires_on: parse_iso_date(&self.expires_on)?,
            verified: self.verified(),
        })
    }

    /// Where it stands on `today` (an unreadable row reads as expired).
    pub fn status(&self, today: Date) -> LicenceStatus {
        self.domain().map(|l| LicenceStatus::of(&l, today)).unwrap_or(LicenceStatus::Expired)
    }
}

impl RuleRow {
    pub fn domain(&self) -> Option<LicenceRule> {
        Some(LicenceRule {
            class: self.regulated_class.clone(),
            licence_type: LicenceType::parse(&self.licence_type)?,
            region: Some(self.region.clone()).filter(|r| !r.is_empty()),
            require_verified: self.require_verified,
        })
    }

    pub fn class_label(&self) -> String {
        licences::class_label(&self.regulated_class)
    }

    pub fn type_label(&self) -> &'static str {
        LicenceType::parse(&self.licence_type).map(LicenceType::label).unwrap_or("licence")
    }
}

/// The licence facts of one evaluation (see `domain::licences::LicenceFacts`): loaded only when a
/// line names a regulated product.
pub(crate) async fn facts(
    db: &Db,
    account_id: &str,
    ship_to_id: Option<&str>,
) -> ServiceResult<licences::LicenceFacts> {
    let region = region_code(&store::destination_region(db, account_id, ship_to_id).await?);
    let licences = store::for_account(db, account_id).await?.iter().filter_map(LicenceRow::domain).collect();
    let rules = store::rules(db).await?.iter().filter_map(RuleRow::domain).collect();
    Ok(licences::LicenceFacts { region, licences, rules })
}

/// The account, if the actor may see it (404 otherwise).
async fn visible_account(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<accounts::AccountRow> {
    super::accounts::get_account(db, actor, account_id).await
}

/// An account's licences, for its staff page and its own users.
pub async fn account_licences(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<LicenceRow>> {
    visible_account(db, actor, account_id).await?;
    Ok(store::for_account(db, account_id).await?)
}

/// One licence, if the actor may see its account (404 otherwise, also for ids that do not exist).
pub async fn get_licence(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<LicenceRow> {
    super::names_nothing(id)?;
    let l = store::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    visible_account(db, actor, &l.account_id).await?;
    Ok(l)
}

/// A licence's document, for staff who may see the account and the account's manager.
pub async fn document(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<DocumentRow> {
    let l = get_licence(db, actor, id).await?;
    if !actor.principal.is_staff() && !actor.principal.can(Permission::ManageOwnAccountUsers) {
        return Err(ServiceError::NotFound);
    }
    let _ = l;
    store::document(db, id).await?.ok_or(ServiceError::NotFound)
}

/// A licence as a form or the API gives it, unchecked.
#[derive(Clone, Debug, Default)]
pub struct LicenceDraft {
    pub licence_type: String,
    pub number: String,
    pub issuing_region: String,
    pub valid_from: String,
    pub expires_on: String,
}

impl LicenceDraft {
    fn fields(&self) -> ServiceResult<LicenceFields> {
        check_texts(
            &[
                ("licence_type", &self.licence_type),
                ("number", &self.number),
                ("issuing_region", &self.issuing_region),
                ("valid_from", &self.valid_from),
                ("expires_on", &self.expires_on),
            ],
            &[],
        )?;
        let mut problems = Vec::new();
        if LicenceType::parse(&self.licence_type).is_none() {
            let known: Vec<&str> = LicenceType::ALL.iter().map(|t| t.as_str()).collect();
            problems.push((
                "licence_type".to_string(),
                format!("“{}” is not a licence type: use {}.", self.licence_type.trim(), known.join(", ")),
            ));
        }
        let number = self.number.trim().to_string();
        if number.is_empty() || number.chars().count() > 60 {
            problems.push(("number".into(), "The licence number is required (at most 60 characters).".into()));
        }
        let region = region_code(&self.issuing_region);
        if region.chars().count() > 10 {
            problems.push((
                "issuing_region".into(),
                "The issuing state is a code such as TX (at most 10 characters).".into(),
            ));
        }
        let date = |field: &str, text: &str, problems: &mut Vec<(String, String)>| -> Option<Date> {
            let d = parse_iso_date(text.trim());
            if d.is_none() {
                problems.push((field.to_string(), format!("{field}: “{}” is not a date (YYYY-MM-DD).", text.trim())));
            }
            d
        };
        let expires = date("expires_on", &self.expires_on, &mut problems);
        let from = match self.valid_from.trim() {
            "" => None,
            t => date("valid_from", t, &mut problems),
        };
        if let (Some(f), Some(e)) = (from, expires)
            && f > e
        {
            problems.push(("valid_from".into(), "valid_from: the licence cannot start after it expires.".into()));
        }
        ServiceError::from_problems(problems)?;
        Ok(LicenceFields {
            licence_type: self.licence_type.trim().to_string(),
            number,
            issuing_region: region,
            valid_from: from.map(format_iso_date),
            expires_on: expires.map(format_iso_date).unwrap_or_default(),
        })
    }
}

fn licence_json(l: &LicenceRow) -> serde_json::Value {
    json!({
        "id": l.id, "account_id": l.account_id, "licence_type": l.licence_type, "number": l.number,
        "issuing_region": l.issuing_region, "valid_from": l.valid_from, "expires_on": l.expires_on,
        "verified": l.verified_at.is_some(),
    })
}

fn duplicate() -> ServiceError {
    ServiceError::invalid("number", "The account already has a licence of this type with this number.")
}

/// Records a licence for an account (unverified until staff check its document).
pub async fn add_licence(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    draft: &LicenceDraft,
) -> ServiceResult<LicenceRow> {
    actor.require(Permission::ManageAccounts)?;
    visible_account(db, actor, account_id).await?;
    let fields = draft.fields()?;
    let unit = (new_id(), account_id.to_string(), fields, now, actor.owned());
    db.write(unit, |tx, (id, account_id, fields, now, actor)| {
        Box::pin(async move {
            if let Err(e) = store::insert(tx, id, account_id, fields, *now).await {
                return Err(if is_unique_violation(&e) { duplicate() } else { e.into() });
            }
            let row = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after = licence_json(&row);
            let actor = actor.actor();
            audit(tx, Some(&actor), *now, "licence.added", ("licence", id), None, Some(after.clone())).await?;
            crate::store::audit::enqueue(tx, "licence.added", &after, *now).await?;
            Ok(row)
        })
    })
    .await
}

/// Edits a licence from a form showing `expected_version` (a stale form is refused). A changed
/// licence needs verifying again.
pub async fn update_licence(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    expected_version: i64,
    draft: &LicenceDraft,
) -> ServiceResult<LicenceRow> {
    actor.require(Permission::ManageAccounts)?;
    get_licence(db, actor, id).await?;
    let fields = draft.fields()?;
    let unit = (id.to_string(), expected_version, fields, now, actor.owned());
    db.write(unit, |tx, (id, expected, fields, now, actor)| {
        Box::pin(async move {
            let before = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            match store::update(tx, id, *expected, fields, *now).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ServiceError::Conflict(
                        "Someone else changed this licence after you opened it. Reload it and edit again.".into(),
                    ));
                }
                Err(e) if is_unique_violation(&e) => return Err(duplicate()),
                Err(e) => return Err(e.into()),
            }
            let after = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let (b, a) = (licence_json(&before), licence_json(&after));
            let actor = actor.actor();
            audit(tx, Some(&actor), *now, "licence.updated", ("licence", id), Some(b), Some(a.clone())).await?;
            crate::store::audit::enqueue(tx, "licence.updated", &a, *now).await?;
            Ok(after)
        })
    })
    .await
}

/// Records a licence found by type and number for an account: creates it, updates it when it
/// differs (it then needs verifying again), or leaves it as it is. Returns it and whether it was
/// created (the API's upsert).
pub async fn put_licence(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    draft: &LicenceDraft,
) -> ServiceResult<(LicenceRow, bool)> {
    actor.require(Permission::ManageAccounts)?;
    visible_account(db, actor, account_id).await?;
    let fields = draft.fields()?;
    let existing = store::for_account(db, account_id)
        .await?
        .into_iter()
        .find(|l| l.licence_type == fields.licence_type && l.number == fields.number);
    match existing {
        None => Ok((add_licence(db, now, actor, account_id, draft).await?, true)),
        Some(l)
            if l.issuing_region == fields.issuing_region
                && l.valid_from == fields.valid_from
                && l.expires_on == fields.expires_on =>
        {
            Ok((l, false))
        }
        Some(l) => Ok((update_licence(db, now, actor, &l.id, l.version, draft).await?, false)),
    }
}

/// What kind of file a document is, by its first bytes (the name and the browser's type are not
/// trusted): PDF, PNG or JPEG only.
pub fn sniff_document(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Stores a licence's document (replacing any earlier one); the licence needs verifying again.
pub async fn upload_document(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    filename: &str,
    bytes: Vec<u8>,
) -> ServiceResult<LicenceRow> {
    actor.require(Permission::ManageAccounts)?;
    get_licence(db, actor, id).await?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ServiceError::TooLarge(format!(
            "The document is larger than {} MB.",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    if bytes.is_empty() {
        return Err(ServiceError::invalid("document", "Choose the licence's document (PDF, PNG or JPEG)."));
    }
    let Some(content_type) = sniff_document(&bytes) else {
        return Err(ServiceError::invalid("document", "The document must be a PDF, PNG or JPEG file."));
    };
    let name: String = filename
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .collect::<String>()
        .trim()
        .chars()
        .take(120)
        .collect();
    let name = if name.is_empty() { "licence".to_string() } else { name };
    let unit = (id.to_string(), name, content_type, bytes, now, actor.owned());
    db.write(unit, |tx, (id, name, content_type, bytes, now, actor)| {
        Box::pin(async move {
            store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let a = actor.actor();
            store::put_document(tx, id, name, content_type, bytes, &a.principal.user_id, *now).await?;
            let after =
                json!({ "licence_id": id, "filename": name, "content_type": content_type, "size": bytes.len() });
            audit(tx, Some(&a), *now, "licence.document_uploaded", ("licence", id), None, Some(after)).await?;
            let row = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            Ok(row)
        })
    })
    .await
}

/// Staff confirm they checked the licence's document against the licence: audited, and
/// `licence.verified` is raised. A licence without a document cannot be verified.
pub async fn verify_licence(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<LicenceRow> {
    actor.require(Permission::ManageAccounts)?;
    let l = get_licence(db, actor, id).await?;
    if l.document_name.is_none() {
        return Err(ServiceError::Conflict(format!(
            "Licence {} has no document yet: upload it, then verify it.",
            l.number
        )));
    }
    let unit = (id.to_string(), now, actor.owned());
    db.write(unit, |tx, (id, now, actor)| {
        Box::pin(async move {
            let before = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            if before.verified_at.is_some() {
                return Ok(before);
            }
            let a = actor.actor();
            store::set_verified(tx, id, Some(&a.principal.user_id), *now).await?;
            let after = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let payload = licence_json(&after);
            audit(
                tx,
                Some(&a),
                *now,
                "licence.verified",
                ("licence", id),
                Some(licence_json(&before)),
                Some(payload.clone()),
            )
            .await?;
            crate::store::audit::enqueue(tx, "licence.verified", &payload, *now).await?;
            Ok(after)
        })
    })
    .await
}

/// Raises `licence.expiring` for every licence that entered its expiry window and has not had it
/// for this expiry date; returns how many were raised. Idempotent (see the module doc).
pub async fn raise_expiry_notices(db: &Db, now: i64) -> ServiceResult<usize> {
    let day = today(now);
    let from = format_iso_date(day);
    let to = format_iso_date(day + time::Duration::days(EXPIRY_WARNING_DAYS));
    if !store::any_expiring_without_notice(db, &from, &to).await? {
        return Ok(0);
    }
    db.write((from, to, now), |tx, (from, to, now)| {
        Box::pin(async move {
            let due = store::expiring_without_notice(tx, from, to).await?;
            for l in &due {
                store::mark_expiry_notice(tx, &l.id, &l.expires_on).await?;
                let days_left = parse_iso_date(&l.expires_on).map(|e| (e - today(*now)).whole_days()).unwrap_or(0);
                let mut payload = licence_json(l);
                payload["days_left"] = json!(days_left);
                audit(tx, None, *now, "licence.expiring", ("licence", &l.id), None, Some(payload.clone())).await?;
                crate::store::audit::enqueue(tx, "licence.expiring", &payload, *now).await?;
            }
            Ok::<_, ServiceError>(due.len())
        })
    })
    .await
}

/// The rep's book for reps; every account for staff who see all; nothing for others.
fn book_of<'a>(actor: &'a Actor<'_>) -> ServiceResult<Option<&'a str>> {
    let p = actor.principal;
    if !p.is_staff() {
        return Err(ServiceError::NotFound);
    }
    if p.can(Permission::ViewAllAccounts) {
        Ok(None)
    } else if p.can(Permission::ViewOwnBook) {
        Ok(Some(p.user_id.as_str()))
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Licences staff should look at (expired in the last 90 days, expiring within 30, or not
/// verified), in the accounts the actor may see; raises due expiry notices first.
pub async fn needing_attention(db: &Db, now: i64, actor: &Actor<'_>) -> ServiceResult<Vec<AttentionRow>> {
    let book = book_of(actor)?;
    raise_expiry_notices(db, now).await?;
    let day = today(now);
    let since = format_iso_date(day - time::Duration::days(90));
    let until = format_iso_date(day + time::Duration::days(EXPIRY_WARNING_DAYS));
    Ok(store::needing_attention(db, &since, &until, book).await?)
}

/// How many licences in the actor's accounts expire within 30 days (the staff badge).
pub async fn expiring_count(db: &Db, now: i64, actor: &Actor<'_>) -> ServiceResult<i64> {
    let book = book_of(actor)?;
    let day = today(now);
    let until = format_iso_date(day + time::Duration::days(EXPIRY_WARNING_DAYS));
    Ok(store::count_expiring(db, &format_iso_date(day), &until, book).await?)
}

// ---- Rules ----

pub async fn rules(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<RuleRow>> {
    if !actor.principal.is_staff() {
        return Err(ServiceError::NotFound);
    }
    Ok(store::rules(db).await?)
}

/// A rule as the admin form gives it.
#[derive(Clone, Debug, Default)]
pub struct RuleDraft {
    pub regulated_class: String,
    pub licence_type: String,
    pub region: String,
    pub require_verified: bool,
}

/// Adds a rule "class X needs a licence of type T (for ship-to state S)".
pub async fn add_rule(db: &Db, now: i64, actor: &Actor<'_>, d: &RuleDraft) -> ServiceResult<RuleRow> {
    actor.require(Permission::ManageCatalog)?;
    check_texts(
        &[("regulated_class", &d.regulated_class), ("licence_type", &d.licence_type), ("region", &d.region)],
        &[],
    )?;
    let class = class_code(&d.regulated_class);
    let mut problems = Vec::new();
    if let Some(p) = class_code_problem(&class) {
        problems.push(("regulated_class".to_string(), p));
    }
    if LicenceType::parse(&d.licence_type).is_none() {
        problems.push(("licence_type".into(), format!("“{}” is not a licence type.", d.licence_type.trim())));
    }
    let region = region_code(&d.region);
    if region.chars().count() > 10 {
        problems.push(("region".into(), "The state is a code such as TX (at most 10 characters).".into()));
    }
    ServiceError::from_problems(problems)?;
    let unit = (new_id(), class, d.licence_type.trim().to_string(), region, d.require_verified, now, actor.owned());
    db.write(unit, |tx, (id, class, t, region, rv, now, actor)| {
        Box::pin(async move {
            if let Err(e) = store::insert_rule(tx, id, class, t, region, *rv, *now).await {
                return Err(if is_unique_violation(&e) {
                    ServiceError::invalid("regulated_class", "This rule exists already.")
                } else {
                    e.into()
                });
            }
            let row = store::get_rule_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after = serde_json::to_value(&row).unwrap_or_default();
            audit(tx, Some(&actor.actor()), *now, "licence_rule.added", ("licence_rule", id), None, Some(after))
                .await?;
            Ok(row)
        })
    })
    .await
}

pub async fn remove_rule(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<()> {
    actor.require(Permission::ManageCatalog)?;
    super::names_nothing(id)?;
    db.write((id.to_string(), now, actor.owned()), |tx, (id, now, actor)| {
        Box::pin(async move {
            let row = store::get_rule_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            store::delete_rule(tx, id).await?;
            let before = serde_json::to_value(&row).unwrap_or_default();
            audit(tx, Some(&actor.actor()), *now, "licence_rule.removed", ("licence_rule", id), Some(before), None)
                .await?;
            Ok(())
        })
    })
    .await
}

/// Sets a product's regulated class (the admin's product page; imports and the products API set
/// it with the rest of the product): audited, and licence rules for the class apply at once.
pub async fn set_product_class(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    class: &str,
) -> ServiceResult<crate::store::products::ProductRow> {
    actor.require(Permission::ManageCatalog)?;
    check_texts(&[("regulated_class", class)], &[])?;
    let Ok(sku) = crate::domain::catalog::Sku::parse(sku) else { return Err(ServiceError::NotFound) };
    let code = class_code(class);
    if let Some(p) = Some(&code).filter(|c| !c.is_empty()).and_then(|c| class_code_problem(c)) {
        return Err(ServiceError::invalid("regulated_class", p));
    }
    let class = Some(code).filter(|c| !c.is_empty());
    db.write((sku, class, now, actor.owned()), |tx, (sku, class, now, actor)| {
        Box::pin(async move {
            let before = crate::store::products::lock_by_sku(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            crate::store::products::set_regulated_class(tx, &before.id, class.as_deref(), *now).await?;
            let after = crate::store::products::lock_by_sku(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "product.regulated_class_changed",
                ("product", &before.id),
                Some(json!({ "sku": before.sku, "regulated_class": before.regulated_class })),
                Some(json!({ "sku": after.sku, "regulated_class": after.regulated_class })),
            )
            .await?;
            Ok(after)
        })
    })
    .await
}
