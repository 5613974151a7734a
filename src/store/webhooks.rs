//! Webhook endpoints, their deliveries and the delivery log.
//!
//! A delivery is one event for one endpoint. Its life: `pending` (due at `due_ms`; a worker that
//! claims it holds a lease until `lease_until_ms`) → `delivered`, or `dead` after the retry
//! policy's last attempt, or `cancelled` when its endpoint is deleted. A pending delivery is not
//! claimed while an earlier event with the same ordering key is still pending for the same
//! endpoint: an aggregate's events arrive in order.

use super::leases::{self, Leased};
use super::{Cell, Db, StoreResult, Tx, bulk_insert, new_id};
use crate::{args, on_db};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, event_types, secret, previous_secret, previous_until, active, created_at, updated_at";

/// An endpoint with its deliveries counted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EndpointSummary {
    #[sqlx(flatten)]
    pub endpoint: EndpointRow,
    pub pending: i64,
    pub dead: i64,
    pub last_delivered_at: Option<i64>,
}

pub async fn insert_endpoint(tx: &mut Tx, e: &EndpointRow, created_by: Option<&str>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, secret, active, created_at, updated_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![&e.id, &e.url, &e.description, &e.event_types, &e.secret, e.active, e.created_at, e.updated_at, created_by],
    )
    .await?;
    Ok(())
}

/// The endpoint, locked, unless deleted.
pub async fn lock_endpoint(tx: &mut Tx, id: &str) -> StoreResult<Option<EndpointRow>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL");
    Ok(tx.lock(&sql, args![id]).await?.into_iter().next())
}

pub async fn update_endpoint(tx: &mut Tx, e: &EndpointRow) -> StoreResult<()> {
    tx.execute(
        "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, active = $5, secret = $6,
            previous_secret = $7, previous_until = $8, updated_at = $9
         WHERE id = $1",
        args![
            &e.id,
            &e.url,
            &e.description,
            &e.event_types,
            e.active,
            &e.secret,
            e.previous_secret.clone(),
            e.previous_until,
            e.updated_at
        ],
    )
    .await?;
    Ok(())
}

/// Marks the endpoint deleted and cancels what it still had to receive; its log stays.
pub async fn delete_endpoint(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE webhook_endpoints SET deleted_at = $2, active = $3, updated_at = $2 WHERE id = $1",
        args![id, now, false],
    )
    .await?;
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'cancelled', lease_owner = NULL, lease_until_ms = 0
         WHERE endpoint_id = $1 AND status = 'pending'",
        args![id],
    )
    .await?;
    Ok(())
}

/// Live endpoints with their deliveries counted, oldest first; one of them when `only` names it.
async fn summaries(db: &Db, only: Option<&str>) -> StoreResult<Vec<EndpointSummary>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, EndpointSummary>(
            "SELECT e.id, e.url, e.description, e.event_types, e.secret, e.previous_secret, e.previous_until, e.active,
                e.created_at, e.updated_at,
                (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending,
                (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead') AS dead,
                (SELECT MAX(d.delivered_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id) AS last_delivered_at
             FROM webhook_endpoints e WHERE e.deleted_at IS NULL AND ($1 IS NULL OR e.id = $1) ORDER BY e.created_at, e.id",
        )
        .bind(only)
        .fetch_all(c)
        .await
    })
}

pub async fn endpoints(db: &Db) -> StoreResult<Vec<EndpointSummary>> {
    summaries(db, None).await
}

pub async fn endpoint(db: &Db, id: &str) -> StoreResult<Option<EndpointSummary>> {
    Ok(summaries(db, Some(id)).await?.pop())
}

// ---- fan-out -------------------------------------------------------------------------------

/// An event the worker has not fanned out yet.
#[derive(Clone, Debug, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
}

/// The oldest event not fanned out. `ORDER BY id` keeps SQLite on the partial index whatever its
/// statistics say: without it, statistics taken while every event was undispatched (the demo's
/// `ANALYZE`) made the planner scan the whole outbox — on every pass of an idle worker.
pub const OLDEST_UNDISPATCHED: &str = "SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT 1";

/// Events not fanned out, counted through the partial index (see [`OLDEST_UNDISPATCHED`]).
pub const COUNT_UNDISPATCHED: &str =
    "SELECT COUNT(*) FROM (SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id) AS u";

