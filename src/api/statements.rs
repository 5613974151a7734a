//! Statements and aging through the API (`invoices:read`): one account's statement for a period
//! — opening balance, lines with their running balance, closing balance, open invoices and
//! aging — and the receivables aging across accounts, cursor-paged, with totals over all of them.

use super::input::{ApiJson, ApiPath, ApiQuery, reference};
use super::{ApiCaller, ApiError};
use crate::app::AppState;
use crate::domain::aging::{AccountAging, Bucket};
use crate::domain::auth::Scope;
use crate::domain::money::Money;
use crate::domain::pricing::format_iso_date as iso;
use crate::service::Actor;
use crate::service::accounts::find_account;
use crate::service::catalog::today;
use crate::service::statements::{self, AgingQuery, Period};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/{account}/statement", get(get_statement))
        .route("/api/v1/accounts/{account}/statement/send", post(send_statement))
        .route("/api/v1/receivables/aging", get(get_aging))
}

fn money(m: Money) -> String {
    m.to_plain()
}

/// Amounts by aging bucket (decimal strings, exact), with the unapplied credits and the balance.
#[derive(Serialize, ToSchema)]
pub struct AgingOut {
    current: String,
    days_1_30: String,
    days_31_60: String,
    days_61_90: String,
    days_over_90: String,
    /// Σ of the buckets: the open invoices.
    open_total: String,
    /// Payments and credit notes not yet applied to an invoice.
    unapplied_credits: String,
    /// open_total − unapplied_credits.
    balance: String,
}

fn aging_out(a: &AccountAging) -> AgingOut {
    let b = |x| money(a.buckets.get(x));
    AgingOut {
        current: b(Bucket::Current),
        days_1_30: b(Bucket::Days1To30),
        days_31_60: b(Bucket::Days31To60),
        days_61_90: b(Bucket::Days61To90),
        days_over_90: b(Bucket::Over90),
        open_total: money(a.open_total()),
        unapplied_credits: money(a.credits),
        balance: money(a.balance()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct StatementLineOut {
    date: String,
    /// `invoice`, `credit_note`, `payment` or `payment_reversal`.
    kind: String,
    /// INV-100001, CN-100001, PAY-100001.
    reference: String,
    detail: String,
    /// Signed: charges positive, payments and credits negative.
    amount: String,
    /// The balance after this line.
    balance: String,
}

#[derive(Serialize, ToSchema)]
pub struct OpenInvoiceOut {
    number: String,
    issued_on: String,
    due_on: String,
    /// Negative or 0 when not yet due.
    days_overdue: i64,
    total: String,
    open: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatementOut {
    account_id: String,
    account_number: String,
    account_name: String,
    from: String,
    to: String,
    /// The day the open invoices are aged on (today).
    as_of: String,
    opening_balance: String,
    lines: Vec<StatementLineOut>,
    /// opening_balance + Σ lines.amount.
    closing_balance: String,
    open_invoices: Vec<OpenInvoiceOut>,
    aging: AgingOut,
    /// The account's credit limit, when it has one.
    credit_limit: Option<String>,
    /// What is available under the limit, when it has one.
    available_credit: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// First day of the period (default: 89 days before `to`).
    #[param(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    from: Option<String>,
    /// Last day of the period (default: today). A reversed pair is swapped; a period longer than
    /// 10 years starts 10 years before `to` (the answer's `from`/`to` say which period it covers).
    #[param(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    to: Option<String>,
}

/// Which period's statement to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendStatementIn {
    /// First day of the period (default: 89 days before `to`).
    #[schema(format = Date)]
    from: Option<String>,
    /// Last day of the period (default: today); at most 10 years after `from`.
    #[schema(format = Date)]
    to: Option<String>,
}

/// What was sent, and to whom.
#[derive(Serialize, ToSchema)]
pub struct SentStatementOut {
    account_number: String,
    from: String,
    to: String,
    /// The balance at the end of the period.
    closing_balance: String,
    /// What is overdue today.
    overdue: String,
    /// The addresses the mail goes to: the account's finance contacts, else its purchasing
    /// managers, less those who turned statement mail off.
    recipients: Vec<String>,
    /// `statement.sent`: the mail is queued with the event, and webhooks receive it.
    event: String,
}

/// Sends an account's statement for a period to its finance contacts by mail.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/statement/send", request_body = SendStatementIn,
    params(("account" = String, Path, description = "Account id, number (A-10001) or external id")),
    responses((status = 202, description = "queued for mail", body = SentStatementOut),
    (status = 404, description = "no such account", body = super::Problem),
    (status = 409, description = "nobody at the account receives statements", body = super::Problem),
    (status = 422, description = "a bad period", body = super::Problem)),
    security(("bearer" = ["payments:write"])), tag = "invoices")]
pub async fn send_statement(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<SendStatementIn>, ApiError>,
) -> Result<(StatusCode, Json<SentStatementOut>), ApiError> {
    caller.require(Scope::PaymentsWrite)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiJson(b) = body?;
    // A date given is a date: empty text is not "absent" here (the form's rule), it is refused.
    for (field, v) in [("from", &b.from), ("to", &b.to)] {
        if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::invalid(field, "a date (YYYY-MM-DD), or leave it out"));
        }
    }
    let now = state.now();
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &id).await?;
    let period = Period::parse(b.from.as_deref(), b.to.as_deref(), today(now))?;
    let sent = statements::send_statement(&state.db, now, &actor, &account.id, period).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SentStatementOut {
            account_number: sent.account_number,
            from: iso(sent.period.from),
            to: iso(sent.period.to),
            closing_balance: money(sent.closing_balance),
            overdue: money(sent.overdue),
            recipients: sent.recipients,
            event: "statement.sent".into(),
        }),
    ))
}

