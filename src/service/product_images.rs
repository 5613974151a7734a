//! Product images (issue 17): staff who manage the catalog (`ManageCatalog`: admins today; tokens
//! with `catalog:write`) upload them — several at once — choose the primary, set alt text and delete
//! them; whoever may see a product may see its images. The rules are
//! `domain::product_images`; the files live in the database (`store::product_images`), so every
//! app node serves them.
//!
//! Who sees an image: staff (they see every product, in the admin and when viewing as an
//! account); a buyer only the images of products in their account's catalog — any other image,
//! like any other product, does not exist for them (404), so an image of a product hidden from an
//! account does not leak through its URL. Nobody signed out sees any.

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::product_images::{
    self as rules, ImageRef, ImageSize, MAX_IMAGES_PER_PRODUCT, Placed, PreparedImage, check_alt, check_room,
};
pub use crate::store::product_images::{ImageFile, ImageRow};
use crate::store::products::{self, ProductRow};
use crate::store::{Db, catalogs, new_id, product_images as store};
use serde_json::json;

impl ImageRow {
    /// How pages link this image.
    pub fn link(&self, product_name: &str) -> ImageRef {
        ImageRef {
            id: self.id.clone(),
            alt: if self.alt.trim().is_empty() { product_name.to_string() } else { self.alt.clone() },
        }
    }
}

/// A product and its images (primary first).
pub struct ProductImages {
    pub product: ProductRow,
    pub images: Vec<ImageRow>,
}

async fn product_by_sku(db: &Db, sku: &str) -> ServiceResult<ProductRow> {
    let sku = super::catalog::named_sku(sku)?;
    products::get_by_sku(db, &sku).await?.ok_or(ServiceError::NotFound)
}

/// A product's images, for staff who manage or read the catalog.
pub async fn images(db: &Db, actor: &Actor<'_>, sku: &str) -> ServiceResult<ProductImages> {
    actor.require(Permission::ReadCatalog)?;
    let product = product_by_sku(db, sku).await?;
    let images = store::list(db, &product.id).await?;
    Ok(ProductImages { product, images })
}

/// One uploaded file: its name (for messages, may be empty) and bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Adds images to a product (catalog managers): each file checked and resized before anything is
/// written; any bad file refuses them all, each problem naming its file (field `images`). The
/// first image of a product becomes its primary. Audited (`product.images_added`).
pub async fn upload(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    files: Vec<Upload>,
    alt: &str,
) -> ServiceResult<Vec<ImageRow>> {
    actor.require(Permission::ManageCatalog)?;
    let product = product_by_sku(db, sku).await?;
    let mut problems = Vec::new();
    let alt = check_alt(alt).unwrap_or_else(|e| {
        problems.push(("alt".to_string(), e));
        String::new()
    });
    if files.is_empty() {
        problems.push(("images".to_string(), "Choose one or more image files (PNG, JPEG or WebP).".to_string()));
    }
    let existing = store::list(db, &product.id).await?.len();
    if let Err(e) = check_room(existing, files.len()) {
        problems.push(("images".to_string(), e));
    }
    ServiceError::from_problems(problems)?;
    // Decoding and resizing take a while for a large photo: off the async threads.
    let several = files.len() > 1;
    let prepared = tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|f| {
                rules::prepare_image(&f.bytes).map_err(|e| match (several, f.name.trim()) {
                    (true, name) if !name.is_empty() => format!("{name}: {e}"),
                    _ => e,
                })
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("resizing an image failed: {e}")))?;
    let problems: Vec<(String, String)> =
        prepared.iter().filter_map(|r| r.as_ref().err()).map(|e| ("images".to_string(), e.clone())).collect();
    ServiceError::from_problems(problems)?;
    let prepared: Vec<PreparedImage> = prepared.into_iter().filter_map(Result::ok).collect();
    let ids: Vec<String> = prepared.iter().map(|_| new_id()).collect();
    let sku = product.sku.clone();
    db.write((now, actor.owned(), sku, prepared, ids, alt), |tx, (now, actor, sku, prepared, ids, alt)| {
        Box::pin(async move {
            let product_id = store::lock_product(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            let mut placed: Vec<Placed> = store::list_tx(tx, &product_id)
                .await?
                .into_iter()
                .map(|i| Placed { id: i.id, position: i.position, primary: i.is_primary })
                .collect();
            // Checked again under the lock: two uploads at once cannot pass the limit together.
            check_room(placed.len(), prepared.len()).map_err(|e| ServiceError::invalid("images", e))?;
            let mut added = Vec::new();
            for (image, id) in prepared.iter().zip(ids) {
                store::put_file(tx, image, *now).await?;
                let primary = rules::new_is_primary(&placed, false);
                if primary {
                    store::clear_primary(tx, &product_id).await?;
                }
                store::insert(tx, id, &product_id, &image.etag, primary, alt, *now).await?;
                placed.push(Placed { id: id.clone(), position: i64::MAX, primary });
                added.push(json!({"id": id, "etag": image.etag, "width": image.width, "height": image.height, "primary": primary}));
            }
            store::sync_product(tx, &product_id).await?;
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "product.images_added",
                ("product", sku.as_str()),
                None,
                Some(json!({"images": added, "alt": alt})),
            )
            .await?;
            Ok::<(), ServiceError>(())
        })
    })
    .await?;
    // Every image of the product: what pages and the API show next.
    Ok(store::list(db, &product.id).await?)
}