/// Marks one event fanned out (SQLite: [`mark_dispatched`]).
pub const MARK_DISPATCHED: &str = "UPDATE outbox SET dispatched_at = $1 WHERE id = $2";

/// Whether some event waits to be fanned out (a read: an idle worker writes nothing).
pub async fn any_undispatched(db: &Db) -> StoreResult<bool> {
    Ok(db.read_text(OLDEST_UNDISPATCHED, &[]).await?.is_some())
}

/// Takes the fan-out turn (one node at a time) and returns up to `limit` events not fanned out,
/// oldest first.
pub async fn take_undispatched(tx: &mut Tx, limit: i64) -> StoreResult<Vec<EventRow>> {
    tx.lock::<i64>("SELECT value FROM counters WHERE name = 'outbox_dispatch'", Vec::new()).await?;
    tx.fetch_all(
        "SELECT id, event_type, payload, created_at FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1",
        args![limit],
    )
    .await
}

/// Endpoints that receive events (active, not deleted).
pub async fn live_endpoints(tx: &mut Tx) -> StoreResult<Vec<EndpointRow>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE active = $1 AND deleted_at IS NULL");
    tx.fetch_all(&sql, args![true]).await
}

/// A delivery to create.
pub struct NewDelivery<'a> {
    pub event_id: &'a str,
    pub endpoint_id: &'a str,
    pub ordering_key: String,
    pub due_ms: i64,
    pub now: i64,
    /// Claimed as it is created (the fan-out's own worker sends it at once): the worker and the
    /// end of its lease. The first attempt is counted.
    pub lease: Option<(&'a str, i64)>,
}

/// Writes the deliveries; returns their ids, in order.
pub async fn insert_deliveries(tx: &mut Tx, rows: &[NewDelivery<'_>]) -> StoreResult<Vec<String>> {
    let ids: Vec<String> = rows.iter().map(|_| new_id()).collect();
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .zip(&ids)
        .map(|(d, id)| {
            let (owner, until, attempts, at) = match d.lease {
                Some((owner, until)) => (Some(owner), until, 1_i64, Some(d.now)),
                None => (None, 0, 0_i64, None),
            };
            args![
                id,
                d.event_id,
                d.endpoint_id,
                d.ordering_key.as_str(),
                "pending",
                d.due_ms,
                d.now,
                owner,
                until,
                attempts,
                at
            ]
        })
        .collect();
    bulk_insert(
        tx,
        "webhook_deliveries",
        &[
            "id",
            "event_id",
            "endpoint_id",
            "ordering_key",
            "status",
            "due_ms",
            "created_at",
            "lease_owner",
            "lease_until_ms",
            "attempts",
            "last_attempt_at",
        ],
        &cells,
    )
    .await?;
    Ok(ids)
}

/// Whether an endpoint has a delivery pending (due, waiting or held by a worker): the fan-out
/// then leaves its new deliveries to the claim, which keeps each ordering key in order.
pub async fn has_pending(tx: &mut Tx, endpoint_id: &str) -> StoreResult<bool> {
    let rows: Vec<String> = tx
        .fetch_all(
            "SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending' LIMIT 1",
            args![endpoint_id],
        )
        .await?;
    Ok(!rows.is_empty())
}

pub async fn mark_dispatched(tx: &mut Tx, ids: &[String], now: i64) -> StoreResult<()> {
    // On SQLite one statement per event, by its key: given `id IN (…500 ids…)` the planner, trusting
    // statistics taken while the outbox was small, scanned the whole outbox for every statement
    // (every event ever written: 40 % of a fan-out's time on the benchmark); an equality on the key
    // is a lookup whatever the statistics say, and a statement costs microseconds on the writer.
    if tx.is_sqlite() {
        for id in ids {
            tx.execute(MARK_DISPATCHED, args![now, id.as_str()]).await?;
        }
        return Ok(());
    }
    for chunk in ids.chunks(500) {
        let list = leases::placeholders(2, chunk.len());
        let mut cells = args![now];
        cells.extend(chunk.iter().map(Cell::from));
        tx.execute(&format!("UPDATE outbox SET dispatched_at = $1 WHERE id IN ({list})"), cells).await?;
    }
    Ok(())
}

// ---- claiming and recording ----------------------------------------------------------------

/// A delivery a worker holds: what to send where.
#[derive(Clone, Debug, Deserialize)]
pub struct Claimed {
    pub id: String,
    pub event_id: String,
    pub attempts: i64,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
}

/// The deliveries table as leased work: a delivery waits while an earlier event with the same
/// ordering key is still pending for the same endpoint.
pub const LEASED: Leased = Leased {
    table: "webhook_deliveries",
    also: "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
               WHERE e.endpoint_id = d.endpoint_id AND e.ordering_key = d.ordering_key
                 AND e.status = 'pending' AND e.event_id < d.event_id)",
};

