//! Webhooks end to end: endpoints through the API and the pages, the outbox worker delivering to a
//! real HTTP receiver (signatures checked as a receiver would), retries, dead letters and replay,
//! per-order ordering, address refusals, two worker processes racing, and the delivery goal:
//! 10,000 events through a receiver that fails 30 % of requests and is restarted midway, with the
//! worker process killed (-9) during delivery — every event delivered, every signature valid.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::TestApp;
use portico::domain::auth::{Scope, StaffRole};
use portico::domain::webhooks::{AddressPolicy, RetryPolicy, Secret, verify};
use portico::jobs::{WorkerConfig, webhooks::Sender};
use portico::store::new_id;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Accept,
    /// Fail this many requests in 100 (deterministically spread).
    FailPercent(u64),
    /// Fail the first attempt of every `webhook-id`.
    FailFirstAttempt,
    /// Answer 307 to this URL.
    Redirect(&'static str),
}

/// A webhook receiver on 127.0.0.1: checks each request's Standard Webhooks signature with the
/// endpoint's secret and records what arrived.
#[derive(Default)]
struct Received {
    secret: Option<Secret>,
    mode: Option<Mode>,
    /// In arrival order: (webhook-id, event type, answered 2xx).
    log: Vec<(String, String, bool)>,
    bad_signatures: u64,
    /// Ids answered 2xx.
    seen: BTreeSet<String>,
    /// Ids that arrived at all.
    tried: BTreeSet<String>,
}

#[derive(Clone)]
struct Receiver {
    inner: Arc<Mutex<Received>>,
    requests: Arc<AtomicU64>,
    port: u16,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (id, ts, sig) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    let mut inner = r.inner.lock().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let valid = match &inner.secret {
        Some(s) => verify(s, &sig, &id, ts.parse().unwrap_or(0), &body, now, 300),
        None => false,
    };
    if !valid {
        inner.bad_signatures += 1;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let event_type = v["type"].as_str().unwrap_or("").to_string();
    let first = inner.tried.insert(id.clone());
    let ok = match inner.mode.unwrap_or(Mode::Accept) {
        Mode::Accept => true,
        Mode::FailPercent(p) => (n * 37) % 100 >= p,
        Mode::FailFirstAttempt => !first,
        Mode::Redirect(to) => {
            inner.log.push((id, event_type, false));
            return (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response();
        }
    };
    inner.log.push((id.clone(), event_type, ok));
    if ok {
        inner.seen.insert(id);
        (StatusCode::OK, "thanks").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "busy \0 try later").into_response()
    }
}

impl Receiver {
    async fn start() -> (Receiver, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Receiver { inner: Arc::default(), requests: Arc::default(), port };
        let task = r.serve(listener);
        (r, task)
    }

    fn serve(&self, listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<()> {
        let router = Router::new().route("/hook", axum::routing::post(receive)).with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        })
    }

