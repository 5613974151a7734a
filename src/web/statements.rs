//! Statements and aging on the web: a buyer with billing rights sees their account's statement
//! (open invoices, payments, balance, aging, available credit) for a period and downloads it as
//! PDF or CSV; staff open any account's they may see; finance reads the receivables aging across
//! accounts, filters it, drills into an account's statement and downloads it as CSV.

use crate::domain::aging::{AccountAging, AgingRow, Bucket};
use crate::domain::money::Money;
use crate::domain::pricing::format_iso_date as iso;
use crate::domain::statement::{EntryKind, StatementDocument};
use crate::service::catalog::today;
use crate::service::statements::{self, AgingQuery, Period};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/statement", get(portal_statement))
        .route("/portal/statement/pdf", get(portal_pdf))
        .route("/portal/statement/csv", get(portal_csv))
        .route("/accounts/{id}/statement", get(staff_statement))
        .route("/accounts/{id}/statement/pdf", get(staff_pdf))
        .route("/accounts/{id}/statement/csv", get(staff_csv))
        .route("/accounts/{id}/statement/send", post(staff_send))
        .route("/finance/aging", get(aging_page))
        .route("/finance/aging/csv", get(aging_csv))
}

#[derive(Deserialize, Default)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    notice: Option<String>,
}

impl PeriodQuery {
    fn period(&self, now: i64) -> Result<Period, WebError> {
        Ok(Period::parse(self.from.as_deref(), self.to.as_deref(), today(now))?)
    }
}

/// A preset period offered as a link: (label, from, to).
type Preset = (&'static str, String, String);

fn presets(now: i64) -> Vec<Preset> {
    let t = today(now);
    let month_start = t.replace_day(1).unwrap_or(t);
    let last_month_end = month_start.previous_day().unwrap_or(month_start);
    let last_month_start = last_month_end.replace_day(1).unwrap_or(last_month_end);
    let year_start = t.replace_ordinal(1).unwrap_or(t);
    let days90 = t.checked_sub(time::Duration::days(statements::DEFAULT_PERIOD_DAYS - 1)).unwrap_or(t);
    vec![
        ("Last 90 days", iso(days90), iso(t)),
        ("This month", iso(month_start), iso(t)),
        ("Last month", iso(last_month_start), iso(last_month_end)),
        ("This year", iso(year_start), iso(t)),
    ]
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    shell: Shell,
    doc: StatementDocument,
    /// Where the page and its downloads live: /portal/statement or /accounts/{id}/statement.
    base: String,
    /// Where its invoices open: /portal/invoices or /invoices.
    invoices_base: &'static str,
    from: String,
    to: String,
    presets: Vec<Preset>,
    buckets: Vec<(&'static str, Money)>,
    staff: bool,
    /// Finance staff may send the statement to the customer by mail.
    can_send: bool,
    account_id: String,
}

impl StatementPage {
    fn query(&self) -> String {
        serde_urlencoded::to_string([("from", &self.from), ("to", &self.to)]).unwrap_or_default()
    }
    fn is_invoice(&self, kind: &EntryKind) -> bool {
        matches!(kind, EntryKind::Invoice | EntryKind::CreditNote)
    }
}

fn buckets(a: &AccountAging) -> Vec<(&'static str, Money)> {
    Bucket::ALL.iter().map(|b| (b.label(), a.buckets.get(*b))).collect()
}

async fn show(
    state: &AppState,
    ctx: &Ctx,
    account_id: &str,
    q: PeriodQuery,
    staff: bool,
) -> Result<Html<String>, WebError> {
    let now = state.now();
    let period = q.period(now)?;
    let doc = statements::statement(&state.db, now, &ctx.actor(), account_id, period).await?;
    let base = if staff { format!("/accounts/{account_id}/statement") } else { "/portal/statement".to_string() };
    let title = if staff { format!("Statement · {}", doc.account_name) } else { "Statement".to_string() };
    let page = StatementPage {
        shell: Shell::new(ctx, title).with_notice(q.notice.as_deref()),
        buckets: buckets(&doc.aging),
        from: iso(period.from),
        to: iso(period.to),
        presets: presets(now),
        doc,
        base,
        invoices_base: if staff { "/invoices" } else { "/portal/invoices" },
        staff,
        can_send: staff && ctx.session.principal.can(crate::domain::auth::Permission::ManageCredit),
        account_id: account_id.to_string(),
    };
    Ok(Html(page.render()?))
}

fn own_account(ctx: &Ctx) -> Result<String, WebError> {
    ctx.session.principal.buyer_account().map(str::to_string).ok_or(WebError::NotFound)
}

fn staff_only(ctx: &Ctx) -> Result<(), WebError> {
    if ctx.session.principal.is_staff() { Ok(()) } else { Err(WebError::NotFound) }
}

async fn portal_statement(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Html<String>, WebError> {
    let id = own_account(&ctx)?;
    show(&state, &ctx, &id, q, false).await
}

async fn staff_statement(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Html<String>, WebError> {
    staff_only(&ctx)?;
    show(&state, &ctx, &id, q, true).await
}

/// Finance sends the statement of the period shown to the customer by mail.
async fn staff_send(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(q): Form<PeriodQuery>,
) -> Result<Response, WebError> {
    staff_only(&ctx)?;
    let now = state.now();
    let period = q.period(now)?;
    statements::send_statement(&state.db, now, &ctx.actor(), &id, period).await?;
    let back = serde_urlencoded::to_string([
        ("from", iso(period.from).as_str()),
        ("to", iso(period.to).as_str()),
        ("notice", "statement_sent"),
    ])
    .unwrap_or_default();
    Ok(Redirect::to(&format!("/accounts/{id}/statement?{back}")).into_response())
}

/// A file to save: its type and name.
pub(crate) fn download(name: &str, content_type: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

async fn pdf(state: &AppState, ctx: &Ctx, id: &str, q: PeriodQuery) -> Result<Response, WebError> {
    let now = state.now();
    let (name, bytes) = statements::statement_pdf(&state.db, now, &ctx.actor(), id, q.period(now)?).await?;
    Ok(download(&name, "application/pdf", bytes))
}

async fn csv(state: &AppState, ctx: &Ctx, id: &str, q: PeriodQuery) -> Result<Response, WebError> {
    let now = state.now();
    let (name, text) = statements::statement_csv(&state.db, now, &ctx.actor(), id, q.period(now)?).await?;
    Ok(download(&name, "text/csv; charset=utf-8", text.into_bytes()))
}

async fn portal_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    pdf(&state, &ctx, &own_account(&ctx)?, q).await
}

async fn portal_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    csv(&state, &ctx, &own_account(&ctx)?, q).await
}

async fn staff_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    staff_only(&ctx)?;
    pdf(&state, &ctx, &id, q).await
}

async fn staff_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    staff_only(&ctx)?;
    csv(&state, &ctx, &id, q).await
}

#[derive(Deserialize, Default)]
struct AgingParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    rep: String,
    #[serde(default)]
    after: String,
}

