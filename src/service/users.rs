//! Staff users and account users: invitations, roles, deactivation.

use super::auth::{LinkPurpose, issue_link};
use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::account::normalize_email;
use crate::domain::auth::{ActorChannel, BuyerRole, Permission, StaffRole};
use crate::domain::time_zone::Zone;
pub use crate::store::users::UserRow;
use crate::store::{Db, accounts, is_unique_violation, new_id, sessions, users};
use serde_json::json;

/// What the person who invited a user (or asked for a new link) is told: a set-password link
/// went to the user's own address. The link itself is never handed back: nobody can sign in as
/// someone else with a link they were shown.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub name: String,
    pub email: String,
    pub purpose: LinkPurpose,
}

impl Invitation {
    fn of(user: &users::UserRow, purpose: LinkPurpose) -> Invitation {
        Invitation { name: user.name.clone(), email: user.email.clone(), purpose }
    }
}

fn check_name(name: &str) -> ServiceResult<String> {
    super::check_texts(&[("name", name)], &[])?;
    let n = name.trim();
    if n.is_empty() {
        return Err(ServiceError::invalid("name", "Name is required."));
    }
    if n.chars().count() > 120 {
        return Err(ServiceError::invalid("name", "Name is at most 120 characters."));
    }
    Ok(n.to_string())
}

fn check_email(email: &str) -> ServiceResult<String> {
    normalize_email(email)
        .ok_or_else(|| ServiceError::invalid("email", "Enter a valid e-mail address, e.g. name@company.com."))
}

/// Writes an `account_user.*` event (docs/webhooks.md) for an account's user, as it is now; staff
/// users raise none.
async fn account_user_event(
    tx: &mut crate::store::Tx,
    event: &str,
    user: &users::UserRow,
    now: i64,
) -> ServiceResult<()> {
    let Some(account_id) = &user.account_id else { return Ok(()) };
    let data = json!({
        "id": user.id, "account_id": account_id, "email": user.email, "name": user.name,
        "role": user.roles, "active": user.active,
    });
    crate::store::audit::enqueue(tx, event, &data, now).await?;
    Ok(())
}

/// Who is invited: everything of the new user but their password, which they set through the
/// invitation link.
struct Invitee {
    email: String,
    name: String,
    phone: String,
    kind: &'static str,
    roles: String,
    account_id: Option<String>,
}

/// Creates the user, its audit row and its invitation link, in one unit of work.
///
/// An e-mail already in use answers "already exists" only when the actor can see that user anyway
/// (seller staff administrators, or an account user of the same account). Otherwise — a buyer
/// manager or a rep inviting the address of a seller's staff member or of another account's user —
/// the answer looks like a fresh invitation, nothing is created, and an audit row on the account
/// records the refused invitation.
async fn invite(db: &Db, now: i64, actor: &Actor<'_>, who: Invitee) -> ServiceResult<Invitation> {
    db.write((new_id(), now, actor.owned(), who), |tx, (id, now, actor, who)| {
        Box::pin(async move {
            let (now, actor) = (*now, &actor.actor());
            if let Some(existing) = users::find_by_email_in(tx, &who.email).await? {
                let visible = match &who.account_id {
                    None => true,
                    Some(account_id) => existing.account_id.as_deref() == Some(account_id.as_str()),
                };
                if visible {
                    return Err(ServiceError::invalid("email", "A user with this e-mail address already exists."));
                }
                let account_id = who.account_id.as_deref().unwrap_or_default();
                let after = json!({ "email": who.email, "reason": "e-mail address in use outside this account" });
                audit(tx, Some(actor), now, "user.invitation_refused", ("account", account_id), None, Some(after))
                    .await?;
                return Ok(Invitation { name: who.name.clone(), email: who.email.clone(), purpose: LinkPurpose::Invite });
            }
            let new = users::NewUser {
                id,
                email: &who.email,
                name: &who.name,
                phone: who.phone.trim(),
                kind: who.kind,
                roles: &who.roles,
                account_id: who.account_id.as_deref(),
                password_hash: None,
                now,
            };
            if let Err(e) = users::insert(tx, &new).await {
                // Only a concurrent invitation of the same address gets here.
                return Err(if is_unique_violation(&e) {
                    ServiceError::Conflict("This e-mail address was just invited; reload the list.".into())
                } else {
                    e.into()
                });
            }
            let user = users::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
            let after = json!({ "email": user.email, "name": user.name, "kind": user.kind, "roles": user.roles, "account_id": user.account_id });
            audit(tx, Some(actor), now, "user.created", ("user", &user.id), None, Some(after)).await?;
            account_user_event(tx, "account_user.created", &user, now).await?;
            // A link records who made it by user id (`login_tokens.created_by` references users):
            // an API token is no user, so its links are made by the system; the `user.created`
            // row above names the token.
            let by = (actor.channel != ActorChannel::Api).then_some(actor);
            issue_link(tx, by, now, &user, LinkPurpose::Invite).await?;
            Ok(Invitation::of(&user, LinkPurpose::Invite))
        })
    })
    .await
}

