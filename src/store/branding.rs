//! The seller's brand: the accent colour (setting `brand.accent`, empty for none), the name
//! (`seller.name`, shared with invoices) and the logo (`brand_logo`, one row at most).

use super::{Cell, Db, StoreResult, Tx};
use crate::{args, on_db};

/// What every page needs: `accent|etag|time zone|name` in one small read (the name last: it may
/// hold `|`). On a SQLite file it runs on the caller's thread, like the catalog's version check.
const BRAND_SQL: &str = "SELECT COALESCE((SELECT value FROM settings WHERE key = 'brand.accent'), '') || '|' || \
     COALESCE((SELECT etag FROM brand_logo WHERE id = 1), '') || '|' || \
     COALESCE((SELECT value FROM settings WHERE key = 'seller.time_zone'), '') || '|' || \
     COALESCE((SELECT value FROM settings WHERE key = 'seller.name'), '')";

/// What every page shows of the seller, as stored (each empty when unset).
pub struct BrandRow {
    pub accent: String,
    pub logo_etag: String,
    pub time_zone: String,
    pub name: String,
}

pub async fn brand(db: &Db) -> StoreResult<BrandRow> {
    let text = db.read_text(BRAND_SQL, &[]).await?.unwrap_or_default();
    let mut parts = text.splitn(4, '|');
    let mut next = || parts.next().unwrap_or("").to_string();
    Ok(BrandRow { accent: next(), logo_etag: next(), time_zone: next(), name: next() })
}

/// The stored logo, without its bytes.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct LogoInfo {
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub size: i64,
    pub etag: String,
    pub updated_at: i64,
}

/// The stored logo's bytes, to serve.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LogoFile {
    pub content_type: String,
    pub content: Vec<u8>,
    pub etag: String,
}

pub async fn logo_info(db: &Db) -> StoreResult<Option<LogoInfo>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, LogoInfo>(
        "SELECT content_type, width, height, CAST(LENGTH(content) AS BIGINT) AS size, etag, updated_at FROM brand_logo WHERE id = 1"
    )
    .fetch_optional(c)
    .await
    })
}

pub async fn logo_info_tx(tx: &mut Tx) -> StoreResult<Option<LogoInfo>> {
    tx.fetch_optional(
        "SELECT content_type, width, height, CAST(LENGTH(content) AS BIGINT) AS size, etag, updated_at FROM brand_logo WHERE id = 1",
        Vec::new(),
    )
    .await
}

pub async fn logo(db: &Db) -> StoreResult<Option<LogoFile>> {
    on_db!(db, |c| sqlx::query_as::<_, LogoFile>("SELECT content_type, content, etag FROM brand_logo WHERE id = 1")
        .fetch_optional(c)
        .await)
}

pub async fn put_logo(
    tx: &mut Tx,
    content_type: &str,
    content: &[u8],
    (width, height): (u32, u32),
    etag: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute("DELETE FROM brand_logo WHERE id = 1", Vec::new()).await?;
    tx.execute(
        "INSERT INTO brand_logo (id, content_type, content, width, height, etag, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6)",
        vec![
            Cell::text(content_type),
            Cell::Bytes(content.to_vec()),
            Cell::Int(i64::from(width)),
            Cell::Int(i64::from(height)),
            Cell::text(etag),
            Cell::Int(now),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_logo(tx: &mut Tx) -> StoreResult<()> {
    tx.execute("DELETE FROM brand_logo WHERE id = 1", args![]).await?;
    Ok(())
}
