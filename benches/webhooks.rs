//! Webhook deliveries per second to a local receiver, and the outbox worker's effect on order
//! placement while it runs (issue 16's benchmark), on the large benchmark dataset.
//!
//!   cp /tmp/portico-bench.db.seeded /tmp/portico-bench-webhooks.db   # bench/run.sh sqlite seeds it
//!   cargo bench --bench webhooks
//!   PORTICO_BENCH_URL=postgres://…/portico_bench cargo bench --bench webhooks
//!
//! 1. 20,000 events (`EVENTS`) queued, one endpoint subscribed to everything; the worker started;
//!    deliveries/s until the last is delivered (fan-out, lease, signed POST, record — all of it).
//! 2. Ten-line orders placed for `SECONDS` at concurrency 16 through the placement service, with
//!    the worker stopped, then with the worker running and the endpoint subscribed to
//!    `order.placed` (each order is one more delivery) — `ROUNDS` (3) times each, alternating.
//!
//! The receiver is an in-process HTTP server answering 200 at once.

use portico::domain::auth::{Principal, StaffRole};
use portico::domain::webhooks::AddressPolicy;
use portico::service::Actor;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::webhooks::{self, EndpointInput};
use portico::store::Db;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn receiver() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

async fn wait_drained(db: &Db) {
    loop {
        let b = webhooks::backlog_for_metrics(db).await.expect("backlog");
        if b.undispatched == 0 && b.pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Orders placed in `secs` seconds at `concurrency`.
async fn place_for(db: &Db, accounts: &Arc<Vec<String>>, secs: u64, concurrency: usize, seed: usize) -> usize {
    let admin = Principal::staff("bench".into(), "Bench".into(), String::new(), vec![StaffRole::Admin]);
    let stop = Arc::new(AtomicBool::new(false));
    let placed = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(seed));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (db, admin, accounts, stop, placed, next) =
            (db.clone(), admin.clone(), accounts.clone(), stop.clone(), placed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::api(&admin);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let lines =
                    (0..10).map(|k| LineInput::sku(&format!("SKU-{:06}", (i * 10 + k) * 7919 % 100_000), 1)).collect();
                let req = PlaceOrder {
                    account_id: accounts[i % accounts.len()].clone(),
                    lines,
                    header: OrderHeader::default(),
                    clear_cart: false,
                };
                if let Ok(Placement::Placed { .. }) =
                    orders::place_order(&db, now, &actor, &req, None, |o, _| (201, o.id.clone())).await
                {
                    placed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    placed.load(Ordering::Relaxed)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("PORTICO_BENCH_URL").unwrap_or_else(|_| "sqlite:///tmp/portico-bench-webhooks.db".into());
    let events: usize = std::env::var("EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let secs: u64 = std::env::var("SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|r| *r > 0).unwrap_or(3);
    let db = match Db::connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open {url} ({e}); copy the seeded benchmark database there first");
            std::process::exit(2);
        }
    };
    db.migrate().await.expect("migrations");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let admin = Principal::staff("bench".into(), "Bench".into(), String::new(), vec![StaffRole::Admin]);
    let actor = Actor::cli(&admin);
    let accounts = support::accounts_without_limits(&db, 200..300).await;
    let accounts = Arc::new(accounts);

    let (hook, hits) = receiver().await;
    let allow = AddressPolicy::parse("127.0.0.1/32").unwrap();
    let input = EndpointInput { url: hook, description: "bench".into(), event_types: "*".into(), active: true };
    let (endpoint, _) = webhooks::create_endpoint(&db, now, &actor, &input, &allow).await.expect("endpoint");
    let cfg = portico::jobs::WorkerConfig { allow: allow.clone(), ..portico::jobs::WorkerConfig::default() };
    let metrics = Arc::new(portico::ops::Metrics::default());

    // Anything already in the outbox (the seed's events) goes first, untimed.
    let (stop, worker) = portico::jobs::spawn(db.clone(), cfg.clone(), metrics.clone());
    wait_drained(&db).await;

    // 1. Deliveries per second.
    let queued = Instant::now();
    db.write(events, |tx, n| {
        Box::pin(async move {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            for i in 0..*n {
                // As inventory writes them: one product's changes are delivered in order.
                let p = serde_json::json!({ "sku": format!("SKU-{:06}", i % 5000), "warehouse": "CHI", "on_hand": i });
                portico::store::audit::enqueue(tx, "stock.changed", &p, now).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
    })
    .await
    .expect("queue events");
    let before = hits.load(Ordering::Relaxed);
    let started = Instant::now();
    wait_drained(&db).await;
    let secs_taken = started.elapsed().as_secs_f64();
    let delivered = hits.load(Ordering::Relaxed) - before;
    println!(
        "backend={}  deliveries: {delivered} of {events} events in {secs_taken:.2} s = {:.0} deliveries/s  (queued in {:.2} s)",
        db.backend(),
        delivered as f64 / secs_taken,
        (started - queued).as_secs_f64()
    );
    let _ = stop.send(true);
    worker.await.unwrap();

    // 2. Placement with and without the worker.
    let only_orders = EndpointInput { event_types: "order.placed".into(), url: input.url.clone(), ..input };
    webhooks::update_endpoint(&db, now, &actor, &endpoint.id, &only_orders, &allow).await.expect("subscribe");
    let mut seed = 0;
    let mut without = Vec::new();
    let mut with = Vec::new();
    for round in 0..rounds {
        let n = place_for(&db, &accounts, secs, 16, seed).await;
        seed += n + 1;
        without.push(n as f64 / secs as f64);
        // Drain what that run queued, so the next run measures steady work, not a backlog.
        let (stop, worker) = portico::jobs::spawn(db.clone(), cfg.clone(), metrics.clone());
        wait_drained(&db).await;
        let hits_before = hits.load(Ordering::Relaxed);
        let n = place_for(&db, &accounts, secs, 16, seed).await;
        seed += n + 1;
        with.push(n as f64 / secs as f64);
        let delivered_during = hits.load(Ordering::Relaxed) - hits_before;
        wait_drained(&db).await;
        let _ = stop.send(true);
        worker.await.unwrap();
        println!(
            "round {}: orders/s without the worker {:.0}, with it {:.0}: {:+.1} % ({delivered_during} deliveries made meanwhile)",
            round + 1,
            without[round],
            with[round],
            (with[round] - without[round]) / without[round] * 100.0
        );
    }
    let (a, b) = (without.iter().sum::<f64>() / rounds as f64, with.iter().sum::<f64>() / rounds as f64);
    println!("placement: {a:.0} orders/s without the worker, {b:.0} with it: {:+.1} %", (b - a) / a * 100.0);
    db.close().await;
}
