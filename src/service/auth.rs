//! Sign-in, sessions, passwords and one-time links (invitation, reset).

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::{ActorChannel, BuyerRole, Principal, StaffRole};
use crate::domain::password::check_new_password;
use crate::store::{Db, new_id, sessions, throttle, tokens, users};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Throttling. Attempts are counted per key in a sliding window of [`THROTTLE_WINDOW_SECS`]; an
/// attempt is reserved (counted) *before* the password is checked, atomically (see
/// [`crate::store::throttle`]), and a successful one is taken back. Once a key has its limit of
/// attempts inside the window, further attempts get 429 without being checked or counted.
///
/// The lockout is bounded by the window: refused attempts do not count, so it ends at most
/// [`THROTTLE_WINDOW_SECS`] after the last counted failure, and a steady trickle slower than
/// [`MAX_FAILURES`] per window (one guess a minute) never reaches the limit — one guess every
/// 90 s keeps at most 7 failures in the window. And the real user always has a way in: setting
/// a password through a valid e-mailed link clears the lockout.
pub const THROTTLE_WINDOW_SECS: i64 = 10 * 60;
/// Failed sign-ins per e-mail address within the window.
pub const MAX_FAILURES: i64 = 10;
/// Failed sign-ins per client address within the window, whatever the e-mails (one guess at each
/// of many e-mails is slowed too). Higher than per e-mail: an office shares one address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
/// "Forgot password" requests per e-mail address within the window (each one sends a mail).
pub const MAX_RESET_REQUESTS: i64 = 3;
/// "Forgot password" requests per client address within the window.
pub const MAX_RESET_REQUESTS_PER_ADDRESS: i64 = 10;
/// Wrong current passwords on the change-password form, per user, within the window.
pub const MAX_PASSWORD_CHECKS: i64 = 5;
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

fn sign_in_email_key(email: &str) -> String {
    format!("sign_in:email:{email}")
}

fn password_check_key(user_id: &str) -> String {
    format!("password:user:{user_id}")
}

/// Reserves one attempt under `limits` in a unit of its own; `Throttled` when a limit is reached.
/// Returns the attempt's id (to take it back if it succeeds).
async fn reserve_attempt(db: &Db, now: i64, limits: Vec<throttle::Limit>) -> ServiceResult<String> {
    let attempt_id = new_id();
    let unit = (attempt_id.clone(), limits, now);
    let reserved = db
        .write(unit, |tx, (attempt_id, limits, now)| {
            Box::pin(async move { throttle::reserve(tx, attempt_id, limits, *now, THROTTLE_WINDOW_SECS).await })
        })
        .await?;
    match reserved {
        Ok(()) => Ok(attempt_id),
        Err(retry_after) => Err(ServiceError::Throttled { retry_after }),
    }
}

