//! Commission pages (issue 18): a rep's monthly statement (theirs; finance and admins anyone's),
//! the month's summary of every rep for finance, approving and locking, a CSV of the lines; and
//! the admin's plans, assignments and house accounts (a refused form comes back with the input
//! kept and each reason beside its field).

use super::AppState;
use super::error::WebError;
use super::session::{Ctx, urlencode};
use super::setup_admin::{errors_for, status_of};
use super::shell::Shell;
use crate::domain::auth::Permission;
use crate::domain::commissions::{HandoverDraft, PlanDraft, StatementAction, next_period, previous_period, rule_label};
use crate::domain::invoicing::format_rate;
use crate::domain::money::Money;
use crate::service::commissions::{
    self as commission_service, AccrualLine, AssignmentRow, CommissionPlan, RepSummary, Statement, Team,
    TeamAssignmentRow,
};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/commissions", get(commissions))
        .route("/commissions/statement.csv", get(statement_csv))
        .route("/commissions/statement.pdf", get(statement_pdf))
        .route("/commissions/statement", post(act_on_statement))
        .route("/admin/commissions", get(plans).post(create_plan))
        .route("/admin/commissions/plans/{id}", get(plan).post(save_plan))
        .route("/admin/commissions/assignments", post(assign))
        .route("/admin/commissions/assignments/{id}/delete", post(unassign))
        .route("/admin/commissions/house", post(house))
        .route("/admin/commissions/teams", post(create_team))
        .route("/admin/commissions/teams/members", post(add_member))
        .route("/admin/commissions/teams/{id}/delete", post(delete_team))
        .route("/admin/commissions/teams/{id}/rename", post(rename_team))
        .route("/admin/commissions/teams/{id}/members/{rep}/delete", post(remove_member))
        .route("/admin/commissions/teams/assignments", post(assign_team))
        .route("/admin/commissions/handover", post(handover))
}

/// Lines per page of a statement.
const LINES_PAGE: i64 = 200;

#[derive(Deserialize, Default)]
pub struct StatementQuery {
    rep: Option<String>,
    period: Option<String>,
    after_at: Option<i64>,
    after_id: Option<String>,
    notice: Option<String>,
}

pub struct LineView {
    pub line: AccrualLine,
    pub rate: String,
    pub rule: String,
    pub base: Money,
    pub amount: Money,
    pub channel_label: &'static str,
}

fn line_view(line: AccrualLine) -> LineView {
    LineView {
        rate: format_rate(line.rate_ppm),
        rule: rule_label(&line.rule),
        base: Money::from_raw(line.base),
        amount: Money::from_raw(line.amount),
        channel_label: crate::domain::orders::Channel::label(&line.channel),
        line,
    }
}

#[derive(Template)]
#[template(path = "commissions.html")]
struct CommissionsPage {
    shell: Shell,
    period: String,
    previous: String,
    next: String,
    /// One rep's statement, or (finance, no rep chosen) every rep's summary.
    statement: Option<Statement>,
    lines: Vec<LineView>,
    next_page: Option<String>,
    summary: Vec<RepSummary>,
    can_approve: bool,
    can_view_all: bool,
    can_manage_plans: bool,
}

impl CommissionsPage {
    fn rep_query(&self) -> String {
        self.statement.as_ref().map(|s| format!("rep={}&", urlencode(&s.rep_id))).unwrap_or_default()
    }
}

async fn commissions(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatementQuery>,
) -> Result<Html<String>, WebError> {
    let actor = ctx.actor();
    let p = &ctx.session.principal;
    if !p.is_staff() {
        return Err(WebError::NotFound);
    }
    let period = q
        .period
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| commission_service::this_period(state.now()));
    let can_view_all = p.can(Permission::ViewCommissions);
    let rep = q.rep.clone().filter(|r| !r.is_empty()).or_else(|| (!can_view_all).then(|| p.user_id.clone()));
    let (statement, lines, next_page, summary) = match rep {
        Some(rep) => {
            let s = commission_service::statement(&state.db, &actor, &rep, &period).await?;
            let after = q.after_at.zip(q.after_id.as_deref());
            let mut rows =
                commission_service::statement_lines(&state.db, &actor, &rep, &s.period, after, LINES_PAGE + 1).await?;
            let next_page = if rows.len() as i64 > LINES_PAGE {
                rows.truncate(LINES_PAGE as usize);
                rows.last().map(|l| {
                    serde_urlencoded::to_string([
                        ("rep", rep.as_str()),
                        ("period", s.period.as_str()),
                        ("after_at", l.created_at.to_string().as_str()),
                        ("after_id", l.id.as_str()),
                    ])
                    .unwrap_or_default()
                })
            } else {
                None
            };
            (Some(s), rows.into_iter().map(line_view).collect(), next_page, Vec::new())
        }
        None => (None, Vec::new(), None, commission_service::period_summary(&state.db, &actor, &period).await?),
    };
    let period = statement.as_ref().map(|s| s.period.clone()).unwrap_or(period);
    let title = match &statement {
        Some(s) => format!("Commissions · {} · {}", s.rep_name, period),
        None => format!("Commissions · {period}"),
    };
    let page = CommissionsPage {
        shell: Shell::new(&ctx, title).with_notice(q.notice.as_deref()),
        previous: previous_period(&period),
        next: next_period(&period),
        period,
        statement,
        lines,
        next_page,
        summary,
        can_approve: p.can(Permission::ApproveCommissions),
        can_view_all,
        can_manage_plans: p.can(Permission::ManageCommissionPlans),
    };
    Ok(Html(page.render()?))
}

