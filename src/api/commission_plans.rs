//! Who earns by which commission plan, over the API (issue 18): the plans themselves, their
//! assignments to reps or teams, the teams and their members, and house accounts — everything the
//! admin page "Commission plans" keeps, for an ERP that keeps them itself. Read with
//! `commissions:read`, changed with `commissions:write`; mounted under `/api/v1/commissions` and
//! documented in its part of the OpenAPI document (`commissions::CommissionsApi`).
//!
//! Rates are percentages and amounts dollars, both as exact decimal strings ("5", "2.5",
//! "50000.00"), each also given in its stored unit (ppm) where it is a rate. A plan is checked by
//! the same rules as the admin form (`domain::commissions::PlanSpec`); a problem in a list names
//! the item (`category_rates[2].rate`).

use super::input::Checks;
use super::{ApiCaller, ApiError, ApiJson, ApiPath};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::commissions::{Assignee, PlanSpec};
use crate::domain::invoicing::format_rate;
use crate::domain::money::Money;
use crate::service::commissions::{self as commission_service, CommissionPlan, PlanAssignment, Team};
use crate::service::{Actor, ServiceError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/commissions/plans", get(list_commission_plans).post(create_commission_plan))
        .route("/api/v1/commissions/plans/{id}", get(get_commission_plan).put(put_commission_plan))
        .route("/api/v1/commissions/assignments", get(list_commission_assignments).post(create_commission_assignment))
        .route("/api/v1/commissions/assignments/{id}", axum::routing::delete(delete_commission_assignment))
        .route("/api/v1/commissions/teams", get(list_commission_teams).post(create_commission_team))
        .route(
            "/api/v1/commissions/teams/{id}",
            axum::routing::patch(rename_commission_team).delete(delete_commission_team),
        )
        .route(
            "/api/v1/commissions/teams/{id}/members/{rep_id}",
            put(add_commission_team_member).delete(remove_commission_team_member),
        )
        .route("/api/v1/commissions/house-accounts", get(list_house_accounts))
        .route("/api/v1/commissions/house-accounts/{account}", put(put_house_account).delete(delete_house_account))
}

/// A percentage as the API writes it: "5", "2.5" (no `%`).
fn percent(ppm: i64) -> String {
    format_rate(ppm).trim_end_matches('%').to_string()
}

// ---- Plans ----

