//! Mail pages: each user's notification settings and time zone (`/me/notifications`), and the
//! admin's "Sent mail" (`/admin/mail`): every mail with what became of it, and what it said.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::domain::mail::MailKind;
use crate::service::mail::{self as service, MailBody, MailRow};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Redirect};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", get(settings).post(save_settings))
        .route("/me/time-zone", post(save_time_zone))
        .route("/admin/mail", get(mailbox))
        .route("/admin/mail/{id}", get(one_mail))
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct SettingsPage {
    shell: Shell,
    email: String,
    kinds: Vec<(&'static str, &'static str, bool)>,
    /// The zone chosen in the form ("": the seller's), every zone, and the seller's.
    zone: String,
    zones: Vec<String>,
    seller_zone: String,
    zone_error: String,
}

async fn settings_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    typed_zone: Option<String>,
    zone_error: String,
) -> Result<Response, WebError> {
    let kinds = service::notification_settings(&state.db, &ctx.actor())
        .await?
        .into_iter()
        .map(|(k, on)| (k.as_str(), k.label(), on))
        .collect();
    // The session and the brand the session layer read already hold both zones.
    let own = ctx.session.time_zone.as_deref().and_then(|z| crate::domain::time_zone::Zone::parse(z).ok());
    let seller = &ctx.brand.time_zone;
    let status = if zone_error.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SettingsPage {
        shell: Shell::new(ctx, "E-mail notifications and time zone").with_notice(notice),
        email: ctx.session.principal.email.clone(),
        kinds,
        zone: typed_zone.unwrap_or_else(|| own.map(|z| z.name().to_string()).unwrap_or_default()),
        zones: crate::domain::time_zone::names(),
        seller_zone: seller.name().to_string(),
        zone_error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn settings(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    settings_page(&state, &ctx, q.notice.as_deref(), None, String::new()).await
}

#[derive(Deserialize)]
struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// Saves the user's time zone ("": follow the seller's); a name we do not know comes back with
/// the reason beside the field.
async fn save_time_zone(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TimeZoneForm>,
) -> Result<Response, WebError> {
    match crate::service::users::set_time_zone(&state.db, state.now(), &ctx.actor(), &f.time_zone).await {
        Ok(_) => Ok(Redirect::to("/me/notifications?notice=saved").into_response()),
        Err(crate::service::ServiceError::Invalid(errors)) => {
            let why = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            settings_page(&state, &ctx, None, Some(f.time_zone), why).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One `on` field per kind left on (unchecked boxes send nothing).
async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    let on: Vec<MailKind> = fields.iter().filter(|(k, _)| k == "on").filter_map(|(_, v)| MailKind::parse(v)).collect();
    service::set_notifications(&state.db, state.now(), &ctx.actor(), &on).await?;
    Ok(Redirect::to("/me/notifications?notice=saved"))
}

pub struct MailView {
    pub m: MailRow,
    pub when: String,
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct MailboxPage {
    shell: Shell,
    mails: Vec<MailView>,
    next: Option<String>,
    smtp: bool,
}

#[derive(Deserialize)]
struct MailboxQuery {
    before: Option<String>,
}

async fn mailbox(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MailboxQuery>,
) -> Result<Html<String>, WebError> {
    let (rows, next) = service::mailbox(&state.db, &ctx.actor(), q.before.as_deref(), 50).await?;
    let mails = rows.into_iter().map(|m| MailView { when: datetime(m.sent_at.unwrap_or(m.created_at)), m }).collect();
    let page = MailboxPage {
        shell: Shell::new(&ctx, "Sent mail"),
        mails,
        next,
        smtp: state.config.webhooks.mail.smtp_url.is_some(),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage {
    shell: Shell,
    m: MailBody,
    when: String,
}

async fn one_mail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let m = service::mail(&state.db, &ctx.actor(), &id).await?;
    let page = MailPage { shell: Shell::new(&ctx, "Mail"), when: datetime(m.sent_at.unwrap_or(m.created_at)), m };
    Ok(Html(page.render()?))
}
