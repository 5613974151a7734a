//! Two `portico serve` processes on one database share sessions: a session made on one node works
//! on the other, and signing out on one ends it on both (nothing lives only in process memory).
//! Under `TEST_DATABASE_URL=postgres://…` this is two app nodes on one PostgreSQL.

mod common;

use common::{PASSWORD, TestApp};
use portico::domain::auth::StaffRole;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start(url: &str) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("PORTICO_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start portico");
    let node = Node { child, port };
    for _ in 0..100 {
        if let Ok((200, _, _)) = http(node.port, "GET", "/healthz", "", "").await {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node on port {port} did not become healthy");
}

/// A minimal HTTP/1.1 client: (status, raw headers, body).
async fn http(port: u16, method: &str, path: &str, cookie: &str, form: &str) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, head.to_string(), body.to_string()))
}

fn cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

fn meta_csrf(body: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_session_made_on_one_node_works_on_the_other() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let a = start(&app.url).await;
    let b = start(&app.url).await;

    // Sign in on node A, through its form.
    let (_, head, body) = http(a.port, "GET", "/login", "", "").await.unwrap();
    let pre = cookie(&head, "portico_csrf").unwrap();
    let form = serde_urlencoded::to_string([
        ("_csrf", meta_csrf(&body).as_str()),
        ("email", admin.email.as_str()),
        ("password", PASSWORD),
    ])
    .unwrap();
    let (status, head, _) = http(a.port, "POST", "/login", &format!("portico_csrf={pre}"), &form).await.unwrap();
    assert_eq!(status, 303);
    let session = format!("portico_session={}", cookie(&head, "portico_session").unwrap());

    // Node B knows the session, and accepts its CSRF token for a state change.
    let (status, _, body) = http(b.port, "GET", "/admin/staff", &session, "").await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Ada Admin"));
    let form = serde_urlencoded::to_string([
        ("_csrf", meta_csrf(&body).as_str()),
        ("name", "Node Bee"),
        ("email", "node.bee@seller.test"),
        ("role_finance", "1"),
    ])
    .unwrap();
    let (status, _, body) = http(b.port, "POST", "/admin/staff", &session, &form).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let (_, _, body) = http(a.port, "GET", "/admin/staff", &session, "").await.unwrap();
    assert!(body.contains("Node Bee"), "node A sees what node B wrote");

    // Sign out on B ends the session on A too.
    let (_, _, body) = http(b.port, "GET", "/admin/staff", &session, "").await.unwrap();
    let form = serde_urlencoded::to_string([("_csrf", meta_csrf(&body))]).unwrap();
    let (status, _, _) = http(b.port, "POST", "/logout", &session, &form).await.unwrap();
    assert_eq!(status, 303);
    let (status, head, _) = http(a.port, "GET", "/admin/staff", &session, "").await.unwrap();
    assert_eq!(status, 303);
    assert!(head.contains("location: /login"));
}

/// A JSON API `POST` over plain HTTP/1.1: (status, body).
async fn api_post(port: u16, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
    api_call(port, "POST", path, token, body).await
}

/// DESIGN.md invariant 5 with two app processes: 200 concurrent single-unit orders against 100
/// units, sent alternately to two nodes on one database — exactly 100 are placed, stock never
/// goes negative, every order number is unique. (Two nodes on one PostgreSQL under
/// `TEST_DATABASE_URL=postgres://…`; two processes on one SQLite file otherwise.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_never_oversell() {
    use portico::domain::auth::{Principal, Scope};
    use portico::domain::money::Money;
    use portico::store::products::{self, ProductInput};
    use portico::store::{catalogs, inventory, new_id, pricing};
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let account = app.account("Alpha Clinic", None).await;
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let product = products::upsert(tx, &new_id(), &ProductInput::new("ONE-1", "One"), now).await?;
            let base = new_id();
            let list = pricing::NewPriceList {
                id: &base,
                code: "BASE",
                name: "List",
                is_base: true,
                priority: 1000,
                valid_from: None,
                valid_to: None,
            };
            pricing::insert_price_list(tx, &list, now).await?;
            pricing::set_list_price(tx, &base, &product, 1, Money::parse("1.00").unwrap()).await?;
            catalogs::insert_catalog(tx, &new_id(), "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            let (w1, w2) = (new_id(), new_id());
            inventory::insert_warehouse(tx, &w1, "CHI", "Chicago", 0, now).await?;
            inventory::insert_warehouse(tx, &w2, "IND", "Indianapolis", 1, now).await?;
            let why = inventory::StockReason { reason: "count", actor_user_id: None, channel: "cli" };
            inventory::adjust_on_hand(tx, &product, &w1, 60, &why, now).await?;
            inventory::adjust_on_hand(tx, &product, &w2, 40, &why, now).await?;
            Ok(())
        })
    })
    .await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    let token = portico::service::api_tokens::create(
        app.db(),
        now,
        &portico::service::Actor::web(&p),
        "ERP",
        &[Scope::OrdersWrite],
    )
    .await
    .unwrap()
    .1;
    let nodes = [start(&app.url).await, start(&app.url).await];
    let body = format!(r#"{{"account":"{account}","lines":[{{"sku":"ONE-1","quantity":1}}]}}"#);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (port, token, body) = (nodes[i % 2].port, token.clone(), body.clone());
        tasks.push(tokio::spawn(async move { api_post(port, "/api/v1/orders", &token, &body).await.unwrap() }));
    }
    let (mut placed, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => placed += 1,
            (422, body) => {
                assert!(body.contains("out_of_stock"), "{body}");
                refused += 1;
            }
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!((placed, refused), (100, 100));
    assert_eq!(app.count("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_levels WHERE reserved > on_hand OR on_hand < 0").await, 0);
    assert_eq!(app.count("SELECT COUNT(DISTINCT number) FROM orders").await, 100);
}

