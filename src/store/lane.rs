//! SQLite's write lane: this process's one writer connection, the queue in front of it, and the
//! transaction placements share on it.
//!
//! Write transactions queue on the lane (fair, FIFO) instead of all retrying SQLite's busy
//! handler, whose growing sleeps made the slowest placements wait close to a second under
//! concurrency. They all run on one connection: a connection that sees another connection's commit
//! throws away its page cache and its memory map when its next transaction starts (page faults and
//! `munmap` were a fifth of a placement's CPU); the writer sees only its own commits, so its cache
//! stays warm.
//!
//! The connection is driven two ways. The statements of ordinary writes, and a `BEGIN IMMEDIATE`
//! that must wait for another connection's write lock, go through sqlx, whose worker thread runs
//! them while the task yields. Everything a placement runs while it holds the lane (the `BEGIN`
//! when the lock is free, the writes queued by [`super::Tx::defer`], the stock rows it reads, the
//! order number, the `COMMIT`) runs on the task's own thread, through rusqlite on the same
//! connection: each trip to the driver's thread was a yield, and under load the task then waited
//! behind other requests for a runtime worker — while every other placement waited for the lane (a commit took 6 ms that way,
//! 2 ms here). None of those statements waits for a lock the transaction does not already hold;
//! the commit waits only for the disk, and checkpoints run elsewhere ([`Checkpoints`]).
//!
//! Placements share transactions ([`super::Db::begin_shared`]): when a placement is done and
//! another writer is already waiting for the lane, it leaves the transaction open for the next one
//! and waits; whoever finds nobody waiting (or a plain writer, or a wait that ran out) commits,
//! once, for all of them. Each placement runs inside its own savepoint, so a refused one takes back
//! only its own writes. One commit (one WAL write and fsync) then serves several orders.

use super::{Cell, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Executor};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct SqliteWriter {
    lane: Arc<tokio::sync::Mutex<Lane>>,
    /// Writers waiting for the lane.
    queued: AtomicUsize,
}

/// The most placements one shared transaction holds. Writes that bypass the lane (sessions,
/// carts, idempotency claims: single statements on the read pool) wait in SQLite's busy handler
/// while a transaction is open, so the chain stays short.
const MAX_SHARED: usize = 8;

/// How long a write waits for another connection's write lock (as every connection: see
/// `Db::connect`).
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Marks the start of a shared placement's own writes in the deferred queue.
pub(super) const SAVEPOINT: &str = "SAVEPOINT placement";

/// The writer connection and the transaction left open on it for the next writer, if any.
pub(super) struct Lane {
    /// The connection as rusqlite sees it. Declared before `conn`: its cached statements must be
    /// finalised before sqlx closes the connection (sqlx panics if statements are left).
    sync: rusqlite::Connection,
    conn: SqliteConnection,
    open: Option<Open>,
    checkpoints: Checkpoints,
}

impl Lane {
    /// `BEGIN IMMEDIATE`: on this thread when the write lock is free (no waiting), else through
    /// the driver's thread, which may wait for it in the busy handler without holding this one.
    async fn begin(&mut self) -> StoreResult<()> {
        self.sync.busy_timeout(Duration::ZERO).map_err(to_sqlx)?;
        let now = self.sync.execute_batch("BEGIN IMMEDIATE");
        self.sync.busy_timeout(BUSY_TIMEOUT).map_err(to_sqlx)?;
        match now {
            Ok(()) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
                self.conn.execute("BEGIN IMMEDIATE").await.map(|_| ())
            }
            Err(e) => Err(to_sqlx(e)),
        }
    }
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane").field("open", &self.open.is_some()).finish()
    }
}