/// A rep's month as a PDF.
async fn statement_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let p = &ctx.session.principal;
    let rep = q.rep.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| p.user_id.clone());
    let period = q.period.clone().unwrap_or_else(|| commission_service::this_period(state.now()));
    let (name, bytes) = commission_service::statement_pdf(&state.db, &ctx.actor(), &rep, &period).await?;
    Ok(super::statements::download(&name, "application/pdf", bytes))
}

/// Every line of a rep's month as CSV.
async fn statement_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let p = &ctx.session.principal;
    let rep = q.rep.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| p.user_id.clone());
    let period = q.period.clone().unwrap_or_else(|| commission_service::this_period(state.now()));
    let s = commission_service::statement(&state.db, &actor, &rep, &period).await?;
    let rows = commission_service::statement_lines(&state.db, &actor, &rep, &s.period, None, 100_000).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| WebError::BadRequest(e.to_string());
    w.write_record([
        "period",
        "kind",
        "issued_on",
        "invoice",
        "payment",
        "order",
        "account_id",
        "channel",
        "sku",
        "category",
        "base",
        "rate",
        "rule",
        "amount",
    ])
    .map_err(bad)?;
    for l in &rows {
        w.write_record([
            l.period.as_str(),
            l.kind.as_str(),
            l.issued_on.as_str(),
            l.invoice_number.as_str(),
            l.payment_number.as_deref().unwrap_or(""),
            l.order_number.as_str(),
            l.account_id.as_str(),
            l.channel.as_str(),
            l.sku.as_str(),
            l.category.as_str(),
            &Money::from_raw(l.base).to_plain(),
            &format_rate(l.rate_ppm),
            &rule_label(&l.rule),
            &Money::from_raw(l.amount).to_plain(),
        ])
        .map_err(bad)?;
    }
    for a in &s.adjustments {
        w.write_record([
            s.period.as_str(),
            "adjustment",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            a.label.as_str(),
            &Money::from_raw(a.amount).to_plain(),
        ])
        .map_err(bad)?;
    }
    w.write_record([
        s.period.as_str(),
        "total",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        &s.base.to_plain(),
        "",
        s.status.as_str(),
        &s.total.to_plain(),
    ])
    .map_err(bad)?;
    let body = w.into_inner().map_err(|e| WebError::BadRequest(e.to_string()))?;
    let file = format!(
        "commissions-{}-{}.csv",
        s.rep_name.replace(|c: char| !c.is_ascii_alphanumeric(), "-").to_lowercase(),
        s.period
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ActionForm {
    rep: String,
    period: String,
    action: String,
}

async fn act_on_statement(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ActionForm>,
) -> Result<Response, WebError> {
    let action = StatementAction::parse(&f.action).ok_or_else(|| WebError::BadRequest("unknown action".into()))?;
    let s =
        commission_service::act_on_statement(&state.db, state.now(), &ctx.actor(), &f.rep, &f.period, action).await?;
    let notice = match action {
        StatementAction::Approve => "commission_approved",
        StatementAction::Lock => "commission_locked",
        StatementAction::Reopen => "commission_reopened",
    };
    Ok(Redirect::to(&format!("/commissions?rep={}&period={}&notice={notice}", urlencode(&s.rep_id), s.period))
        .into_response())
}

// ---- Admin: plans, assignments, house accounts ----

#[derive(Deserialize, Default)]
pub struct PlanForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    effective_to: String,
    #[serde(default)]
    default_rate: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    category_rates: String,
    #[serde(default)]
    channel_rates: String,
    #[serde(default)]
    tiers: String,
    #[serde(default)]
    cap: String,
}

