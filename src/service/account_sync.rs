//! Accounts and their ship-tos as an ERP or CRM syncs them: upserts by the ERP's own ids and the
//! lists it pulls by `updated_since`. The rules are the account service's ([`super::accounts`]):
//! the same validation, audit rows and events as the staff pages — one rule set, another door.

use super::accounts::{
    check_manage_ship_tos, check_owner_rep, find_account, get_account, insert_account, record_update, ship_to_event,
    ship_to_problems, stale,
};
use super::{Actor, ServiceError, ServiceResult, audit, check_texts};
use crate::domain::account::{AccountDraft, AccountStatus, Address, PaymentTerms};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
pub use crate::store::accounts::{AccountRow, ShipToRow};
use crate::store::{Db, accounts, new_id, users};

/// What an ERP sends for an account it keys by its own (external) id.
#[derive(Clone, Debug)]
pub struct AccountUpsert {
    pub name: String,
    pub status: AccountStatus,
    pub ownership_mode: crate::domain::account::OwnershipMode,
    /// The owning rep's e-mail address or user id.
    pub owner_rep: Option<String>,
    pub terms: PaymentTerms,
    pub credit_limit: Money,
    pub po_required: bool,
    pub phone: String,
    pub bill_to: Address,
    /// The account group by name: `None` keeps the current one, `Some("")` takes it out of its group.
    pub group: Option<String>,
}

/// The outcome of an upsert: the row as stored, whether it was created, whether anything changed.
#[derive(Clone, Debug)]
pub struct Upserted<T> {
    pub row: T,
    pub created: bool,
    pub changed: bool,
}

/// The staff user an integration names by e-mail address or id, as an account's owning rep.
async fn rep_by_reference(db: &Db, reference: &str) -> ServiceResult<String> {
    check_texts(&[("owner_rep_id", reference)], &[])?;
    let user = match crate::domain::account::normalize_email(reference) {
        Some(email) if reference.contains('@') => users::find_by_email(db, &email).await?,
        _ => users::get(db, reference.trim()).await?,
    };
    user.filter(|u| u.is_staff())
        .map(|u| u.id)
        .ok_or_else(|| ServiceError::invalid("owner_rep_id", "No staff user has this e-mail address or id."))
}

/// An account group's id by name ("" for none), or a 422 naming `field`.
pub(crate) async fn group_by_name(db: &Db, field: &str, name: &str) -> ServiceResult<Option<String>> {
    check_texts(&[(field, name)], &[])?;
    if name.trim().is_empty() {
        return Ok(None);
    }
    match accounts::group_by_name(db, name.trim()).await? {
        Some(id) => Ok(Some(id)),
        None => Err(ServiceError::invalid(field, format!("No account group is named “{}”.", name.trim()))),
    }
}

/// Creates or updates the account with this external (ERP) id, under the same rules, audit rows
/// and events as the staff pages ([`create_account`], [`update_account`]). An ERP is the source of
/// truth for what it sends, so there is no version to match; a document equal to what is stored
/// writes nothing (no audit row, no event, `updated_at` unchanged).
pub async fn upsert_account(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    external_id: &str,
    u: AccountUpsert,
) -> ServiceResult<Upserted<AccountRow>> {
    actor.require(Permission::ManageAccounts)?;
    check_texts(&[("external_id", external_id)], &[])?;
    let owner_rep_id = match u.owner_rep.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(rep_by_reference(db, r).await?),
        None => None,
    };
    let group = match &u.group {
        Some(name) => Some(group_by_name(db, "group", name).await?),
        None => None,
    };
    let draft = AccountDraft {
        name: u.name,
        status: u.status,
        ownership_mode: u.ownership_mode,
        owner_rep_id,
        terms: u.terms,
        credit_limit: u.credit_limit,
        po_required: u.po_required,
        external_id: Some(external_id.trim().to_string()),
        phone: u.phone,
        bill_to: u.bill_to,
    };
    let mut problems = draft.problems();
    if external_id.trim().is_empty() {
        problems.push(("external_id".into(), "External id is required.".into()));
    }
    ServiceError::from_problems(problems)?;
    check_owner_rep(db, &draft).await?;
    let unit = (new_id(), now, actor.owned(), draft.normalized(), group);
    db.write(unit, |tx, (id, now, actor, draft, group)| {
        Box::pin(async move {
            let actor = actor.actor();
            let external_id = draft.external_id.as_deref().unwrap_or_default();
            let Some(current) = accounts::by_external_id_for_update(tx, external_id).await? else {
                let group_id = group.clone().flatten();
                let row = insert_account(tx, &actor, *now, id, draft, group_id.as_deref(), None).await?;
                return Ok(Upserted { row, created: true, changed: true });
            };
            let group_id = group.clone().unwrap_or_else(|| current.group_id.clone());
            if current.draft() == *draft && current.group_id == group_id {
                return Ok(Upserted { row: current, created: false, changed: false });
            }
            let handover =
                super::commissions::handover_on_save(tx, &current, draft.owner_rep_id.as_deref(), *now).await?;
            if !accounts::update(tx, &current.id, current.version, draft, handover.as_ref(), *now).await? {
                return Err(stale());
            }
            if current.group_id != group_id {
                accounts::set_group(tx, &current.id, group_id.as_deref()).await?;
            }
            let row = record_update(tx, &actor, *now, &current).await?;
            Ok(Upserted { row, created: false, changed: true })
        })
    })
    .await
}

