//! CSV exports from the staff pages: `/admin/exports/<kind>.csv`, streamed a page at a time (the
//! same export as the command line and the API, `service::exports`), and the links to them that
//! the products, pricing, accounts and orders pages show to staff allowed each export.

use super::AppState;
use super::error::WebError;
use super::session::Ctx;
use crate::service::exports::Export;
use crate::service::imports::Kind;
use crate::service::{Actor, ServiceError};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/exports/{file}", get(download))
}

/// An export link on a page: (href, label, kind).
pub type ExportLink = (String, &'static str, &'static str);

/// The links to the exports of `kinds` the actor may download.
pub fn export_links(actor: &Actor<'_>, kinds: &[Kind]) -> Vec<ExportLink> {
    kinds
        .iter()
        .filter(|k| k.export_permissions().iter().all(|p| actor.principal.can(*p)))
        .map(|k| (format!("/admin/exports/{}", k.file_name()), k.label(), k.as_str()))
        .collect()
}

/// The export as a file download, streamed (403 for staff without its permission, 404 for buyers
/// and unknown kinds).
async fn download(State(state): State<AppState>, ctx: Ctx, Path(file): Path<String>) -> Result<Response, WebError> {
    let kind = file.strip_suffix(".csv").and_then(Kind::parse).ok_or(ServiceError::NotFound)?;
    let export = Export::start(&state.db, &ctx.actor(), kind).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", kind.file_name())),
        (header::CACHE_CONTROL, "no-store".to_string()),
    ];
    Ok((headers, Body::from_stream(export.into_stream())).into_response())
}