/// Claims up to `limit` due deliveries for `owner` (see [`super::leases::claim`]) and returns what
/// to send where.
pub async fn claim(tx: &mut Tx, owner: &str, now_ms: i64, lease_ms: i64, limit: i64) -> StoreResult<Vec<Claimed>> {
    let ids = leases::claim(tx, LEASED, owner, now_ms, lease_ms, limit).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    tx.fetch_all(
        &format!(
            "SELECT d.id, d.event_id, d.attempts, o.event_type, o.payload, o.created_at, w.url, w.secret,
                w.previous_secret, w.previous_until
             FROM webhook_deliveries d JOIN outbox o ON o.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
             WHERE d.id IN ({}) ORDER BY d.event_id",
            leases::placeholders(1, ids.len())
        ),
        ids.iter().map(Cell::from).collect(),
    )
    .await
}

/// Where a delivery goes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(i64),
    Dead,
}

/// One attempt's outcome.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub delivery_id: String,
    /// The attempt's number (1 for the first).
    pub attempt: i64,
    pub at_ms: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub excerpt: String,
    pub error: Option<String>,
    pub next: Next,
}

/// Records attempts made under `owner`'s lease: each delivery's next state, and the log. A
/// delivery that arrived at its first attempt keeps that attempt on its own row (`first_*`);
/// every other attempt is a `webhook_attempts` row. A delivery whose lease passed to another node
/// meanwhile keeps the other node's state (the attempt is still logged). Returns how many
/// deliveries were updated.
pub async fn record(tx: &mut Tx, owner: &str, attempts: &[Attempt]) -> StoreResult<u64> {
    let mut updated = 0;
    let mut logged: Vec<&Attempt> = Vec::new();
    for a in attempts {
        let n = match a.next {
            Next::Delivered if a.attempt == 1 => {
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, lease_owner = NULL, lease_until_ms = 0,
                        last_status = $4, last_error = NULL, first_at_ms = $5, first_status = $4, first_latency_ms = $6,
                        first_excerpt = $7
                     WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                    args![&a.delivery_id, owner, a.at_ms / 1000, a.status_code, a.at_ms, a.latency_ms, a.excerpt.as_str()],
                )
                .await?
            }
            next => {
                let (status, due, delivered_at) = match next {
                    Next::Delivered => ("delivered", None, Some(a.at_ms / 1000)),
                    Next::RetryAt(due) => ("pending", Some(due), None::<i64>),
                    Next::Dead => ("dead", None, None),
                };
                logged.push(a);
                tx.execute(
                    "UPDATE webhook_deliveries SET status = $3, due_ms = COALESCE($4, due_ms), delivered_at = COALESCE($5, delivered_at),
                        lease_owner = NULL, lease_until_ms = 0, last_status = $6, last_error = $7
                     WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                    args![&a.delivery_id, owner, status, due, delivered_at, a.status_code, a.error.clone()],
                )
                .await?
            }
        };
        if n == 0 && a.next == Next::Delivered && a.attempt == 1 {
            // Another node holds it now: the attempt still goes in the log.
            logged.push(a);
        }
        updated += n;
    }
    let rows: Vec<Vec<Cell>> = logged
        .iter()
        .map(|a| {
            args![new_id(), &a.delivery_id, a.at_ms, a.status_code, a.latency_ms, a.excerpt.as_str(), a.error.clone()]
        })
        .collect();
    bulk_insert(
        tx,
        "webhook_attempts",
        &["id", "delivery_id", "at_ms", "status_code", "latency_ms", "response_excerpt", "error"],
        &rows,
    )
    .await?;
    Ok(updated)
}

// ---- the admin's view ----------------------------------------------------------------------