/// An account as an ERP reads it: the row, its group's name, its owning rep's e-mail address and
/// the hand-over running on it.
#[derive(Clone, Debug)]
pub struct SyncedAccount {
    pub account: AccountRow,
    pub group: Option<String>,
    pub owner_rep_email: Option<String>,
    /// The hand-over while it runs, for staff only: its share is a commission term, which the
    /// account's own buyers are not shown.
    pub handover: Option<SyncedHandover>,
}

/// A running hand-over: the previous owning rep keeps `share_ppm` of the commission base of the
/// orders placed before `until` (unix seconds).
#[derive(Clone, Debug)]
pub struct SyncedHandover {
    pub rep_id: String,
    /// None when the user is gone.
    pub rep_name: Option<String>,
    pub rep_email: Option<String>,
    pub until: i64,
    pub share_ppm: i64,
}

/// Names the groups, owning reps and previous reps of `rows` (a few lookups per page: groups and
/// reps are few, each rep is read once).
async fn synced(db: &Db, now: i64, actor: &Actor<'_>, rows: Vec<AccountRow>) -> ServiceResult<Vec<SyncedAccount>> {
    let groups: std::collections::HashMap<String, String> =
        accounts::groups(db).await?.into_iter().map(|g| (g.id, g.name)).collect();
    // (name, e-mail) by user id; None for a user who is gone.
    let mut reps: std::collections::HashMap<String, Option<(String, String)>> = Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for account in rows {
        let owner_rep_email = match &account.owner_rep_id {
            Some(id) => rep_of(db, &mut reps, id).await?.map(|r| r.1),
            None => None,
        };
        let handover = match account.running_handover(now) {
            Some(h) if actor.principal.is_staff() => {
                let r = rep_of(db, &mut reps, &h.rep_id).await?;
                Some(SyncedHandover {
                    rep_name: r.as_ref().map(|r| r.0.clone()),
                    rep_email: r.map(|r| r.1),
                    rep_id: h.rep_id,
                    until: h.until,
                    share_ppm: h.share_ppm,
                })
            }
            _ => None,
        };
        let group = account.group_id.as_ref().and_then(|g| groups.get(g)).cloned();
        out.push(SyncedAccount { account, group, owner_rep_email, handover });
    }
    Ok(out)
}

/// A user's (name, e-mail), read once per page.
async fn rep_of(
    db: &Db,
    cache: &mut std::collections::HashMap<String, Option<(String, String)>>,
    id: &str,
) -> ServiceResult<Option<(String, String)>> {
    if let Some(r) = cache.get(id) {
        return Ok(r.clone());
    }
    let r = users::get(db, id).await?.map(|u| (u.name, u.email));
    cache.insert(id.to_string(), r.clone());
    Ok(r)
}