/// Creates a seller staff user and returns their invitation.
pub async fn create_staff_user(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    email: &str,
    name: &str,
    phone: &str,
    roles: &[StaffRole],
) -> ServiceResult<Invitation> {
    if !actor.principal.can(Permission::ManageStaff) {
        return Err(ServiceError::Forbidden);
    }
    let email = check_email(email)?;
    let name = check_name(name)?;
    super::check_texts(&[("phone", phone)], &[])?;
    if roles.is_empty() {
        return Err(ServiceError::invalid("roles", "Choose at least one role."));
    }
    let who = Invitee {
        email,
        name,
        phone: phone.to_string(),
        kind: "staff",
        roles: StaffRole::join(roles),
        account_id: None,
    };
    invite(db, now, actor, who).await
}

/// Changes a staff user's name, phone and roles.
pub async fn update_staff_user(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    user_id: &str,
    name: &str,
    phone: &str,
    roles: &[StaffRole],
) -> ServiceResult<()> {
    if !actor.principal.can(Permission::ManageStaff) {
        return Err(ServiceError::Forbidden);
    }
    let name = check_name(name)?;
    super::check_texts(&[("phone", phone)], &[])?;
    if roles.is_empty() {
        return Err(ServiceError::invalid("roles", "Choose at least one role."));
    }
    if user_id == actor.principal.user_id && !roles.contains(&StaffRole::Admin) {
        return Err(ServiceError::invalid(
            "roles",
            "You cannot remove your own administrator role; ask another administrator.",
        ));
    }
    let unit = (actor.owned(), now, user_id.to_string(), name, phone.to_string(), roles.to_vec());
    db.write(unit, |tx, (actor, now, user_id, name, phone, roles)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            let user_id: &str = user_id;
            let phone: &str = phone;
            let user =
                users::get_for_update(tx, user_id).await?.filter(|u| u.is_staff()).ok_or(ServiceError::NotFound)?;
            let new_roles = StaffRole::join(roles);
            users::set_roles(tx, user_id, &new_roles, now).await?;
            users::set_profile(tx, user_id, name, phone.trim(), now).await?;
            audit(
                tx,
                Some(actor),
                now,
                "user.updated",
                ("user", user_id),
                Some(json!({ "name": user.name, "phone": user.phone, "roles": user.roles })),
                Some(json!({ "name": name, "phone": phone.trim(), "roles": new_roles })),
            )
            .await?;
            Ok(())
        })
    })
    .await
}

/// Whether `actor` may manage the users of `account_id`: the account's own manager, or staff who
/// can see the account and invite its users. Other tenants' accounts are `NotFound`.
async fn check_account_user_admin(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        if own != account_id {
            return Err(ServiceError::NotFound);
        }
        return if p.can(Permission::ManageOwnAccountUsers) { Ok(()) } else { Err(ServiceError::Forbidden) };
    }
    let account = accounts::get(db, account_id).await?.ok_or(ServiceError::NotFound)?;
    if !p.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    if p.can(Permission::InviteAccountUsers) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

