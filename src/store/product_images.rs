//! Product images (migration 0040): `image_files` keeps each distinct image's files once, keyed by
//! its ETag; `product_images` places them on products. The primary image's id and alt text are
//! copied onto `products` ([`sync_product`]) in the same transaction as every change.
//!
//! A row's bytes are in the row ([`put_file`]) or in the image directory ([`put_file_in_dir`],
//! [`super::image_dir`]) under the row's file key (migration 0043); [`file`] says which.

use super::{Cell, Db, StoreResult, Tx, bulk_insert};
use crate::domain::product_images::{ImageSize, PreparedImage};
use crate::{args, on_db};

/// An image of a product, without its bytes.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct ImageRow {
    pub id: String,
    pub product_id: String,
    pub etag: String,
    pub position: i64,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub is_primary: bool,
    pub alt: String,
    pub width: i64,
    pub height: i64,
    /// Bytes of the full image.
    pub size: i64,
    pub created_at: i64,
}

const IMAGE_COLUMNS: &str = "i.id, i.product_id, i.file_etag AS etag, CAST(i.position AS BIGINT) AS position, \
     i.is_primary, i.alt, CAST(f.width AS BIGINT) AS width, CAST(f.height AS BIGINT) AS height, \
     CAST(f.full_size AS BIGINT) AS size, i.created_at \
     FROM product_images i JOIN image_files f ON f.etag = i.file_etag";

/// A product's images, primary first, then by position.
pub async fn list(db: &Db, product_id: &str) -> StoreResult<Vec<ImageRow>> {
    let sql = format!("SELECT {IMAGE_COLUMNS} WHERE i.product_id = $1 ORDER BY i.is_primary DESC, i.position, i.id");
    on_db!(db, |c| sqlx::query_as::<_, ImageRow>(sqlx::AssertSqlSafe(sql.clone())).bind(product_id).fetch_all(c).await)
}

/// [`list`] inside a unit of work.
pub async fn list_tx(tx: &mut Tx, product_id: &str) -> StoreResult<Vec<ImageRow>> {
    let sql = format!("SELECT {IMAGE_COLUMNS} WHERE i.product_id = $1 ORDER BY i.is_primary DESC, i.position, i.id");
    tx.fetch_all(&sql, args![product_id]).await
}

/// One rendition of an image, to serve: its bytes, or where they are.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub content_type: String,
    pub etag: String,
    pub content: Content,
}

/// Where a rendition's bytes are.
#[derive(Clone, Debug)]
pub enum Content {
    /// In the database: the bytes.
    Bytes(Vec<u8>),
    /// In the image directory, under this file key.
    InDir(String),
}

#[derive(sqlx::FromRow)]
struct FileRow {
    content_type: String,
    content: Vec<u8>,
    etag: String,
    stored_in: String,
    file_key: Option<String>,
}

/// A rendition of an image of this product (none for another product's image).
pub async fn file(db: &Db, product_id: &str, image_id: &str, size: ImageSize) -> StoreResult<Option<StoredFile>> {
    // The column is chosen from three fixed names, never from input.
    let column = match size {
        ImageSize::Thumb => "f.thumb",
        ImageSize::Medium => "f.medium",
        ImageSize::Full => "f.full_content",
    };
    let sql = format!(
        "SELECT f.content_type, {column} AS content, f.etag, f.stored_in, f.file_key FROM product_images i \
         JOIN image_files f ON f.etag = i.file_etag WHERE i.id = $1 AND i.product_id = $2"
    );
    let row = on_db!(db, |c| sqlx::query_as::<_, FileRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(image_id)
        .bind(product_id)
        .fetch_optional(c)
        .await)?;
    let Some(row) = row else { return Ok(None) };
    let content = match (row.stored_in.as_str(), row.file_key) {
        ("db", _) => Content::Bytes(row.content),
        ("dir", Some(key)) => Content::InDir(key),
        (other, _) => {
            // The table's CHECKs allow neither; said plainly if a hand-made row does.
            return Err(sqlx::Error::Protocol(format!(
                "image file {}: stored_in {other:?} without a file key",
                row.etag
            )));
        }
    };
    Ok(Some(StoredFile { content_type: row.content_type, etag: row.etag, content }))
}

/// Whether an image's files are kept already (an identical upload shares them).
pub async fn file_kept(db: &Db, etag: &str) -> StoreResult<bool> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>("SELECT etag FROM image_files WHERE etag = $1")
        .bind(etag)
        .fetch_optional(c)
        .await)
    .map(|r| r.is_some())
}

/// [`file_kept`] inside a unit of work.
pub async fn file_kept_tx(tx: &mut Tx, etag: &str) -> StoreResult<bool> {
    Ok(tx.fetch_optional::<String>("SELECT etag FROM image_files WHERE etag = $1", args![etag]).await?.is_some())
}

/// The product an image belongs to.
pub async fn product_of(db: &Db, image_id: &str) -> StoreResult<Option<String>> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>("SELECT product_id FROM product_images WHERE id = $1")
        .bind(image_id)
        .fetch_optional(c)
        .await)
}

/// Locks a product (by SKU) for a change to its images, so two uploads at once cannot both make
/// the first primary or pass the limit together; its id.
pub async fn lock_product(tx: &mut Tx, sku: &str) -> StoreResult<Option<String>> {
    Ok(tx.lock::<String>("SELECT id FROM products WHERE sku = $1", args![sku]).await?.into_iter().next())
}

