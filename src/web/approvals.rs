//! Buyer approvals in the portal: a manager approves or rejects an order waiting for them (from
//! their home page or the order's page), sets the account's approval rules, and sets each user's
//! spending limits (on the users page).

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::{Ctx, safe_next};
use super::shell::Shell;
use crate::domain::auth::Permission;
use crate::domain::orders::OrderStatus;
use crate::service::ServiceError;
use crate::service::approvals::{self as service, NewRule, RuleView};
use crate::service::orders;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/orders/{number}/approve", post(approve))
        .route("/portal/orders/{number}/decline", post(decline))
        .route("/portal/approvals", get(rules_page).post(add_rule))
        .route("/portal/approvals/{id}/delete", post(delete_rule))
        .route("/users/{id}/limits", post(set_limits))
}

fn own_account(ctx: &Ctx) -> Result<String, WebError> {
    ctx.session.principal.buyer_account().map(str::to_string).ok_or(WebError::NotFound)
}

#[derive(Deserialize)]
struct DecisionForm {
    version: i64,
    #[serde(default)]
    comment: String,
    /// Where to go afterwards (the home page's queue, or the order).
    #[serde(default)]
    back: String,
}

fn after_decision(back: &str, number: &str, notice: &str) -> Redirect {
    let target = safe_next(Some(back)).unwrap_or_else(|| format!("/portal/orders/{number}"));
    let sep = if target.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{target}{sep}notice={notice}"))
}

async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    let o = orders::approve_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version), &f.comment).await?;
    let notice = match o.status() {
        OrderStatus::PendingApproval => "approval_given",
        OrderStatus::OnHold => "approved_held",
        _ => "approved",
    };
    Ok(after_decision(&f.back, &o.number, notice))
}

async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Redirect, WebError> {
    let o = orders::reject_approval(&state.db, state.now(), &ctx.actor(), &number, Some(f.version), &f.comment).await?;
    Ok(after_decision(&f.back, &o.number, "approval_rejected"))
}

#[derive(Template)]
#[template(path = "portal_approvals.html")]
struct RulesPage {
    shell: Shell,
    rules: Vec<RuleView>,
    can_manage: bool,
    managers: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    awaiting: Vec<orders::Awaiting>,
    form: RuleForm,
    error: Option<String>,
}

/// The rule form as typed (kept when it comes back with an error).
#[derive(Clone, Debug, Default)]
struct RuleForm {
    kind: String,
    amount: String,
    category_id: String,
    approvers: Vec<String>,
    require_all: bool,
}

impl RuleForm {
    fn names(&self, id: &str) -> bool {
        self.approvers.iter().any(|a| a == id)
    }
}

async fn render_rules(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    form: RuleForm,
    error: Option<String>,
) -> Result<Html<String>, WebError> {
    let actor = ctx.actor();
    let account_id = own_account(ctx)?;
    let can_manage = ctx.session.principal.can(Permission::ManageOwnAccountUsers);
    let (managers, categories) = if can_manage {
        (
            service::manager_names(&state.db, &account_id).await?,
            service::rule_categories(&state.db, &actor, &account_id).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let page = RulesPage {
        shell: Shell::new(ctx, "Approvals").with_notice(notice),
        rules: service::list_rules(&state.db, &actor, &account_id).await?,
        can_manage,
        managers,
        categories,
        awaiting: orders::awaiting_my_approval(&state.db, &actor).await?,
        form,
        error,
    };
    Ok(Html(page.render()?))
}

async fn rules_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let form = RuleForm { kind: "order_total".into(), ..Default::default() };
    render_rules(&state, &ctx, q.notice.as_deref(), form, None).await
}

async fn add_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let form = RuleForm {
        kind: get("kind"),
        amount: get("amount"),
        category_id: get("category_id"),
        approvers: fields.iter().filter(|(n, _)| n == "approver").map(|(_, v)| v.clone()).collect(),
        require_all: get("require_all") == "all",
    };
    let account_id = own_account(&ctx)?;
    let rule = NewRule {
        kind: form.kind.clone(),
        amount: form.amount.clone(),
        category_id: form.category_id.clone(),
        approvers: form.approvers.clone(),
        require_all: form.require_all,
    };
    match service::add_rule(&state.db, state.now(), &ctx.actor(), &account_id, &rule).await {
        Ok(_) => Ok(Redirect::to("/portal/approvals?notice=rule_added").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let message = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ");
            let mut page = render_rules(&state, &ctx, None, form, Some(message)).await?.into_response();
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_rule(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    let account_id = own_account(&ctx)?;
    service::delete_rule(&state.db, state.now(), &ctx.actor(), &account_id, &id).await?;
    Ok(Redirect::to("/portal/approvals?notice=rule_deleted"))
}

#[derive(Deserialize)]
struct LimitsForm {
    #[serde(default)]
    order_limit: String,
    #[serde(default)]
    monthly_limit: String,
    #[serde(default)]
    back: String,
}

async fn set_limits(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<LimitsForm>,
) -> Result<Redirect, WebError> {
    service::set_limits(&state.db, state.now(), &ctx.actor(), &id, &f.order_limit, &f.monthly_limit).await?;
    let target = safe_next(Some(&f.back)).unwrap_or_else(|| "/portal/users".into());
    let sep = if target.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{target}{sep}notice=limits_saved")))
}