/// Accounts changed at or after `since` (unix seconds), oldest change first, after the keyset
/// `after` (updated_at, id): how an ERP pulls them. Staff who see every account only.
pub async fn accounts_changed_since(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<SyncedAccount>> {
    actor.require(Permission::ViewAllAccounts)?;
    synced(db, now, actor, accounts::changed_since(db, since, after, limit).await?).await
}

/// One account by id, number or external id, as an ERP reads it (at `now`: the hand-over running then).
pub async fn synced_account(db: &Db, now: i64, actor: &Actor<'_>, reference: &str) -> ServiceResult<SyncedAccount> {
    let account = find_account(db, actor, reference).await?;
    Ok(synced(db, now, actor, vec![account]).await?.remove(0))
}

/// What an ERP sends for a ship-to it keys by its own id.
#[derive(Clone, Debug)]
pub struct ShipToUpsert {
    pub label: String,
    pub address: Address,
    /// Makes it the account's default; `false` leaves the default where it is (an account always
    /// has one: another ship-to becomes it by being sent with `true`).
    pub make_default: bool,
}

/// Creates or updates the account's ship-to with this external (ERP) id, under the rules of the
/// staff pages ([`add_ship_to`]); audited. The same document again writes nothing.
pub async fn upsert_ship_to(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    external_id: &str,
    u: ShipToUpsert,
) -> ServiceResult<Upserted<ShipToRow>> {
    check_manage_ship_tos(actor)?;
    get_account(db, actor, account_id).await?;
    let mut problems = ship_to_problems(&u.label, &u.address);
    problems.extend(super::text_problems(&[("external_id", external_id)], &[]));
    if external_id.trim().is_empty() || external_id.chars().count() > 100 {
        problems.push(("external_id".into(), "External id is 1 to 100 characters.".into()));
    }
    ServiceError::from_problems(problems)?;
    let address = u.address.normalized();
    let unit = (
        new_id(),
        now,
        actor.owned(),
        account_id.to_string(),
        external_id.trim().to_string(),
        u.label.trim().to_string(),
        address,
        u.make_default,
    );
    db.write(unit, |tx, (id, now, actor, account_id, external_id, label, address, make_default)| {
        Box::pin(async move {
            let actor = actor.actor();
            let current = accounts::ship_to_by_external_id_for_update(tx, account_id, external_id).await?;
            let Some(current) = current else {
                let has_any = accounts::has_ship_tos(tx, account_id).await?;
                let default = *make_default || !has_any;
                accounts::insert_ship_to(tx, id, account_id, label, address, default, *now).await?;
                accounts::update_ship_to(tx, account_id, id, label, address, Some(external_id), *now).await?;
                let row = accounts::ship_to_for_update(tx, account_id, id).await?.ok_or(ServiceError::NotFound)?;
                let after = serde_json::to_value(&row).ok();
                audit(tx, Some(&actor), *now, "ship_to.created", ("account", account_id), None, after).await?;
                crate::store::audit::enqueue(tx, "ship_to.created", &ship_to_event(&row), *now).await?;
                return Ok(Upserted { row, created: true, changed: true });
            };
            let same =
                current.label == *label && current.address() == *address && (current.is_default || !*make_default);
            if same {
                return Ok(Upserted { row: current, created: false, changed: false });
            }
            accounts::update_ship_to(tx, account_id, &current.id, label, address, Some(external_id), *now).await?;
            if *make_default && !current.is_default {
                accounts::set_default_ship_to(tx, account_id, &current.id, *now).await?;
            }
            let row = accounts::ship_to_for_update(tx, account_id, &current.id).await?.ok_or(ServiceError::NotFound)?;
            let (before, after) = (serde_json::to_value(&current).ok(), serde_json::to_value(&row).ok());
            audit(tx, Some(&actor), *now, "ship_to.updated", ("account", account_id), before, after).await?;
            crate::store::audit::enqueue(tx, "ship_to.updated", &ship_to_event(&row), *now).await?;
            Ok(Upserted { row, created: false, changed: true })
        })
    })
    .await
}

/// An account's ship-tos changed at or after `since`, oldest change first, after the keyset
/// `after` (updated_at, id); for staff who may see the account.
pub async fn ship_tos_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    account_id: &str,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<ShipToRow>> {
    get_account(db, actor, account_id).await?;
    Ok(accounts::ship_tos_changed_since(db, account_id, since, after, limit).await?)
}

pub use crate::store::accounts::GroupRow;

/// Creates the account group with this name if there is none; audited. A group is its name (the
/// key the price-list API and account documents use); the same name again writes nothing.
pub async fn upsert_group(db: &Db, now: i64, actor: &Actor<'_>, name: &str) -> ServiceResult<Upserted<GroupRow>> {
    actor.require(Permission::ManageAccounts)?;
    let name = group_name(name)?;
    db.write((new_id(), now, actor.owned(), name), |tx, (id, now, actor, name)| {
        Box::pin(async move {
            if let Some(g) = accounts::group_by_name_for_update(tx, name).await? {
                return Ok(Upserted { row: g, created: false, changed: false });
            }
            accounts::insert_group(tx, id, name, *now).await?;
            let row = accounts::group_by_name_for_update(tx, name).await?.ok_or(ServiceError::NotFound)?;
            let after = serde_json::json!({ "name": name });
            audit(tx, Some(&actor.actor()), *now, "account_group.created", ("account_group", id), None, Some(after))
                .await?;
            let event = serde_json::json!({ "id": row.id, "name": row.name });
            crate::store::audit::enqueue(tx, "account_group.created", &event, *now).await?;
            Ok(Upserted { row, created: true, changed: true })
        })
    })
    .await
}

fn group_name(name: &str) -> ServiceResult<String> {
    check_texts(&[("name", name)], &[])?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid("name", "A group name is 1 to 100 characters."));
    }
    Ok(name)
}

