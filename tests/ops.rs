//! Health, readiness, metrics, static assets and start-up configuration errors.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::store::{ConnectError, Db};

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let mut c = app.client();
    assert_eq!(c.get("/healthz").await.body, "ok");
    let ready = c.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.body.contains(app.db().backend()));
    // A closed pool is not ready.
    app.db().close().await;
    assert_eq!(c.get("/readyz").await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::configured(|c| c.metrics_token = Some("scrape-secret".into())).await;
    let mut c = app.client();
    c.get("/login").await;
    c.get("/login").await;
    c.get("/accounts/some-id").await;
    // Invented methods share one label: no request adds a series.
    for i in 0..5 {
        let method = axum::http::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        c.request(method, "/login", None).await;
    }
    // Without the token, or with a wrong one, nothing is shown.
    assert_eq!(c.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
    let mut wrong = app.client();
    wrong.extra_headers.push(("authorization".into(), "Bearer scrape-secreT".into()));
    assert_eq!(wrong.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
    c.extra_headers.push(("authorization".into(), "Bearer scrape-secret".into()));
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(!m.body.contains("PROBE"), "{}", m.body);
    assert!(m.body.contains("method=\"OTHER\",route=\"/login\""), "{}", m.body);
    assert!(m.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/plain"));
    assert!(
        m.body.contains("portico_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 2"),
        "{}",
        m.body
    );
    assert!(m.body.contains("route=\"/accounts/{id}\""), "templated, not the raw id");
    assert!(!m.body.contains("some-id"));
    assert!(
        m.body.contains("portico_http_request_duration_seconds_bucket{method=\"GET\",route=\"/login\",le=\"+Inf\"} 2")
    );
}

#[tokio::test]
async fn metrics_are_not_served_without_a_token_setting() {
    let app = TestApp::new().await;
    let mut c = app.client();
    c.extra_headers.push(("authorization".into(), "Bearer anything".into()));
    assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
}

/// `PORTICO_METRICS_BIND`: a second address that serves metrics alone, without a token, while
/// the main address keeps them hidden.
#[tokio::test]
async fn metrics_bind_serves_metrics_alone_on_its_own_address() {
    let app = TestApp::new().await;
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = portico::Config::for_database(&app.url);
    config.metrics_bind = Some(format!("127.0.0.1:{metrics_port}").parse().unwrap());
    let state = portico::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let main_port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(portico::serve(state, listener));
    let mut served = None;
    for _ in 0..100 {
        if let Ok(r) = get(metrics_port, "/metrics").await {
            served = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, body) = served.expect("the metrics address answers");
    assert_eq!(status, 200);
    assert!(body.contains("portico_http_requests_total"), "{body}");
    assert_eq!(get(metrics_port, "/healthz").await.unwrap().0, 404, "metrics only");
    assert_eq!(get(main_port, "/metrics").await.unwrap().0, 404, "no token configured");
    assert_eq!(get(main_port, "/healthz").await.unwrap().0, 200);
    server.abort();
}

async fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Ok((head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), body.to_string()))
}

#[tokio::test]
async fn static_assets_are_embedded() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let css = c.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
    let htmx = c.get("/static/htmx.min.js").await;
    assert!(htmx.body.contains("htmx"));
    assert_eq!(c.get("/static/../Cargo.toml").await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get("/static/nope.js").await.status, StatusCode::NOT_FOUND);
    // The icon browsers ask for whatever the page links, and the one the pages link.
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let icon = c.get(path).await;
        assert_eq!(icon.status, StatusCode::OK, "{path}");
        assert_eq!(icon.headers["content-type"], "image/svg+xml", "{path}");
    }
    // htmx is told not to inject its indicator style (the CSP refuses inline styles); the
    // stylesheet carries it instead.
    let login = c.get("/login").await;
    assert!(login.body.contains(r#"<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>"#));
    assert!(css.body.contains(".htmx-request .htmx-indicator"));
}

#[tokio::test]
async fn unknown_database_schemes_fail_naming_both() {
    let err = Db::connect("mysql://root@localhost/portico").await.unwrap_err();
    assert!(matches!(err, ConnectError::UnknownScheme(_)));
    let msg = err.to_string();
    assert!(msg.contains("sqlite://") && msg.contains("postgres://"), "{msg}");
    let err = Db::connect("mysql://user:secret@db/portico").await.unwrap_err();
    assert!(!err.to_string().contains("secret"), "no password in errors: {err}");
}