/// A change to one image: its alt text and whether it becomes the primary.
#[derive(Clone, Debug, Default)]
pub struct ImageChange {
    pub alt: Option<String>,
    /// `Some(true)` makes it the primary; `Some(false)` is refused (choose another primary
    /// instead: a product with images always has one).
    pub primary: Option<bool>,
}

/// Changes an image of a product (catalog managers); another product's image is not found.
/// Audited (`product.image_updated`).
pub async fn update(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    image_id: &str,
    change: ImageChange,
) -> ServiceResult<Vec<ImageRow>> {
    actor.require(Permission::ManageCatalog)?;
    let product = product_by_sku(db, sku).await?;
    let alt = match change.alt.as_deref().map(check_alt) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => return Err(ServiceError::invalid("alt", e)),
    };
    if change.primary == Some(false) {
        return Err(ServiceError::invalid(
            "primary",
            "A product with images always has a primary one: make another image primary instead.",
        ));
    }
    let primary = change.primary == Some(true);
    let input = (now, actor.owned(), product.sku.clone(), image_id.to_string(), alt, primary);
    db.write(input, |tx, (now, actor, sku, image_id, alt, primary)| {
        Box::pin(async move {
            let product_id = store::lock_product(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            let images = store::list_tx(tx, &product_id).await?;
            let image = images.iter().find(|i| &i.id == image_id).ok_or(ServiceError::NotFound)?;
            let before = json!({"alt": image.alt, "primary": image.is_primary});
            if let Some(alt) = alt {
                store::set_alt(tx, image_id, alt).await?;
            }
            if *primary && !image.is_primary {
                store::clear_primary(tx, &product_id).await?;
                store::make_primary(tx, image_id).await?;
            }
            store::sync_product(tx, &product_id).await?;
            let after = json!({"alt": alt.as_ref().unwrap_or(&image.alt), "primary": *primary || image.is_primary});
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "product.image_updated",
                ("product_image", image_id.as_str()),
                Some(before),
                Some(json!({"product": sku, "image": after})),
            )
            .await?;
            Ok::<(), ServiceError>(())
        })
    })
    .await?;
    Ok(store::list(db, &product.id).await?)
}

/// Deletes an image of a product (catalog managers); when it was the primary, the next image (by
/// position) becomes primary. Audited (`product.image_deleted`).
pub async fn delete(db: &Db, now: i64, actor: &Actor<'_>, sku: &str, image_id: &str) -> ServiceResult<Vec<ImageRow>> {
    actor.require(Permission::ManageCatalog)?;
    let product = product_by_sku(db, sku).await?;
    db.write((now, actor.owned(), product.sku.clone(), image_id.to_string()), |tx, (now, actor, sku, image_id)| {
        Box::pin(async move {
            let product_id = store::lock_product(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            let images = store::list_tx(tx, &product_id).await?;
            let image = images.iter().find(|i| &i.id == image_id).ok_or(ServiceError::NotFound)?;
            let placed: Vec<Placed> = images
                .iter()
                .map(|i| Placed { id: i.id.clone(), position: i.position, primary: i.is_primary })
                .collect();
            let next_primary = rules::primary_after_removal(&placed, image_id);
            store::delete(tx, image_id, &image.etag).await?;
            if image.is_primary
                && let Some(next) = &next_primary
            {
                store::make_primary(tx, next).await?;
            }
            store::sync_product(tx, &product_id).await?;
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "product.image_deleted",
                ("product_image", image_id.as_str()),
                Some(json!({"product": sku, "etag": image.etag, "alt": image.alt, "primary": image.is_primary})),
                Some(json!({"primary": next_primary})),
            )
            .await?;
            Ok::<(), ServiceError>(())
        })
    })
    .await?;
    Ok(store::list(db, &product.id).await?)
}

/// One rendition of an image, for whoever may see its product (see the module doc); anything
/// else, and nobody signed in, is not found.
pub async fn file(db: &Db, actor: Option<&Actor<'_>>, image_id: &str, size: ImageSize) -> ServiceResult<ImageFile> {
    let actor = actor.ok_or(ServiceError::NotFound)?;
    let product_id = store::product_of(db, image_id).await?.ok_or(ServiceError::NotFound)?;
    let p = actor.principal;
    let allowed = if p.is_staff() {
        p.can(Permission::StaffArea)
    } else if let Some(account) = p.buyer_account() {
        p.can(Permission::PortalView) && catalogs::visible_to_account(db, &product_id, account).await?
    } else {
        false
    };
    if !allowed {
        return Err(ServiceError::NotFound);
    }
    store::file(db, &product_id, image_id, size).await?.ok_or(ServiceError::NotFound)
}

/// The most images one product may have (for pages and the API's documentation).
pub const MAX_IMAGES: usize = MAX_IMAGES_PER_PRODUCT;
