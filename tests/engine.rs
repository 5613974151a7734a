//! The engine under faults: clients that hang up mid-order never wedge a write or strand an
//! Idempotency-Key; amendments that swap products never deadlock; readiness tells the truth about
//! writes. On SQLite by default, on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::TestApp;
use portico::domain::auth::{Scope, StaffRole};
use portico::domain::catalog::{BackorderPolicy, QuantityRules};
use portico::service::Actor;
use portico::service::orders::{self, Amendment, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::store::products::ProductInput;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `n` products SKU-000…, each priced 1.00 with `stock` on hand (backorders allowed on every
/// third), in a default catalog; an account with a ship-to; returns the account id.
async fn catalog(app: &TestApp, n: usize, stock: i64) -> String {
    let account = app.account("Hangup Clinic", None).await;
    let products = (0..n)
        .map(|i| {
            let sku = format!("SKU-{i:03}");
            let input = ProductInput {
                rules: QuantityRules::default(),
                backorder: if i % 3 == 0 { BackorderPolicy::Allow } else { BackorderPolicy::Deny },
                ..ProductInput::new(&sku, &format!("Product {sku}"))
            };
            (input, "1.00", stock)
        })
        .collect();
    common::sell(app.db(), app.now(), products).await;
    account
}

async fn api_token(app: &TestApp) -> String {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let p = admin.principal().unwrap();
    portico::service::api_tokens::create(
        app.db(),
        app.now(),
        &Actor::web(&p),
        "ERP",
        &[Scope::OrdersWrite, Scope::OrdersRead],
    )
    .await
    .unwrap()
    .1
}

/// Serves the app on a real socket (hang-ups need one); the server stops with the test.
async fn serve(app: &TestApp) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = portico::build_router(app.state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

fn order_request(port: u16, token: &str, key: &str, body: &str) -> String {
    format!(
        "POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends a request and reads the whole answer: (status, body).
async fn http(port: u16, raw: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), body.to_string())
}

/// Sends a request and hangs up `after` later, without reading the answer.
async fn hang_up(port: u16, raw: &str, after: Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    tokio::time::sleep(after).await;
    drop(s);
}

/// A small deterministic generator for the test's choices.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

fn lines_body(account: &str, rng: &mut Rng, count: usize) -> String {
    let lines: Vec<_> = (0..count)
        .map(|i| json!({ "sku": format!("SKU-{:03}", (i * 7 + rng.below(60) as usize) % 60), "quantity": 1 + rng.below(3) }))
        .collect();
    json!({ "account": account, "lines": lines }).to_string()
}

/// The scenario: eight clients place API orders with Idempotency-Keys while four others
/// send 20–60-line orders and close the socket 0–30 ms later. Afterwards every well-behaved
/// request succeeded, the write path is free, readiness is true, and no key stays in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_hang_up_mid_order_never_wedge_writes_or_strand_keys() {
    let app = TestApp::new().await;
    let account = catalog(&app, 60, 1_000_000).await;
    let token = api_token(&app).await;
    let port = serve(&app).await;
    let until = std::time::Instant::now() + Duration::from_secs(4);

    let mut good = Vec::new();
    for c in 0..8u64 {
        let (token, account) = (token.clone(), account.clone());
        good.push(tokio::spawn(async move {
            let mut rng = Rng(c);
            let mut statuses = Vec::new();
            let mut n = 0;
            while std::time::Instant::now() < until {
                let body = lines_body(&account, &mut rng, 10);
                let (status, answer) = http(port, &order_request(port, &token, &format!("good-{c}-{n}"), &body)).await;
                statuses.push((status, answer));
                n += 1;
            }
            statuses
        }));
    }
    let mut rude = Vec::new();
    for c in 0..4u64 {
        let (token, account) = (token.clone(), account.clone());
        rude.push(tokio::spawn(async move {
            let mut rng = Rng(100 + c);
            let mut sent = Vec::new();
            let mut n = 0;
            while std::time::Instant::now() < until {
                let count = 20 + rng.below(41) as usize;
                let body = lines_body(&account, &mut rng, count);
                let key = format!("rude-{c}-{n}");
                hang_up(port, &order_request(port, &token, &key, &body), Duration::from_millis(rng.below(31))).await;
                sent.push((key, body));
                n += 1;
            }
            sent
        }));
    }
    let mut placed = 0;
    for t in good {
        for (status, body) in t.await.unwrap() {
            assert_eq!(status, 201, "a well-behaved order failed: {body}");
            placed += 1;
        }
    }
    let mut cut_off = Vec::new();
    for t in rude {
        cut_off.extend(t.await.unwrap());
    }
    assert!(placed > 0 && !cut_off.is_empty(), "the load ran ({placed} placed, {} cut off)", cut_off.len());

    // Units sent by cut-off requests run to their end; their keys' releases follow them.
    let mut in_flight = -1;
    for _ in 0..100 {
        in_flight = app.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'in_flight'").await;
        if in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(in_flight, 0, "no key stays in flight once the cut-off requests are gone");

    // The write path is free: readiness says so and new orders go through at once.
    let (status, body) = http(port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 200, "{body}");
    let mut rng = Rng(999);
    let body = lines_body(&account, &mut rng, 10);
    let (status, answer) = http(port, &order_request(port, &token, "after-the-storm", &body)).await;
    assert_eq!(status, 201, "{answer}");

    // Every cut-off key can be retried with its body: it either placed its order (replayed, once)
    // or placed nothing (placed now) — never "still in progress".
    for (key, body) in cut_off.iter().take(12) {
        let before = app.count("SELECT COUNT(*) FROM orders").await;
        let (status, answer) = http(port, &order_request(port, &token, key, body)).await;
        assert_eq!(status, 201, "retrying {key}: {answer}");
        let (again, replay) = http(port, &order_request(port, &token, key, body)).await;
        assert_eq!((again, replay), (201, answer.clone()), "a second retry of {key} replays the first answer");
        assert!(app.count("SELECT COUNT(*) FROM orders").await <= before + 1, "{key} placed at most one order");
    }
    let orders_without_a_key = app
        .count(
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.order_id = o.id)",
        )
        .await;
    assert_eq!(orders_without_a_key, 0, "every order was placed under exactly one completed key");
}

/// Two amendments that swap products (order 1 A → B while order 2 B → A), many times at once:
/// stock rows are locked in product order, old and new together, so neither waits for the other
/// crosswise (on PostgreSQL that was a deadlock, answered 500, in about 18 of 80 requests).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crossing_amendments_never_deadlock() {
    let app = TestApp::new().await;
    let account = catalog(&app, 4, 1_000_000).await;
    let desk = app.staff("Dora Desk", &[StaffRole::CustomerService]).await;
    let p = desk.principal().unwrap();
    let actor = Actor::web(&p);
    let mut ids = Vec::new();
    for sku in ["SKU-001", "SKU-002"] {
        let req = PlaceOrder {
            account_id: account.clone(),
            lines: vec![LineInput::sku(sku, 1)],
            header: OrderHeader::default(),
            clear_cart: false,
        };
        let Placement::Placed { order, .. } =
            orders::place_order(app.db(), app.now(), &actor, &req, None, |o, _| (201, o.id.clone())).await.unwrap()
        else {
            panic!("placed")
        };
        ids.push(order.id);
    }
    // A second handle on the database: on PostgreSQL another pool, as a second app node has.
    let other = portico::store::Db::connect(&app.url).await.unwrap();
    let mut tasks = Vec::new();
    for (t, id) in ids.iter().enumerate() {
        let db = if t == 0 { app.db().clone() } else { other.clone() };
        let (id, p) = (id.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::web(&p);
            let mut failures = Vec::new();
            for round in 0..20 {
                let current = orders::get_order(&db, &actor, &id).await.unwrap();
                // Order 0 goes 001,002 → 002,001 …; order 1 the other way round.
                let (x, y) = if (round + t) % 2 == 0 { ("SKU-002", "SKU-001") } else { ("SKU-001", "SKU-002") };
                let a = Amendment {
                    expected_version: current.version,
                    lines: vec![LineInput::sku(x, 1 + round as i64), LineInput::sku(y, 1)],
                    header: OrderHeader::default(),
                    reason: format!("round {round}"),
                };
                if let Err(e) = orders::amend_order(&db, 1_000 + round as i64, &actor, &id, &a).await {
                    failures.push(format!("{e:?}"));
                }
            }
            failures
        }));
    }
    for t in tasks {
        let failures = t.await.unwrap();
        assert!(failures.is_empty(), "amendments failed: {failures:?}");
    }
    // Stock still adds up: what is reserved is what the two orders hold.
    let reserved = app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await;
    let held = app.count("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM order_allocations").await;
    assert_eq!(reserved, held);
    other.close().await;
}

