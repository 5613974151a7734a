//! Responses browsers may keep: an `ETag` (a strong validator of the bytes) answered with 304 when
//! the request's `If-None-Match` names it, and a `Cache-Control` that keeps a versioned URL for
//! good. The brand's assets (`/brand.css`, `/brand/logo`) and product images use it.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Whether the request's `If-None-Match` names `etag` (or `*`).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// A versioned URL (the version is the current one) is cached for good; any other is revalidated.
pub fn cache_control(asked: Option<&str>, current: &str) -> &'static str {
    if asked == Some(current) { "public, max-age=31536000, immutable" } else { "public, no-cache" }
}

pub fn cached(headers: &HeaderMap, etag: String, cache: &'static str, ctype: &str, body: Vec<u8>) -> Response {
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let ctype = HeaderValue::from_str(ctype).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    if not_modified(headers, &etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, HeaderValue::from_static(cache))],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// For a response that depends on who asks (a product image: a buyer sees only their catalog's)
/// under a URL whose bytes never change: browsers keep it for good, shared caches never store it.
pub const PRIVATE_FOR_GOOD: &str = "private, max-age=31536000, immutable";
