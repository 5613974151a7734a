//! API tokens: only the SHA-256 of a token is stored; the token itself is shown once.

use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

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

/// `created_by` is the user who created it; `None` for the command line, which is no user.
pub async fn insert(tx: &mut Tx, row: &ApiTokenRow, token_hash: &str, created_by: Option<&str>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![&row.id, &row.name, token_hash, &row.prefix, &row.scopes, created_by, row.created_at],
    )
    .await?;
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
    let input = (id.to_string(), now);
    db.write(input, |tx, (id, now)| {
        Box::pin(async move {
            tx.execute("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", args![id, *now]).await?;
            Ok(())
        })
    })
    .await
}

pub async fn list(db: &Db) -> StoreResult<Vec<ApiTokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY revoked_at IS NOT NULL, created_at DESC, id");
    on_db!(db, |c| sqlx::query_as::<_, ApiTokenRow>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)
}

pub async fn revoke(tx: &mut Tx, id: &str, now: i64) -> StoreResult<bool> {
    let n = tx
        .execute("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", args![id, now])
        .await?;
    Ok(n == 1)
}
