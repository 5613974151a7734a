//! User actions shared by seller admins, staff and buyer managers: change role, deactivate,
//! reactivate, new set-password link. The service decides who may act on whom.

use super::AppState;
use super::error::WebError;
use super::session::{Ctx, safe_next};
use super::shell::{Shell, date};
use crate::domain::auth::BuyerRole;
use crate::service::auth::LinkPurpose;
use crate::service::users::UserRow;
use crate::service::users::{self as user_service, Invitation};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/role", post(change_role))
        .route("/users/{id}/deactivate", post(deactivate))
        .route("/users/{id}/reactivate", post(reactivate))
        .route("/users/{id}/link", post(new_link))
}

/// A user as lists show them.
pub struct UserView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: String,
    pub role_code: String,
    pub active: bool,
    pub invited: bool,
    pub last_sign_in: String,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> UserView {
        UserView {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            phone: u.phone.clone(),
            role: u.role_labels(),
            role_code: u.roles.clone(),
            active: u.active,
            invited: !u.has_password(),
            last_sign_in: u.last_sign_in_at.map(date).unwrap_or_else(|| "never".into()),
        }
    }
}

/// Tells whoever invited a user, or asked for a new link, that the link went to the user's own
/// address. The link itself is never shown: staff and managers must not be able to sign in as
/// someone else.
#[derive(Template)]
#[template(path = "invited.html")]
pub struct InvitedPage {
    shell: Shell,
    name: String,
    email: String,
    back: String,
    is_reset: bool,
}

impl InvitedPage {
    pub fn new(_state: &AppState, ctx: &Ctx, inv: &Invitation, back: &str) -> InvitedPage {
        let is_reset = inv.purpose == LinkPurpose::Reset;
        InvitedPage {
            shell: Shell::new(ctx, if is_reset { "Reset link sent" } else { "Invitation sent" }),
            name: inv.name.clone(),
            email: inv.email.clone(),
            back: back.to_string(),
            is_reset,
        }
    }
}

#[derive(Deserialize)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
    #[serde(default)]
    back: String,
}

fn back_to(back: &str, notice: &str) -> Response {
    let target = safe_next(Some(back)).unwrap_or_else(|| "/".into());
    let sep = if target.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{target}{sep}notice={notice}")).into_response()
}

async fn change_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    let role =
        BuyerRole::parse(&form.role).ok_or_else(|| WebError::BadRequest(format!("Unknown role “{}”.", form.role)))?;
    user_service::change_account_user_role(&state.db, state.now(), &ctx.actor(), &id, role).await?;
    Ok(back_to(&form.back, "role_changed"))
}

async fn deactivate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<BackForm>,
) -> Result<Response, WebError> {
    user_service::set_user_active(&state.db, state.now(), &ctx.actor(), &id, false).await?;
    Ok(back_to(&form.back, "deactivated"))
}

async fn reactivate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<BackForm>,
) -> Result<Response, WebError> {
    user_service::set_user_active(&state.db, state.now(), &ctx.actor(), &id, true).await?;
    Ok(back_to(&form.back, "reactivated"))
}

async fn new_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<BackForm>,
) -> Result<Html<String>, WebError> {
    let inv = user_service::issue_password_link(&state.db, state.now(), &ctx.actor(), &id).await?;
    let back = safe_next(Some(&form.back)).unwrap_or_else(|| "/".into());
    Ok(Html(InvitedPage::new(&state, &ctx, &inv, &back).render()?))
}
