//! Idempotency records: API `Idempotency-Key`s and one-time form tokens. A key is claimed in its
//! own short transaction (so a concurrent retry sees it in flight) and completed inside the
//! transaction that does the work, so the result and its record commit together.

use super::{Cell, Db, StoreResult, Tx};
use crate::on_db;

/// A claim that stays `in_flight` longer than this is taken to belong to a crashed request.
pub const STALE_AFTER_SECS: i64 = 120;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub request_hash: String,
    pub state: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub order_id: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub enum Claim {
    /// This request owns the key: do the work, then complete or release it.
    Claimed,
    /// Another request with this key is still running.
    InFlight { request_hash: String },
    /// The key was used and finished: replay its response.
    Done(KeyRow),
}

pub async fn claim(db: &Db, scope: &str, key: &str, request_hash: &str, now: i64) -> StoreResult<Claim> {
    let inserted = on_db!(db, |c| {
        sqlx::query(
        "INSERT INTO idempotency_keys (scope, idem_key, request_hash, state, created_at) VALUES ($1, $2, $3, 'in_flight', $4)
         ON CONFLICT (scope, idem_key) DO NOTHING"
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    // Take over a claim abandoned by a crashed request (same body only).
    let taken = on_db!(db, |c| sqlx::query(
        "UPDATE idempotency_keys SET created_at = $4
         WHERE scope = $1 AND idem_key = $2 AND request_hash = $3 AND state = 'in_flight' AND created_at < $5"
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .bind(now - STALE_AFTER_SECS)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if taken == 1 {
        return Ok(Claim::Claimed);
    }
    let row = on_db!(db, |c| sqlx::query_as::<_, KeyRow>(
        "SELECT request_hash, state, response_status, response_body, order_id, created_at FROM idempotency_keys
         WHERE scope = $1 AND idem_key = $2"
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(c)
    .await)?;
    Ok(match row {
        Some(r) if r.state == "done" => Claim::Done(r),
        Some(r) => Claim::InFlight { request_hash: r.request_hash },
        // Released between our insert and our read: the caller may simply try again.
        None => Claim::InFlight { request_hash: request_hash.to_string() },
    })
}

/// Records the response of a claimed key, inside the transaction that did the work.
pub async fn complete(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    status: i64,
    body: &str,
    order_id: Option<&str>,
) -> StoreResult<()> {
    tx.defer(
        "UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4, order_id = $5
         WHERE scope = $1 AND idem_key = $2",
        vec![Cell::text(scope), Cell::text(key), Cell::Int(status), Cell::text(body), Cell::opt_text(order_id)],
    );
    Ok(())
}

/// Forgets a claim whose request failed without an effect, so a retry runs again.
pub async fn release(db: &Db, scope: &str, key: &str) -> StoreResult<()> {
    on_db!(db, |c| sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND state = 'in_flight'"
    )
    .bind(scope)
    .bind(key)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The finished record of a key, if any (a form re-submitted after the first finished).
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
