//! Product images (issue 17): staff who manage the catalog (`ManageCatalog`: admins today; tokens
//! with `catalog:write`) upload them — several at once — choose the primary, set alt text and delete
//! them; whoever may see a product may see its images. The rules are
//! `domain::product_images`. The files live where every app node reads them: in the database
//! (`store::product_images`), or, when `PORTICO_IMAGE_DIR` is set, in that directory
//! (`store::image_dir`, a mount every node sees) with their row in the database saying so. Each
//! row says where its own bytes are, so images kept before the setting changed keep serving.
//!
//! With a directory, an upload writes the files (durably) *before* the unit of work that names
//! them commits, so a committed row never names a missing file; an identical upload names the
//! files already kept and writes none. A deletion removes the files after its commit (a failure
//! is logged: an orphan file is harmless, a row naming a missing file would not be).
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
use crate::store::image_dir::ImageDir;
use crate::store::product_images::Content;
pub use crate::store::product_images::ImageRow;
use crate::store::products::{self, ProductRow};
use crate::store::{Db, catalogs, new_id, product_images as store};
use serde_json::json;
use std::collections::BTreeMap;

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
/// first image of a product becomes its primary. Audited (`product.images_added`). With an image
/// directory the files go there (see the module doc), else into the database.
pub async fn upload(
    db: &Db,
    image_dir: Option<&ImageDir>,
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
    let batch = Batch { sku: product.sku.clone(), prepared, ids, alt };
    let Some(dir) = image_dir else {
        add_images(db, now, actor, batch, Files::Database).await?;
        return Ok(store::list(db, &product.id).await?);
    };
    let mut written = BTreeMap::new();
    let outcome = upload_to_dir(db, dir, now, actor, &batch, &mut written).await;
    // The files this upload wrote that no row names: those another upload of the same content
    // recorded first, or all of them when the upload was refused before anything committed (a
    // store error leaves them: the commit's outcome is not known, and an orphan file is harmless).
    let unnamed: Vec<String> = match &outcome {
        Ok(unused) => unused.clone(),
        Err(ServiceError::Store(_)) => Vec::new(),
        Err(_) => written.into_values().collect(),
    };
    for key in unnamed {
        remove_files(dir, &key).await;
    }
    outcome?;
    // Every image of the product: what pages and the API show next.
    Ok(store::list(db, &product.id).await?)
}

/// [`upload`] with an image directory: the files of the contents not kept yet are written (their
/// keys into `written`, by ETag), then the unit names them. Should a kept content's last image be
/// deleted before the unit runs, the unit writes nothing and asks for its files: written, then the
/// unit again. The keys of files written but named by no row.
async fn upload_to_dir(
    db: &Db,
    dir: &ImageDir,
    now: i64,
    actor: &Actor<'_>,
    batch: &Batch,
    written: &mut BTreeMap<String, String>,
) -> ServiceResult<Vec<String>> {
    let mut needed: Vec<String> = Vec::new();
    for image in &batch.prepared {
        if !needed.contains(&image.etag) && !store::file_kept(db, &image.etag).await? {
            needed.push(image.etag.clone());
        }
    }
    for _ in 0..3 {
        for image in &batch.prepared {
            if !needed.contains(&image.etag) || written.contains_key(&image.etag) {
                continue;
            }
            let key = ImageDir::new_key(&image.etag);
            written.insert(image.etag.clone(), key.clone());
            dir.write(&key, image).await.map_err(|e| {
                ServiceError::Internal(format!("writing image {} to {}: {e}", image.etag, dir.root().display()))
            })?;
        }
        let files = Files::Dir(written.clone());
        match add_images(db, now, actor, batch.clone(), files).await? {
            Added::Done { unused } => return Ok(unused),
            Added::FilesNeeded(etags) => needed = etags,
        }
    }
    Err(ServiceError::Conflict("The same image was being deleted at this moment: upload it again.".into()))
}

/// The images of one upload, ready to write: checked and resized, each with its new id.
#[derive(Clone)]
struct Batch {
    sku: String,
    prepared: Vec<PreparedImage>,
    ids: Vec<String>,
    alt: String,
}

/// Where an upload's files are: the database (the unit stores the bytes), or the image
/// directory, with the file key of each content written for this upload (by ETag).
enum Files {
    Database,
    Dir(BTreeMap<String, String>),
}

/// What an upload's unit of work did.
enum Added {
    /// The images are added; files this upload wrote that no row names (their keys).
    Done { unused: Vec<String> },
    /// Nothing was written: these contents have neither a row nor files written for them (their
    /// row went since the upload looked).
    FilesNeeded(Vec<String>),
}

/// Removes files no row names (after a commit): a failure is logged, the files left behind.
async fn remove_files(dir: &ImageDir, key: &str) {
    if let Err(e) = dir.remove(key).await {
        tracing::warn!(error = %e, key, "removing an image's files failed; they are left in the image directory");
    }
}

