//! Sign-in failure records, kept in the database so every app node sees the same counts.

use super::{Db, StoreResult, new_id};
use crate::{args, on_db};

pub async fn record_failure(db: &Db, email: &str, ip: &str, now: i64) -> StoreResult<()> {
    let input = (new_id(), email.to_string(), ip.to_string(), now);
    db.write(input, |tx, (id, email, ip, now)| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO login_failures (id, email, ip, at) VALUES ($1, $2, $3, $4)",
                args![id, email, ip, *now],
            )
            .await?;
            Ok(())
        })
    })
    .await
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
    let input = (email.to_string(), before);
    db.write(input, |tx, (email, before)| {
        Box::pin(async move {
            tx.execute("DELETE FROM login_failures WHERE email = $1 OR at < $2", args![email, *before]).await?;
            Ok(())
        })
    })
    .await
}
