//! Invoices through the API: the ERP reads invoices (newest first, by account), one invoice with
//! its lines and tax, and its PDF — exactly what the buyer's finance contact sees.

use super::input::{ApiPath, ApiQuery, reference};
use super::paging::{changes, cursor_of, cut_page, listed_account};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::invoicing::format_rate;
use crate::domain::money::Money;
use crate::service::Actor;
use crate::service::invoices::{self as invoice_service, InvoiceRow};
use crate::service::payments::ApplicationRow;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/invoices", get(list_invoices))
        .route("/api/v1/invoices/{id}", get(get_invoice))
        .route("/api/v1/invoices/{id}/pdf", get(invoice_pdf))
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceLineOut {
    line: i64,
    /// The order line it bills.
    order_line: i64,
    sku: String,
    name: String,
    quantity: i64,
    /// Decimal strings, exact.
    unit_price: String,
    net: String,
    /// e.g. "8.875%"; "0%" when untaxed or exempt.
    tax_rate: String,
    tax_label: String,
    tax: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceOut {
    id: String,
    /// INV-100001
    number: String,
    /// `invoice` or `credit_note`.
    kind: String,
    account_id: String,
    account_number: String,
    order_id: String,
    order_number: String,
    shipment_id: Option<String>,
    issued_on: String,
    due_on: String,
    terms: String,
    po_number: String,
    subtotal: String,
    tax: String,
    total: String,
    paid: String,
    balance: String,
    /// `open`, `paid` or `void`.
    status: String,
    tax_note: String,
    /// Unix seconds of the last change (issue, payment, unapplication, credit): the list's key.
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<InvoiceLineOut>>,
    /// Of one invoice: the payments and credit notes applied to it; of a credit note, the invoices
    /// it is applied to (those taken off too, with `taken_off`).
    #[serde(skip_serializing_if = "Option::is_none")]
    applications: Option<Vec<super::payments::ApplicationOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct InvoicePage {
    invoices: Vec<InvoiceOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

fn money(raw: i64) -> String {
    Money::from_raw(raw).to_plain()
}

pub(super) fn invoice_out(i: &InvoiceRow, lines: Option<&[crate::service::invoices::InvoiceLine]>) -> InvoiceOut {
    invoice_with(i, lines, None)
}

/// [`invoice_out`] with what is applied to (or from) it.
pub(super) fn invoice_with(
    i: &InvoiceRow,
    lines: Option<&[crate::service::invoices::InvoiceLine]>,
    applications: Option<&[ApplicationRow]>,
) -> InvoiceOut {
    InvoiceOut {
        id: i.id.clone(),
        number: i.number.clone(),
        kind: i.kind.clone(),
        account_id: i.account_id.clone(),
        account_number: i.account_number.clone(),
        order_id: i.order_id.clone(),
        order_number: i.order_number.clone(),
        shipment_id: i.shipment_id.clone(),
        issued_on: i.issued_on.clone(),
        due_on: i.due_on.clone(),
        terms: i.terms.clone(),
        po_number: i.po_number.clone(),
        subtotal: money(i.subtotal),
        tax: money(i.tax),
        total: money(i.total),
        paid: money(i.paid),
        balance: money(i.total - i.paid),
        status: i.status.clone(),
        tax_note: i.tax_note.clone(),
        updated_at: i.updated_at,
        lines: lines.map(|ls| {
            ls.iter()
                .map(|l| InvoiceLineOut {
                    line: l.line_no,
                    order_line: l.order_line_no,
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    net: money(l.net),
                    tax_rate: format_rate(l.tax_rate_ppm),
                    tax_label: l.tax_label.clone(),
                    tax: money(l.tax),
                })
                .collect()
        }),
        applications: applications.map(|a| a.iter().map(super::payments::application_out).collect()),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListParams {
    /// Unix seconds: only what was issued or changed (paid, unapplied, credited, reversed) at or after this time.
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

/// Invoices and credit notes issued or changed since a time, oldest change first (how an ERP pulls them): of one
/// account, or of every account.
#[utoipa::path(get, path = "/api/v1/invoices", params(InvoiceListParams), responses(
    (status = 200, body = InvoicePage), (status = 404, description = "no such account", body = super::Problem)
), security(("bearer" = ["invoices:read"])), tag = "invoices")]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<InvoiceListParams>, ApiError>,
) -> Result<Json<InvoicePage>, ApiError> {
    caller.require(Scope::InvoicesRead)?;
    let ApiQuery(p) = query?;
    let c = changes(p.updated_since, p.cursor.as_deref(), p.limit)?;
    let actor = Actor::api(&caller.0);
    let account = listed_account(&state, &actor, p.account.as_deref()).await?;
    let mut rows =
        invoice_service::invoices_changed_since(&state.db, &actor, account.as_deref(), c.since, c.after(), c.limit + 1)
            .await?;
    let next_cursor = cut_page(&mut rows, c.limit, |r| cursor_of(r.updated_at, &r.id));
    Ok(Json(InvoicePage { invoices: rows.iter().map(|r| invoice_out(r, None)).collect(), next_cursor }))
}

/// One invoice with its lines and tax.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", params(("id" = String, Path, description = "Invoice id or number (INV-100001)")),
    responses((status = 200, body = InvoiceOut), (status = 404, description = "no such invoice", body = super::Problem)),
    security(("bearer" = ["invoices:read"])), tag = "invoices")]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<InvoiceOut>, ApiError> {
    caller.require(Scope::InvoicesRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let actor = Actor::api(&caller.0);
    let (invoice, lines) = invoice_service::get_invoice(&state.db, &actor, &id).await?;
    let applications = crate::service::payments::invoice_applications(&state.db, &actor, &invoice.id).await?;
    Ok(Json(invoice_with(&invoice, Some(&lines), Some(&applications))))
}

/// The invoice as a PDF, drawn by the server (the same document the buyer downloads).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", params(("id" = String, Path, description = "Invoice id or number (INV-100001)")),
    responses((status = 200, description = "The invoice as a PDF", content_type = "application/pdf"),
    (status = 404, description = "no such invoice", body = super::Problem)),
    security(("bearer" = ["invoices:read"])), tag = "invoices")]
pub async fn invoice_pdf(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::InvoicesRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let (name, bytes) = invoice_service::invoice_pdf(&state.db, &Actor::api(&caller.0), &id).await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}
