//! Staff product administration: every product (active or not), its stock per warehouse with a
//! stock adjustment form, and every price that applies to it.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::Shell;
use crate::service::catalog::ListedProduct;
use crate::service::catalog::{self, StaffProduct};
use crate::service::categories::CategoryRow;
use crate::service::imports::Kind;
use crate::service::inventory;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/products", get(list))
        .route("/admin/products/{sku}", get(detail))
        .route("/admin/products/{sku}/stock", post(adjust))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// Only products in this category (and its subcategories).
    category: Option<String>,
    after_name: Option<String>,
    after_id: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_products.html")]
struct ListPage {
    shell: Shell,
    q: String,
    category: Option<CategoryRow>,
    items: Vec<ListedProduct>,
    next_page: Option<String>,
    exports: Vec<super::exports::ExportLink>,
}

const PAGE: i64 = 50;

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Html<String>, WebError> {
    let after = match (&q.after_name, &q.after_id) {
        (Some(n), Some(i)) => Some((n.as_str(), i.as_str())),
        _ => None,
    };
    let category_id = q.category.as_deref().filter(|c| !c.is_empty());
    let (mut items, category) =
        catalog::staff_products(&state.db, &ctx.actor(), &q.q, category_id, after, PAGE + 1).await?;
    let next_page = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(|l| {
            serde_urlencoded::to_string([
                ("q", q.q.as_str()),
                ("category", category_id.unwrap_or("")),
                ("after_name", l.product.name.as_str()),
                ("after_id", l.product.id.as_str()),
            ])
            .unwrap_or_default()
        })
    } else {
        None
    };
    Ok(Html(
        ListPage {
            exports: super::exports::export_links(&ctx.actor(), &[Kind::Products, Kind::Stock]),
            shell: Shell::new(&ctx, "Products"),
            q: q.q,
            category,
            items,
            next_page,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "admin_product.html")]
struct DetailPage {
    shell: Shell,
    d: StaffProduct,
    /// The admin may set the regulated class (licence rules apply to it).
    can_edit_class: bool,
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let d = catalog::staff_product(&state.db, &ctx.actor(), &sku).await?;
    let can_edit_class = ctx.session.principal.can(crate::domain::auth::Permission::ManageCatalog);
    let shell = Shell::new(&ctx, d.product.name.clone()).with_notice(q.notice.as_deref());
    let page = DetailPage { shell, d, can_edit_class };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct AdjustForm {
    warehouse: String,
    delta: String,
    reason: String,
}

async fn adjust(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    Form(f): Form<AdjustForm>,
) -> Result<Redirect, WebError> {
    let delta: i64 = f.delta.trim().trim_start_matches('+').parse().map_err(|_| {
        crate::service::ServiceError::invalid(
            "delta",
            format!("“{}” is not a whole number of units (e.g. 25 or -3).", f.delta),
        )
    })?;
    inventory::adjust_stock(&state.db, state.now(), &ctx.actor(), &sku, &f.warehouse, delta, &f.reason).await?;
    Ok(Redirect::to(&format!(
        "/admin/products/{}?notice=saved",
        super::session::urlencode(&crate::domain::catalog::Sku::normalize(&sku))
    )))
}
