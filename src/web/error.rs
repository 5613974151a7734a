//! One error type for pages: maps to a status and a plain page, logs internals, never leaks them.

use crate::service::ServiceError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf")]
    CsrfRefused,
    #[error("{0}")]
    BadRequest(String),
    /// Not an error for the user: go somewhere else first (e.g. choose an account to act for).
    #[error("redirect to {0}")]
    Redirect(String),
    #[error("service: {0}")]
    Service(#[from] ServiceError),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    items: Vec<String>,
    brand: &'a crate::domain::branding::Brand,
}

/// What an error page says, kept on its response so that the session layer can show it inside
/// the shell (menu, user) to someone signed in; the plain page is for everyone else.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub title: String,
    pub message: String,
    pub items: Vec<String>,
}

pub fn error_page(status: StatusCode, title: &str, message: &str, items: Vec<String>) -> Response {
    let info = ErrorInfo { title: title.to_string(), message: message.to_string(), items: items.clone() };
    let brand = crate::domain::branding::Brand::default();
    let page = ErrorPage { status: status.as_u16(), title, message, items, brand: &brand };
    let body = page.render().unwrap_or_else(|_| title.to_string());
    let mut res = (status, Html(body)).into_response();
    res.extensions_mut().insert(info);
    res
}

#[derive(Template)]
#[template(path = "error_in_shell.html")]
struct ErrorInShell<'a> {
    shell: super::shell::Shell,
    status: u16,
    info: &'a ErrorInfo,
    /// Where the refused form was (the referring page of this site), to go back to it with the
    /// input the browser kept.
    back: Option<String>,
}

/// The error page of `res` again, inside the shell of the signed-in user: a refused form is never
/// a dead end without the menu. Headers (e.g. `Retry-After`) and the status are kept.
pub fn in_shell(res: Response, ctx: &super::session::Ctx, back: Option<String>) -> Response {
    let Some(info) = res.extensions().get::<ErrorInfo>().cloned() else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let page = ErrorInShell {
        shell: super::shell::Shell::new(ctx, info.title.clone()),
        status: parts.status.as_u16(),
        info: &info,
        back,
    };
    match page.render() {
        Ok(html) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(_) => Response::from_parts(parts, body),
    }
}

/// The plain error page of `res` again with the seller's brand (for someone not signed in).
pub fn branded(res: Response, brand: &crate::domain::branding::Brand) -> Response {
    let Some(info) = res.extensions().get::<ErrorInfo>().cloned() else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let page = ErrorPage {
        status: parts.status.as_u16(),
        title: &info.title,
        message: &info.message,
        items: info.items.clone(),
        brand,
    };
    match page.render() {
        Ok(html) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(_) => Response::from_parts(parts, body),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound | WebError::Service(ServiceError::NotFound) => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or it is not available to you.",
                vec![],
            ),
            WebError::Forbidden | WebError::Service(ServiceError::Forbidden) => error_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this. Ask an administrator (or your account's purchasing manager) if you need it.",
                vec![],
            ),
            WebError::CsrfRefused => error_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from this site or has expired. Go back, reload the page and try again.",
                vec![],
            ),
            WebError::Redirect(to) => axum::response::Redirect::to(&to).into_response(),
            WebError::BadRequest(msg) => error_page(StatusCode::BAD_REQUEST, "Bad request", &msg, vec![]),
            WebError::Service(ServiceError::TooLarge(msg)) => {
                error_page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", &msg, vec![])
            }
            WebError::Service(ServiceError::Invalid(errors)) => error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please correct the input",
                "Nothing was changed. Go back and fix:",
                errors.into_iter().map(|e| e.message).collect(),
            ),
            WebError::Service(ServiceError::Conflict(msg)) => {
                error_page(StatusCode::CONFLICT, "That can’t be done now", &msg, vec![])
            }
            WebError::Service(ServiceError::BadCredentials) => {
                error_page(StatusCode::UNAUTHORIZED, "Sign-in failed", "Wrong e-mail or password.", vec![])
            }
            WebError::Service(ServiceError::Throttled { retry_after }) => {
                let mut res = error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    &format!(
                        "Too many failed sign-ins for this e-mail. Try again in {} minutes.",
                        (retry_after + 59) / 60
                    ),
                    vec![],
                );
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                res
            }
            WebError::Service(ServiceError::Blocked(issues)) => error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The order cannot be placed",
                "Nothing was placed. Go back and fix:",
                issues.into_iter().map(|i| i.message).collect(),
            ),
            WebError::Service(ServiceError::IdempotencyMismatch | ServiceError::InFlight) => error_page(
                StatusCode::CONFLICT,
                "Already sent",
                "This form was already sent. Open your orders to see the result.",
                vec![],
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error was logged. Nothing you sent was half-saved: try again, and tell your administrator if it persists.",
                    vec![],
                )
            }
        }
    }
}

/// A multipart body that cannot be read: 413 when it passed the route's body limit (what the
/// limit is is said by `too_large`), 400 when it is malformed.
pub fn multipart_error(e: axum::extract::multipart::MultipartError, too_large: impl FnOnce() -> String) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::Service(ServiceError::TooLarge(too_large()))
    } else {
        WebError::BadRequest(e.body_text())
    }
}

pub async fn not_found_fallback() -> Response {
    WebError::NotFound.into_response()
}
