//! Webhook endpoints through the API (`webhooks:read`, `webhooks:write`): what an integration
//! needs to subscribe itself, rotate its secret, and see and replay its deliveries. The payloads
//! and the signature are described in docs/webhooks.md.

use super::input::{ApiJson, ApiPath, ApiQuery, Checks, reference};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::webhooks::{self as service, EndpointInput, EndpointRow, EndpointSummary};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{id}", get(get_webhook).patch(update_webhook).delete(delete_webhook))
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate_webhook_secret))
        .route("/api/v1/webhooks/{id}/test", post(test_webhook))
        .route("/api/v1/webhooks/{id}/deliveries", get(list_webhook_deliveries))
        .route("/api/v1/webhooks/{id}/deliveries/{delivery}/replay", post(replay_webhook_delivery))
}

/// A webhook endpoint (its secret is shown only when it is created or rotated).
#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointOut {
    id: String,
    url: String,
    description: String,
    /// Event types and families (`order.*`), or `["*"]` for every type.
    event_types: Vec<String>,
    /// A paused endpoint receives nothing until it is active again (events meanwhile are not queued for it).
    active: bool,
    /// Deliveries waiting (first attempt or a retry).
    pending: i64,
    /// Deliveries given up after the last retry (replay them).
    dead: i64,
    /// Unix seconds of the last successful delivery.
    last_delivered_at: Option<i64>,
    /// Until when (Unix seconds) the previous secret signs beside the current one, after a rotation.
    previous_secret_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn types_of(e: &EndpointRow) -> Vec<String> {
    e.event_types.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn out(s: &EndpointSummary, now: i64) -> WebhookEndpointOut {
    let e = &s.endpoint;
    WebhookEndpointOut {
        id: e.id.clone(),
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: types_of(e),
        active: e.active,
        pending: s.pending,
        dead: s.dead,
        last_delivered_at: s.last_delivered_at,
        previous_secret_until: e.previous_until.filter(|u| *u > now),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointList {
    endpoints: Vec<WebhookEndpointOut>,
}

/// The webhook endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, body = WebhookEndpointList)),
    security(("bearer" = ["webhooks:read"])), tag = "webhooks")]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let rows = service::endpoints(&state.db, &Actor::api(&caller.0)).await?;
    let now = state.now();
    Ok(Json(WebhookEndpointList { endpoints: rows.iter().map(|e| out(e, now)).collect() }))
}

/// A new endpoint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointIn {
    /// `https://` (or `http://`) URL on a public address (private networks only where the server's
    /// `PORTICO_WEBHOOKS_ALLOW_NETWORKS` allows them).
    #[schema(min_length = 1, max_length = 2000)]
    url: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    description: String,
    /// Event types (`order.placed`), families (`invoice.*`) or `*` for all (the list is in docs/webhooks.md).
    #[schema(min_items = 1, max_items = 100)]
    event_types: Vec<EventTypeName>,
    /// Default true.
    #[serde(default)]
    active: Option<bool>,
}

/// An event type (`order.placed`), a family (`order.*`) or `*`.
#[derive(Deserialize, ToSchema)]
#[schema(value_type = String, pattern = r"^(\*|[a-z_]{1,30}\.(\*|[a-z_]{1,40}))$")]
#[serde(transparent)]
pub struct EventTypeName(String);

/// The endpoint with its signing secret: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointCreatedOut {
    endpoint: WebhookEndpointOut,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it.
    secret: String,
}

fn check_in(url: &str, description: &str, types: &[EventTypeName]) -> Result<(), ApiError> {
    let mut c = Checks::default();
    c.chars("url", url, 1, 2000).line("url", url).chars("description", description, 0, 200).items(
        "event_types",
        types.len(),
        1,
        100,
    );
    for (i, t) in types.iter().enumerate() {
        c.chars(&format!("event_types[{i}]"), &t.0, 1, 60).line(&format!("event_types[{i}]"), &t.0);
    }
    c.done()
}

