//! One-time tokens for invitations and password resets. Only the SHA-256 of a token is stored
//! here; the raw token travels to the mailer in the link's outbox event only while the link is
//! live: using, voiding or expiring a link removes it from that event ([`scrub_mail`]).

use super::{Db, StoreResult, Tx};
use crate::args;

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct TokenRow {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A new link's row: only the token's hash, and the outbox event carrying the raw link.
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub purpose: &'a str,
    pub created_by: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
    pub outbox_id: &'a str,
}

pub async fn insert(tx: &mut Tx, t: &NewToken<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_by, created_at, expires_at, outbox_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![t.token_hash, t.user_id, t.purpose, t.created_by, t.now, t.expires_at, t.outbox_id],
    )
    .await?;
    Ok(())
}

const TOKEN_COLUMNS: &str = "token_hash, user_id, purpose, created_at, expires_at, used_at";

/// A token, read outside any write (the set-password page shows what a link is for).
pub async fn get(db: &Db, token_hash: &str) -> StoreResult<Option<TokenRow>> {
    let sql = format!(
        "SELECT {} FROM user_tokens WHERE token_hash = $1",
        db.json_rows(&super::json_fields(TOKEN_COLUMNS), "")
    );
    Ok(super::fetch_json_rows(db, &sql, &[token_hash]).await?.pop())
}

/// Reads a token inside the transaction that will consume it.
pub async fn get_for_update(tx: &mut Tx, token_hash: &str) -> StoreResult<Option<TokenRow>> {
    let rows = tx
        .lock::<TokenRow>(&format!("SELECT {TOKEN_COLUMNS} FROM user_tokens WHERE token_hash = $1"), args![token_hash])
        .await?;
    Ok(rows.into_iter().next())
}

/// Marks a token used; false if it was already used (a concurrent second use loses). Its mail's
/// link is scrubbed.
pub async fn mark_used(tx: &mut Tx, token_hash: &str, now: i64) -> StoreResult<bool> {
    let r = tx
        .execute(
            "UPDATE user_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            args![token_hash, now],
        )
        .await?;
    let mails: Vec<String> = tx
        .fetch_all(
            "SELECT outbox_id FROM user_tokens WHERE token_hash = $1 AND outbox_id IS NOT NULL",
            args![token_hash],
        )
        .await?;
    scrub_mails(tx, &mails, "used").await?;
    tx.execute("UPDATE user_tokens SET outbox_id = NULL WHERE token_hash = $1", args![token_hash]).await?;
    Ok(r == 1)
}

/// Voids a user's unused links: of one purpose (a new link replaces the older one of its
/// purpose), or of every purpose (`None`: the password changed). Their mails' links are scrubbed.
pub async fn void_unused(tx: &mut Tx, user_id: &str, purpose: Option<&str>, now: i64) -> StoreResult<()> {
    let mails: Vec<String> = tx
        .fetch_all(
            "SELECT outbox_id FROM user_tokens
             WHERE user_id = $1 AND used_at IS NULL AND ($2 IS NULL OR purpose = $2) AND outbox_id IS NOT NULL",
            args![user_id, purpose],
        )
        .await?;
    scrub_mails(tx, &mails, "voided").await?;
    tx.execute(
        "UPDATE user_tokens SET used_at = $2, outbox_id = NULL
         WHERE user_id = $1 AND used_at IS NULL AND ($3 IS NULL OR purpose = $3)",
        args![user_id, now, purpose],
    )
    .await?;
    Ok(())
}

/// Scrubs the mails of links that expired by `now` (swept whenever a link is issued or used).
pub async fn scrub_expired(tx: &mut Tx, now: i64) -> StoreResult<()> {
    let mails: Vec<String> = tx
        .fetch_all("SELECT outbox_id FROM user_tokens WHERE outbox_id IS NOT NULL AND expires_at <= $1", args![now])
        .await?;
    scrub_mails(tx, &mails, "expired").await?;
    tx.execute("UPDATE user_tokens SET outbox_id = NULL WHERE outbox_id IS NOT NULL AND expires_at <= $1", args![now])
        .await?;
    Ok(())
}

/// Removes the raw link (`set_password_path`) from outbox events, noting why it went.
async fn scrub_mails(tx: &mut Tx, outbox_ids: &[String], why: &str) -> StoreResult<()> {
    for id in outbox_ids {
        let Some(payload) = tx.fetch_optional::<String>("SELECT payload FROM outbox WHERE id = $1", args![id]).await?
        else {
            continue;
        };
        let mut value: serde_json::Value = serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(e.into()))?;
        if let Some(map) = value.as_object_mut() {
            map.remove("set_password_path");
            map.insert("link".into(), serde_json::Value::String(why.to_string()));
        }
        tx.execute("UPDATE outbox SET payload = $2 WHERE id = $1", args![id, value.to_string()]).await?;
    }
    Ok(())
}