/// Moves the write-ahead log into the database file in the background, on a connection of the
/// read pool. The writer's `COMMIT` runs on the committing task's thread (waiting for the
/// driver's thread and then for a runtime worker cost more than the commit); a checkpoint inside
/// it would hold that thread, and the lane, while it copies pages.
///
/// Those never catch up with a busy writer (it appends while they copy), so the log cannot start
/// over and grows (30 MB/s at 400 orders/s). At most once a second the lane itself checkpoints
/// before it begins a transaction, on the driver's thread: nothing is appended meanwhile, so the
/// log is then fully copied and the next transaction starts it over. It does so just after a
/// background checkpoint finished, when least is left to copy (or after three seconds without such
/// a moment): at ~1,150 orders/s the log then peaked at 85–166 MB (four runs), 258 MB without.
struct Checkpoints {
    pool: sqlx::SqlitePool,
    last: std::time::Instant,
    running: Arc<std::sync::atomic::AtomicBool>,
    /// When the last background checkpoint finished.
    finished: Arc<std::sync::Mutex<std::time::Instant>>,
    last_in_lane: std::time::Instant,
}

impl Checkpoints {
    /// Whether the lane checkpoints now, before its next transaction (and if so, notes when): at
    /// most once a second, just after a background checkpoint finished (little is left to copy
    /// then), or after three seconds without such a moment.
    fn take_in_lane(&mut self) -> bool {
        let since = self.last_in_lane.elapsed();
        if since < Duration::from_secs(1) {
            return false;
        }
        let caught_up = !self.running.load(Ordering::SeqCst)
            && self.finished.lock().unwrap_or_else(|e| e.into_inner()).elapsed() < Duration::from_millis(10);
        let due = caught_up || since >= Duration::from_secs(3);
        if due {
            self.last_in_lane = std::time::Instant::now();
        }
        due
    }

    /// Starts a passive checkpoint (it never waits for readers or writers) unless one is running
    /// or one started in the last 200 ms.
    fn start(&mut self) {
        if self.last.elapsed() < Duration::from_millis(200) || self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        self.last = std::time::Instant::now();
        let (pool, running, finished) = (self.pool.clone(), self.running.clone(), self.finished.clone());
        tokio::spawn(async move {
            if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
            }
            *finished.lock().unwrap_or_else(|e| e.into_inner()) = std::time::Instant::now();
            running.store(false, Ordering::SeqCst);
        });
    }
}

/// A transaction open on the lane: the writes still to send and the placements waiting for its
/// commit.
#[derive(Default)]
struct Open {
    deferred: Vec<(String, Vec<Cell>)>,
    waiting: Vec<tokio::sync::oneshot::Sender<Result<(), String>>>,
}

/// The write lane, held, with the transaction it keeps open.
pub struct SqliteTurn {
    lane: tokio::sync::OwnedMutexGuard<Lane>,
    writer: Arc<SqliteWriter>,
    pub(super) shared: bool,
    /// Left open for the next writer: dropping the turn must not roll it back.
    handed_over: bool,
}

impl SqliteWriter {
    /// Opens the writer connection.
    pub(super) async fn connect(opts: &SqliteConnectOptions, pool: sqlx::SqlitePool) -> StoreResult<SqliteWriter> {
        // Serialised (SQLite's own mutex around each call): the connection is used from the
        // driver's worker thread and, through `sync`, from this process's tasks; the lane keeps
        // them from interleaving, the mutex also covers a worker still finishing a statement whose
        // caller went away.
        let mut conn = opts.clone().serialized(true).connect().await?;
        let handle = conn.lock_handle().await?.as_raw_handle();
        // SAFETY: the handle is the open connection `conn`, which lives as long as `sync` (see the
        // field order in `Lane`); `from_handle` does not take ownership (it never closes it).
        // Calls through `sync` and through `conn` never overlap: both are used only by whoever
        // holds the lane, one statement after another, and the connection is serialised.
        let sync = unsafe { rusqlite::Connection::from_handle(handle.as_ptr()) }.map_err(to_sqlx)?;
        sync.set_prepared_statement_cache_capacity(64);
        // Checkpoints run apart ([`Checkpoints`]), never in this connection's `COMMIT` (on a
        // runtime thread, holding the lane: one took most of a second once the log had grown).
        sync.execute_batch("PRAGMA wal_autocheckpoint = 0").map_err(to_sqlx)?;
        Ok(SqliteWriter {
            lane: Arc::new(tokio::sync::Mutex::new(Lane {
                sync,
                conn,
                open: None,
                checkpoints: Checkpoints {
                    pool,
                    last: std::time::Instant::now(),
                    running: Default::default(),
                    finished: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
                    last_in_lane: std::time::Instant::now(),
                },
            })),
            queued: AtomicUsize::new(0),
        })
    }

