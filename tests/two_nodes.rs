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
