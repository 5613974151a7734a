//! Account groups for ERP sync (scopes `accounts:read`, `accounts:write`): a group's price lists
//! and catalogs apply to its accounts. Listed by what changed since a time; created by name (the
//! key account documents and price lists name groups by).

use super::input::Checks;
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::account_sync::{self as sync, GroupRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account-groups", get(list_account_groups))
        .route("/api/v1/account-groups/{name}", put(put_account_group).delete(delete_account_group))
}

#[derive(Serialize, ToSchema)]
pub struct AccountGroupOut {
    id: String,
    name: String,
    created_at: i64,
    updated_at: i64,
}

fn group_out(g: GroupRow) -> AccountGroupOut {
    AccountGroupOut { id: g.id, name: g.name, created_at: g.created_at, updated_at: g.updated_at }
}

#[derive(Serialize, ToSchema)]
pub struct AccountGroupPage {
    account_groups: Vec<AccountGroupOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Account groups created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/account-groups", params(ChangesParams), responses((status = 200, body = AccountGroupPage)),
    security(("bearer" = ["accounts:read"])), tag = "accounts")]
pub async fn list_account_groups(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<AccountGroupPage>, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows =
        sync::groups_changed_since(&state.db, &Actor::api(&caller.0), c.since, c.after(), c.limit + 1).await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |g| cursor_of(g.updated_at, &g.id));
    Ok(Json(AccountGroupPage { account_groups: rows.into_iter().map(group_out).collect(), next_cursor }))
}

/// A group holds nothing but its name, today: send `{}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountGroupIn {}

#[derive(Serialize, ToSchema)]
pub struct AccountGroupUpsertOut {
    created: bool,
    /// False when the group existed (nothing was written).
    changed: bool,
    account_group: AccountGroupOut,
}

/// Creates the account group with this name, if there is none.
#[utoipa::path(put, path = "/api/v1/account-groups/{name}", params(("name" = String, Path, description = "The group's name, 1–100 characters")),
    request_body = AccountGroupIn,
    responses((status = 201, body = AccountGroupUpsertOut, description = "created"), (status = 200, body = AccountGroupUpsertOut, description = "it existed"),
    (status = 422, description = "a bad name", body = super::Problem)),
    security(("bearer" = ["accounts:write"])), tag = "accounts")]
pub async fn put_account_group(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<AccountGroupIn>, ApiError>,
) -> Result<(StatusCode, Json<AccountGroupUpsertOut>), ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let ApiPath(name) = path?;
    Checks::default().chars("name", &name, 1, 100).line("name", &name).done()?;
    let ApiJson(AccountGroupIn {}) = body?;
    let r = sync::upsert_group(&state.db, state.now(), &Actor::api(&caller.0), &name).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(AccountGroupUpsertOut { created: r.created, changed: r.changed, account_group: group_out(r.row) }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AccountGroupDeletedOut {
    account_group: AccountGroupOut,
    /// How many accounts left it (they keep their own catalogs and price lists).
    accounts: u64,
    /// How many catalog and price list assignments to it went.
    catalogs: u64,
    price_lists: u64,
}

/// Deletes the account group with this name: its accounts leave it, its catalog and price list
/// assignments go (those accounts, catalogs and price lists come again in the lists, changed).
#[utoipa::path(delete, path = "/api/v1/account-groups/{name}", params(("name" = String, Path, description = "The group's name")),
    responses((status = 200, body = AccountGroupDeletedOut, description = "deleted"),
    (status = 404, description = "no group has this name", body = super::Problem)),
    security(("bearer" = ["accounts:write"])), tag = "accounts")]
pub async fn delete_account_group(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<AccountGroupDeletedOut>, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let ApiPath(name) = path?;
    let actor = Actor::api(&caller.0);
    let id = sync::group_id(&state.db, &actor, &name).await?;
    let (group, gone) = sync::delete_group(&state.db, state.now(), &actor, &id).await?;
    Ok(Json(AccountGroupDeletedOut {
        account_group: group_out(group),
        accounts: gone.accounts,
        catalogs: gone.catalogs,
        price_lists: gone.price_lists,
    }))
}
