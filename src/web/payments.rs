//! Payments on the web: finance records a payment for an account (its open invoices listed oldest
//! due first, amounts pre-filled as far as the payment goes), uploads the bank's file, lists
//! payments with what is unapplied, and on a payment's page applies the rest or reverses it.
//! Buyers with billing rights read their own account's payments at /portal/payments.

use super::AppState;
use super::dated_list::{ListQuery, PAGE, Side};
use super::error::{WebError, multipart_error};
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::domain::money::Money;
use crate::domain::payments::{Allocation, Method, OpenInvoice, allocate};
use crate::service::auth::random_token;
use crate::service::idempotency::{self, IdemKey, Keyed};
use crate::service::payment_imports::{self, ImportReport};
use crate::service::payments::{
    self as payment_service, ApplicationRow, ApplyInput, Payment, PaymentInput, PaymentRow,
};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

const MAX_UPLOAD_BODY: usize = payment_imports::MAX_FILE_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance/payments", get(staff_list).post(record))
        .route("/finance/payments/new", get(new_form))
        .route("/finance/payments/import", post(import).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)))
        .route("/finance/payments/{number}", get(staff_payment))
        .route("/finance/payments/{number}/apply", post(apply))
        .route("/finance/payments/{number}/reverse", post(reverse))
        .route("/finance/payments/{number}/applications/{application}/unapply", post(unapply))
        .route("/portal/payments", get(portal_list))
        .route("/portal/payments/{number}", get(portal_payment))
}

/// A payment as a row of a list.
pub struct PaymentItem {
    pub number: String,
    pub account_name: String,
    pub received_on: String,
    pub method: String,
    pub reference: String,
    pub amount: Money,
    pub unapplied: Money,
    pub status: String,
}

impl From<&PaymentRow> for PaymentItem {
    fn from(p: &PaymentRow) -> PaymentItem {
        PaymentItem {
            number: p.number.clone(),
            account_name: p.account_name.clone(),
            received_on: p.received_on.clone(),
            method: Method::parse(&p.method).map(|m| m.label().to_string()).unwrap_or_else(|| p.method.clone()),
            reference: p.reference.clone(),
            amount: Money::from_raw(p.amount),
            unapplied: Money::from_raw(p.unapplied),
            status: p.status.clone(),
        }
    }
}

/// An application of a payment or credit note to an invoice, as a row of a page.
pub struct ApplicationItem {
    pub id: String,
    pub invoice_number: String,
    /// PAY-… or CN-…
    pub source_number: String,
    pub credit_note: bool,
    pub amount: Money,
    pub applied_on: String,
    /// Still applied (it can be taken off).
    pub live: bool,
    /// How it stopped applying: "reversed" (with its payment) or "unapplied".
    pub taken_off: String,
}

impl From<&ApplicationRow> for ApplicationItem {
    fn from(a: &ApplicationRow) -> ApplicationItem {
        ApplicationItem {
            id: a.id.clone(),
            invoice_number: a.invoice_number.clone(),
            source_number: a.source_number.clone(),
            credit_note: a.source_kind == "credit_note",
            amount: Money::from_raw(a.amount),
            applied_on: a.applied_on.clone(),
            live: a.is_live(),
            taken_off: match (a.is_live(), a.taken_off.as_deref()) {
                (true, _) => String::new(),
                (false, Some("unapplied")) => "unapplied".into(),
                (false, _) => "reversed".into(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "payments.html")]
struct ListPage {
    shell: Shell,
    base: &'static str,
    staff: bool,
    items: Vec<PaymentItem>,
    next_page: Option<String>,
    message: Option<String>,
    file_errors: Vec<FieldError>,
    /// The bank file form's one-time token.
    token: String,
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: ListQuery,
    base: &'static str,
    message: Option<String>,
    file_errors: Vec<FieldError>,
) -> Result<Html<String>, WebError> {
    let staff = ctx.session.principal.is_staff();
    let mut rows = payment_service::list_payments(&state.db, &ctx.actor(), q.account(), q.after(), PAGE + 1).await?;
    let next_page = q.page(&mut rows, |p| (p.received_on.clone(), p.number.clone()));
    let items = rows.iter().map(PaymentItem::from).collect();
    let token = random_token(16);
    let page =
        ListPage { shell: Shell::new(ctx, "Payments"), base, staff, items, next_page, message, file_errors, token };
    Ok(Html(page.render()?))
}

async fn staff_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    Side::Staff.check(&ctx)?;
    list(&state, &ctx, q, "/finance/payments", None, Vec::new()).await
}

async fn portal_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    Side::Portal.check(&ctx)?;
    list(&state, &ctx, q, "/portal/payments", None, Vec::new()).await
}

/// The record form as entered (kept on errors).
#[derive(Deserialize, Default, Clone)]
struct RecordForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    reference: String,
    /// The form's one-time token: a double submit records one payment.
    #[serde(default)]
    form_token: String,
}

