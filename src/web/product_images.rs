//! Product images on pages: served at `/product-images/{id}/{size}` to whoever may see the
//! product (a buyer only their catalog's: anything else is 404, like the product), and managed on
//! the admin's product page — upload several at once, alt text, primary, delete — with a refused
//! form coming back on that page, its reason beside the field.
//!
//! Caching: an image's id names files that never change (a new upload is a new id), so the URL
//! itself is the version and browsers keep it for good (`immutable`), revalidating by ETag if
//! they ask. It is `private`, not `public`: whether it is answered depends on who asks, so a
//! shared cache must not hand one buyer's answer to another.

use super::AppState;
use super::cached::{PRIVATE_FOR_GOOD, cached};
use super::error::{WebError, multipart_error};
use super::form::Refusal;
use super::products_admin::{Typed, product_page};
use super::session::{Ctx, MaybeCtx, urlencode};
use crate::domain::catalog::Sku;
use crate::domain::product_images::{ImageSize, MAX_IMAGE_BYTES};
use crate::service::product_images::{self as service, ImageChange, MAX_IMAGES, Upload};
use crate::service::{Actor, FieldError, ServiceError};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

/// The upload form: up to [`MAX_IMAGES`] files of [`MAX_IMAGE_BYTES`], and the form's fields.
const MAX_UPLOAD_FORM_BYTES: usize = MAX_IMAGES * MAX_IMAGE_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/product-images/{id}/{size}", get(serve))
        .route("/admin/products/{sku}/images", post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_FORM_BYTES)))
        .route("/admin/products/{sku}/images/{id}", post(change))
}

async fn serve(
    State(state): State<AppState>,
    ctx: MaybeCtx,
    Path((id, size)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let size = ImageSize::parse(&size).ok_or(WebError::NotFound)?;
    let actor = ctx.session.as_ref().map(|s| Actor::web(&s.principal));
    let file = service::file(&state.db, state.image_dir.as_ref(), actor.as_ref(), &id, size).await?;
    let etag = format!("\"{}-{}\"", file.etag, size.as_str());
    Ok(cached(&headers, etag, PRIVATE_FOR_GOOD, &file.content_type, file.content))
}

fn back_to(sku: &str, notice: &str) -> Response {
    Redirect::to(&format!("/admin/products/{}?notice={notice}#images", urlencode(&Sku::normalize(sku)))).into_response()
}

fn too_large() -> String {
    format!(
        "Together the files are larger than {} MB: upload at most {MAX_IMAGES} images of at most {} MB each.",
        MAX_UPLOAD_FORM_BYTES >> 20,
        MAX_IMAGE_BYTES >> 20
    )
}

/// The upload form read: its files (each cut one byte past the limit: enough to say it is too
/// large) and its alt text.
async fn read_upload(mut form: Multipart) -> Result<(Vec<Upload>, String), WebError> {
    let mut files = Vec::new();
    let mut alt = String::new();
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(e, too_large))? {
        match field.name().unwrap_or("") {
            "images" => {
                let name = field.file_name().unwrap_or("").to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                    if bytes.len() <= MAX_IMAGE_BYTES {
                        bytes.extend_from_slice(&chunk[..chunk.len().min(MAX_IMAGE_BYTES + 1 - bytes.len())]);
                    }
                }
                // A file input left empty sends one empty part with no file name.
                if !bytes.is_empty() || !name.is_empty() {
                    files.push(Upload { name, bytes });
                }
            }
            "alt" => alt = field.text().await.map_err(|e| multipart_error(e, too_large))?,
            _ => {}
        }
    }
    Ok((files, alt))
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let form = form.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let (files, alt) = match read_upload(form).await {
        Ok(read) => read,
        // Too large as a whole: the page again with the reason beside the file input.
        Err(WebError::Service(ServiceError::TooLarge(message))) => {
            let refusal = Refusal {
                form: "images",
                errors: vec![FieldError { field: "images".into(), message }],
                conflict: false,
            };
            return product_page(&state, &ctx, &sku, None, Typed::Upload { alt: String::new() }, refusal).await;
        }
        Err(e) => return Err(e),
    };
    match service::upload(&state.db, state.image_dir.as_ref(), state.now(), &ctx.actor(), &sku, files, &alt).await {
        Ok(_) => Ok(back_to(&sku, "images_added")),
        Err(e) => {
            let refusal = Refusal::of("images", e, "images")?;
            product_page(&state, &ctx, &sku, None, Typed::Upload { alt }, refusal).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ChangeForm {
    /// `alt`, `primary` or `delete`.
    #[serde(default)]
    intent: String,
    #[serde(default)]
    alt: String,
}

async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((sku, id)): Path<(String, String)>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, WebError> {
    let (db, now, actor) = (&state.db, state.now(), ctx.actor());
    let (result, notice) = match f.intent.as_str() {
        "primary" => {
            let change = ImageChange { primary: Some(true), ..Default::default() };
            (service::update(db, now, &actor, &sku, &id, change).await, "image_primary")
        }
        "delete" => (service::delete(db, state.image_dir.as_ref(), now, &actor, &sku, &id).await, "image_deleted"),
        "alt" => {
            let change = ImageChange { alt: Some(f.alt.clone()), ..Default::default() };
            (service::update(db, now, &actor, &sku, &id, change).await, "image_saved")
        }
        _ => return Err(WebError::BadRequest("Choose what to do with the image.".into())),
    };
    match result {
        Ok(_) => Ok(back_to(&sku, notice)),
        Err(e) => {
            let refusal = Refusal::of("image", e, "alt")?;
            product_page(&state, &ctx, &sku, None, Typed::ImageAlt { id, alt: f.alt }, refusal).await
        }
    }
}
