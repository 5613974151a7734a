//! rusqlite on SQLite: opening the writer's and the readers' connections, binding [`Cell`]s,
//! stepping rows, and reporting errors as sqlx does (so callers' checks such as
//! [`super::is_unique_violation`] read them the same way on both drivers).

use super::{Cell, StoreResult};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a statement waits for another connection's write lock (another process on the same
/// file: a `portico import` beside `portico serve`). Inside this process only the writer writes.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Pragmas every connection of the process runs. `mmap_size`: reads through a memory map instead
/// of a read() per page (the 500-line quote went from 25 to 15–20 ms, the catalog page from ~280
/// to ~500 pages/s on the 100k dataset); mapped pages show as RssFile, not process memory.
const COMMON_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA mmap_size = 1073741824;";

/// The rollup file beside the database file at `main`: the figures the worker keeps from the
/// orders (who buys what, `super::rollup`), written by a writer of their own so that keeping them
/// never holds the order writer's lock. Every connection to the database reads it attached.
pub fn rollup_path(main: &Path) -> PathBuf {
    let mut name = main.as_os_str().to_owned();
    name.push("-rollup");
    PathBuf::from(name)
}

/// Every file of the SQLite database at `main`: itself, the rollup file, and each one's
/// write-ahead log and shared memory (what removing the database removes).
pub fn database_files(main: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in [main.to_path_buf(), rollup_path(main)] {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = base.as_os_str().to_owned();
            name.push(suffix);
            out.push(PathBuf::from(name));
        }
    }
    out
}

/// The schema name the rollup file is attached as on the database's connections.
pub(super) const ROLLUP_SCHEMA: &str = "rollup";

/// Opens the writer's connection: WAL, `synchronous=FULL` (an acknowledged commit survives an OS
/// crash), and no automatic checkpoints (the writer schedules them, see `writer::Checkpoints`).
///
/// With `reads` (the rollup's writer: `path` is the rollup file), the database file at `reads` is
/// attached read-only: its orders are read, never written, and `BEGIN IMMEDIATE` takes no lock on
/// a read-only database, so the rollup's transactions never wait for the order writer's nor hold
/// it.
pub(super) fn open_writer(path: &Path, reads: Option<&Path>) -> StoreResult<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let c = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(to_sqlx)?;
    c.busy_timeout(BUSY_TIMEOUT).map_err(to_sqlx)?;
    c.execute_batch(COMMON_PRAGMAS).map_err(to_sqlx)?;
    // A 64 MB page cache (the default is 2 MB): the hot indexes of every write stay in memory.
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536;",
    )
    .map_err(to_sqlx)?;
    // After the pragmas, which (journal_mode) would apply to every attached database.
    if let Some(main) = reads {
        c.execute("ATTACH DATABASE ?1 AS portico", [read_only_uri(main)]).map_err(to_sqlx)?;
        c.execute_batch("PRAGMA portico.mmap_size = 1073741824;").map_err(to_sqlx)?;
    }
    // Every statement of every write of the process runs here (the worker's of a few lengths each:
    // `bulk::statement_rows`, `sql::padded_in`).
    c.set_prepared_statement_cache_capacity(512);
    Ok(c)
}

/// The `file:` URI that opens the database at `path` read-only (`%`, `?` and `#` escaped).
fn read_only_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// Opens a read-only connection (`query_only`: a write through it fails loudly). With `rollup`,
/// the rollup file at that path is attached ([`ROLLUP_SCHEMA`]), so its tables read like the
/// database's own.
pub(super) fn open_reader(path: &Path, rollup: Option<&Path>) -> StoreResult<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let c = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(to_sqlx)?;
    c.busy_timeout(BUSY_TIMEOUT).map_err(to_sqlx)?;
    c.execute_batch(COMMON_PRAGMAS).map_err(to_sqlx)?;
    if let Some(rollup) = rollup {
        c.execute(&format!("ATTACH DATABASE ?1 AS {ROLLUP_SCHEMA}"), [rollup.to_string_lossy()]).map_err(to_sqlx)?;
    }
    c.execute_batch("PRAGMA query_only = 1;").map_err(to_sqlx)?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(c)
}

/// The rows of a query, each mapped by `row`.
pub(super) fn query_on<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    cells: Vec<Cell>,
    mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(&numbered(sql)).map_err(to_sqlx)?;
    bind(&mut st, cells)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(to_sqlx)? {
        out.push(row(r).map_err(to_sqlx)?);
    }
    Ok(out)
}

/// Runs a statement to its end (also one with `RETURNING`, whose rows are dropped); returns the
/// number of rows it changed.
pub(super) fn execute_on(conn: &rusqlite::Connection, sql: &str, cells: Vec<Cell>) -> StoreResult<u64> {
    let mut st = conn.prepare_cached(&numbered(sql)).map_err(to_sqlx)?;
    bind(&mut st, cells)?;
    let mut rows = st.raw_query();
    while rows.next().map_err(to_sqlx)?.is_some() {}
    drop(rows);
    Ok(conn.changes())
}

