//! SQLite reads that run on the calling task's thread.
//!
//! The driver runs each connection on a thread of its own: a query is a hand-over to that thread
//! and back, two context switches and a wait for a runtime worker to pick the task up again. A
//! placement made about ten such reads before it sent its unit to the writer, and under load most
//! of the server's time went to switching threads rather than to SQLite. Reads that return one
//! value (the JSON documents of [`super::Db::json_rows`], a joined id list) run here instead,
//! through rusqlite on connections kept for the purpose: at most one per thread that is reading at
//! the same moment, since a read never yields.

use super::Cell;
use super::StoreResult;
use super::sqlite::{open_reader, query_on};
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
    /// Readers for the database file at `path`.
    pub(super) fn new(path: PathBuf) -> SyncReaders {
        SyncReaders { path, idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> StoreResult<rusqlite::Connection> {
        open_reader(&self.path, Some(&super::sqlite::rollup_path(&self.path)))
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
