//! Customer catalog administration: the catalogs with what they hold and who sees them, and one
//! catalog's page with forms for its header, its rules (categories and products included or
//! excluded) and its assignments to accounts and groups. Each form is one service call; a refused
//! one comes back with the input kept and the reason next to its field.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::categories_admin::Row as CategoryOption;
use super::error::WebError;
use super::session::Ctx;
use super::setup_admin::{errors_for, status_of};
use super::shell::Shell;
use crate::domain::customer_catalogs::{CatalogHeader, RuleKind, emptiness_hint};
use crate::service::catalogs::{self as catalog_service, CatalogChange, CatalogSummary, CatalogView};
use crate::service::{FieldError, ServiceError, account_sync, categories};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/catalogs", get(list).post(create))
        .route("/admin/catalogs/{id}", get(detail).post(save_header))
        .route("/admin/catalogs/{id}/rules", post(add_rule))
        .route("/admin/catalogs/{id}/rules/remove", post(remove_rule))
        .route("/admin/catalogs/{id}/assignments", post(assign))
        .route("/admin/catalogs/{id}/assignments/{aid}/delete", post(unassign))
        .route("/admin/catalogs/{id}/delete", post(delete))
}

/// Every field of every form on these pages, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct CatalogForm {
    #[serde(default)]
    name: String,
    includes_all: Option<String>,
    is_default: Option<String>,
    /// Which form was sent: `header`, `category`, `product`, `account` or `group`.
    #[serde(default)]
    form: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    group: String,
    /// The delete form's "yes, delete it" box.
    confirm: Option<String>,
}

impl CatalogForm {
    fn header(&self) -> CatalogHeader {
        CatalogHeader {
            name: self.name.clone(),
            includes_all: self.includes_all.is_some(),
            is_default: self.is_default.is_some(),
        }
    }
}

/// A service refusal as a form's field errors, or an error page for anything else.
fn refusal(e: ServiceError) -> Result<Vec<FieldError>, WebError> {
    match e {
        ServiceError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_catalogs.html")]
struct ListPage {
    shell: Shell,
    items: Vec<CatalogSummary>,
    f: CatalogForm,
    errors: Vec<FieldError>,
    /// Whether any category and any product exist (what the empty state points to first).
    has_categories: bool,
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
    f: CatalogForm,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let items = catalog_service::catalogs(&state.db, &ctx.actor()).await?;
    let has_categories = !categories::admin_tree(&state.db, &ctx.actor()).await?.is_empty();
    let shell = Shell::new(ctx, "Customer catalogs").with_notice(notice);
    let status = status_of(&errors);
    Ok((status, Html(ListPage { shell, items, f, errors, has_categories }.render()?)).into_response())
}

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    let f = CatalogForm { form: "header".into(), ..Default::default() };
    list_page(&state, &ctx, q.notice.as_deref(), f, Vec::new()).await
}

async fn create(State(state): State<AppState>, ctx: Ctx, Form(f): Form<CatalogForm>) -> Result<Response, WebError> {
    match catalog_service::create_catalog(&state.db, state.now(), &ctx.actor(), &f.header()).await {
        Ok(row) => Ok(Redirect::to(&format!("/admin/catalogs/{}?notice=catalog_created", row.id)).into_response()),
        Err(e) => {
            let errors = refusal(e)?;
            list_page(&state, &ctx, None, f, errors).await
        }
    }
}

/// A rule as the page lists it.
pub struct RuleItem {
    pub kind: &'static str,
    pub label: &'static str,
    pub target_id: String,
    pub target: String,
    pub missing: bool,
}

#[derive(Template)]
#[template(path = "admin_catalog.html")]
struct DetailPage {
    shell: Shell,
    c: CatalogView,
    products: i64,
    rules: Vec<RuleItem>,
    hint: Option<&'static str>,
    categories: Vec<CategoryOption>,
    groups: Vec<(String, String)>,
    f: CatalogForm,
    errors: Vec<FieldError>,
}

impl DetailPage {
    /// The errors of a field of the form that was sent (each form has its own fields).
    fn error(&self, form: &str, field: &str) -> String {
        if self.f.form == form { errors_for(&self.errors, field) } else { String::new() }
    }

    /// A kept value of the form that was sent, else "".
    fn kept<'a>(&'a self, form: &str, value: &'a str) -> &'a str {
        if self.f.form == form { value } else { "" }
    }
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    f: Option<CatalogForm>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let (c, products) = catalog_service::catalog(&state.db, &actor, id).await?;
    let rules: Vec<RuleItem> = c
        .rules
        .iter()
        .filter_map(|r| {
            let kind = RuleKind::parse(&r.rule)?;
            Some(RuleItem {
                kind: kind.as_str(),
                label: kind.label(),
                target_id: r.target_id.clone(),
                target: match (&r.target, &r.target_name) {
                    (Some(t), Some(n)) => format!("{t} — {n}"),
                    (Some(t), None) => t.clone(),
                    (None, _) => format!("(deleted: {})", r.target_id),
                },
                missing: r.target.is_none(),
            })
        })
        .collect();
    let kinds: Vec<RuleKind> = c.rules.iter().filter_map(|r| RuleKind::parse(&r.rule)).collect();
    let hint = emptiness_hint(c.row.includes_all, &kinds);
    let categories = categories::admin_tree(&state.db, &actor).await?.iter().map(CategoryOption::from).collect();
    let groups = account_sync::groups(&state.db, &actor).await?.into_iter().map(|g| (g.id, g.name)).collect();
    let f = f.unwrap_or_else(|| CatalogForm {
        name: c.row.name.clone(),
        includes_all: c.row.includes_all.then(|| "1".into()),
        is_default: c.row.is_default.then(|| "1".into()),
        ..Default::default()
    });
    let page = DetailPage {
        shell: Shell::new(ctx, c.row.name.clone()).with_notice(notice),
        c,
        products,
        rules,
        hint,
        categories,
        groups,
        f,
        errors,
    };
    Ok((status_of(&page.errors), Html(page.render()?)).into_response())
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    detail_page(&state, &ctx, &id, q.notice.as_deref(), None, Vec::new()).await
}

/// Applies one change; back to the page with a notice, or the page again with the form's errors.
async fn apply(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    change: CatalogChange,
    notice: &str,
    f: CatalogForm,
) -> Result<Response, WebError> {
    match catalog_service::change_catalog(&state.db, state.now(), &ctx.actor(), id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/catalogs/{id}?notice={notice}")).into_response()),
        Err(e) => {
            let errors = refusal(e)?;
            refused(state, ctx, id, f, errors).await
        }
    }
}

/// The page again with a form's errors: the header form keeps what was typed; the other forms
/// keep the header as stored.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    f: CatalogForm,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let kept = if f.form == "header" {
        f
    } else {
        let (c, _) = catalog_service::catalog(&state.db, &ctx.actor(), id).await?;
        CatalogForm {
            name: c.row.name,
            includes_all: c.row.includes_all.then(|| "1".into()),
            is_default: c.row.is_default.then(|| "1".into()),
            ..f
        }
    };
    detail_page(state, ctx, id, None, Some(kept), errors).await
}

