//! Admin pages a seller needs from an empty database that have no area of their own: warehouses
//! (where stock is counted) and account groups (accounts sharing catalogs and price lists). A
//! refused form comes back with the input kept and every reason next to its field.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::{Ctx, urlencode};
use super::shell::Shell;
use crate::service::account_sync::{self as groups_service, GroupSummary};
use crate::service::warehouses::{self as warehouse_service, WarehouseRow};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/warehouses", get(warehouses).post(create_warehouse))
        .route("/admin/warehouses/{code}", get(warehouse).post(save_warehouse))
        .route("/admin/account-groups", get(groups).post(create_group))
        .route("/admin/account-groups/{id}", get(group).post(rename_group))
        .route("/admin/account-groups/{id}/delete", axum::routing::post(delete_group))
}

// The refused-form helpers are shared by every staff form (see `form`).
pub(super) use super::form::{errors_for, parse_number, status_of};

// ---- Warehouses ----

#[derive(Deserialize, Default)]
pub struct WarehouseForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    sort: String,
}

pub struct WarehouseItem {
    pub row: WarehouseRow,
    pub href: String,
}

#[derive(Template)]
#[template(path = "admin_warehouses.html")]
struct WarehousesPage {
    shell: Shell,
    items: Vec<WarehouseItem>,
    f: WarehouseForm,
    errors: Vec<FieldError>,
}

impl WarehousesPage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn warehouses_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: WarehouseForm,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let rows = warehouse_service::warehouses(&state.db, &ctx.actor()).await?;
    let items = rows
        .into_iter()
        .map(|row| WarehouseItem { href: format!("/admin/warehouses/{}", urlencode(&row.code)), row })
        .collect();
    let status = status_of(&errors);
    let shell = Shell::new(ctx, "Warehouses").with_notice(notice);
    Ok((status, Html(WarehousesPage { shell, items, f, errors }.render()?)).into_response())
}

async fn warehouses(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    warehouses_page(&state, &ctx, q.notice.as_deref(), WarehouseForm::default(), Vec::new()).await
}

async fn create_warehouse(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<WarehouseForm>,
) -> Result<Response, WebError> {
    let result = match parse_number("sort", "Sort", &f.sort, 0) {
        Ok(sort) => warehouse_service::create_warehouse(&state.db, state.now(), &ctx.actor(), &f.code, &f.name, sort)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/warehouses?notice=warehouse_created").into_response()),
        Err(ServiceError::Invalid(errors)) => warehouses_page(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_warehouse.html")]
struct WarehousePage {
    shell: Shell,
    w: WarehouseRow,
    action: String,
    f: WarehouseForm,
    errors: Vec<FieldError>,
}

impl WarehousePage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn warehouse_page(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    f: Option<WarehouseForm>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let w = warehouse_service::warehouse(&state.db, &ctx.actor(), code).await?;
    let f = f.unwrap_or_else(|| WarehouseForm { code: w.code.clone(), name: w.name.clone(), sort: w.sort.to_string() });
    let page = WarehousePage {
        shell: Shell::new(ctx, w.name.clone()),
        action: format!("/admin/warehouses/{}", urlencode(&w.code)),
        w,
        f,
        errors,
    };
    Ok((status_of(&page.errors), Html(page.render()?)).into_response())
}

async fn warehouse(State(state): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Result<Response, WebError> {
    warehouse_page(&state, &ctx, &code, None, Vec::new()).await
}

async fn save_warehouse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<WarehouseForm>,
) -> Result<Response, WebError> {
    let result = match parse_number("sort", "Sort", &f.sort, 0) {
        Ok(sort) => warehouse_service::update_warehouse(&state.db, state.now(), &ctx.actor(), &code, &f.name, sort)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/warehouses?notice=saved").into_response()),
        Err(ServiceError::Invalid(errors)) => warehouse_page(&state, &ctx, &code, Some(f), errors).await,
        Err(e) => Err(e.into()),
    }
}

// ---- Account groups ----

#[derive(Deserialize, Default)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
    /// The delete form's "yes, delete it" box.
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_account_groups.html")]
struct GroupsPage {
    shell: Shell,
    items: Vec<GroupSummary>,
    f: GroupForm,
    errors: Vec<FieldError>,
}

impl GroupsPage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn groups_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: GroupForm,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let items = groups_service::group_summaries(&state.db, &ctx.actor()).await?;
    let shell = Shell::new(ctx, "Account groups").with_notice(notice);
    let status = status_of(&errors);
    Ok((status, Html(GroupsPage { shell, items, f, errors }.render()?)).into_response())
}

async fn groups(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    groups_page(&state, &ctx, q.notice.as_deref(), GroupForm::default(), Vec::new()).await
}

async fn create_group(State(state): State<AppState>, ctx: Ctx, Form(f): Form<GroupForm>) -> Result<Response, WebError> {
    match groups_service::upsert_group(&state.db, state.now(), &ctx.actor(), &f.name).await {
        Ok(r) if r.created => Ok(Redirect::to("/admin/account-groups?notice=group_created").into_response()),
        Ok(r) => {
            let message = format!("A group named “{}” already exists.", r.row.name);
            groups_page(&state, &ctx, None, f, vec![FieldError { field: "name".into(), message }]).await
        }
        Err(ServiceError::Invalid(errors)) => groups_page(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_account_group.html")]
struct GroupPage {
    shell: Shell,
    g: GroupSummary,
    f: GroupForm,
    /// Which form was refused: `rename` or `delete`.
    form: &'static str,
    errors: Vec<FieldError>,
}

impl GroupPage {
    fn error(&self, form: &str, field: &str) -> String {
        if self.form == form { errors_for(&self.errors, field) } else { String::new() }
    }
}

async fn group_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    (f, form): (Option<GroupForm>, &'static str),
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let g = groups_service::group_summary(&state.db, &ctx.actor(), id).await?;
    let f = f.unwrap_or_else(|| GroupForm { name: g.name.clone(), confirm: None });
    let shell = Shell::new(ctx, g.name.clone()).with_notice(notice);
    let status = status_of(&errors);
    Ok((status, Html(GroupPage { shell, g, f, form, errors }.render()?)).into_response())
}

async fn group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    group_page(&state, &ctx, &id, q.notice.as_deref(), (None, ""), Vec::new()).await
}

async fn rename_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<GroupForm>,
) -> Result<Response, WebError> {
    match groups_service::rename_group(&state.db, state.now(), &ctx.actor(), &id, &f.name).await {
        Ok(g) => Ok(Redirect::to(&format!("/admin/account-groups/{}?notice=group_renamed", g.id)).into_response()),
        Err(ServiceError::Invalid(errors)) => group_page(&state, &ctx, &id, None, (Some(f), "rename"), errors).await,
        Err(e) => Err(e.into()),
    }
}

async fn delete_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<GroupForm>,
) -> Result<Response, WebError> {
    if f.confirm.is_none() {
        let message = "Tick the box to confirm: a deleted group cannot be brought back.".to_string();
        let errors = vec![FieldError { field: "confirm".into(), message }];
        return group_page(&state, &ctx, &id, None, (None, "delete"), errors).await;
    }
    groups_service::delete_group(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to("/admin/account-groups?notice=group_deleted").into_response())
}
