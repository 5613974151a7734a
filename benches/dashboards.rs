//! Dashboards on a generated history: ORDERS orders (default 1,000,000, 1–4 lines each) over the
//! last two years across every channel, from ACCOUNTS accounts (default 5,000) owned by 50 reps,
//! 1,000 products, written by the loader `portico demo --scale large` uses
//! (`demo::history_scale`), which rebuilds the rollups from them. Prints each
//! dashboard's time (median of 5 runs) for an admin (the whole seller) and for one rep (their
//! book) — the service call the page and the API make, without HTTP and HTML.
//!
//!   cargo bench --bench dashboards                              # a fresh /tmp/portico-dash-bench.db
//!   ORDERS=100000 cargo bench --bench dashboards                # smaller
//!   PORTICO_BENCH_URL=postgres://…/dash_bench cargo bench --bench dashboards   # an empty database
//!   REUSE=1 cargo bench --bench dashboards                      # time again without generating
//!   REUSE=1 REP_EMAIL=rosa.martinez@meridian-supply.example \
//!     PORTICO_BENCH_URL=sqlite:///tmp/copy-of-the-large-demo.db cargo bench --bench dashboards
//!
//! Generation writes rows directly (bulk inserts), not through the pipeline: it is setup, not timed.
//! Also times a rep's statement of this month (the last two months' orders invoiced and accrued,
//! by INSERT … SELECT) and the worker's counting of amended orders into who buys what (RECOUNTS
//! orders, default 2,000), the cost that keeps that rollup off the order's transaction.

use portico::demo::history_scale::{self, Customer, HistorySize, Item};
use portico::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use portico::domain::auth::{Principal, StaffRole};
use portico::domain::money::Money;
use portico::service::Actor;
use portico::service::dashboards::{self, Filter};
use portico::store::{Db, accounts, new_id, products, users};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REPS: usize = 50;
const PRODUCTS: usize = 1_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run makes the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