/// Loads a user the actor may manage (staff users need `ManageStaff`).
async fn managed_user(db: &Db, actor: &Actor<'_>, user_id: &str) -> ServiceResult<users::UserRow> {
    let user = users::get(db, user_id).await?.ok_or(ServiceError::NotFound)?;
    match &user.account_id {
        Some(account_id) => check_account_user_admin(db, actor, account_id).await?,
        None if actor.principal.can(Permission::ManageStaff) => {}
        None if actor.principal.is_staff() => return Err(ServiceError::Forbidden),
        None => return Err(ServiceError::NotFound),
    }
    Ok(user)
}

/// Invites a user into an account with a buyer role.
pub async fn invite_account_user(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    email: &str,
    name: &str,
    role: Option<BuyerRole>,
) -> ServiceResult<Invitation> {
    check_account_user_admin(db, actor, account_id).await?;
    let email = check_email(email)?;
    let name = check_name(name)?;
    let role = role.ok_or_else(|| ServiceError::invalid("role", "Choose a role."))?;
    let who = Invitee {
        email,
        name,
        phone: String::new(),
        kind: "buyer",
        roles: role.as_str().to_string(),
        account_id: Some(account_id.to_string()),
    };
    invite(db, now, actor, who).await
}

/// The rule that an account always keeps an active purchasing manager: `current` may become
/// `role` and `active` unless it is the account's last active manager and would stop being one.
async fn keeps_a_manager(
    tx: &mut crate::store::Tx,
    account_id: &str,
    current: &users::UserRow,
    role: BuyerRole,
    active: bool,
    field: &str,
) -> ServiceResult<()> {
    let was = current.active && current.buyer_role() == Some(BuyerRole::Manager);
    let stays = active && role == BuyerRole::Manager;
    if was && !stays && users::count_active_managers(tx, account_id).await? <= 1 {
        return Err(ServiceError::invalid(
            field,
            "The account needs at least one active purchasing manager; make someone else manager first.",
        ));
    }
    Ok(())
}

/// Changes an account user's role. An account always keeps at least one active manager.
pub async fn change_account_user_role(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    user_id: &str,
    role: BuyerRole,
) -> ServiceResult<()> {
    let user = managed_user(db, actor, user_id).await?;
    let account_id = user.account_id.clone().ok_or(ServiceError::NotFound)?;
    let unit = (actor.owned(), now, user_id.to_string(), account_id, role);
    db.write(unit, |tx, (actor, now, user_id, account_id, role)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            let user_id: &str = user_id;
            let role = *role;
            let current = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            keeps_a_manager(tx, account_id, &current, role, current.active, "role").await?;
            users::set_roles(tx, user_id, role.as_str(), now).await?;
            audit(
                tx,
                Some(actor),
                now,
                "user.role_changed",
                ("user", user_id),
                Some(json!({ "role": current.roles })),
                Some(json!({ "role": role.as_str() })),
            )
            .await?;
            let user = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            account_user_event(tx, "account_user.updated", &user, now).await?;
            Ok(())
        })
    })
    .await
}

/// Deactivates (ending every session at once) or reactivates a user.
pub async fn set_user_active(db: &Db, now: i64, actor: &Actor<'_>, user_id: &str, active: bool) -> ServiceResult<()> {
    if user_id == actor.principal.user_id && !active {
        return Err(ServiceError::invalid("user", "You cannot deactivate yourself."));
    }
    let user = managed_user(db, actor, user_id).await?;
    let unit = (actor.owned(), now, user_id.to_string(), user, active);
    db.write(unit, |tx, (actor, now, user_id, user, active)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            let user_id: &str = user_id;
            let active = *active;
            let current = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            if let (Some(account_id), Some(role)) = (&user.account_id, current.buyer_role()) {
                keeps_a_manager(tx, account_id, &current, role, active, "user").await?;
            }
            users::set_active(tx, user_id, active, now).await?;
            if !active {
                sessions::delete_for_user(tx, user_id, None).await?;
            }
            let action = if active { "user.reactivated" } else { "user.deactivated" };
            audit(
                tx,
                Some(actor),
                now,
                action,
                ("user", user_id),
                Some(json!({ "active": current.active })),
                Some(json!({ "active": active })),
            )
            .await?;
            let user = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            account_user_event(tx, "account_user.updated", &user, now).await?;
            Ok(())
        })
    })
    .await
}

