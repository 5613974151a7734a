//! SQLite reads that run on the calling task's thread.
//!
//! The driver runs each connection on a thread of its own: a query is a hand-over to that thread
//! and back, two context switches and a wait for a runtime worker to pick the task up again. A
//! placement made about ten such reads before it queued for the write lane, and under load most
//! of the server's time went to switching threads rather than to SQLite. Reads that return one
//! value (the JSON documents of [`super::Db::json_rows`], a joined id list) run here instead,
//! through rusqlite on connections kept for the purpose: at most one per thread that is reading at
//! the same moment, since a read never yields.

use super::Cell;
use super::StoreResult;
use super::lane::{query_on, to_sqlx};
use std::path::PathBuf;
use std::sync::Mutex;

/// Idle read connections to one database file.
#[derive(Debug)]
pub struct SyncReaders {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// At most this many idle connections are kept (one per runtime worker is what is used).
const KEEP: usize = 8;

impl SyncReaders {
    /// Readers for the database file at `path`; `None` for an in-memory database (another
    /// connection could not see it).
    pub(super) fn for_file(path: &std::path::Path) -> Option<SyncReaders> {
        let name = path.to_string_lossy();
        if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
            return None;
        }
        Some(SyncReaders { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) })
    }

    fn open(&self) -> StoreResult<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let c = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(to_sqlx)?;
        // As the pool's connections (see `Db::connect`); `query_only`: these never write.
        c.execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA query_only = 1;").map_err(to_sqlx)?;
        c.busy_timeout(super::lane::BUSY_TIMEOUT).map_err(to_sqlx)?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// The first column of the one row `sql` returns (`None` for NULL or no row).
    pub(super) fn text(&self, sql: &str, binds: &[&str]) -> StoreResult<Option<String>> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let cells = binds.iter().map(|b| Cell::text(b)).collect();
        let result = query_on(&conn, sql, cells, |r| r.get::<_, Option<String>>(0))
            .map(|rows| rows.into_iter().next().flatten());
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEEP {
            idle.push(conn);
        }
        result
    }
}
