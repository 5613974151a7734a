//! Sign-in, sessions, passwords and one-time links (invitation, reset).

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::{ActorChannel, BuyerRole, Principal, StaffRole};
use crate::domain::password::check_new_password;
use crate::store::{Db, sessions, throttle, tokens, users};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Failed sign-ins per e-mail allowed within [`THROTTLE_WINDOW_SECS`] before further attempts get 429.
pub const MAX_FAILURES: i64 = 10;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// Invitation and reset links expire after 72 hours.
pub const TOKEN_TTL_SECS: i64 = 72 * 60 * 60;
/// Sessions record activity at most this often (one write per minute per session, not per request).
const TOUCH_EVERY_SECS: i64 = 60;

/// argon2id with the OWASP minimum: m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).expect("static argon2 params"))
}

pub fn hash_password_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid params")
        .to_string()
}

pub async fn hash_password(password: &str) -> ServiceResult<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_blocking(&pw))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    // Unknown users and users without a password still cost one verification, so response time does
    // not tell which e-mails exist.
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = hash
        .map(str::to_string)
        .unwrap_or_else(|| DUMMY.get_or_init(|| hash_password_blocking("dummy-password-for-timing")).clone());
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).map(|parsed| hasher().verify_password(pw.as_bytes(), &parsed).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// `n` random bytes from the OS, hex-encoded.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A freshly created session: the cookie value (shown once) and its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub principal: Principal,
}

pub struct SessionSettings {
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

/// Signs a user in: throttle check, password check, then a brand-new session id (never reusing a
/// pre-sign-in id: session fixation).
pub async fn sign_in(
    db: &Db,
    now: i64,
    email: &str,
    password: &str,
    ip: &str,
    user_agent: &str,
    settings: &SessionSettings,
) -> ServiceResult<NewSession> {
    let email = email.trim().to_lowercase();
    let (failures, oldest) = throttle::failures_since(db, &email, now - THROTTLE_WINDOW_SECS).await?;
    if failures >= MAX_FAILURES {
        let retry_after = (oldest.unwrap_or(now) + THROTTLE_WINDOW_SECS - now).max(1);
        return Err(ServiceError::Throttled { retry_after });
    }
    let user = users::find_by_email(db, &email).await?;
    let ok = verify_password(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await;
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            throttle::record_failure(db, &email, ip, now).await?;
            return Err(ServiceError::BadCredentials);
        }
    };
    let principal =
        user.principal().ok_or_else(|| ServiceError::Internal(format!("user {} has no valid role", user.id)))?;
    let token = random_token(16); // 128 bits
    let csrf_token = random_token(16);
    let unit = SignIn {
        now,
        id_hash: token_hash(&token),
        csrf_token: csrf_token.clone(),
        expires_at: now + settings.absolute_secs,
        ip: ip.to_string(),
        user_agent: user_agent.chars().take(300).collect(),
        principal: principal.clone(),
    };
    db.write(unit, |tx, u| {
        Box::pin(async move {
            let session = sessions::NewSession {
                id_hash: &u.id_hash,
                user_id: &u.principal.user_id,
                csrf_token: &u.csrf_token,
                now: u.now,
                expires_at: u.expires_at,
                ip: &u.ip,
                user_agent: &u.user_agent,
            };
            sessions::insert(tx, &session).await?;
            users::mark_signed_in(tx, &u.principal.user_id, u.now).await?;
            let actor = Actor::web(&u.principal);
            let after = Some(json!({ "ip": u.ip }));
            audit(tx, Some(&actor), u.now, "user.signed_in", ("user", &u.principal.user_id), None, after).await
        })
    })
    .await?;
    throttle::clear(db, &email, now - THROTTLE_WINDOW_SECS).await?;
    // Sessions nobody comes back to would otherwise stay forever; sign-in is a cheap moment to sweep.
    sessions::purge_expired(db, now, settings.idle_secs).await?;
    Ok(NewSession { token, csrf_token, principal })
}

/// A valid session, as the web layer needs it for one request.
#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    pub principal: Principal,
    /// Staff only: the account they are acting for (id, name), set by "act for this account".
    pub acting_account_id: Option<String>,
    pub acting_account_name: Option<String>,
}

