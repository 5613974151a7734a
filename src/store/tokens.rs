//! One-time tokens for invitations and password resets. Only the SHA-256 of a token is stored.

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

pub async fn insert(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &str,
    purpose: &str,
    created_by: Option<&str>,
    now: i64,
    expires_at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        args![token_hash, user_id, purpose, created_by, now, expires_at],
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

/// Marks a token used; false if it was already used (a concurrent second use loses).
pub async fn mark_used(tx: &mut Tx, token_hash: &str, now: i64) -> StoreResult<bool> {
    let r = tx
        .execute(
            "UPDATE user_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            args![token_hash, now],
        )
        .await?;
    Ok(r == 1)
}

/// Voids a user's other unused tokens (a new invitation or reset replaces the older links).
pub async fn void_unused(tx: &mut Tx, user_id: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL", args![user_id, now])
        .await?;
    Ok(())
}
