//! Attempt reservations for throttled actions (sign-in, forgot password, the current-password
//! check), kept in the database so every app node sees the same counts.
//!
//! An attempt is *reserved* before the password is checked, in one unit of work per attempt: each
//! key's row in `throttle_keys` is locked (in key order, so two attempts never wait crosswise),
//! the key's attempts inside the window are counted, and one more is recorded only when every key
//! is below its limit. On SQLite the writer runs one unit at a time; on PostgreSQL the row lock
//! makes the next attempt for the same key wait for this one's commit. So 30 parallel guesses
//! cannot all pass the count: at most the limit are checked.

use super::{Db, StoreResult, Tx};
use crate::args;

/// One throttled key (e.g. `sign_in:email:ann@example.com`) and how many attempts it may have
/// inside the window.
#[derive(Clone, Debug)]
pub struct Limit {
    pub key: String,
    pub max: i64,
}

/// Reserves an attempt under every limit, or answers how many seconds until one is free.
///
/// `Ok(Ok(()))`: recorded as `attempt_id` at `now` for every key. `Ok(Err(retry_after))`: some
/// key already has `max` attempts after `now - window`; nothing was recorded.
pub async fn reserve(
    tx: &mut Tx,
    attempt_id: &str,
    limits: &[Limit],
    now: i64,
    window: i64,
) -> StoreResult<Result<(), i64>> {
    let mut sorted: Vec<&Limit> = limits.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut retry_after = None;
    for limit in &sorted {
        lock_key(tx, &limit.key).await?;
        let times: Vec<i64> = tx
            .fetch_all(
                "SELECT at FROM throttle_attempts WHERE key = $1 AND at > $2 ORDER BY at DESC",
                args![&limit.key, now - window],
            )
            .await?;
        if times.len() as i64 >= limit.max {
            // A slot frees when the `max`-th newest attempt leaves the window.
            let frees_at = times.get((limit.max - 1).max(0) as usize).map_or(now, |t| *t) + window;
            let wait = (frees_at - now).max(1);
            retry_after = Some(retry_after.map_or(wait, |w: i64| w.max(wait)));
        }
    }
    if let Some(wait) = retry_after {
        return Ok(Err(wait));
    }
    for limit in &sorted {
        tx.execute(
            "INSERT INTO throttle_attempts (attempt_id, key, at) VALUES ($1, $2, $3)",
            args![attempt_id, &limit.key, now],
        )
        .await?;
    }
    Ok(Ok(()))
}

/// Locks the key's row, creating it first. A concurrent purge may delete the row between the
/// insert and the lock (the lock then finds nothing): insert and lock again.
async fn lock_key(tx: &mut Tx, key: &str) -> StoreResult<()> {
    loop {
        tx.execute("INSERT INTO throttle_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", args![key]).await?;
        let locked: Vec<String> = tx.lock("SELECT key FROM throttle_keys WHERE key = $1", args![key]).await?;
        if !locked.is_empty() {
            return Ok(());
        }
    }
}

/// Takes back a reservation (the attempt succeeded: it is not a failure).
pub async fn release(tx: &mut Tx, attempt_id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM throttle_attempts WHERE attempt_id = $1", args![attempt_id]).await?;
    Ok(())
}

/// Forgets every attempt of a key (a successful sign-in clears its e-mail's failures; a password
/// set through a valid e-mailed link ends a lockout).
pub async fn clear(tx: &mut Tx, key: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM throttle_attempts WHERE key = $1", args![key]).await?;
    Ok(())
}

/// Deletes attempts at or before `before` and keys without attempts (run in a unit of its own).
pub async fn purge(db: &Db, before: i64) -> StoreResult<()> {
    db.write(before, |tx, before| {
        Box::pin(async move {
            tx.execute("DELETE FROM throttle_attempts WHERE at <= $1", args![*before]).await?;
            tx.execute(
                "DELETE FROM throttle_keys WHERE NOT EXISTS
                   (SELECT 1 FROM throttle_attempts a WHERE a.key = throttle_keys.key)",
                Vec::new(),
            )
            .await?;
            Ok(())
        })
    })
    .await
}