/// The outbox and its deliveries, counted.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Backlog {
    pub undispatched: i64,
    pub pending: i64,
    pub dead: i64,
    pub oldest_pending_ms: Option<i64>,
}

pub async fn backlog(db: &Db) -> StoreResult<Backlog> {
    on_db!(db, |c| {
        sqlx::query_as::<_, Backlog>(sqlx::AssertSqlSafe(format!(
            "SELECT ({COUNT_UNDISPATCHED}) AS undispatched,
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'dead') AS dead,
                (SELECT MIN(due_ms) FROM webhook_deliveries WHERE status = 'pending') AS oldest_pending_ms"
        )))
        .fetch_one(c)
        .await
    })
}

/// A delivery as the admin and the API list it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at: i64,
    pub status: String,
    pub attempts: i64,
    pub due_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

/// An endpoint's deliveries, newest first, `limit` after the cursor `before` (a delivery id).
pub async fn deliveries(
    db: &Db,
    endpoint_id: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<DeliveryRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, DeliveryRow>(
            "SELECT d.id, d.event_id, o.event_type, o.created_at AS event_created_at, d.status, d.attempts, d.due_ms,
                d.last_status, d.last_error, d.last_attempt_at, d.delivered_at
             FROM webhook_deliveries d JOIN outbox o ON o.id = d.event_id
             WHERE d.endpoint_id = $1 AND ($2 IS NULL OR d.status = $2) AND ($3 IS NULL OR d.id < $3)
             ORDER BY d.id DESC LIMIT $4",
        )
        .bind(endpoint_id)
        .bind(status)
        .bind(before)
        .bind(limit)
        .fetch_all(c)
        .await
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub at_ms: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: String,
    pub error: Option<String>,
}

/// The attempts of some deliveries of one endpoint, newest first: the log rows, and the first
/// attempt a delivery keeps on its own row.
pub async fn attempts(db: &Db, endpoint_id: &str, delivery_ids: &[String]) -> StoreResult<Vec<AttemptRow>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..delivery_ids.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT a.delivery_id, a.at_ms, a.status_code, a.latency_ms, a.response_excerpt, a.error
         FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.endpoint_id = $1 AND a.delivery_id IN ({list})
         UNION ALL
         SELECT d.id, d.first_at_ms, d.first_status, COALESCE(d.first_latency_ms, 0), COALESCE(d.first_excerpt, ''),
             CAST(NULL AS TEXT)
         FROM webhook_deliveries d
         WHERE d.endpoint_id = $1 AND d.first_at_ms IS NOT NULL AND d.id IN ({list})
         ORDER BY 2 DESC"
    );
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, AttemptRow>(sqlx::AssertSqlSafe(sql.clone())).bind(endpoint_id);
        for id in delivery_ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })
}

/// Sends a delivery again (delivered, dead or cancelled), from its first attempt's schedule;
/// false when the endpoint has no such delivery or it is pending already.
/// The first attempt a delivery kept on its own row moves into the log, so the replay's attempts
/// start again from the first.
pub async fn replay(tx: &mut Tx, endpoint_id: &str, delivery_id: &str, now_ms: i64) -> StoreResult<bool> {
    tx.execute(
        "INSERT INTO webhook_attempts (id, delivery_id, at_ms, status_code, latency_ms, response_excerpt, error)
         SELECT $3, id, first_at_ms, first_status, COALESCE(first_latency_ms, 0), COALESCE(first_excerpt, ''), NULL
         FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2 AND status <> 'pending' AND first_at_ms IS NOT NULL",
        args![delivery_id, endpoint_id, new_id()],
    )
    .await?;
    let n = tx
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending', due_ms = $3, attempts = 0, lease_owner = NULL, lease_until_ms = 0,
                first_at_ms = NULL, first_status = NULL, first_latency_ms = NULL, first_excerpt = NULL
             WHERE id = $1 AND endpoint_id = $2 AND status <> 'pending'",
            args![delivery_id, endpoint_id, now_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Sends every dead delivery of an endpoint again; returns how many.
pub async fn replay_dead(tx: &mut Tx, endpoint_id: &str, now_ms: i64) -> StoreResult<u64> {
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'pending', due_ms = $2, attempts = 0, lease_owner = NULL, lease_until_ms = 0
         WHERE endpoint_id = $1 AND status = 'dead'",
        args![endpoint_id, now_ms],
    )
    .await
}
