//! Webhook deliveries per second to a local receiver, and the outbox worker's effect on order
//! placement while it runs (issue 16's benchmark), on the large benchmark dataset.
//!
//!   cp /tmp/portico-bench.db.seeded /tmp/portico-bench-webhooks.db   # bench/run.sh sqlite seeds it
//!   cp /tmp/portico-bench.db.seeded-rollup /tmp/portico-bench-webhooks.db-rollup   # its rollup file
//!   cargo bench --bench webhooks
//!   PORTICO_BENCH_URL=postgres://…/portico_bench cargo bench --bench webhooks
//!
//! 1. 20,000 events (`EVENTS`) queued, one endpoint subscribed to everything; the worker started;
//!    deliveries/s until the last is delivered (fan-out, lease, signed POST, record — all of it).
//! 2. Ten-line orders placed for `SECONDS` at concurrency 16 through the placement service, with
//!    the worker stopped and with the worker running, the endpoint subscribed to `order.placed`
//!    (each order is one more delivery, and a mail where the account has an owning rep) —
//!    `ROUNDS` (3) runs each, in the order A B B A A B …, after an uncounted warm-up run.
//!    Orders/s is what the target names; it moves by several per cent from run to run on
//!    a shared two-core machine, so each run also reports this process's CPU per order (from
//!    `/proc/self/stat`): placing, and delivering and counting (who buys what) what placing queued,
//!    which each run waits for before the next. Where the CPU is the limit
//!    (placement keeps the cores busy), the worker's share of it is what placement loses.
//!
//! The receiver is an HTTP server answering 200 at once, in this process but on a thread of its
//! own: its CPU (in production the ERP's, on another machine) is reported apart, and the worker's
//! share of placing is given both with it (as the figures before 2026-12-08 were) and without it.
//!
//! `REPERTOIRE=50`: each account's orders take their lines from 50 products of its own (a
//! distributor's reorders), instead of any of the 100,000 (the default, the worst case for the
//! worker's who-buys-what recount: every line a new product in its account's month).

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

/// The receiver: an HTTP server answering 200 at once, on a thread of its own (with its own
/// runtime), so that its CPU, which in production is the ERP's and not Portico's, is measured
/// apart from the worker's (`bench-receiver`). Returns its URL and its hit count.
fn receiver() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let (started, bound) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-receiver".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
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
                started.send(url).unwrap();
                axum::serve(listener, app).await
            })
        })
        .unwrap();
    (bound.recv().unwrap(), hits)
}

/// Until the worker has delivered every event and counted every order into who buys what. Each
/// look is three index probes for one row, not counts: this process's CPU while it waits counts as
/// the worker's, and counting the thousands of rows still waiting every 20 ms is not the worker's
/// cost.
async fn wait_drained(db: &Db) {
    loop {
        let pending = portico::on_db!(db, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 AS one FROM webhook_deliveries WHERE status = 'pending' LIMIT 1) AS p"
        )
        .fetch_one(c)
        .await)
        .expect("pending");
        let busy = pending > 0
            || portico::store::webhooks::any_undispatched(db).await.expect("undispatched")
            || portico::store::dashboards::products_due(db, i64::MAX, 1).await.expect("uncounted") > 0;
        if !busy {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// This process's CPU time so far (user + system, all threads), in seconds: what the worker costs
/// is measured as CPU per order, which other load on the machine does not change as much as it
/// changes orders per second.
fn cpu_seconds() -> f64 {
    stat_cpu("/proc/self/stat")
}

/// CPU time so far per thread name (the receiver's, the writers', the runtime's…), in seconds.
fn threads_cpu() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_string();
        *by_name.entry(name).or_insert(0.0) += stat_cpu(&task.path().join("stat").display().to_string());
    }
    by_name
}

/// What each thread name spent between two [`threads_cpu`] readings.
fn threads_since(before: &std::collections::BTreeMap<String, f64>) -> std::collections::BTreeMap<String, f64> {
    threads_cpu()
        .into_iter()
        .map(|(name, now)| (name.clone(), now - before.get(&name).copied().unwrap_or(0.0)))
        .collect()
}

/// User + system time of a `/proc/…/stat` file, in seconds.
fn stat_cpu(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based, counting pid and comm), in ticks of 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}

/// One timed run of placement.
struct Run {
    orders_per_s: f64,
    orders: f64,
    /// CPU seconds while placing, and while delivering and counting what was left afterwards.
    cpu_placing: f64,
    cpu_after: f64,
    /// Of `cpu_after`, each thread name's (the receiver's is `bench-receiver`).
    after_by_thread: std::collections::BTreeMap<String, f64>,
    /// Deliveries made while placing.
    during: u64,
}

impl Run {
    fn line(&self, worker: bool) -> String {
        format!(
            "{:<19} {:>5.0} orders/s, {:>5} deliveries meanwhile; CPU per order {:>5.0} µs placing + {:>4.0} µs delivering and counting afterwards (of which the receiver {:>3.0} µs)",
            if worker { "with the worker:" } else { "without the worker:" },
            self.orders_per_s,
            self.during,
            self.cpu_placing / self.orders * 1e6,
            self.cpu_after / self.orders * 1e6,
            self.receiver_cpu() / self.orders * 1e6
        )
    }

    fn receiver_cpu(&self) -> f64 {
        self.after_by_thread.get("bench-receiver").copied().unwrap_or(0.0)
    }
}