/// The id of the group with this name (404 when there is none).
pub async fn group_id(db: &Db, actor: &Actor<'_>, name: &str) -> ServiceResult<String> {
    actor.require(Permission::ManageAccounts)?;
    super::names_nothing(name)?;
    accounts::group_by_name(db, name.trim()).await?.ok_or(ServiceError::NotFound)
}

/// Renames a group (by id). The name is the key imports and the API use, so another group's name
/// is refused; the same name writes nothing. Audited, `account_group.renamed`.
pub async fn rename_group(db: &Db, now: i64, actor: &Actor<'_>, id: &str, name: &str) -> ServiceResult<GroupRow> {
    actor.require(Permission::ManageAccounts)?;
    super::names_nothing(id)?;
    let name = group_name(name)?;
    db.write((id.to_string(), now, actor.owned(), name), |tx, (id, now, actor, name)| {
        Box::pin(async move {
            let before = accounts::group_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            if before.name == *name {
                return Ok(before);
            }
            if accounts::group_by_name_for_update(tx, name).await?.is_some() {
                return Err(ServiceError::invalid("name", format!("A group named “{name}” already exists.")));
            }
            accounts::rename_group(tx, id, name, *now).await?;
            let b = serde_json::json!({ "name": before.name });
            let a = serde_json::json!({ "name": name });
            audit(tx, Some(&actor.actor()), *now, "account_group.renamed", ("account_group", id), Some(b), Some(a))
                .await?;
            let event = serde_json::json!({ "id": id, "name": name, "previous_name": before.name });
            crate::store::audit::enqueue(tx, "account_group.renamed", &event, *now).await?;
            accounts::group_for_update(tx, id).await?.ok_or(ServiceError::NotFound)
        })
    })
    .await
}

/// Deletes a group (by id): its accounts leave it (they keep their own catalogs and price lists)
/// and its catalog and price list assignments go. Audited, `account_group.deleted` with the counts.
pub async fn delete_group(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
) -> ServiceResult<(GroupRow, accounts::GroupDeleted)> {
    actor.require(Permission::ManageAccounts)?;
    super::names_nothing(id)?;
    db.write((id.to_string(), now, actor.owned()), |tx, (id, now, actor)| {
        Box::pin(async move {
            let group = accounts::group_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let gone = accounts::delete_group(tx, id, *now).await?;
            let event = serde_json::json!({
                "id": id, "name": group.name, "accounts": gone.accounts, "catalogs": gone.catalogs,
                "price_lists": gone.price_lists,
            });
            let before = serde_json::json!({ "name": group.name });
            audit(tx, Some(&actor.actor()), *now, "account_group.deleted", ("account_group", id), Some(before), None)
                .await?;
            crate::store::audit::enqueue(tx, "account_group.deleted", &event, *now).await?;
            Ok((group, gone))
        })
    })
    .await
}

/// Account groups changed at or after `since`, oldest change first, after the keyset `after`.
pub async fn groups_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<GroupRow>> {
    actor.require(Permission::ViewAllAccounts)?;
    Ok(accounts::groups_changed_since(db, since, after, limit).await?)
}

pub use crate::store::accounts::GroupSummary;

/// Every account group with its counts, for the admin's list.
pub async fn group_summaries(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<GroupSummary>> {
    actor.require(Permission::ManageAccounts)?;
    Ok(accounts::group_summaries(db).await?)
}

/// One account group (by id) with its counts, for its page.
pub async fn group_summary(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<GroupSummary> {
    actor.require(Permission::ManageAccounts)?;
    super::names_nothing(id)?;
    let all = accounts::group_summaries(db).await?;
    all.into_iter().find(|g| g.id == id).ok_or(ServiceError::NotFound)
}

/// Every account group by name (the account form's choices).
pub async fn groups(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<GroupRow>> {
    actor.require(Permission::ViewAllAccounts)?;
    Ok(accounts::groups(db).await?)
}
