//! Staff product administration: every product (active or not), its stock per warehouse with a
//! stock adjustment form, and every price that applies to it.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::form::Refusal;
use super::session::Ctx;
use super::shell::Shell;
use crate::service::catalog::ListedProduct;
use crate::service::catalog::{self, StaffProduct};
use crate::service::categories::CategoryRow;
use crate::service::imports::Kind;
use crate::service::inventory;
use crate::service::product_images::ImageRow;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/products", get(list))
        .route("/admin/products/new", get(new_product).post(create_product))
        .route("/admin/products/{sku}", get(detail))
        .route("/admin/products/{sku}/stock", post(adjust))
        .merge(super::product_images::router())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// Only products in this category (and its subcategories).
    category: Option<String>,
    after_name: Option<String>,
    after_id: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_products.html")]
struct ListPage {
    shell: Shell,
    q: String,
    category: Option<CategoryRow>,
    items: Vec<ListedProduct>,
    next_page: Option<String>,
    /// What exists, for the empty state of a seller starting out (`None` when there are products).
    setup: Option<crate::service::setup::SetupCounts>,
    exports: Vec<super::exports::ExportLink>,
}

const PAGE: i64 = 50;

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Html<String>, WebError> {
    let after = match (&q.after_name, &q.after_id) {
        (Some(n), Some(i)) => Some((n.as_str(), i.as_str())),
        _ => None,
    };
    let category_id = q.category.as_deref().filter(|c| !c.is_empty());
    let (mut items, category) =
        catalog::staff_products(&state.db, &ctx.actor(), &q.q, category_id, after, PAGE + 1).await?;
    let next_page = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(|l| {
            serde_urlencoded::to_string([
                ("q", q.q.as_str()),
                ("category", category_id.unwrap_or("")),
                ("after_name", l.product.name.as_str()),
                ("after_id", l.product.id.as_str()),
            ])
            .unwrap_or_default()
        })
    } else {
        None
    };
    let setup = match items.is_empty() && q.q.is_empty() && category.is_none() {
        true => Some(crate::service::setup::counts(&state.db, &ctx.actor()).await?),
        false => None,
    };
    let shell = Shell::new(&ctx, "Products").with_notice(q.notice.as_deref());
    Ok(Html(
        ListPage {
            exports: super::exports::export_links(&ctx.actor(), &[Kind::Products, Kind::Stock]),
            shell,
            q: q.q,
            category,
            items,
            next_page,
            setup,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "admin_product.html")]
struct DetailPage {
    shell: Shell,
    d: StaffProduct,
    /// The admin may set the regulated class (licence rules apply to it).
    can_edit_class: bool,
    /// The stock form as typed (empty as first shown).
    stock: AdjustForm,
    /// The regulated class form's value: as typed when it was refused, else the stored class.
    class_value: String,
    /// The product's images, primary first.
    images: Vec<ImageRow>,
    /// The upload form's alt text as typed (kept when the upload was refused).
    upload_alt: String,
    /// An image whose alt text was refused, and the text as typed.
    typed_alt: Option<(String, String)>,
    /// A refused form of this page (`stock`, `class`, `images` or `image`), shown next to its fields.
    refusal: Refusal,
}

impl DetailPage {
    /// The alt text field's value for an image: as typed when it was refused, else the stored one.
    fn alt_value(&self, image: &ImageRow) -> String {
        match &self.typed_alt {
            Some((id, alt)) if id == &image.id => alt.clone(),
            _ => image.alt.clone(),
        }
    }

    /// The refusal of an image's alt text form, for that image only.
    fn alt_error(&self, image: &ImageRow) -> String {
        match &self.typed_alt {
            Some((id, _)) if id == &image.id => self.refusal.field_of("image", "alt"),
            _ => String::new(),
        }
    }

    fn max_images(&self) -> usize {
        crate::service::product_images::MAX_IMAGES
    }

    fn max_image_mb(&self) -> usize {
        crate::domain::product_images::MAX_IMAGE_BYTES >> 20
    }
}

/// The product page, as first shown or with a refused form (its input kept, its reasons beside
/// the fields, answered 422 or 409).
pub(super) async fn product_page(
    state: &AppState,
    ctx: &Ctx,
    sku: &str,
    notice: Option<&str>,
    typed: Typed,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let d = catalog::staff_product(&state.db, &ctx.actor(), sku).await?;
    let can_edit_class = ctx.session.principal.can(crate::domain::auth::Permission::ManageCatalog);
    let shell = Shell::new(ctx, d.product.name.clone()).with_notice(notice);
    let stored_class = d.product.regulated_class.clone().unwrap_or_default();
    let (mut stock, mut class_value, mut upload_alt, mut typed_alt) =
        (AdjustForm::default(), stored_class, String::new(), None);
    match typed {
        Typed::Stock(f) => stock = f,
        Typed::Class(c) => class_value = c,
        Typed::Upload { alt } => upload_alt = alt,
        Typed::ImageAlt { id, alt } => typed_alt = Some((id, alt)),
        Typed::Nothing => {}
    }
    let images = crate::service::product_images::images(&state.db, &ctx.actor(), sku).await?.images;
    let status = refusal.status();
    let page = DetailPage { shell, d, can_edit_class, stock, class_value, images, upload_alt, typed_alt, refusal };
    Ok((status, Html(page.render()?)).into_response())
}

/// What was typed into one of the product page's forms.
pub(super) enum Typed {
    Nothing,
    Stock(AdjustForm),
    Class(String),
    /// The image upload's alt text.
    Upload {
        alt: String,
    },
    /// One image's alt text.
    ImageAlt {
        id: String,
        alt: String,
    },
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    product_page(&state, &ctx, &sku, q.notice.as_deref(), Typed::Nothing, Refusal::none()).await
}

/// The stock adjustment exactly as typed.
#[derive(Deserialize, Default)]
pub struct AdjustForm {
    #[serde(default)]
    warehouse: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
}

async fn adjust(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    Form(f): Form<AdjustForm>,
) -> Result<Response, WebError> {
    let result = match parse_delta(&f.delta) {
        Ok(delta) => {
            inventory::adjust_stock(&state.db, state.now(), &ctx.actor(), &sku, &f.warehouse, delta, &f.reason)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/products/{}?notice=saved",
            super::session::urlencode(&crate::domain::catalog::Sku::normalize(&sku))
        ))
        .into_response()),
        Err(e) => {
            let refusal = Refusal::of("stock", e, "delta")?;
            product_page(&state, &ctx, &sku, None, Typed::Stock(f), refusal).await
        }
    }
}