/// `/readyz` answers 503 while the writer cannot write (another process holds SQLite's write
/// lock), and 200 again once it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_writes_cannot_be_made() {
    let app = TestApp::new().await;
    let port = serve(&app).await;
    let ready = || async move { http(port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await };
    assert_eq!(ready().await.0, 200);
    match app.db() {
        portico::store::Db::Sqlite(pool, ..) => {
            // Another process holds SQLite's write lock.
            let path = pool.connect_options().get_filename().to_path_buf();
            let (release, locked) = std::sync::mpsc::channel::<()>();
            let (hold, held) = std::sync::mpsc::channel::<()>();
            let holder = std::thread::spawn(move || {
                let c = rusqlite::Connection::open(&path).unwrap();
                c.execute_batch("BEGIN EXCLUSIVE").unwrap();
                hold.send(()).unwrap();
                let _ = locked.recv();
                c.execute_batch("COMMIT").unwrap();
            });
            held.recv().unwrap();
            let (status, body) = ready().await;
            assert_eq!(status, 503, "{body}");
            release.send(()).unwrap();
            holder.join().unwrap();
        }
        portico::store::Db::Postgres(pool) => {
            // Another session holds the table the probe writes.
            let mut other = pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE app_instances IN ACCESS EXCLUSIVE MODE").execute(&mut *other).await.unwrap();
            let (status, body) = ready().await;
            assert_eq!(status, 503, "{body}");
            other.rollback().await.unwrap();
        }
    }
    let mut status = 0;
    for _ in 0..100 {
        status = ready().await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "ready again once the lock is free");
}

