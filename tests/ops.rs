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
    let app = TestApp::new().await;
    let mut c = app.client();
    c.get("/login").await;
    c.get("/login").await;
    c.get("/accounts/some-id").await;
    let m = c.get("/metrics").await;
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