/// An account's statement for a period, exact to the cent.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/statement", params(("account" = String, Path, description = "Account id, number (A-10001) or external id"), StatementParams),
    responses((status = 200, body = StatementOut), (status = 404, description = "no such account", body = super::Problem),
    (status = 422, description = "a bad period", body = super::Problem)),
    security(("bearer" = ["invoices:read"])), tag = "invoices")]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<StatementParams>, ApiError>,
) -> Result<Json<StatementOut>, ApiError> {
    caller.require(Scope::InvoicesRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let ApiQuery(p) = query?;
    let now = state.now();
    let actor = Actor::api(&caller.0);
    let account = find_account(&state.db, &actor, &id).await?;
    let period = Period::for_read(p.from.as_deref(), p.to.as_deref(), today(now))?;
    let doc = statements::statement(&state.db, now, &actor, &account.id, period).await?;
    let s = &doc.statement;
    Ok(Json(StatementOut {
        account_id: account.id,
        account_number: doc.account_number.clone(),
        account_name: doc.account_name.clone(),
        from: iso(s.from),
        to: iso(s.to),
        as_of: iso(doc.as_of),
        opening_balance: money(s.opening),
        lines: s
            .lines
            .iter()
            .map(|l| StatementLineOut {
                date: iso(l.entry.on),
                kind: l.entry.kind.key().into(),
                reference: l.entry.reference.clone(),
                detail: l.entry.detail.clone(),
                amount: money(l.entry.signed()),
                balance: money(l.balance),
            })
            .collect(),
        closing_balance: money(s.closing),
        open_invoices: doc
            .open_invoices
            .iter()
            .map(|i| OpenInvoiceOut {
                number: i.number.clone(),
                issued_on: iso(i.issued_on),
                due_on: iso(i.due_on),
                days_overdue: i.days_overdue,
                total: money(i.total),
                open: money(i.open),
            })
            .collect(),
        aging: aging_out(&doc.aging),
        credit_limit: doc.credit.map(|c| money(c.0)),
        available_credit: doc.credit.map(|c| money(c.1)),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AgingRowOut {
    account_id: String,
    account_number: String,
    account_name: String,
    rep_name: Option<String>,
    aging: AgingOut,
}

#[derive(Serialize, ToSchema)]
pub struct AgingReportOut {
    as_of: String,
    /// Accounts with anything open, over all pages.
    accounts: usize,
    /// Totals over every account of the report (all pages).
    totals: AgingOut,
    /// Most overdue (90+) first, then the largest open total, then by account number.
    rows: Vec<AgingRowOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgingParams {
    /// Only accounts whose name, number or external id contains this.
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    q: Option<String>,
    /// Only accounts this sales rep (user id) owns.
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    rep: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^-?[0-9]{1,19}\.-?[0-9]{1,19}\.[^\u0000-\u001F\u007F-\u009F]{1,64}$")]
    cursor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The receivables aging across accounts as of today, with totals.
#[utoipa::path(get, path = "/api/v1/receivables/aging", params(AgingParams),
    responses((status = 200, body = AgingReportOut), (status = 422, description = "a bad cursor", body = super::Problem)),
    security(("bearer" = ["invoices:read"])), tag = "invoices")]
pub async fn get_aging(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<AgingParams>, ApiError>,
) -> Result<Json<AgingReportOut>, ApiError> {
    caller.require(Scope::InvoicesRead)?;
    let ApiQuery(p) = query?;
    let limit = super::catalog::page_limit(p.limit)?;
    if p.cursor.as_deref() == Some("") {
        // An empty cursor is no cursor from this API (the first page has none at all).
        return Err(ApiError::invalid("cursor", "not a cursor from this API"));
    }
    let now = state.now();
    let q = AgingQuery { rep_id: p.rep.filter(|r| !r.trim().is_empty()), q: p.q.unwrap_or_default() };
    let report = statements::aging_report(&state.db, now, &Actor::api(&caller.0), &q).await?;
    let page = statements::aging_page(report, p.cursor.as_deref(), limit as usize)?;
    Ok(Json(AgingReportOut {
        as_of: iso(today(now)),
        accounts: page.accounts,
        totals: aging_out(&page.totals),
        rows: page
            .rows
            .iter()
            .map(|r| AgingRowOut {
                account_id: r.account_id.clone(),
                account_number: r.account_number.clone(),
                account_name: r.account_name.clone(),
                rep_name: r.rep_name.clone(),
                aging: aging_out(&r.aging),
            })
            .collect(),
        next_cursor: page.next,
    }))
}
