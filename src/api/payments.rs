//! Payments through the API: the ERP (or the bank's connector) records payments — applied to
//! invoices by amount or oldest due first — imports the bank's CSV file, applies what is left,
//! takes one application off its invoice, reverses payments, and reads them. Recording is
//! idempotent by `external_id` (the same payment sent again answers the first one, 200 with
//! `idempotent-replayed: true`, and records nothing) and, for any request, by `Idempotency-Key`
//! (the same key and body answer the first response exactly).

use super::input::{ApiJson, ApiPath, ApiQuery, Checks, canonical, idempotency_key, recorded_json, reference};
use super::paging::{changes, cursor_of, cut_page, listed_account};
use super::{ApiCaller, ApiError, ProblemField};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::money::Money;
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::idempotency::Keyed;
use crate::service::payment_imports::{self, ImportReport};
use crate::service::payments::{
    self as payment_service, ApplicationRow, ApplyInput, Payment, PaymentInput, PaymentRow, Recorded,
};
use crate::service::{FieldError, ServiceError};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments", get(list_payments).post(create_payment))
        .route("/api/v1/payments/{id}", get(get_payment))
        .route("/api/v1/payments/import", post(import_payments))
        .route("/api/v1/payments/{id}/applications", post(apply_payment))
        .route("/api/v1/payments/{id}/applications/{application}", delete(unapply_payment))
        .route("/api/v1/payments/{id}/reversal", post(reverse_payment))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationOut {
    /// The application's id (to take it off its invoice).
    id: String,
    /// `payment` or `credit_note`: what is applied.
    source_kind: String,
    /// The payment's (PAY-100001) or credit note's (CN-100001) number.
    source_number: String,
    invoice_id: String,
    /// INV-100001
    invoice_number: String,
    amount: String,
    applied_on: String,
    /// Set when it stopped applying (unix seconds): see `taken_off`.
    reversed_at: Option<i64>,
    /// `reversal` (its payment was reversed) or `unapplied` (taken off on its own); absent while
    /// it applies.
    taken_off: Option<String>,
}