impl PlanForm {
    fn draft(&self) -> PlanDraft {
        PlanDraft {
            name: self.name.clone(),
            effective_from: self.effective_from.clone(),
            effective_to: self.effective_to.clone(),
            default_rate: self.default_rate.clone(),
            basis: self.basis.clone(),
            category_rates: self.category_rates.clone(),
            channel_rates: self.channel_rates.clone(),
            tiers: self.tiers.clone(),
            cap: self.cap.clone(),
        }
    }

    fn of(d: PlanDraft) -> PlanForm {
        PlanForm {
            name: d.name,
            effective_from: d.effective_from,
            effective_to: d.effective_to,
            default_rate: d.default_rate,
            basis: d.basis,
            category_rates: d.category_rates,
            channel_rates: d.channel_rates,
            tiers: d.tiers,
            cap: d.cap,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AssignForm {
    #[serde(default)]
    rep: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    effective_to: String,
}

#[derive(Deserialize, Default)]
pub struct TeamForm {
    #[serde(default)]
    name: String,
}

/// Renaming a team: the new name, and which team (the page keeps what was typed beside it).
#[derive(Deserialize, Default)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
    #[serde(skip)]
    team: String,
}

#[derive(Deserialize, Default)]
pub struct MemberForm {
    #[serde(default)]
    team: String,
    #[serde(default)]
    rep: String,
}

#[derive(Deserialize, Default)]
pub struct TeamAssignForm {
    #[serde(default)]
    team: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    effective_to: String,
}

#[derive(Deserialize, Default)]
pub struct HouseForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    house: String,
}

#[derive(Deserialize, Default)]
pub struct HandoverForm {
    #[serde(default)]
    handover_days: String,
    #[serde(default)]
    handover_share: String,
}

impl HandoverForm {
    fn draft(&self) -> HandoverDraft {
        HandoverDraft { days: self.handover_days.clone(), share: self.handover_share.clone() }
    }
}

pub struct PlanItem {
    pub row: CommissionPlan,
    pub rate: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "admin_commissions.html")]
struct PlansPage {
    shell: Shell,
    plans: Vec<PlanItem>,
    assignments: Vec<AssignmentRow>,
    reps: Vec<(String, String)>,
    houses: Vec<(String, String, String)>,
    teams: Vec<Team>,
    team_assignments: Vec<TeamAssignmentRow>,
    f: PlanForm,
    a: AssignForm,
    h: HouseForm,
    t: TeamForm,
    /// The rename form of the team it names (others show their name).
    rn: RenameForm,
    m: MemberForm,
    ta: TeamAssignForm,
    /// The hand-over split's form (the stored terms, or what was typed when refused).
    ho: HandoverForm,
    errors: Vec<FieldError>,
    /// Which form the errors are of: plan, assign, house, handover, team, rename, member, team_assign.
    form: &'static str,
}

impl PlansPage {
    fn error(&self, form: &str, field: &str) -> String {
        if form == self.form { errors_for(&self.errors, field) } else { String::new() }
    }

    /// What the rename form of a team shows: what was typed, if it was refused, else its name.
    fn rename_value(&self, team: &Team) -> String {
        if self.form == "rename" && self.rn.team == team.id { self.rn.name.clone() } else { team.name.clone() }
    }

    /// The rename form's error for a team (only the one that was refused).
    fn rename_error(&self, team: &Team) -> String {
        if self.rn.team == team.id { self.error("rename", "name") } else { String::new() }
    }

    /// The new plan form's error for a field (the fields are shared with the plan's own page).
    fn perr(&self, field: &str) -> String {
        self.error("plan", field)
    }
}

fn plan_summary(p: &CommissionPlan) -> String {
    let r = commission_service::plan_rules(p);
    let mut parts = Vec::new();
    for c in &r.categories {
        parts.push(format!("{} {}", c.path, format_rate(c.rate_ppm)));
    }
    for c in &r.channels {
        parts.push(format!("{} orders {}", c.channel, format_rate(c.rate_ppm)));
    }
    for t in &r.tiers {
        parts.push(format!("+{} from ${}", format_rate(t.bonus_ppm), Money::from_raw(t.threshold)));
    }
    if let Some(c) = r.cap {
        parts.push(format!("cap ${} / month", Money::from_raw(c)));
    }
    parts.join(" · ")
}

struct PlansInput {
    f: PlanForm,
    a: AssignForm,
    t: TeamForm,
    rn: RenameForm,
    m: MemberForm,
    ta: TeamAssignForm,
    h: HouseForm,
    /// None: the stored terms.
    ho: Option<HandoverForm>,
    errors: Vec<FieldError>,
    form: &'static str,
}