/// Signs a user in: an attempt is reserved under the e-mail's and the client address's limits
/// before the password is checked, then a brand-new session id is made (never reusing a
/// pre-sign-in id: session fixation). `ip` is the connection's peer address.
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
    let limits = vec![
        throttle::Limit { key: sign_in_email_key(&email), max: MAX_FAILURES },
        throttle::Limit { key: format!("sign_in:address:{ip}"), max: MAX_FAILURES_PER_ADDRESS },
    ];
    let attempt_id = reserve_attempt(db, now, limits).await?;
    let user = users::find_by_email(db, &email).await?;
    let ok = verify_password(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await;
    let user = match user {
        Some(u) if ok && u.active => u,
        // The reservation stays: it is the failure's record.
        _ => return Err(ServiceError::BadCredentials),
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
        attempt_id,
        email_key: sign_in_email_key(&email),
    };
    db.write(unit, |tx, u| {
        Box::pin(async move {
            // Success is not a failure, and it clears the e-mail's earlier failures (not the
            // address's: signing in to one's own account must not reset a guesser's count).
            throttle::release(tx, &u.attempt_id).await?;
            throttle::clear(tx, &u.email_key).await?;
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
    // Sessions nobody comes back to, and attempts past the window, would otherwise stay forever;
    // sign-in is a cheap moment to sweep.
    sessions::purge_expired(db, now, settings.idle_secs).await?;
    throttle::purge(db, now - THROTTLE_WINDOW_SECS).await?;
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
    /// The time zone the user chose (an IANA name), if any; pages otherwise use the seller's.
    pub time_zone: Option<String>,
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
        time_zone: row.time_zone,
    }))
}

pub async fn sign_out(db: &Db, now: i64, session: &Session) -> ServiceResult<()> {
    // Staff still acting for a customer stop first, audited as any end of acting is.
    if session.acting_account_id.is_some() {
        let actor = super::Actor::web(&session.principal);
        super::acting::stop_acting(db, now, &actor, &session.id_hash).await?;
    }
    sessions::delete(db, &session.id_hash).await?;
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

/// Creates a one-time link for `user` inside `tx` and queues the e-mail that carries it. A user
/// has at most one live link per purpose: a new one voids the older one of its purpose (an
/// invitation survives a forgot-password request, and either sets the password).
///
/// Nobody is shown the link: only the user's own mailbox gets it. The raw token is in the outbox
/// event (the mailer needs it) only while the link is live; using, voiding or expiring the link
/// removes it from the event (see [`tokens`]), and only the token's hash is stored otherwise.
pub(crate) async fn issue_link(
    tx: &mut crate::store::Tx,
    actor: Option<&Actor<'_>>,
    now: i64,
    user: &users::UserRow,
    purpose: LinkPurpose,
) -> ServiceResult<()> {
    let token = random_token(32);
    tokens::scrub_expired(tx, now).await?;
    tokens::void_unused(tx, &user.id, Some(purpose.as_str()), now).await?;
    let event = match purpose {
        LinkPurpose::Invite => "user.invited",
        LinkPurpose::Reset => "user.password_reset_requested",
    };
    let payload = json!({
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "account_id": user.account_id,
        "by_user_id": actor.map(|a| a.principal.user_id.clone()),
        "set_password_path": set_password_path(&token),
        "expires_at": now + TOKEN_TTL_SECS,
    });
    let outbox_id = crate::store::audit::enqueue(tx, event, &payload, now).await?;
    let new = tokens::NewToken {
        token_hash: &token_hash(&token),
        user_id: &user.id,
        purpose: purpose.as_str(),
        created_by: actor.map(|a| a.principal.user_id.as_str()),
        now,
        expires_at: now + TOKEN_TTL_SECS,
        outbox_id: &outbox_id,
    };
    tokens::insert(tx, &new).await?;
    audit(tx, actor, now, event, ("user", &user.id), None, Some(json!({ "expires_at": now + TOKEN_TTL_SECS }))).await?;
    Ok(())
}

/// A set-password mail waiting in the outbox: who it goes to and the link's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkMail {
    pub outbox_id: String,
    pub email: String,
    pub path: String,
}

/// The set-password mails written after the event `after` (`""`: all) whose links are still
/// live. The demo prints these to its console too, so whoever plays a user can open their mail
/// from there as well as from "Sent mail".
pub async fn link_mails_after(db: &Db, after: &str) -> ServiceResult<Vec<LinkMail>> {
    let types = ["user.invited", "user.password_reset_requested"];
    let events = crate::store::audit::events_of_after(db, &types, after, 10_000).await?;
    Ok(events
        .into_iter()
        .filter_map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
            Some(LinkMail {
                outbox_id: e.id,
                email: payload["email"].as_str()?.to_string(),
                path: payload["set_password_path"].as_str()?.to_string(),
            })
        })
        .collect())
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
    attempt_id: String,
    email_key: String,
}

/// "Forgot password": queues a reset e-mail if the address belongs to an active user. Always
/// answers the same way, so it cannot be used to probe which addresses exist; requests are
/// throttled per e-mail and per client address (`ip`) whether the address exists or not.
pub async fn request_password_reset(db: &Db, now: i64, email: &str, ip: &str) -> ServiceResult<()> {
    let email = email.trim().to_lowercase();
    let limits = vec![
        throttle::Limit { key: format!("forgot:email:{email}"), max: MAX_RESET_REQUESTS },
        throttle::Limit { key: format!("forgot:address:{ip}"), max: MAX_RESET_REQUESTS_PER_ADDRESS },
    ];
    reserve_attempt(db, now, limits).await?;
    let Some(user) = users::find_by_email(db, &email).await?.filter(|u| u.active) else {
        return Ok(());
    };
    db.write((now, user), |tx, (now, user)| {
        Box::pin(async move { issue_link(tx, None, *now, user, LinkPurpose::Reset).await })
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
            // Any other link (an invitation and a reset may both be live) dies with the change.
            tokens::void_unused(tx, &user.id, None, now).await?;
            tokens::scrub_expired(tx, now).await?;
            sessions::delete_for_user(tx, &user.id, None).await?;
            // Whoever holds a valid e-mailed link is the mailbox's owner: a lockout ends here.
            throttle::clear(tx, &sign_in_email_key(&user.email)).await?;
            throttle::clear(tx, &password_check_key(&user.id)).await?;
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

/// Changes the signed-in user's password; their other sessions and any live set-password link
/// end, this session stays. Wrong current passwords are throttled per user
/// ([`MAX_PASSWORD_CHECKS`] in the window), so a session left open cannot be used to guess it.
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
    let limits = vec![throttle::Limit { key: password_check_key(&user.id), max: MAX_PASSWORD_CHECKS }];
    let attempt_id = reserve_attempt(db, now, limits).await?;
    let current_ok = verify_password(current, user.password_hash.as_deref()).await;
    if current_ok {
        // A right current password is not a failed guess, whatever happens to the new one.
        db.write(attempt_id, |tx, attempt_id| Box::pin(async move { throttle::release(tx, attempt_id).await })).await?;
    } else {
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
            tokens::void_unused(tx, &user.id, None, now).await?;
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
