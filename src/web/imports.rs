//! The staff upload page for CSV imports: upload, then follow the job's progress until it shows
//! the report or every bad row (nothing is imported from a file with any bad row).

use super::AppState;
use super::error::{WebError, multipart_error};
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::service::import_jobs;
use crate::service::import_jobs::ImportJobRow;
use crate::service::imports::Kind;
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

/// The body limit of the upload route: the file's own limit plus room for the form's other
/// fields and the multipart framing (the file's limit is checked on its bytes as they arrive).
const MAX_UPLOAD_BODY: usize = import_jobs::MAX_UPLOAD_BYTES as usize + 64 * 1024;

/// The longest `kind` field read (the kinds are short words).
const MAX_KIND_BYTES: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/imports", get(page).post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)))
        .route("/admin/imports/{id}", get(job_page))
        .route("/admin/imports/{id}/status", get(job_status))
}

pub struct JobView {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub rows_read: i64,
    /// How much of the file has been read, 0–100.
    pub percent: i64,
    pub summary: String,
    pub error_count: i64,
    pub errors: Vec<(i64, String, String)>,
    pub started: String,
}

impl From<ImportJobRow> for JobView {
    fn from(j: ImportJobRow) -> JobView {
        let errors: Vec<serde_json::Value> = serde_json::from_str(&j.errors_json).unwrap_or_default();
        JobView {
            errors: errors
                .iter()
                .map(|e| {
                    (
                        e["line"].as_i64().unwrap_or(0),
                        e["column"].as_str().unwrap_or("").to_string(),
                        e["reason"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
            kind: Kind::parse(&j.kind).map(|k| k.label().to_string()).unwrap_or(j.kind),
            percent: if j.bytes_total > 0 { (j.bytes_read * 100 / j.bytes_total).clamp(0, 100) } else { 0 },
            started: datetime(j.created_at),
            id: j.id,
            file_name: j.file_name,
            status: j.status,
            rows_read: j.rows_read,
            summary: j.summary,
            error_count: j.error_count,
        }
    }
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    shell: Shell,
    kinds: Vec<(&'static str, &'static str)>,
    jobs: Vec<JobView>,
}

async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let jobs = import_jobs::recent_jobs(&state.db, &ctx.actor()).await?;
    let page = ImportsPage {
        shell: Shell::new(&ctx, "Imports"),
        kinds: import_jobs::kinds_for(&ctx.actor()).into_iter().map(|k| (k.as_str(), k.label())).collect(),
        jobs: jobs.into_iter().map(JobView::from).collect(),
    };
    Ok(Html(page.render()?))
}

/// The signed-in staff member who may import, checked from the request's head alone: extracted
/// before the body, so anyone else's upload is refused (404 for buyers, 403 for other staff)
/// without a byte of its body being read.
pub struct Importer(Ctx);

impl FromRequestParts<AppState> for Importer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        import_jobs::require_importer(&ctx.actor()).map_err(|e| WebError::from(e).into_response())?;
        Ok(Importer(ctx))
    }
}

fn too_large() -> String {
    import_jobs::too_large().to_string()
}

/// Takes the upload (kind + file), starts the job and sends the browser to it. The file goes to a
/// temporary file as it arrives; a body announced or found larger than the limit is refused (413).
async fn upload(
    State(state): State<AppState>,
    Importer(ctx): Importer,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_UPLOAD_BODY as u64) {
        return Err(import_jobs::too_large().into());
    }
    let (mut kind, mut name) = (String::new(), String::new());
    let mut file = import_jobs::UploadFile::create().await?;
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(e, too_large))? {
        match field.name() {
            Some("kind") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                    if bytes.len() + chunk.len() > MAX_KIND_BYTES {
                        return Err(crate::service::ServiceError::invalid("kind", "Choose what the file holds.").into());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                kind = String::from_utf8_lossy(&bytes).into_owned();
            }
            Some("file") => {
                name = field.file_name().unwrap_or("upload.csv").chars().take(200).collect();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                    file.write(&chunk).await?;
                }
            }
            // Other fields are skipped unread (the next field's search drains them).
            _ => {}
        }
    }
    let id = import_jobs::start_import(&state.db, state.now(), &ctx.actor(), &kind, &name, file).await?;
    let to = format!("/admin/imports/{id}");
    if super::ordering::is_htmx(&headers) {
        let mut res = ().into_response();
        res.headers_mut().insert("hx-redirect", to.parse().expect("ascii path"));
        return Ok(res);
    }
    Ok(Redirect::to(&to).into_response())
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    shell: Shell,
    job: JobView,
}

#[derive(Template)]
#[template(path = "_import_status.html")]
struct JobStatus {
    job: JobView,
}

async fn job_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let job = import_jobs::job(&state.db, &ctx.actor(), &id).await?;
    let page = JobPage { shell: Shell::new(&ctx, format!("Import of {}", job.file_name)), job: job.into() };
    Ok(Html(page.render()?))
}

/// The status fragment the job page polls while the import runs.
async fn job_status(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let job = import_jobs::job(&state.db, &ctx.actor(), &id).await?;
    Ok(Html(JobStatus { job: job.into() }.render()?))
}