    /// Listens again on the same port (after the server task was aborted).
    async fn restart(&self) -> tokio::task::JoinHandle<()> {
        for _ in 0..50 {
            if let Ok(l) = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                return self.serve(l);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver's port stayed taken");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn set(&self, secret: &str, mode: Mode) {
        let mut i = self.inner.lock().unwrap();
        i.secret = Secret::parse(secret);
        i.mode = Some(mode);
    }

    fn log(&self) -> Vec<(String, String, bool)> {
        self.inner.lock().unwrap().log.clone()
    }
}

/// Fast retries for tests, and the loopback address allowed (the receiver lives there).
fn worker_config(max_attempts: i64) -> WorkerConfig {
    WorkerConfig {
        retry: RetryPolicy { base_ms: 1, cap_ms: 20, max_attempts },
        allow: AddressPolicy::parse("127.0.0.1/32").unwrap(),
        timeout: Duration::from_secs(5),
        ..WorkerConfig::default()
    }
}

async fn app_allowing_loopback() -> TestApp {
    TestApp::configured(|c| {
        c.webhooks = worker_config(3);
        c.metrics_token = Some("metrics-secret".into());
    })
    .await
}

/// Runs worker passes (the same code `portico serve` runs) until nothing is due, waiting out
/// short backoffs; at most `passes` passes.
async fn drain(app: &TestApp, cfg: &WorkerConfig, passes: usize) {
    let sender = Sender::new(cfg.allow.clone(), cfg.timeout);
    let mailer = portico::jobs::mail::Mailer::Mailbox;
    let metrics = portico::ops::Metrics::default();
    let mut idle = 0;
    for _ in 0..passes {
        let n = portico::jobs::run_once(app.db(), cfg, &sender, &mailer, &metrics).await.expect("a worker pass");
        if n == 0 {
            idle += 1;
            if idle > 20 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        } else {
            idle = 0;
        }
    }
}

async fn create_endpoint(app: &TestApp, token: &str, url: &str, types: serde_json::Value) -> (String, String) {
    let res = app.api("POST", "/api/v1/webhooks", token, Some(json!({ "url": url, "event_types": types }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    (v["endpoint"]["id"].as_str().unwrap().to_string(), v["secret"].as_str().unwrap().to_string())
}

/// Queues events straight into the outbox, as the services do inside their units.
async fn enqueue(app: &TestApp, events: Vec<(&'static str, serde_json::Value)>) {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for (t, p) in &events {
                portico::store::audit::enqueue(tx, t, p, now).await?;
            }
            Ok(())
        })
    })
    .await;
}