/// Adds an endpoint; its secret is in the answer, and only there.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = WebhookEndpointIn,
    responses((status = 201, body = WebhookEndpointCreatedOut), (status = 422, description = "a bad field (URL, a private address, an unknown event type)", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<WebhookEndpointIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let ApiJson(b) = body?;
    check_in(&b.url, &b.description, &b.event_types)?;
    let input = EndpointInput {
        url: b.url,
        description: b.description,
        event_types: b.event_types.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(" "),
        active: b.active.unwrap_or(true),
    };
    let actor = Actor::api(&caller.0);
    let (row, secret) =
        service::create_endpoint(&state.db, state.now(), &actor, &input, &state.config.webhooks.allow).await?;
    let summary = service::endpoint(&state.db, &actor, &row.id).await?;
    let body = WebhookEndpointCreatedOut { endpoint: out(&summary, state.now()), secret };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn path_id(caller: &ApiCaller, scope: Scope, path: Result<ApiPath<String>, ApiError>) -> Result<String, ApiError> {
    caller.require(scope)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    Ok(id)
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, body = WebhookEndpointOut), (status = 404, description = "no such endpoint", body = super::Problem)),
    security(("bearer" = ["webhooks:read"])), tag = "webhooks")]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<WebhookEndpointOut>, ApiError> {
    let id = path_id(&caller, Scope::WebhooksRead, path)?;
    let e = service::endpoint(&state.db, &Actor::api(&caller.0), &id).await?;
    Ok(Json(out(&e, state.now())))
}

/// What to change on an endpoint (fields left out stay as they are).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointPatch {
    #[schema(min_length = 1, max_length = 2000)]
    url: Option<String>,
    #[schema(max_length = 200)]
    description: Option<String>,
    #[schema(min_items = 1, max_items = 100)]
    event_types: Option<Vec<EventTypeName>>,
    active: Option<bool>,
}

