//! The seller's company (admin "Your company"): name and address for invoices and mail, and the
//! brand on every page — accent colour and logo, previewed before they are saved. And the brand's
//! public assets: `/brand.css` (the accent as custom properties app.css uses: the CSP allows no
//! inline style) and `/brand/logo`, both cached by version and ETag, open to anyone because the
//! sign-in page shows them.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::cached::{cache_control, cached};
use super::error::{WebError, multipart_error};
use super::form::{errors_for, status_of};
use super::session::Ctx;
use super::shell::Shell;
use crate::domain::branding::{Accent, Brand, MAX_LOGO_BYTES, stylesheet};
use crate::service::branding::{self as service, CompanyChange, LogoChange, LogoInfo};
use crate::service::{FieldError, ServiceError};
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

/// The company page's form may carry a logo and, after a preview, the same logo again as base64.
const MAX_COMPANY_FORM_BYTES: usize = 4 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/company", get(company).post(save_company))
        .layer(DefaultBodyLimit::max(MAX_COMPANY_FORM_BYTES))
}

/// The brand's assets: public (the sign-in page shows them), outside the session layer.
pub fn assets_router() -> Router<AppState> {
    Router::new()
        .route("/brand.css", get(brand_css))
        .route("/brand/logo", get(brand_logo))
        .route("/brand/preview.css", get(preview_css))
}

#[derive(Deserialize, Default)]
pub struct VersionQuery {
    v: Option<String>,
}

async fn brand_css(State(state): State<AppState>, Query(q): Query<VersionQuery>, headers: HeaderMap) -> Response {
    let brand = service::brand(&state.db).await.unwrap_or_default();
    let version = brand.css_version();
    let css = stylesheet(brand.accent.as_ref(), ":root");
    let cache = cache_control(q.v.as_deref(), &version);
    cached(&headers, format!("\"brand-{version}\""), cache, "text/css; charset=utf-8", css.into_bytes())
}

async fn brand_logo(
    State(state): State<AppState>,
    Query(q): Query<VersionQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(logo) = service::logo(&state.db).await? else {
        return Err(WebError::NotFound);
    };
    let cache = cache_control(q.v.as_deref(), &logo.etag);
    Ok(cached(&headers, format!("\"{}\"", logo.etag), cache, &logo.content_type, logo.content))
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    accent: String,
}

/// The accent of a preview, scoped to the preview's box (`rrggbb`, no `#`).
async fn preview_css(Query(q): Query<PreviewQuery>) -> Response {
    match Accent::parse(&format!("#{}", q.accent)) {
        Ok(a) => (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
            stylesheet(Some(&a), ".brand-preview"),
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---- The page ----

#[derive(Deserialize, Default)]
pub struct CompanyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    /// Absent from a form that does not show it (kept as stored).
    accent: Option<String>,
    /// Absent from a form that does not show it (kept as stored).
    time_zone: Option<String>,
    #[serde(default)]
    remove_logo: Option<String>,
    /// A logo a preview already checked, sent again with Save (base64).
    #[serde(default)]
    logo_data: String,
    #[serde(default)]
    intent: String,
}

/// What the preview shows before anything is saved.
pub struct Preview {
    name: String,
    css_url: Option<String>,
    logo_src: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_company.html")]
struct CompanyPage {
    shell: Shell,
    f: CompanyForm,
    errors: Vec<FieldError>,
    logo: Option<LogoInfo>,
    logo_url: Option<String>,
    preview: Option<Preview>,
    max_logo_kb: usize,
    zones: Vec<String>,
}

impl CompanyPage {
    fn error(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }
}

async fn company_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: CompanyForm,
    errors: Vec<FieldError>,
    preview: Option<Preview>,
) -> Result<Response, WebError> {
    let status = status_of(&errors);
    let stored = service::settings(&state.db, &ctx.actor()).await?;
    let logo_url = stored.logo.as_ref().map(|l| format!("/brand/logo?v={}", l.etag));
    let shell = Shell::new(ctx, "Your company").with_notice(notice);
    let page = CompanyPage {
        shell,
        f,
        errors,
        logo: stored.logo,
        logo_url,
        preview,
        max_logo_kb: MAX_LOGO_BYTES / 1024,
        zones: crate::domain::time_zone::names(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn company(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    let s = service::settings(&state.db, &ctx.actor()).await?;
    let f = CompanyForm {
        name: s.name,
        address: s.address,
        accent: Some(s.accent.map(|a| a.hex()).unwrap_or_default()),
        time_zone: Some(s.time_zone.name().to_string()),
        ..Default::default()
    };
    company_page(&state, &ctx, q.notice.as_deref(), f, Vec::new(), None).await
}

fn too_large() -> String {
    format!(
        "The form is larger than {} MB; the logo may be at most {} KB.",
        MAX_COMPANY_FORM_BYTES >> 20,
        MAX_LOGO_BYTES / 1024
    )
}

/// Reads the page's form: multipart (with a logo file) from the page, or a plain form.
async fn read_form(state: &AppState, req: Request) -> Result<(CompanyForm, Option<Vec<u8>>), WebError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(f) =
            Form::<CompanyForm>::from_request(req, state).await.map_err(|e| WebError::BadRequest(e.body_text()))?;
        return Ok((f, None));
    }
    let mut form = Multipart::from_request(req, state).await.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let mut f = CompanyForm::default();
    let mut file: Option<Vec<u8>> = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(e, too_large))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "logo" {
            let mut bytes = Vec::new();
            // One byte past the limit is enough to say it is too large.
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                if bytes.len() <= MAX_LOGO_BYTES {
                    bytes.extend_from_slice(&chunk[..chunk.len().min(MAX_LOGO_BYTES + 1 - bytes.len())]);
                }
            }
            // A file input left empty sends an empty part with no file name.
            if !bytes.is_empty() || field.file_name().is_some_and(|n| !n.is_empty()) {
                file = Some(bytes);
            }
            continue;
        }
        let text = field.text().await.map_err(|e| multipart_error(e, too_large))?;
        match name.as_str() {
            "name" => f.name = text,
            "address" => f.address = text,
            "accent" => f.accent = Some(text),
            "time_zone" => f.time_zone = Some(text),
            "remove_logo" => f.remove_logo = Some(text),
            "logo_data" => f.logo_data = text,
            "intent" => f.intent = text,
            _ => {}
        }
    }
    Ok((f, file))
}

