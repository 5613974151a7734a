//! Invoices on the web: a buyer with billing rights lists their account's invoices, opens one as a
//! printable page and downloads it as a PDF; finance staff list every account's, others theirs.

use crate::domain::invoicing::InvoiceDocument;
use crate::domain::money::Money;
use crate::service::invoices::{self, InvoiceRow};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/invoices", get(portal_list))
        .route("/portal/invoices/{number}", get(portal_invoice))
        .route("/portal/invoices/{number}/pdf", get(pdf))
        .route("/invoices", get(staff_list))
        .route("/invoices/{number}", get(staff_invoice))
        .route("/invoices/{number}/pdf", get(pdf))
}

/// An invoice as a row of a list.
pub struct InvoiceItem {
    pub number: String,
    pub account_name: String,
    pub order_number: String,
    pub issued_on: String,
    pub due_on: String,
    pub total: Money,
    pub balance: Money,
    pub status: String,
}

impl From<&InvoiceRow> for InvoiceItem {
    fn from(i: &InvoiceRow) -> InvoiceItem {
        // A credit note lowers what the account owes: listed as a negative amount.
        let sign = if i.kind == "credit_note" { -1 } else { 1 };
        let total = Money::from_raw(sign * i.total);
        let paid = Money::from_raw(sign * i.paid);
        InvoiceItem {
            number: i.number.clone(),
            account_name: i.account_name.clone(),
            order_number: i.order_number.clone(),
            issued_on: i.issued_on.clone(),
            due_on: i.due_on.clone(),
            total,
            balance: total.checked_sub(paid).unwrap_or(total),
            status: i.status.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct ListPage {
    shell: Shell,
    base: &'static str,
    staff: bool,
    items: Vec<InvoiceItem>,
    next_page: Option<String>,
    /// Buyers with billing rights may pay open invoices online (a payment provider is configured).
    pay_online: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    account: String,
    after_on: Option<String>,
    after_number: Option<String>,
}

const PAGE: i64 = 50;

async fn list(state: &AppState, ctx: &Ctx, q: ListQuery, base: &'static str) -> Result<Html<String>, WebError> {
    let staff = ctx.session.principal.is_staff();
    let account = Some(q.account.trim()).filter(|a| !a.is_empty());
    let after = q.after_on.as_deref().zip(q.after_number.as_deref());
    let rows = invoices::list_invoices(&state.db, &ctx.actor(), account, after, PAGE + 1).await?;
    let next_page = (rows.len() as i64 > PAGE).then(|| {
        let last = &rows[PAGE as usize - 1];
        let mut pairs = vec![("after_on", last.issued_on.clone()), ("after_number", last.number.clone())];
        if let Some(a) = account {
            pairs.push(("account", a.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    });
    let items = rows.iter().take(PAGE as usize).map(InvoiceItem::from).collect();
    let pay_online = !staff
        && state.config.test_provider_secret.is_some()
        && ctx.session.principal.can(crate::domain::auth::Permission::PortalBilling);
    let page = ListPage { shell: Shell::new(ctx, "Invoices".to_string()), base, staff, items, next_page, pay_online };
    Ok(Html(page.render()?))
}

async fn portal_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    if ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    list(&state, &ctx, q, "/portal/invoices").await
}

async fn staff_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    list(&state, &ctx, q, "/invoices").await
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    shell: Shell,
    base: &'static str,
    orders_base: &'static str,
    doc: InvoiceDocument,
    status: String,
    paid: Money,
    /// Payments applied to it: (payment number, amount, applied on, reversed).
    payments: Vec<(String, Money, String, bool)>,
    payments_base: &'static str,
    /// Finance may credit this invoice (it is an invoice, on the staff side).
    can_credit: bool,
    /// A credit note: what of it is applied and what is left to apply.
    credit_note: bool,
    unapplied: Money,
}

async fn show(state: &AppState, ctx: &Ctx, number: &str, base: &'static str) -> Result<Html<String>, WebError> {
    let (invoice, lines) = invoices::get_invoice(&state.db, &ctx.actor(), number).await?;
    let doc = invoices::document(&state.db, &invoice, &lines).await?;
    let orders_base = if base == "/invoices" { "/orders" } else { "/portal/orders" };
    let page = InvoicePage {
        shell: Shell::new(ctx, format!("{} {}", doc.title, doc.number)),
        base,
        orders_base,
        doc,
        status: invoice.status.clone(),
        paid: Money::from_raw(invoice.paid),
        payments: crate::service::payments::invoice_payments(&state.db, &ctx.actor(), number)
            .await?
            .into_iter()
            .map(|a| (a.payment_number, Money::from_raw(a.amount), a.applied_on, a.reversed_at.is_some()))
            .collect(),
        payments_base: if base == "/invoices" { "/finance/payments" } else { "/portal/payments" },
        credit_note: invoice.kind == "credit_note",
        unapplied: Money::from_raw(invoice.total - invoice.paid),
        can_credit: base == "/invoices"
            && invoice.kind == "invoice"
            && ctx.session.principal.can(crate::domain::auth::Permission::ManageCredit),
    };
    Ok(Html(page.render()?))
}

async fn portal_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    if ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    show(&state, &ctx, &number, "/portal/invoices").await
}

async fn staff_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    show(&state, &ctx, &number, "/invoices").await
}

async fn pdf(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Result<Response, WebError> {
    let (name, bytes) = invoices::invoice_pdf(&state.db, &ctx.actor(), &number).await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}