/// Changes an endpoint.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", params(("id" = String, Path, description = "Endpoint id")), request_body = WebhookEndpointPatch,
    responses((status = 200, body = WebhookEndpointOut), (status = 404, description = "no such endpoint", body = super::Problem), (status = 422, description = "a bad field", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<WebhookEndpointPatch>, ApiError>,
) -> Result<Json<WebhookEndpointOut>, ApiError> {
    let id = path_id(&caller, Scope::WebhooksWrite, path)?;
    let ApiJson(b) = body?;
    let actor = Actor::api(&caller.0);
    let now = state.now();
    let current = service::endpoint(&state.db, &actor, &id).await?.endpoint;
    let types: Vec<EventTypeName> = match b.event_types {
        Some(t) => t,
        None => types_of(&current).into_iter().map(EventTypeName).collect(),
    };
    let url = b.url.unwrap_or(current.url);
    let description = b.description.unwrap_or(current.description);
    check_in(&url, &description, &types)?;
    let input = EndpointInput {
        url,
        description,
        event_types: types.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(" "),
        active: b.active.unwrap_or(current.active),
    };
    service::update_endpoint(&state.db, now, &actor, &id, &input, &state.config.webhooks.allow).await?;
    Ok(Json(out(&service::endpoint(&state.db, &actor, &id).await?, now)))
}

/// Deletes an endpoint: it receives nothing more; deliveries still waiting are cancelled.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such endpoint", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&caller, Scope::WebhooksWrite, path)?;
    service::delete_endpoint(&state.db, state.now(), &Actor::api(&caller.0), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRotateIn {
    /// How long the old secret keeps signing beside the new one, in seconds (default 86,400; at most a week).
    #[schema(minimum = 0, maximum = 604_800)]
    overlap_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookSecretOut {
    /// The new `whsec_…` secret: the only time it is shown.
    secret: String,
    /// Until when (Unix seconds) the old secret still signs too.
    previous_secret_until: Option<i64>,
}

/// Rotates an endpoint's signing secret.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", params(("id" = String, Path, description = "Endpoint id")), request_body = WebhookRotateIn,
    responses((status = 200, body = WebhookSecretOut), (status = 404, description = "no such endpoint", body = super::Problem), (status = 422, description = "a bad overlap", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<WebhookRotateIn>, ApiError>,
) -> Result<Json<WebhookSecretOut>, ApiError> {
    let id = path_id(&caller, Scope::WebhooksWrite, path)?;
    let ApiJson(b) = body?;
    let overlap = b.overlap_seconds.unwrap_or(service::DEFAULT_OVERLAP_SECS);
    Checks::default().range("overlap_seconds", overlap, 0, service::MAX_OVERLAP_SECS).done()?;
    let now = state.now();
    let secret = service::rotate_secret(&state.db, now, &Actor::api(&caller.0), &id, overlap).await?;
    Ok(Json(WebhookSecretOut { secret, previous_secret_until: (overlap > 0).then_some(now + overlap) }))
}

/// Sends a `webhook.test` event to this endpoint only (active or not).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 202, description = "queued"), (status = 404, description = "no such endpoint", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn test_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&caller, Scope::WebhooksWrite, path)?;
    service::send_test(&state.db, state.now(), &Actor::api(&caller.0), &id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    #[param(pattern = r"^(pending|delivered|dead|cancelled)$")]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    cursor: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// One attempt at a delivery.
#[derive(Serialize, ToSchema)]
pub struct WebhookAttemptOut {
    /// Unix milliseconds.
    at_ms: i64,
    /// The HTTP status the endpoint answered (absent when it did not answer).
    status_code: Option<i64>,
    latency_ms: i64,
    /// The start of the answer's body (at most 500 characters).
    response_excerpt: String,
    /// Why the attempt failed (absent for a 2xx).
    error: Option<String>,
}

/// One event for this endpoint.
#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryOut {
    id: String,
    /// The `webhook-id` header of every attempt (the same across retries: deduplicate on it).
    event_id: String,
    event_type: String,
    /// `pending`, `delivered`, `dead` (given up) or `cancelled` (the endpoint was deleted).
    status: String,
    attempts: i64,
    /// Unix milliseconds of the next attempt, while pending.
    next_attempt_at_ms: Option<i64>,
    delivered_at: Option<i64>,
    log: Vec<WebhookAttemptOut>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryPage {
    deliveries: Vec<WebhookDeliveryOut>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    next_cursor: Option<String>,
}

/// An endpoint's deliveries, newest first, each with its attempts.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", params(("id" = String, Path, description = "Endpoint id"), DeliveryParams),
    responses((status = 200, body = WebhookDeliveryPage), (status = 404, description = "no such endpoint", body = super::Problem)),
    security(("bearer" = ["webhooks:read"])), tag = "webhooks")]
pub async fn list_webhook_deliveries(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<DeliveryParams>, ApiError>,
) -> Result<Json<WebhookDeliveryPage>, ApiError> {
    let id = path_id(&caller, Scope::WebhooksRead, path)?;
    let ApiQuery(p) = query?;
    let limit = p.limit.unwrap_or(50);
    Checks::default().range("limit", limit, 1, 200).done()?;
    if let Some(c) = &p.cursor {
        reference(c)?;
    }
    let page =
        service::deliveries(&state.db, &Actor::api(&caller.0), &id, p.status.as_deref(), p.cursor.as_deref(), limit)
            .await?;
    let deliveries = page
        .deliveries
        .into_iter()
        .map(|(d, attempts)| WebhookDeliveryOut {
            next_attempt_at_ms: (d.status == "pending").then_some(d.due_ms),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            delivered_at: d.delivered_at,
            log: attempts
                .into_iter()
                .map(|a| WebhookAttemptOut {
                    at_ms: a.at_ms,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    response_excerpt: a.response_excerpt,
                    error: a.error,
                })
                .collect(),
        })
        .collect();
    Ok(Json(WebhookDeliveryPage { deliveries, next_cursor: page.next }))
}

/// Sends a delivery again now (one that was delivered, given up or cancelled).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/replay",
    params(("id" = String, Path, description = "Endpoint id"), ("delivery" = String, Path, description = "Delivery id")),
    responses((status = 202, description = "queued"), (status = 404, description = "no such endpoint", body = super::Problem),
    (status = 409, description = "the delivery is pending already, or not this endpoint's", body = super::Problem)),
    security(("bearer" = ["webhooks:write"])), tag = "webhooks")]
pub async fn replay_webhook_delivery(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let ApiPath((id, delivery)) = path?;
    reference(&id)?;
    reference(&delivery)?;
    service::replay(&state.db, state.now(), &Actor::api(&caller.0), &id, &delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
