//! Background work that leaves the system: the outbox worker delivers events by webhook.
//!
//! The worker runs inside `portico serve` (unless `--no-worker`) and on its own as
//! `portico worker`; any number of them may run against one database. Each pass:
//! 1. **fan out**: events not yet fanned out become one delivery per subscribed endpoint
//!    (one node at a time; `service::webhooks::dispatch`); a new delivery that can be sent at once
//!    (its endpoint has nothing pending; the first of its ordering key) is created leased to this
//!    worker, so most deliveries are never claimed apart;
//! 2. **claim**: other due deliveries are leased to this worker for [`WorkerConfig::lease_ms`]
//!    (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes never hold the same one); a
//!    delivery whose earlier event for the same aggregate is still pending waits;
//! 3. **send** them concurrently, signed (`webhooks::Sender`);
//! 4. **record** every attempt and each delivery's next state (delivered, due again after
//!    exponential backoff with jitter, or dead after the policy's last attempt); a delivery that
//!    arrives at its first attempt keeps that attempt on its own row, every other attempt is a
//!    row of the delivery log.
//!
//! Each pass also counts the orders that changed into the dashboards' who-buys-what
//! (`service::dashboards::count_products`).
//!
//! Mails go the same way: planned at fan-out (one per recipient), claimed under a lease, written
//! and sent (`mail`: SMTP, or the local mailbox), recorded, retried with the same policy.
//!
//! At least once: a worker killed between 2 and 4 leaves leases that run out, and the deliveries
//! are sent again by whichever worker claims them next. Receivers deduplicate on `webhook-id`.
//! An idle worker only reads (an indexed probe per kind of work); it writes only when there is work.

pub mod mail;
pub mod webhooks;

use crate::domain::webhooks::{AddressPolicy, RetryPolicy};
use crate::ops::Metrics;
use crate::service::webhooks as service;
use crate::store::Db;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How the worker runs (`portico serve`/`worker` flags; tests shorten the retry policy).
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub retry: RetryPolicy,
    /// Networks deliveries may reach besides the public internet.
    pub allow: AddressPolicy,
    /// Deliveries claimed per pass.
    pub batch: i64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long a claim is held: longer than a request can take, so a live worker never loses one.
    pub lease_ms: i64,
    /// The wait between polls when there is nothing to do.
    pub idle: Duration,
    /// The wait after a pass that found less than a full batch: the next pass then takes what
    /// gathered meanwhile in one batch. Each pass costs the database's one writer three units of
    /// work (fan out, claim, record — two when the fan-out claims everything) whatever its size, so under steady traffic (an order a
    /// millisecond, each one a delivery) passes back to back took 20 % of order placement's
    /// throughput; batched this way the cost is a few per cent, for at most this much latency.
    pub pace: Duration,
    /// A request's whole time limit.
    pub timeout: Duration,
    /// Where mail goes.
    pub mail: mail::MailSettings,
    /// Portico's public URL (links in mails).
    pub public_url: String,
}

impl Default for WorkerConfig {
    fn default() -> WorkerConfig {
        WorkerConfig::with_timeout(Duration::from_secs(15))
    }
}

impl WorkerConfig {
    /// The defaults around a request time limit; the lease is four times it (a pass's requests run
    /// concurrently, so a pass takes about one time limit at worst).
    pub fn with_timeout(timeout: Duration) -> WorkerConfig {
        WorkerConfig {
            retry: RetryPolicy::default(),
            allow: AddressPolicy::default(),
            batch: 1000,
            concurrency: 64,
            lease_ms: timeout.as_millis() as i64 * 4,
            idle: Duration::from_millis(500),
            pace: Duration::from_millis(500),
            timeout,
            mail: mail::MailSettings { from_address: "portico@localhost".into(), ..Default::default() },
            public_url: "http://localhost:8080".into(),
        }
    }
}

/// Orders the dashboards' who-buys-what rollup counts per transaction (each a short read of the
/// order's lines and what was counted of it, in the rollup writer's transaction), and how many
/// wait before the worker counts them (`service::dashboards::count_products`). Bigger
/// transactions share more of the rollup's rows and pages: on the large demo's SQLite, 1,000
/// orders a pass wrote ~5 pages of the rollup's log per order, 5,000 ~1.5. On SQLite the rollup
/// file has a writer of its own, so a pass of a second or so holds no placement up
/// (`docs/dashboards.md`).
pub const PRODUCT_RECOUNTS: i64 = 5_000;

