//! Server-rendered pages. Handlers parse input, call one service function and render.

mod account_pages;
mod admin;
mod api_tokens;
mod auth_pages;
mod catalog;
mod categories_admin;
pub mod error;
mod imports;
mod ordering;
mod orders;
mod portal;
mod pricing_admin;
mod products_admin;
pub mod session;
mod shell;
mod users;

use crate::config::{Clock, Config};
use crate::ops::Metrics;
use crate::store::Db;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

/// Everything a request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<Clock>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        // This process's heartbeat: an Idempotency-Key it holds is abandoned once it stops.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(crate::store::idempotency::heartbeat(db.clone()));
        }
        AppState {
            db,
            config: Arc::new(config),
            clock: Arc::new(Clock::default()),
            metrics: Arc::new(Metrics::default()),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Full URL of a path, for links shown to users (invitations).
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.config.public_url.trim_end_matches('/'), path)
    }
}

/// The whole application: pages, ops endpoints and static assets, with the security, session and
/// metrics layers. `main` and the tests both use this.
pub fn build_router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(auth_pages::home))
        .merge(auth_pages::router())
        .merge(portal::router())
        .merge(catalog::router())
        .merge(account_pages::router())
        .merge(admin::router())
        .merge(api_tokens::router())
        .merge(products_admin::router())
        .merge(categories_admin::router())
        .merge(users::router())
        .merge(ordering::router())
        .merge(orders::router())
        .merge(imports::router())
        .merge(pricing_admin::router())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), session::session_layer));
    Router::new()
        .merge(pages)
        .route("/static/{file}", get(static_file))
        .merge(crate::api::router())
        .merge(crate::ops::router())
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::ops::track_metrics))
        .with_state(state)
}

/// Headers on every response: a CSP with no inline script, no framing, no sniffing, HSTS on https.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if state.config.secure_cookies() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

const HTMX_JS: &str = include_str!("../../static/htmx.min.js");
const APP_JS: &str = include_str!("../../static/app.js");
const APP_CSS: &str = include_str!("../../static/app.css");

/// Assets embedded in the binary; URLs carry the version so they can be cached for a day.
async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}
