//! Webhook endpoints for the admin: add (the secret shown once), change, rotate the secret, send
//! a test event, delete; each endpoint's deliveries with every attempt, and replay.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::domain::webhooks::{EVENTS, Subscription};
use crate::service::webhooks::{self as service, AttemptRow, Backlog, DeliveryRow, EndpointInput, EndpointSummary};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(list).post(create))
        .route("/admin/webhooks/{id}", get(detail).post(update))
        .route("/admin/webhooks/{id}/rotate", post(rotate))
        .route("/admin/webhooks/{id}/test", post(send_test))
        .route("/admin/webhooks/{id}/delete", post(delete))
        .route("/admin/webhooks/{id}/replay-dead", post(replay_dead))
        .route("/admin/webhooks/{id}/deliveries/{delivery}/replay", post(replay))
}

/// The form's fields, kept as typed when it is shown again with its errors.
#[derive(Clone, Debug, Default)]
struct EndpointForm {
    url: String,
    description: String,
    /// The event types checked (`*` for all).
    types: Vec<String>,
    active: bool,
}

impl EndpointForm {
    fn from_fields(fields: &[(String, String)]) -> EndpointForm {
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut types: Vec<String> = fields.iter().filter(|(k, _)| k == "event_type").map(|(_, v)| v.clone()).collect();
        if get("all_events") == "1" {
            types = vec!["*".into()];
        }
        EndpointForm { url: get("url"), description: get("description"), types, active: get("active") == "1" }
    }

    fn of(e: &EndpointSummary) -> EndpointForm {
        let types = Subscription::parse(&e.endpoint.event_types).map(|s| s.items().to_vec()).unwrap_or_default();
        EndpointForm {
            url: e.endpoint.url.clone(),
            description: e.endpoint.description.clone(),
            types,
            active: e.endpoint.active,
        }
    }

    fn input(&self) -> EndpointInput {
        EndpointInput {
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.types.join(" "),
            active: self.active,
        }
    }

    fn all(&self) -> bool {
        self.types.iter().any(|t| t == "*")
    }

    /// Whether some type of the family `noun` is chosen (its group opens).
    fn touches(&self, noun: &str) -> bool {
        self.types.iter().any(|t| t.split('.').next() == Some(noun))
    }

    fn has(&self, name: &str) -> bool {
        self.types.iter().any(|t| t == name || t.strip_suffix(".*").is_some_and(|f| name.split('.').next() == Some(f)))
    }
}

/// The event types an endpoint can choose, grouped by their noun (order, invoice, …).
fn event_groups() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut groups: Vec<(&'static str, Vec<(&'static str, &'static str)>)> = Vec::new();
    for e in EVENTS.iter().filter(|e| e.webhook && e.name != "webhook.test") {
        let noun = e.name.split('.').next().unwrap_or(e.name);
        match groups.iter_mut().find(|(n, _)| *n == noun) {
            Some((_, list)) => list.push((e.name, e.about)),
            None => groups.push((noun, vec![(e.name, e.about)])),
        }
    }
    groups
}

