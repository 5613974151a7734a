//! Imports from the staff upload page run as background jobs: the upload returns at once, the job
//! records its progress and its result (the report, or every bad row) in the database, and the page
//! polls it. The import itself is the same all-or-nothing function the command line runs.

use super::imports::{ImportError, Kind, Progress, import_file};
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::{ActorChannel, Permission, Principal};
pub use crate::store::import_jobs::ImportJobRow;
use crate::store::import_jobs::NewJob;
use crate::store::{Db, import_jobs, new_id};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The largest file the staff upload page takes: 64 MiB (a million contract prices is about
/// 60 MB; larger files go through `portico import` on the command line). A larger upload is
/// refused with 413 before or while it arrives, never read whole.
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// An uploaded file on its way to an import: written to a temporary file as it arrives, so an
/// upload never sits in memory whole (at most [`UploadFile::BUFFER`] of it at a time), and
/// removed when dropped — after the import has read it, or when the upload is refused.
pub struct UploadFile {
    path: PathBuf,
    /// `None` only while a write runs on the blocking pool.
    file: Option<std::fs::File>,
    pending: Vec<u8>,
    len: u64,
}

impl UploadFile {
    /// Bytes gathered before one write to the file (off the async runtime's threads).
    const BUFFER: usize = 1024 * 1024;

    /// A new, empty file only this process can read (created exclusively, mode 0600 on Unix).
    pub async fn create() -> ServiceResult<UploadFile> {
        let path = std::env::temp_dir().join(format!("portico-upload-{}.csv", new_id()));
        let open = path.clone();
        let file = tokio::task::spawn_blocking(move || {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            o.open(open)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("creating an upload file: {e}")))?
        .map_err(|e| ServiceError::Internal(format!("creating an upload file: {e}")))?;
        Ok(UploadFile { path, file: Some(file), pending: Vec::new(), len: 0 })
    }

    /// Appends a chunk; refuses (413) once the file would pass [`MAX_UPLOAD_BYTES`].
    pub async fn write(&mut self, chunk: &[u8]) -> ServiceResult<()> {
        self.len += chunk.len() as u64;
        if self.len > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= Self::BUFFER { self.flush().await } else { Ok(()) }
    }

    /// Writes what is buffered to the file.
    pub async fn flush(&mut self) -> ServiceResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (mut file, data) = (self.file.take().expect("one write at a time"), std::mem::take(&mut self.pending));
        let (file, result) = tokio::task::spawn_blocking(move || {
            let r = file.write_all(&data);
            (file, r)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("writing an upload file: {e}")))?;
        self.file = Some(file);
        result.map_err(|e| ServiceError::Internal(format!("writing an upload file: {e}")))
    }

    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The 413 of an upload above [`MAX_UPLOAD_BYTES`].
pub fn too_large() -> ServiceError {
    ServiceError::TooLarge(format!(
        "The file is larger than the upload limit of {} MB; split it, or import it with `portico import` on the server.",
        MAX_UPLOAD_BYTES / (1024 * 1024)
    ))
}

/// Starts an import of an uploaded file in the background; returns the job id to follow.
pub async fn start_import(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    kind: &str,
    file_name: &str,
    mut upload: UploadFile,
) -> ServiceResult<String> {
    require_importer(actor)?;
    super::check_texts(&[("kind", kind), ("file", file_name)], &[])?;
    let Some(kind) = Kind::parse(kind).filter(|k| k.importable()) else {
        return Err(ServiceError::invalid("kind", format!("“{kind}” is not something Portico imports.")));
    };
    actor.require(kind.permission())?;
    if upload.is_empty() {
        return Err(ServiceError::invalid("file", "Choose a CSV file to upload."));
    }
    upload.flush().await?;
    let id = new_id();
    let job = NewJob {
        id: &id,
        kind: kind.as_str(),
        file_name,
        bytes_total: upload.len() as i64,
        created_by: &actor.principal.user_id,
    };
    import_jobs::insert(db, &job, now).await?;
    let (db, job, principal, channel) = (db.clone(), id.clone(), actor.principal.clone(), actor.channel);
    tokio::spawn(async move { run(db, now, job, kind, principal, channel, upload).await });
    Ok(id)
}

async fn run(
    db: Db,
    now: i64,
    job: String,
    kind: Kind,
    principal: Principal,
    channel: ActorChannel,
    upload: UploadFile,
) {
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
    // Read back from the file (the upload is removed when `upload` drops, at the end).
    let result = match std::fs::File::open(&upload.path) {
        Ok(f) => import_file(&db, now, &actor, kind, std::io::BufReader::new(f), progress).await,
        Err(e) => Err(ImportError::Service(ServiceError::Internal(format!("reading the upload: {e}")))),
    };
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

/// Staff who may import something (products, prices or stock) see the imports page and its jobs,
/// and may upload. Needs nothing but the actor, so the upload page checks it before it reads
/// any of the request's body.
pub fn require_importer(actor: &Actor<'_>) -> ServiceResult<()> {
    match Kind::IMPORTS.iter().any(|k| actor.principal.can(k.permission())) {
        true => Ok(()),
        false => actor.require(Permission::ManageCatalog),
    }
}

/// The kinds the actor may import.
pub fn kinds_for(actor: &Actor<'_>) -> Vec<Kind> {
    Kind::IMPORTS.into_iter().filter(|k| actor.principal.can(k.permission())).collect()
}

/// A job, for staff who may import.
pub async fn job(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<import_jobs::ImportJobRow> {
    if require_importer(actor).is_err() {
        return Err(ServiceError::NotFound);
    }
    import_jobs::get(db, id).await?.ok_or(ServiceError::NotFound)
}

pub async fn recent_jobs(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<import_jobs::ImportJobRow>> {
    require_importer(actor)?;
    Ok(import_jobs::recent(db, 20).await?)
}
