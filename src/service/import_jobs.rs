//! Imports from the staff upload page run as background jobs: the upload returns at once, the job
//! records its progress and its result (the report, or every bad row) in the database, and the page
//! polls it. The import itself is the same all-or-nothing function the command line runs.

use super::imports::{ImportError, Kind, Progress, import_file};
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::{ActorChannel, Permission, Principal};
pub use crate::store::import_jobs::ImportJobRow;
use crate::store::import_jobs::NewJob;
use crate::store::{Db, import_jobs, new_id};
use std::sync::{Arc, Mutex};

/// Starts an import of `bytes` in the background; returns the job id to follow.
pub async fn start_import(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> ServiceResult<String> {
    require_any_import(actor)?;
    let Some(kind) = Kind::parse(kind) else {
        return Err(ServiceError::invalid("kind", format!("“{kind}” is not something Portico imports.")));
    };
    actor.require(kind.permission())?;
    if bytes.is_empty() {
        return Err(ServiceError::invalid("file", "Choose a CSV file to upload."));
    }
    let id = new_id();
    let job = NewJob {
        id: &id,
        kind: kind.as_str(),
        file_name,
        bytes_total: bytes.len() as i64,
        created_by: &actor.principal.user_id,
    };
    import_jobs::insert(db, &job, now).await?;
    let (db, job, principal, channel) = (db.clone(), id.clone(), actor.principal.clone(), actor.channel);
    tokio::spawn(async move { run(db, now, job, kind, principal, channel, bytes).await });
    Ok(id)
}

async fn run(db: Db, now: i64, job: String, kind: Kind, principal: Principal, channel: ActorChannel, bytes: Vec<u8>) {
    let read = Arc::new(Mutex::new(Progress::default()));
    let save = |db: Db, job: String, read: Arc<Mutex<Progress>>| async move {
        let p = *read.lock().unwrap_or_else(|e| e.into_inner());
        import_jobs::set_progress(&db, &job, p.rows as i64, p.bytes as i64).await
    };
    // Progress goes to the database twice a second, from a ticker beside the import.
    let ticker = {
        let (db, job, read) = (db.clone(), job.clone(), read.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let _ = save(db.clone(), job.clone(), read.clone()).await;
            }
        })
    };
    let actor = Actor { principal: &principal, channel, on_behalf_of: None };
    let progress = |p: Progress| *read.lock().unwrap_or_else(|e| e.into_inner()) = p;
    let result = import_file(&db, now, &actor, kind, bytes.as_slice(), progress).await;
    ticker.abort();
    let _ = save(db.clone(), job.clone(), read.clone()).await;
    let finished = match result {
        Ok(summary) => import_jobs::finish(&db, &job, "done", &summary, "[]", 0, now).await,
        Err(ImportError::Invalid(errors)) => {
            // The page shows the first thousand; the count says how many there are in all.
            let shown: Vec<serde_json::Value> = errors
                .iter()
                .take(1000)
                .map(|e| serde_json::json!({ "line": e.line, "column": e.column, "reason": e.reason }))
                .collect();
            let json = serde_json::to_string(&shown).unwrap_or_else(|_| "[]".into());
            let summary = format!("{} problem(s); nothing was imported.", errors.len());
            import_jobs::finish(&db, &job, "failed", &summary, &json, errors.len() as i64, now).await
        }
        Err(ImportError::Service(e)) => {
            tracing::error!(error = %e, job = %job, "import failed");
            import_jobs::finish(
                &db,
                &job,
                "failed",
                "The import failed; nothing was imported. The error was logged.",
                "[]",
                0,
                now,
            )
            .await
        }
    };
    if let Err(e) = finished {
        tracing::error!(error = %e, job = %job, "could not record the import's result");
    }
}

/// Staff who may import something (products, prices or stock) see the imports page and its jobs.
fn require_any_import(actor: &Actor<'_>) -> ServiceResult<()> {
    match Kind::ALL.iter().any(|k| actor.principal.can(k.permission())) {
        true => Ok(()),
        false => actor.require(Permission::ManageCatalog),
    }
}

/// The kinds the actor may import.
pub fn kinds_for(actor: &Actor<'_>) -> Vec<Kind> {
    Kind::ALL.into_iter().filter(|k| actor.principal.can(k.permission())).collect()
}

/// A job, for staff who may import.
pub async fn job(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<import_jobs::ImportJobRow> {
    if require_any_import(actor).is_err() {
        return Err(ServiceError::NotFound);
    }
    import_jobs::get(db, id).await?.ok_or(ServiceError::NotFound)
}

pub async fn recent_jobs(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<import_jobs::ImportJobRow>> {
    require_any_import(actor)?;
    Ok(import_jobs::recent(db, 20).await?)
}