fn error_of(errors: &[FieldError], field: &str) -> String {
    errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn form_errors(e: ServiceError) -> Result<Vec<FieldError>, WebError> {
    match e {
        ServiceError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}

pub struct EndpointView {
    pub e: EndpointSummary,
    pub last_delivered: String,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct ListPage {
    shell: Shell,
    endpoints: Vec<EndpointView>,
    backlog: Backlog,
    f: EndpointForm,
    errors: Vec<FieldError>,
    groups: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
    /// The endpoint just added and its secret (shown this once).
    new_secret: Option<(String, String)>,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        error_of(&self.errors, field)
    }
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: EndpointForm,
    errors: Vec<FieldError>,
    new_secret: Option<(String, String)>,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let endpoints = service::endpoints(&state.db, &actor)
        .await?
        .into_iter()
        .map(|e| EndpointView {
            last_delivered: e.last_delivered_at.map(datetime).unwrap_or_else(|| "never".into()),
            e,
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListPage {
        shell: Shell::new(ctx, "Webhooks").with_notice(notice),
        endpoints,
        backlog: service::backlog(&state.db, &actor).await?,
        f,
        errors,
        groups: event_groups(),
        new_secret,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    let f = EndpointForm { active: true, ..Default::default() };
    render_list(&state, &ctx, q.notice.as_deref(), f, Vec::new(), None).await
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = EndpointForm::from_fields(&fields);
    let policy = &state.config.webhooks.allow;
    match service::create_endpoint(&state.db, state.now(), &ctx.actor(), &f.input(), policy).await {
        Ok((row, secret)) => {
            let fresh = EndpointForm { active: true, ..Default::default() };
            render_list(&state, &ctx, None, fresh, Vec::new(), Some((row.url, secret))).await
        }
        Err(e) => render_list(&state, &ctx, None, f, form_errors(e)?, None).await,
    }
}

pub struct DeliveryView {
    pub d: DeliveryRow,
    pub happened: String,
    pub next_attempt: String,
    pub attempts: Vec<AttemptView>,
}

pub struct AttemptView {
    pub a: AttemptRow,
    pub at: String,
}

#[derive(Template)]
#[template(path = "admin_webhook.html")]
struct DetailPage {
    shell: Shell,
    e: EndpointSummary,
    f: EndpointForm,
    errors: Vec<FieldError>,
    groups: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
    deliveries: Vec<DeliveryView>,
    status: String,
    statuses: [&'static str; 4],
    next: Option<String>,
    new_secret: Option<String>,
    old_secret_until: String,
}

impl DetailPage {
    fn error(&self, field: &str) -> String {
        error_of(&self.errors, field)
    }
}

#[derive(Deserialize)]
struct DetailQuery {
    notice: Option<String>,
    status: Option<String>,
    before: Option<String>,
}

fn ms_datetime(ms: i64) -> String {
    datetime(ms / 1000)
}

struct Shown<'a> {
    notice: Option<&'a str>,
    status: Option<&'a str>,
    before: Option<&'a str>,
    form: Option<(EndpointForm, Vec<FieldError>)>,
    new_secret: Option<String>,
}

async fn render_detail(state: &AppState, ctx: &Ctx, id: &str, shown: Shown<'_>) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let e = service::endpoint(&state.db, &actor, id).await?;
    let status = shown.status.filter(|s| !s.is_empty());
    let page = service::deliveries(&state.db, &actor, id, status, shown.before, 50).await?;
    let deliveries = page
        .deliveries
        .into_iter()
        .map(|(d, attempts)| DeliveryView {
            happened: datetime(d.event_created_at),
            next_attempt: if d.status == "pending" { ms_datetime(d.due_ms) } else { String::new() },
            attempts: attempts.into_iter().map(|a| AttemptView { at: ms_datetime(a.at_ms), a }).collect(),
            d,
        })
        .collect();
    let (f, errors) = shown.form.unwrap_or_else(|| (EndpointForm::of(&e), Vec::new()));
    let http_status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = DetailPage {
        shell: Shell::new(ctx, "Webhook endpoint").with_notice(shown.notice),
        old_secret_until: e.endpoint.previous_until.filter(|u| *u > state.now()).map(datetime).unwrap_or_default(),
        e,
        f,
        errors,
        groups: event_groups(),
        deliveries,
        status: status.unwrap_or("").to_string(),
        statuses: service::STATUSES,
        next: page.next,
        new_secret: shown.new_secret,
    };
    Ok((http_status, Html(page.render()?)).into_response())
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let shown = Shown {
        notice: q.notice.as_deref(),
        status: q.status.as_deref(),
        before: q.before.as_deref(),
        form: None,
        new_secret: None,
    };
    render_detail(&state, &ctx, &id, shown).await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = EndpointForm::from_fields(&fields);
    let policy = &state.config.webhooks.allow;
    match service::update_endpoint(&state.db, state.now(), &ctx.actor(), &id, &f.input(), policy).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=saved")).into_response()),
        Err(e) => {
            let shown =
                Shown { notice: None, status: None, before: None, form: Some((f, form_errors(e)?)), new_secret: None };
            render_detail(&state, &ctx, &id, shown).await
        }
    }
}

#[derive(Deserialize)]
struct RotateForm {
    overlap_hours: String,
}

async fn rotate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<RotateForm>,
) -> Result<Response, WebError> {
    let hours: i64 = form.overlap_hours.trim().parse().map_err(|_| {
        ServiceError::invalid(
            "overlap_hours",
            format!("“{}” is not a whole number of hours (0–168).", form.overlap_hours.trim()),
        )
    })?;
    let secret = service::rotate_secret(&state.db, state.now(), &ctx.actor(), &id, hours.saturating_mul(3600)).await?;
    let shown = Shown { notice: None, status: None, before: None, form: None, new_secret: Some(secret) };
    render_detail(&state, &ctx, &id, shown).await
}

async fn send_test(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    service::send_test(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook_test_sent")))
}

async fn delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    service::delete_endpoint(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to("/admin/webhooks?notice=webhook_deleted"))
}

async fn replay_dead(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    service::replay_dead(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook_replayed")))
}

async fn replay(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Redirect, WebError> {
    service::replay(&state.db, state.now(), &ctx.actor(), &id, &delivery).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook_replayed")))
}
