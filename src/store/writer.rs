//! SQLite's writer: one thread owns the process's one write connection and runs the units of
//! work sent to it ([`super::Db::write`]).
//!
//! Why a thread and not a lock around a connection: a unit, once sent, runs to its end on this
//! thread whatever happens to the request that sent it. A client that hangs up drops only the
//! receiving end of the answer; it can never leave a transaction open on the connection, roll
//! back another request's work or stop the writer (under the previous design, a request dropped
//! while its `BEGIN IMMEDIATE` waited left the write lock held until restart). The commit's fsync
//! and any wait for the write lock happen here, never on the async runtime's threads.
//!
//! Group commit: the units waiting when the writer turns to its queue run in one transaction,
//! each inside its own savepoint (a refused or failed unit takes back only its own writes), and
//! one `COMMIT` — one WAL write and fsync — serves them all. Nobody is answered before that commit.
//!
//! The rollup's writer ([`super::Db::write_rollup`]) runs each unit in a transaction of its own
//! instead, without a savepoint: its units are few and large (a pass of the who-buys-what count
//! rewrites thousands of pages), and a savepoint makes SQLite copy every page a unit changes into
//! a statement journal first (8 % of that writer's CPU, measured). A failed unit is rolled back
//! with its transaction, which holds nothing else.
//! All writes run on this one connection, so its page cache is never invalidated by another
//! writer's commit (page faults and `munmap` were a fifth of a placement's CPU when they were).
//!
//! Statements run through rusqlite on this thread: each hand-over to a driver thread and back was
//! two context switches, and under load the commit then waited for a runtime worker (6 ms a
//! commit, against 2 ms here).

use super::StoreResult;
use super::tx::{Tx, TxConn};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long the checkpoint at close waits for other connections to let go of the log.
const CLOSING_WAIT: Duration = Duration::from_millis(100);

/// At most this many units share one commit. Each waits for the whole batch, so the batch stays
/// short enough that the first unit's answer is not held long.
const MAX_BATCH: usize = 32;

/// What a unit hands back to the writer: whether it succeeded (its savepoint is released, or
/// rolled back), and how to answer its sender once the commit's outcome is known.
pub(super) struct Ran {
    pub ok: bool,
    pub answer: Answer,
}

/// Tells a unit's sender its result, given why the commit failed (`None`: it succeeded).
pub(super) type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// A unit of work, type-erased: runs on the writer's transaction, with the writer's runtime for
/// any await inside it.
pub(super) type Job = Box<dyn FnOnce(&mut Tx, &tokio::runtime::Runtime) -> Ran + Send>;

enum Msg {
    Unit(Job),
    /// Finish what is queued, checkpoint the log into the database file, and stop.
    Close(mpsc::Sender<()>),
}

/// The writer's state as others see it (for `/readyz`).
#[derive(Debug, Default)]
struct Health {
    /// The thread is running.
    alive: AtomicBool,
    /// Milliseconds since `started` when the writer last finished a unit or a batch.
    progress_ms: AtomicU64,
    /// Units sent and not finished.
    queued: AtomicU64,
    /// Why the last batch could not begin or commit, until one does.
    failing: Mutex<Option<String>>,
}