/// Sends a user a new set-password link (re-sends an invitation, or a reset) to their own address;
/// the actor is told it was sent, never shown it.
pub async fn issue_password_link(db: &Db, now: i64, actor: &Actor<'_>, user_id: &str) -> ServiceResult<Invitation> {
    let user = managed_user(db, actor, user_id).await?;
    if !user.active {
        return Err(ServiceError::invalid("user", "Reactivate the user first."));
    }
    let purpose = if user.has_password() { LinkPurpose::Reset } else { LinkPurpose::Invite };
    let unit = (actor.owned(), now, user, purpose);
    db.write(unit, |tx, (actor, now, user, purpose)| {
        Box::pin(async move {
            let actor = &actor.actor();
            issue_link(tx, Some(actor), *now, user, *purpose).await?;
            Ok(Invitation::of(user, *purpose))
        })
    })
    .await
}

/// The users of an account, for someone allowed to manage them.
pub async fn list_account_users(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<users::UserRow>> {
    check_account_user_admin(db, actor, account_id).await?;
    Ok(users::list_for_account(db, account_id).await?)
}

pub async fn list_staff(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<users::UserRow>> {
    if !actor.principal.can(Permission::ManageStaff) {
        return Err(ServiceError::Forbidden);
    }
    Ok(users::list_staff(db).await?)
}

/// The active sales reps, to choose an account's owning rep from.
pub async fn list_reps(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<UserRow>> {
    actor.require(Permission::ManageAccounts)?;
    Ok(users::list_reps(db).await?)
}

/// A staff user, for the staff administration page.
pub async fn get_staff_user(db: &Db, actor: &Actor<'_>, user_id: &str) -> ServiceResult<users::UserRow> {
    if !actor.principal.can(Permission::ManageStaff) {
        return Err(ServiceError::Forbidden);
    }
    users::get(db, user_id).await?.filter(|u| u.is_staff()).ok_or(ServiceError::NotFound)
}

/// Creates the first administrator (CLI `portico user create-admin`); refuses an existing e-mail.
pub async fn create_admin(db: &Db, now: i64, email: &str, name: &str, password: &str) -> ServiceResult<String> {
    let email = check_email(email)?;
    let name = check_name(name)?;
    crate::domain::password::check_new_password(password, password)
        .map_err(|e| ServiceError::invalid("password", e.to_string()))?;
    let hash = super::auth::hash_password(password).await?;
    let id = new_id();
    let unit = (now, id, email, name, hash);
    db.write(unit, |tx, (now, id, email, name, hash)| {
        Box::pin(async move {
            let now = *now;
            let new = users::NewUser {
                id,
                email,
                name,
                phone: "",
                kind: "staff",
                roles: StaffRole::Admin.as_str(),
                account_id: None,
                password_hash: Some(hash),
                now,
            };
            if let Err(e) = users::insert(tx, &new).await {
                return Err(if is_unique_violation(&e) {
                    ServiceError::invalid("email", "A user with this e-mail address already exists.")
                } else {
                    e.into()
                });
            }
            crate::store::audit::append(
                tx,
                &crate::store::audit::AuditEntry {
                    at: now,
                    actor_user_id: None,
                    on_behalf_of_account_id: None,
                    channel: ActorChannel::Cli.as_str(),
                    action: "user.created",
                    object_type: "user",
                    object_id: id,
                    before: None,
                    after: Some(json!({ "email": email, "roles": "admin" })),
                },
            )
            .await?;
            Ok(id.clone())
        })
    })
    .await
}

/// What an ERP sends for an account's user, keyed by e-mail address.
#[derive(Clone, Debug)]
pub struct AccountUserUpsert {
    pub name: String,
    pub role: BuyerRole,
    pub active: bool,
}

/// Invites (a new address, through [`invite_account_user`]'s path: the set-password link goes to
/// the user's own mailbox) or updates the account's user with this e-mail address: name, role,
/// active, under the rules of the pages (the account keeps an active manager; deactivating ends
/// the user's sessions); audited. The same document again writes nothing. Returns the user and
/// whether it was created and changed.
pub async fn upsert_account_user(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    email: &str,
    u: AccountUserUpsert,
) -> ServiceResult<(users::UserRow, bool, bool)> {
    check_account_user_admin(db, actor, account_id).await?;
    let email = check_email(email)?;
    let name = check_name(&u.name)?;
    let Some(existing) = users::find_by_email(db, &email).await? else {
        if !u.active {
            return Err(ServiceError::invalid(
                "active",
                "A new user is invited: send active true (an inactive user who never existed is not created).",
            ));
        }
        invite_account_user(db, now, actor, account_id, &email, &name, Some(u.role)).await?;
        let user = users::find_by_email(db, &email).await?.ok_or(ServiceError::NotFound)?;
        return Ok((user, true, true));
    };
    if existing.account_id.as_deref() != Some(account_id) {
        return Err(ServiceError::invalid("email", "This e-mail address belongs to a user outside this account."));
    }
    let same = existing.name == name && existing.buyer_role() == Some(u.role) && existing.active == u.active;
    if same {
        return Ok((existing, false, false));
    }
    let unit = (actor.owned(), now, existing.id.clone(), account_id.to_string(), name, u);
    db.write(unit, |tx, (actor, now, user_id, account_id, name, u)| {
        Box::pin(async move {
            let (actor, now) = (&actor.actor(), *now);
            let current = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            keeps_a_manager(tx, account_id, &current, u.role, u.active, "role").await?;
            users::set_profile(tx, user_id, name, &current.phone, now).await?;
            users::set_roles(tx, user_id, u.role.as_str(), now).await?;
            users::set_active(tx, user_id, u.active, now).await?;
            if !u.active && current.active {
                sessions::delete_for_user(tx, user_id, None).await?;
            }
            audit(
                tx,
                Some(actor),
                now,
                "user.updated",
                ("user", user_id),
                Some(json!({ "name": current.name, "role": current.roles, "active": current.active })),
                Some(json!({ "name": name, "role": u.role.as_str(), "active": u.active })),
            )
            .await?;
            let user = users::get_for_update(tx, user_id).await?.ok_or(ServiceError::NotFound)?;
            account_user_event(tx, "account_user.updated", &user, now).await?;
            Ok((user, false, true))
        })
    })
    .await
}

/// An account's users changed at or after `since`, oldest change first, after the keyset `after`
/// (updated_at, id); for seller staff who may see the account (an integration syncing them).
pub async fn account_users_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    account_id: &str,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<users::UserRow>> {
    if !actor.principal.is_staff() {
        return Err(ServiceError::NotFound);
    }
    super::accounts::get_account(db, actor, account_id).await?;
    Ok(users::account_users_changed_since(db, account_id, since, after, limit).await?)
}

/// Sets the signed-in user's time zone (an IANA name; empty: follow the seller's). Audited.
pub async fn set_time_zone(db: &Db, now: i64, actor: &Actor<'_>, name: &str) -> ServiceResult<Option<Zone>> {
    let zone = match name.trim() {
        "" => None,
        text => Some(Zone::parse(text).map_err(|e| ServiceError::invalid("time_zone", &e))?),
    };
    let stored = zone.as_ref().map(|z| z.name().to_string());
    db.write((actor.owned(), now, stored), |tx, (actor, now, stored)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let user = actor.principal.user_id.clone();
            if users::set_time_zone(tx, &user, stored.as_deref(), *now).await? == 0 {
                return Err(ServiceError::NotFound);
            }
            let after = json!({ "time_zone": stored });
            audit(tx, Some(actor), *now, "user.time_zone_changed", ("user", &user), None, Some(after)).await?;
            Ok(())
        })
    })
    .await?;
    Ok(zone)
}
