//! Accounts: create, edit, credit and terms, ship-tos, search — always within the actor's scope.

use super::{Actor, ServiceError, ServiceResult, audit, check_texts};
use crate::domain::account::{AccountDraft, AccountStatus, Address, PaymentTerms};
use crate::domain::auth::{AccountScope, Permission, StaffRole};
pub use crate::domain::credit::CreditSettings;
use crate::domain::money::Money;
pub use crate::store::accounts::{AccountListRow, AccountRow, ShipToRow};
pub use crate::store::audit::AuditRow;
use crate::store::{Db, accounts, audit as audit_log, is_unique_violation, new_id, users};
use serde_json::json;

/// Loads an account the actor may see; anything else (another tenant, outside a rep's book) is 404.
pub async fn get_account(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<AccountRow> {
    super::names_nothing(id)?;
    let account = accounts::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !actor.principal.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    Ok(account)
}

pub use crate::store::accounts::Assortment;

/// The account's group and the catalogs and price lists that apply to it (its page), for staff
/// who may see it.
pub async fn assortment(db: &Db, actor: &Actor<'_>, account: &AccountRow) -> ServiceResult<Assortment> {
    if !actor.principal.is_staff() {
        return Err(ServiceError::NotFound);
    }
    Ok(accounts::assortment(db, &account.id).await?)
}

/// An account by id, number (A-10001) or external (ERP) id, if the actor may see it; else 404.
pub async fn find_account(db: &Db, actor: &Actor<'_>, reference: &str) -> ServiceResult<AccountRow> {
    super::check_texts(&[("account", reference)], &[])?;
    let account = accounts::find_by_reference(db, reference).await?.ok_or(ServiceError::NotFound)?;
    if !actor.principal.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    Ok(account)
}

/// Where an account stands against its credit limit.
#[derive(Clone, Debug)]
pub struct CreditPosition {
    pub exposure: crate::domain::credit::Exposure,
    /// 0 = no limit.
    pub limit: Money,
    /// What happens to an order past the limit.
    pub over_limit: crate::domain::credit::OverLimit,
}

impl CreditPosition {
    pub fn available(&self) -> Option<Money> {
        self.exposure.available(self.limit)
    }
}

/// The account's exposure and limit: for staff who may see the account, and for its own buyers
/// who order or see billing (a viewer sees no figures: 404).
pub async fn credit_position(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<CreditPosition> {
    let p = actor.principal;
    if p.buyer_account().is_some() && !(p.can(Permission::PortalOrder) || p.can(Permission::PortalBilling)) {
        return Err(ServiceError::NotFound);
    }
    let account = get_account(db, actor, account_id).await?;
    let exposure = crate::store::credit::get(db, &account.id).await?;
    let over_limit = crate::domain::credit::OverLimit::parse(&account.credit_over_limit);
    Ok(CreditPosition { exposure, limit: account.credit_limit(), over_limit })
}

/// Sets every account's running exposure from its records (`portico credit rebuild`): after a
/// bulk load or a restore that wrote orders, invoices or payments without the units that keep
/// it. Returns how many accounts' figures changed; audited.
pub async fn rebuild_exposure(db: &Db, now: i64, actor: &Actor<'_>) -> ServiceResult<usize> {
    actor.require(Permission::ManageCredit)?;
    let before = crate::store::credit::all(db).await?;
    db.write((actor.owned(), now), |tx, (actor, now)| {
        Box::pin(async move {
            crate::store::credit::rebuild_all(tx, *now).await?;
            audit(tx, Some(&actor.actor()), *now, "credit.rebuilt", ("system", "exposure"), None, None).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await?;
    let after = crate::store::credit::all(db).await?;
    let changed =
        after.iter().filter(|(id, e)| before.iter().find(|(b, _)| b == id).map(|(_, x)| x) != Some(e)).count();
    Ok(changed)
}

pub async fn ship_tos(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<ShipToRow>> {
    get_account(db, actor, account_id).await?;
    Ok(accounts::ship_tos(db, account_id).await?)
}

/// The accounts a staff list shows: the actor's whole scope, or only their own book (the rep's
/// "My accounts" page stays their book even when another role lets them see more).
fn list_scope<'a>(actor: &'a Actor<'_>, book_only: bool) -> ServiceResult<AccountScope<'a>> {
    let p = actor.principal;
    if !p.is_staff() {
        return Err(ServiceError::Forbidden);
    }
    Ok(match book_only {
        true if p.can(Permission::ViewOwnBook) => AccountScope::Book(&p.user_id),
        true => AccountScope::None,
        false => p.account_scope(),
    })
}

/// A page of accounts the actor may see, matching `term`, after the keyset `after`.
pub async fn search_accounts(
    db: &Db,
    actor: &Actor<'_>,
    book_only: bool,
    term: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<Vec<AccountListRow>> {
    let scope = list_scope(actor, book_only)?;
    check_texts(&[("q", term)], &[])?;
    Ok(accounts::search(db, scope, term, after, limit).await?)
}

pub async fn count_accounts(db: &Db, actor: &Actor<'_>, book_only: bool) -> ServiceResult<i64> {
    Ok(accounts::count_in_scope(db, list_scope(actor, book_only)?).await?)
}

pub(super) async fn check_owner_rep(db: &Db, draft: &AccountDraft) -> ServiceResult<()> {
    // The one rule for an owning rep, whichever channel names it.
    if let Some(rep_id) = &draft.owner_rep_id {
        let ok =
            users::get(db, rep_id).await?.is_some_and(|u| u.active && u.staff_roles().contains(&StaffRole::SalesRep));
        if !ok {
            return Err(ServiceError::invalid("owner_rep_id", "The owning rep must be an active sales rep."));
        }
    }
    Ok(())
}

pub(super) fn external_id_taken() -> ServiceError {
    ServiceError::invalid("external_id", "Another account already has this external id.")
}

/// Creates an account, optionally in a group (by id) and with its first (default) ship-to.
pub async fn create_account(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    draft: &AccountDraft,
    group_id: Option<&str>,
    first_ship_to: Option<(&str, &Address)>,
) -> ServiceResult<AccountRow> {
    if !actor.principal.can(Permission::ManageAccounts) {
        return Err(ServiceError::Forbidden);
    }
    let mut problems = draft.problems();
    if let Some((label, addr)) = first_ship_to {
        problems.extend(super::text_problems(&[("ship_label", label)], &[]));
        problems.extend(addr.problems("ship_"));
    }
    ServiceError::from_problems(problems)?;
    check_owner_rep(db, draft).await?;
    let group = check_group(db, group_id).await?;
    let first = first_ship_to.map(|(label, addr)| (label.to_string(), addr.clone()));
    let unit = (new_id(), now, actor.owned(), draft.clone(), group, first);
    db.write(unit, |tx, (id, now, actor, draft, group, first)| {
        Box::pin(async move {
            let first = first.as_ref().map(|(l, a)| (l.as_str(), a));
            insert_account(tx, &actor.actor(), *now, id, draft, group.as_deref(), first).await
        })
    })
    .await
}

/// The group an account form chose (by id; empty for none), or a 422 naming `group`.
async fn check_group(db: &Db, group_id: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(id) = group_id.map(str::trim).filter(|g| !g.is_empty()) else { return Ok(None) };
    match accounts::groups(db).await?.into_iter().find(|g| g.id == id) {
        Some(g) => Ok(Some(g.id)),
        None => Err(ServiceError::invalid("group", "Choose one of the account groups (or none).")),
    }
}

/// Inserts an account (numbered from the counter), in its group, with its first ship-to, and
/// records it: the audit row and the `account.created` event, in the caller's unit.
pub(super) async fn insert_account(
    tx: &mut crate::store::Tx,
    actor: &Actor<'_>,
    now: i64,
    id: &str,
    draft: &AccountDraft,
    group_id: Option<&str>,
    first_ship_to: Option<(&str, &Address)>,
) -> ServiceResult<AccountRow> {
    let number = format!("A-{}", tx.next_counter("account").await?);
    if let Err(e) = accounts::insert(tx, id, &number, draft, now).await {
        return Err(if is_unique_violation(&e) { external_id_taken() } else { e.into() });
    }
    if group_id.is_some() {
        accounts::set_group(tx, id, group_id).await?;
    }
    let account = accounts::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
    let snapshot = serde_json::to_value(&account).unwrap_or_default();
    audit(tx, Some(actor), now, "account.created", ("account", id), None, Some(snapshot.clone())).await?;
    crate::store::audit::enqueue(tx, "account.created", &snapshot, now).await?;
    if let Some((label, addr)) = first_ship_to {
        let label = if label.trim().is_empty() { "Main" } else { label };
        let ship_to_id = new_id();
        accounts::insert_ship_to(tx, &ship_to_id, id, label, addr, true, now).await?;
        let row = accounts::ship_to_for_update(tx, id, &ship_to_id).await?.ok_or(ServiceError::NotFound)?;
        crate::store::audit::enqueue(tx, "ship_to.created", &ship_to_event(&row), now).await?;
    }
    Ok(account)
}

/// Records an account's change from `before`: the audit row and the `account.updated` event.
pub(super) async fn record_update(
    tx: &mut crate::store::Tx,
    actor: &Actor<'_>,
    now: i64,
    before: &AccountRow,
) -> ServiceResult<AccountRow> {
    let after = accounts::get_for_update(tx, &before.id).await?.ok_or(ServiceError::NotFound)?;
    let after_json = serde_json::to_value(&after).unwrap_or_default();
    let before_json = serde_json::to_value(before).ok();
    audit(tx, Some(actor), now, "account.updated", ("account", &before.id), before_json, Some(after_json.clone()))
        .await?;
    crate::store::audit::enqueue(tx, "account.updated", &after_json, now).await?;
    Ok(after)
}

/// Saves an edit made from a form showing `expected_version`; a stale form is refused, not merged.
pub async fn update_account(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    expected_version: i64,
    draft: &AccountDraft,
    group_id: Option<&str>,
) -> ServiceResult<AccountRow> {
    if !actor.principal.can(Permission::ManageAccounts) {
        return Err(if actor.principal.is_staff() { ServiceError::Forbidden } else { ServiceError::NotFound });
    }
    ServiceError::from_problems(draft.problems())?;
    check_owner_rep(db, draft).await?;
    let group = check_group(db, group_id).await?;
    let unit = (id.to_string(), now, actor.owned(), expected_version, draft.clone(), group);
    db.write(unit, |tx, (id, now, actor, expected_version, draft, group)| {
        Box::pin(async move {
            let before = accounts::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let handover =
                super::commissions::handover_on_save(tx, &before, draft.owner_rep_id.as_deref(), *now).await?;
            match accounts::update(tx, id, *expected_version, draft, handover.as_ref(), *now).await {
                Ok(true) => {}
                Ok(false) => return Err(stale()),
                Err(e) if is_unique_violation(&e) => return Err(external_id_taken()),
                Err(e) => return Err(e.into()),
            }
            if before.group_id != *group {
                accounts::set_group(tx, id, group.as_deref()).await?;
            }
            record_update(tx, &actor.actor(), *now, &before).await
        })
    })
    .await
}

pub(super) fn stale() -> ServiceError {
    ServiceError::Conflict(
        "Someone else changed this account after you opened it. Reload to see their changes, then edit again.".into(),
    )
}

/// Finance's form: payment terms, credit limit and hold status, and the credit settings.
pub struct CreditUpdate {
    pub expected_version: i64,
    pub terms: PaymentTerms,
    pub credit_limit: Money,
    pub status: AccountStatus,
    pub settings: CreditSettings,
}

/// Finance: payment terms, credit limit, hold status and credit settings, audited.
pub async fn update_credit(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    u: CreditUpdate,
) -> ServiceResult<AccountRow> {
    if !actor.principal.can(Permission::ManageCredit) {
        return Err(if actor.principal.is_staff() { ServiceError::Forbidden } else { ServiceError::NotFound });
    }
    let mut problems = u.settings.problems();
    if let Err(e) = crate::domain::input::check_amount(u.credit_limit) {
        problems.insert(0, ("credit_limit".into(), format!("Credit limit: {e}.")));
    }
    ServiceError::from_problems(problems)?;
    check_texts(&[("tax_exempt_certificate", &u.settings.tax_exempt_certificate)], &[])?;
    let CreditUpdate { expected_version, terms, credit_limit, status, settings } = u;
    let current = get_account(db, actor, id).await?;
    let draft = AccountDraft { status, terms, credit_limit, ..current.draft() };
    let credit_json = |a: &AccountRow| {
        json!({
            "terms_days": a.terms_days, "terms_from_month_end": a.terms_from_month_end, "credit_limit": a.credit_limit,
            "status": a.status, "credit_over_limit": a.credit_over_limit, "overdue_hold_days": a.overdue_hold_days,
            "tax_exempt_certificate": a.tax_exempt_certificate, "tax_exempt_until": a.tax_exempt_until,
        })
    };
    let before = credit_json(&current);
    // The owner is not changed here (the draft is the stored one's): its hand-over stays as read,
    // which the version check makes sure is what is stored.
    let handover = current.handover();
    let unit = (id.to_string(), now, actor.owned(), expected_version, draft, before, settings, handover);
    db.write(unit, move |tx, (id, now, actor, expected_version, draft, before, settings, handover)| {
        Box::pin(async move {
            if !accounts::update(tx, id, *expected_version, draft, handover.as_ref(), *now).await? {
                return Err(stale());
            }
            accounts::set_credit_settings(tx, id, settings).await?;
            let after = accounts::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after_json = credit_json(&after);
            let actor = actor.actor();
            audit(
                tx,
                Some(&actor),
                *now,
                "account.credit_changed",
                ("account", id),
                Some(before.clone()),
                Some(after_json),
            )
            .await?;
            let snapshot = serde_json::to_value(&after).unwrap_or_default();
            crate::store::audit::enqueue(tx, "account.updated", &snapshot, *now).await?;
            Ok(after)
        })
    })
    .await
}

pub(super) fn check_manage_ship_tos(actor: &Actor<'_>) -> ServiceResult<()> {
    if actor.principal.can(Permission::ManageAccounts) {
        Ok(())
    } else if actor.principal.is_staff() {
        Err(ServiceError::Forbidden)
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The one rule set of a ship-to's label and address, whichever channel writes it.
pub(super) fn ship_to_problems(label: &str, address: &Address) -> Vec<(String, String)> {
    let mut problems = address.problems("ship_");
    problems.extend(super::text_problems(&[("ship_label", label)], &[]));
    if label.trim().is_empty() {
        problems.push(("ship_label".into(), "Give the location a name, e.g. “Main warehouse”.".into()));
    }
    problems
}

/// The data of a `ship_to.*` event (docs/webhooks.md).
pub(super) fn ship_to_event(s: &ShipToRow) -> serde_json::Value {
    json!({
        "id": s.id, "account_id": s.account_id, "external_id": s.external_id, "label": s.label,
        "address": {
            "line1": s.line1, "line2": s.line2, "city": s.city, "region": s.region,
            "postal_code": s.postal_code, "country": s.country,
        },
        "default": s.is_default,
    })
}

pub async fn add_ship_to(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    label: &str,
    address: &Address,
    make_default: bool,
) -> ServiceResult<()> {
    check_manage_ship_tos(actor)?;
    get_account(db, actor, account_id).await?;
    ServiceError::from_problems(ship_to_problems(label, address))?;
    let unit =
        (new_id(), now, actor.owned(), account_id.to_string(), label.trim().to_string(), address.clone(), make_default);
    db.write(unit, |tx, (id, now, actor, account_id, label, address, make_default)| {
        Box::pin(async move {
            let has_any = accounts::has_ship_tos(tx, account_id).await?;
            let default = *make_default || !has_any;
            accounts::insert_ship_to(tx, id, account_id, label, address, default, *now).await?;
            let after = json!({ "ship_to_id": id, "label": label, "address": address.one_line(), "default": default });
            audit(tx, Some(&actor.actor()), *now, "ship_to.created", ("account", account_id), None, Some(after))
                .await?;
            let row = accounts::ship_to_for_update(tx, account_id, id).await?.ok_or(ServiceError::NotFound)?;
            crate::store::audit::enqueue(tx, "ship_to.created", &ship_to_event(&row), *now).await?;
            Ok(())
        })
    })
    .await
}

pub async fn set_default_ship_to(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    ship_to_id: &str,
) -> ServiceResult<()> {
    check_manage_ship_tos(actor)?;
    get_account(db, actor, account_id).await?;
    let unit = (now, actor.owned(), account_id.to_string(), ship_to_id.to_string());
    db.write(unit, |tx, (now, actor, account_id, ship_to_id)| {
        Box::pin(async move {
            accounts::ship_to_for_update(tx, account_id, ship_to_id).await?.ok_or(ServiceError::NotFound)?;
            accounts::set_default_ship_to(tx, account_id, ship_to_id, *now).await?;
            let after = Some(json!({ "ship_to_id": ship_to_id }));
            audit(tx, Some(&actor.actor()), *now, "ship_to.made_default", ("account", account_id), None, after).await?;
            let row = accounts::ship_to_for_update(tx, account_id, ship_to_id).await?.ok_or(ServiceError::NotFound)?;
            crate::store::audit::enqueue(tx, "ship_to.updated", &ship_to_event(&row), *now).await?;
            Ok(())
        })
    })
    .await
}

pub async fn remove_ship_to(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    ship_to_id: &str,
) -> ServiceResult<()> {
    check_manage_ship_tos(actor)?;
    get_account(db, actor, account_id).await?;
    let unit = (now, actor.owned(), account_id.to_string(), ship_to_id.to_string());
    db.write(unit, |tx, (now, actor, account_id, ship_to_id)| {
        Box::pin(async move {
            let st = accounts::ship_to_for_update(tx, account_id, ship_to_id).await?.ok_or(ServiceError::NotFound)?;
            accounts::delete_ship_to(tx, account_id, ship_to_id).await?;
            accounts::ensure_default_ship_to(tx, account_id).await?;
            let before = serde_json::to_value(&st).ok();
            audit(tx, Some(&actor.actor()), *now, "ship_to.removed", ("account", account_id), before, None).await?;
            crate::store::audit::enqueue(tx, "ship_to.removed", &ship_to_event(&st), *now).await?;
            Ok(())
        })
    })
    .await
}

/// The owning rep, as the account's users see them: a name and how to reach them.
pub struct RepContact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// The account's owning rep, if it has an active one; `account` is one the actor loaded (through
/// [`get_account`]).
pub async fn rep_contact(db: &Db, actor: &Actor<'_>, account: &AccountRow) -> ServiceResult<Option<RepContact>> {
    if !actor.principal.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    let Some(rep_id) = &account.owner_rep_id else {
        return Ok(None);
    };
    let rep = users::get(db, rep_id).await?;
    Ok(rep.filter(|r| r.active).map(|r| RepContact { name: r.name, email: r.email, phone: r.phone }))
}

/// A running hand-over of an account, as its staff page shows it.
#[derive(Clone, Debug)]
pub struct HandoverInfo {
    /// The previous owner, who keeps a share of the orders placed until `until`.
    pub rep_name: String,
    pub until: i64,
    pub share_ppm: i64,
}

/// The account's hand-over while it runs (staff who may see the account); None once it ended.
pub async fn running_handover(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account: &AccountRow,
) -> ServiceResult<Option<HandoverInfo>> {
    if !actor.principal.is_staff() || !actor.principal.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    let Some(h) = account.running_handover(now) else { return Ok(None) };
    let rep_name = users::get(db, &h.rep_id).await?.map(|u| u.name).unwrap_or_else(|| h.rep_id.clone());
    Ok(Some(HandoverInfo { rep_name, until: h.until, share_ppm: h.share_ppm }))
}

/// The latest changes to an account (its audit rows, newest first), for staff who may see it.
pub async fn account_history(db: &Db, actor: &Actor<'_>, account_id: &str, limit: i64) -> ServiceResult<Vec<AuditRow>> {
    if !actor.principal.is_staff() {
        return Err(ServiceError::NotFound);
    }
    get_account(db, actor, account_id).await?;
    Ok(audit_log::for_object(db, "account", account_id, limit).await?)
}