thread_local! {
    /// Set on the writer thread: a unit that sent another unit would wait for itself forever.
    static ON_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this is the writer thread (a unit of work is running here).
pub(super) fn on_writer_thread() -> bool {
    ON_WRITER.with(|w| w.get())
}

/// The handle to the writer thread (shared by every clone of the `Db`).
#[derive(Debug)]
pub struct Writer {
    sender: Mutex<Option<mpsc::Sender<Msg>>>,
    health: Arc<Health>,
    started: Instant,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Opens the write connection to the file at `path` and starts the writer thread. With
    /// `reads`, the rollup's writer: `path` is the rollup file and the database file at `reads` is
    /// attached read-only ([`super::sqlite::open_writer`]).
    pub(super) fn start(path: &Path, reads: Option<&Path>) -> StoreResult<Writer> {
        let conn = super::sqlite::open_writer(path, reads)?;
        let (sender, queue) = mpsc::channel();
        let health = Arc::new(Health::default());
        health.alive.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let checkpoints = Checkpoints::new(path.to_path_buf());
        let alone = reads.is_some();
        let thread = {
            let health = health.clone();
            std::thread::Builder::new()
                .name(if reads.is_some() { "portico-rollup-writer" } else { "portico-writer" }.into())
                .spawn(move || {
                    ON_WRITER.with(|w| w.set(true));
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("the writer's runtime starts");
                    let mut run =
                        Run { tx: Tx { conn: TxConn::Sqlite(conn) }, runtime, health, started, checkpoints, alone };
                    run.serve(queue);
                    run.health.alive.store(false, Ordering::SeqCst);
                })
                .map_err(sqlx::Error::Io)?
        };
        Ok(Writer { sender: Mutex::new(Some(sender)), health, started, thread: Mutex::new(Some(thread)) })
    }

    /// Queues a unit. Fails only when the writer has stopped (closed, or its thread died).
    pub(super) fn send(&self, job: Job) -> StoreResult<()> {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = sender.as_ref() else { return Err(stopped()) };
        self.health.queued.fetch_add(1, Ordering::SeqCst);
        sender.send(Msg::Unit(job)).map_err(|_| {
            self.health.queued.fetch_sub(1, Ordering::SeqCst);
            stopped()
        })
    }

    /// Why the writer cannot write now, if it cannot: its thread stopped, its last batch could not
    /// begin or commit, or units are queued and none finished for `stuck_after`.
    pub fn trouble(&self, stuck_after: Duration) -> Option<String> {
        if !self.health.alive.load(Ordering::SeqCst) {
            return Some("the SQLite writer has stopped".into());
        }
        if let Some(why) = self.health.failing.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(why);
        }
        let idle_for = self
            .started
            .elapsed()
            .saturating_sub(Duration::from_millis(self.health.progress_ms.load(Ordering::SeqCst)));
        if self.health.queued.load(Ordering::SeqCst) > 0 && idle_for > stuck_after {
            return Some(format!("the SQLite writer has not finished a unit for {} s", idle_for.as_secs()));
        }
        None
    }

    /// Runs what is queued, checkpoints the log into the database file and stops the thread.
    /// Later writes fail.
    pub(super) fn close(&self) {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sender) = sender {
            let (done, wait) = mpsc::channel();
            if sender.send(Msg::Close(done)).is_ok() {
                let _ = wait.recv();
            }
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// The writer was closed (or its thread died): like a closed pool, nothing more can be written.
fn stopped() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

/// The writer thread's own state.
struct Run {
    tx: Tx,
    runtime: tokio::runtime::Runtime,
    health: Arc<Health>,
    started: Instant,
    checkpoints: Checkpoints,
    /// Each unit runs in a transaction of its own, without a savepoint (the rollup's writer).
    alone: bool,
}

impl Run {
    fn conn(&self) -> &rusqlite::Connection {
        match &self.tx.conn {
            TxConn::Sqlite(c) => c,
            TxConn::Postgres(_) => unreachable!("the writer holds a SQLite connection"),
        }
    }

    /// Runs one of the writer's own statements (prepared once and kept: they run for every unit).
    fn batch(&self, sql: &str) -> Result<(), String> {
        let run = || -> rusqlite::Result<()> {
            let mut st = self.conn().prepare_cached(sql)?;
            let mut rows = st.raw_query();
            while rows.next()?.is_some() {}
            Ok(())
        };
        run().map_err(|e| e.to_string())
    }

    fn progress(&self) {
        self.health.progress_ms.store(self.started.elapsed().as_millis() as u64, Ordering::SeqCst);
    }

    fn serve(&mut self, queue: mpsc::Receiver<Msg>) {
        let mut closing = None;
        while closing.is_none() {
            let Ok(first) = queue.recv() else { break };
            let mut units = Vec::new();
            match first {
                Msg::Unit(j) => units.push(j),
                Msg::Close(done) => closing = Some(done),
            }
            let most = if self.alone { 1 } else { MAX_BATCH };
            while closing.is_none() && units.len() < most {
                match queue.try_recv() {
                    Ok(Msg::Unit(j)) => units.push(j),
                    Ok(Msg::Close(done)) => closing = Some(done),
                    Err(_) => break,
                }
            }
            if !units.is_empty() {
                self.run_batch(units);
            }
        }
        // Every frame is copied, and the log emptied unless another connection of the process
        // still holds it: the rollup writer, which reads this file attached, keeps it until it
        // closes, and would otherwise make this wait the whole busy timeout.
        let _ = self.conn().busy_timeout(CLOSING_WAIT);
        if let Err(e) = self.batch("PRAGMA main.wal_checkpoint(TRUNCATE)") {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
        }
        if let Some(done) = closing {
            let _ = done.send(());
        }
    }

    /// Runs `units` in one transaction, each in its own savepoint, commits once and answers all;
    /// when `alone`, the one unit without a savepoint, rolled back with the transaction if it fails.
    fn run_batch(&mut self, units: Vec<Job>) {
        let count = units.len() as u64;
        if self.checkpoints.take_in_writer()
            && let Err(e) = self.batch("PRAGMA main.wal_checkpoint(PASSIVE)")
        {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
        }
        let mut answers: Vec<Answer> = Vec::with_capacity(units.len());
        let mut units = units.into_iter();
        // More than one round only when SQLite itself ended the transaction mid-batch (an I/O
        // error, a full disk): the units before that are told, the rest start afresh.
        loop {
            if let Err(e) = self.batch("BEGIN IMMEDIATE") {
                let why = format!("cannot begin a write transaction: {e}");
                *self.health.failing.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                // The units cannot run; they are answered (as failed) without running.
                for job in units {
                    drop(job);
                }
                break;
            }
            let (mut ended_early, mut failed_alone) = (None, false);
            for job in units.by_ref() {
                if !self.alone
                    && let Err(e) = self.batch("SAVEPOINT unit")
                {
                    ended_early = Some(e);
                    drop(job);
                    break;
                }
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut self.tx, &self.runtime)));
                let ok = match ran {
                    Ok(r) => {
                        answers.push(r.answer);
                        r.ok
                    }
                    Err(_) => {
                        tracing::error!("a unit of work panicked; its writes are taken back");
                        false
                    }
                };
                self.progress();
                if self.conn().is_autocommit() {
                    ended_early = Some("SQLite rolled the transaction back".into());
                    break;
                }
                if self.alone {
                    failed_alone = !ok;
                    break;
                }
                let end = if ok { Ok(()) } else { self.batch("ROLLBACK TO unit") };
                if let Err(e) = end.and_then(|()| self.batch("RELEASE unit")) {
                    ended_early = Some(e);
                    break;
                }
            }
            let outcome = match ended_early {
                Some(e) => Err(e),
                // The unit was answered with its own error; nothing else is in the transaction.
                None if failed_alone => self.batch("ROLLBACK"),
                None => self.batch("COMMIT"),
            };
            if outcome.is_err() && !self.conn().is_autocommit() {
                let _ = self.batch("ROLLBACK");
            }
            let told = outcome.as_ref().err().map(|e| format!("the write transaction failed: {e}"));
            if let Some(why) = &told {
                tracing::error!(error = %why, "its units are told");
            }
            // Until a batch commits again, readiness says why writes fail.
            *self.health.failing.lock().unwrap_or_else(|p| p.into_inner()) = told.clone();
            for answer in answers.drain(..) {
                answer(told.as_deref());
            }
            self.checkpoints.after_commit();
            if units.len() == 0 {
                break;
            }
        }
        self.health.queued.fetch_sub(count, Ordering::SeqCst);
        self.progress();
    }
}

