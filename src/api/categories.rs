//! The category tree over the API: read it (`catalog:read`), make sure a path exists, creating
//! missing levels (`catalog:write`, idempotent), and delete an empty category (`catalog:write`).

use super::input::{Checks, MAX_SORT, reference};
use super::{ApiCaller, ApiError, ApiJson, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::categories::{self, CategoryView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/categories", get(list_categories).put(put_category).delete(delete_category))
}

fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

/// A category of the tree.
#[derive(Serialize, ToSchema)]
pub struct CategoryOut {
    id: String,
    /// Full path, levels separated by " / ", e.g. "Medical / Gloves / Nitrile".
    path: String,
    /// The last level of the path.
    name: String,
    /// Path of the parent; absent for a top-level category.
    parent: Option<String>,
    /// Order among siblings (lower first; equal ones by name).
    sort: i64,
    /// Products in the category and its subcategories, active or not.
    product_count: i64,
    /// Active products in the category and its subcategories.
    active_product_count: i64,
}

fn category_out(c: CategoryView) -> CategoryOut {
    CategoryOut {
        id: c.row.id,
        path: c.row.path,
        name: c.row.name,
        parent: c.parent_path,
        sort: c.row.sort,
        product_count: c.products,
        active_product_count: c.active_products,
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    /// Every category, depth-first: each parent before its children, siblings in sort order.
    items: Vec<CategoryOut>,
}

/// The whole category tree as a flat list.
#[utoipa::path(get, path = "/api/v1/categories", responses(
    (status = 200, body = CategoryList)
), security(("bearer" = ["catalog:read"])), tag = "catalog")]
pub async fn list_categories(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<CategoryList>, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let tree = categories::tree(&state.db, &actor(&caller)).await?;
    Ok(Json(CategoryList { items: tree.into_iter().map(category_out).collect() }))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryIn {
    /// Full path, levels separated by " / ". Each level: 1–80 characters, no " / ", matched to an
    /// existing sibling ignoring case (the stored name is kept).
    #[schema(min_length = 1, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    path: String,
    /// Order among siblings for the last level; when absent a new category gets 0 and an existing
    /// one keeps its order.
    #[schema(minimum = -1_000_000, maximum = 1_000_000)]
    sort: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryUpsertOut {
    category: CategoryOut,
    /// Whether the category at `path` was created by this request.
    created: bool,
    /// Whether anything was written (created, or its sort changed).
    changed: bool,
    /// Paths created by this request, ancestors first.
    created_paths: Vec<String>,
}

/// Make sure a category path exists: creates the category and any missing ancestors. Idempotent:
/// the same body again changes nothing (200, `created: false`, `changed: false`).
#[utoipa::path(put, path = "/api/v1/categories", request_body = CategoryIn, responses(
    (status = 200, description = "existed (its sort may have changed)", body = CategoryUpsertOut),
    (status = 201, description = "created", body = CategoryUpsertOut),
    (status = 422, description = "a bad path (also: an empty level, a level over 80 characters) or sort; nothing changed", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn put_category(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<CategoryIn>, ApiError>,
) -> Result<(StatusCode, Json<CategoryUpsertOut>), ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiJson(b) = body?;
    Checks::default().chars("path", &b.path, 1, usize::MAX).range_opt("sort", b.sort, -MAX_SORT, MAX_SORT).done()?;
    let r = categories::ensure_path(&state.db, state.now(), &actor(&caller), &b.path, b.sort).await?;
    let created = !r.created.is_empty();
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let out =
        CategoryUpsertOut { category: category_out(r.category), created, changed: r.changed, created_paths: r.created };
    Ok((status, Json(out)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathParam {
    /// Full path of the category, e.g. "Medical / Gloves / Nitrile".
    #[param(min_length = 1)]
    path: String,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryDeletedOut {
    id: String,
    path: String,
}

/// Delete a category. Only an empty one: a category that still has products or subcategories is
/// refused (409, naming how many block it) and nothing changes. Catalog rules naming it go with it.
#[utoipa::path(delete, path = "/api/v1/categories", params(PathParam), responses(
    (status = 200, body = CategoryDeletedOut), (status = 404, description = "no category at this path", body = super::Problem),
    (status = 409, description = "still has products or subcategories", body = super::Problem),
    (status = 422, description = "no path, or one that cannot be a category's", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn delete_category(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<PathParam>, ApiError>,
) -> Result<Json<CategoryDeletedOut>, ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiQuery(PathParam { path }) = query?;
    if path.is_empty() {
        return Err(ApiError::invalid("path", "send the category's path, e.g. ?path=Medical%20%2F%20Gloves"));
    }
    reference(&path)?;
    let row = categories::delete_path(&state.db, state.now(), &actor(&caller), &path).await?;
    Ok(Json(CategoryDeletedOut { id: row.id, path: row.path }))
}
