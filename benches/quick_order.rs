//! Server time of a 500-line quick order — parse + price + validate, the part of the request the
//! issue's 20 ms target is about — on the large benchmark dataset, without HTTP or page rendering.
//! Also times the same lines as a batch price quote.
//!
//!   cargo bench --bench quick_order                       # /tmp/portico-bench.db (bench/run.sh sqlite seeds it)
//!   PORTICO_BENCH_URL=postgres://…/portico_bench cargo bench --bench quick_order
//!
//! Prints p50 / p99 / mean over 200 runs after 20 warm-up runs.

use portico::domain::auth::{Principal, StaffRole};
use portico::domain::orders::parse_paste;
use portico::service::Actor;
use portico::service::catalog;
use portico::service::orders::{LineInput, evaluate};
use portico::store::Db;
use std::time::{Duration, Instant};

const RUNS: usize = 200;

// The allocator the server runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    println!(
        "{label}: p50 {:.2} ms  p99 {:.2} ms  mean {mean:.2} ms  ({} runs)",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
        times.len()
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("PORTICO_BENCH_URL").unwrap_or_else(|_| "sqlite:///tmp/portico-bench.db".into());
    let db = match Db::connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open {url} ({e}); seed it with bench/run.sh first");
            std::process::exit(2);
        }
    };
    let account = portico::store::accounts::find_by_reference(&db, "S-00007")
        .await
        .expect("query")
        .expect("the large dataset (account S-00007): seed it with bench/run.sh first");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The same paste bench/run.sh posts: 500 lines, SKU <tab> quantity.
    let text: String = (0..500).map(|i| format!("SKU-{:06}\t{}\n", i * 997 % 100_000, 1 + i % 5)).collect();

    let mut times = Vec::with_capacity(RUNS);
    let mut priced = 0;
    for run in 0..RUNS + 20 {
        let started = Instant::now();
        let paste = parse_paste(&text);
        let inputs: Vec<LineInput> = paste.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)).collect();
        let eval = evaluate(&db, now, &account.id, &inputs).await.expect("evaluate");
        if run >= 20 {
            times.push(started.elapsed());
        }
        priced = eval.lines.len();
    }
    println!("backend={}  account S-00007  {priced} of 500 lines priced", db.backend());
    report("quick order, 500 lines: parse + price + validate", times);

    let admin = Principal::staff("bench".into(), "Bench".into(), String::new(), vec![StaffRole::Admin]);
    let actor = Actor::api(&admin);
    let lines: Vec<(String, i64)> =
        (0..500).map(|i| (format!("SKU-{:06}", i * 199 % 100_000), 1 + i as i64 % 60)).collect();
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..RUNS + 20 {
        let started = Instant::now();
        let quote = catalog::quote(&db, now, &actor, &account.id, &lines).await.expect("quote");
        assert_eq!(quote.len(), 500);
        if run >= 20 {
            times.push(started.elapsed());
        }
    }
    report("price quote, 500 lines (service, no HTTP)", times);
}