/// Resolves a session cookie; expired, idle or deactivated sessions are deleted and yield `None`.
pub async fn authenticate(
    db: &Db,
    now: i64,
    token: &str,
    settings: &SessionSettings,
) -> ServiceResult<Option<Session>> {
    let id_hash = token_hash(token);
    let Some(row) = sessions::load(db, &id_hash).await? else {
        return Ok(None);
    };
    let expired = row.expires_at <= now || row.last_seen_at + settings.idle_secs <= now;
    if expired || !row.active {
        sessions::delete(db, &id_hash).await?;
        return Ok(None);
    }
    if now - row.last_seen_at >= TOUCH_EVERY_SECS {
        sessions::touch(db, &id_hash, now).await?;
    }
    let principal = if row.is_staff() {
        Principal::staff(row.user_id, row.name, row.email, StaffRole::parse_list(&row.roles))
    } else {
        match (row.account_id, BuyerRole::parse(&row.roles)) {
            (Some(account_id), Some(role)) => Principal::buyer(row.user_id, row.name, row.email, account_id, role),
            _ => return Ok(None),
        }
    };
    let staff = principal.is_staff();
    Ok(Some(Session {
        id_hash,
        csrf_token: row.csrf_token,
        principal,
        acting_account_id: row.acting_account_id.filter(|_| staff),
        acting_account_name: row.acting_account_name.filter(|_| staff),
    }))
}

pub async fn sign_out(db: &Db, id_hash: &str) -> ServiceResult<()> {
    sessions::delete(db, id_hash).await?;
    Ok(())
}

/// Purpose of a one-time link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    Invite,
    Reset,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }

    fn parse(s: &str) -> Option<LinkPurpose> {
        [LinkPurpose::Invite, LinkPurpose::Reset].into_iter().find(|p| p.as_str() == s)
    }
}

/// Path of the set-password page for a token (the web layer prefixes the public URL).
pub fn set_password_path(token: &str) -> String {
    format!("/set-password/{token}")
}

/// Creates a one-time link for `user_id` inside `tx`, voiding older unused links, and queues the
/// e-mail event. Returns the raw token (shown once to the inviter; only its hash is stored).
pub(crate) async fn issue_link(
    tx: &mut crate::store::Tx,
    actor: Option<&Actor<'_>>,
    now: i64,
    user: &users::UserRow,
    purpose: LinkPurpose,
) -> ServiceResult<String> {
    let token = random_token(32);
    tokens::void_unused(tx, &user.id, now).await?;
    tokens::insert(
        tx,
        &token_hash(&token),
        &user.id,
        purpose.as_str(),
        actor.map(|a| a.principal.user_id.as_str()),
        now,
        now + TOKEN_TTL_SECS,
    )
    .await?;
    let event = match purpose {
        LinkPurpose::Invite => "user.invited",
        LinkPurpose::Reset => "user.password_reset_requested",
    };
    // The e-mail job needs the link to send it; the outbox is internal and cleared after delivery.
    let payload = json!({
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "account_id": user.account_id,
        "by_user_id": actor.map(|a| a.principal.user_id.clone()),
        "set_password_path": set_password_path(&token),
        "expires_at": now + TOKEN_TTL_SECS,
    });
    crate::store::audit::enqueue(tx, event, &payload, now).await?;
    audit(tx, actor, now, event, ("user", &user.id), None, Some(json!({ "expires_at": now + TOKEN_TTL_SECS }))).await?;
    Ok(token)
}

/// What a sign-in writes: the session, the user's last sign-in and the audit row.
struct SignIn {
    now: i64,
    id_hash: String,
    csrf_token: String,
    expires_at: i64,
    ip: String,
    user_agent: String,
    principal: crate::domain::auth::Principal,
}

