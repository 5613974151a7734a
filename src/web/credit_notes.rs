//! Credit notes on the web: finance opens "Credit" on an invoice, enters the units to credit per
//! line and why, and lands on the credit note (a printable page and PDF like any invoice). A bad
//! quantity is named next to its line, with what was typed kept.

use crate::domain::money::Money;
use crate::service::ServiceError;
use crate::service::credit_notes::{CreditRequest, issue_credit_note};
use crate::service::invoices::{self, InvoiceLine};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/invoices/{number}/credit", get(form_page).post(issue))
}

struct LineView {
    line_no: i64,
    sku: String,
    name: String,
    billed: i64,
    creditable: i64,
    unit_price: Money,
    tax_label: String,
    typed: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "credit_note_form.html")]
struct FormPage {
    shell: Shell,
    number: String,
    account_name: String,
    total: Money,
    lines: Vec<LineView>,
    reason: String,
    reason_error: Option<String>,
    errors: Vec<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    typed: &HashMap<String, String>,
    errors: Vec<(String, String)>,
) -> Result<FormPage, WebError> {
    let (invoice, lines) = invoices::get_invoice(&state.db, &ctx.actor(), number).await?;
    let error_of = |field: &str| errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone());
    let view = |l: &InvoiceLine| LineView {
        line_no: l.line_no,
        sku: l.sku.clone(),
        name: l.name.clone(),
        billed: l.quantity,
        creditable: l.quantity - l.credited_qty,
        unit_price: Money::from_raw(l.unit_price),
        tax_label: l.tax_label.clone(),
        typed: typed.get(&format!("line_{}", l.line_no)).cloned().unwrap_or_default(),
        error: error_of(&format!("line_{}", l.line_no)),
    };
    Ok(FormPage {
        shell: Shell::new(ctx, format!("Credit invoice {}", invoice.number)),
        lines: lines.iter().map(view).collect(),
        reason: typed.get("reason").cloned().unwrap_or_default(),
        reason_error: error_of("reason"),
        errors: errors
            .iter()
            .filter(|(f, _)| f != "reason" && !f.starts_with("line_"))
            .map(|(_, m)| m.clone())
            .collect(),
        number: invoice.number,
        account_name: invoice.account_name,
        total: Money::from_raw(invoice.total),
    })
}

async fn form_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    ctx.actor().require(crate::domain::auth::Permission::ManageCredit)?;
    Ok(Html(page(&state, &ctx, &number, &HashMap::new(), Vec::new()).await?.render()?))
}

async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    let typed: HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default().into_iter().collect();
    let mut problems = Vec::new();
    let mut req = CreditRequest { reason: typed.get("reason").cloned().unwrap_or_default(), lines: Vec::new() };
    for (k, v) in &typed {
        let Some(no) = k.strip_prefix("line_").and_then(|n| n.parse::<i64>().ok()) else { continue };
        match v.trim() {
            "" => {}
            t => match t.parse::<i64>() {
                Ok(q) => req.lines.push((no, q)),
                Err(_) => problems.push((k.clone(), format!("Line {no}: “{t}” is not a whole number of units."))),
            },
        }
    }
    req.lines.sort();
    let result = if problems.is_empty() {
        issue_credit_note(&state.db, state.now(), &ctx.actor(), &number, &req).await
    } else {
        Err(ServiceError::from_problems(problems).unwrap_err())
    };
    match result {
        Ok(note) => Ok(Redirect::to(&format!("/invoices/{}", note.number)).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (e.field, e.message)).collect();
            let html = page(&state, &ctx, &number, &typed, errors).await?.render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