    /// Takes the lane (after the writers already waiting), with a transaction open on it: the one
    /// a placement left open, or a new one. A plain writer (`shared == false`) first commits what
    /// placements left open: it shares with nobody.
    pub(super) async fn turn(self: &Arc<Self>, shared: bool) -> StoreResult<SqliteTurn> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(&self.queued);
        let mut lane = self.lane.clone().lock_owned().await;
        drop(queued);
        if !shared {
            // If that fails, its placements are told and it is rolled back; this one starts afresh.
            if let Err(e) = commit_open(&mut lane) {
                tracing::warn!(error = %e, "a shared placement transaction failed to commit");
            }
        }
        if lane.open.is_none() {
            if !lane.sync.is_autocommit() {
                // A transaction whose owner went away mid-way (a cancelled request): nothing of it
                // was acknowledged.
                lane.sync.execute_batch("ROLLBACK").map_err(to_sqlx)?;
            }
            if lane.checkpoints.take_in_lane()
                && let Err(e) = lane.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await
            {
                tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
            }
            lane.begin().await?;
            lane.open = Some(Open::default());
        }
        Ok(SqliteTurn { lane, writer: self.clone(), shared, handed_over: false })
    }

    /// Waits for the shared transaction a placement left open to commit. If no writer took the
    /// lane meanwhile (the one that was waiting went away), commits it itself.
    pub(super) async fn wait(&self, mut done: tokio::sync::oneshot::Receiver<Result<(), String>>) -> StoreResult<()> {
        loop {
            match tokio::time::timeout(Duration::from_millis(5), &mut done).await {
                Ok(Ok(result)) => return result.map_err(sqlx::Error::Protocol),
                Ok(Err(_)) => return Err(sqlx::Error::Protocol("the shared transaction was dropped".into())),
                Err(_) => {
                    if let Ok(mut lane) = self.lane.clone().try_lock_owned() {
                        let _ = commit_open(&mut lane);
                    }
                }
            }
        }
    }

    /// Commits what placements left open and moves the write-ahead log into the database file
    /// (the connection itself closes when the last handle on the database goes).
    pub(super) async fn close(&self) {
        let mut lane = self.lane.lock().await;
        if let Err(e) = commit_open(&mut lane) {
            tracing::warn!(error = %e, "a shared placement transaction failed to commit");
        }
        if let Err(e) = lane.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
        }
    }
}

impl SqliteTurn {
    /// The connection, for statements run through sqlx.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.lane.conn
    }

    /// The writes the transaction's earlier holders queued and did not send.
    pub(super) fn take_deferred(&mut self) -> Vec<(String, Vec<Cell>)> {
        self.lane.open.as_mut().map(|o| std::mem::take(&mut o.deferred)).unwrap_or_default()
    }

    /// Runs queued statements, in order, without leaving this thread.
    pub(super) fn run(&self, batch: Vec<(String, Vec<Cell>)>) -> StoreResult<()> {
        run_on(&self.lane.sync, batch)
    }

    /// The rows of a query, each mapped by `row`, without leaving this thread. `sql` numbers its
    /// parameters `$1`, `$2`, … like every other statement here.
    pub fn query<T>(
        &self,
        sql: &str,
        cells: Vec<Cell>,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        query_on(&self.lane.sync, sql, cells, row)
    }

    /// Commits the open transaction, for every placement sharing it, after `deferred`.
    pub(super) fn commit(mut self, deferred: Vec<(String, Vec<Cell>)>) -> StoreResult<()> {
        if let Some(open) = self.lane.open.as_mut() {
            open.deferred.extend(deferred);
        }
        commit_open(&mut self.lane)
    }

    /// Leaves the shared transaction open for the writer waiting for the lane, if there is one and
    /// the transaction has room, with `deferred` still to send; with `wait`, this placement then
    /// waits for its commit (on the receiver, through the writer returned).
    #[allow(clippy::type_complexity)]
    pub(super) fn hand_over(
        &mut self,
        deferred: &mut Vec<(String, Vec<Cell>)>,
        wait: bool,
    ) -> Option<(Arc<SqliteWriter>, tokio::sync::oneshot::Receiver<Result<(), String>>)> {
        let open = self.lane.open.as_mut()?;
        if self.writer.queued.load(Ordering::SeqCst) == 0 || open.waiting.len() >= MAX_SHARED {
            return None;
        }
        open.deferred = std::mem::take(deferred);
        let (tell, done) = tokio::sync::oneshot::channel();
        if wait {
            open.waiting.push(tell);
        }
        self.handed_over = true;
        Some((self.writer.clone(), done))
    }
}

