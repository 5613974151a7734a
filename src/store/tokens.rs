//! One-time tokens for invitations and password resets. Only the SHA-256 of a token is stored.

use super::{StoreResult, Tx};
use crate::on_tx;

#[derive(Clone, Debug, sqlx::FromRow)]
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
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Reads a token inside the transaction that will consume it.
pub async fn get_for_update(tx: &mut Tx, token_hash: &str) -> StoreResult<Option<TokenRow>> {
    crate::for_update!(
        tx,
        |c, sql| "SELECT token_hash, user_id, purpose, created_at, expires_at, used_at FROM user_tokens WHERE token_hash = $1",
        sqlx::query_as::<_, TokenRow>(sql).bind(token_hash).fetch_optional(c).await
    )
}

/// Marks a token used; false if it was already used (a concurrent second use loses).
pub async fn mark_used(tx: &mut Tx, token_hash: &str, now: i64) -> StoreResult<bool> {
    let r =
        on_tx!(tx, |c| sqlx::query("UPDATE user_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
            .bind(token_hash)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}

/// Voids a user's other unused tokens (a new invitation or reset replaces the older links).
pub async fn void_unused(tx: &mut Tx, user_id: &str, now: i64) -> StoreResult<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
