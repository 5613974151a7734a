//! Finance through the API (scope `credit:write`): release or reject an order held for credit,
//! and issue a credit note for units of an invoice's lines — what finance does on the web.

use super::input::{ApiJson, ApiPath, Checks, MAX_LINES, MAX_QUANTITY, reference};
use super::orders::{OrderOut, StatusIn, actor, decision, load};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::service::credit_notes::{self, CreditRequest, issue_credit_note};
use crate::service::invoices as invoice_service;
use crate::service::orders as order_service;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders/{id}/release", post(release_order))
        .route("/api/v1/orders/{id}/reject", post(reject_order))
        .route("/api/v1/invoices/{id}/credit-notes", post(create_credit_note))
        .route("/api/v1/credit-notes/{id}/applications/{application}", delete(unapply_credit_note))
}

/// Release an order held for credit: it continues as placed (a prepay order is billed now).
#[utoipa::path(post, path = "/api/v1/orders/{id}/release", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order is not on hold", body = super::Problem)),
    security(("bearer" = ["credit:write"])), tag = "orders")]
pub async fn release_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    let (id, b) = decision(&caller, Scope::CreditWrite, path, body)?;
    let o = order_service::release_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version, &b.reason)
        .await?;
    load(&state, &caller, &o.id).await
}

/// Reject an order held for credit: it is cancelled (its stock released) with the reason, which
/// the customer sees.
#[utoipa::path(post, path = "/api/v1/orders/{id}/reject", params(("id" = String, Path, description = "Order id or number (SO-100001)")), request_body = StatusIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "no such order", body = super::Problem),
    (status = 409, description = "stale expected_version, or the order is not on hold", body = super::Problem),
    (status = 422, description = "no reason given", body = super::Problem)),
    security(("bearer" = ["credit:write"])), tag = "orders")]
pub async fn reject_order(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<StatusIn>, ApiError>,
) -> Result<Json<OrderOut>, ApiError> {
    let (id, b) = decision(&caller, Scope::CreditWrite, path, body)?;
    let o = order_service::reject_order(&state.db, state.now(), &actor(&caller), &id, b.expected_version, &b.reason)
        .await?;
    load(&state, &caller, &o.id).await
}

/// One invoice line and how many of its units to credit.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct CreditLineIn {
    /// The invoice line's number (`line` in the invoice's lines).
    #[schema(minimum = 1, maximum = 1000)]
    line: i64,
    /// At most what the line billed less what was credited before.
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct CreditNoteIn {
    #[schema(min_items = 1, max_items = 1000)]
    lines: Vec<CreditLineIn>,
    /// Why (printed on the credit note).
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: String,
}

/// Issue a credit note for units of an invoice's lines, at the rates they were billed. It is
/// applied at once to what is open of the invoice; any rest is the account's credit. Answers the
/// credit note (an invoice of kind `credit_note`).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/credit-notes", params(("id" = String, Path, description = "Invoice id or number (INV-100001)")),
    request_body = CreditNoteIn,
    responses((status = 201, body = super::invoices::InvoiceOut), (status = 404, description = "no such invoice", body = super::Problem),
    (status = 409, description = "another credit note took these units meanwhile", body = super::Problem),
    (status = 422, description = "a line credits more than is left to credit, an unknown line, or no reason; every problem listed", body = super::Problem)),
    security(("bearer" = ["credit:write"])), tag = "invoices")]
pub async fn create_credit_note(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<CreditNoteIn>, ApiError>,
) -> Result<(StatusCode, Json<super::invoices::InvoiceOut>), ApiError> {
    caller.require(Scope::CreditWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks.chars("reason", &b.reason, 1, 500).line("reason", &b.reason).items("lines", b.lines.len(), 1, MAX_LINES);
    for (i, l) in b.lines.iter().enumerate() {
        checks.range(&format!("lines[{i}].line"), l.line, 1, MAX_LINES as i64);
        checks.range(&format!("lines[{i}].quantity"), l.quantity, 1, MAX_QUANTITY);
    }
    checks.done()?;
    let req = CreditRequest { lines: b.lines.iter().map(|l| (l.line, l.quantity)).collect(), reason: b.reason };
    let actor = actor(&caller);
    let note = issue_credit_note(&state.db, state.now(), &actor, &id, &req).await?;
    let (note, lines) = invoice_service::get_invoice(&state.db, &actor, &note.id).await?;
    Ok((StatusCode::CREATED, Json(super::invoices::invoice_out(&note, Some(&lines)))))
}

/// Takes one application of a credit note off the invoice it was applied to: the invoice owes that
/// amount again and is open again; the credit note has it left to apply (the account's credit).
/// Answers the credit note with its applications (the one taken off has `taken_off: unapplied`).
#[utoipa::path(delete, path = "/api/v1/credit-notes/{id}/applications/{application}",
    params(("id" = String, Path, description = "Credit note id or number (CN-100001)"),
        ("application" = String, Path, description = "The application's id (`applications[].id` of the credit note, or of the invoice it is applied to)")),
    responses((status = 200, body = super::invoices::InvoiceOut), (status = 404, description = "no such credit note, or no such application of it", body = super::Problem),
    (status = 409, description = "the application was taken off already", body = super::Problem)),
    security(("bearer" = ["credit:write"])), tag = "invoices")]
pub async fn unapply_credit_note(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Json<super::invoices::InvoiceOut>, ApiError> {
    caller.require(Scope::CreditWrite)?;
    let ApiPath((id, application)) = path?;
    reference(&id)?;
    reference(&application)?;
    let actor = actor(&caller);
    let note = credit_notes::unapply_credit_note(&state.db, state.now(), &actor, &id, &application).await?;
    let (note, lines) = invoice_service::get_invoice(&state.db, &actor, &note.id).await?;
    let applications = crate::service::payments::invoice_applications(&state.db, &actor, &note.id).await?;
    Ok(Json(super::invoices::invoice_with(&note, Some(&lines), Some(&applications))))
}