/// An API call over plain HTTP/1.1 with any method: (status, body).
async fn api_call(port: u16, method: &str, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Ok((head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), body.to_string()))
}

/// The catalog cache is correct on every node: node A serves a buyer's catalog page from its
/// in-process cache; a contract price, a product's name and its stock changed through node B show
/// on node A's very next page (each change bumps the catalog version in its own transaction, or,
/// for stock, is read fresh).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_committed_on_one_node_is_never_served_stale_by_another() {
    use portico::domain::auth::{BuyerRole, Principal, Scope};
    use portico::store::products::ProductInput;
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let account = app.account("Alpha Clinic", None).await;
    let buyer = app.buyer(&account, "Ann Buyer", BuyerRole::Buyer).await;
    let number: String = {
        let a = portico::service::accounts::get_account(
            app.db(),
            &portico::service::Actor::web(&Principal::staff(
                admin.id.clone(),
                admin.name.clone(),
                admin.email.clone(),
                vec![StaffRole::Admin],
            )),
            &account,
        )
        .await
        .unwrap();
        a.number
    };
    let now = app.now();
    common::sell(app.db(), now, vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "12.34", 7)]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    let token = portico::service::api_tokens::create(
        app.db(),
        now,
        &portico::service::Actor::web(&p),
        "ERP",
        &[Scope::PricingWrite, Scope::CatalogWrite, Scope::StockWrite],
    )
    .await
    .unwrap()
    .1;
    let (a, b) = (start(&app.url).await, start(&app.url).await);

    // The buyer signs in on node A and looks at the catalog twice (the second from the cache).
    let (_, head, body) = http(a.port, "GET", "/login", "", "").await.unwrap();
    let pre = cookie(&head, "portico_csrf").unwrap();
    let form = serde_urlencoded::to_string([
        ("_csrf", meta_csrf(&body).as_str()),
        ("email", buyer.email.as_str()),
        ("password", PASSWORD),
    ])
    .unwrap();
    let (status, head, _) = http(a.port, "POST", "/login", &format!("portico_csrf={pre}"), &form).await.unwrap();
    assert_eq!(status, 303);
    let session = format!("portico_session={}", cookie(&head, "portico_session").unwrap());
    for _ in 0..2 {
        let (status, _, body) = http(a.port, "GET", "/portal/catalog", &session, "").await.unwrap();
        assert_eq!(status, 200);
        assert!(body.contains(r#"<span class="price">$12.34</span>"#), "{body}");
        assert!(body.contains("Nitrile Gloves") && body.contains("Low: 7 left"), "{body}");
    }

    // A contract price, set through node B, shows on node A's next page.
    let doc = format!(
        r#"{{"account":"{number}","name":"Deal","valid_to":"2099-12-31","prices":[{{"sku":"GLV-1","unit_price":"9.87"}}]}}"#
    );
    let (status, body) = api_call(b.port, "PUT", "/api/v1/contracts/C-1", &token, &doc).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let (_, _, body) = http(a.port, "GET", "/portal/catalog", &session, "").await.unwrap();
    // (The list price stays on the page, struck through, beside the contract price.)
    assert!(body.contains(r#"<span class="price">$9.87</span>"#), "the new contract price at once: {body}");

    // So does a product renamed through node B.
    let (status, body) =
        api_call(b.port, "PUT", "/api/v1/products/GLV-1", &token, r#"{"name":"Latex-free Gloves"}"#).await.unwrap();
    assert!(status == 200 || status == 201, "{status} {body}");
    let (_, _, body) = http(a.port, "GET", "/portal/catalog", &session, "").await.unwrap();
    assert!(body.contains("Latex-free Gloves") && !body.contains("Nitrile Gloves"), "{body}");

    // And stock: 7 on hand, then 0 after an adjustment through node B.
    let (status, body) = api_call(
        b.port,
        "POST",
        "/api/v1/stock/adjustments",
        &token,
        r#"{"sku":"GLV-1","warehouse":"CHI","delta":-7,"reason":"count"}"#,
    )
    .await
    .unwrap();
    assert!(status < 300, "{status} {body}");
    let (_, _, body) = http(a.port, "GET", "/portal/catalog", &session, "").await.unwrap();
    assert!(body.contains("Out of stock") && !body.contains("Low: 7 left"), "stock read fresh: {body}");
}

/// Amendments that swap products, sent crosswise to two app processes at once (order 1 on node A
/// goes A,B → B,A while order 2 on node B goes B,A → A,B, forty times each): stock rows are locked
/// in product order, old and new together, so no amendment fails with a deadlock (before, about 18
/// of 80 answered 500 on PostgreSQL). A stale version (409) is retried with the new version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crossing_amendments_on_two_nodes_never_deadlock() {
    use portico::domain::auth::{Principal, Scope};
    use portico::store::products::ProductInput;
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let account = app.account("Alpha Clinic", None).await;
    let now = app.now();
    let products = ["AAA-1", "BBB-1"].map(|sku| (ProductInput::new(sku, sku), "1.00", 100_000)).to_vec();
    common::sell(app.db(), now, products).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    let token = portico::service::api_tokens::create(
        app.db(),
        now,
        &portico::service::Actor::web(&p),
        "ERP",
        &[Scope::OrdersWrite, Scope::OrdersRead],
    )
    .await
    .unwrap()
    .1;
    let nodes = [start(&app.url).await, start(&app.url).await];
    let mut orders = Vec::new();
    for first in ["AAA-1", "BBB-1"] {
        let second = if first == "AAA-1" { "BBB-1" } else { "AAA-1" };
        let body = format!(
            r#"{{"account":"{account}","lines":[{{"sku":"{first}","quantity":1}},{{"sku":"{second}","quantity":1}}]}}"#
        );
        let (status, body) = api_post(nodes[0].port, "/api/v1/orders", &token, &body).await.unwrap();
        assert_eq!(status, 201, "{body}");
        let order: serde_json::Value = serde_json::from_str(&body).unwrap();
        orders.push(order["id"].as_str().unwrap().to_string());
    }
    let mut tasks = Vec::new();
    for (n, id) in orders.iter().enumerate() {
        let (port, token, id) = (nodes[n].port, token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut version = 1;
            let mut failures = Vec::new();
            let mut round = 0;
            while round < 40 {
                // Order 0 alternates AAA,BBB → BBB,AAA …; order 1 the other way round.
                let (x, y) = if (round + n) % 2 == 0 { ("BBB-1", "AAA-1") } else { ("AAA-1", "BBB-1") };
                let body = format!(
                    r#"{{"expected_version":{version},"reason":"round {round}","lines":[{{"sku":"{x}","quantity":{q}}},{{"sku":"{y}","quantity":1}}]}}"#,
                    q = round + 2
                );
                let (status, answer) =
                    api_call(port, "POST", &format!("/api/v1/orders/{id}/amend"), &token, &body).await.unwrap();
                match status {
                    200 => {
                        let o: serde_json::Value = serde_json::from_str(&answer).unwrap();
                        version = o["version"].as_i64().unwrap();
                        round += 1;
                    }
                    _ => {
                        failures.push(format!("{status} {answer}"));
                        round += 1;
                    }
                }
            }
            failures
        }));
    }
    for t in tasks {
        let failures = t.await.unwrap();
        assert!(failures.is_empty(), "amendments failed: {failures:?}");
    }
    let reserved = app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await;
    let held = app.count("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM order_allocations").await;
    assert_eq!(reserved, held, "what is reserved is what the orders hold");
}
