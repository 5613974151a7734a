//! The rep's side of routing through the API (scope `orders:write`): complete an order that went
//! to the rep (placed now, through stock and credit), or send it back to the customer — what a
//! rep does on the order's page.

use super::input::{ApiJson, ApiPath};
use super::orders::{OrderOut, StatusIn, actor, decision, load};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::orders as order_service;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders/{id}/complete", post(complete_order))
        .route("/api/v1/orders/{id}/send-back", post(send_back_order))
}

/// Complete an order that went to the rep (`escalated`): it is priced again and placed now,
/// through stock and credit (it may come back `on_hold`). `reason` is an optional comment.
#[utoipa::path(post, path = "/api/v1/orders/{id}/complete", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order is not with the rep", body = super::Problem),
    (status = 422, description = "a line can no longer be ordered (e.g. out_of_stock)", body = super::Problem)),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn complete_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    let (id, b) = decision(&caller, Scope::OrdersWrite, path, body)?;
    let o = order_service::complete_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version, &b.reason)
        .await?;
    load(&state, &caller, &o.id).await
}

/// Send an order that went to the rep back to the customer: it is cancelled with the reason
/// (required), which the customer reads.
#[utoipa::path(post, path = "/api/v1/orders/{id}/send-back", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order is not with the rep", body = super::Problem),
    (status = 422, description = "no reason given", body = super::Problem)),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn send_back_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    let (id, b) = decision(&caller, Scope::OrdersWrite, path, body)?;
    let o = order_service::send_back_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version, &b.reason)
        .await?;
    load(&state, &caller, &o.id).await
}