/// Moves the write-ahead log into the database file. With automatic checkpoints the writer would
/// copy pages inside some unlucky `COMMIT`, holding every queued unit (one took most of a second
/// once the log had grown). Instead a thread of its own runs passive checkpoints (they never wait
/// for readers or the writer) after commits, at most every 200 ms.
///
/// Those never catch up with a busy writer (it appends while they copy), so the log cannot start
/// over and grows. At most once a second the writer itself checkpoints before it begins a batch:
/// nothing is appended meanwhile, so the log is then fully copied and the next transaction starts
/// it over. It does so just after a background checkpoint finished, when least is left to copy (or
/// after three seconds without such a moment): at ~1,150 orders/s the log then peaked at 85–166 MB
/// (four runs), 258 MB without.
struct Checkpoints {
    wake: mpsc::SyncSender<()>,
    running: Arc<AtomicBool>,
    finished: Arc<Mutex<Instant>>,
    last_in_writer: Instant,
}

impl Checkpoints {
    fn new(path: PathBuf) -> Checkpoints {
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let running = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(Mutex::new(Instant::now()));
        let (r, f) = (running.clone(), finished.clone());
        let spawned = std::thread::Builder::new().name("portico-checkpoints".into()).spawn(move || {
            let conn = match super::sqlite::open_reader(&path, None) {
                Ok(c) => c,
                Err(e) => return tracing::warn!(error = %e, "the checkpoint thread cannot open the database"),
            };
            while woken.recv().is_ok() {
                r.store(true, Ordering::SeqCst);
                if let Err(e) = conn.execute_batch("PRAGMA main.wal_checkpoint(PASSIVE)") {
                    tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
                }
                *f.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                r.store(false, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the checkpoint thread did not start");
        }
        Checkpoints { wake, running, finished, last_in_writer: Instant::now() }
    }

    /// Asks the checkpoint thread for a passive checkpoint (ignored while one runs or waits).
    fn after_commit(&self) {
        let _ = self.wake.try_send(());
    }

    /// Whether the writer checkpoints now, before its next batch (and if so, notes when).
    fn take_in_writer(&mut self) -> bool {
        let since = self.last_in_writer.elapsed();
        if since < Duration::from_secs(1) {
            return false;
        }
        let caught_up = !self.running.load(Ordering::SeqCst)
            && self.finished.lock().unwrap_or_else(|e| e.into_inner()).elapsed() < Duration::from_millis(10);
        let due = caught_up || since >= Duration::from_secs(3);
        if due {
            self.last_in_writer = Instant::now();
        }
        due
    }
}