#[derive(Serialize, ToSchema)]
pub struct CategoryRateOut {
    /// A category path ("Dental / Burs"); covers its sub-categories.
    path: String,
    /// A percentage, exact ("6", "2.5").
    rate: String,
    /// The same rate in parts per million (60000 = 6 %).
    rate_ppm: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelRateOut {
    /// portal, rep, phone, api, edi or punchout.
    channel: String,
    rate: String,
    rate_ppm: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TierOut {
    /// The month's net base (of the plan's lines) that reaches the tier, dollars ("50000.00").
    threshold: String,
    /// The extra rate on the month's whole base once reached, a percentage ("1").
    bonus_rate: String,
    bonus_rate_ppm: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    id: String,
    name: String,
    /// YYYY-MM-DD
    effective_from: String,
    /// YYYY-MM-DD, or null: open-ended.
    effective_to: Option<String>,
    /// `invoiced` (accrues when the invoice is issued) or `paid` (as the invoice is paid).
    basis: String,
    /// A percentage, exact ("5", "2.5"); the rate of a line no channel or category rate covers.
    default_rate: String,
    default_rate_ppm: i64,
    /// Win over the default rate: the longest matching path.
    category_rates: Vec<CategoryRateOut>,
    /// Win over category rates.
    channel_rates: Vec<ChannelRateOut>,
    /// Lowest threshold first.
    tiers: Vec<TierOut>,
    /// The most the plan's lines and bonus pay a rep in a month, dollars; null: no cap.
    cap: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    plans: Vec<PlanOut>,
}

fn plan_out(p: CommissionPlan) -> PlanOut {
    let rules = commission_service::plan_rules(&p);
    PlanOut {
        default_rate: percent(p.default_rate_ppm),
        category_rates: rules
            .categories
            .into_iter()
            .map(|c| CategoryRateOut { rate: percent(c.rate_ppm), path: c.path, rate_ppm: c.rate_ppm })
            .collect(),
        channel_rates: rules
            .channels
            .into_iter()
            .map(|c| ChannelRateOut { rate: percent(c.rate_ppm), channel: c.channel, rate_ppm: c.rate_ppm })
            .collect(),
        tiers: rules
            .tiers
            .into_iter()
            .map(|t| TierOut {
                threshold: Money::from_raw(t.threshold).to_plain(),
                bonus_rate: percent(t.bonus_ppm),
                bonus_rate_ppm: t.bonus_ppm,
            })
            .collect(),
        cap: rules.cap.map(|c| Money::from_raw(c).to_plain()),
        id: p.id,
        name: p.name,
        effective_from: p.effective_from,
        effective_to: p.effective_to,
        basis: p.basis,
        default_rate_ppm: p.default_rate_ppm,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Commission plans, by name.
#[utoipa::path(get, path = "/plans",
    responses((status = 200, body = PlanList)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_commission_plans(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<PlanList>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let plans = commission_service::plans(&state.db, &Actor::api(&caller.0)).await?;
    Ok(Json(PlanList { plans: plans.into_iter().map(plan_out).collect() }))
}

/// One commission plan.
#[utoipa::path(get, path = "/plans/{id}",
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = PlanOut), (status = 404, description = "no such plan", body = super::Problem)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn get_commission_plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<PlanOut>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let ApiPath(id) = path?;
    Ok(Json(plan_out(commission_service::plan(&state.db, &Actor::api(&caller.0), &id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRateIn {
    /// A category path ("Dental / Burs"), covering its sub-categories; 1 to 200 characters, each
    /// category once (regardless of case).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    path: String,
    /// A percentage from 0 to 100 with at most 4 decimals ("6", "2.5").
    #[schema(pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    rate: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRateIn {
    /// The order's channel, each once.
    #[schema(pattern = r"^(portal|rep|phone|api|edi|punchout)$")]
    channel: String,
    /// A percentage from 0 to 100 with at most 4 decimals.
    #[schema(pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    rate: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierIn {
    /// The month's net base that reaches the tier, dollars (at most 999999999999.99).
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    threshold: String,
    /// The extra rate, a percentage from 0 to 100 with at most 4 decimals.
    #[schema(pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    bonus_rate: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// Unique regardless of case; 1 to 100 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    name: String,
    #[schema(format = Date)]
    effective_from: String,
    /// Null or absent: open-ended. Not before `effective_from`.
    #[serde(default)]
    #[schema(format = Date)]
    effective_to: Option<String>,
    /// A percentage from 0 to 100 with at most 4 decimals ("5", "2.5").
    #[schema(pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    default_rate: String,
    /// `invoiced` (the default) or `paid`.
    #[serde(default)]
    #[schema(pattern = r"^(invoiced|paid)$")]
    basis: Option<String>,
    #[serde(default)]
    category_rates: Vec<CategoryRateIn>,
    #[serde(default)]
    channel_rates: Vec<ChannelRateIn>,
    #[serde(default)]
    tiers: Vec<TierIn>,
    /// Dollars (at most 999999999999.99); null or absent: no cap.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    cap: Option<String>,
}

impl PlanIn {
    fn spec(self) -> PlanSpec {
        PlanSpec {
            name: self.name,
            effective_from: self.effective_from,
            effective_to: self.effective_to,
            default_rate: self.default_rate,
            basis: self.basis,
            category_rates: self.category_rates.into_iter().map(|c| (c.path, c.rate)).collect(),
            channel_rates: self.channel_rates.into_iter().map(|c| (c.channel, c.rate)).collect(),
            tiers: self.tiers.into_iter().map(|t| (t.threshold, t.bonus_rate)).collect(),
            cap: self.cap,
        }
    }
}

/// Creates a commission plan. Audited (`commission_plan.created`).
#[utoipa::path(post, path = "/plans", request_body = PlanIn,
    responses((status = 201, body = PlanOut, description = "created"),
    (status = 422, description = "every bad field, a list item's by its index (`category_rates[2].rate`); also a name another plan has, `effective_to` before `effective_from`, a category or channel named twice, a threshold or cap over 999999999999.99; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn create_commission_plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<PlanIn>, ApiError>,
) -> Result<(StatusCode, Json<PlanOut>), ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiJson(b) = body?;
    let actor = Actor::api(&caller.0);
    let id = commission_service::save_plan_spec(&state.db, state.now(), &actor, None, &b.spec()).await?;
    Ok((StatusCode::CREATED, Json(plan_out(commission_service::plan(&state.db, &actor, &id).await?))))
}

/// Changes a commission plan: the whole plan, as when created. Lines already accrued keep the rate
/// and rule they were written with. Audited (`commission_plan.updated`).
#[utoipa::path(put, path = "/plans/{id}", request_body = PlanIn,
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = PlanOut, description = "saved"),
    (status = 404, description = "no such plan", body = super::Problem),
    (status = 422, description = "every bad field, as when created; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn put_commission_plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<PlanIn>, ApiError>,
) -> Result<Json<PlanOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(id) = path?;
    let ApiJson(b) = body?;
    let actor = Actor::api(&caller.0);
    let id = commission_service::save_plan_spec(&state.db, state.now(), &actor, Some(&id), &b.spec()).await?;
    Ok(Json(plan_out(commission_service::plan(&state.db, &actor, &id).await?)))
}

// ---- Assignments ----

#[derive(Serialize, ToSchema)]
pub struct AssignmentOut {
    id: String,
    plan_id: String,
    plan_name: String,
    /// The rep the plan is assigned to; null for a team's assignment.
    rep_id: Option<String>,
    /// The team the plan is assigned to; null for a rep's assignment.
    team_id: Option<String>,
    /// The rep's or the team's name.
    assignee_name: String,
    /// YYYY-MM-DD
    effective_from: String,
    /// YYYY-MM-DD, or null: open-ended.
    effective_to: Option<String>,
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentList {
    /// The reps' (by rep name), then the teams' (by team name); latest start first.
    assignments: Vec<AssignmentOut>,
}

fn assignment_out(a: PlanAssignment) -> AssignmentOut {
    let (rep_id, team_id) = a.assignee.ids();
    AssignmentOut {
        rep_id: rep_id.map(str::to_string),
        team_id: team_id.map(str::to_string),
        id: a.id,
        plan_id: a.plan_id,
        plan_name: a.plan_name,
        assignee_name: a.assignee_name,
        effective_from: a.effective_from,
        effective_to: a.effective_to,
        created_at: a.created_at,
    }
}

/// Plan assignments, to reps and to teams. On an invoice's day a rep earns by their own
/// assignment in force, else their team's; among several, the one that starts later.
#[utoipa::path(get, path = "/assignments",
    responses((status = 200, body = AssignmentList)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_commission_assignments(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<AssignmentList>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let all = commission_service::every_assignment(&state.db, &Actor::api(&caller.0)).await?;
    Ok(Json(AssignmentList { assignments: all.into_iter().map(assignment_out).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    plan_id: String,
    /// A sales rep's user id; exactly one of `rep_id` and `team_id`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    rep_id: Option<String>,
    /// A team's id; exactly one of `rep_id` and `team_id`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    team_id: Option<String>,
    #[schema(format = Date)]
    effective_from: String,
    /// Null or absent: open-ended. Not before `effective_from`.
    #[serde(default)]
    #[schema(format = Date)]
    effective_to: Option<String>,
}

/// The API's names of the service's fields.
fn api_fields(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Invalid(mut errors) => {
            for f in &mut errors {
                if let Some(name) = match f.field.as_str() {
                    "rep" => Some("rep_id"),
                    "team" => Some("team_id"),
                    "plan" => Some("plan_id"),
                    _ => None,
                } {
                    f.field = name.into();
                }
            }
            ServiceError::Invalid(errors)
        }
        other => other,
    }
}

/// Assigns a plan to a sales rep or to a team from a date (to a date, or open-ended). Audited
/// (`commission_plan.assigned`, naming `rep_id` or `team_id`).
#[utoipa::path(post, path = "/assignments", request_body = AssignmentIn,
    responses((status = 201, body = AssignmentOut, description = "assigned"),
    (status = 422, description = "every bad field: neither or both of `rep_id` and `team_id`, a user who is not a sales rep, an unknown team or plan, `effective_to` before `effective_from`; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn create_commission_assignment(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<AssignmentIn>, ApiError>,
) -> Result<(StatusCode, Json<AssignmentOut>), ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiJson(b) = body?;
    let mut checks = Checks::default();
    checks
        .date_opt("effective_from", Some(b.effective_from.as_str()))
        .date_opt("effective_to", b.effective_to.as_deref());
    let to_whom = match (b.rep_id, b.team_id) {
        (Some(rep), None) => Some(Assignee::Rep(rep)),
        (None, Some(team)) => Some(Assignee::Team(team)),
        (rep, _) => {
            let field = if rep.is_some() { "team_id" } else { "rep_id" };
            checks.holds(field, false, "Name exactly one of rep_id and team_id.");
            None
        }
    };
    checks.done()?;
    let Some(to_whom) = to_whom else {
        return Err(ApiError::invalid("rep_id", "Name exactly one of rep_id and team_id."));
    };
    let actor = Actor::api(&caller.0);
    let to = b.effective_to.unwrap_or_default();
    let id = commission_service::assign(&state.db, state.now(), &actor, &to_whom, &b.plan_id, &b.effective_from, &to)
        .await
        .map_err(api_fields)?;
    let all = commission_service::every_assignment(&state.db, &actor).await?;
    let made = all.into_iter().find(|a| a.id == id).ok_or(ServiceError::NotFound)?;
    Ok((StatusCode::CREATED, Json(assignment_out(made))))
}

/// Removes a plan assignment (to a rep or a team); lines already accrued stay. Audited
/// (`commission_plan.unassigned`).
#[utoipa::path(delete, path = "/assignments/{id}",
    params(("id" = String, Path, description = "The assignment's id")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such assignment", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn delete_commission_assignment(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(id) = path?;
    commission_service::unassign_plan(&state.db, state.now(), &Actor::api(&caller.0), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Teams ----

#[derive(Serialize, ToSchema)]
pub struct TeamMemberOut {
    rep_id: String,
    rep_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    id: String,
    name: String,
    members: Vec<TeamMemberOut>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamList {
    teams: Vec<TeamOut>,
}

fn team_out(t: Team) -> TeamOut {
    let members = t.members.into_iter().map(|(rep_id, rep_name)| TeamMemberOut { rep_id, rep_name }).collect();
    TeamOut { id: t.id, name: t.name, members }
}

/// The team as it is now.
async fn team_now(state: &AppState, actor: &Actor<'_>, id: &str) -> Result<TeamOut, ApiError> {
    let team = commission_service::teams(&state.db, actor).await?.into_iter().find(|t| t.id == id);
    Ok(team_out(team.ok_or(ServiceError::NotFound)?))
}

/// Commission teams with their member reps (a plan assigned to a team applies to its reps on days
/// they have no own assignment in force; a rep is in one team at a time).
#[utoipa::path(get, path = "/teams",
    responses((status = 200, body = TeamList)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_commission_teams(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<TeamList>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let teams = commission_service::teams(&state.db, &Actor::api(&caller.0)).await?;
    Ok(Json(TeamList { teams: teams.into_iter().map(team_out).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    /// The team's name, unique regardless of case (1 to 120 characters, not only spaces).
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    name: String,
}

impl TeamIn {
    /// Exactly the schema's bounds: at most 120 characters as sent (the service counts them trimmed).
    fn checked(self) -> Result<String, ApiError> {
        if self.name.chars().count() > commission_service::MAX_TEAM_NAME {
            return Err(ServiceError::invalid("name", "A team name is at most 120 characters.").into());
        }
        Ok(self.name)
    }
}

/// Creates a commission team (no members yet). Audited (`commission_team.created`).
#[utoipa::path(post, path = "/teams", request_body = TeamIn,
    responses((status = 201, body = TeamOut, description = "created"),
    (status = 422, description = "the name is empty, too long or taken; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn create_commission_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<TeamIn>, ApiError>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiJson(b) = body?;
    let name = b.checked()?;
    let actor = Actor::api(&caller.0);
    let id = commission_service::create_team(&state.db, state.now(), &actor, &name).await?;
    Ok((StatusCode::CREATED, Json(team_now(&state, &actor, &id).await?)))
}

/// Renames a commission team (its members and assignments stay). Audited
/// (`commission_team.renamed`).
#[utoipa::path(patch, path = "/teams/{id}", request_body = TeamIn,
    params(("id" = String, Path, description = "The team's id")),
    responses((status = 200, body = TeamOut, description = "renamed"),
    (status = 404, description = "no such team", body = super::Problem),
    (status = 422, description = "the name is empty, too long or another team's; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn rename_commission_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<TeamIn>, ApiError>,
) -> Result<Json<TeamOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(id) = path?;
    let ApiJson(b) = body?;
    let name = b.checked()?;
    let actor = Actor::api(&caller.0);
    commission_service::rename_team(&state.db, state.now(), &actor, &id, &name).await?;
    Ok(Json(team_now(&state, &actor, &id).await?))
}

/// Deletes a commission team — refused while it has members or plan assignments (remove them
/// first). Audited (`commission_team.deleted`).
#[utoipa::path(delete, path = "/teams/{id}",
    params(("id" = String, Path, description = "The team's id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such team", body = super::Problem),
    (status = 409, description = "the team still has members or plan assignments; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn delete_commission_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(id) = path?;
    commission_service::delete_team(&state.db, state.now(), &Actor::api(&caller.0), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a sales rep in a team (nothing to do if they are in it already). A rep is in one team at
/// a time: one in another team is refused (take them out there first). Audited
/// (`commission_team.member_added`).
#[utoipa::path(put, path = "/teams/{id}/members/{rep_id}",
    params(("id" = String, Path, description = "The team's id"), ("rep_id" = String, Path, description = "The rep's user id")),
    responses((status = 200, body = TeamOut, description = "the team with its members"),
    (status = 404, description = "no such team or user", body = super::Problem),
    (status = 422, description = "the user is not a sales rep, or is in another team; nothing changed", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn add_commission_team_member(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Json<TeamOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath((id, rep)) = path?;
    let actor = Actor::api(&caller.0);
    commission_service::add_team_member(&state.db, state.now(), &actor, &id, &rep).await.map_err(api_fields)?;
    Ok(Json(team_now(&state, &actor, &id).await?))
}

/// Takes a rep out of a team: later invoices no longer earn by the team's plan; lines already
/// accrued stay. Audited (`commission_team.member_removed`).
#[utoipa::path(delete, path = "/teams/{id}/members/{rep_id}",
    params(("id" = String, Path, description = "The team's id"), ("rep_id" = String, Path, description = "The rep's user id")),
    responses((status = 204, description = "removed"),
    (status = 404, description = "no such team, or the rep is not in it", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn remove_commission_team_member(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath((id, rep)) = path?;
    commission_service::remove_team_member(&state.db, state.now(), &Actor::api(&caller.0), &id, &rep).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- House accounts ----

#[derive(Serialize, ToSchema)]
pub struct HouseAccountOut {
    account_id: String,
    account_number: String,
    account_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct HouseAccountList {
    /// By account name.
    house_accounts: Vec<HouseAccountOut>,
}

fn house_out((account_id, account_number, account_name): (String, String, String)) -> HouseAccountOut {
    HouseAccountOut { account_id, account_number, account_name }
}

/// House accounts: their orders earn no commission, whoever owns the account.
#[utoipa::path(get, path = "/house-accounts",
    responses((status = 200, body = HouseAccountList)),
    security(("bearer" = ["commissions:read"])), tag = "commissions")]
pub async fn list_house_accounts(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<HouseAccountList>, ApiError> {
    caller.require(Scope::CommissionsRead)?;
    let houses = commission_service::house_accounts(&state.db, &Actor::api(&caller.0)).await?;
    Ok(Json(HouseAccountList { house_accounts: houses.into_iter().map(house_out).collect() }))
}

/// Sets an account's house flag; the account in the path (its id, number or external id) names
/// nothing: 404.
async fn set_house(state: &AppState, caller: &ApiCaller, account: &str, house: bool) -> Result<String, ApiError> {
    let actor = Actor::api(&caller.0);
    match commission_service::set_house_account(&state.db, state.now(), &actor, account, house).await {
        Ok(id) => Ok(id),
        Err(ServiceError::Invalid(_)) => Err(ServiceError::NotFound.into()),
        Err(e) => Err(e.into()),
    }
}

/// Makes an account a house account: its orders invoiced from now on earn no commission (lines
/// already accrued stay). Audited (`commission_house.changed`).
#[utoipa::path(put, path = "/house-accounts/{account}",
    params(("account" = String, Path, description = "The account's id, number (A-10001) or external id")),
    responses((status = 200, body = HouseAccountOut, description = "a house account"),
    (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn put_house_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<HouseAccountOut>, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(account) = path?;
    let id = set_house(&state, &caller, &account, true).await?;
    let houses = commission_service::house_accounts(&state.db, &Actor::api(&caller.0)).await?;
    let house = houses.into_iter().find(|h| h.0 == id).ok_or(ServiceError::NotFound)?;
    Ok(Json(house_out(house)))
}

/// Makes a house account a regular one again: its orders invoiced from now on earn as any other.
/// Audited (`commission_house.changed`).
#[utoipa::path(delete, path = "/house-accounts/{account}",
    params(("account" = String, Path, description = "The account's id, number (A-10001) or external id")),
    responses((status = 204, description = "no longer a house account"),
    (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["commissions:write"])), tag = "commissions")]
pub async fn delete_house_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CommissionsWrite)?;
    let ApiPath(account) = path?;
    set_house(&state, &caller, &account, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
