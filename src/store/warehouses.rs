//! Warehouses as their own aggregate: created and renamed by code (the ERP's key), and listed by
//! what changed since a time. Stock levels and movements stay with [`super::inventory`].

use super::{Db, StoreResult, Tx};
use crate::args;

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct WarehouseRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub sort: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, code, name, sort, created_at, updated_at";

/// Warehouses changed at or after `since`, oldest change first, after the keyset `after`
/// (updated_at, id).
pub async fn changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<WarehouseRow>> {
    super::changed_rows(db, ("warehouses", "w", COLUMNS), None, since, after, limit).await
}

/// Every warehouse, in their sort order (a seller has a handful).
pub async fn all(db: &Db) -> StoreResult<Vec<WarehouseRow>> {
    crate::on_db!(db, |c| sqlx::query_as::<_, WarehouseRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM warehouses ORDER BY sort, code"
    )))
    .fetch_all(c)
    .await)
}

/// The warehouse with this code, locked for the unit that upserts it.
pub async fn by_code_for_update(tx: &mut Tx, code: &str) -> StoreResult<Option<WarehouseRow>> {
    let rows =
        tx.lock::<WarehouseRow>(&format!("SELECT {COLUMNS} FROM warehouses WHERE code = $1"), args![code]).await?;
    Ok(rows.into_iter().next())
}

pub async fn insert(tx: &mut Tx, id: &str, code: &str, name: &str, sort: i64, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO warehouses (id, code, name, sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        args![id, code, name, sort, now],
    )
    .await?;
    Ok(())
}

pub async fn update(tx: &mut Tx, id: &str, name: &str, sort: i64, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE warehouses SET name = $2, sort = $3, updated_at = $4 WHERE id = $1", args![id, name, sort, now])
        .await?;
    Ok(())
}

pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<WarehouseRow>> {
    let rows = tx.lock::<WarehouseRow>(&format!("SELECT {COLUMNS} FROM warehouses WHERE id = $1"), args![id]).await?;
    Ok(rows.into_iter().next())
}
