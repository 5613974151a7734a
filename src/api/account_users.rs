//! An account's users for ERP/CRM sync (scopes `accounts:read`, `accounts:write`): list what
//! changed since a time by cursor, and upsert one by e-mail address — a new address is invited
//! through the same path as on the pages (the set-password link goes to the user's own mailbox;
//! the API never takes or gives a password or a link).

use super::input::{Checks, reference};
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::{BuyerRole, Scope};
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::users::{self as user_service, AccountUserUpsert, UserRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/{account}/users", get(list_account_users))
        .route("/api/v1/accounts/{account}/users/{email}", put(put_account_user))
}

#[derive(Serialize, ToSchema)]
pub struct AccountUserOut {
    id: String,
    account_id: String,
    email: String,
    name: String,
    /// `manager`, `buyer`, `requester`, `finance` or `viewer`.
    role: String,
    active: bool,
    /// False until the user sets a password through their invitation link.
    accepted_invitation: bool,
    last_sign_in_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn user_out(u: UserRow) -> AccountUserOut {
    AccountUserOut {
        accepted_invitation: u.has_password(),
        id: u.id,
        account_id: u.account_id.unwrap_or_default(),
        email: u.email,
        name: u.name,
        role: u.roles,
        active: u.active,
        last_sign_in_at: u.last_sign_in_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountUserPage {
    users: Vec<AccountUserOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// An account's users created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/users", params(("account" = String, Path, description = "Account id, number (A-10001) or external id"), ChangesParams),
    responses((status = 200, body = AccountUserPage), (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["accounts:read"])), tag = "accounts")]
pub async fn list_account_users(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<AccountUserPage>, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let ApiPath(account) = path?;
    reference(&account)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &account).await?;
    let mut rows =
        user_service::account_users_changed_since(&state.db, &actor, &account.id, c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |u| cursor_of(u.updated_at, &u.id));
    Ok(Json(AccountUserPage { users: rows.into_iter().map(user_out).collect(), next_cursor }))
}

/// An account user as the ERP or CRM sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUserIn {
    #[schema(min_length = 1, max_length = 120, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// The buyer role.
    #[schema(pattern = r"^(manager|buyer|requester|finance|viewer)$")]
    role: String,
    /// Default true. False deactivates the user (ending their sessions); an account keeps at least
    /// one active manager.
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, ToSchema)]
pub struct AccountUserUpsertOut {
    /// True when the user was invited now (a set-password link went to their address).
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
    user: AccountUserOut,
}

/// Invites the account's user with this e-mail address, or updates their name, role and status.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/users/{email}", params(
        ("account" = String, Path, description = "Account id, number (A-10001) or external id"),
        ("email" = String, Path, description = "The user's e-mail address (at most 254 characters)")),
    request_body = AccountUserIn,
    responses((status = 201, body = AccountUserUpsertOut, description = "invited"), (status = 200, body = AccountUserUpsertOut, description = "updated, or unchanged"),
    (status = 404, description = "no such account", body = super::Problem),
    (status = 422, description = "every bad field (also: an address in use outside this account, the last active manager demoted); nothing changed", body = super::Problem)),
    security(("bearer" = ["accounts:write"])), tag = "accounts")]
pub async fn put_account_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<AccountUserIn>, ApiError>,
) -> Result<(StatusCode, Json<AccountUserUpsertOut>), ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let ApiPath((account, email)) = path?;
    reference(&account)?;
    Checks::default().chars("email", &email, 1, 254).line("email", &email).done()?;
    let ApiJson(b) = body?;
    let role = BuyerRole::parse(&b.role).filter(|_| b.role.trim() == b.role);
    Checks::default()
        .chars("name", &b.name, 1, 120)
        .holds("role", role.is_some(), "one of manager, buyer, requester, finance, viewer")
        .done()?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &account).await?;
    let u = AccountUserUpsert { name: b.name, role: role.unwrap_or(BuyerRole::Viewer), active: b.active };
    let (user, created, changed) =
        user_service::upsert_account_user(&state.db, state.now(), &actor, &account.id, &email, u).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(AccountUserUpsertOut { created, changed, user: user_out(user) })))
}