async fn generate(db: &Db, now: i64, n_orders: usize, n_accounts: usize) -> Vec<String> {
    let started = Instant::now();
    let reps: Vec<String> = (0..REPS).map(|_| new_id()).collect();
    let account_ids: Vec<String> = (0..n_accounts).map(|_| new_id()).collect();
    let product_ids: Vec<String> = (0..PRODUCTS).map(|_| new_id()).collect();
    let (r, a, p) = (reps.clone(), account_ids.clone(), product_ids.clone());
    db.write((r, a, p), move |tx, (reps, account_ids, product_ids)| {
        Box::pin(async move {
            for (i, id) in reps.iter().enumerate() {
                let email = format!("rep{i}@bench.test");
                let name = format!("Rep {i}");
                let u = users::NewUser {
                    id,
                    email: &email,
                    name: &name,
                    phone: "",
                    kind: "staff",
                    roles: "sales_rep",
                    account_id: None,
                    password_hash: None,
                    now,
                };
                users::insert(tx, &u).await?;
            }
            for (i, id) in account_ids.iter().enumerate() {
                let draft = AccountDraft {
                    name: format!("Bench Account {i:05}"),
                    status: AccountStatus::Active,
                    ownership_mode: OwnershipMode::Hybrid,
                    owner_rep_id: Some(reps[i % REPS].clone()),
                    terms: PaymentTerms::Net(30),
                    credit_limit: Money::ZERO,
                    po_required: false,
                    external_id: None,
                    phone: String::new(),
                    bill_to: Address {
                        line1: "1 Bench Way".into(),
                        line2: String::new(),
                        city: "Chicago".into(),
                        region: "IL".into(),
                        postal_code: "60601".into(),
                        country: "US".into(),
                    },
                };
                accounts::insert(tx, id, &format!("B-{i:05}"), &draft, now).await?;
            }
            for (i, id) in product_ids.iter().enumerate() {
                let input = products::ProductInput::new(&format!("BEN-{i:04}"), &format!("Bench product {i}"));
                products::upsert(tx, id, &input, now).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
    })
    .await
    .expect("reps, accounts, products");
    // The order history, with the loader `portico demo --scale large` uses.
    let customers: Vec<Customer> = account_ids
        .iter()
        .enumerate()
        .map(|(i, id)| Customer { id: id.clone(), owner_rep_id: Some(reps[i % REPS].clone()) })
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let items: Vec<Item> = product_ids
        .iter()
        .enumerate()
        .map(|(i, id)| Item {
            id: id.clone(),
            sku: format!("BEN-{i:04}"),
            name: format!("Bench product {i}"),
            unit_price: 10_000 * (1 + rng.below(200) as i64),
        })
        .collect();
    let size = HistorySize { orders: n_orders, ..history_scale::LARGE };
    history_scale::seed(db, now, &size, &customers, &items).await.expect("order history");
    eprintln!("  generated in {:.1} s", started.elapsed().as_secs_f64());
    reps
}

/// The reps' statements: the last two months' closed orders invoiced (no tax) and each accrued at
/// 5 % for its owning rep, one entry per invoice and a line per invoice line, written with
/// INSERT … SELECT (setup, as the history is: the accrual rules are tested elsewhere). Once per
/// database (a reused one may predate it).
async fn invoice_and_accrue(db: &Db, now: i64) {
    let done = portico::on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM commission_plans WHERE id = 'bench-plan'"
    )
    .fetch_one(c)
    .await)
    .expect("plans");
    if done > 0 {
        return;
    }
    let started = Instant::now();
    let since = now - 62 * 86_400;
    db.write(since, |tx, since| {
        let since = *since;
        Box::pin(async move {
            let day = if tx.is_sqlite() {
                "strftime('%Y-%m-%d', o.placed_at, 'unixepoch')"
            } else {
                "to_char(to_timestamp(o.placed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            };
            tx.execute(
                "INSERT INTO commission_plans (id, name, effective_from, default_rate_ppm, basis, rules, created_at, updated_at)
                 VALUES ('bench-plan', 'Bench 5 %', '2000-01-01', 50000, 'invoiced', '{}', 0, 0)",
                Vec::new(),
            )
            .await?;
            tx.execute(
                &format!(
                    "INSERT INTO invoices (id, number, kind, account_id, order_id, issued_on, due_on, terms, bill_to, ship_to,
                         subtotal, tax, total, status, paid, created_at)
                     SELECT 'inv-' || o.id, 'BI-' || o.number, 'invoice', o.account_id, o.id, {day}, {day}, 'Net 30', '', '',
                         o.subtotal, 0, o.subtotal, 'paid', o.subtotal, o.placed_at
                       FROM orders o WHERE o.placed_at >= $1 AND o.status = 'closed' AND o.owner_rep_id IS NOT NULL"
                ),
                portico::args![since],
            )
            .await?;
            tx.execute(
                "INSERT INTO invoice_lines (invoice_id, line_no, order_line_no, sku, name, quantity, unit_price, net)
                 SELECT i.id, l.line_no, l.line_no, l.sku, l.name, l.quantity, l.unit_price, l.line_total
                   FROM invoices i JOIN order_lines l ON l.order_id = i.order_id WHERE i.number LIKE 'BI-%'",
                Vec::new(),
            )
            .await?;
            tx.execute(
                "INSERT INTO commission_entries (id, rep_id, period, plan_id, invoice_id, created_at)
                 SELECT 'ce-' || i.id, o.owner_rep_id, substr(i.issued_on, 1, 7), 'bench-plan', i.id, i.created_at
                   FROM invoices i JOIN orders o ON o.id = i.order_id WHERE i.number LIKE 'BI-%'",
                Vec::new(),
            )
            .await?;
            tx.execute(
                "INSERT INTO commission_entry_lines (entry_id, line_no, category, base, rate_ppm, rule, amount)
                 SELECT 'ce-' || l.invoice_id, l.line_no, '', l.net, 50000, 'default', l.net / 20
                   FROM invoice_lines l WHERE l.invoice_id LIKE 'inv-%'",
                Vec::new(),
            )
            .await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .await
    .expect("invoices and accruals");
    db.analyze().await.expect("analyze");
    eprintln!("  two months invoiced and accrued in {:.1} s", started.elapsed().as_secs_f64());
}

async fn time<F, Fut, T>(label: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let _ = f().await;
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    runs.sort_by(f64::total_cmp);
    println!("{label:<44} {:>8.1} ms  (min {:.1}, max {:.1})", runs[2], runs[0], runs[4]);
}

#[tokio::main]
async fn main() {
    let url = std::env::var("PORTICO_BENCH_URL").unwrap_or_else(|_| "sqlite:///tmp/portico-dash-bench.db".into());
    let reuse = std::env::var("REUSE").is_ok();
    // The rep whose book and statement are timed (a reused database, e.g. a copy of the large
    // demo's: REP_EMAIL=rosa.martinez@meridian-supply.example).
    let rep_email = std::env::var("REP_EMAIL").unwrap_or_else(|_| "rep0@bench.test".into());
    if url.starts_with("sqlite://") && !reuse {
        let path = url.trim_start_matches("sqlite://");
        for file in portico::store::database_files(std::path::Path::new(path)) {
            let _ = std::fs::remove_file(file);
        }
    }
    let db = Db::connect(&url).await.expect("database");
    db.migrate().await.expect("migrations");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (n_orders, n_accounts) = (env("ORDERS", 1_000_000), env("ACCOUNTS", 5_000));
    let rep_id = if reuse {
        portico::on_db!(&db, |c| sqlx::query_scalar::<_, String>("SELECT id FROM users WHERE email = $1")
            .bind(&rep_email)
            .fetch_one(c)
            .await)
        .expect("a generated database")
    } else {
        eprintln!("generating {n_orders} orders from {n_accounts} accounts on {}", db.backend());
        generate(&db, now, n_orders, n_accounts).await.remove(0)
    };
    invoice_and_accrue(&db, now).await;
    // The worker's first pass sums the windows (a database made before them has none yet).
    while dashboards::count_products(&db, now, portico::jobs::PRODUCT_RECOUNTS).await.expect("windows") > 0 {}
    let admin = Principal::staff("bench-admin".into(), "Bench".into(), String::new(), vec![StaffRole::Admin]);
    let rep = Principal::staff(rep_id.clone(), "Rep 0".into(), String::new(), vec![StaffRole::SalesRep]);
    let all = Filter::default();
    for (who, p) in [("admin", &admin), ("rep", &rep)] {
        let actor = Actor::web(p);
        time(&format!("{who}: orders by channel, 12 months"), || dashboards::channels(&db, now, &actor, &all, 12))
            .await;
        time(&format!("{who}: orders by channel, 24 months"), || dashboards::channels(&db, now, &actor, &all, 24))
            .await;
        time(&format!("{who}: self-service adoption, 12 months"), || dashboards::adoption(&db, now, &actor, &all, 12))
            .await;
        time(&format!("{who}: self-service adoption, 24 months"), || dashboards::adoption(&db, now, &actor, &all, 24))
            .await;
        time(&format!("{who}: reorders / stopped ordering"), || dashboards::rhythms(&db, now, &actor, &all)).await;
        time(&format!("{who}: abandoned carts"), || dashboards::abandoned_carts(&db, now, &actor, &all)).await;
        time(&format!("{who}: who buys what, 12 months"), || dashboards::products(&db, now, &actor, &all, 12)).await;
    }
    // A rep's statements of last month and this one: totals and the first page of lines (what
    // the page shows), and every line (the CSV export).
    let actor = Actor::web(&rep);
    let this = portico::service::commissions::this_period(now);
    for period in [portico::domain::commissions::previous_period(&this), this] {
        let lines = portico::service::commissions::statement_lines(&db, &actor, &rep_id, &period, None, 100_000)
            .await
            .map(|l| l.len())
            .unwrap_or(0);
        time(&format!("rep: statement of {period} ({lines} lines), page"), || async {
            let s = portico::service::commissions::statement(&db, &actor, &rep_id, &period).await;
            let l = portico::service::commissions::statement_lines(&db, &actor, &rep_id, &period, None, 201).await;
            (s.is_ok(), l.map(|l| l.len()))
        })
        .await;
        time(&format!("rep: statement of {period}, every line (CSV)"), || {
            portico::service::commissions::statement_lines(&db, &actor, &rep_id, &period, None, 100_000)
        })
        .await;
    }
    // The worker's counting of who buys what, order by order: RECOUNTS of this month's orders
    // counted as if each had been amended (what was counted of each line moved by one unit, then
    // the orders marked), and again with the unit moved back, so the rollup ends as it began.
    let recounts = env("RECOUNTS", 2_000) as i64;
    let month = portico::domain::dashboards::month_of(now);
    let mut counted = 0;
    let mut took = std::time::Duration::ZERO;
    for step in [1, -1] {
        // What was counted is in the rollup (on SQLite its own file, with its own writer); the
        // marks are beside the orders.
        let chosen: Vec<String> = db
            .write_rollup((month.clone(), recounts), move |tx, (month, n)| {
                Box::pin(async move {
                    #[derive(serde::Deserialize)]
                    struct Counted {
                        order_id: String,
                        products: String,
                    }
                    let first = portico::domain::dashboards::month_bounds(month).map(|b| b.0).unwrap_or(0);
                    let rows: Vec<Counted> = tx
                        .fetch_all(
                            &format!(
                                "SELECT c.order_id, c.products FROM order_product_counts c JOIN orders o ON o.id = c.order_id
                                  WHERE o.placed_at >= {first} ORDER BY c.order_id LIMIT {n}"
                            ),
                            Vec::new(),
                        )
                        .await?;
                    let mut ids = Vec::with_capacity(rows.len());
                    for r in rows {
                        let mut counts = portico::domain::dashboards::unpack_counts(&r.order_id, &r.products)
                            .map_err(|e| sqlx::Error::Decode(e.into()))?;
                        for c in &mut counts {
                            c.quantity += step;
                        }
                        let packed = portico::domain::dashboards::pack_counts(&counts);
                        tx.execute(
                            "UPDATE order_product_counts SET products = $1 WHERE order_id = $2",
                            portico::args![packed.as_str(), r.order_id.as_str()],
                        )
                        .await?;
                        ids.push(r.order_id);
                    }
                    Ok::<_, sqlx::Error>(ids)
                })
            })
            .await
            .expect("counts moved");
        db.write((month.clone(), chosen), |tx, (month, chosen)| {
            Box::pin(async move {
                for ids in chosen.chunks(500) {
                    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
                    let mut args = portico::args![month.as_str()];
                    args.extend(ids.iter().map(|id| portico::store::Cell::text(id)));
                    tx.execute(
                        &format!(
                            "INSERT INTO product_rollup_orders (order_id, account_id, month, seq, due_at)
                             SELECT id, account_id, $1, 1, 0 FROM orders WHERE id IN ({})",
                            list.join(", ")
                        ),
                        args,
                    )
                    .await?;
                }
                Ok::<_, sqlx::Error>(())
            })
        })
        .await
        .expect("marks");
        let started = Instant::now();
        loop {
            let n = dashboards::count_products(&db, now, portico::jobs::PRODUCT_RECOUNTS).await.expect("count");
            if n == 0 {
                break;
            }
            counted += n;
        }
        took += started.elapsed();
    }
    println!(
        "{:<44} {:>8.1} µs per order ({counted} counted, {:.0} ms in all)",
        "worker: an amended order into who buys what",
        took.as_secs_f64() * 1e6 / counted.max(1) as f64,
        took.as_secs_f64() * 1e3
    );
    db.close().await;
}
