//! The seller's brand over the API (issue 17): read it (`company:read`), change the name and
//! accent colour, upload or remove the logo (`company:write`), as the admin's "Your company" does.

use super::input::Checks;
use super::{ApiCaller, ApiError, ApiJson};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::branding::MAX_LOGO_BYTES;
use crate::service::Actor;
use crate::service::branding::{self as service, CompanyChange, CompanySettings, LogoChange};
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/company/branding", get(get_branding).put(put_branding))
        .route("/api/v1/company/logo", put(put_logo).delete(delete_logo))
}

#[derive(Serialize, ToSchema)]
pub struct LogoOut {
    /// Where the logo is served (public, cached by this version).
    url: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    content_type: String,
    width: i32,
    height: i32,
    /// Bytes.
    size: i64,
    etag: String,
    updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BrandingOut {
    /// The seller's name (empty when not set: pages then show "Portico").
    name: String,
    /// `#rrggbb`; null for Portico's own colours.
    accent: Option<String>,
    /// Null when there is no logo.
    logo: Option<LogoOut>,
    /// The IANA name of the seller's time zone: pages show times in it to users who chose none.
    time_zone: String,
}

fn branding_out(s: CompanySettings) -> BrandingOut {
    BrandingOut {
        time_zone: s.time_zone.name().to_string(),
        name: s.name,
        accent: s.accent.map(|a| a.hex()),
        logo: s.logo.map(|l| LogoOut {
            url: format!("/brand/logo?v={}", l.etag),
            content_type: l.content_type,
            width: l.width,
            height: l.height,
            size: l.size,
            etag: l.etag,
            updated_at: l.updated_at,
        }),
    }
}

/// The seller's brand: name, accent colour and logo.
#[utoipa::path(get, path = "/api/v1/company/branding", responses((status = 200, body = BrandingOut)),
    security(("bearer" = ["company:read"])), tag = "company")]
pub async fn get_branding(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<BrandingOut>, ApiError> {
    caller.require(Scope::CompanyRead)?;
    Ok(Json(branding_out(service::settings(&state.db, &Actor::api(&caller.0)).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingIn {
    /// The seller's name, on every page, invoice and mail.
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// `#rrggbb`, dark enough for white text (contrast at least 4.5:1 with white and with the page's
    /// #f5f6f8); null or absent for Portico's own colours.
    #[serde(default)]
    #[schema(pattern = r"^#[0-9a-fA-F]{6}$")]
    accent: Option<String>,
    /// The IANA name of the seller's time zone (e.g. `America/Chicago`): pages show times in it to
    /// users who chose none. Absent or null: kept as it is.
    #[serde(default)]
    #[schema(schema_with = zone_schema)]
    time_zone: Option<String>,
}

/// A time zone: one of the IANA names Portico knows, or null (kept as it is).
fn zone_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let names = crate::domain::time_zone::names().into_iter().map(serde_json::Value::from);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(names.chain([serde_json::Value::Null])))
        .build()
}

/// Sets the seller's name, accent colour and (when given) time zone; the address and logo are
/// kept. Audited.
#[utoipa::path(put, path = "/api/v1/company/branding", request_body = BrandingIn,
    responses((status = 200, body = BrandingOut, description = "saved"),
    (status = 422, description = "every bad field, e.g. a name of spaces only or an accent too light for white text; nothing changed", body = super::Problem)),
    security(("bearer" = ["company:write"])), tag = "company")]
pub async fn put_branding(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<BrandingIn>, ApiError>,
) -> Result<Json<BrandingOut>, ApiError> {
    caller.require(Scope::CompanyWrite)?;
    let ApiJson(b) = body?;
    Checks::default().chars("name", &b.name, 1, 200).line("name", &b.name).done()?;
    // Exactly the schema's pattern: null clears the accent, an empty or padded text is refused.
    if let Some(a) = &b.accent
        && !(a.len() == 7 && a.starts_with('#') && a[1..].bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(crate::service::ServiceError::invalid(
            "accent",
            "Give the accent as # and six hex digits, e.g. #1d5fd1, or null.",
        )
        .into());
    }
    let change = CompanyChange {
        name: Some(b.name),
        accent: Some(b.accent.unwrap_or_default()),
        time_zone: b.time_zone,
        ..Default::default()
    };
    Ok(Json(branding_out(service::change(&state.db, state.now(), &Actor::api(&caller.0), &change).await?)))
}

/// The longest base64 text of a logo of [`MAX_LOGO_BYTES`].
const MAX_LOGO_BASE64: usize = MAX_LOGO_BYTES.div_ceil(3) * 4;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoIn {
    /// The image file, base64 (standard alphabet, padded): PNG, JPEG or WebP, at most 512 KB
    /// (SVG is refused). A logo larger than 480×128 pixels is scaled down into that box.
    #[schema(min_length = 1, max_length = 699052, format = Byte)]
    image_base64: String,
}

/// Uploads the seller's logo, replacing any. Audited.
#[utoipa::path(put, path = "/api/v1/company/logo", request_body = LogoIn,
    responses((status = 200, body = BrandingOut, description = "saved"),
    (status = 422, description = "not base64, not a PNG, JPEG or WebP image (an SVG, a damaged file), or larger than 512 KB; nothing changed", body = super::Problem)),
    security(("bearer" = ["company:write"])), tag = "company")]
pub async fn put_logo(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<ApiJson<LogoIn>, ApiError>,
) -> Result<Json<BrandingOut>, ApiError> {
    caller.require(Scope::CompanyWrite)?;
    let ApiJson(b) = body?;
    Checks::default().chars("image_base64", &b.image_base64, 1, MAX_LOGO_BASE64).done()?;
    let bytes = service::decode_logo(&b.image_base64).map_err(|_| {
        ApiError::from(crate::service::ServiceError::invalid("image_base64", "Not valid base64 (standard alphabet)."))
    })?;
    let change = CompanyChange { logo: LogoChange::Upload(bytes), ..Default::default() };
    Ok(Json(branding_out(service::change(&state.db, state.now(), &Actor::api(&caller.0), &change).await?)))
}

/// Removes the seller's logo (pages then show the name alone); answers the same when there is none.
#[utoipa::path(delete, path = "/api/v1/company/logo", responses((status = 200, body = BrandingOut, description = "removed")),
    security(("bearer" = ["company:write"])), tag = "company")]
pub async fn delete_logo(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<BrandingOut>, ApiError> {
    caller.require(Scope::CompanyWrite)?;
    let change = CompanyChange { logo: LogoChange::Remove, ..Default::default() };
    Ok(Json(branding_out(service::change(&state.db, state.now(), &Actor::api(&caller.0), &change).await?)))
}
