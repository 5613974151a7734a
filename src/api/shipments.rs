//! Shipments through the API: the ERP or WMS records what left a warehouse for an order (partial
//! allowed) and reads an order's shipments with their tracking.

use super::input::{ApiJson, ApiPath, Checks, MAX_LINES, MAX_QUANTITY, reference};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::Actor;
use crate::service::orders::{self as order_service, Shipment, ShipmentInput};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/orders/{id}/shipments", post(create_shipment).get(list_shipments))
}

/// One order line and how many of its units this shipment carries.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ShipmentLineIn {
    /// The order line's number (`line` in the order's lines).
    #[schema(minimum = 1, maximum = 1000)]
    line: i64,
    /// At most what the order holds for the line at the warehouse.
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ShipmentIn {
    /// Warehouse code (e.g. `CHI`) the units leave from.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    warehouse: String,
    #[serde(default)]
    #[schema(max_length = 60, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    carrier: String,
    #[serde(default)]
    #[schema(max_length = 60, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    tracking_number: String,
    /// The day it shipped (not after tomorrow); today when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    shipped_on: Option<String>,
    #[schema(min_items = 1, max_items = 1000)]
    lines: Vec<ShipmentLineIn>,
    /// Your own id of this shipment (the WMS's). Makes the report safe to retry: the same id for
    /// the same order answers the shipment it made (200, `Idempotent-Replayed: true`) and ships
    /// nothing more; the id on another order is 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    external_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentLineOut {
    line: i64,
    sku: String,
    quantity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentOut {
    id: String,
    /// SH-100001
    number: String,
    order_id: String,
    warehouse: String,
    carrier: String,
    tracking_number: String,
    /// The carrier's public tracking page, for carriers Portico knows (UPS, FedEx, USPS, DHL).
    tracking_url: Option<String>,
    shipped_on: String,
    created_at: i64,
    /// Your own id of the shipment, when you gave one.
    external_id: Option<String>,
    lines: Vec<ShipmentLineOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentList {
    shipments: Vec<ShipmentOut>,
}

fn shipment_out(s: Shipment) -> ShipmentOut {
    ShipmentOut {
        id: s.row.id,
        number: s.row.number,
        order_id: s.row.order_id,
        warehouse: s.row.warehouse_code,
        carrier: s.row.carrier,
        tracking_number: s.row.tracking_number,
        tracking_url: s.tracking_url,
        shipped_on: s.row.shipped_on,
        created_at: s.row.created_at,
        external_id: s.row.external_id,
        lines: s
            .lines
            .into_iter()
            .map(|l| ShipmentLineOut { line: l.line_no, sku: l.sku, quantity: l.quantity })
            .collect(),
    }
}

/// Record a shipment of a confirmed order: its lines leave one warehouse, consuming the stock
/// the order holds there. The order becomes `partially_shipped`, or `shipped` once every unit has.
#[utoipa::path(post, path = "/api/v1/orders/{id}/shipments", params(("id" = String, Path, description = "Order id or number (SO-100001)")),
    request_body = ShipmentIn,
    responses((status = 201, body = ShipmentOut), (status = 200, description = "reported before under the same external_id: the shipment it made", body = ShipmentOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "the order is not confirmed (or already shipped in full)", body = super::Problem),
    (status = 422, description = "a line asks for more than the warehouse holds for it, an unknown warehouse or line, or a bad date; every problem listed", body = super::Problem)),
    security(("bearer" = ["orders:write"])), tag = "orders")]
pub async fn create_shipment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<ShipmentIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::OrdersWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks
        .chars("warehouse", &b.warehouse, 1, 64)
        .chars("carrier", &b.carrier, 0, 60)
        .chars("tracking_number", &b.tracking_number, 0, 60)
        .date_opt("shipped_on", b.shipped_on.as_deref())
        .chars("external_id", b.external_id.as_deref().unwrap_or("x"), 1, 100)
        .items("lines", b.lines.len(), 1, MAX_LINES);
    for (i, l) in b.lines.iter().enumerate() {
        checks.range(&format!("lines[{i}].line"), l.line, 1, MAX_LINES as i64);
        checks.range(&format!("lines[{i}].quantity"), l.quantity, 1, MAX_QUANTITY);
    }
    checks.done()?;
    let input = ShipmentInput {
        warehouse: b.warehouse,
        carrier: b.carrier,
        tracking_number: b.tracking_number,
        shipped_on: b.shipped_on,
        lines: b.lines.iter().map(|l| (l.line, l.quantity)).collect(),
        external_id: b.external_id,
    };
    let s = order_service::record_shipment(&state.db, state.now(), &Actor::api(&caller.0), &id, &input).await?;
    if s.replayed {
        let mut res = (StatusCode::OK, Json(shipment_out(s))).into_response();
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(res);
    }
    Ok((StatusCode::CREATED, Json(shipment_out(s))).into_response())
}

/// The shipments of an order, oldest first, with their lines and tracking.
#[utoipa::path(get, path = "/api/v1/orders/{id}/shipments", params(("id" = String, Path, description = "Order id or number (SO-100001)")),
    responses((status = 200, body = ShipmentList), (status = 404, description = "no such order", body = super::Problem)),
    security(("bearer" = ["orders:read"])), tag = "orders")]
pub async fn list_shipments(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<ShipmentList>, ApiError> {
    caller.require(Scope::OrdersRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let list = order_service::order_shipments(&state.db, &Actor::api(&caller.0), &id).await?;
    Ok(Json(ShipmentList { shipments: list.into_iter().map(shipment_out).collect() }))
}
