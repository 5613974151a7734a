//! Sign-in failure records, kept in the database so every app node sees the same counts.

use super::{Db, StoreResult, new_id};
use crate::on_db;

pub async fn record_failure(db: &Db, email: &str, ip: &str, now: i64) -> StoreResult<()> {
    on_db!(db, |c| sqlx::query("INSERT INTO login_failures (id, email, ip, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(email)
        .bind(ip)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Failures for `email` at or after `since`: (count, time of the oldest such failure).
pub async fn failures_since(db: &Db, email: &str, since: i64) -> StoreResult<(i64, Option<i64>)> {
    on_db!(db, |c| sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE email = $1 AND at >= $2"
    )
    .bind(email)
    .bind(since)
    .fetch_one(c)
    .await)
}

/// Forgets an e-mail's failures (after a successful sign-in) and anything older than `before`.
pub async fn clear(db: &Db, email: &str, before: i64) -> StoreResult<()> {
    on_db!(db, |c| sqlx::query("DELETE FROM login_failures WHERE email = $1 OR at < $2")
        .bind(email)
        .bind(before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
