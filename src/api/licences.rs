//! An account's licences for regulated products through the API: read them (`licences:read`) and
//! record them from the ERP or compliance system (`licences:write`, an upsert by type and number).
//! Verifying a licence's document stays with staff on the account page: a person checks it.

use super::input::{ApiJson, ApiPath, reference};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::catalog::today;
use crate::service::licences::{self as licence_service, LicenceDraft, LicenceRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/accounts/{account}/licences", get(list_licences).put(put_licence))
}

/// A licence an account holds.
#[derive(Serialize, ToSchema)]
pub struct LicenceOut {
    id: String,
    account_id: String,
    /// `dea`, `state_controlled`, `state_pharmacy` or `rx_device`.
    licence_type: String,
    number: String,
    /// The issuing state; "" for a federal registration (covers every state).
    issuing_region: String,
    #[schema(format = Date)]
    valid_from: Option<String>,
    /// The last valid day.
    #[schema(format = Date)]
    expires_on: String,
    /// Whether staff verified its document (rules may demand it).
    verified: bool,
    has_document: bool,
    /// `valid`, `expires_soon` (within 30 days), `expired`, `not_yet_valid` or `unverified`.
    status: String,
}

fn out(l: &LicenceRow, now: i64) -> LicenceOut {
    use crate::domain::licences::LicenceStatus;
    let status = match l.status(today(now)) {
        LicenceStatus::Expired => "expired",
        LicenceStatus::NotYetValid => "not_yet_valid",
        LicenceStatus::Unverified => "unverified",
        LicenceStatus::ExpiresSoon(_) => "expires_soon",
        LicenceStatus::Valid => "valid",
    };
    LicenceOut {
        id: l.id.clone(),
        account_id: l.account_id.clone(),
        licence_type: l.licence_type.clone(),
        number: l.number.clone(),
        issuing_region: l.issuing_region.clone(),
        valid_from: l.valid_from.clone(),
        expires_on: l.expires_on.clone(),
        verified: l.verified(),
        has_document: l.document_name.is_some(),
        status: status.into(),
    }
}

/// An account's licences (an account holds a handful: not paged).
#[derive(Serialize, ToSchema)]
pub struct LicenceList {
    licences: Vec<LicenceOut>,
}

/// The licences of an account.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/licences", params(("account" = String, Path, description = "Account id, number (A-10001) or external id")),
    responses((status = 200, body = LicenceList), (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["licences:read"])), tag = "licences")]
pub async fn list_licences(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<LicenceList>, ApiError> {
    caller.require(Scope::LicencesRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &id).await?;
    let rows = licence_service::account_licences(&state.db, &actor, &account.id).await?;
    let now = state.now();
    Ok(Json(LicenceList { licences: rows.iter().map(|l| out(l, now)).collect() }))
}

/// A licence as the ERP sends it; the licence is found by type and number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceIn {
    licence_type: String,
    number: String,
    #[serde(default)]
    issuing_region: String,
    #[schema(format = Date)]
    #[serde(default)]
    valid_from: Option<String>,
    #[schema(format = Date)]
    expires_on: String,
}

/// Records a licence (found by type and number: created, or updated — a changed licence needs
/// verifying again; the same licence sent again changes nothing).
#[utoipa::path(put, path = "/api/v1/accounts/{account}/licences", params(("account" = String, Path, description = "Account id, number (A-10001) or external id")),
    request_body = LicenceIn,
    responses((status = 201, body = LicenceOut, description = "created"), (status = 200, body = LicenceOut, description = "updated or unchanged"),
    (status = 404, description = "no such account", body = super::Problem), (status = 422, description = "a bad field", body = super::Problem)),
    security(("bearer" = ["licences:write"])), tag = "licences")]
pub async fn put_licence(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<LicenceIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::LicencesWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &id).await?;
    let draft = LicenceDraft {
        licence_type: b.licence_type,
        number: b.number,
        issuing_region: b.issuing_region,
        valid_from: b.valid_from.unwrap_or_default(),
        expires_on: b.expires_on,
    };
    let now = state.now();
    let (row, created) = licence_service::put_licence(&state.db, now, &actor, &account.id, &draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(out(&row, now))).into_response())
}