fn json_of(res: &common::TestResponse) -> serde_json::Value {
    serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("not JSON: {}", res.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_placed_order_reaches_its_subscriber_signed_and_logged() {
    use portico::store::products::ProductInput;
    let app = app_allowing_loopback().await;
    let (receiver, _server) = Receiver::start().await;
    let token = app.api_token(&[Scope::WebhooksWrite, Scope::OrdersWrite]).await;
    let (id, secret) = create_endpoint(&app, &token, &receiver.url(), json!(["order.*", "shipment.created"])).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set(&secret, Mode::Accept);
    // The secret is shown once: reading the endpoint does not show it.
    let got = app.api("GET", &format!("/api/v1/webhooks/{id}"), &token, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!got.body.contains("whsec_"), "{}", got.body);
    assert_eq!(json_of(&got)["event_types"], json!(["order.*", "shipment.created"]));

    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "10.00", 100)]).await;
    let account = app.account("Alpha Clinic", None).await;
    let res = app
        .api(
            "POST",
            "/api/v1/orders",
            &token,
            Some(json!({ "account": account, "lines": [{ "sku": "GLV-1", "quantity": 4 }] })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let order = json_of(&res);

    drain(&app, &app.state.config.webhooks, 200).await;
    let log = receiver.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].1, "order.placed");
    assert!(log[0].2);
    assert_eq!(receiver.inner.lock().unwrap().bad_signatures, 0);

    // The delivery log, through the API: delivered at the first attempt, with the answer.
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries"), &token, None).await);
    let d = &page["deliveries"][0];
    assert_eq!(d["status"], "delivered", "{page}");
    assert_eq!(d["event_type"], "order.placed");
    assert_eq!(d["event_id"], log[0].0.as_str());
    assert_eq!(d["log"][0]["status_code"], 200);
    assert_eq!(d["log"][0]["response_excerpt"], "thanks");
    // …and the body the receiver got is the documented envelope around the order's data.
    let events = portico::store::audit::events_of_after(app.db(), &["order.placed"], "", 10).await.unwrap();
    let payload: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["number"], order["number"]);

    // The admin sees the same on the page, and the backlog in /metrics.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let page = c.get(&format!("/admin/webhooks/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("order.placed") && page.body.contains("HTTP 200"), "{}", page.body);
    let list = c.get("/admin/webhooks").await;
    assert!(list.body.contains(&receiver.url()), "{}", list.body);
    let metrics = app
        .send(
            axum::http::Request::get("/metrics")
                .header("authorization", "Bearer metrics-secret")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(metrics.body.contains("portico_webhook_deliveries{state=\"pending\"} 0"), "{}", metrics.body);
    assert!(metrics.body.contains("portico_outbox_undispatched 0"), "{}", metrics.body);

    // Delivered at its first attempt, the delivery keeps that attempt on its own row: the fan-out
    // claimed it as it created it and the record wrote no log row.
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_attempts").await, 0);
    assert_eq!(d["attempts"], 1);
    // Replayed, it is sent again and both attempts are in the log, newest first.
    let delivery = d["id"].as_str().unwrap();
    let res = app.api("POST", &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"), &token, None).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    drain(&app, &app.state.config.webhooks, 200).await;
    assert_eq!(receiver.log().len(), 2);
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries"), &token, None).await);
    let d = &page["deliveries"][0];
    assert_eq!(d["status"], "delivered", "{page}");
    let log = d["log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{page}");
    assert!(log.iter().all(|a| a["status_code"] == 200 && a["response_excerpt"] == "thanks"), "{page}");
    assert!(log[0]["at_ms"].as_i64() >= log[1]["at_ms"].as_i64(), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_are_retried_then_dead_lettered_and_replayed() {
    let app = app_allowing_loopback().await;
    let (receiver, _server) = Receiver::start().await;
    let token = app.api_token(&[Scope::WebhooksWrite]).await;
    let (id, secret) = create_endpoint(&app, &token, &receiver.url(), json!(["*"])).await;
    receiver.set(&secret, Mode::FailPercent(100));
    enqueue(&app, vec![("invoice.issued", json!({ "id": "inv-1", "order_id": "o-1" }))]).await;
    drain(&app, &app.state.config.webhooks, 200).await;
    // Three attempts (the policy's limit), then dead.
    assert_eq!(receiver.log().len(), 3, "{:?}", receiver.log());
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries?status=dead"), &token, None).await);
    let d = &page["deliveries"][0];
    assert_eq!(d["status"], "dead", "{page}");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["log"].as_array().unwrap().len(), 3);
    assert_eq!(d["log"][0]["status_code"], 503);
    // The NUL in the answer is not kept (PostgreSQL cannot store it); the rest is.
    assert_eq!(d["log"][0]["response_excerpt"], "busy  try later");
    let listed = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}"), &token, None).await);
    assert_eq!(listed["dead"], 1);

    // Replayed after the receiver is fixed: delivered, with the same webhook-id.
    receiver.set(&secret, Mode::Accept);
    let delivery = d["id"].as_str().unwrap();
    let res = app.api("POST", &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"), &token, None).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    // Replaying a delivery that waits already is a conflict.
    let again = app.api("POST", &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"), &token, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    drain(&app, &app.state.config.webhooks, 200).await;
    let log = receiver.log();
    assert_eq!(log.len(), 4);
    assert!(log[3].2 && log[3].0 == log[0].0);
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries"), &token, None).await);
    assert_eq!(page["deliveries"][0]["status"], "delivered");
    assert_eq!(receiver.inner.lock().unwrap().bad_signatures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_orders_events_arrive_in_order_and_others_do_not_wait_for_them() {
    let app = TestApp::configured(|c| c.webhooks = worker_config(10)).await;
    let (receiver, _server) = Receiver::start().await;
    let token = app.api_token(&[Scope::WebhooksWrite]).await;
    let (_, secret) = create_endpoint(&app, &token, &receiver.url(), json!(["*"])).await;
    receiver.set(&secret, Mode::FailFirstAttempt);
    enqueue(
        &app,
        vec![
            ("order.placed", json!({ "id": "o-1", "number": "SO-1" })),
            ("shipment.created", json!({ "id": "s-1", "order_id": "o-1" })),
            ("order.shipped", json!({ "id": "o-1", "number": "SO-1" })),
            ("invoice.issued", json!({ "id": "i-1", "order_id": "o-1" })),
            ("order.placed", json!({ "id": "o-2", "number": "SO-2" })),
        ],
    )
    .await;
    drain(&app, &app.state.config.webhooks, 500).await;
    let delivered: Vec<(String, String)> =
        receiver.log().into_iter().filter(|(_, _, ok)| *ok).map(|(id, t, _)| (id, t)).collect();
    assert_eq!(delivered.len(), 5, "{:?}", receiver.log());
    // Order o-1's four events were delivered in the order they happened, each first failing once.
    let ids: Vec<String> =
        portico::store::audit::pending_events(app.db(), 100).await.unwrap().into_iter().map(|e| e.id).collect();
    let pos = |i: usize| delivered.iter().position(|(id, _)| *id == ids[i]).unwrap();
    assert!(pos(0) < pos(1) && pos(1) < pos(2) && pos(2) < pos(3), "{delivered:?}");
    // No event of o-1 went out before the one before it was delivered.
    let log = receiver.log();
    for w in 1..4 {
        let first_try = log.iter().position(|(id, _, _)| *id == ids[w]).unwrap();
        let earlier_ok = log.iter().position(|(id, _, ok)| *id == ids[w - 1] && *ok).unwrap();
        assert!(earlier_ok < first_try, "event {w} was tried before event {} was delivered: {log:?}", w - 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_addresses_are_refused_when_added_after_resolution_and_on_redirects() {
    // By default nothing private is reachable.
    let app = TestApp::new().await;
    let token = app.api_token(&[Scope::WebhooksWrite, Scope::WebhooksRead]).await;
    for url in [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ] {
        let res = app.api("POST", "/api/v1/webhooks", &token, Some(json!({ "url": url, "event_types": ["*"] }))).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {}", res.body);
        assert!(res.body.contains("\"url\"") && res.body.contains("private"), "{url}: {}", res.body);
    }
    for (body, field) in [
        (json!({ "url": "ftp://x.example/", "event_types": ["*"] }), "url"),
        (json!({ "url": "https://x.example/", "event_types": ["order.teleported"] }), "event_types"),
        (json!({ "url": "https://x.example/", "event_types": ["user.invited"] }), "event_types"),
        (json!({ "url": "https://x.example/\u{0}", "event_types": ["*"] }), "url"),
    ] {
        let res = app.api("POST", "/api/v1/webhooks", &token, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert!(res.body.contains(field), "{body}: {}", res.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 0);

    // A name that resolves to a private address: refused when delivering, the receiver untouched.
    let (receiver, _server) = Receiver::start().await;
    let (id, secret) =
        create_endpoint(&app, &token, &format!("http://localhost:{}/hook", receiver.port), json!(["*"])).await;
    receiver.set(&secret, Mode::Accept);
    enqueue(&app, vec![("stock.changed", json!({ "product_id": "p-1" }))]).await;
    let strict =
        WorkerConfig { retry: RetryPolicy { base_ms: 1, cap_ms: 5, max_attempts: 1 }, ..WorkerConfig::default() };
    drain(&app, &strict, 50).await;
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 0);
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries"), &token, None).await);
    let err = page["deliveries"][0]["log"][0]["error"].as_str().unwrap_or_default().to_string();
    assert!(err.contains("resolves to") && err.contains("private"), "{page}");

    // Allowed to reach 127.0.0.1 only: a redirect to another loopback address is not followed.
    let app = TestApp::configured(|c| c.webhooks = worker_config(1)).await;
    let token = app.api_token(&[Scope::WebhooksWrite]).await;
    let (receiver, _server) = Receiver::start().await;
    let (id, secret) = create_endpoint(&app, &token, &receiver.url(), json!(["*"])).await;
    receiver.set(&secret, Mode::Redirect("http://127.0.0.2/steal"));
    enqueue(&app, vec![("stock.changed", json!({ "product_id": "p-1" }))]).await;
    drain(&app, &app.state.config.webhooks, 50).await;
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 1);
    let page = json_of(&app.api("GET", &format!("/api/v1/webhooks/{id}/deliveries"), &token, None).await);
    let d = &page["deliveries"][0];
    assert_eq!(d["status"], "dead", "{page}");
    assert!(d["log"][0]["error"].as_str().unwrap().contains("127.0.0.2"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn endpoints_are_managed_on_the_pages_with_errors_kept_and_secrets_rotated() {
    let app = app_allowing_loopback().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    // A bad URL and no events: both errors shown beside their fields, what was typed kept.
    let res = c.post("/admin/webhooks", &[("url", "erp.example.com/hook"), ("description", "ERP sync")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("is not a URL") && res.body.contains("Choose at least one event type"), "{}", res.body);
    assert!(res.body.contains("value=\"ERP sync\""));
    // Added: the secret is shown once.
    let res = c
        .post(
            "/admin/webhooks",
            &[
                ("url", "https://erp.example.com/hook"),
                ("event_type", "order.placed"),
                ("event_type", "invoice.issued"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let secret = res.text_after("id=\"new-secret\">").unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id: String =
        portico::on_db!(app.db(), |p| sqlx::query_scalar("SELECT id FROM webhook_endpoints").fetch_one(p).await)
            .unwrap();
    let page = c.get(&format!("/admin/webhooks/{id}")).await;
    assert!(!page.body.contains(&secret[..20]));
    // Rotation: a new secret, the old one still signing for the overlap.
    let res = c.post(&format!("/admin/webhooks/{id}/rotate"), &[("overlap_hours", "24")]).await;
    let rotated = res.text_after("id=\"new-secret\">").unwrap();
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    assert!(res.body.contains("old secret too"), "{}", res.body);
    let res = c.post(&format!("/admin/webhooks/{id}/rotate"), &[("overlap_hours", "ten")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A receiver that knows either secret accepts deliveries during the overlap.
    let (receiver, _server) = Receiver::start().await;
    let res = c
        .post(&format!("/admin/webhooks/{id}"), &[("url", &receiver.url()), ("all_events", "1"), ("active", "1")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    receiver.set(&secret, Mode::Accept);
    assert_eq!(c.post(&format!("/admin/webhooks/{id}/test"), &[]).await.status, StatusCode::SEE_OTHER);
    drain(&app, &app.state.config.webhooks, 100).await;
    receiver.set(&rotated, Mode::Accept);
    assert_eq!(c.post(&format!("/admin/webhooks/{id}/test"), &[]).await.status, StatusCode::SEE_OTHER);
    drain(&app, &app.state.config.webhooks, 100).await;
    let log = receiver.log();
    assert_eq!(log.iter().filter(|(_, t, ok)| t == "webhook.test" && *ok).count(), 2, "{log:?}");
    assert_eq!(receiver.inner.lock().unwrap().bad_signatures, 0);
    // Other staff cannot reach the pages; the audit log has every change.
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut r = app.signed_in(&rep.email).await;
    assert_eq!(r.get("/admin/webhooks").await.status, StatusCode::FORBIDDEN);
    // Deleted: gone from the list, nothing more queued for it.
    assert_eq!(c.post(&format!("/admin/webhooks/{id}/delete"), &[]).await.status, StatusCode::SEE_OTHER);
    assert!(!c.get("/admin/webhooks").await.body.contains(&receiver.url()));
    assert_eq!(c.get(&format!("/admin/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);
    let audited = app
        .count_dyn(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND action LIKE 'webhook_endpoint.%'"
        ))
        .await;
    assert_eq!(audited, 6);
}

// ---- real processes ------------------------------------------------------------------------

struct Worker(tokio::process::Child);

fn start_worker(url: &str, extra: &[(&str, &str)]) -> Worker {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_portico"));
    cmd.arg("worker")
        .env("DATABASE_URL", url)
        .env("PORTICO_LOG", "warn")
        .env("PORTICO_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.1/32")
        .env("PORTICO_WEBHOOK_RETRY_BASE_MS", "20")
        .env("PORTICO_WEBHOOK_RETRY_CAP_MS", "500")
        .env("PORTICO_WEBHOOK_MAX_ATTEMPTS", "100")
        // Held for 8 s: a killed worker's deliveries go out again after that.
        .env("PORTICO_WEBHOOK_TIMEOUT_SECS", "2")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    Worker(cmd.spawn().expect("start portico worker"))
}

impl Worker {
    /// SIGKILL: no chance to record anything or give back leases.
    async fn kill_9(&mut self) {
        self.0.start_kill().unwrap();
        let _ = self.0.wait().await;
    }
}

async fn many_events(app: &TestApp, n: usize) -> Vec<String> {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                // Ten orders' worth of interleaved keys, and the rest each its own.
                let payload = if i % 10 == 0 {
                    json!({ "id": new_id(), "order_id": format!("order-{}", i % 7), "n": i })
                } else {
                    json!({ "id": new_id(), "n": i })
                };
                ids.push(portico::store::audit::enqueue(tx, "stock.changed", &payload, now).await?);
            }
            Ok(ids)
        })
    })
    .await
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The goal: 10,000 events, a receiver failing 30 % of requests and restarted midway, the
/// worker process killed with -9 during delivery and started again: every event delivered at
/// least once, every signature valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_events_survive_a_flaky_receiver_a_restart_and_a_killed_worker() {
    let app = TestApp::new().await;
    let (receiver, server) = Receiver::start().await;
    let (_, secret) = create_endpoint_allowed(&app, &receiver.url()).await;
    receiver.set(&secret, Mode::FailPercent(30));
    let ids = many_events(&app, 10_000).await;

    let mut worker = start_worker(&app.url, &[]);
    let seen = |r: &Receiver| r.inner.lock().unwrap().seen.len();
    wait_until("a quarter delivered", Duration::from_secs(120), || seen(&receiver) >= 2_500).await;
    // The receiver goes away and comes back.
    server.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server = receiver.restart().await;
    wait_until("half delivered", Duration::from_secs(120), || seen(&receiver) >= 5_000).await;
    // The worker is killed mid-delivery and started again.
    worker.kill_9().await;
    let _worker = start_worker(&app.url, &[]);
    wait_until("all delivered", Duration::from_secs(300), || seen(&receiver) >= 10_000).await;

    let inner = receiver.inner.lock().unwrap();
    assert_eq!(inner.bad_signatures, 0);
    let missing: Vec<&String> = ids.iter().filter(|id| !inner.seen.contains(*id)).collect();
    assert!(missing.is_empty(), "{} events never delivered", missing.len());
    let failed = inner.log.iter().filter(|(_, _, ok)| !ok).count();
    assert!(failed > 2_000, "the receiver failed only {failed} requests");
}

/// Creates an endpoint on an app whose own config refuses loopback: the API checks URLs against
/// the server's setting, so these tests (whose workers run as processes with their own setting)
/// write it through a service call made with an allowing policy.
async fn create_endpoint_allowed(app: &TestApp, url: &str) -> (String, String) {
    let admin = app.staff("Hook Admin", &[StaffRole::Admin]).await;
    let p = admin.principal().unwrap();
    let input = portico::service::webhooks::EndpointInput {
        url: url.to_string(),
        description: String::new(),
        event_types: "*".into(),
        active: true,
    };
    let allow = AddressPolicy::parse("127.0.0.1/32").unwrap();
    let (row, secret) = portico::service::webhooks::create_endpoint(
        app.db(),
        app.now(),
        &portico::service::Actor::web(&p),
        &input,
        &allow,
    )
    .await
    .unwrap();
    (row.id, secret)
}

/// Two worker processes on one database never hold the same delivery: with a receiver that
/// always answers 200, each event arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_worker_processes_deliver_each_event_once() {
    let app = TestApp::new().await;
    let (receiver, _server) = Receiver::start().await;
    let (_, secret) = create_endpoint_allowed(&app, &receiver.url()).await;
    receiver.set(&secret, Mode::Accept);
    let ids = many_events(&app, 2_000).await;
    let _a = start_worker(&app.url, &[]);
    let _b = start_worker(&app.url, &[]);
    wait_until("all delivered", Duration::from_secs(120), || receiver.inner.lock().unwrap().seen.len() >= 2_000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let inner = receiver.inner.lock().unwrap();
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, _, _) in &inner.log {
        *per_id.entry(id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} events delivered more than once, e.g. {:?}", twice.len(), twice.first());
    assert_eq!(per_id.len(), ids.len());
    assert_eq!(inner.bad_signatures, 0);
}

#[test]
fn every_event_type_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/webhooks.md")).unwrap();
    for e in portico::domain::webhooks::EVENTS {
        assert!(doc.contains(&format!("`{}`", e.name)), "docs/webhooks.md does not list {}", e.name);
    }
}

/// The worker's probe for new events and the backlog count read the outbox through its partial
/// index, even when the planner's statistics were taken while every event was undispatched (as
/// the demo's `ANALYZE` leaves them): otherwise each idle pass scanned the whole outbox, which
/// grows with every order. (SQLite's planner; PostgreSQL chooses by its own statistics.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_outbox_probes_use_the_partial_index_whatever_the_statistics() {
    let app = app_allowing_loopback().await;
    if app.db().backend() != "sqlite" {
        return;
    }
    let events = (0..2000).map(|i| ("stock.changed", json!({ "sku": format!("S-{i}"), "on_hand": i }))).collect();
    enqueue(&app, events).await;
    app.db().analyze().await.unwrap();
    drain(&app, &worker_config(3), 50).await;
    let backlog = portico::service::webhooks::backlog_for_metrics(app.db()).await.unwrap();
    assert_eq!(backlog.undispatched, 0);
    // Marking an event fanned out looks it up by its key, never scans the outbox.
    let plan: Vec<(i64, i64, i64, String)> = portico::on_db!(app.db(), |c| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", portico::store::webhooks::MARK_DISPATCHED)))
            .fetch_all(c)
            .await
    })
    .unwrap();
    let plan: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
    assert!(plan.iter().any(|d| d.starts_with("SEARCH outbox USING") && d.contains("(id=?)")), "{plan:?}");
    for sql in [portico::store::webhooks::OLDEST_UNDISPATCHED, portico::store::webhooks::COUNT_UNDISPATCHED] {
        let plan: Vec<(i64, i64, i64, String)> = portico::on_db!(app.db(), |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))).fetch_all(c).await
        })
        .unwrap();
        let plan: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
        assert!(plan.iter().any(|d| d.contains("outbox_undispatched")), "{sql}\nis planned as: {plan:?}");
        assert!(!plan.contains(&"SCAN outbox"), "{sql}\nis planned as: {plan:?}");
    }
}

/// Statistics taken while the outbox was small are taken again once it grew tenfold: by the
/// worker, when it starts and every `OPTIMIZE_EVERY` after (SQLite; PostgreSQL's autovacuum does
/// this by itself, and `optimize` leaves it alone).
#[tokio::test]
async fn the_worker_takes_the_statistics_again_once_the_outbox_grew_tenfold() {
    let app = app_allowing_loopback().await;
    if app.db().backend() != "sqlite" {
        app.db().optimize().await.unwrap();
        return;
    }
    let rows_analysed = || async {
        let stat = app
            .db()
            .read_text(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'outbox' ORDER BY CAST(stat AS INTEGER) DESC LIMIT 1",
                &[],
            )
            .await
            .unwrap()
            .unwrap_or_default();
        stat.split(' ').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0)
    };
    let events = |from: usize, n: usize| {
        (from..from + n).map(|i| ("stock.changed", json!({ "sku": format!("S-{i}"), "on_hand": i }))).collect()
    };
    enqueue(&app, events(0, 100)).await;
    app.db().analyze().await.unwrap();
    let small = rows_analysed().await;
    assert!((100..1_000).contains(&small), "analysed with {small} rows");
    enqueue(&app, events(100, 3_000)).await;
    assert_eq!(rows_analysed().await, small, "nothing analyses by itself");
    let (stop, worker) = portico::jobs::spawn(app.db().clone(), worker_config(3), Default::default());
    let mut analysed = small;
    for _ in 0..200 {
        analysed = rows_analysed().await;
        if analysed > small {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert!(analysed >= 1_500, "the worker took the outbox's statistics again: {analysed} rows (was {small})");
}