impl Drop for SqliteTurn {
    /// A turn that ends without committing or handing over (an error, or its task cancelled)
    /// rolls the transaction back, with the work of every placement that shared it: they learn
    /// it failed, and nothing of theirs was acknowledged.
    fn drop(&mut self) {
        if self.handed_over {
            return;
        }
        if let Some(open) = self.lane.open.take() {
            if let Err(e) = self.lane.sync.execute_batch("ROLLBACK") {
                // The next turn finds the transaction still open and tries again.
                tracing::warn!(error = %e, "rolling back a write transaction failed");
            }
            for w in open.waiting {
                let _ = w.send(Err("the transaction shared with another order failed".into()));
            }
        }
    }
}

/// Commits the open transaction, if any, and tells every placement waiting for it.
fn commit_open(lane: &mut Lane) -> StoreResult<()> {
    let Some(open) = lane.open.take() else { return Ok(()) };
    let mut result = run_on(&lane.sync, open.deferred);
    if result.is_ok() {
        result = lane.sync.execute_batch("COMMIT").map_err(to_sqlx);
        lane.checkpoints.start();
    }
    if result.is_err()
        && !lane.sync.is_autocommit()
        && let Err(e) = lane.sync.execute_batch("ROLLBACK")
    {
        tracing::warn!(error = %e, "rolling back a write transaction failed");
    }
    for w in open.waiting {
        let _ = w.send(result.as_ref().map(|_| ()).map_err(|e| e.to_string()));
    }
    result
}

/// The rows of a query on a rusqlite connection, each mapped by `row`.
pub(super) fn query_on<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    cells: Vec<Cell>,
    mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(sql).map_err(to_sqlx)?;
    bind(&mut st, cells)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(to_sqlx)? {
        out.push(row(r).map_err(to_sqlx)?);
    }
    Ok(out)
}

fn run_on(sync: &rusqlite::Connection, batch: Vec<(String, Vec<Cell>)>) -> StoreResult<()> {
    for (sql, cells) in batch {
        let mut st = sync.prepare_cached(&sql).map_err(to_sqlx)?;
        bind(&mut st, cells)?;
        st.raw_execute().map_err(to_sqlx)?;
    }
    Ok(())
}

/// Binds `cells` to the statement's `$1`, `$2`, … wherever each appears. SQLite numbers
/// parameters in the order they first appear in the text, which need not be `$n`'s order.
fn bind(st: &mut rusqlite::Statement<'_>, cells: Vec<Cell>) -> StoreResult<()> {
    let count = st.parameter_count();
    let mut cells: Vec<Option<Cell>> = cells.into_iter().map(Some).collect();
    for index in 1..=count {
        let n = st
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=cells.len()).contains(n))
            .ok_or_else(|| sqlx::Error::Protocol(format!("parameter {index} of a statement has no value")))?;
        // A parameter used twice has one index: each `$n` is bound once.
        let cell = cells[n - 1].take().ok_or_else(|| sqlx::Error::Protocol(format!("${n} bound twice")))?;
        let bound = match cell {
            Cell::Text(s) => st.raw_bind_parameter(index, s),
            Cell::Int(i) => st.raw_bind_parameter(index, i),
            Cell::Bool(b) => st.raw_bind_parameter(index, b),
            Cell::NullText | Cell::NullInt => st.raw_bind_parameter(index, rusqlite::types::Null),
        };
        bound.map_err(to_sqlx)?;
    }
    Ok(())
}

