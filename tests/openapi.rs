//! The OpenAPI document matches the API the router serves: every `/api/...` route (method and
//! path) is an operation of the document served at `/api/v1/openapi.json`, and every operation of
//! the document is a route.
//!
//! The routes come from the real router, not from a list kept for the test: its paths from the
//! router's own description of itself (`Debug`, which names every path it matches), and the methods
//! of each by asking it (a method a path does not serve answers 405).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use std::collections::BTreeSet;

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// The paths under `/api/` that the router matches, as declared (`/api/v1/products/{sku}`).
fn router_api_paths(app: &TestApp) -> BTreeSet<String> {
    let described = format!("{:?}", app.router);
    let paths: BTreeSet<String> = described.split('"').filter(|s| s.starts_with("/api/")).map(str::to_string).collect();
    assert!(
        paths.contains("/api/v1/orders") && paths.contains("/api/v1/openapi.json"),
        "the router's description no longer names its paths (did axum change its Debug output?); \
         found {paths:?}"
    );
    paths
}

/// A path with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// (method, path) of every route the router serves under `/api/`.
async fn routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for path in router_api_paths(app) {
        for method in METHODS {
            let req = Request::builder().method(method.clone()).uri(concrete(&path)).body(Body::empty()).unwrap();
            let res = app.send(req).await;
            // Without a token every API route answers 401 (or, for the document, 200); a method
            // the path does not serve answers 405.
            assert_ne!(res.status, StatusCode::NOT_FOUND, "{method} {path}: the router matched it, then 404");
            if res.status != StatusCode::METHOD_NOT_ALLOWED {
                out.insert((method.to_string(), path.clone()));
            }
        }
    }
    out
}

/// (method, path) of every operation in the served document.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let res = app.send(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&res.body).expect("the document is JSON");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("the document has paths") {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document_and_every_operation_is_a_route() {
    let app = TestApp::new().await;
    let routes = routes(&app).await;
    let documented = documented(&app).await;
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}\n\
         operations of the document that no route serves: {unrouted:?}"
    );
    assert!(routes.len() > 15, "the API's routes were found: {routes:?}");
}

#[tokio::test]
async fn an_unknown_api_path_is_a_problem_document() {
    let app = TestApp::new().await;
    let res = app.send(Request::get("/api/v1/no-such-thing").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.headers["content-type"], "application/problem+json");
    let page = app.send(Request::get("/no-such-page").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}