/// The rows of a query as named values, for [`super::tx::RowDe`].
pub(super) fn values_on(conn: &rusqlite::Connection, sql: &str, cells: Vec<Cell>) -> StoreResult<Vec<super::tx::Row>> {
    use super::tx::Val;
    use rusqlite::types::ValueRef;
    let mut st = conn.prepare_cached(&numbered(sql)).map_err(to_sqlx)?;
    bind(&mut st, cells)?;
    let names: Vec<std::sync::Arc<str>> = st.column_names().into_iter().map(std::sync::Arc::from).collect();
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(to_sqlx)? {
        let mut cols = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i).map_err(to_sqlx)? {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(n) => Val::Int(n),
                ValueRef::Real(f) => Val::Real(f),
                ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => {
                    return Err(sqlx::Error::Protocol(format!("column {name} is a BLOB; Portico stores none")));
                }
            };
            cols.push((name.clone(), v));
        }
        out.push(cols);
    }
    Ok(out)
}

/// The statement text as SQLite numbers it: each `$n` (the placeholder every query here is
/// written with, the one PostgreSQL takes) becomes `?n`, whose index *is* n. SQLite gives a `$n`
/// the next free index at its first appearance instead, and finding which `$n` an index is costs a
/// scan of the statement's parameter list: binding a 140-parameter insert (an order's ten lines)
/// scanned ~10,000 names. Placeholders inside quoted text are left alone.
pub(super) fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return std::borrow::Cow::Borrowed(sql);
    }
    // Copied in runs between the bytes that matter (`$` and `'` are ASCII, so every cut falls
    // between characters): this runs for every statement the writer prepares or finds cached.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut copied = 0;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                out.push_str(&sql[copied..i]);
                out.push('?');
                copied = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    std::borrow::Cow::Owned(out)
}

/// Binds `cells` in order to `?1`, `?2`, … (see [`numbered`]). A number used twice is bound once.
fn bind(st: &mut rusqlite::Statement<'_>, cells: Vec<Cell>) -> StoreResult<()> {
    let count = st.parameter_count();
    if cells.len() < count {
        return Err(sqlx::Error::Protocol(format!("parameter {} of a statement has no value", cells.len() + 1)));
    }
    for (index, cell) in (1..=count).zip(cells) {
        let bound = match cell {
            Cell::Text(s) => st.raw_bind_parameter(index, s),
            Cell::Int(i) => st.raw_bind_parameter(index, i),
            Cell::Bool(b) => st.raw_bind_parameter(index, b),
            Cell::NullText | Cell::NullInt => st.raw_bind_parameter(index, rusqlite::types::Null),
            Cell::Bytes(b) => st.raw_bind_parameter(index, b),
        };
        bound.map_err(to_sqlx)?;
    }
    Ok(())
}

/// A database error raised through rusqlite, as sqlx reports one.
#[derive(Debug)]
struct SyncError {
    message: String,
    code: i32,
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SyncError {}

impl sqlx::error::DatabaseError for SyncError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

pub(super) fn to_sqlx(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(f, message) => sqlx::Error::Database(Box::new(SyncError {
            message: message.unwrap_or_else(|| f.to_string()),
            code: f.extended_code,
        })),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, a TEXT, n BIGINT CHECK (n >= 0))").unwrap();
        c
    }

    #[test]
    fn parameters_bind_by_their_number_wherever_and_however_often_they_appear() {
        let c = conn();
        execute_on(
            &c,
            "INSERT INTO t (a, n, k) VALUES ($3, $1, $2)",
            vec![Cell::Int(1), Cell::text("x"), Cell::text("a")],
        )
        .unwrap();
        let rows = query_on(
            &c,
            "SELECT k, a, n FROM t WHERE n = $2 AND (k = $1 OR a = $1) AND '$1' <> $1",
            vec![Cell::text("x"), Cell::Int(1)],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
        )
        .unwrap();
        assert_eq!(rows, vec![("x".to_string(), "a".to_string(), 1)]);
        let err = execute_on(&c, "INSERT INTO t (k, a) VALUES ($1, $2)", vec![Cell::text("y")]).unwrap_err();
        assert!(err.to_string().contains("no value"), "{err}");
        assert_eq!(numbered("SELECT '$1', $12, x$ FROM t"), "SELECT '$1', ?12, x$ FROM t");
        assert_eq!(numbered("SELECT 'é$1' AS «$», $2, $"), "SELECT 'é$1' AS «$», ?2, $");
        assert_eq!(numbered("$1"), "?1");
    }

    #[test]
    fn constraint_errors_read_as_sqlx_reports_them() {
        let c = conn();
        execute_on(&c, "INSERT INTO t (k, n) VALUES ('a', 1)", vec![]).unwrap();
        let dup = execute_on(&c, "INSERT INTO t (k, n) VALUES ('a', 2)", vec![]).unwrap_err();
        assert!(super::super::is_unique_violation(&dup), "{dup}");
        let neg = execute_on(&c, "UPDATE t SET n = -1", vec![]).unwrap_err();
        assert!(neg.as_database_error().is_some_and(|e| e.is_check_violation()), "{neg}");
    }
}
