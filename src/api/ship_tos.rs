//! An account's ship-to locations for ERP sync (scopes `accounts:read`, `accounts:write`): list
//! what changed since a time by cursor, and upsert one by the ERP's own id (unique within the
//! account). The account service holds the rules, as for the staff pages.

use super::accounts::{AddressIn, AddressOut, address_out, api_fields};
use super::input::{Checks, reference};
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::account_sync::{self as account_service, ShipToRow, ShipToUpsert};
use crate::service::accounts::find_account;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/{account}/ship-tos", get(list_ship_tos))
        .route("/api/v1/accounts/{account}/ship-tos/{ship_to}", put(put_ship_to))
}

#[derive(Serialize, ToSchema)]
pub struct ShipToOut {
    id: String,
    account_id: String,
    /// The ERP's id (the key of `PUT …/ship-tos/{ship_to}`); none for one added on the pages.
    external_id: Option<String>,
    label: String,
    address: AddressOut,
    /// The account's default ship-to (exactly one is).
    default: bool,
    created_at: i64,
    updated_at: i64,
}

fn ship_to_out(s: ShipToRow) -> ShipToOut {
    ShipToOut {
        address: address_out(s.address()),
        id: s.id,
        account_id: s.account_id,
        external_id: s.external_id,
        label: s.label,
        default: s.is_default,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ShipToPage {
    ship_tos: Vec<ShipToOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// An account's ship-tos created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/ship-tos", params(("account" = String, Path, description = "Account id, number (A-10001) or external id"), ChangesParams),
    responses((status = 200, body = ShipToPage), (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["accounts:read"])), tag = "accounts")]
pub async fn list_ship_tos(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<ShipToPage>, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let ApiPath(account) = path?;
    reference(&account)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &account).await?;
    let mut rows =
        account_service::ship_tos_changed_since(&state.db, &actor, &account.id, c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |r| cursor_of(r.updated_at, &r.id));
    Ok(Json(ShipToPage { ship_tos: rows.into_iter().map(ship_to_out).collect(), next_cursor }))
}

/// A ship-to as the ERP sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipToIn {
    /// What people call the location, e.g. "Main warehouse".
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    label: String,
    address: AddressIn,
    /// Makes it the account's default ship-to; `false` (the default) leaves the default where it
    /// is. An account's first ship-to is its default.
    #[serde(default)]
    default: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ShipToUpsertOut {
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
    ship_to: ShipToOut,
}

/// Creates or updates the account's ship-to with this external (ERP) id.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/ship-tos/{ship_to}", params(
        ("account" = String, Path, description = "Account id, number (A-10001) or external id"),
        ("ship_to" = String, Path, description = "The ship-to's external (ERP) id, 1–100 characters, unique within the account")),
    request_body = ShipToIn,
    responses((status = 201, body = ShipToUpsertOut, description = "created"), (status = 200, body = ShipToUpsertOut, description = "updated, or unchanged"),
    (status = 404, description = "no such account", body = super::Problem), (status = 422, description = "every bad field; nothing changed", body = super::Problem)),
    security(("bearer" = ["accounts:write"])), tag = "accounts")]
pub async fn put_ship_to(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<ShipToIn>, ApiError>,
) -> Result<(StatusCode, Json<ShipToUpsertOut>), ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let ApiPath((account, external_id)) = path?;
    reference(&account)?;
    Checks::default().chars("ship_to", &external_id, 1, 100).line("ship_to", &external_id).done()?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks.chars("label", &b.label, 1, 100);
    b.address.check(&mut checks, "address.");
    checks.done()?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &account).await?;
    let u = ShipToUpsert { label: b.label, address: b.address.address(), make_default: b.default };
    let r = account_service::upsert_ship_to(&state.db, state.now(), &actor, &account.id, &external_id, u)
        .await
        .map_err(|e| api_fields(e, &[("ship_label", "label"), ("external_id", "ship_to")]))?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ShipToUpsertOut { created: r.created, changed: r.changed, ship_to: ship_to_out(r.row) })))
}