/// The SKU of an order's `k`-th line (of ten): with no repertoire, any of the 100,000 products (an
/// account's month then gathers thousands of products, each a row the worker's who-buys-what
/// recount writes: the rollup's worst case); with one, one of the `repertoire` products the
/// order's account buys (a distributor's customers reorder what they bought before).
fn line_sku(order: usize, k: usize, accounts: usize, repertoire: usize) -> String {
    let n = if repertoire == 0 {
        (order * 10 + k) * 7919 % 100_000
    } else {
        let account = order % accounts;
        (account * repertoire + (order / accounts * 10 + k) % repertoire) * 7919 % 100_000
    };
    format!("SKU-{n:06}")
}

/// Orders placed in `secs` seconds at `concurrency`.
async fn place_for(db: &Db, accounts: &Arc<Vec<String>>, secs: u64, concurrency: usize, seed: usize) -> usize {
    let repertoire = std::env::var("REPERTOIRE").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
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
                let lines = (0..10).map(|k| LineInput::sku(&line_sku(i, k, accounts.len(), repertoire), 1)).collect();
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

    let (hook, hits) = receiver();
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

    // 2. Placement with and without the worker, in the order A B B A A B … so that a drift over
    //    the run (the database growing, the machine's other load) weighs on both alike, after one
    //    warm-up run that is not counted.
    let only_orders = EndpointInput { event_types: "order.placed".into(), url: input.url.clone(), ..input };
    webhooks::update_endpoint(&db, now, &actor, &endpoint.id, &only_orders, &allow).await.expect("subscribe");
    let mut seed = place_for(&db, &accounts, secs.min(5), 16, 0).await + 1;
    let (stop, worker) = portico::jobs::spawn(db.clone(), cfg.clone(), metrics.clone());
    wait_drained(&db).await;
    let _ = stop.send(true);
    worker.await.unwrap();
    let mut without: Vec<Run> = Vec::new();
    let mut with: Vec<Run> = Vec::new();
    for i in 0..rounds * 2 {
        let worker_runs = matches!(i % 4, 1 | 2);
        let cpu = cpu_seconds();
        let hits_before = hits.load(Ordering::Relaxed);
        let running = worker_runs.then(|| portico::jobs::spawn(db.clone(), cfg.clone(), metrics.clone()));
        let n = place_for(&db, &accounts, secs, 16, seed).await;
        seed += n + 1;
        let during = hits.load(Ordering::Relaxed) - hits_before;
        let cpu_placing = cpu_seconds() - cpu;
        // What is left to deliver is delivered before the next run; its CPU counts against the
        // run whose orders queued it: with the worker, as part of the cost of placing with it;
        // without, as the worker's own cost apart from any contention.
        let (cpu, threads) = (cpu_seconds(), threads_cpu());
        let (stop, worker) = match running {
            Some(r) => r,
            None => portico::jobs::spawn(db.clone(), cfg.clone(), metrics.clone()),
        };
        wait_drained(&db).await;
        let _ = stop.send(true);
        worker.await.unwrap();
        let (cpu_after, after_by_thread) = (cpu_seconds() - cpu, threads_since(&threads));
        let run = Run {
            orders_per_s: n as f64 / secs as f64,
            orders: n as f64,
            cpu_placing,
            cpu_after,
            after_by_thread,
            during,
        };
        println!("{}", run.line(worker_runs));
        if worker_runs { with.push(run) } else { without.push(run) }
    }
    let mean = |v: &[Run], f: fn(&Run) -> f64| v.iter().map(f).sum::<f64>() / v.len() as f64;
    let (a, b) = (mean(&without, |r| r.orders_per_s), mean(&with, |r| r.orders_per_s));
    println!(
        "placement over {rounds} runs each: {a:.0} orders/s without the worker, {b:.0} with it: {:+.1} %",
        (b - a) / a * 100.0
    );
    let per_order =
        |v: &[Run], f: fn(&Run) -> f64| v.iter().map(f).sum::<f64>() / v.iter().map(|r| r.orders).sum::<f64>() * 1e6;
    let (placing, delivering) = (per_order(&without, |r| r.cpu_placing), per_order(&without, |r| r.cpu_after));
    let together = per_order(&with, |r| r.cpu_placing + r.cpu_after);
    // Where the CPU is the limit (it is here: placement keeps the machine's cores busy), what the
    // worker spends is what placement loses.
    println!(
        "CPU per order: placing {placing:.0} µs; delivering its event and counting it afterwards {delivering:.0} µs ({:.1} % of placing, \
         so {:+.1} % orders/s where the CPU is the limit); placing with the worker running, everything included, {together:.0} µs",
        delivering / placing * 100.0,
        -delivering / (placing + delivering) * 100.0,
    );
    // The receiver stands for the ERP, which runs on a machine of its own: Portico's worker costs
    // placement what is left.
    let own = delivering - per_order(&without, |r| r.receiver_cpu());
    println!(
        "without the receiver's {:.0} µs: the worker's own {own:.0} µs per order ({:.1} % of placing, so {:+.1} % orders/s where the CPU is the limit)",
        delivering - own,
        own / placing * 100.0,
        -own / (placing + own) * 100.0,
    );
    // Where it goes: each thread's CPU per order while the worker delivered and counted.
    let mut split: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for (name, secs) in without.iter().flat_map(|r| &r.after_by_thread) {
        *split.entry(name).or_insert(0.0) += secs;
    }
    let orders: f64 = without.iter().map(|r| r.orders).sum();
    let mut split: Vec<(&str, f64)> = split.into_iter().filter(|(_, secs)| *secs > 0.0).collect();
    split.sort_by(|a, b| b.1.total_cmp(&a.1));
    let split: Vec<String> = split.iter().map(|(name, secs)| format!("{name} {:.0} µs", secs / orders * 1e6)).collect();
    println!("delivering and counting, by thread: {}", split.join(", "));
    db.close().await;
}
