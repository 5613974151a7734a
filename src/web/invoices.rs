//! Invoices on the web: a buyer with billing rights lists their account's invoices, opens one as a
//! printable page and downloads it as a PDF; finance staff list every account's, others theirs.

use crate::domain::invoicing::InvoiceDocument;
use crate::domain::money::Money;
use crate::service::credit_notes::unapply_credit_note;
use crate::service::invoices::{self, InvoiceRow};
use crate::service::payments as payment_service;
use crate::web::AppState;
use crate::web::dated_list::{ListQuery, PAGE, Side};
use crate::web::error::WebError;
use crate::web::payments::ApplicationItem;
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/invoices", get(portal_list))
        .route("/portal/invoices/{number}", get(portal_invoice))
        .route("/portal/invoices/{number}/pdf", get(pdf))
        .route("/invoices", get(staff_list))
        .route("/invoices/{number}", get(staff_invoice))
        .route("/invoices/{number}/pdf", get(pdf))
        .route("/invoices/{number}/applications/{application}/unapply", post(unapply))
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

async fn list(state: &AppState, ctx: &Ctx, q: ListQuery, base: &'static str) -> Result<Html<String>, WebError> {
    let staff = ctx.session.principal.is_staff();
    let mut rows = invoices::list_invoices(&state.db, &ctx.actor(), q.account(), q.after(), PAGE + 1).await?;
    let next_page = q.page(&mut rows, |i| (i.issued_on.clone(), i.number.clone()));
    let items = rows.iter().map(InvoiceItem::from).collect();
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
    Side::Portal.check(&ctx)?;
    list(&state, &ctx, q, "/portal/invoices").await
}

async fn staff_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    Side::Staff.check(&ctx)?;
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
    /// The payments and credit notes applied to it; of a credit note, the invoices it is applied to.
    applications: Vec<ApplicationItem>,
    payments_base: &'static str,
    /// Finance may take applications off (the staff side).
    can_unapply: bool,
    message: Option<String>,
    /// Finance may credit this invoice (it is an invoice, on the staff side).
    can_credit: bool,
    /// A credit note: what of it is applied and what is left to apply.
    credit_note: bool,
    unapplied: Money,
}

async fn show(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    base: &'static str,
    message: Option<String>,
) -> Result<Html<String>, WebError> {
    let (invoice, lines) = invoices::get_invoice(&state.db, &ctx.actor(), number).await?;
    let doc = invoices::document(&state.db, &invoice, &lines).await?;
    let orders_base = if base == "/invoices" { "/orders" } else { "/portal/orders" };
    let may_credit = ctx.session.principal.can(crate::domain::auth::Permission::ManageCredit);
    let applications = payment_service::invoice_applications(&state.db, &ctx.actor(), &invoice.id).await?;
    let page = InvoicePage {
        shell: Shell::new(ctx, format!("{} {}", doc.title, doc.number)),
        base,
        orders_base,
        doc,
        status: invoice.status.clone(),
        paid: Money::from_raw(invoice.paid),
        applications: applications.iter().map(ApplicationItem::from).collect(),
        payments_base: if base == "/invoices" { "/finance/payments" } else { "/portal/payments" },
        can_unapply: base == "/invoices" && may_credit,
        message,
        credit_note: invoice.kind == "credit_note",
        unapplied: Money::from_raw(invoice.total - invoice.paid),
        can_credit: base == "/invoices" && invoice.kind == "invoice" && may_credit,
    };
    Ok(Html(page.render()?))
}

async fn portal_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    Side::Portal.check(&ctx)?;
    show(&state, &ctx, &number, "/portal/invoices", None).await
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn staff_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    Side::Staff.check(&ctx)?;
    let message = (q.done.as_deref() == Some("unapplied"))
        .then(|| "Taken off: the invoice owes that amount again, and it is back on its payment or credit note.".into());
    show(&state, &ctx, &number, "/invoices", message).await
}

/// Takes one application shown on an invoice's (or credit note's) page off — a payment's or a
/// credit note's — and shows the page again.
async fn unapply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, application)): Path<(String, String)>,
) -> Result<Response, WebError> {
    Side::Staff.check(&ctx)?;
    let actor = ctx.actor();
    let shown = payment_service::invoice_applications(&state.db, &actor, &number).await?;
    let a = shown.iter().find(|a| a.id == application).ok_or(WebError::NotFound)?;
    match a.source_kind.as_str() {
        "credit_note" => {
            unapply_credit_note(&state.db, state.now(), &actor, &a.source_id, &a.id).await?;
        }
        _ => {
            payment_service::unapply_payment(&state.db, state.now(), &actor, &a.source_id, &a.id).await?;
        }
    }
    Ok(Redirect::to(&format!("/invoices/{number}?done=unapplied")).into_response())
}

async fn pdf(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Result<Response, WebError> {
    let (name, bytes) = invoices::invoice_pdf(&state.db, &ctx.actor(), &number).await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}