/// "Forgot password": queues a reset e-mail if the address belongs to an active user. Always
/// answers the same way, so it cannot be used to probe which addresses exist.
pub async fn request_password_reset(db: &Db, now: i64, email: &str) -> ServiceResult<()> {
    let email = email.trim().to_lowercase();
    let Some(user) = users::find_by_email(db, &email).await? else {
        return Ok(());
    };
    if !user.active {
        return Ok(());
    }
    let unit = (now, user);
    db.write(unit, |tx, (now, user)| {
        Box::pin(async move {
            let now = *now;
            issue_link(tx, None, now, user, LinkPurpose::Reset).await?;
            Ok(())
        })
    })
    .await
}

/// What the set-password page shows for a token.
pub struct LinkInfo {
    pub email: String,
    pub name: String,
    pub purpose: LinkPurpose,
}

/// Checks a link without using it (GET of the set-password page changes nothing).
pub async fn inspect_link(db: &Db, now: i64, token: &str) -> ServiceResult<LinkInfo> {
    let row = tokens::get(db, &token_hash(token)).await?;
    let row = row.filter(|t| t.used_at.is_none() && t.expires_at > now).ok_or(ServiceError::NotFound)?;
    let user = users::get(db, &row.user_id).await?.filter(|u| u.active).ok_or(ServiceError::NotFound)?;
    let purpose = LinkPurpose::parse(&row.purpose).unwrap_or(LinkPurpose::Reset);
    Ok(LinkInfo { email: user.email, name: user.name, purpose })
}

/// Sets a password through a one-time link: the link is used up, and every session of the user ends.
pub async fn set_password_with_link(
    db: &Db,
    now: i64,
    token: &str,
    password: &str,
    confirmation: &str,
) -> ServiceResult<String> {
    check_new_password(password, confirmation).map_err(|e| ServiceError::invalid("password", e.to_string()))?;
    let hash = hash_password(password).await?;
    let unit = (now, token.to_string(), hash);
    db.write(unit, |tx, (now, token, hash)| {
        Box::pin(async move {
            let now = *now;
            let token: &str = token;
            let th = token_hash(token);
            let row = tokens::get_for_update(tx, &th).await?;
            let row = row.filter(|t| t.used_at.is_none() && t.expires_at > now).ok_or(ServiceError::NotFound)?;
            let user =
                users::get_for_update(tx, &row.user_id).await?.filter(|u| u.active).ok_or(ServiceError::NotFound)?;
            if !tokens::mark_used(tx, &th, now).await? {
                return Err(ServiceError::NotFound);
            }
            users::set_password_hash(tx, &user.id, hash, now).await?;
            sessions::delete_for_user(tx, &user.id, None).await?;
            let principal = user.principal().ok_or(ServiceError::NotFound)?;
            let actor = Actor { principal: &principal, channel: ActorChannel::Web, on_behalf_of: None };
            let action = match LinkPurpose::parse(&row.purpose) {
                Some(LinkPurpose::Invite) => "user.invitation_accepted",
                _ => "user.password_reset",
            };
            audit(tx, Some(&actor), now, action, ("user", &user.id), None, None).await?;
            Ok(user.email.clone())
        })
    })
    .await
}

/// Changes the signed-in user's password; their other sessions end, this one stays.
pub async fn change_password(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    current_session: &str,
    current: &str,
    new: &str,
    confirmation: &str,
) -> ServiceResult<()> {
    let user = users::get(db, &actor.principal.user_id).await?.ok_or(ServiceError::NotFound)?;
    if !verify_password(current, user.password_hash.as_deref()).await {
        return Err(ServiceError::invalid("current", "Your current password is not correct."));
    }
    check_new_password(new, confirmation).map_err(|e| ServiceError::invalid("password", e.to_string()))?;
    let hash = hash_password(new).await?;
    let unit = (actor.owned(), now, user, hash, current_session.to_string());
    db.write(unit, |tx, (actor, now, user, hash, current_session)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            let current_session: &str = current_session;
            users::set_password_hash(tx, &user.id, hash, now).await?;
            let ended = sessions::delete_for_user(tx, &user.id, Some(current_session)).await?;
            audit(
                tx,
                Some(actor),
                now,
                "user.password_changed",
                ("user", &user.id),
                None,
                Some(json!({ "other_sessions_ended": ended })),
            )
            .await?;
            Ok(())
        })
    })
    .await
}