/// One open invoice on a form, with the amount to apply (as typed or pre-filled).
struct InvoiceLine {
    number: String,
    issued_on: String,
    due_on: String,
    total: Money,
    balance: Money,
    apply: String,
}

#[derive(Template)]
#[template(path = "payment_form.html")]
struct RecordPage {
    shell: Shell,
    f: RecordForm,
    account_name: Option<String>,
    methods: Vec<(&'static str, &'static str)>,
    invoices: Vec<InvoiceLine>,
    errors: Vec<FieldError>,
}

impl RecordPage {
    fn error(&self, field: &str) -> String {
        field_errors(&self.errors, field)
    }
    fn line_error(&self, index: &usize) -> String {
        field_errors(&self.errors, &format!("invoices[{index}]"))
    }
}

fn field_errors(errors: &[FieldError], field: &str) -> String {
    errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn methods() -> Vec<(&'static str, &'static str)> {
    Method::ALL.iter().filter(|m| **m != Method::Online).map(|m| (m.as_str(), m.label())).collect()
}

/// The account's open invoices with amounts: as typed (`typed`, by number), else pre-filled
/// oldest due first as far as `amount` goes.
async fn invoice_lines(
    state: &AppState,
    ctx: &Ctx,
    account_id: &str,
    amount: &str,
    typed: Option<&[(String, String)]>,
) -> Result<Vec<InvoiceLine>, WebError> {
    let open = payment_service::open_invoices(&state.db, &ctx.actor(), account_id).await?;
    let prefill: Vec<Money> = match (typed, crate::domain::payments::parse_amount(amount)) {
        (None, Ok(m)) => {
            let all: Vec<OpenInvoice> = open
                .iter()
                .map(|i| OpenInvoice {
                    id: i.id.clone(),
                    number: i.number.clone(),
                    due_on: i.due_on.clone(),
                    balance: Money::from_raw(i.total - i.paid),
                })
                .collect();
            let mut out = vec![Money::ZERO; open.len()];
            for a in allocate(m, &all, &Allocation::OldestFirst).unwrap_or_default() {
                out[a.invoice] = a.amount;
            }
            out
        }
        _ => vec![Money::ZERO; open.len()],
    };
    Ok(open
        .iter()
        .zip(prefill)
        .map(|(i, pre)| InvoiceLine {
            number: i.number.clone(),
            issued_on: i.issued_on.clone(),
            due_on: i.due_on.clone(),
            total: Money::from_raw(i.total),
            balance: Money::from_raw(i.total - i.paid),
            apply: match typed {
                Some(t) => t.iter().find(|(n, _)| n == &i.number).map(|(_, a)| a.clone()).unwrap_or_default(),
                None if pre.is_zero() => String::new(),
                None => pre.to_plain(),
            },
        })
        .collect())
}

async fn record_page(
    state: &AppState,
    ctx: &Ctx,
    f: RecordForm,
    typed: Option<&[(String, String)]>,
    mut errors: Vec<FieldError>,
) -> Result<Html<String>, WebError> {
    let mut account_name = None;
    let mut invoices = Vec::new();
    if !f.account.trim().is_empty() {
        match crate::service::accounts::find_account(&state.db, &ctx.actor(), f.account.trim()).await {
            Ok(a) => {
                account_name = Some(format!("{} ({})", a.name, a.number));
                invoices = invoice_lines(state, ctx, &a.id, &f.amount, typed).await?;
            }
            Err(ServiceError::NotFound) | Err(ServiceError::Invalid(_)) => {
                if !errors.iter().any(|e| e.field == "account") {
                    errors.push(FieldError {
                        field: "account".into(),
                        message: format!("No account “{}”.", f.account.trim()),
                    });
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = RecordPage {
        shell: Shell::new(ctx, "Record a payment"),
        f,
        account_name,
        methods: methods(),
        invoices,
        errors,
    };
    Ok(Html(page.render()?))
}

async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<RecordForm>,
) -> Result<Html<String>, WebError> {
    payment_service::require_writer(&ctx.actor())?;
    let method = if f.method.is_empty() { "check".into() } else { f.method };
    let f = RecordForm { method, form_token: random_token(16), ..f };
    record_page(&state, &ctx, f, None, Vec::new()).await
}

/// The record form's fields, with `apply_<invoice number>` amounts.
fn split_form(fields: Vec<(String, String)>) -> (RecordForm, Vec<(String, String)>) {
    let mut f = RecordForm::default();
    let mut apply = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "account" => f.account = v,
            "amount" => f.amount = v,
            "received_on" => f.received_on = v,
            "method" => f.method = v,
            "reference" => f.reference = v,
            "form_token" => f.form_token = v,
            _ => {
                if let Some(n) = k.strip_prefix("apply_") {
                    apply.push((n.to_string(), v));
                }
            }
        }
    }
    (f, apply)
}

async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    payment_service::require_writer(&ctx.actor())?;
    let (f, typed) = split_form(fields);
    let amounts: Vec<(String, String)> = typed.iter().filter(|(_, a)| !a.trim().is_empty()).cloned().collect();
    let input = PaymentInput {
        account: f.account.clone(),
        amount: f.amount.clone(),
        received_on: f.received_on.clone(),
        method: f.method.clone(),
        reference: f.reference.clone(),
        external_id: None,
        apply: if amounts.is_empty() { ApplyInput::Nothing } else { ApplyInput::Amounts(amounts.clone()) },
    };
    let key = form_key(&ctx, &f.form_token, b"record a payment")?;
    let recorded =
        payment_service::record_payment_once(&state.db, state.now(), &ctx.actor(), &input, Some(&key), |r| {
            (303, r.payment.row.number.clone())
        })
        .await;
    let shown = |number: &str| Redirect::to(&format!("/finance/payments/{number}?done=recorded")).into_response();
    match recorded {
        Ok(Keyed::Ran(r)) => Ok(shown(&r.payment.row.number)),
        // A double submit: the first click's payment.
        Ok(Keyed::Replayed { body, .. }) => Ok(shown(&body)),
        Err(ServiceError::InFlight) => Ok(shown(&idempotency::wait_for(&state.db, &key).await?.1)),
        Err(ServiceError::Invalid(errors)) => {
            // Errors about the n-th amount sent name the invoice's row on the page.
            let errors = errors.into_iter().map(|e| renumber(e, &amounts, &typed)).collect();
            Ok(record_page(&state, &ctx, f, Some(&typed), errors).await?.into_response())
        }
        Err(ServiceError::Conflict(msg)) => {
            let errors = vec![FieldError { field: "form".into(), message: msg }];
            Ok(record_page(&state, &ctx, f, Some(&typed), errors).await?.into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The idempotency key of a form's one-time token, for the request `what` (its form's name, or
/// the file it sends).
fn form_key(ctx: &Ctx, token: &str, what: &[u8]) -> Result<IdemKey, WebError> {
    if token.len() < 16 {
        return Err(WebError::BadRequest("This form has expired; reload the page.".into()));
    }
    Ok(IdemKey::hashed(format!("form:{}", ctx.session.principal.user_id), token, what))
}

/// `invoices[k]` of the amounts sent → `invoices[i]` of the page's rows (all of the account's open invoices).
fn renumber(e: FieldError, sent: &[(String, String)], rows: &[(String, String)]) -> FieldError {
    let Some(k) =
        e.field.strip_prefix("invoices[").and_then(|r| r.strip_suffix(']')).and_then(|k| k.parse::<usize>().ok())
    else {
        return e;
    };
    match sent.get(k).and_then(|(n, _)| rows.iter().position(|(r, _)| r == n)) {
        Some(i) => FieldError { field: format!("invoices[{i}]"), ..e },
        None => e,
    }
}

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage {
    shell: Shell,
    base: &'static str,
    invoices_base: &'static str,
    p: PaymentItem,
    row: PaymentRow,
    recorded_at: String,
    applications: Vec<ApplicationItem>,
    can_write: bool,
    open: Vec<InvoiceLine>,
    errors: Vec<FieldError>,
    message: Option<String>,
    reason: String,
}

impl PaymentPage {
    fn error(&self, field: &str) -> String {
        field_errors(&self.errors, field)
    }
    fn line_error(&self, index: &usize) -> String {
        field_errors(&self.errors, &format!("invoices[{index}]"))
    }
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

fn done_message(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "recorded" => "Payment recorded.",
            "applied" => "Applied; the invoices show it.",
            "reversed" => "Payment reversed; its invoices owe it again.",
            "unapplied" => "Taken off the invoice: it owes that amount again, and the payment has it to apply.",
            _ => return None,
        }
        .to_string(),
    )
}

#[allow(clippy::too_many_arguments)]
async fn payment_page(
    state: &AppState,
    ctx: &Ctx,
    payment: Payment,
    base: &'static str,
    errors: Vec<FieldError>,
    message: Option<String>,
    typed: Option<&[(String, String)]>,
    reason: String,
) -> Result<Html<String>, WebError> {
    let can_write = base == "/finance/payments" && payment_service::require_writer(&ctx.actor()).is_ok();
    let open = if can_write && payment.row.status == "posted" && payment.row.unapplied > 0 {
        let left = Money::from_raw(payment.row.unapplied).to_plain();
        invoice_lines(state, ctx, &payment.row.account_id, &left, typed).await?
    } else {
        Vec::new()
    };
    let page = PaymentPage {
        shell: Shell::new(ctx, format!("Payment {}", payment.row.number)),
        base,
        invoices_base: if base == "/finance/payments" { "/invoices" } else { "/portal/invoices" },
        p: PaymentItem::from(&payment.row),
        recorded_at: datetime(payment.row.created_at),
        applications: payment.applications.iter().map(ApplicationItem::from).collect(),
        row: payment.row,
        can_write,
        open,
        errors,
        message,
        reason,
    };
    Ok(Html(page.render()?))
}

async fn staff_payment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    Side::Staff.check(&ctx)?;
    let p = payment_service::get_payment(&state.db, &ctx.actor(), &number).await?;
    payment_page(&state, &ctx, p, "/finance/payments", Vec::new(), done_message(q.done.as_deref()), None, String::new())
        .await
}

async fn portal_payment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    Side::Portal.check(&ctx)?;
    let p = payment_service::get_payment(&state.db, &ctx.actor(), &number).await?;
    payment_page(&state, &ctx, p, "/portal/payments", Vec::new(), None, None, String::new()).await
}

async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    payment_service::require_writer(&ctx.actor())?;
    let (_, typed) = split_form(fields.clone());
    let amounts: Vec<(String, String)> = typed.iter().filter(|(_, a)| !a.trim().is_empty()).cloned().collect();
    let oldest = fields.iter().any(|(k, v)| k == "oldest_first" && v == "1");
    let input = if oldest { ApplyInput::OldestFirst } else { ApplyInput::Amounts(amounts.clone()) };
    match payment_service::apply_payment(&state.db, state.now(), &ctx.actor(), &number, &input).await {
        Ok(p) => Ok(Redirect::to(&format!("/finance/payments/{}?done=applied", p.row.number)).into_response()),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let errors = match e {
                ServiceError::Invalid(errors) => errors.into_iter().map(|e| renumber(e, &amounts, &typed)).collect(),
                ServiceError::Conflict(msg) => vec![FieldError { field: "invoices".into(), message: msg }],
                _ => Vec::new(),
            };
            let p = payment_service::get_payment(&state.db, &ctx.actor(), &number).await?;
            Ok(payment_page(&state, &ctx, p, "/finance/payments", errors, None, Some(&typed), String::new())
                .await?
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ReverseForm {
    #[serde(default)]
    reason: String,
}

async fn reverse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<ReverseForm>,
) -> Result<Response, WebError> {
    payment_service::require_writer(&ctx.actor())?;
    match payment_service::reverse_payment(&state.db, state.now(), &ctx.actor(), &number, &f.reason).await {
        Ok(p) => Ok(Redirect::to(&format!("/finance/payments/{}?done=reversed", p.row.number)).into_response()),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let errors = match e {
                ServiceError::Invalid(errors) => errors,
                ServiceError::Conflict(msg) => vec![FieldError { field: "reason".into(), message: msg }],
                _ => Vec::new(),
            };
            let p = payment_service::get_payment(&state.db, &ctx.actor(), &number).await?;
            Ok(payment_page(&state, &ctx, p, "/finance/payments", errors, None, None, f.reason).await?.into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes one application of the payment off its invoice; back on the payment's page.
async fn unapply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, application)): Path<(String, String)>,
) -> Result<Response, WebError> {
    payment_service::require_writer(&ctx.actor())?;
    match payment_service::unapply_payment(&state.db, state.now(), &ctx.actor(), &number, &application).await {
        Ok(p) => Ok(Redirect::to(&format!("/finance/payments/{}?done=unapplied", p.row.number)).into_response()),
        Err(ServiceError::Conflict(msg)) => {
            let errors = vec![FieldError { field: "applications".into(), message: msg }];
            let p = payment_service::get_payment(&state.db, &ctx.actor(), &number).await?;
            Ok(payment_page(&state, &ctx, p, "/finance/payments", errors, None, None, String::new())
                .await?
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Staff who may record payments, checked from the request's head alone: anyone else's upload is
/// refused (404 for buyers, 403 for other staff) before a byte of its body is read.
pub struct PaymentWriter(Ctx);

impl FromRequestParts<AppState> for PaymentWriter {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        payment_service::require_writer(&ctx.actor()).map_err(|e| WebError::from(e).into_response())?;
        Ok(PaymentWriter(ctx))
    }
}

fn too_large() -> String {
    format!("The file is larger than {} MB.", payment_imports::MAX_FILE_BYTES / (1024 * 1024))
}

/// The bank's file: read (at most its limit), imported whole or not at all; the list shows the
/// report, or every bad row.
async fn import(
    State(state): State<AppState>,
    PaymentWriter(ctx): PaymentWriter,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_UPLOAD_BODY as u64) {
        return Err(ServiceError::TooLarge(too_large()).into());
    }
    let mut bytes = Vec::new();
    let mut token = String::new();
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(e, too_large))? {
        match field.name() {
            Some("file") => {
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                    if bytes.len() + chunk.len() > payment_imports::MAX_FILE_BYTES {
                        return Err(ServiceError::TooLarge(too_large()).into());
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            Some("form_token") => token = field.text().await.map_err(|e| multipart_error(e, too_large))?,
            _ => {}
        }
    }
    // The same file sent twice from one form (a double click) is imported once; the second
    // answer is the first one's report.
    let key = form_key(&ctx, &token, &bytes)?;
    let imported =
        payment_imports::import_payments_csv_once(&state.db, state.now(), &ctx.actor(), &bytes, Some(&key), |r| {
            (200, report_message(r))
        })
        .await;
    let (message, errors) = match imported {
        Ok(Keyed::Ran(report)) => (Some(report_message(&report)), Vec::new()),
        Ok(Keyed::Replayed { body, .. }) => (Some(body), Vec::new()),
        Err(ServiceError::InFlight) => (Some(idempotency::wait_for(&state.db, &key).await?.1), Vec::new()),
        Err(ServiceError::Invalid(errors)) => {
            (Some("Nothing was imported: the file has problems.".to_string()), errors)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(list(&state, &ctx, ListQuery::default(), "/finance/payments", message, errors).await?.into_response())
}

fn report_message(r: &ImportReport) -> String {
    r.summary()
}