/// How often the worker has the planner's statistics taken again where a table grew or shrank
/// tenfold (`Db::optimize`; also once when it starts).
pub const OPTIMIZE_EVERY: Duration = Duration::from_secs(3600);

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// One pass: fan out, claim, send, record. Returns how many deliveries and mails were attempted
/// (0: idle).
pub async fn run_once(
    db: &Db,
    cfg: &WorkerConfig,
    sender: &webhooks::Sender,
    mailer: &mail::Mailer,
    metrics: &Metrics,
) -> crate::service::ServiceResult<usize> {
    let owner = crate::store::idempotency::instance_id();
    // Fan out everything waiting (in chunks), taking at once what can be sent at once; then claim
    // what else is due (retries, deliveries that waited for an earlier one of their key).
    let batch = cfg.batch.max(1) as usize;
    let mut claimed = Vec::new();
    loop {
        let lease = service::FanOutClaim { owner, lease_ms: cfg.lease_ms, max: batch.saturating_sub(claimed.len()) };
        let (events, taken) = service::dispatch(db, now_ms(), 1000, Some(lease)).await?;
        claimed.extend(taken);
        if events < 1000 {
            break;
        }
    }
    // Mails sent and orders counted: work done besides deliveries.
    let mails = send_mails(db, cfg, mailer, owner).await?
        + crate::service::dashboards::count_products(db, now_ms() / 1000, PRODUCT_RECOUNTS).await?;
    let room = batch.saturating_sub(claimed.len()) as i64;
    if room > 0 {
        claimed.extend(service::claim(db, owner, now_ms(), cfg.lease_ms, room).await?);
    }
    if claimed.is_empty() {
        return Ok(mails);
    }
    let n = claimed.len() + mails;
    let outcomes: Vec<service::Outcome> = futures_util::stream::iter(claimed)
        .map(|c| sender.deliver(c))
        .buffer_unordered(cfg.concurrency)
        .collect()
        .await;
    for o in &outcomes {
        metrics.count_delivery_attempt(o.succeeded());
    }
    let dead_before = outcomes.iter().filter(|o| !o.succeeded() && cfg.retry.gives_up_after(o.attempt)).count();
    metrics.count_dead(dead_before as u64);
    service::record(db, owner, &cfg.retry, outcomes).await?;
    Ok(n)
}

/// Sends the mails that are due; returns how many were tried.
async fn send_mails(
    db: &Db,
    cfg: &WorkerConfig,
    mailer: &mail::Mailer,
    owner: &str,
) -> crate::service::ServiceResult<usize> {
    let claimed = crate::service::mail::claim(db, owner, now_ms(), cfg.lease_ms, cfg.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let from = crate::service::mail::sender(db, &cfg.public_url).await?;
    let n = claimed.len();
    let (from, settings) = (&from, &cfg.mail);
    let outcomes: Vec<(String, crate::service::mail::MailNext)> = futures_util::stream::iter(claimed)
        .map(|m: crate::service::mail::ClaimedMail| {
            let retry = cfg.retry.retry_at(m.attempts, now_ms(), service::jitter());
            async move {
                let next = mailer.deliver(&m, from, settings, retry).await;
                (m.id, next)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    crate::service::mail::record(db, owner, outcomes).await?;
    Ok(n)
}

/// Runs passes until `stop` turns true; then gives back the leases it holds.
pub async fn run(db: Db, cfg: WorkerConfig, metrics: Arc<Metrics>, mut stop: watch::Receiver<bool>) {
    let sender = webhooks::Sender::new(cfg.allow.clone(), cfg.timeout);
    let mailer = match mail::Mailer::new(&cfg.mail) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "mail cannot be sent; it is kept in the local mailbox instead");
            mail::Mailer::Mailbox
        }
    };
    tracing::info!(instance = crate::store::idempotency::instance_id(), "outbox worker started");
    let mut optimized: Option<std::time::Instant> = None;
    while !*stop.borrow() {
        if optimized.is_none_or(|at| at.elapsed() >= OPTIMIZE_EVERY) {
            optimized = Some(std::time::Instant::now());
            if let Err(e) = db.optimize().await {
                tracing::warn!(error = %e, "refreshing the planner's statistics failed");
            }
        }
        let wait = match run_once(&db, &cfg, &sender, &mailer, &metrics).await {
            Ok(0) => Some(cfg.idle),
            Ok(n) if (n as i64) < cfg.batch => Some(cfg.pace),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the outbox worker's pass failed; trying again");
                Some(cfg.idle)
            }
        };
        if let Some(wait) = wait {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
    let owner = crate::store::idempotency::instance_id();
    let released = (service::release(&db, owner).await, crate::service::mail::release(&db, owner).await);
    if let (Err(e), _) | (_, Err(e)) = released {
        tracing::warn!(error = %e, "giving back the worker's leases failed (they run out by themselves)");
    }
    tracing::info!("outbox worker stopped");
}

/// Starts [`run`] on the runtime; send `true` on the returned sender to stop it, then await the handle.
pub fn spawn(db: Db, cfg: WorkerConfig, metrics: Arc<Metrics>) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tell, stop) = watch::channel(false);
    (tell, tokio::spawn(run(db, cfg, metrics, stop)))
}
