//! Warehouses over the API: listed by what changed since a time (`catalog:read`), created and
//! changed by code (`stock:write`, as counting and adjusting their stock).

use super::input::{Checks, MAX_SORT};
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::warehouses::{self as warehouse_service, WarehouseRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/warehouses", get(list_warehouses))
        .route("/api/v1/warehouses/{code}", put(put_warehouse))
}

#[derive(Serialize, ToSchema)]
pub struct WarehouseOut {
    id: String,
    code: String,
    name: String,
    /// Lower first where warehouses are listed.
    sort: i64,
    created_at: i64,
    updated_at: i64,
}

fn warehouse_out(w: WarehouseRow) -> WarehouseOut {
    WarehouseOut {
        id: w.id,
        code: w.code,
        name: w.name,
        sort: w.sort,
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct WarehousePage {
    warehouses: Vec<WarehouseOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Warehouses created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/warehouses", params(ChangesParams), responses((status = 200, body = WarehousePage)),
    security(("bearer" = ["catalog:read"])), tag = "stock")]
pub async fn list_warehouses(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<WarehousePage>, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows =
        warehouse_service::warehouses_changed_since(&state.db, &Actor::api(&caller.0), c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |w| cursor_of(w.updated_at, &w.id));
    Ok(Json(WarehousePage { warehouses: rows.into_iter().map(warehouse_out).collect(), next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// Lower first where warehouses are listed (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    sort: i64,
}

#[derive(Serialize, ToSchema)]
pub struct WarehouseUpsertOut {
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
    warehouse: WarehouseOut,
}

/// Creates or updates the warehouse with this code.
#[utoipa::path(put, path = "/api/v1/warehouses/{code}", params(("code" = String, Path, description = "1–32 characters")),
    request_body = WarehouseIn,
    responses((status = 201, body = WarehouseUpsertOut, description = "created"), (status = 200, body = WarehouseUpsertOut, description = "updated, or unchanged"),
    (status = 422, description = "every bad field; nothing changed", body = super::Problem)),
    security(("bearer" = ["stock:write"])), tag = "stock")]
pub async fn put_warehouse(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<WarehouseIn>, ApiError>,
) -> Result<(StatusCode, Json<WarehouseUpsertOut>), ApiError> {
    caller.require(Scope::StockWrite)?;
    let ApiPath(code) = path?;
    let ApiJson(b) = body?;
    Checks::default()
        .chars("code", &code, 1, 32)
        .line("code", &code)
        .chars("name", &b.name, 1, 100)
        .range("sort", b.sort, 0, MAX_SORT)
        .done()?;
    let r = warehouse_service::upsert_warehouse(&state.db, state.now(), &Actor::api(&caller.0), &code, &b.name, b.sort)
        .await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(WarehouseUpsertOut { created: r.created, changed: r.changed, warehouse: warehouse_out(r.row) })))
}
