//! Customer catalogs for ERP sync (scopes `catalogs:read`, `catalogs:write`): which products the
//! accounts and groups a catalog is assigned to may see and buy. Listed by what changed since a
//! time (its header, rules or assignments); created and replaced whole by the ERP's own id.

use super::input::Checks;
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::customer_catalogs::{MAX_ASSIGNMENTS, MAX_RULES};
use crate::service::Actor;
use crate::service::catalogs::{self as catalog_service, CatalogDoc, CatalogView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/catalogs", get(list_catalogs))
        .route("/api/v1/catalogs/{external_id}", put(put_catalog).delete(delete_catalog))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogRuleOut {
    /// `include_category`, `exclude_category`, `include_product` or `exclude_product`.
    rule: String,
    /// The category's path or the product's SKU (its id if it no longer exists).
    target: String,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogAccountOut {
    id: String,
    number: String,
    external_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogOut {
    id: String,
    /// The ERP's id; absent for catalogs made on the admin pages.
    external_id: Option<String>,
    name: String,
    /// Every product, minus what the rules exclude.
    includes_all: bool,
    /// What accounts see that have no catalog of their own or of their group.
    default: bool,
    rules: Vec<CatalogRuleOut>,
    /// The accounts the catalog is assigned to.
    accounts: Vec<CatalogAccountOut>,
    /// The account groups (by name) the catalog is assigned to.
    groups: Vec<String>,
    created_at: i64,
    /// Changes to the header, rules and assignments all count.
    updated_at: i64,
}

fn catalog_out(v: CatalogView) -> CatalogOut {
    CatalogOut {
        id: v.row.id,
        external_id: v.row.external_id,
        name: v.row.name,
        includes_all: v.row.includes_all,
        default: v.row.is_default,
        rules: v
            .rules
            .into_iter()
            .map(|r| CatalogRuleOut { rule: r.rule, target: r.target.unwrap_or(r.target_id) })
            .collect(),
        accounts: v
            .assignments
            .iter()
            .filter_map(|a| {
                Some(CatalogAccountOut {
                    id: a.account_id.clone()?,
                    number: a.account_number.clone().unwrap_or_default(),
                    external_id: a.account_external_id.clone(),
                })
            })
            .collect(),
        groups: v.assignments.iter().filter_map(|a| a.group_name.clone()).collect(),
        created_at: v.row.created_at,
        updated_at: v.row.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct CatalogPage {
    catalogs: Vec<CatalogOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Customer catalogs created or changed since a time, oldest change first, with their rules and
/// assignments.
#[utoipa::path(get, path = "/api/v1/catalogs", params(ChangesParams), responses((status = 200, body = CatalogPage)),
    security(("bearer" = ["catalogs:read"])), tag = "catalog")]
pub async fn list_catalogs(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<CatalogPage>, ApiError> {
    caller.require(Scope::CatalogsRead)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows =
        catalog_service::catalogs_changed_since(&state.db, &Actor::api(&caller.0), c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |v| cursor_of(v.row.updated_at, &v.row.id));
    Ok(Json(CatalogPage { catalogs: rows.into_iter().map(catalog_out).collect(), next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogRuleIn {
    #[schema(pattern = "^(include|exclude)_(category|product)$")]
    rule: String,
    /// A category's path (`Medical / Gloves`) or id for category rules; a SKU for product rules.
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    target: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// Every product, minus what the rules exclude (default false: only what the rules include).
    #[serde(default)]
    includes_all: bool,
    /// Make this the default catalog (the one it replaces stops being default); absent keeps the
    /// current flag (false for a new catalog).
    default: Option<bool>,
    /// Every rule of the catalog; rules not listed are removed.
    #[serde(default)]
    #[schema(max_items = 1000)]
    rules: Vec<CatalogRuleIn>,
    /// Accounts (id, number or ERP id) the catalog is assigned to; absent keeps the current ones.
    #[schema(max_items = 10000)]
    accounts: Option<Vec<String>>,
    /// Account groups (by name) the catalog is assigned to; absent keeps the current ones.
    #[schema(max_items = 10000)]
    groups: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogUpsertOut {
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
    catalog: CatalogOut,
}

/// Creates or replaces the customer catalog with this ERP id: its header, every rule and (when
/// named) every assignment. Product membership follows at once.
#[utoipa::path(put, path = "/api/v1/catalogs/{external_id}", params(("external_id" = String, Path, description = "The ERP's id, 1–64 characters")),
    request_body = CatalogIn,
    responses((status = 201, body = CatalogUpsertOut, description = "created"), (status = 200, body = CatalogUpsertOut, description = "updated, or unchanged"),
    (status = 422, description = "every bad field (also: an unknown category, SKU, account or group, a name another catalog has); nothing changed", body = super::Problem)),
    security(("bearer" = ["catalogs:write"])), tag = "catalog")]
pub async fn put_catalog(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<CatalogIn>, ApiError>,
) -> Result<(StatusCode, Json<CatalogUpsertOut>), ApiError> {
    caller.require(Scope::CatalogsWrite)?;
    let ApiPath(external_id) = path?;
    let ApiJson(b) = body?;
    Checks::default()
        .chars("external_id", &external_id, 1, 64)
        .line("external_id", &external_id)
        .chars("name", &b.name, 1, 100)
        .items("rules", b.rules.len(), 0, MAX_RULES)
        .items("accounts", b.accounts.as_ref().map_or(0, Vec::len), 0, MAX_ASSIGNMENTS)
        .items("groups", b.groups.as_ref().map_or(0, Vec::len), 0, MAX_ASSIGNMENTS)
        .done()?;
    let doc = CatalogDoc {
        name: b.name,
        includes_all: b.includes_all,
        is_default: b.default,
        rules: b.rules.into_iter().map(|r| (r.rule, r.target)).collect(),
        accounts: b.accounts,
        groups: b.groups,
    };
    let r = catalog_service::upsert_catalog(&state.db, state.now(), &Actor::api(&caller.0), &external_id, &doc).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(CatalogUpsertOut { created: r.created, changed: r.changed, catalog: catalog_out(r.row) })))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogDeletedOut {
    external_id: String,
    name: String,
}

/// Deletes the customer catalog with this ERP id, with its rules and assignments: those accounts
/// and groups see their other catalogs, or the default one. The default catalog is refused (409).
#[utoipa::path(delete, path = "/api/v1/catalogs/{external_id}", params(("external_id" = String, Path, description = "The ERP's id")),
    responses((status = 200, body = CatalogDeletedOut, description = "deleted"),
    (status = 404, description = "no catalog has this ERP id", body = super::Problem),
    (status = 409, description = "it is the default catalog", body = super::Problem)),
    security(("bearer" = ["catalogs:write"])), tag = "catalog")]
pub async fn delete_catalog(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<CatalogDeletedOut>, ApiError> {
    caller.require(Scope::CatalogsWrite)?;
    let ApiPath(external_id) = path?;
    let key = catalog_service::CatalogKey::External(&external_id);
    let name = catalog_service::delete_catalog(&state.db, state.now(), &Actor::api(&caller.0), key).await?;
    Ok(Json(CatalogDeletedOut { external_id, name }))
}
