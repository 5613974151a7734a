//! Idempotency records: API `Idempotency-Key`s and one-time form tokens. A key is claimed in its
//! own short unit of work (so a concurrent retry sees it in flight) and completed inside the unit
//! that does the work, so the result and its record commit together.
//!
//! Every claim carries its own id and the app process that made it. A request that ends without
//! an effect — refused, failed, or cut off by its client — releases its claim at once (only its
//! own: a release never removes a later claim of the same key). A claim left by a process that
//! stopped (crashed, killed) is recognised by that process's heartbeat ([`beat`]): once the
//! process has not beaten for [`DEAD_AFTER_SECS`], its claims are taken over by the next retry.

use super::{Db, StoreResult, Tx, new_id};
use crate::{args, on_db};
use std::sync::OnceLock;

/// A process that has not written its heartbeat for this long is taken to have stopped.
pub const DEAD_AFTER_SECS: i64 = 15;

/// How often a process writes its heartbeat.
pub const BEAT_EVERY_SECS: u64 = 5;

/// A claim whose process is unknown (made before claims named theirs) is taken to belong to a
/// crashed request after this long.
pub const STALE_AFTER_SECS: i64 = 120;

/// This process's id in `app_instances` (new at every start).
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(new_id)
}

/// Writes this process's heartbeat (and its row, the first time).
pub async fn beat(db: &Db, now: i64) -> StoreResult<()> {
    db.write(now, |tx, now| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO app_instances (id, started_at, seen_at) VALUES ($1, $2, $2)
                 ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                args![instance_id(), *now],
            )
            .await?;
            // Forget processes gone for a day.
            tx.execute("DELETE FROM app_instances WHERE seen_at < $1", args![*now - 86_400]).await?;
            Ok(())
        })
    })
    .await
}

/// Writes this process's heartbeat every [`BEAT_EVERY_SECS`] until the database is closed (the
/// first one is written when the app opens the database, before it serves: see `crate::open`).
pub async fn heartbeat(db: Db) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(BEAT_EVERY_SECS)).await;
        match beat(&db, unix_now()).await {
            Ok(()) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "writing this process's heartbeat failed"),
        }
    }
}

/// The wall clock in unix seconds (heartbeats are compared across processes).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Removes this process's heartbeat (a clean shutdown: its claims are abandoned at once).
pub async fn sign_off(db: &Db) -> StoreResult<()> {
    db.write((), |tx, _| {
        Box::pin(async move {
            tx.execute("DELETE FROM app_instances WHERE id = $1", args![instance_id()]).await?;
            Ok(())
        })
    })
    .await
}

#[derive(Clone, Debug, serde::Deserialize, sqlx::FromRow)]
pub struct KeyRow {
    pub request_hash: String,
    pub state: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub order_id: Option<String>,
    pub created_at: i64,
}

impl KeyRow {
    /// Whether the request that held the key finished (its response is recorded); else it is
    /// still in flight.
    pub fn is_done(&self) -> bool {
        self.state == "done"
    }
}

#[derive(Clone, Debug)]
pub enum Claim {
    /// This request owns the key under its claim id: do the work, then complete or release it.
    Claimed,
    /// Another request with this key is still running.
    InFlight { request_hash: String },
    /// The key was used and finished: replay its response.
    Done(KeyRow),
}

/// Claims a key for a request under `claim_id` (new for each request), taking over a claim whose
/// process stopped (same body only).
pub async fn claim(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
    claim_id: &str,
    now: i64,
) -> StoreResult<Claim> {
    let input = (scope.to_string(), key.to_string(), request_hash.to_string(), now, claim_id.to_string());
    db.write(input, |tx, (scope, key, hash, now, claim_id)| {
        Box::pin(async move {
            let inserted = tx
                .execute(
                    "INSERT INTO idempotency_keys (scope, idem_key, request_hash, state, created_at, claim_id, owner_instance)
                     VALUES ($1, $2, $3, 'in_flight', $4, $5, $6) ON CONFLICT (scope, idem_key) DO NOTHING",
                    args![scope, key, hash, *now, claim_id, instance_id()],
                )
                .await?;
            if inserted == 1 {
                return Ok(Claim::Claimed);
            }
            let taken = tx
                .execute(
                    "UPDATE idempotency_keys SET created_at = $4, claim_id = $5, owner_instance = $6
                     WHERE scope = $1 AND idem_key = $2 AND request_hash = $3 AND state = 'in_flight'
                       AND CASE WHEN owner_instance IS NULL THEN created_at < $7
                                ELSE NOT EXISTS (SELECT 1 FROM app_instances i
                                                 WHERE i.id = idempotency_keys.owner_instance AND i.seen_at >= $8) END",
                    args![
                        scope,
                        key,
                        hash,
                        *now,
                        claim_id,
                        instance_id(),
                        *now - STALE_AFTER_SECS,
                        *now - DEAD_AFTER_SECS
                    ],
                )
                .await?;
            if taken == 1 {
                return Ok(Claim::Claimed);
            }
            let row: Option<KeyRow> = tx
                .fetch_optional(
                    "SELECT request_hash, state, response_status, response_body, order_id, created_at FROM idempotency_keys
                     WHERE scope = $1 AND idem_key = $2",
                    args![scope, key],
                )
                .await?;
            Ok(match row {
                Some(r) if r.is_done() => Claim::Done(r),
                Some(r) => Claim::InFlight { request_hash: r.request_hash },
                // Cannot happen inside one unit; answer as in flight so the caller retries.
                None => Claim::InFlight { request_hash: hash.clone() },
            })
        })
    })
    .await
}

/// Records the response of a claimed key, inside the unit that did the work. Returns false when
/// the claim is no longer this request's (it was released meanwhile): the unit must then take
/// back its work.
pub async fn complete(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    claim_id: &str,
    status: i64,
    body: &str,
    order_id: Option<&str>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE idempotency_keys SET state = 'done', response_status = $4, response_body = $5, order_id = $6
             WHERE scope = $1 AND idem_key = $2 AND claim_id = $3 AND state = 'in_flight'",
            args![scope, key, claim_id, status, body, order_id],
        )
        .await?;
    Ok(n == 1)
}

/// Forgets this request's claim (it ended without an effect), so a retry runs again.
pub async fn release(db: &Db, scope: &str, key: &str, claim_id: &str) -> StoreResult<()> {
    db.write((scope.to_string(), key.to_string(), claim_id.to_string()), release_unit).await
}

fn release_unit<'t>(
    tx: &'t mut Tx,
    (scope, key, claim_id): &'t (String, String, String),
) -> super::Unit<'t, StoreResult<()>> {
    Box::pin(async move {
        tx.execute(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND claim_id = $3 AND state = 'in_flight'",
            args![scope, key, claim_id],
        )
        .await?;
        Ok(())
    })
}

/// The record of a key, if any (a form re-submitted after the first finished).
pub async fn get(db: &Db, scope: &str, key: &str) -> StoreResult<Option<KeyRow>> {
    on_db!(db, |c| sqlx::query_as::<_, KeyRow>(
        "SELECT request_hash, state, response_status, response_body, order_id, created_at FROM idempotency_keys
         WHERE scope = $1 AND idem_key = $2"
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(c)
    .await)
}
