//! API tokens: only the SHA-256 of a token is stored; the token itself is shown once.

use super::{Db, StoreResult, Tx};
use crate::{on_db, on_tx};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, name, prefix, scopes, created_at, last_used_at, revoked_at";

pub async fn insert(tx: &mut Tx, row: &ApiTokenRow, token_hash: &str, created_by: &str) -> StoreResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(token_hash)
    .bind(&row.prefix)
    .bind(&row.scopes)
    .bind(created_by)
    .bind(row.created_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The token with this hash, if it exists and is not revoked.
pub async fn find_active(db: &Db, token_hash: &str) -> StoreResult<Option<ApiTokenRow>> {
    // One JSON row: on SQLite it is read on the caller's thread (every API request asks).
    let sql = format!(
        "SELECT {} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        db.json_rows(&super::json_fields(COLUMNS), "")
    );
    Ok(super::fetch_json_rows(db, &sql, &[token_hash]).await?.pop())
}

pub async fn touch(db: &Db, id: &str, now: i64) -> StoreResult<()> {
    on_db!(db, |c| sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn list(db: &Db) -> StoreResult<Vec<ApiTokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY revoked_at IS NOT NULL, created_at DESC, id");
    on_db!(db, |c| sqlx::query_as::<_, ApiTokenRow>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)
}

pub async fn revoke(tx: &mut Tx, id: &str, now: i64) -> StoreResult<bool> {
    let n = on_tx!(tx, |c| sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
