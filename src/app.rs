//! The application: its state and the one router that mounts the pages (`web`), the JSON API
//! (`api`) and the ops endpoints (DESIGN.md §2). `web` and `api` never import each other; what
//! both need lives here or in `service`.

use crate::config::{Clock, Config};
use crate::ops::Metrics;
use crate::store::Db;
use crate::store::image_dir::ImageDir;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Everything a request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<Clock>,
    pub metrics: Arc<Metrics>,
    /// Where new product images' files go when `PORTICO_IMAGE_DIR` is set (checked at start);
    /// without it, the database.
    pub image_dir: Option<ImageDir>,
}

impl AppState {
    pub fn new(db: Db, config: Config, image_dir: Option<ImageDir>) -> AppState {
        // This process's heartbeat: an Idempotency-Key it holds is abandoned once it stops.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(crate::store::idempotency::heartbeat(db.clone()));
        }
        AppState {
            db,
            config: Arc::new(config),
            clock: Arc::new(Clock::default()),
            metrics: Arc::new(Metrics::default()),
            image_dir,
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

/// The whole application: pages and static assets, the API, the ops endpoints, with the security
/// and metrics layers. `main` and the tests both use this.
pub fn build_router(state: AppState) -> Router {
    Router::new()
        .merge(crate::web::router(&state))
        .merge(crate::api::router())
        .merge(crate::ops::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::ops::track_metrics))
        .with_state(state)
}

/// An unknown path: a problem document under the API's prefix, a page everywhere else.
async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with(crate::api::PREFIX) {
        crate::api::not_found().await
    } else {
        crate::web::not_found().await
    }
}

/// Headers on every response: a CSP with no inline script, no framing, no sniffing, HSTS on https.
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
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