/// The unit of work of [`upload`]: the images placed on the product, their files recorded.
async fn add_images(db: &Db, now: i64, actor: &Actor<'_>, batch: Batch, files: Files) -> ServiceResult<Added> {
    db.write((now, actor.owned(), batch, files), |tx, (now, actor, batch, files)| {
        let Batch { sku, prepared, ids, alt } = batch;
        Box::pin(async move {
            let product_id = store::lock_product(tx, sku).await?.ok_or(ServiceError::NotFound)?;
            let mut placed: Vec<Placed> = store::list_tx(tx, &product_id)
                .await?
                .into_iter()
                .map(|i| Placed { id: i.id, position: i.position, primary: i.is_primary })
                .collect();
            // Checked again under the lock: two uploads at once cannot pass the limit together.
            check_room(placed.len(), prepared.len()).map_err(|e| ServiceError::invalid("images", e))?;
            if let Files::Dir(written) = files {
                let mut needed = Vec::new();
                for image in prepared.iter().filter(|i| !written.contains_key(&i.etag)) {
                    if !needed.contains(&image.etag) && !store::file_kept_tx(tx, &image.etag).await? {
                        needed.push(image.etag.clone());
                    }
                }
                if !needed.is_empty() {
                    return Ok(Added::FilesNeeded(needed));
                }
            }
            let (mut recorded, mut unused) = (Vec::new(), Vec::new());
            let mut added = Vec::new();
            for (image, id) in prepared.iter().zip(ids) {
                match files {
                    Files::Database => store::put_file(tx, image, *now).await?,
                    // The same content twice in one upload: recorded once.
                    Files::Dir(written) => match written.get(&image.etag) {
                        Some(key) if !recorded.contains(key) => {
                            recorded.push(key.clone());
                            if !store::put_file_in_dir(tx, image, key, *now).await? {
                                unused.push(key.clone());
                            }
                        }
                        _ => {}
                    },
                }
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
            Ok::<Added, ServiceError>(Added::Done { unused })
        })
    })
    .await
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
/// position) becomes primary. Audited (`product.image_deleted`). The last image of a content
/// takes its files along: their row in the unit, the files in the image directory after it.
pub async fn delete(
    db: &Db,
    image_dir: Option<&ImageDir>,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    image_id: &str,
) -> ServiceResult<Vec<ImageRow>> {
    actor.require(Permission::ManageCatalog)?;
    let product = product_by_sku(db, sku).await?;
    let unnamed = db
        .write((now, actor.owned(), product.sku.clone(), image_id.to_string()), |tx, (now, actor, sku, image_id)| {
            Box::pin(async move {
                let product_id = store::lock_product(tx, sku).await?.ok_or(ServiceError::NotFound)?;
                let images = store::list_tx(tx, &product_id).await?;
                let image = images.iter().find(|i| &i.id == image_id).ok_or(ServiceError::NotFound)?;
                let placed: Vec<Placed> = images
                    .iter()
                    .map(|i| Placed { id: i.id.clone(), position: i.position, primary: i.is_primary })
                    .collect();
                let next_primary = rules::primary_after_removal(&placed, image_id);
                let unnamed = store::delete(tx, image_id, &image.etag).await?;
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
                Ok::<Option<String>, ServiceError>(unnamed)
            })
        })
        .await?;
    if let Some(key) = unnamed {
        match image_dir {
            Some(dir) => remove_files(dir, &key).await,
            None => tracing::warn!(
                key,
                "an image's files in the image directory are named by no row now, but PORTICO_IMAGE_DIR is not set: they are left there"
            ),
        }
    }
    Ok(store::list(db, &product.id).await?)
}

/// One rendition of an image, for whoever may see its product (see the module doc); anything
/// else, and nobody signed in, is not found.
pub async fn file(
    db: &Db,
    image_dir: Option<&ImageDir>,
    actor: Option<&Actor<'_>>,
    image_id: &str,
    size: ImageSize,
) -> ServiceResult<ImageFile> {
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
    let stored = store::file(db, &product_id, image_id, size).await?.ok_or(ServiceError::NotFound)?;
    let content = match stored.content {
        Content::Bytes(bytes) => bytes,
        // A row that names files nobody can read is the server's fault: logged, 500.
        Content::InDir(key) => {
            let dir = image_dir.ok_or_else(|| {
                ServiceError::Internal(format!(
                    "image {} is kept in the image directory ({key}) but PORTICO_IMAGE_DIR is not set",
                    stored.etag
                ))
            })?;
            dir.read(&key, size).await.map_err(|e| {
                ServiceError::Internal(format!("image {}'s {} file cannot be read: {e}", stored.etag, size.as_str()))
            })?
        }
    };
    Ok(ImageFile { content_type: stored.content_type, content, etag: stored.etag })
}

/// One rendition's bytes, to serve.
#[derive(Clone, Debug)]
pub struct ImageFile {
    pub content_type: String,
    pub content: Vec<u8>,
    pub etag: String,
}

/// The most images one product may have (for pages and the API's documentation).
pub const MAX_IMAGES: usize = MAX_IMAGES_PER_PRODUCT;
