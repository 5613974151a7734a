//! Imports from the staff upload page run as background jobs: the upload returns at once, the job
//! records its progress and its result (the report, or every bad row) in the database, and the page
//! polls it. The import itself is the same all-or-nothing function the command line runs.

use super::imports::ImportError;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::{Permission, Principal};
use crate::store::{Db, import_jobs, new_id};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kinds the upload page accepts: (value, label).
pub const KINDS: [(&str, &str); 3] =
    [("products", "Products"), ("stock", "Stock levels"), ("contract-prices", "Contract prices")];

/// Starts an import of `bytes` in the background; returns the job id to follow.
pub async fn start_import(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> ServiceResult<String> {
    if !actor.principal.can(Permission::ManageCatalog) {
        return Err(if actor.principal.is_staff() { ServiceError::Forbidden } else { ServiceError::NotFound });
    }
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ServiceError::invalid("kind", format!("“{kind}” is not something Portico imports.")));
    }
    if bytes.is_empty() {
        return Err(ServiceError::invalid("file", "Choose a CSV file to upload."));
    }
    let id = new_id();
    import_jobs::insert(db, &id, kind, file_name, &actor.principal.user_id, now).await?;
    let (db, job, kind, principal, channel) =
        (db.clone(), id.clone(), kind.to_string(), actor.principal.clone(), actor.channel);
    tokio::spawn(async move { run(db, now, job, kind, principal, channel, bytes).await });
    Ok(id)
}

async fn run(db: Db, now: i64, job: String, kind: String, principal: Principal, channel: &'static str, bytes: Vec<u8>) {
    let read = Arc::new(AtomicU64::new(0));
    // Progress goes to the database twice a second, from a ticker beside the import.
    let ticker = {
        let (db, job, read) = (db.clone(), job.clone(), read.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let _ = import_jobs::set_progress(&db, &job, read.load(Ordering::Relaxed) as i64).await;
            }
        })
    };
    let actor = Actor { principal: &principal, channel, on_behalf_of: None };
    let progress = |n: u64| read.store(n, Ordering::Relaxed);
    let reader = bytes.as_slice();
    let result = match kind.as_str() {
        "stock" => super::stock_imports::import_stock(&db, now, &actor, reader, progress)
            .await
            .map(|r| format!("{} stock rows read; {} changed.", r.rows, r.changed)),
        "products" => super::product_imports::import_products(&db, now, &actor, reader, progress)
            .await
            .map(|r| format!("{} products read; {} created, {} updated.", r.rows, r.created, r.updated)),
        _ => super::imports::import_contract_prices(&db, now, &actor, reader, progress).await.map(|r| {
            format!(
                "{} rows read; {} contracts created, {} updated; {} prices inserted or changed.",
                r.rows, r.contracts_created, r.contracts_updated, r.prices_changed
            )
        }),
    };
    ticker.abort();
    let _ = import_jobs::set_progress(&db, &job, read.load(Ordering::Relaxed) as i64).await;
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

/// A job, for staff who manage the catalog.
pub async fn job(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<import_jobs::ImportJobRow> {
    if !actor.principal.can(Permission::ManageCatalog) {
        return Err(ServiceError::NotFound);
    }
    import_jobs::get(db, id).await?.ok_or(ServiceError::NotFound)
}

pub async fn recent_jobs(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<import_jobs::ImportJobRow>> {
    if !actor.principal.can(Permission::ManageCatalog) {
        return Err(ServiceError::Forbidden);
    }
    Ok(import_jobs::recent(db, 20).await?)
}
