//! Server-rendered pages. Handlers parse input, call one service function and render.

mod account_pages;
mod admin;
mod api_tokens;
mod approvals;
mod auth_pages;
mod cached;
mod catalog;
mod catalogs_admin;
mod categories_admin;
mod charts;
mod commissions;
mod company;
mod credit_notes;
mod dashboards;
mod dated_list;
mod error;
mod exports;
mod form;
mod imports;
pub(crate) mod invoices;
mod licences;
mod mail;
mod ordering;
mod orders;
pub(crate) mod payments;
mod portal;
mod pricing_admin;
mod product_images;
mod products_admin;
mod queues;
mod quotes;
mod routing;
mod session;
mod setup_admin;
mod shell;
mod statements;
mod test_provider;
mod users;
mod webhooks;

use crate::app::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The pages (behind the session and CSRF layer) and the static assets they load.
pub fn router(state: &AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(auth_pages::home))
        .merge(auth_pages::router())
        .merge(portal::router())
        .merge(catalog::router())
        .merge(account_pages::router())
        .merge(licences::router())
        .merge(admin::router())
        .merge(api_tokens::router())
        .merge(webhooks::router())
        .merge(mail::router())
        .merge(products_admin::router())
        .merge(categories_admin::router())
        .merge(catalogs_admin::router())
        .merge(setup_admin::router())
        .merge(company::router())
        .merge(users::router())
        .merge(ordering::router())
        .merge(invoices::router())
        .merge(payments::router())
        .merge(test_provider::portal_router())
        .merge(credit_notes::router())
        .merge(statements::router())
        .merge(approvals::router())
        .merge(routing::router())
        .merge(orders::router())
        .merge(imports::router())
        .merge(exports::router())
        .merge(pricing_admin::router())
        .merge(queues::router())
        .merge(commissions::router())
        .merge(dashboards::router())
        .merge(quotes::router())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), session::session_layer));
    Router::new()
        .merge(pages)
        .merge(test_provider::router())
        .merge(company::assets_router())
        .route("/static/{file}", get(static_file))
        .route("/favicon.ico", get(favicon))
}

/// Browsers ask for `/favicon.ico` whatever the page links: the icon the pages link.
async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON_SVG)
        .into_response()
}

/// The page for a path nothing answers.
pub async fn not_found() -> Response {
    error::not_found_fallback().await
}

const HTMX_JS: &str = include_str!("../../static/htmx.min.js");
const APP_JS: &str = include_str!("../../static/app.js");
const APP_CSS: &str = include_str!("../../static/app.css");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");

/// Assets embedded in the binary; URLs carry the version so they can be cached for a day.
async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}
