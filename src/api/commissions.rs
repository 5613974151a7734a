//! Commissions over the API (issue 18): reps' monthly statements (`commissions:read`), the accrual
//! lines an ERP or payroll pulls by `updated_since` like every other list, and approving, locking
//! or reopening a statement (`commissions:write`) — what finance does on the web; and the
//! hand-over split's settings (read with `commissions:read`, set with `commissions:write`). Plans,
//! their assignments, teams and house accounts are in `commission_plans`, under the same prefix.

use super::commission_plans as plans;
use super::input::reference;
use super::paging::{ChangesParams, cursor_of, cut_page};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::commissions::{
    HandoverDraft, HandoverTerms, MAX_HANDOVER_DAYS, StatementAction, format_share, parse_share, rule_label,
};
use crate::domain::invoicing::format_rate;
use crate::domain::money::Money;
use crate::service::Actor;
use crate::service::commissions::{self as commission_service, AccrualLine, Statement};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/commissions/statements", get(list_commission_statements))
        .route("/api/v1/commissions/statements/{rep}/{period}/{action}", post(act_on_commission_statement))
        .route("/api/v1/commissions/accruals", get(list_commission_accruals))
        .route("/api/v1/commissions/settings", get(get_commission_settings).put(put_commission_settings))
        .merge(super::commission_plans::router())
}

