//! Sign-in, sign-out, forgotten password, set-password links and changing one's own password.

use super::AppState;
use super::error::WebError;
use super::session::{ClientIp, Ctx, MaybeCtx, PRE_CSRF_COOKIE, SESSION_COOKIE, safe_next, set_cookie, settings};
use super::shell::{Shell, home_for};
use crate::service::ServiceError;
use crate::service::auth::{self, LinkPurpose};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/forgot", get(forgot_page).post(forgot))
        .route("/set-password/{token}", get(set_password_page).post(set_password))
        .route("/me/password", get(change_password_page).post(change_password))
}

pub async fn home(ctx: MaybeCtx) -> Redirect {
    match ctx.session {
        Some(s) => Redirect::to(home_for(&s.principal)),
        None => Redirect::to("/login"),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    email: String,
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn login_page(ctx: MaybeCtx, Query(q): Query<LoginQuery>) -> Result<Response, WebError> {
    if let Some(s) = &ctx.session {
        return Ok(Redirect::to(home_for(&s.principal)).into_response());
    }
    let page = LoginPage {
        shell: Shell::anonymous("Sign in", &ctx).with_notice(q.notice.as_deref()),
        email: String::new(),
        error: None,
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: MaybeCtx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Decided before the session exists: a target that is not a plain path on this site is
    // dropped (home instead), so nothing after sign-in can fail on it.
    let next = safe_next(Some(&form.next));
    let result = auth::sign_in(&state.db, state.now(), &form.email, &form.password, &ip, ua, &settings(&state)).await;
    match result {
        Ok(new) => {
            // A fresh session id at sign-in; any earlier session cookie of this browser is ended.
            if let Some(s) = &ctx.session {
                auth::sign_out(&state.db, state.now(), s).await?;
            }
            let target = next.unwrap_or_else(|| home_for(&new.principal).to_string());
            let mut res = Redirect::to(&target).into_response();
            let h = res.headers_mut();
            h.append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &new.token, "Lax", None));
            h.append(header::SET_COOKIE, set_cookie(&state, PRE_CSRF_COOKIE, "", "Strict", Some(0)));
            Ok(res)
        }
        Err(ServiceError::BadCredentials) => {
            let page = LoginPage {
                shell: Shell::anonymous("Sign in", &ctx),
                email: form.email,
                error: Some("Wrong e-mail or password, or the user is deactivated.".into()),
                next: next.unwrap_or_default(),
            };
            Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
        }
        Err(ServiceError::Throttled { retry_after }) => Ok(too_many(
            retry_after,
            "Too many failed sign-ins for this e-mail address or from your network. If you forgot your password, use “Forgot password” to get a link by e-mail.",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(state): State<AppState>, ctx: MaybeCtx) -> Result<Response, WebError> {
    if let Some(s) = &ctx.session {
        auth::sign_out(&state.db, state.now(), s).await?;
    }
    let mut res = Redirect::to("/login?notice=signed_out").into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", "Lax", Some(0)));
    Ok(res)
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    shell: Shell,
}

async fn forgot_page(ctx: MaybeCtx) -> Result<Html<String>, WebError> {
    Ok(Html(ForgotPage { shell: Shell::anonymous("Forgot password", &ctx) }.render()?))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(form): Form<ForgotForm>,
) -> Result<Response, WebError> {
    match auth::request_password_reset(&state.db, state.now(), &form.email, &ip).await {
        Ok(()) => Ok(Redirect::to("/login?notice=reset_sent").into_response()),
        // Counted per e-mail whether the address exists or not: this answer tells nothing either.
        Err(ServiceError::Throttled { retry_after }) => {
            Ok(too_many(retry_after, "Too many reset requests for this e-mail address or from your network."))
        }
        Err(e) => Err(e.into()),
    }
}

/// 429 with `Retry-After`, saying in whole minutes when to try again.
fn too_many(retry_after: i64, why: &str) -> Response {
    let mut res = super::error::error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("{why} Try again in {} minutes.", (retry_after + 59) / 60),
        vec![],
    );
    res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    res
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    shell: Shell,
    token: String,
    email: String,
    name: String,
    invite: bool,
    error: Option<String>,
}

async fn set_password_page(
    State(state): State<AppState>,
    ctx: MaybeCtx,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let info = match auth::inspect_link(&state.db, state.now(), &token).await {
        Ok(info) => info,
        Err(ServiceError::NotFound) => return Ok(expired_link()),
        Err(e) => return Err(e.into()),
    };
    let page = SetPasswordPage {
        shell: Shell::anonymous("Set your password", &ctx),
        token,
        email: info.email,
        name: info.name,
        invite: info.purpose == LinkPurpose::Invite,
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

fn expired_link() -> Response {
    super::error::error_page(
        StatusCode::NOT_FOUND,
        "Link expired or already used",
        "Set-password links work once and expire after 72 hours. Ask whoever invited you for a new link, or use “Forgot password” on the sign-in page.",
        vec![],
    )
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    password: String,
    confirmation: String,
}

async fn set_password(
    State(state): State<AppState>,
    ctx: MaybeCtx,
    Path(token): Path<String>,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, WebError> {
    match auth::set_password_with_link(&state.db, state.now(), &token, &form.password, &form.confirmation).await {
        Ok(_) => Ok(Redirect::to("/login?notice=password_set").into_response()),
        Err(ServiceError::NotFound) => Ok(expired_link()),
        Err(ServiceError::Invalid(errors)) => {
            let info = auth::inspect_link(&state.db, state.now(), &token).await?;
            let page = SetPasswordPage {
                shell: Shell::anonymous("Set your password", &ctx),
                token,
                email: info.email,
                name: info.name,
                invite: info.purpose == LinkPurpose::Invite,
                error: errors.into_iter().next().map(|e| e.message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordPage {
    shell: Shell,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

async fn change_password_page(ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Html<String>, WebError> {
    let page = ChangePasswordPage {
        shell: Shell::new(&ctx, "Your password").with_notice(q.notice.as_deref()),
        email: ctx.session.principal.email.clone(),
        error: None,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    current: String,
    password: String,
    confirmation: String,
}

async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    match auth::change_password(
        &state.db,
        state.now(),
        &actor,
        &ctx.session.id_hash,
        &form.current,
        &form.password,
        &form.confirmation,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/me/password?notice=password_changed").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let page = ChangePasswordPage {
                shell: Shell::new(&ctx, "Your password"),
                email: ctx.session.principal.email.clone(),
                error: errors.into_iter().next().map(|e| e.message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(ServiceError::Throttled { retry_after }) => {
            Ok(too_many(retry_after, "Too many wrong current passwords. Your password was not changed."))
        }
        Err(e) => Err(e.into()),
    }
}
