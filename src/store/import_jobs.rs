//! Import jobs started from the staff upload page: status, progress and result, in the database so
//! every app node can show them.

use super::{Db, StoreResult};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportJobRow {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub rows_read: i64,
    pub bytes_read: i64,
    pub bytes_total: i64,
    pub summary: String,
    pub errors_json: String,
    pub error_count: i64,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, file_name, status, rows_read, bytes_read, bytes_total, summary, errors_json, error_count, created_by, created_at, finished_at";

pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub bytes_total: i64,
    pub created_by: &'a str,
}

pub async fn insert(db: &Db, j: &NewJob<'_>, now: i64) -> StoreResult<()> {
    let input =
        (j.id.to_string(), j.kind.to_string(), j.file_name.to_string(), j.bytes_total, j.created_by.to_string(), now);
    db.write(input, |tx, (id, kind, file_name, bytes_total, created_by, now)| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO import_jobs (id, kind, file_name, status, bytes_total, created_by, created_at)
         VALUES ($1, $2, $3, 'running', $4, $5, $6)",
                args![id, kind, file_name, *bytes_total, created_by, *now],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

pub async fn set_progress(db: &Db, id: &str, rows_read: i64, bytes_read: i64) -> StoreResult<()> {
    let input = (id.to_string(), rows_read, bytes_read);
    db.write(input, |tx, (id, rows_read, bytes_read)| {
        Box::pin(async move {
            tx.execute(
                "UPDATE import_jobs SET rows_read = $2, bytes_read = $3 WHERE id = $1 AND status = 'running'",
                args![id, *rows_read, *bytes_read],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

pub async fn finish(
    db: &Db,
    id: &str,
    status: &str,
    summary: &str,
    errors_json: &str,
    error_count: i64,
    now: i64,
) -> StoreResult<()> {
    let input = (id.to_string(), status.to_string(), summary.to_string(), errors_json.to_string(), error_count, now);
    db.write(input, |tx, (id, status, summary, errors_json, error_count, now)| {
        Box::pin(async move {
            tx.execute(
                "UPDATE import_jobs SET status = $2, summary = $3, errors_json = $4, error_count = $5, finished_at = $6 WHERE id = $1",
                args![id, status, summary, errors_json, *error_count, *now],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<ImportJobRow>> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1");
    on_db!(db, |c| sqlx::query_as::<_, ImportJobRow>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(c).await)
}

pub async fn recent(db: &Db, limit: i64) -> StoreResult<Vec<ImportJobRow>> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs ORDER BY created_at DESC, id DESC LIMIT $1");
    on_db!(db, |c| sqlx::query_as::<_, ImportJobRow>(sqlx::AssertSqlSafe(sql.clone())).bind(limit).fetch_all(c).await)
}