#[derive(Serialize, ToSchema)]
pub struct ChannelTotalOut {
    /// portal, rep, phone, api, edi, punchout
    channel: String,
    /// Placed by the customer themselves (portal, punchout).
    self_service: bool,
    /// Decimal strings, exact.
    base: String,
    amount: String,
    lines: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AdjustmentOut {
    /// e.g. "Standard: tier bonus 1% on $120,000.00 (reached $100,000.00)"
    label: String,
    amount: String,
}

#[derive(Serialize, ToSchema)]
pub struct CommissionStatementOut {
    rep_id: String,
    rep_name: String,
    /// YYYY-MM
    period: String,
    /// `open`, `approved` or `locked`.
    status: String,
    /// The net base of the lines (invoiced, or paid for on a plan on the paid basis; tax excluded,
    /// less credit notes), and what it earned.
    base: String,
    earned: String,
    /// What the customers' own orders (portal, punchout) earned.
    self_service: String,
    /// Tier bonuses and caps.
    adjustments: Vec<AdjustmentOut>,
    /// earned + adjustments.
    total: String,
    by_channel: Vec<ChannelTotalOut>,
    approved_by: Option<String>,
    approved_at: Option<i64>,
    locked_at: Option<i64>,
}

fn statement_out(s: Statement) -> CommissionStatementOut {
    CommissionStatementOut {
        rep_id: s.rep_id,
        rep_name: s.rep_name,
        period: s.period,
        status: s.status.as_str().into(),
        base: s.base.to_plain(),
        earned: s.earned.to_plain(),
        self_service: s.self_service.to_plain(),
        adjustments: s
            .adjustments
            .into_iter()
            .map(|a| AdjustmentOut { label: a.label, amount: Money::from_raw(a.amount).to_plain() })
            .collect(),
        total: s.total.to_plain(),
        by_channel: s
            .by_channel
            .into_iter()
            .map(|c| ChannelTotalOut {
                channel: c.channel,
                self_service: c.self_service,
                base: c.base.to_plain(),
                amount: c.amount.to_plain(),
                lines: c.lines,
            })
            .collect(),
        approved_by: s.approved_by,
        approved_at: s.approved_at,
        locked_at: s.locked_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct CommissionStatementList {
    statements: Vec<CommissionStatementOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// The rep's user id; without it, every rep with lines in the period.
    #[param(min_length = 1, max_length = 100, pattern = r"^[!-~]+$")]
    rep: Option<String>,
    /// The month, YYYY-MM (default: this month, UTC).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    period: Option<String>,
}

fn checked_period(period: Option<&str>, now: i64) -> Result<String, ApiError> {
    match period {
        None => Ok(commission_service::this_period(now)),
        Some(p) => crate::domain::commissions::parse_period(p)
            .filter(|_| p.len() == 7)
            .ok_or_else(|| ApiError::invalid("period", "a month, YYYY-MM")),
    }
}

fn checked_rep(rep: &str) -> Result<(), ApiError> {
    reference(rep)?;
    if rep.is_empty() || rep.len() > 100 || !rep.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return Err(ApiError::invalid("rep", "a user id"));
    }
    Ok(())
}

/// Commission statements of a month: one rep's, or every rep's with lines in it.
#[utoipa::path(get, path = "/statements", params(StatementParams),
    responses((status = 200, body = CommissionStatementList), (status = 404, description = "no such rep", body = super::Problem)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_commission_statements(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<StatementParams>, ApiError>,
) -> Result<Json<CommissionStatementList>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let ApiQuery(p) = query?;
    let period = checked_period(p.period.as_deref(), state.now())?;
    let actor = Actor::api(&caller.0);
    let reps: Vec<String> = match p.rep.as_deref() {
        Some(r) => {
            checked_rep(r)?;
            vec![r.to_string()]
        }
        None => commission_service::period_summary(&state.db, &actor, &period)
            .await?
            .into_iter()
            .map(|s| s.rep_id)
            .collect(),
    };
    let mut statements = Vec::with_capacity(reps.len());
    for rep in reps {
        statements.push(statement_out(commission_service::statement(&state.db, &actor, &rep, &period).await?));
    }
    Ok(Json(CommissionStatementList { statements }))
}

/// Approve, lock or reopen a rep's statement of a month. Approving freezes its total, and no new
/// line lands in it (nor in earlier months) — later corrections go to the next open month;
/// locking is final; reopening sends an approved statement back to open.
#[utoipa::path(post, path = "/statements/{rep}/{period}/{action}",
    params(("rep" = String, Path, description = "The rep's user id", min_length = 1, max_length = 100, pattern = r"^[!-~]+$"),
           ("period" = String, Path, description = "The month, YYYY-MM", pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"),
           ("action" = String, Path, description = "approve, lock or reopen", pattern = r"^(approve|lock|reopen)$")),
    responses((status = 200, body = CommissionStatementOut), (status = 404, description = "no such rep", body = super::Problem),
    (status = 409, description = "the statement's status does not allow the action", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn act_on_commission_statement(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String, String)>, ApiError>,
) -> Result<Json<CommissionStatementOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath((rep, period, action)) = path?;
    checked_rep(&rep)?;
    let period = checked_period(Some(&period), state.now())?;
    let action =
        StatementAction::parse(&action).ok_or_else(|| ApiError::invalid("action", "approve, lock or reopen"))?;
    let s = commission_service::act_on_statement(&state.db, state.now(), &Actor::api(&caller.0), &rep, &period, action)
        .await?;
    Ok(Json(statement_out(s)))
}

#[derive(Serialize, ToSchema)]
pub struct AccrualOut {
    id: String,
    rep_id: String,
    /// The statement month it counts in (YYYY-MM).
    period: String,
    /// `accrual` (an invoice line) or `clawback` (a credit note's, negative).
    kind: String,
    plan_id: String,
    /// The invoice, or for a clawback the credit note, that wrote the line.
    invoice_id: String,
    invoice_number: String,
    /// The line of the invoice (of the credited invoice, for a clawback).
    invoice_line: i64,
    credited_invoice_id: Option<String>,
    order_id: String,
    order_number: String,
    account_id: String,
    channel: String,
    sku: String,
    category: String,
    /// Decimal strings, exact: the net invoiced (credited) and the commission on it.
    base: String,
    /// e.g. "5%"
    rate: String,
    rate_ppm: i64,
    /// `default`, `category:<path>` or `channel:<channel>`; on an order placed during a hand-over
    /// followed by `; hand-over <share>% to previous rep` or `; hand-over <share>% kept`.
    rule: String,
    rule_label: String,
    amount: String,
    issued_on: String,
    created_at: i64,
    /// Of a plan on the paid basis: the payment whose application (or its taking back, negative)
    /// wrote the line; absent otherwise.
    payment_id: Option<String>,
    payment_number: Option<String>,
}

fn accrual_out(a: AccrualLine) -> AccrualOut {
    AccrualOut {
        rule_label: rule_label(&a.rule),
        rate: format_rate(a.rate_ppm),
        id: a.id,
        rep_id: a.rep_id,
        period: a.period,
        kind: a.kind,
        plan_id: a.plan_id,
        invoice_id: a.invoice_id,
        invoice_number: a.invoice_number,
        invoice_line: a.invoice_line_no,
        credited_invoice_id: a.credited_invoice_id,
        order_id: a.order_id,
        order_number: a.order_number,
        account_id: a.account_id,
        channel: a.channel,
        sku: a.sku,
        category: a.category,
        base: Money::from_raw(a.base).to_plain(),
        rate_ppm: a.rate_ppm,
        rule: a.rule,
        amount: Money::from_raw(a.amount).to_plain(),
        issued_on: a.issued_on,
        created_at: a.created_at,
        payment_id: a.payment_id,
        payment_number: a.payment_number,
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccrualPage {
    accruals: Vec<AccrualOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccrualFilter {
    /// Only this rep's lines (user id).
    #[param(min_length = 1, max_length = 100, pattern = r"^[!-~]+$")]
    rep: Option<String>,
    /// Only lines counting in this month, YYYY-MM.
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    period: Option<String>,
}

/// Accrual and clawback lines written since a time, oldest first (lines never change once written).
#[utoipa::path(get, path = "/accruals", params(ChangesParams, AccrualFilter),
    responses((status = 200, body = AccrualPage), (status = 404, description = "no such rep", body = super::Problem),
    (status = 422, description = "a bad cursor, limit, time or month", body = super::Problem)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_commission_accruals(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
    filter: Result<ApiQuery<AccrualFilter>, ApiError>,
) -> Result<Json<AccrualPage>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let ApiQuery(p) = query?;
    let ApiQuery(f) = filter?;
    let c = p.check()?;
    if let Some(r) = f.rep.as_deref() {
        checked_rep(r)?;
    }
    let period = f.period.as_deref().map(|p| checked_period(Some(p), 0)).transpose()?;
    let mut rows = commission_service::accruals_since(
        &state.db,
        &Actor::api(&caller.0),
        f.rep.as_deref(),
        period.as_deref(),
        c.since,
        c.after(),
        c.limit + 1,
    )
    .await?;
    let next_cursor = cut_page(&mut rows, c.limit, |a| cursor_of(a.created_at, &a.id));
    Ok(Json(AccrualPage { accruals: rows.into_iter().map(accrual_out).collect(), next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct CommissionSettingsOut {
    /// For how many days after an account changes owner its previous rep shares the orders placed
    /// (0: the hand-over split is off).
    handover_days: i64,
    /// The previous rep's share of those orders' commission base, a percentage as a decimal
    /// string with at most 2 decimals ("30", "12.5").
    handover_share: String,
    /// The same share in parts per million (300000 = 30 %).
    handover_share_ppm: i64,
}

fn settings_out(t: HandoverTerms) -> CommissionSettingsOut {
    CommissionSettingsOut {
        handover_days: t.days,
        handover_share: format_share(t.share_ppm),
        handover_share_ppm: t.share_ppm,
    }
}

/// The commission settings: the hand-over split between an account's previous and new owning rep.
#[utoipa::path(get, path = "/settings",
    responses((status = 200, body = CommissionSettingsOut)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn get_commission_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<CommissionSettingsOut>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    Ok(Json(settings_out(commission_service::handover_settings(&state.db, &Actor::api(&caller.0)).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionSettingsIn {
    /// For how many days after an account changes owner its previous rep shares the orders placed
    /// (0 to 365; 0 turns the split off).
    #[schema(minimum = 0, maximum = 365)]
    handover_days: i64,
    /// The previous rep's share, a percentage from 0 to 100 with at most 2 decimals ("30",
    /// "12.5", "33.33").
    #[schema(pattern = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$")]
    handover_share: String,
}

/// Sets the hand-over split: for how many days after an account changes owner its previous rep
/// shares the orders placed, and their share. A change applies to changes of owner from then on;
/// hand-overs already started keep their terms. Audited.
#[utoipa::path(put, path = "/settings", request_body = CommissionSettingsIn,
    responses((status = 200, body = CommissionSettingsOut, description = "saved"),
    (status = 422, description = "every bad field (days outside 0–365, a share outside 0–100 or with more than 2 decimals); nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn put_commission_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<CommissionSettingsIn>, ApiError>,
) -> Result<Json<CommissionSettingsOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiJson(b) = body?;
    // Exactly the schema's bounds and pattern: the share has no sign, no % and no spaces here.
    let share_ok = {
        let digits = |s: &str, n: usize| (1..=n).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
        let (whole, frac) = match b.handover_share.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (b.handover_share.as_str(), None),
        };
        let frac_ok = frac.is_none_or(|f| digits(f, 2) && (whole != "100" || f.bytes().all(|c| c == b'0')));
        (whole == "100" || digits(whole, 2)) && frac_ok
    };
    let mut problems = Vec::new();
    if !(0..=MAX_HANDOVER_DAYS).contains(&b.handover_days) {
        problems.push(("handover_days".to_string(), "a whole number of days from 0 to 365".to_string()));
    }
    if !share_ok || parse_share(&b.handover_share).is_none() {
        problems.push(("handover_share".to_string(), "a percentage from 0 to 100 with at most 2 decimals".to_string()));
    }
    crate::service::ServiceError::from_problems(problems)?;
    let draft = HandoverDraft { days: b.handover_days.to_string(), share: b.handover_share };
    let t = commission_service::set_handover_settings(&state.db, state.now(), &Actor::api(&caller.0), &draft).await?;
    Ok(Json(settings_out(t)))
}

/// The commissions part of the OpenAPI document, nested into it under `/api/v1/commissions` (so
/// its paths above are relative to that).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_commission_statements,
        act_on_commission_statement,
        list_commission_accruals,
        get_commission_settings,
        put_commission_settings,
        plans::list_commission_plans,
        plans::get_commission_plan,
        plans::create_commission_plan,
        plans::put_commission_plan,
        plans::list_commission_assignments,
        plans::create_commission_assignment,
        plans::delete_commission_assignment,
        plans::list_commission_teams,
        plans::create_commission_team,
        plans::rename_commission_team,
        plans::delete_commission_team,
        plans::add_commission_team_member,
        plans::remove_commission_team_member,
        plans::list_house_accounts,
        plans::put_house_account,
        plans::delete_house_account
    ),
    components(schemas(
        CommissionSettingsOut,
        CommissionSettingsIn,
        ChannelTotalOut,
        AdjustmentOut,
        CommissionStatementOut,
        CommissionStatementList,
        AccrualOut,
        AccrualPage,
        plans::CategoryRateOut,
        plans::ChannelRateOut,
        plans::TierOut,
        plans::PlanOut,
        plans::PlanList,
        plans::CategoryRateIn,
        plans::ChannelRateIn,
        plans::TierIn,
        plans::PlanIn,
        plans::AssignmentOut,
        plans::AssignmentList,
        plans::AssignmentIn,
        plans::TeamMemberOut,
        plans::TeamOut,
        plans::TeamList,
        plans::TeamIn,
        plans::HouseAccountOut,
        plans::HouseAccountList
    ))
)]
pub struct CommissionsApi;