async fn plans_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    input: PlansInput,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let plans = commission_service::plans(&state.db, &actor)
        .await?
        .into_iter()
        .map(|row| PlanItem { rate: format_rate(row.default_rate_ppm), summary: plan_summary(&row), row })
        .collect();
    let ho = match input.ho {
        Some(ho) => ho,
        None => {
            let d = HandoverDraft::of(commission_service::handover_settings(&state.db, &actor).await?);
            HandoverForm { handover_days: d.days, handover_share: d.share }
        }
    };
    let page = PlansPage {
        shell: Shell::new(ctx, "Commission plans").with_notice(notice),
        plans,
        assignments: commission_service::assignments(&state.db, &actor).await?,
        reps: commission_service::reps(&state.db, &actor).await?,
        houses: commission_service::house_accounts(&state.db, &actor).await?,
        teams: commission_service::teams(&state.db, &actor).await?,
        team_assignments: commission_service::team_assignments(&state.db, &actor).await?,
        f: input.f,
        a: input.a,
        t: input.t,
        rn: input.rn,
        m: input.m,
        ta: input.ta,
        h: input.h,
        ho,
        errors: input.errors,
        form: input.form,
    };
    Ok((status_of(&page.errors), Html(page.render()?)).into_response())
}

fn empty_input() -> PlansInput {
    PlansInput {
        f: PlanForm { basis: "invoiced".into(), ..Default::default() },
        a: AssignForm::default(),
        t: TeamForm::default(),
        rn: RenameForm::default(),
        m: MemberForm::default(),
        ta: TeamAssignForm::default(),
        h: HouseForm::default(),
        ho: None,
        errors: Vec::new(),
        form: "",
    }
}

#[derive(Deserialize)]
pub struct NoticeOnly {
    notice: Option<String>,
}

async fn plans(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeOnly>) -> Result<Response, WebError> {
    plans_page(&state, &ctx, q.notice.as_deref(), empty_input()).await
}

/// A plans-page form's outcome: done, to `done`; refused, the page again with what was typed and
/// each error beside its field (`input` makes the page's input from the errors); anything else,
/// the error page.
async fn settle<T>(
    state: &AppState,
    ctx: &Ctx,
    outcome: Result<T, ServiceError>,
    done: &str,
    input: impl FnOnce(Vec<FieldError>) -> PlansInput,
) -> Result<Response, WebError> {
    match outcome {
        Ok(_) => Ok(Redirect::to(done).into_response()),
        Err(ServiceError::Invalid(errors)) => plans_page(state, ctx, None, input(errors)).await,
        Err(e) => Err(e.into()),
    }
}

/// A refusal said beside the teams' `team` field (a team chosen from a list that is gone, a team
/// that cannot be deleted yet).
fn beside_team(message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: "team".into(), message }])
}

async fn create_plan(State(state): State<AppState>, ctx: Ctx, Form(f): Form<PlanForm>) -> Result<Response, WebError> {
    let r = commission_service::save_plan(&state.db, state.now(), &ctx.actor(), None, &f.draft()).await;
    settle(&state, &ctx, r, "/admin/commissions?notice=commission_plan_saved", |errors| PlansInput {
        f,
        errors,
        form: "plan",
        ..empty_input()
    })
    .await
}

async fn assign(State(state): State<AppState>, ctx: Ctx, Form(a): Form<AssignForm>) -> Result<Response, WebError> {
    let r = commission_service::assign_plan(
        &state.db,
        state.now(),
        &ctx.actor(),
        &a.rep,
        &a.plan,
        &a.effective_from,
        &a.effective_to,
    )
    .await;
    settle(&state, &ctx, r, "/admin/commissions?notice=commission_plan_assigned", |errors| PlansInput {
        a,
        errors,
        form: "assign",
        ..empty_input()
    })
    .await
}

async fn create_team(State(state): State<AppState>, ctx: Ctx, Form(t): Form<TeamForm>) -> Result<Response, WebError> {
    let r = commission_service::create_team(&state.db, state.now(), &ctx.actor(), &t.name).await;
    settle(&state, &ctx, r, "/admin/commissions?notice=saved#teams", |errors| PlansInput {
        t,
        errors,
        form: "team",
        ..empty_input()
    })
    .await
}

