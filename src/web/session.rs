//! The session and CSRF layer, and the extractors handlers use to get the signed-in user.
//!
//! CSRF defence is layered: (1) cookies are `SameSite=Lax`; (2) a state-changing request whose
//! `Sec-Fetch-Site` says it came from another site, or whose `Origin` is not ours, is refused;
//! (3) it must carry a token — the session's synchronizer token, or before sign-in a double-submit
//! token bound to a `portico_csrf` cookie — in the `_csrf` form field or the `X-CSRF-Token` header.

use super::AppState;
use super::error::WebError;
use crate::domain::branding::Brand;
use crate::domain::redirect::safe_redirect_target;
use crate::service::Actor;
use crate::service::auth::{self, Session, SessionSettings};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub const SESSION_COOKIE: &str = "portico_session";
pub const PRE_CSRF_COOKIE: &str = "portico_csrf";
/// Largest form body the CSRF check reads: 1 MiB (forms are small; file uploads have their own
/// routes and limits). A larger form is refused with 413.
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The CSRF token a page must embed in its forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub fn settings(state: &AppState) -> SessionSettings {
    SessionSettings { idle_secs: state.config.session_idle_secs, absolute_secs: state.config.session_absolute_secs }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with our flags: HttpOnly, SameSite, Path=/, Secure on https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, same_site: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are hex tokens")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses cross-site requests by `Sec-Fetch-Site` and `Origin` (browsers send these; tools that
/// send neither still need the token).
fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        return !(origin == state.config.public_origin() || (!host.is_empty() && origin_host == host));
    }
    false
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && !a.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loads the session (if any) into the request, enforces CSRF on state-changing requests, and
/// hands out the pre-sign-in CSRF cookie.
pub async fn session_layer(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, WebError> {
    let now = state.now();
    let session = match cookie_value(req.headers(), SESSION_COOKIE) {
        Some(token) => auth::authenticate(&state.db, now, token, &settings(&state)).await?,
        None => None,
    };
    let pre_token = cookie_value(req.headers(), PRE_CSRF_COOKIE).map(str::to_string);
    let mut new_pre_token = None;
    let expected = match (&session, &pre_token) {
        (Some(s), _) => s.csrf_token.clone(),
        (None, Some(t)) => t.clone(),
        (None, None) => {
            let t = auth::random_token(16);
            new_pre_token = Some(t.clone());
            t
        }
    };

    // The seller's brand heads every page (one small read; never a reason to fail a page).
    let brand = crate::service::branding::brand(&state.db).await.unwrap_or_default();
    // Times show in the reader's zone: their own, else the seller's.
    let zone = session
        .as_ref()
        .and_then(|s| s.time_zone.as_deref())
        .and_then(|z| crate::domain::time_zone::Zone::parse(z).ok())
        .unwrap_or_else(|| brand.time_zone.clone());

    let mut req = req;
    if !is_safe(req.method()) {
        if cross_site(&state, req.headers()) {
            return Err(WebError::CsrfRefused);
        }
        let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let (provided, rebuilt) = match header_token {
            Some(t) => (Some(t), req),
            // A file upload without script: the token rides in the form's action URL, so a large
            // body never has to be read here (same-site is already checked above).
            None if multipart => (query_token(req.uri().query()), req),
            None => {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
                    WebError::Service(crate::service::ServiceError::TooLarge(format!(
                        "The form is larger than {} KB; send less at once.",
                        MAX_FORM_BYTES / 1024
                    )))
                })?;
                let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .ok()
                    .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v));
                (field, Request::from_parts(parts, Body::from(bytes)))
            }
        };
        req = rebuilt;
        if !provided.is_some_and(|p| tokens_match(&p, &expected)) {
            return Err(WebError::CsrfRefused);
        }
    }

    // What an error page needs to be shown inside the shell (see `error::in_shell`).
    let shell_for_errors = session.clone().map(|s| {
        let back = if is_safe(req.method()) { None } else { referring_path(&state, req.headers()) };
        (Ctx { session: s, csrf: expected.clone(), path: req.uri().path().to_string(), brand: brand.clone() }, back)
    });
    let anonymous = session.is_none();
    req.extensions_mut().insert(CsrfToken(expected));
    req.extensions_mut().insert(session);
    req.extensions_mut().insert(brand.clone());
    let mut res = super::shell::in_zone(zone, next.run(req)).await;
    if let Some((ctx, back)) = shell_for_errors {
        res = super::error::in_shell(res, &ctx, back);
    } else if anonymous {
        res = super::error::branded(res, &brand);
    }
    if let Some(t) = new_pre_token {
        res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, PRE_CSRF_COOKIE, &t, "Strict", None));
    }
    Ok(res)
}

/// The path of the page a form was sent from, when it is one of ours (`Referer` on this origin).
fn referring_path(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let public = state.config.public_origin();
    let rest = referer.strip_prefix(public).or_else(|| {
        let (_, after_scheme) = referer.split_once("://")?;
        after_scheme.strip_prefix(host).filter(|_| !host.is_empty())
    })?;
    safe_next(Some(rest))
}

/// The `_csrf` parameter of a query string.
fn query_token(query: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v)
}

/// The signed-in user of a page request; anonymous requests are sent to the sign-in page.
pub struct Ctx {
    pub session: Session,
    pub csrf: String,
    pub path: String,
    /// The seller's brand, for the page's header.
    pub brand: Brand,
}

impl Ctx {
    pub fn actor(&self) -> Actor<'_> {
        Actor::web(&self.session.principal)
    }

    /// The account this user orders for: a buyer's own, or the one staff are acting for.
    pub fn working_account(&self) -> Option<&str> {
        self.session.principal.buyer_account().or(self.session.acting_account_id.as_deref())
    }

    /// The actor for ordering pages: staff acting for a customer record it as `on_behalf_of`.
    pub fn order_actor(&self) -> Actor<'_> {
        Actor { on_behalf_of: self.session.acting_account_id.as_deref(), ..Actor::web(&self.session.principal) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<Option<Session>>().cloned().flatten();
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let brand = parts.extensions.get::<Brand>().cloned().unwrap_or_default();
        match session {
            Some(session) => Ok(Ctx { session, csrf, path: parts.uri.path().to_string(), brand }),
            None => {
                let next = if parts.method == Method::GET { parts.uri.path() } else { "/" };
                let target = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// The session if there is one, and the CSRF token, for pages anyone can open (sign-in).
pub struct MaybeCtx {
    pub session: Option<Session>,
    pub csrf: String,
    pub brand: Brand,
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCtx {
            session: parts.extensions.get::<Option<Session>>().cloned().flatten(),
            csrf: parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
            brand: parts.extensions.get::<Brand>().cloned().unwrap_or_default(),
        })
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).map(|e| e[2..].to_string()).unwrap_or_default()
}

/// Only same-site paths are accepted as redirect targets (no open redirect; see
/// [`safe_redirect_target`]).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.and_then(safe_redirect_target).map(str::to_string)
}

/// The client address for throttling: the connection's peer address (in-process tests have none,
/// and share one empty address). `X-Forwarded-For` is not read: no setting says a proxy in front
/// may be trusted, and a client could otherwise claim a fresh address with every guess.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/portal")), Some("/portal".into()));
        assert_eq!(safe_next(Some("//evil.com")), None);
        assert_eq!(safe_next(Some("https://evil.com")), None);
        assert_eq!(safe_next(Some("/\\evil.com")), None);
        assert_eq!(safe_next(Some("/\t/evil.com")), None);
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn constant_time_compare() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("", ""));
        assert!(!tokens_match("abc", "abcd"));
    }
}
