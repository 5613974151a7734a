//! Catalog pages: buyers browse and search their catalog and open products; staff "view as" an
//! account and see exactly the same pages (same service call, same templates).

use super::AppState;
use super::error::WebError;
use super::session::Ctx;
use super::shell::Shell;
use crate::service::carts::ListRow;
use crate::service::catalog::{self, BrowseQuery, PricedProduct, ProductDetail};
use crate::service::categories::CategoryRow;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/catalog", get(portal_catalog))
        .route("/portal/products/{sku}", get(portal_product))
        .route("/accounts/{id}/catalog", get(staff_catalog))
        .route("/accounts/{id}/products/{sku}", get(staff_product))
}

pub const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct CatalogQuery {
    #[serde(default)]
    q: String,
    category: Option<String>,
    after_name: Option<String>,
    after_id: Option<String>,
}

/// Whose catalog a page shows, and where its links point.
struct View {
    account_id: String,
    /// `/portal` for buyers, `/accounts/{id}` for staff viewing as the account.
    base: String,
    /// Set when staff view as an account: its name, for the banner.
    viewing_as: Option<String>,
    /// Whether the page offers "add to cart" (buyers who may order, staff acting for the account).
    can_order: bool,
}

async fn view_for(state: &AppState, ctx: &Ctx, account_id: Option<String>) -> Result<View, WebError> {
    match account_id {
        None => {
            // A buyer's own catalog, or the catalog of the account staff are acting for.
            let id = super::ordering::working(ctx)?;
            Ok(View {
                account_id: id,
                base: "/portal".into(),
                viewing_as: None,
                can_order: super::ordering::can_order(ctx),
            })
        }
        Some(id) => {
            if !ctx.session.principal.is_staff() {
                return Err(WebError::NotFound);
            }
            let account = crate::service::accounts::get_account(&state.db, &ctx.actor(), &id).await?;
            Ok(View {
                base: format!("/accounts/{id}"),
                account_id: id,
                viewing_as: Some(account.name),
                can_order: false,
            })
        }
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    shell: Shell,
    base: String,
    viewing_as: Option<String>,
    account_id: String,
    q: String,
    category: String,
    categories: std::sync::Arc<Vec<CategoryRow>>,
    items: Vec<PricedProduct>,
    next_page: Option<String>,
    heading: String,
    can_order: bool,
}

async fn render_catalog(state: &AppState, ctx: &Ctx, view: View, q: CatalogQuery) -> Result<Html<String>, WebError> {
    let after = match (&q.after_name, &q.after_id) {
        (Some(n), Some(i)) => Some((n.as_str(), i.as_str())),
        _ => None,
    };
    let category = q.category.clone().filter(|c| !c.is_empty());
    let page = catalog::browse(
        &state.db,
        state.now(),
        &ctx.actor(),
        &view.account_id,
        &BrowseQuery { category_id: category.as_deref(), term: &q.q, after, limit: PAGE_SIZE },
    )
    .await?;
    let heading = category
        .as_ref()
        .and_then(|id| page.categories.iter().find(|c| &c.id == id))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| if q.q.is_empty() { "Catalog".into() } else { format!("Results for “{}”", q.q) });
    let next_page = page.next.map(|(name, id)| {
        serde_urlencoded::to_string([
            ("q", q.q.as_str()),
            ("category", category.as_deref().unwrap_or("")),
            ("after_name", name.as_str()),
            ("after_id", id.as_str()),
        ])
        .unwrap_or_default()
    });
    let page = CatalogPage {
        shell: Shell::new(ctx, heading.clone()),
        base: view.base,
        viewing_as: view.viewing_as,
        account_id: view.account_id,
        q: q.q,
        category: category.unwrap_or_default(),
        categories: page.categories,
        items: page.items,
        next_page,
        heading,
        can_order: view.can_order,
    };
    Ok(Html(page.render()?))
}

async fn portal_catalog(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogQuery>,
) -> Result<Html<String>, WebError> {
    let view = view_for(&state, &ctx, None).await?;
    render_catalog(&state, &ctx, view, q).await
}

async fn staff_catalog(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<CatalogQuery>,
) -> Result<Html<String>, WebError> {
    let view = view_for(&state, &ctx, Some(id)).await?;
    render_catalog(&state, &ctx, view, q).await
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    shell: Shell,
    base: String,
    viewing_as: Option<String>,
    account_id: String,
    d: ProductDetail,
    can_order: bool,
    lists: Vec<ListRow>,
}

async fn render_product(state: &AppState, ctx: &Ctx, view: View, sku: &str) -> Result<Html<String>, WebError> {
    let d = catalog::product(&state.db, state.now(), &ctx.actor(), &view.account_id, sku).await?;
    let lists = if view.can_order {
        let own = &ctx.session.principal.user_id;
        let all = crate::service::carts::lists(&state.db, &ctx.order_actor(), &view.account_id).await?;
        all.into_iter().filter(|l| &l.owner_user_id == own).collect()
    } else {
        Vec::new()
    };
    let page = ProductPage {
        can_order: view.can_order,
        lists,
        shell: Shell::new(ctx, d.item.product.name.clone()),
        base: view.base,
        viewing_as: view.viewing_as,
        account_id: view.account_id,
        d,
    };
    Ok(Html(page.render()?))
}

async fn portal_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
) -> Result<Html<String>, WebError> {
    let view = view_for(&state, &ctx, None).await?;
    render_product(&state, &ctx, view, &sku).await
}

async fn staff_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sku)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    let view = view_for(&state, &ctx, Some(id)).await?;
    render_product(&state, &ctx, view, &sku).await
}
