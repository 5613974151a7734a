//! Invoice generation on the large benchmark dataset: 10,000 confirmed orders (3 lines each, over
//! 100 accounts) are shipped in full, 16 at a time, through the service — each shipment consumes
//! its stock and writes its invoice (numbered, taxed, due by the terms) and the account's exposure
//! in one unit of work. Prints invoices/s and the per-shipment p50/p99. Setup (placing and
//! confirming the orders) is not timed.
//!
//!   cargo bench --bench invoicing                         # /tmp/portico-bench.db (bench/run.sh sqlite seeds it)
//!   PORTICO_BENCH_URL=postgres://…/portico_bench cargo bench --bench invoicing
//!   ORDERS=2000 cargo bench --bench invoicing             # fewer orders
//!   CONCURRENCY=32 cargo bench --bench invoicing          # shipments in flight at once (default 16)
//!
//! It writes to the database it is given: bench/run.sh restores the SQLite copy before each run.

use portico::domain::auth::{Principal, StaffRole};
use portico::service::Actor;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::store::Db;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Shipments in flight at once unless `CONCURRENCY` says otherwise.
const DEFAULT_CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let url = std::env::var("PORTICO_BENCH_URL").unwrap_or_else(|_| "sqlite:///tmp/portico-bench.db".into());
    let n: usize = std::env::var("ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = std::env::var("CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|c| *c > 0)
        .unwrap_or(DEFAULT_CONCURRENCY);
    let db = match Db::connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open {url} ({e}); seed it with bench/run.sh first");
            std::process::exit(2);
        }
    };
    db.migrate().await.expect("migrations");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let admin = Principal::staff("bench".into(), "Bench".into(), String::new(), vec![StaffRole::Admin]);
    let accounts = support::accounts_without_limits(&db, 100..200).await;

    // Setup: place and confirm the orders.
    let started = Instant::now();
    let placed = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (db, admin, accounts, placed, next) =
            (db.clone(), admin.clone(), accounts.clone(), placed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::api(&admin);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let lines =
                    (0..3).map(|k| LineInput::sku(&format!("SKU-{:06}", (i * 3 + k) * 7919 % 100_000), 1)).collect();
                let req = PlaceOrder {
                    account_id: accounts[i % accounts.len()].clone(),
                    lines,
                    header: OrderHeader::default(),
                    clear_cart: false,
                };
                let order = match orders::place_order(&db, now, &actor, &req, None, |o, _| (201, o.id.clone())).await {
                    Ok(Placement::Placed { order, .. }) => order,
                    Ok(_) => continue,
                    Err(e) => {
                        eprintln!("order {i} not placed: {e:?}");
                        continue;
                    }
                };
                orders::confirm_order(&db, now, &actor, &order.id, None).await.expect("confirm");
                placed.lock().unwrap().push(order.id);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ids: Vec<String> = std::mem::take(&mut *placed.lock().unwrap());
    println!(
        "backend={}  setup: {} orders placed and confirmed in {:.1} s",
        db.backend(),
        ids.len(),
        started.elapsed().as_secs_f64()
    );

    // Timed: ship each order in full (one shipment per warehouse it holds stock in).
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let shipments = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
    let invoices_before = count_invoices(&db).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (db, admin, ids, next, shipments, times) =
            (db.clone(), admin.clone(), ids.clone(), next.clone(), shipments.clone(), times.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::api(&admin);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ids.len() {
                    break;
                }
                for (warehouse, lines) in portico::store::orders::holdings(&db, &ids[i]).await.expect("holdings") {
                    let input = ShipmentInput {
                        warehouse,
                        lines,
                        carrier: "UPS".into(),
                        tracking_number: format!("1Z{i:08}"),
                        shipped_on: None,
                        external_id: None,
                    };
                    let t = Instant::now();
                    orders::record_shipment(&db, now, &actor, &ids[i], &input).await.expect("shipment");
                    times.lock().unwrap().push(t.elapsed());
                    shipments.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let invoices = count_invoices(&db).await - invoices_before;
    let mut times = std::mem::take(&mut *times.lock().unwrap());
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "shipments: {} in {elapsed:.2} s; invoices written: {invoices} = {:.0} invoices/s; per shipment p50 {:.2} ms  p99 {:.2} ms (concurrency {concurrency})",
        shipments.load(Ordering::Relaxed),
        invoices as f64 / elapsed,
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
    );
}

async fn count_invoices(db: &Db) -> i64 {
    db.read_text("SELECT CAST(COUNT(*) AS TEXT) FROM invoices", &[])
        .await
        .expect("count")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