/// Every quantity has a bound: a line of more than 1,000,000 units is refused naming the line and
/// the reason, on a backorderable product too (it once took every unit in stock); an amendment
/// keeps the 1,000-line limit a placement has.
#[tokio::test]
async fn quantities_and_line_counts_are_bounded_in_every_channel() {
    let app = TestApp::new().await;
    let account = catalog(&app, 4, 100).await;
    let token = api_token(&app).await;
    let port = serve(&app).await;
    for qty in [1_000_000_000_000i64, 1_000_001, i64::MAX] {
        // SKU-000 allows backorders.
        let body = json!({ "account": account, "lines": [{ "sku": "SKU-000", "quantity": qty }] }).to_string();
        let (status, answer) = http(port, &order_request(port, &token, &format!("big-{qty}"), &body)).await;
        assert_eq!(status, 422, "{qty}: {answer}");
        assert!(answer.contains("quantity_too_large") && answer.contains("1,000,000"), "{answer}");
    }
    // Two lines of the same product add up, and the sum is bounded too.
    let body = json!({ "account": account, "lines": [{ "sku": "SKU-000", "quantity": 600_000 }, { "sku": "SKU-000", "quantity": 600_000 }] }).to_string();
    let (status, answer) = http(port, &order_request(port, &token, "sum", &body)).await;
    assert_eq!((status, answer.contains("quantity_too_large")), (422, true), "{answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await, 0);
    // The largest line allowed is placed (backordered beyond stock).
    let body = json!({ "account": account, "lines": [{ "sku": "SKU-000", "quantity": 1_000_000 }] }).to_string();
    let (status, answer) = http(port, &order_request(port, &token, "max", &body)).await;
    assert_eq!(status, 201, "{answer}");

    let desk = app.staff("Dora Desk", &[StaffRole::CustomerService]).await;
    let p = desk.principal().unwrap();
    let actor = Actor::web(&p);
    let order: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    let current = orders::get_order(app.db(), &actor, &id).await.unwrap();
    let a = Amendment {
        expected_version: current.version,
        lines: (0..1_001).map(|_| LineInput::sku("SKU-001", 1)).collect(),
        header: OrderHeader::default(),
        reason: "too many".into(),
    };
    let err = orders::amend_order(app.db(), app.now(), &actor, &id, &a).await.unwrap_err();
    assert!(format!("{err:?}").contains("too_many_lines"), "{err:?}");
}

/// A key held by a process that stopped (crashed, killed) is taken over by the next retry at once,
/// without a fixed wait; a key held by a live process (its heartbeat fresh) is still in flight.
#[tokio::test]
async fn a_key_left_by_a_stopped_process_is_taken_over_at_once() {
    let app = TestApp::new().await;
    let account = catalog(&app, 4, 100).await;
    let token = api_token(&app).await;
    let port = serve(&app).await;
    let body = json!({ "account": account, "lines": [{ "sku": "SKU-001", "quantity": 1 }] }).to_string();
    // A real claim first: its scope and request hash are what the API uses for this token and body.
    let (status, _) = http(port, &order_request(port, &token, "probe", &body)).await;
    assert_eq!(status, 201);
    let scope: String = common::write(app.db(), |tx| {
        Box::pin(
            async move { tx.fetch_one("SELECT scope FROM idempotency_keys WHERE idem_key = 'probe'", vec![]).await },
        )
    })
    .await;
    let now = app.now();
    let (s1, s2) = (scope.clone(), scope.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let hash: String =
                tx.fetch_one("SELECT request_hash FROM idempotency_keys WHERE idem_key = 'probe'", vec![]).await?;
            // "dead": its process never beat (or stopped long ago); "live": beat just now.
            tx.execute(
                "INSERT INTO app_instances (id, started_at, seen_at) VALUES ('live-node', $1, $1), ('gone-node', $1, $2)",
                portico::args![now, now - 3_600],
            )
            .await?;
            for (key, owner) in [("dead", "gone-node"), ("live", "live-node")] {
                tx.execute(
                    "INSERT INTO idempotency_keys (scope, idem_key, request_hash, state, created_at, claim_id, owner_instance)
                     VALUES ($1, $2, $3, 'in_flight', $4, $5, $6)",
                    portico::args![if key == "dead" { &s1 } else { &s2 }, key, &hash, now, format!("claim-{key}"), owner],
                )
                .await?;
            }
            Ok(())
        })
    })
    .await;
    let (status, answer) = http(port, &order_request(port, &token, "dead", &body)).await;
    assert_eq!(status, 201, "the stopped process's claim is taken over: {answer}");
    let (status, answer) = http(port, &order_request(port, &token, "live", &body)).await;
    assert_eq!(status, 409, "a live process's claim is still in flight: {answer}");
}
