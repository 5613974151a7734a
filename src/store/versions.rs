//! Versions of cached data. `cache_versions.catalog` is bumped by triggers on every write to the
//! tables a catalog page shows apart from stock (products, categories, search terms, customer
//! catalogs, price lists, contracts, accounts: see migration 0013), in the writing transaction
//! itself. An in-process cache that reads it before it reads the data it caches, and keeps each
//! entry under the version it read, never serves data older than the last commit on any node.

use super::{Db, StoreResult};

/// The current catalog version (one small read: on SQLite on the caller's thread).
pub async fn catalog(db: &Db) -> StoreResult<i64> {
    let v = db.read_text("SELECT CAST(version AS TEXT) FROM cache_versions WHERE name = 'catalog'", &[]).await?;
    v.and_then(|v| v.parse().ok()).ok_or(sqlx::Error::RowNotFound)
}