/// Keeps an image's files in the database (once per content: an identical upload shares them).
pub async fn put_file(tx: &mut Tx, image: &PreparedImage, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO image_files (etag, content_type, full_content, width, height, medium, thumb, created_at, stored_in, full_size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'db', $9) ON CONFLICT (etag) DO NOTHING",
        vec![
            Cell::text(&image.etag),
            Cell::text(PreparedImage::CONTENT_TYPE),
            Cell::Bytes(image.full.clone()),
            Cell::Int(i64::from(image.width)),
            Cell::Int(i64::from(image.height)),
            Cell::Bytes(image.medium.clone()),
            Cell::Bytes(image.thumb.clone()),
            Cell::Int(now),
            Cell::Int(image.full.len() as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Records an image whose files were written to the image directory under `key`; false when
/// the content is kept already (the row there keeps its own files, and `key`'s are named by none).
pub async fn put_file_in_dir(tx: &mut Tx, image: &PreparedImage, key: &str, now: i64) -> StoreResult<bool> {
    let inserted = tx
        .execute(
            "INSERT INTO image_files (etag, content_type, full_content, width, height, medium, thumb, created_at, stored_in, file_key, full_size)
             VALUES ($1, $2, $3, $4, $5, $3, $3, $6, 'dir', $7, $8) ON CONFLICT (etag) DO NOTHING",
            vec![
                Cell::text(&image.etag),
                Cell::text(PreparedImage::CONTENT_TYPE),
                Cell::Bytes(Vec::new()),
                Cell::Int(i64::from(image.width)),
                Cell::Int(i64::from(image.height)),
                Cell::Int(now),
                Cell::text(key),
                Cell::Int(image.full.len() as i64),
            ],
        )
        .await?;
    Ok(inserted == 1)
}

/// A new image row (after [`put_file`] and, when it is primary, [`clear_primary`]).
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    product_id: &str,
    etag: &str,
    primary: bool,
    alt: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO product_images (id, product_id, file_etag, position, is_primary, alt, created_at)
         VALUES ($1, $2, $3, COALESCE((SELECT MAX(position) FROM product_images WHERE product_id = $2), 0) + 1, $4, $5, $6)",
        args![id, product_id, etag, primary, alt, now],
    )
    .await?;
    Ok(())
}

/// No image of the product is primary (before another is made primary: one at most, by index).
pub async fn clear_primary(tx: &mut Tx, product_id: &str) -> StoreResult<()> {
    tx.execute("UPDATE product_images SET is_primary = FALSE WHERE product_id = $1 AND is_primary", args![product_id])
        .await?;
    Ok(())
}

pub async fn make_primary(tx: &mut Tx, image_id: &str) -> StoreResult<()> {
    tx.execute("UPDATE product_images SET is_primary = TRUE WHERE id = $1", args![image_id]).await?;
    Ok(())
}

pub async fn set_alt(tx: &mut Tx, image_id: &str, alt: &str) -> StoreResult<()> {
    tx.execute("UPDATE product_images SET alt = $2 WHERE id = $1", args![image_id, alt]).await?;
    Ok(())
}

/// Removes an image, and its files' row when no other image shows them. The file key of files
/// in the image directory that no row names any more (to remove once this commits).
pub async fn delete(tx: &mut Tx, image_id: &str, etag: &str) -> StoreResult<Option<String>> {
    tx.execute("DELETE FROM product_images WHERE id = $1", args![image_id]).await?;
    let removed: Option<Option<String>> = tx
        .fetch_optional(
            "DELETE FROM image_files WHERE etag = $1 AND NOT EXISTS (SELECT 1 FROM product_images WHERE file_etag = $1)
             RETURNING file_key",
            args![etag],
        )
        .await?;
    Ok(removed.flatten())
}

/// Copies the primary image's id and alt text onto the product (what lists show).
pub async fn sync_product(tx: &mut Tx, product_id: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE products SET
             image_id = (SELECT id FROM product_images WHERE product_id = $1 AND is_primary),
             image_alt = (SELECT alt FROM product_images WHERE product_id = $1 AND is_primary)
         WHERE id = $1",
        args![product_id],
    )
    .await?;
    Ok(())
}

/// Places stored files on many products at once, each as the product's primary image (the
/// demo's seeding: products that have no image yet); then [`sync_unset_products`]. `rows` are
/// (image id, product id, etag, alt).
pub async fn insert_primaries(tx: &mut Tx, rows: &[(String, String, String, String)], now: i64) -> StoreResult<()> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(id, product_id, etag, alt)| {
            vec![
                Cell::text(id),
                Cell::text(product_id),
                Cell::text(etag),
                Cell::Int(1),
                Cell::Bool(true),
                Cell::text(alt),
                Cell::Int(now),
            ]
        })
        .collect();
    bulk_insert(
        tx,
        "product_images",
        &["id", "product_id", "file_etag", "position", "is_primary", "alt", "created_at"],
        &cells,
    )
    .await
}

/// [`sync_product`] for every product that has images but names no primary yet (after
/// [`insert_primaries`]).
pub async fn sync_unset_products(tx: &mut Tx) -> StoreResult<()> {
    tx.execute(
        "UPDATE products SET
             image_id = (SELECT i.id FROM product_images i WHERE i.product_id = products.id AND i.is_primary),
             image_alt = (SELECT i.alt FROM product_images i WHERE i.product_id = products.id AND i.is_primary)
         WHERE image_id IS NULL AND id IN (SELECT product_id FROM product_images)",
        Vec::new(),
    )
    .await?;
    Ok(())
}