pub(super) fn application_out(a: &ApplicationRow) -> ApplicationOut {
    ApplicationOut {
        id: a.id.clone(),
        source_kind: a.source_kind.clone(),
        source_number: a.source_number.clone(),
        invoice_id: a.invoice_id.clone(),
        invoice_number: a.invoice_number.clone(),
        amount: money(a.amount),
        applied_on: a.applied_on.clone(),
        reversed_at: a.reversed_at,
        taken_off: a.taken_off.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PaymentOut {
    id: String,
    /// PAY-100001
    number: String,
    account_id: String,
    account_number: String,
    /// Decimal strings, exact.
    amount: String,
    /// What is not applied to invoices (the account's credit).
    unapplied: String,
    received_on: String,
    /// check, wire, ach, card, online or other.
    method: String,
    reference: String,
    /// manual, import or provider.
    source: String,
    external_id: Option<String>,
    /// posted or reversed.
    status: String,
    reversal_reason: String,
    /// Unix seconds of the last change (recorded, applied, unapplied, reversed): the list's key.
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    applications: Option<Vec<ApplicationOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentPage {
    payments: Vec<PaymentOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

fn money(raw: i64) -> String {
    Money::from_raw(raw).to_plain()
}

fn payment_out(p: &PaymentRow, applications: Option<&Payment>) -> PaymentOut {
    PaymentOut {
        id: p.id.clone(),
        number: p.number.clone(),
        account_id: p.account_id.clone(),
        account_number: p.account_number.clone(),
        amount: money(p.amount),
        unapplied: money(p.unapplied),
        received_on: p.received_on.clone(),
        method: p.method.clone(),
        reference: p.reference.clone(),
        source: p.source.clone(),
        external_id: p.external_id.clone(),
        status: p.status.clone(),
        reversal_reason: p.reversal_reason.clone(),
        updated_at: p.updated_at,
        applications: applications.map(|full| full.applications.iter().map(application_out).collect()),
    }
}

fn full_out(p: &Payment) -> PaymentOut {
    payment_out(&p.row, Some(p))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ApplicationIn {
    /// Invoice number (INV-100001) or id.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    invoice: String,
    /// More than 0, in cents, at most the invoice's balance.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    amount: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct PaymentIn {
    /// Account id, number (A-10001) or external id.
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: String,
    /// More than 0, in cents.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    amount: String,
    /// When it was received (not in the future); today when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    received_on: Option<String>,
    /// check, wire, ach, card, online or other.
    #[schema(pattern = r"^(check|wire|ach|card|online|other)$")]
    method: String,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reference: String,
    /// The bank's or ERP's id of the payment: sending it again records nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    external_id: Option<String>,
    /// Amounts to apply to invoices of the same account. Leave out to apply nothing (or see
    /// `apply_oldest_first`).
    #[serde(default)]
    #[schema(max_items = 500)]
    applications: Vec<ApplicationIn>,
    /// Apply to the account's open invoices, oldest due first, as far as the payment goes.
    #[serde(default)]
    apply_oldest_first: bool,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ApplyIn {
    /// Amounts per invoice; or leave empty and set `oldest_first`.
    #[serde(default)]
    #[schema(max_items = 500)]
    applications: Vec<ApplicationIn>,
    #[serde(default)]
    oldest_first: bool,
}

/// Takes one application of a payment off its invoice (applied to the wrong invoice, or to apply
/// elsewhere): the invoice owes that amount again and is open again; the payment's `unapplied`
/// grows by it. Answers the payment with its applications (the one taken off has `taken_off:
/// unapplied`).
#[utoipa::path(delete, path = "/api/v1/payments/{id}/applications/{application}",
    params(("id" = String, Path, description = "Payment id or number (PAY-100001)"),
        ("application" = String, Path, description = "The application's id (`applications[].id` of the payment)")),
    responses((status = 200, body = PaymentOut), (status = 404, description = "no such payment, or no such application of it", body = super::Problem),
    (status = 409, description = "the payment is reversed, or the application was taken off already", body = super::Problem)),
    security(("bearer" = ["payments:write"])), tag = "payments")]
pub async fn unapply_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Json<PaymentOut>, ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let ApiPath((id, application)) = path?;
    reference(&id)?;
    reference(&application)?;
    let p = payment_service::unapply_payment(&state.db, state.now(), &Actor::api(&caller.0), &id, &application).await?;
    Ok(Json(full_out(&p)))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ReversalIn {
    /// Why (a bounced check, recorded in error).
    #[schema(min_length = 1, max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: String,
}

fn apply_input(applications: &[ApplicationIn], oldest_first: bool) -> Result<ApplyInput, ApiError> {
    let mut checks = Checks::default();
    checks.items("applications", applications.len(), 0, 500);
    for (i, a) in applications.iter().enumerate() {
        checks.line(&format!("applications[{i}].invoice"), &a.invoice);
        checks.amount(&format!("applications[{i}].amount"), &a.amount);
    }
    checks.done()?;
    match (applications.is_empty(), oldest_first) {
        (false, true) => Err(ApiError::invalid("applications", "give applications or oldest_first, not both")),
        (true, true) => Ok(ApplyInput::OldestFirst),
        (true, false) => Ok(ApplyInput::Nothing),
        (false, false) => {
            Ok(ApplyInput::Amounts(applications.iter().map(|a| (a.invoice.clone(), a.amount.clone())).collect()))
        }
    }
}

/// The answer to a recorded payment: 201, or 200 when its `external_id` was recorded before.
fn recorded_response(r: &Recorded) -> (i64, String) {
    (if r.replayed { 200 } else { 201 }, serde_json::to_string(&full_out(&r.payment)).unwrap_or_default())
}

/// Records a payment, applied as asked; idempotent by `external_id` and by `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments", request_body = PaymentIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and body return the first response (status and body, with `idempotent-replayed: true`); another body with the key is 422; a retry while the first is running is 409. Keys are kept per token and operation.")),
    responses(
    (status = 201, body = PaymentOut, description = "recorded"),
    (status = 200, body = PaymentOut, description = "recorded before with this external_id (header idempotent-replayed: true); nothing recorded"),
    (status = 404, body = super::Problem, description = "unknown account"),
    (status = 409, body = super::Problem, description = "external_id already used for another account or amount, or a request with the same Idempotency-Key still in flight"),
    (status = 422, body = super::Problem, description = "invalid (every problem listed), or an Idempotency-Key reused with another body")
), security(("bearer" = ["payments:write"])), tag = "payments")]
pub async fn create_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<ApiJson<PaymentIn>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let ApiJson(b) = body?;
    let apply = apply_input(&b.applications, b.apply_oldest_first)?;
    Checks::default().date_opt("received_on", b.received_on.as_deref()).done()?;
    let idem = idempotency_key(&headers, &caller, Some("payments"), &canonical(&b)?)?;
    let actor = Actor::api(&caller.0);
    reference(&b.account)?;
    let account = find_account(&state.db, &actor, &b.account).await?;
    let input = PaymentInput {
        account: account.id,
        amount: b.amount,
        received_on: b.received_on.unwrap_or_default(),
        method: b.method,
        reference: b.reference,
        external_id: b.external_id,
        apply,
    };
    let r =
        payment_service::record_payment_once(&state.db, state.now(), &actor, &input, idem.as_ref(), recorded_response)
            .await?;
    Ok(match r {
        Keyed::Ran(r) => {
            let (status, body) = recorded_response(&r);
            recorded_json(status, body, r.replayed)
        }
        Keyed::Replayed { status, body, .. } => recorded_json(status, body, true),
    })
}

/// What an import of the bank's file did.
#[derive(Serialize, ToSchema)]
pub struct PaymentImportOut {
    /// Numbers of the payments recorded, in file order.
    recorded: Vec<String>,
    /// Rows whose `external_id` was recorded before: skipped, nothing recorded for them.
    skipped: Vec<SkippedRowOut>,
    /// The total recorded, a decimal string.
    total: String,
    /// The same in words.
    summary: String,
}

#[derive(Serialize, ToSchema)]
pub struct SkippedRowOut {
    /// The row's line in the file (the header is line 1).
    line: u64,
    external_id: String,
    /// The payment recorded before with that external id.
    payment: String,
}

fn import_response(r: &ImportReport) -> (i64, String) {
    let out = PaymentImportOut {
        recorded: r.recorded.clone(),
        skipped: r
            .skipped
            .iter()
            .map(|(line, external_id, payment)| SkippedRowOut {
                line: *line,
                external_id: external_id.clone(),
                payment: payment.clone(),
            })
            .collect(),
        total: r.total.to_plain(),
        summary: r.summary(),
    };
    (200, serde_json::to_string(&out).unwrap_or_default())
}

/// A bad row's problem with its line and column apart (the service names it `line 3, amount`).
fn row_problem(e: FieldError) -> ProblemField {
    let (line, column) = match e.field.strip_prefix("line ") {
        Some(rest) => {
            let (n, c) = rest.split_once(", ").unwrap_or((rest, ""));
            (n.parse().ok(), Some(c.to_string()).filter(|c| !c.is_empty()))
        }
        None => (None, None),
    };
    ProblemField { field: e.field, message: e.message, line, column, ..Default::default() }
}

/// Imports the bank's (or ERP's) payment file, as finance does on the Payments page: CSV with a
/// header row, columns `account, amount, received_on, method` and optionally `reference`,
/// `invoices` (numbers separated by `;` or spaces, paid oldest due first) and `external_id`. All or
/// nothing: any bad row refuses the whole file (422, every problem with its `line` and `column`)
/// and nothing is recorded. Rows whose `external_id` was recorded before are skipped and listed,
/// so importing the same file again records nothing twice.
#[utoipa::path(post, path = "/api/v1/payments/import",
    request_body(content = String, content_type = "text/csv", description = "The payment file, UTF-8, at most 2 MB."),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and file return the first response (status and body, with `idempotent-replayed: true`); another file with the key is 422; a retry while the first is running is 409. Keys are kept per token and operation.")),
    responses(
    (status = 200, body = PaymentImportOut, description = "imported: what was recorded and what was skipped"),
    (status = 409, body = super::Problem, description = "a request with the same Idempotency-Key still in flight"),
    (status = 413, body = super::Problem, description = "the file is larger than 2 MB"),
    (status = 415, body = super::Problem, description = "the body is not text/csv"),
    (status = 422, body = super::Problem, description = "bad rows (every one listed with its line and column; nothing recorded), or an Idempotency-Key reused with another file")
), security(("bearer" = ["payments:write"])), tag = "payments")]
pub async fn import_payments(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let bytes = super::input::csv_body(&headers, body, "2 MB")?;
    let idem = idempotency_key(&headers, &caller, Some("payments/import"), &bytes)?;
    let actor = Actor::api(&caller.0);
    let imported = payment_imports::import_payments_csv_once(
        &state.db,
        state.now(),
        &actor,
        &bytes,
        idem.as_ref(),
        import_response,
    )
    .await;
    Ok(match imported {
        Ok(Keyed::Ran(report)) => {
            let (status, body) = import_response(&report);
            recorded_json(status, body, false)
        }
        Ok(Keyed::Replayed { status, body, .. }) => recorded_json(status, body, true),
        Err(ServiceError::Invalid(errors)) => {
            return Err(ApiError::problems(errors.into_iter().map(row_problem).collect()));
        }
        Err(e) => return Err(e.into()),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentListParams {
    /// Unix seconds: only what was recorded or changed (applied, unapplied, reversed) at or after this time.
    #[param(minimum = 0, maximum = 253_402_300_799_i64)]
    updated_since: Option<i64>,
    /// Only this account (id, number or external id).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.([2-6][0-9a-fA-F]|7[0-9a-eA-E]){1,64}$")]
    cursor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Payments recorded or changed since a time, oldest change first (how an ERP pulls them): of one
/// account, or of every account.
#[utoipa::path(get, path = "/api/v1/payments", params(PaymentListParams), responses(
    (status = 200, body = PaymentPage), (status = 404, description = "no such account", body = super::Problem)
), security(("bearer" = ["payments:read"])), tag = "payments")]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<PaymentListParams>, ApiError>,
) -> Result<Json<PaymentPage>, ApiError> {
    caller.require(Scope::PaymentsRead)?;
    let ApiQuery(p) = query?;
    let c = changes(p.updated_since, p.cursor.as_deref(), p.limit)?;
    let actor = Actor::api(&caller.0);
    let account = listed_account(&state, &actor, p.account.as_deref()).await?;
    let mut rows =
        payment_service::payments_changed_since(&state.db, &actor, account.as_deref(), c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = cut_page(&mut rows, c.limit, |r| cursor_of(r.updated_at, &r.id));
    Ok(Json(PaymentPage { payments: rows.iter().map(|r| payment_out(r, None)).collect(), next_cursor }))
}

/// One payment with its applications.
#[utoipa::path(get, path = "/api/v1/payments/{id}", params(("id" = String, Path, description = "Payment id or number (PAY-100001)")),
    responses((status = 200, body = PaymentOut), (status = 404, description = "no such payment", body = super::Problem)),
    security(("bearer" = ["payments:read"])), tag = "payments")]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<PaymentOut>, ApiError> {
    caller.require(Scope::PaymentsRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let p = payment_service::get_payment(&state.db, &Actor::api(&caller.0), &id).await?;
    Ok(Json(full_out(&p)))
}

/// Applies what is left of a payment to invoices of its account: amounts per invoice, or oldest due first.
#[utoipa::path(post, path = "/api/v1/payments/{id}/applications", request_body = ApplyIn,
    params(("id" = String, Path, description = "Payment id or number (PAY-100001)")),
    responses((status = 200, body = PaymentOut), (status = 404, description = "no such payment", body = super::Problem),
    (status = 409, description = "reversed, nothing left to apply, or no open invoice", body = super::Problem)),
    security(("bearer" = ["payments:write"])), tag = "payments")]
pub async fn apply_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<ApplyIn>, ApiError>,
) -> Result<Json<PaymentOut>, ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    let apply = apply_input(&b.applications, b.oldest_first)?;
    let p = payment_service::apply_payment(&state.db, state.now(), &Actor::api(&caller.0), &id, &apply).await?;
    Ok(Json(full_out(&p)))
}

/// Reverses a payment: every application taken back (the invoices owe it again), the payment marked reversed.
#[utoipa::path(post, path = "/api/v1/payments/{id}/reversal", request_body = ReversalIn,
    params(("id" = String, Path, description = "Payment id or number (PAY-100001)")),
    responses((status = 200, body = PaymentOut), (status = 404, description = "no such payment", body = super::Problem),
    (status = 409, description = "reversed already", body = super::Problem)),
    security(("bearer" = ["payments:write"])), tag = "payments")]
pub async fn reverse_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<ReversalIn>, ApiError>,
) -> Result<Json<PaymentOut>, ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    Checks::default().line("reason", &b.reason).done()?;
    let p = payment_service::reverse_payment(&state.db, state.now(), &Actor::api(&caller.0), &id, &b.reason).await?;
    Ok(Json(full_out(&p)))
}
