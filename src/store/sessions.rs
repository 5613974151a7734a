//! Server-side sessions. The cookie carries a random token; only its SHA-256 is stored, so a copy
//! of the database does not hand out live sessions.

use super::{Db, StoreResult, Tx};
use crate::args;

/// A session joined with its user: everything a request needs, in one query.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SessionWithUser {
    pub id_hash: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub acting_account_id: Option<String>,
    pub acting_account_name: Option<String>,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub kind: String,
    pub roles: String,
    pub account_id: Option<String>,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub active: bool,
    /// The user's own time zone (IANA name); `None`: the seller's.
    pub time_zone: Option<String>,
}

impl SessionWithUser {
    /// Whether the session's user is seller staff (else a buyer), as [`super::users::UserRow::is_staff`].
    pub fn is_staff(&self) -> bool {
        self.kind == "staff"
    }
}

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert(tx: &mut Tx, s: &NewSession<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        args![s.id_hash, s.user_id, s.csrf_token, s.now, s.expires_at, s.ip, s.user_agent],
    )
    .await?;
    Ok(())
}

/// A session with its user, by the hash of its id. Every signed-in request asks: one JSON row, so
/// on SQLite it is read on the caller's thread (a hand-over to the driver's thread and back was a
/// fifth of a cached catalog page's time).
pub async fn load(db: &Db, id_hash: &str) -> StoreResult<Option<SessionWithUser>> {
    let fields = [
        ("id_hash", "s.id_hash"),
        ("csrf_token", "s.csrf_token"),
        ("created_at", "s.created_at"),
        ("last_seen_at", "s.last_seen_at"),
        ("expires_at", "s.expires_at"),
        ("acting_account_id", "s.acting_account_id"),
        ("acting_account_name", "a.name"),
        ("user_id", "u.id"),
        ("email", "u.email"),
        ("name", "u.name"),
        ("kind", "u.kind"),
        ("roles", "u.roles"),
        ("account_id", "u.account_id"),
        ("active", "u.active"),
        ("time_zone", "u.time_zone"),
    ];
    let sql = format!(
        "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN accounts a ON a.id = s.acting_account_id
         WHERE s.id_hash = $1",
        db.json_rows(&fields, "")
    );
    Ok(super::fetch_json_rows(db, &sql, &[id_hash]).await?.pop())
}

/// Records activity (for the idle time-out). Callers throttle this to once a minute per session.
pub async fn touch(db: &Db, id_hash: &str, now: i64) -> StoreResult<()> {
    let input = (id_hash.to_string(), now);
    db.write(input, |tx, (id_hash, now)| {
        Box::pin(async move {
            tx.execute("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", args![id_hash, *now]).await?;
            Ok(())
        })
    })
    .await
}

pub async fn delete(db: &Db, id_hash: &str) -> StoreResult<()> {
    db.write(id_hash.to_string(), |tx, id_hash| {
        Box::pin(async move {
            tx.execute("DELETE FROM sessions WHERE id_hash = $1", args![id_hash]).await?;
            Ok(())
        })
    })
    .await
}

/// Ends every session of a user except `keep` (the one changing its own password).
pub async fn delete_for_user(tx: &mut Tx, user_id: &str, keep: Option<&str>) -> StoreResult<u64> {
    tx.execute("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2", args![user_id, keep.unwrap_or("")]).await
}

/// Removes sessions past their absolute expiry or idle for longer than `idle_secs`.
pub async fn purge_expired(db: &Db, now: i64, idle_secs: i64) -> StoreResult<u64> {
    db.write((now, now - idle_secs), |tx, (now, idle_before)| {
        Box::pin(async move {
            tx.execute("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2", args![*now, *idle_before])
                .await
        })
    })
    .await
}

/// The account a user's own session acts for, read in the transaction that changes it: `None`
/// when the session is not this user's (or has ended), `Some(None)` when it acts for nobody.
pub async fn acting_for_update(tx: &mut Tx, id_hash: &str, user_id: &str) -> StoreResult<Option<Option<String>>> {
    let rows: Vec<(Option<String>,)> = tx
        .lock("SELECT acting_account_id FROM sessions WHERE id_hash = $1 AND user_id = $2", args![id_hash, user_id])
        .await?;
    Ok(rows.into_iter().next().map(|(a,)| a))
}

/// Enters (or with `None` leaves) "acting for an account" mode for a staff session.
pub async fn set_acting(tx: &mut Tx, id_hash: &str, account_id: Option<&str>) -> StoreResult<()> {
    tx.execute("UPDATE sessions SET acting_account_id = $2 WHERE id_hash = $1", args![id_hash, account_id]).await?;
    Ok(())
}
