//! Product images over the API (issue 17): list a product's images (`catalog:read`), upload one
//! as the request body, change its alt text or make it the primary, delete it (`catalog:write`),
//! as the admin's product page does.

use super::input::{reference, typed_body};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::product_images::{ImageRef, ImageSize, MAX_IMAGE_BYTES};
use crate::service::Actor;
use crate::service::product_images::{self as service, ImageChange, ImageRow, Upload};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/products/{sku}/images",
            get(list_images).post(upload_image).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES)),
        )
        .route("/api/v1/products/{sku}/images/{id}", patch(update_image).delete(delete_image))
}

/// Where an image's renditions are served (to signed-in users who may see the product; the URL
/// never changes its bytes, so it may be cached for good).
#[derive(Serialize, ToSchema)]
pub struct ImageUrlsOut {
    /// 160×160 pixels, JPEG, on white.
    thumb: String,
    /// 480×480 pixels, JPEG, on white.
    medium: String,
    /// The full image, JPEG, at most 1600 pixels a side.
    full: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImageOut {
    id: String,
    /// Exactly one image of a product with images is primary: lists show it.
    primary: bool,
    /// The order images were added in (1 first).
    position: i64,
    /// Empty: pages use the product's name.
    alt: String,
    /// Of the full image, in pixels.
    width: i64,
    height: i64,
    /// Bytes of the full image.
    size: i64,
    /// A hash of the full image: identical uploads have the same one.
    etag: String,
    created_at: i64,
    urls: ImageUrlsOut,
}

#[derive(Serialize, ToSchema)]
pub struct ImageList {
    sku: String,
    /// Primary first, then in the order they were added.
    images: Vec<ImageOut>,
}

fn image_list(sku: String, images: Vec<ImageRow>) -> ImageList {
    let images = images
        .into_iter()
        .map(|i| {
            let link = ImageRef { id: i.id.clone(), alt: i.alt.clone() };
            ImageOut {
                urls: ImageUrlsOut {
                    thumb: link.url(ImageSize::Thumb),
                    medium: link.url(ImageSize::Medium),
                    full: link.url(ImageSize::Full),
                },
                id: i.id,
                primary: i.is_primary,
                position: i.position,
                alt: i.alt,
                width: i.width,
                height: i.height,
                size: i.size,
                etag: i.etag,
                created_at: i.created_at,
            }
        })
        .collect();
    ImageList { sku, images }
}

fn actor(caller: &ApiCaller) -> Actor<'_> {
    Actor::api(&caller.0)
}

/// A product's images.
#[utoipa::path(get, path = "/api/v1/products/{sku}/images", params(("sku" = String, Path)), responses(
    (status = 200, body = ImageList), (status = 404, description = "no product with this SKU", body = super::Problem)
), security(("bearer" = ["catalog:read"])), tag = "catalog")]
pub async fn list_images(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<ImageList>, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let ApiPath(sku) = path?;
    reference(&sku)?;
    let p = service::images(&state.db, &actor(&caller), &sku).await?;
    Ok(Json(image_list(p.product.sku, p.images)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// What the image shows, for people who cannot see it (default: the product's name is used).
    #[param(max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub alt: Option<String>,
}

/// Adds an image to a product: the file is the body (PNG, JPEG or WebP, at most 5 MB, at most
/// 8192 pixels a side; SVG is refused). It is re-encoded (no metadata survives) and resized on the
/// server; the first image of a product becomes its primary. A product has at most 12 images.
/// Audited.
#[utoipa::path(post, path = "/api/v1/products/{sku}/images", params(("sku" = String, Path), UploadParams),
    request_body(content(
        (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp")
    ), description = "The image file, at most 5 MB."),
    responses(
    (status = 201, body = ImageList, description = "added: every image of the product"),
    (status = 404, description = "no product with this SKU", body = super::Problem),
    (status = 413, description = "the file is larger than 5 MB", body = super::Problem),
    (status = 415, description = "the body is not image/png, image/jpeg or image/webp", body = super::Problem),
    (status = 422, description = "not a readable PNG, JPEG or WebP (damaged, empty, an SVG), too many pixels, bad alt text, or the product has 12 images already; nothing changed", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn upload_image(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<UploadParams>, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImageList>), ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiPath(sku) = path?;
    reference(&sku)?;
    let ApiQuery(q) = query?;
    let (bytes, _) = typed_body(
        &headers,
        body,
        &["image/png", "image/jpeg", "image/webp"],
        "Send the image as image/png, image/jpeg or image/webp (SVG is not accepted).",
        "5 MB",
    )?;
    let files = vec![Upload { name: String::new(), bytes: bytes.to_vec() }];
    let alt = q.alt.unwrap_or_default();
    let images =
        service::upload(&state.db, state.image_dir.as_ref(), state.now(), &actor(&caller), &sku, files, &alt).await?;
    let sku = crate::domain::catalog::Sku::normalize(&sku);
    Ok((StatusCode::CREATED, Json(image_list(sku, images))))
}

/// A change to an image; an absent field keeps what is stored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    /// What the image shows (empty: the product's name is used).
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    #[serde(default)]
    alt: Option<String>,
    /// `true` makes this image the primary (the previous one stops being it); absent or null keeps
    /// it as it is. `false` is refused (422): a product with images always has a primary; make
    /// another image primary instead.
    #[serde(default)]
    #[schema(schema_with = only_true)]
    primary: Option<bool>,
}

/// `true` or null: the only values `primary` takes.
fn only_true() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
        .enum_values(Some([serde_json::Value::Bool(true), serde_json::Value::Null]))
        .build()
}

/// Changes an image's alt text, or makes it the primary. Audited.
#[utoipa::path(patch, path = "/api/v1/products/{sku}/images/{id}", params(("sku" = String, Path), ("id" = String, Path)),
    request_body = ImagePatch, responses(
    (status = 200, body = ImageList, description = "changed: every image of the product"),
    (status = 404, description = "no product with this SKU, or no image with this id on it", body = super::Problem),
    (status = 422, description = "bad alt text, or primary: false; nothing changed", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn update_image(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<ImagePatch>, ApiError>,
) -> Result<Json<ImageList>, ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiPath((sku, id)) = path?;
    reference(&sku)?;
    reference(&id)?;
    let ApiJson(b) = body?;
    let change = ImageChange { alt: b.alt, primary: b.primary };
    let images = service::update(&state.db, state.now(), &actor(&caller), &sku, &id, change).await?;
    Ok(Json(image_list(crate::domain::catalog::Sku::normalize(&sku), images)))
}

/// Deletes an image; when it was the primary, the next image becomes primary. Audited.
#[utoipa::path(delete, path = "/api/v1/products/{sku}/images/{id}", params(("sku" = String, Path), ("id" = String, Path)),
    responses(
    (status = 200, body = ImageList, description = "deleted: the images left"),
    (status = 404, description = "no product with this SKU, or no image with this id on it", body = super::Problem)
), security(("bearer" = ["catalog:write"])), tag = "catalog")]
pub async fn delete_image(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Json<ImageList>, ApiError> {
    caller.require(Scope::CatalogWrite)?;
    let ApiPath((sku, id)) = path?;
    reference(&sku)?;
    reference(&id)?;
    let images = service::delete(&state.db, state.image_dir.as_ref(), state.now(), &actor(&caller), &sku, &id).await?;
    Ok(Json(image_list(crate::domain::catalog::Sku::normalize(&sku), images)))
}
