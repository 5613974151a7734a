//! Staff category administration: the whole tree with product counts, and forms to create,
//! rename, move, re-sort and delete categories. A refused change re-renders the page with every
//! reason next to its field; nothing is changed.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::Shell;
use crate::domain::categories::delete_blockers;
use crate::service::categories::{self, CategoryView};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(list).post(create))
        .route("/admin/categories/{id}", get(detail))
        .route("/admin/categories/{id}/rename", post(rename))
        .route("/admin/categories/{id}/move", post(move_to))
        .route("/admin/categories/{id}/sort", post(sort))
        .route("/admin/categories/{id}/delete", post(delete))
}

/// A category as a row of the tree or an option of a parent picker.
pub struct Row {
    pub id: String,
    pub name: String,
    pub path: String,
    /// CSS class indenting the name by its depth (inline styles are not allowed by the CSP).
    pub indent: String,
    /// The name prefixed by its depth, for `<option>`s (which cannot be indented with CSS).
    pub label: String,
    pub sort: i64,
    pub active_products: i64,
    pub products: i64,
    pub children: i64,
}

impl From<&CategoryView> for Row {
    fn from(c: &CategoryView) -> Row {
        Row {
            id: c.row.id.clone(),
            name: c.row.name.clone(),
            path: c.row.path.clone(),
            indent: format!("indent-{}", c.depth.min(8)),
            label: format!("{}{}", "— ".repeat(c.depth), c.row.name),
            sort: c.row.sort,
            active_products: c.active_products,
            products: c.products,
            children: c.children,
        }
    }
}

fn errors_for(errors: &[FieldError], field: &str) -> String {
    errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn status_of(errors: &[FieldError], conflict: bool) -> StatusCode {
    match (errors.is_empty(), conflict) {
        (true, _) => StatusCode::OK,
        (false, true) => StatusCode::CONFLICT,
        (false, false) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Splits a service error into what a form shows (field problems, and whether it is a conflict)
/// or an error page for everything else.
fn refusal(e: ServiceError, field: &str) -> Result<(Vec<FieldError>, bool), WebError> {
    match e {
        ServiceError::Invalid(errors) => Ok((errors, false)),
        ServiceError::Conflict(message) => Ok((vec![FieldError { field: field.into(), message }], true)),
        other => Err(other.into()),
    }
}

fn parse_sort(raw: &str) -> Result<i64, ServiceError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse().map_err(|_| {
        ServiceError::invalid(
            "sort",
            format!("Sort: “{raw}” is not a whole number (e.g. 10, or -5 to list it earlier)."),
        )
    })
}

fn parent_of(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|p| !p.is_empty())
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    sort: String,
}

#[derive(Template)]
#[template(path = "admin_categories.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    f: CreateForm,
    errors: Vec<FieldError>,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: CreateForm,
    errors: Vec<FieldError>,
    conflict: bool,
) -> Result<Response, WebError> {
    let tree = categories::admin_tree(&state.db, &ctx.actor()).await?;
    let status = status_of(&errors, conflict);
    let page = ListPage {
        shell: Shell::new(ctx, "Categories").with_notice(notice),
        rows: tree.iter().map(Row::from).collect(),
        f,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    list_page(&state, &ctx, q.notice.as_deref(), CreateForm { sort: "0".into(), ..Default::default() }, vec![], false)
        .await
}

async fn create(State(state): State<AppState>, ctx: Ctx, Form(f): Form<CreateForm>) -> Result<Response, WebError> {
    let result = match parse_sort(&f.sort) {
        Ok(sort) => {
            categories::create_category(&state.db, state.now(), &ctx.actor(), &f.name, parent_of(&f.parent), sort)
                .await
                .map(|c| c.id)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/admin/categories/{id}?notice=category_created")).into_response()),
        Err(e) => {
            let (errors, conflict) = refusal(e, "name")?;
            list_page(&state, &ctx, None, f, errors, conflict).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_category.html")]
struct DetailPage {
    shell: Shell,
    c: Row,
    parent_id: String,
    parent_path: Option<String>,
    direct_products: i64,
    parents: Vec<Row>,
    rules: Vec<(String, String)>,
    /// Why the category cannot be deleted now, if it cannot.
    blocked: Option<String>,
    name: String,
    sort: String,
    errors: Vec<FieldError>,
}

impl DetailPage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

/// Values a refused form sent, shown again instead of the stored ones.
#[derive(Default)]
struct Sent {
    name: Option<String>,
    sort: Option<String>,
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    sent: Sent,
    errors: Vec<FieldError>,
    conflict: bool,
) -> Result<Response, WebError> {
    let d = categories::category_detail(&state.db, &ctx.actor(), id).await?;
    let c = &d.category;
    let page = DetailPage {
        shell: Shell::new(ctx, format!("Category {}", c.row.name)).with_notice(notice),
        parent_id: c.row.parent_id.clone().unwrap_or_default(),
        parent_path: c.parent_path.clone(),
        direct_products: c.direct_products,
        blocked: delete_blockers(&c.row.path, c.direct_products, c.children),
        name: sent.name.unwrap_or_else(|| c.row.name.clone()),
        sort: sent.sort.unwrap_or_else(|| c.row.sort.to_string()),
        c: Row::from(c),
        parents: d.parents.iter().map(Row::from).collect(),
        rules: d.rules,
        errors,
    };
    let status = status_of(&page.errors, conflict);
    Ok((status, Html(page.render()?)).into_response())
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    detail_page(&state, &ctx, &id, q.notice.as_deref(), Sent::default(), vec![], false).await
}

/// After a change: back to the category with a notice, or its page again with the refusal.
async fn after_change(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    result: Result<bool, ServiceError>,
    done: &str,
    field: &str,
    sent: Sent,
) -> Result<Response, WebError> {
    match result {
        Ok(changed) => {
            let notice = if changed { done } else { "unchanged" };
            Ok(Redirect::to(&format!("/admin/categories/{id}?notice={notice}")).into_response())
        }
        Err(e) => {
            let (errors, conflict) = refusal(e, field)?;
            detail_page(state, ctx, id, None, sent, errors, conflict).await
        }
    }
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RenameForm>,
) -> Result<Response, WebError> {
    let result = categories::rename_category(&state.db, state.now(), &ctx.actor(), &id, &f.name).await;
    let sent = Sent { name: Some(f.name), sort: None };
    after_change(&state, &ctx, &id, result, "category_renamed", "name", sent).await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    parent: String,
}

async fn move_to(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, WebError> {
    let result = categories::move_category(&state.db, state.now(), &ctx.actor(), &id, parent_of(&f.parent)).await;
    after_change(&state, &ctx, &id, result, "category_moved", "parent", Sent::default()).await
}

#[derive(Deserialize)]
pub struct SortForm {
    #[serde(default)]
    sort: String,
}

async fn sort(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<SortForm>,
) -> Result<Response, WebError> {
    let result = match parse_sort(&f.sort) {
        Ok(sort) => categories::set_category_sort(&state.db, state.now(), &ctx.actor(), &id, sort).await,
        Err(e) => Err(e),
    };
    let sent = Sent { name: None, sort: Some(f.sort) };
    after_change(&state, &ctx, &id, result, "category_sorted", "sort", sent).await
}

async fn delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    match categories::delete_category(&state.db, state.now(), &ctx.actor(), &id).await {
        Ok(_) => Ok(Redirect::to("/admin/categories?notice=category_deleted").into_response()),
        Err(e) => {
            let (errors, conflict) = refusal(e, "delete")?;
            detail_page(&state, &ctx, &id, None, Sent::default(), errors, conflict).await
        }
    }
}