async fn add_member(State(state): State<AppState>, ctx: Ctx, Form(m): Form<MemberForm>) -> Result<Response, WebError> {
    let r = commission_service::add_team_member(&state.db, state.now(), &ctx.actor(), &m.team, &m.rep).await;
    // The team is chosen from a list: an unknown one is an error beside that field.
    let r = r.map_err(|e| match e {
        ServiceError::NotFound => beside_team("Choose a team.".into()),
        e => e,
    });
    settle(&state, &ctx, r, "/admin/commissions?notice=saved#teams", |errors| PlansInput {
        m,
        errors,
        form: "member",
        ..empty_input()
    })
    .await
}

async fn delete_team(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    let r = commission_service::delete_team(&state.db, state.now(), &ctx.actor(), &id).await;
    // Refused while the team has members or assignments: said beside the teams.
    let r = r.map_err(|e| match e {
        ServiceError::Conflict(message) => beside_team(message),
        e => e,
    });
    settle(&state, &ctx, r, "/admin/commissions?notice=saved#teams", |errors| PlansInput {
        errors,
        form: "delete_team",
        ..empty_input()
    })
    .await
}

async fn rename_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(rn): Form<RenameForm>,
) -> Result<Response, WebError> {
    let r = commission_service::rename_team(&state.db, state.now(), &ctx.actor(), &id, &rn.name).await;
    settle(&state, &ctx, r, "/admin/commissions?notice=saved#teams", |errors| PlansInput {
        rn: RenameForm { team: id, ..rn },
        errors,
        form: "rename",
        ..empty_input()
    })
    .await
}

async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, rep)): Path<(String, String)>,
) -> Result<Response, WebError> {
    commission_service::remove_team_member(&state.db, state.now(), &ctx.actor(), &id, &rep).await?;
    Ok(Redirect::to("/admin/commissions?notice=saved#teams").into_response())
}

async fn assign_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(ta): Form<TeamAssignForm>,
) -> Result<Response, WebError> {
    let r = commission_service::assign_plan_to_team(
        &state.db,
        state.now(),
        &ctx.actor(),
        &ta.team,
        &ta.plan,
        &ta.effective_from,
        &ta.effective_to,
    )
    .await;
    settle(&state, &ctx, r, "/admin/commissions?notice=commission_plan_assigned#teams", |errors| PlansInput {
        ta,
        errors,
        form: "team_assign",
        ..empty_input()
    })
    .await
}

async fn unassign(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    commission_service::unassign_plan(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to("/admin/commissions?notice=saved").into_response())
}

async fn house(State(state): State<AppState>, ctx: Ctx, Form(h): Form<HouseForm>) -> Result<Response, WebError> {
    let on = h.house != "0";
    let r = commission_service::set_house_account(&state.db, state.now(), &ctx.actor(), &h.account, on).await;
    settle(&state, &ctx, r, "/admin/commissions?notice=saved", |errors| PlansInput {
        h,
        errors,
        form: "house",
        ..empty_input()
    })
    .await
}

async fn handover(State(state): State<AppState>, ctx: Ctx, Form(f): Form<HandoverForm>) -> Result<Response, WebError> {
    let r = commission_service::set_handover_settings(&state.db, state.now(), &ctx.actor(), &f.draft()).await;
    settle(&state, &ctx, r, "/admin/commissions?notice=saved#handover", |errors| PlansInput {
        ho: Some(f),
        errors,
        form: "handover",
        ..empty_input()
    })
    .await
}

#[derive(Template)]
#[template(path = "admin_commission_plan.html")]
struct PlanPage {
    shell: Shell,
    action: String,
    f: PlanForm,
    errors: Vec<FieldError>,
}

impl PlanPage {
    fn perr(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn plan_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    f: Option<PlanForm>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let row = commission_service::plan(&state.db, &ctx.actor(), id).await?;
    let f = f.unwrap_or_else(|| PlanForm::of(commission_service::plan_draft(&row)));
    let page = PlanPage {
        shell: Shell::new(ctx, row.name.clone()),
        action: format!("/admin/commissions/plans/{}", urlencode(&row.id)),
        f,
        errors,
    };
    Ok((status_of(&page.errors), Html(page.render()?)).into_response())
}

async fn plan(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    plan_page(&state, &ctx, &id, None, Vec::new()).await
}

async fn save_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<PlanForm>,
) -> Result<Response, WebError> {
    match commission_service::save_plan(&state.db, state.now(), &ctx.actor(), Some(&id), &f.draft()).await {
        Ok(_) => Ok(Redirect::to("/admin/commissions?notice=commission_plan_saved").into_response()),
        Err(ServiceError::Invalid(errors)) => plan_page(&state, &ctx, &id, Some(f), errors).await,
        Err(e) => Err(e.into()),
    }
}