impl AgingParams {
    fn query(&self) -> AgingQuery {
        AgingQuery { rep_id: Some(self.rep.trim().to_string()).filter(|r| !r.is_empty()), q: self.q.clone() }
    }
}

#[derive(Template)]
#[template(path = "aging.html")]
struct AgingPageView {
    shell: Shell,
    as_of: String,
    q: String,
    rep: String,
    reps: Vec<(String, String)>,
    rows: Vec<AgingRow>,
    totals: AccountAging,
    accounts: usize,
    next: Option<String>,
    csv_query: String,
    bucket_labels: Vec<&'static str>,
}

impl AgingPageView {
    fn amounts(&self, a: &AccountAging) -> Vec<Money> {
        Bucket::ALL.iter().map(|b| a.buckets.get(*b)).collect()
    }
    fn next_query(&self, cursor: &str) -> String {
        serde_urlencoded::to_string([("q", self.q.as_str()), ("rep", self.rep.as_str()), ("after", cursor)])
            .unwrap_or_default()
    }
}

/// Rows per page of the aging (the totals are always over every account).
const AGING_PAGE: usize = 100;

async fn aging_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<AgingParams>,
) -> Result<Html<String>, WebError> {
    staff_only(&ctx)?;
    let now = state.now();
    let actor = ctx.actor();
    let report = statements::aging_report(&state.db, now, &actor, &p.query()).await?;
    let page = statements::aging_page(report, Some(&p.after), AGING_PAGE)?;
    let view = AgingPageView {
        shell: Shell::new(&ctx, "Receivables aging"),
        as_of: iso(today(now)),
        reps: statements::aging_reps(&state.db, &actor).await?,
        csv_query: serde_urlencoded::to_string([("q", p.q.as_str()), ("rep", p.rep.as_str())]).unwrap_or_default(),
        q: p.q,
        rep: p.rep,
        rows: page.rows,
        totals: page.totals,
        accounts: page.accounts,
        next: page.next,
        bucket_labels: Bucket::ALL.iter().map(|b| b.label()).collect(),
    };
    Ok(Html(view.render()?))
}

async fn aging_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<AgingParams>,
) -> Result<Response, WebError> {
    staff_only(&ctx)?;
    let now = state.now();
    let report = statements::aging_report(&state.db, now, &ctx.actor(), &p.query()).await?;
    let text = statements::aging_csv(&report, today(now));
    Ok(download(&format!("aging-{}.csv", iso(today(now))), "text/csv; charset=utf-8", text.into_bytes()))
}
