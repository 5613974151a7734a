//! Two-click reorder: a past order or a saved list reviewed at today's prices, then placed or put
//! in the cart.

use super::place_once::place_once;
use crate::service::accounts as account_service;
use crate::service::auth::random_token;
use crate::service::carts::{self, ReorderSource, Review};
use crate::service::orders::OrderHeader;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ordering::{can_order, working};
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/reorder/order/{number}", get(reorder_order))
        .route("/portal/reorder/list/{id}", get(reorder_list))
        .route("/portal/reorder", post(reorder_place))
        .route("/portal/reorder/to-cart", post(reorder_to_cart))
}

#[derive(Template)]
#[template(path = "reorder.html")]
struct ReorderPage {
    shell: Shell,
    review: Review,
    source: String,
    source_label: String,
    ship_to: String,
    terms: String,
    po_required: bool,
    token: String,
    /// Why the order would wait for approval (empty: it is placed at once).
    approval: Vec<String>,
}

async fn render_reorder(state: &AppState, ctx: &Ctx, source: ReorderSource<'_>) -> Result<Html<String>, WebError> {
    let account_id = working(ctx)?;
    if !can_order(ctx) {
        return Err(WebError::Forbidden);
    }
    let (code, label) = match &source {
        ReorderSource::Order(n) => (format!("order:{n}"), format!("order {n}")),
        ReorderSource::List(id) => (format!("list:{id}"), "your list".to_string()),
    };
    let review = carts::reorder_review(&state.db, state.now(), &ctx.order_actor(), &account_id, source).await?;
    let account = account_service::get_account(&state.db, &ctx.actor(), &account_id).await?;
    let ship_tos = account_service::ship_tos(&state.db, &ctx.actor(), &account_id).await?;
    let ship_to = ship_tos
        .iter()
        .find(|s| s.is_default)
        .or(ship_tos.first())
        .map(|s| format!("{} — {}", s.label, s.address().one_line()))
        .unwrap_or_default();
    let approval = crate::service::approvals::would_need(
        &state.db,
        state.now(),
        &ctx.order_actor(),
        &account_id,
        &review.eval.lines,
        review.subtotal,
    )
    .await?
    .into_iter()
    .map(|s| s.reason)
    .collect();
    let page = ReorderPage {
        approval,
        shell: Shell::new(ctx, "Reorder"),
        review,
        source: code,
        source_label: label,
        ship_to,
        terms: account.terms().label(),
        po_required: account.po_required,
        token: random_token(16),
    };
    Ok(Html(page.render()?))
}

async fn reorder_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    render_reorder(&state, &ctx, ReorderSource::Order(&number)).await
}

async fn reorder_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    render_reorder(&state, &ctx, ReorderSource::List(&id)).await
}

#[derive(Deserialize)]
struct ReorderForm {
    source: String,
    #[serde(default)]
    po_number: String,
    #[serde(default)]
    form_token: String,
}

/// `order:<number>` or `list:<id>`, as the review page's form names what is reordered.
fn reorder_source(s: &str) -> Result<ReorderSource<'_>, WebError> {
    match s.split_once(':') {
        Some(("order", n)) => Ok(ReorderSource::Order(n)),
        Some(("list", id)) => Ok(ReorderSource::List(id)),
        _ => Err(WebError::BadRequest("Unknown reorder source.".into())),
    }
}

async fn reorder_place(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReorderForm>,
) -> Result<Redirect, WebError> {
    let account_id = working(&ctx)?;
    let actor = ctx.order_actor();
    let now = state.now();
    let source = reorder_source(&f.source)?;
    let header = OrderHeader { po_number: f.po_number.clone(), ..Default::default() };
    let db = state.db.clone();
    let number = place_once(&state, &ctx, &f.form_token, |key| async move {
        carts::place_reorder(&db, now, &actor, &account_id, source, header, Some(&key)).await
    })
    .await?;
    Ok(Redirect::to(&format!("/portal/orders/{number}?placed=1")))
}

async fn reorder_to_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReorderForm>,
) -> Result<Redirect, WebError> {
    let account_id = working(&ctx)?;
    let source = reorder_source(&f.source)?;
    carts::reorder_to_cart(&state.db, state.now(), &ctx.order_actor(), &account_id, source).await?;
    Ok(Redirect::to("/portal/cart"))
}