async fn save_company(State(state): State<AppState>, ctx: Ctx, req: Request) -> Result<Response, WebError> {
    let (mut f, file) = read_form(&state, req).await?;
    let logo = match (file, f.logo_data.trim().is_empty(), f.remove_logo.is_some()) {
        (Some(bytes), ..) => Ok(LogoChange::Upload(bytes)),
        (None, false, _) => service::decode_logo(&f.logo_data).map(LogoChange::Upload),
        (None, true, true) => Ok(LogoChange::Remove),
        (None, true, false) => Ok(LogoChange::Keep),
    };
    let logo = match logo {
        Ok(l) => l,
        Err(ServiceError::Invalid(errors)) => {
            f.logo_data.clear();
            return company_page(&state, &ctx, None, f, errors, None).await;
        }
        Err(e) => return Err(e.into()),
    };
    let change = CompanyChange {
        name: Some(f.name.clone()),
        address: Some(f.address.clone()),
        accent: f.accent.clone(),
        logo: logo.clone(),
        time_zone: f.time_zone.clone(),
    };
    if f.intent == "preview" {
        return match service::check_change(&ctx.actor(), &change) {
            Ok(checked) => {
                let stored = service::settings(&state.db, &ctx.actor()).await?;
                let accent = checked.accent.unwrap_or(stored.accent);
                let logo_src = match &checked.logo {
                    Some(Some(l)) => {
                        let (src, b64) = service::logo_data(l);
                        // Save sends the checked logo again: a file input is empty after a page load.
                        f.logo_data = b64;
                        Some(src)
                    }
                    Some(None) => None,
                    None => stored.logo.as_ref().map(|l| format!("/brand/logo?v={}", l.etag)),
                };
                let brand = Brand { name: checked.name.clone().unwrap_or_default(), ..Default::default() };
                let preview = Preview {
                    name: brand.display_name().to_string(),
                    css_url: accent.map(|a| format!("/brand/preview.css?accent={}", &a.hex()[1..])),
                    logo_src,
                };
                company_page(&state, &ctx, None, f, Vec::new(), Some(preview)).await
            }
            Err(ServiceError::Invalid(errors)) => {
                keep_logo(&mut f, &logo, &errors);
                company_page(&state, &ctx, None, f, errors, None).await
            }
            Err(e) => Err(e.into()),
        };
    }
    match service::change(&state.db, state.now(), &ctx.actor(), &change).await {
        Ok(_) => Ok(Redirect::to("/admin/company?notice=company_saved").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            keep_logo(&mut f, &logo, &errors);
            company_page(&state, &ctx, None, f, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A refused form keeps an uploaded logo that was fine (as base64: a file input comes back empty).
fn keep_logo(f: &mut CompanyForm, logo: &LogoChange, errors: &[FieldError]) {
    f.logo_data = match logo {
        LogoChange::Upload(bytes) if !errors.iter().any(|e| e.field == "logo") => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        }
        _ => String::new(),
    };
}
