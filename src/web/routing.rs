//! Routing on the web: the rep completes or sends back an order a customer sent them, and the
//! admin sets the routing rules for hybrid accounts, flags products that need a specialist, and
//! previews what would happen to an order.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::Shell;
use crate::domain::auth::Permission;
use crate::domain::orders::parse_paste;
use crate::service::ServiceError;
use crate::service::orders::{self, LineInput};
use crate::service::routing::{self as service, RuleView};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{number}/complete", post(complete))
        .route("/orders/{number}/send-back", post(send_back))
        .route("/admin/routing", get(page).post(add_rule))
        .route("/admin/routing/{id}/delete", post(delete_rule))
        .route("/admin/routing/consult", post(set_consult))
        .route("/admin/routing/preview", post(preview))
}

#[derive(Deserialize)]
struct DecisionForm {
    version: i64,
    #[serde(default)]
    comment: String,
}

async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    let o = orders::complete_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version), &f.comment).await?;
    let notice = if o.status() == crate::domain::orders::OrderStatus::OnHold { "completed_held" } else { "completed" };
    Ok(Redirect::to(&format!("/orders/{}?notice={notice}", o.number)))
}

async fn send_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    let o = orders::send_back_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version), &f.comment).await?;
    Ok(Redirect::to(&format!("/orders/{}?notice=sent_back", o.number)))
}

#[derive(Template)]
#[template(path = "admin_routing.html")]
struct RoutingPage {
    shell: Shell,
    rules: Vec<RuleView>,
    consult: Vec<(String, String, String)>,
    accounts: Vec<crate::service::accounts::AccountListRow>,
    error: Option<String>,
    preview: Option<Vec<String>>,
    form: PreviewForm,
}

#[derive(Deserialize, Default, Clone)]
struct PreviewForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    lines: String,
    #[serde(default)]
    notes: String,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<String>,
    preview: Option<Vec<String>>,
    form: PreviewForm,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.can(Permission::AdminArea) {
        return Err(WebError::Forbidden);
    }
    let actor = ctx.actor();
    let accounts = crate::service::accounts::search_accounts(&state.db, &actor, false, "", None, 500).await?;
    let page = RoutingPage {
        shell: Shell::new(ctx, "Routing").with_notice(notice),
        rules: service::list_rules(&state.db, &actor).await?,
        consult: service::consult_products(&state.db, &actor).await?,
        accounts,
        error,
        preview,
        form,
    };
    Ok(Html(page.render()?))
}

async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Html<String>, WebError> {
    render(&state, &ctx, q.notice.as_deref(), None, None, PreviewForm::default()).await
}

/// Re-renders the page with a form's error (422), keeping what was typed.
async fn with_error(state: &AppState, ctx: &Ctx, e: ServiceError, form: PreviewForm) -> Result<Response, WebError> {
    match e {
        ServiceError::Invalid(errors) => {
            let message = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ");
            let mut page = render(state, ctx, None, Some(message), None, form).await?.into_response();
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        e => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct RuleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    quantity: String,
}

async fn add_rule(State(state): State<AppState>, ctx: Ctx, Form(f): Form<RuleForm>) -> Result<Response, WebError> {
    match service::add_rule(&state.db, state.now(), &ctx.actor(), &f.kind, &f.amount, &f.quantity).await {
        Ok(()) => Ok(Redirect::to("/admin/routing?notice=rule_added").into_response()),
        Err(e) => with_error(&state, &ctx, e, PreviewForm::default()).await,
    }
}

async fn delete_rule(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    service::delete_rule(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to("/admin/routing?notice=rule_deleted"))
}

#[derive(Deserialize)]
struct ConsultForm {
    sku: String,
    #[serde(default)]
    consult: String,
}

async fn set_consult(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ConsultForm>,
) -> Result<Response, WebError> {
    match service::set_consult(&state.db, state.now(), &ctx.actor(), &f.sku, f.consult != "0").await {
        Ok(()) => Ok(Redirect::to("/admin/routing?notice=saved").into_response()),
        Err(e) => with_error(&state, &ctx, e, PreviewForm::default()).await,
    }
}

async fn preview(State(state): State<AppState>, ctx: Ctx, Form(f): Form<PreviewForm>) -> Result<Response, WebError> {
    let paste = parse_paste(&f.lines);
    if let Some(bad) = paste.errors.first() {
        let e = ServiceError::invalid("lines", format!("Line {}: {}", bad.line, bad.reason));
        return with_error(&state, &ctx, e, f).await;
    }
    let lines: Vec<LineInput> = paste.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)).collect();
    if lines.is_empty() {
        return with_error(&state, &ctx, ServiceError::invalid("lines", "Paste SKUs and quantities to preview."), f)
            .await;
    }
    match service::preview(&state.db, state.now(), &ctx.actor(), &f.account, &lines, &f.notes).await {
        Ok(out) => Ok(render(&state, &ctx, None, None, Some(out), f).await?.into_response()),
        Err(e) => with_error(&state, &ctx, e, f).await,
    }
}
