//! Operations endpoints: liveness, readiness, Prometheus metrics (request counts and latencies by
//! route, kept in process: each node exposes its own).
//!
//! Metrics are not for everyone: on the main address they answer only to the configured bearer
//! token (`PORTICO_METRICS_TOKEN`), and `PORTICO_METRICS_BIND` serves them alone on a second,
//! private address ([`metrics_router`]). Labels come from closed sets (known methods, route
//! templates), so no request can add a series.

use crate::app::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(guarded_metrics))
}

/// The router of the private metrics address: `GET /metrics`, no token.
pub fn metrics_router(state: AppState) -> axum::Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and a write can be made now (DESIGN.md §4, invariant 9): on
/// SQLite the writer thread runs, can begin and commit, and is not stuck; on PostgreSQL a write
/// transaction completes on a primary.
async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness check failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
    }
    match state.db.write_trouble(std::time::Duration::from_secs(3)).await {
        None => (StatusCode::OK, format!("ready ({})", state.db.backend())).into_response(),
        Some(why) => {
            tracing::warn!(reason = %why, "readiness check failed: writes cannot be made");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response()
        }
    }
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_micros: u64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    /// Webhook attempts this process made, by outcome, and deliveries it gave up.
    webhook_attempts_ok: AtomicU64,
    webhook_attempts_failed: AtomicU64,
    webhooks_dead: AtomicU64,
}

impl Metrics {
    pub fn count_delivery_attempt(&self, ok: bool) {
        let c = if ok { &self.webhook_attempts_ok } else { &self.webhook_attempts_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_dead(&self, n: u64) {
        self.webhooks_dead.fetch_add(n, Ordering::Relaxed);
    }

    /// The outbox and webhook lines: this process's counters and the database's backlog (shared
    /// by every node).
    pub fn render_deliveries(&self, backlog: Option<&crate::service::webhooks::Backlog>) -> String {
        let mut out = String::new();
        out.push_str("# HELP portico_webhook_attempts_total Webhook delivery attempts made by this process, by outcome.\n# TYPE portico_webhook_attempts_total counter\n");
        let _ = writeln!(
            out,
            "portico_webhook_attempts_total{{outcome=\"delivered\"}} {}",
            self.webhook_attempts_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "portico_webhook_attempts_total{{outcome=\"failed\"}} {}",
            self.webhook_attempts_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP portico_webhook_dead_letters_total Deliveries this process gave up after the last retry.\n# TYPE portico_webhook_dead_letters_total counter\n");
        let _ = writeln!(out, "portico_webhook_dead_letters_total {}", self.webhooks_dead.load(Ordering::Relaxed));
        if let Some(b) = backlog {
            out.push_str("# HELP portico_outbox_undispatched Outbox events not yet fanned out to deliveries.\n# TYPE portico_outbox_undispatched gauge\n");
            let _ = writeln!(out, "portico_outbox_undispatched {}", b.undispatched);
            out.push_str("# HELP portico_webhook_deliveries Webhook deliveries by state (pending: not yet delivered; dead: given up).\n# TYPE portico_webhook_deliveries gauge\n");
            let _ = writeln!(out, "portico_webhook_deliveries{{state=\"pending\"}} {}", b.pending);
            let _ = writeln!(out, "portico_webhook_deliveries{{state=\"dead\"}} {}", b.dead);
        }
        out
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, micros: u64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let s = routes.entry((method.to_string(), route.to_string())).or_default();
        *s.by_status.entry(status).or_default() += 1;
        s.count += 1;
        s.sum_micros += micros;
        let secs = micros as f64 / 1e6;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP portico_http_requests_total HTTP requests by method, route and status.\n# TYPE portico_http_requests_total counter\n");
        for ((m, r), s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "portico_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP portico_http_request_duration_seconds Request latency by method and route.\n# TYPE portico_http_request_duration_seconds histogram\n");
        for ((m, r), s) in routes.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "portico_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "portico_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "portico_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                s.sum_micros as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "portico_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                s.count
            );
        }
        out
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let backlog = match crate::service::webhooks::backlog_for_metrics(&state.db).await {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(error = %e, "reading the outbox backlog for /metrics failed");
            None
        }
    };
    let mut body = state.metrics.render();
    body.push_str(&state.metrics.render_deliveries(backlog.as_ref()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `/metrics` on the main address: 404 unless a token is configured (nothing says metrics exist),
/// 401 without the right bearer token.
async fn guarded_metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if !same_secret(given.as_bytes(), expected.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "metrics need the metrics token\n")
            .into_response();
    }
    metrics(State(state)).await
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The method as a label: one of the methods HTTP defines, else `OTHER` (an invented method
/// must not add a series).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Records every request under its route template (`/accounts/{id}`, never the raw path, so the
/// label set stays small), and logs it.
pub async fn track_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let micros = start.elapsed().as_micros() as u64;
    let status = res.status().as_u16();
    state.metrics.observe(method, &route, status, micros);
    tracing::debug!(%method, %route, status, micros, "request");
    res
}