/// A database error raised through rusqlite, as sqlx reports one (so that callers' checks such as
/// [`super::is_unique_violation`] see it the same way).
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

    /// The lane's own connection, on a fresh in-memory database.
    async fn lane() -> (Arc<SqliteWriter>, SqliteTurn) {
        let opts = SqliteConnectOptions::new().in_memory(true);
        let pool = sqlx::SqlitePool::connect_with(opts.clone()).await.unwrap();
        let w = Arc::new(SqliteWriter::connect(&opts, pool).await.unwrap());
        let turn = w.turn(false).await.unwrap();
        (w, turn)
    }

    #[tokio::test]
    async fn parameters_bind_by_their_number_wherever_they_appear() {
        let (_w, turn) = lane().await;
        turn.run(vec![("CREATE TABLE t (a TEXT, b BIGINT, c BIGINT)".into(), vec![])]).unwrap();
        turn.run(vec![(
            "INSERT INTO t (a, b, c) VALUES ($3, $1, $2)".into(),
            vec![Cell::Int(1), Cell::NullInt, Cell::text("x")],
        )])
        .unwrap();
        let rows = turn
            .query("SELECT a, b, c FROM t WHERE b = $2 AND a = $1", vec![Cell::text("x"), Cell::Int(1)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
            })
            .unwrap();
        assert_eq!(rows, vec![("x".to_string(), 1, None)]);
        let err = turn.run(vec![("INSERT INTO t (a) VALUES ($1)".into(), vec![])]).unwrap_err();
        assert!(err.to_string().contains("no value"), "{err}");
    }

    #[tokio::test]
    async fn constraint_errors_read_as_sqlx_reports_them() {
        let (_w, turn) = lane().await;
        turn.run(vec![("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT CHECK (n >= 0))".into(), vec![])]).unwrap();
        turn.run(vec![("INSERT INTO t VALUES ('a', 1)".into(), vec![])]).unwrap();
        let dup = turn.run(vec![("INSERT INTO t VALUES ('a', 2)".into(), vec![])]).unwrap_err();
        assert!(super::super::is_unique_violation(&dup), "{dup}");
        let neg = turn.run(vec![("UPDATE t SET n = -1".into(), vec![])]).unwrap_err();
        assert!(neg.as_database_error().is_some_and(|e| e.is_check_violation()), "{neg}");
    }

    #[tokio::test]
    async fn a_turn_waits_for_another_connections_write_lock_instead_of_failing() {
        let path = std::env::temp_dir().join(format!("portico-lane-{}.db", super::super::new_id()));
        let opts = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts.clone()).await.unwrap();
        let w = Arc::new(SqliteWriter::connect(&opts, pool.clone()).await.unwrap());
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let waiting = tokio::spawn({
            let w = w.clone();
            async move { w.turn(false).await.map(|t| t.commit(vec![])) }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "the turn waits while the lock is held");
        other.execute_batch("COMMIT").unwrap();
        waiting.await.unwrap().unwrap().unwrap();
        drop((w, other));
        pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test]
    async fn a_turn_dropped_without_commit_keeps_nothing() {
        let (w, mut turn) = lane().await;
        turn.conn().execute("CREATE TABLE t (k TEXT)").await.unwrap();
        turn.commit(vec![]).unwrap();
        let turn = w.turn(false).await.unwrap();
        turn.run(vec![("INSERT INTO t VALUES ('gone')".into(), vec![])]).unwrap();
        drop(turn);
        let turn = w.turn(false).await.unwrap();
        let n = turn.query("SELECT COUNT(*) FROM t", vec![], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(n, vec![0]);
    }
}