/// Deletes the catalog once the box is ticked; the default catalog is refused on the page.
async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CatalogForm>,
) -> Result<Response, WebError> {
    let refuse = |message: String| vec![FieldError { field: "confirm".into(), message }];
    let errors = if f.confirm.is_none() {
        refuse("Tick the box to confirm: a deleted catalog cannot be brought back.".into())
    } else {
        match catalog_service::delete_catalog(
            &state.db,
            state.now(),
            &ctx.actor(),
            catalog_service::CatalogKey::Id(&id),
        )
        .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/catalogs?notice=catalog_deleted").into_response()),
            Err(ServiceError::Conflict(m)) => refuse(m),
            Err(e) => return Err(e.into()),
        }
    };
    refused(&state, &ctx, &id, CatalogForm { form: "delete".into(), ..f }, errors).await
}

async fn save_header(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(mut f): Form<CatalogForm>,
) -> Result<Response, WebError> {
    f.form = "header".into();
    let change = CatalogChange::Header(f.header());
    apply(&state, &ctx, &id, change, "saved", f).await
}

async fn add_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CatalogForm>,
) -> Result<Response, WebError> {
    let Some(kind) = RuleKind::parse(&f.kind) else {
        let errors = vec![FieldError { field: "kind".into(), message: "Choose include or exclude.".into() }];
        return detail_page(&state, &ctx, &id, None, Some(f), errors).await;
    };
    let change = CatalogChange::AddRule { kind, target: f.target.clone() };
    apply(&state, &ctx, &id, change, "catalog_rule_added", f).await
}

#[derive(Deserialize)]
pub struct RemoveRuleForm {
    kind: String,
    target_id: String,
}

async fn remove_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(r): Form<RemoveRuleForm>,
) -> Result<Response, WebError> {
    let kind = RuleKind::parse(&r.kind).ok_or(WebError::NotFound)?;
    let change = CatalogChange::RemoveRule { kind, target_id: r.target_id };
    apply(&state, &ctx, &id, change, "catalog_rule_removed", CatalogForm::default()).await
}

async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CatalogForm>,
) -> Result<Response, WebError> {
    let change = match f.form.as_str() {
        "group" => CatalogChange::AssignGroup(f.group.clone()),
        _ => CatalogChange::AssignAccount(f.account.clone()),
    };
    apply(&state, &ctx, &id, change, "catalog_assigned", f).await
}

async fn unassign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    apply(&state, &ctx, &id, CatalogChange::Unassign(aid), "catalog_unassigned", CatalogForm::default()).await
}