/// A stock change typed as a whole number, with or without a sign ("+25", "-3").
fn parse_delta(raw: &str) -> Result<i64, crate::service::ServiceError> {
    raw.trim().trim_start_matches('+').parse().map_err(|_| {
        crate::service::ServiceError::invalid(
            "delta",
            format!("“{raw}” is not a whole number of units (e.g. 25 or -3)."),
        )
    })
}

/// The new-product form exactly as typed, so a refused form comes back with the input.
#[derive(Deserialize, Default)]
pub struct NewProductForm {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    uom: String,
    #[serde(default)]
    pack_size: String,
    #[serde(default)]
    min_qty: String,
    #[serde(default)]
    multiple_qty: String,
    #[serde(default)]
    max_qty: String,
    #[serde(default)]
    backorder: String,
    active: Option<String>,
}

impl NewProductForm {
    /// Parses the numbers, collecting every problem with the service's own.
    fn draft(&self) -> Result<catalog::ProductDraft, crate::service::ServiceError> {
        use super::setup_admin::parse_number;
        let mut problems = Vec::new();
        let mut number =
            |field: &str, label: &str, raw: &str, default: i64| match parse_number(field, label, raw, default) {
                Ok(n) => n,
                Err(crate::service::ServiceError::Invalid(e)) => {
                    problems.extend(e);
                    default
                }
                Err(_) => default,
            };
        let pack_size = number("pack_size", "Pack size", &self.pack_size, 1);
        let min_qty = number("min_qty", "Minimum", &self.min_qty, 1);
        let multiple_qty = number("multiple_qty", "Multiple", &self.multiple_qty, 1);
        let max_qty = Some(number("max_qty", "Maximum", &self.max_qty, 0)).filter(|m| *m != 0);
        if !problems.is_empty() {
            return Err(crate::service::ServiceError::Invalid(problems));
        }
        Ok(catalog::ProductDraft {
            sku: self.sku.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            category: Some(self.category.clone()).filter(|c| !c.trim().is_empty()),
            uom: self.uom.clone(),
            pack_size,
            min_qty,
            multiple_qty,
            max_qty,
            image_url: None,
            regulated_class: None,
            active: self.active.is_some(),
            backorder: if self.backorder.is_empty() { "deny".into() } else { self.backorder.clone() },
            external_id: None,
            attributes: Vec::new(),
        })
    }
}

#[derive(Template)]
#[template(path = "admin_product_new.html")]
struct NewProductPage {
    shell: Shell,
    f: NewProductForm,
    errors: Vec<crate::service::FieldError>,
    /// Category paths, in tree order.
    categories: Vec<super::categories_admin::Row>,
    warehouses: usize,
}

impl NewProductPage {
    fn error(&self, field: &str) -> String {
        super::setup_admin::errors_for(&self.errors, field)
    }
}

async fn new_product_page(
    state: &AppState,
    ctx: &Ctx,
    f: NewProductForm,
    errors: Vec<crate::service::FieldError>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let actor = ctx.actor();
    let categories = crate::service::categories::admin_tree(&state.db, &actor)
        .await?
        .iter()
        .map(super::categories_admin::Row::from)
        .collect();
    let warehouses = crate::service::setup::counts(&state.db, &actor).await?.warehouses as usize;
    let status = super::setup_admin::status_of(&errors);
    let page = NewProductPage { shell: Shell::new(ctx, "New product"), f, errors, categories, warehouses };
    Ok((status, Html(page.render()?)).into_response())
}

async fn new_product(State(state): State<AppState>, ctx: Ctx) -> Result<axum::response::Response, WebError> {
    let f = NewProductForm {
        uom: "EA".into(),
        pack_size: "1".into(),
        min_qty: "1".into(),
        multiple_qty: "1".into(),
        backorder: "deny".into(),
        active: Some("1".into()),
        ..Default::default()
    };
    new_product_page(&state, &ctx, f, Vec::new()).await
}

async fn create_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<NewProductForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let result = match f.draft() {
        Ok(d) => catalog::create_product(&state.db, state.now(), &ctx.actor(), &d).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => {
            let to = format!("/admin/products/{}?notice=product_created", super::session::urlencode(&p.sku));
            Ok(Redirect::to(&to).into_response())
        }
        Err(crate::service::ServiceError::Invalid(errors)) => new_product_page(&state, &ctx, f, errors).await,
        Err(e) => Err(e.into()),
    }
}
