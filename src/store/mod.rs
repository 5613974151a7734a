//! Persistence. One module per aggregate; all SQL lives here.
//!
//! Three mechanisms, one each:
//! - **Write**: [`Db::write`] runs a unit of work on a [`Tx`] ([`Tx::execute`], [`Tx::fetch_all`],
//!   [`Tx::lock`]); on SQLite on the writer thread ([`writer`]), on PostgreSQL in a transaction.
//! - **Read many rows**: [`on_db!`](crate::on_db) with sqlx on the read pool, or, for hot pages, one row holding
//!   a JSON array ([`Db::json_rows`], [`fetch_json_rows`], run on the caller's thread on SQLite).
//! - **Lock**: [`Tx::lock`] (`FOR UPDATE` on PostgreSQL; SQLite's writer already holds the lock),
//!   rows asked for in one global order; work queues take free rows with [`Tx::claim`]
//!   (`FOR UPDATE SKIP LOCKED`), through [`leases`].
//!
//! Queries are written once: SQLite accepts `$1` placeholders, so the same text runs on both.
//! Conventions that keep one text valid on both:
//! - integers are BIGINT (`i64`), times are unix seconds, money is BIGINT ten-thousandths;
//! - `SUM` is wrapped in `CAST(... AS BIGINT)` (PostgreSQL returns NUMERIC for SUM(BIGINT));
//! - case-insensitive search uses `LOWER(col) LIKE $n` (no ILIKE on SQLite).
//!
//! This file holds [`Db`]: opening, migrating, and handing units of work to the writer. The shared
//! pieces live beside it: `cell.rs` (statement arguments and [`args!`](crate::args)), `bulk.rs`
//! (multi-row inserts), `json.rs` (many rows read as one), `sql.rs` (dialect helpers, LIKE
//! patterns, new ids); `tx.rs`, `writer.rs` and `sqlite.rs` run units of work, `readers.rs` reads
//! on the caller's thread.

pub mod accounts;
pub mod api_tokens;
pub mod approvals;
pub mod audit;
pub mod branding;
mod bulk;
pub mod carts;
pub mod catalog_admin;
pub mod catalogs;
pub mod categories;
mod cell;
pub mod commissions;
pub mod credit;
pub mod dashboards;
pub mod exports;
pub mod idempotency;
pub mod image_dir;
pub mod import_jobs;
pub mod inventory;
pub mod invoices;
mod json;
pub mod leases;
pub mod licences;
pub mod mail;
pub mod order_history;
pub mod orders;
pub mod payments;
pub mod pricing;
pub mod product_images;
pub mod product_search;
pub mod products;
pub mod queues;
pub mod quotes;
pub mod readers;
mod rollup;
pub mod routing;
pub mod sessions;
pub mod shipments;
mod sql;
mod sqlite;
pub mod statements;
pub mod throttle;
pub mod tokens;
mod tx;
pub mod users;
pub mod versions;
pub mod warehouses;
pub mod webhooks;
pub mod writer;

pub use bulk::{bulk_insert, bulk_insert_with};
pub use cell::Cell;
pub(crate) use cell::bind_cells;
pub use json::{bool_from_json, fetch_json_rows, json_fields, json_list};
pub(crate) use sql::{IN_CHUNK, changed_joined, changed_rows, changes_binds, changes_keyset, padded_in};
pub use sql::{is_unique_violation, like_pattern, new_id};
pub use sqlite::{database_files, rollup_path};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, PgPool, SqlitePool};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
pub use tx::Tx;
use tx::TxConn;
use writer::{Job, Ran, Writer};

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// The database, on either backend.
#[derive(Clone, Debug)]
pub enum Db {
    /// The pool for reads (its connections are `query_only`, with the rollup file attached), this
    /// process's writer ([`writer`]), the reads that run on the caller's thread ([`readers`]), and
    /// the rollup file's writer ([`rollup`]).
    Sqlite(SqlitePool, Arc<Writer>, Arc<readers::SyncReaders>, Arc<Writer>),
    Postgres(PgPool),
}

/// The future a unit of work returns (see [`Db::write`]).
pub type Unit<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// The error of a unit of work: made from a store error, and telling whether it is one (so a
/// deadlock or serialization failure on PostgreSQL is retried).
pub trait UnitError: From<sqlx::Error> + Send + 'static {
    fn store_error(&self) -> Option<&sqlx::Error>;
}

impl UnitError for sqlx::Error {
    fn store_error(&self) -> Option<&sqlx::Error> {
        Some(self)
    }
}

/// Runs `$body` with `$c` bound to the read pool of whichever backend `$db` (a `&Db`) holds.
/// Reads only: on SQLite the pool's connections are `query_only`; writes go through [`Db::write`].
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($c, ..) => $body,
            $crate::store::Db::Postgres($c) => $body,
        }
    };
}

/// How many times a unit is tried on PostgreSQL when it hits a deadlock or serialization failure.
const PG_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "DATABASE_URL must start with sqlite:// (e.g. sqlite://portico.db) or postgres:// (e.g. postgres://user@host/db); got “{0}”"
    )]
    UnknownScheme(String),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("an in-memory SQLite database cannot be shared by the writer and the readers; name a file")]
    InMemory,
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens the database named by `url` (no migrations; see [`Db::migrate`]).
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?;
            let path = opts.get_filename().to_path_buf();
            let name = path.to_string_lossy();
            if name.is_empty() || name == ":memory:" || opts.to_url_lossy().as_str().contains("mode=memory") {
                return Err(ConnectError::InMemory);
            }
            // The writers create the files and set WAL mode before any reader opens them.
            let writer = Writer::start(&path, None)?;
            let rollup_file = sqlite::rollup_path(&path);
            let rollup = Writer::start(&rollup_file, Some(&path))?;
            let opts = opts
                .foreign_keys(true)
                .busy_timeout(sqlite::BUSY_TIMEOUT)
                .pragma("mmap_size", "1073741824")
                .pragma("query_only", "1");
            let attach = rollup_file.to_string_lossy().into_owned();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(1)
                .after_connect(move |c, _| {
                    let attach = attach.clone();
                    Box::pin(async move {
                        let sql = format!("ATTACH DATABASE $1 AS {}", sqlite::ROLLUP_SCHEMA);
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(attach).execute(&mut *c).await.map(|_| ())
                    })
                })
                .connect_with(opts)
                .await?;
            let readers = Arc::new(readers::SyncReaders::new(path));
            Ok(Db::Sqlite(pool, Arc::new(writer), readers, Arc::new(rollup)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            Db::connect_postgres(opts).await
        } else {
            Err(ConnectError::UnknownScheme(redact(url)))
        }
    }

    /// Opens PostgreSQL with explicit options (tests use this to pin a per-test schema).
    pub async fn connect_postgres(opts: PgConnectOptions) -> Result<Db, ConnectError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// Applies the embedded migrations. On SQLite they run on a connection of their own (the
    /// pool's are read-only, and a migration is not a unit of work).
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        match self {
            Db::Sqlite(p, ..) => {
                let opts = (*p.connect_options()).clone().pragma("query_only", "0");
                let mut c = opts.connect().await?;
                SQLITE_MIGRATIONS.run(&mut c).await?;
                sqlx::Connection::close(c).await?;
                // The rollup file's schema is kept by the code, not migrated (see `rollup`).
                if self.write_rollup((), |tx, _| Box::pin(rollup::ensure(tx))).await? {
                    dashboards::fill_products(self).await?;
                }
            }
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Runs a unit of work in a write transaction and returns its result; the one way to write.
    ///
    /// `unit` gets the transaction and `input` (owned by the unit, so it outlives the caller) and
    /// returns a boxed future: `db.write(input, |tx, input| Box::pin(async move { … }))`. An `Err`
    /// takes back everything the unit wrote. The unit runs to its end even if the caller is
    /// dropped meanwhile (a client hung up): only its answer is discarded.
    ///
    /// On SQLite the unit runs on the writer thread ([`writer`]), in its own savepoint of a
    /// transaction it may share with other units; it is answered after the commit. On PostgreSQL
    /// it runs in a task of its own, in an ordinary transaction, and is run again (up to five
    /// times) when the database reports a deadlock or serialization failure — so a unit must not
    /// do anything outside its transaction that cannot be repeated.
    pub async fn write<I, T, E, F>(&self, input: I, unit: F) -> Result<T, E>
    where
        I: Send + Sync + 'static,
        T: Send + 'static,
        E: UnitError,
        F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>> + Send + Sync + 'static,
    {
        match self {
            Db::Sqlite(_, w, ..) => write_sqlite(w, input, unit).await,
            Db::Postgres(pool) => write_postgres(pool, input, unit).await,
        }
    }

    /// [`Db::write`] for the rollup's tables (who buys what, [`rollup`]): on SQLite the unit runs
    /// on the rollup file's writer, where the main file is attached read-only (a write to it
    /// fails); on PostgreSQL it is any unit of work.
    pub async fn write_rollup<I, T, E, F>(&self, input: I, unit: F) -> Result<T, E>
    where
        I: Send + Sync + 'static,
        T: Send + 'static,
        E: UnitError,
        F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>> + Send + Sync + 'static,
    {
        match self {
            Db::Sqlite(.., r) => write_sqlite(r, input, unit).await,
            Db::Postgres(pool) => write_postgres(pool, input, unit).await,
        }
    }

    /// Why writes cannot be made now, if they cannot (for `/readyz`): on SQLite the writer has
    /// stopped, cannot begin or commit, or is stuck; on PostgreSQL the server is unreachable,
    /// read-only, or the write waits on a lock. A small write transaction is tried, for at most
    /// `wait`.
    pub async fn write_trouble(&self, wait: Duration) -> Option<String> {
        if let Db::Sqlite(_, w, ..) = self
            && let Some(why) = w.trouble(Duration::from_secs(10))
        {
            return Some(why);
        }
        // A real write (of this process's heartbeat row, unchanged): it needs SQLite's write lock,
        // and fails on a read-only PostgreSQL standby.
        let probe = self.write((), |tx, _| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE app_instances SET seen_at = seen_at WHERE id = $1",
                    crate::args![idempotency::instance_id()],
                )
                .await
            })
        });
        match tokio::time::timeout(wait, probe).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("a write transaction failed: {e}")),
            // Busy with long units but finishing them is not trouble; stuck is.
            Err(_) => match self {
                Db::Sqlite(_, w, ..) => w.trouble(wait),
                Db::Postgres(_) => Some(format!("a write transaction did not finish within {} s", wait.as_secs())),
            },
        }
    }

    /// The first column (text) of the one row a read query returns, `None` for NULL. On a SQLite
    /// file this runs on the caller's thread ([`readers`]).
    pub async fn read_text(&self, sql: &str, binds: &[&str]) -> StoreResult<Option<String>> {
        if let Db::Sqlite(_, _, r, _) = self {
            return r.text(sql, binds);
        }
        on_db!(self, |c| {
            let mut q = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_string()));
            for b in binds {
                q = q.bind(*b);
            }
            q.fetch_optional(c).await.map(Option::flatten)
        })
    }

    /// Refreshes the planner's statistics (after bulk loads; PostgreSQL planned the catalog query
    /// as a multi-second scan on a freshly loaded 100k-product table until analysed).
    pub async fn analyze(&self) -> StoreResult<()> {
        self.write((), |tx, _| Box::pin(async move { tx.execute("ANALYZE", Vec::new()).await.map(|_| ()) })).await
    }

    /// Takes the planner's statistics again for the tables that grew or shrank tenfold since they
    /// were taken (SQLite's `PRAGMA optimize`, which reads a bounded sample of each: at worst,
    /// every table of the large demo analysed again, 0.38 s; usually none). The outbox, analysed while it held the demo's 1,478 events, made the
    /// planner scan its tens of thousands for an `IN` list of ids; any table that grows after
    /// `ANALYZE` can meet such a plan, so the worker runs this now and then
    /// (`jobs::OPTIMIZE_EVERY`). The rollup file is left unanalysed: without statistics SQLite
    /// assumes large tables, which suits its lookups. PostgreSQL's autovacuum analyses by itself.
    pub async fn optimize(&self) -> StoreResult<()> {
        if let Db::Sqlite(..) = self {
            self.write((), |tx, _| {
                Box::pin(async move { tx.execute("PRAGMA main.optimize = 0x10002", Vec::new()).await.map(|_| ()) })
            })
            .await?;
        }
        Ok(())
    }

    pub async fn ping(&self) -> StoreResult<()> {
        on_db!(self, |c| sqlx::query("SELECT 1").execute(c).await.map(|_| ()))
    }

    /// Which database this is (a file, or a server, database and search path): what in-process
    /// caches are kept per, so two databases in one process (tests) never share entries.
    pub fn identity(&self) -> String {
        match self {
            Db::Sqlite(p, ..) => format!("sqlite:{}", p.connect_options().get_filename().display()),
            Db::Postgres(p) => {
                let o = p.connect_options();
                format!(
                    "postgres:{}:{}/{}?{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or(""),
                    o.get_options().unwrap_or("")
                )
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool; on SQLite the writers first run what is queued and checkpoint the logs
    /// into the database files.
    pub async fn close(&self) {
        if let Db::Sqlite(_, w, _, r) = self {
            let (w, r) = (w.clone(), r.clone());
            let _ = tokio::task::spawn_blocking(move || {
                r.close();
                w.close();
            })
            .await;
        }
        on_db!(self, |c| c.close().await)
    }
}

/// A [`writer::Job`] that runs `unit` on the writer's transaction and answers on `tell` once the
/// commit's outcome is known (nobody may be listening any more: the answer is then dropped).
fn sqlite_job<I, T, E, F>(input: I, unit: F, tell: tokio::sync::oneshot::Sender<Result<T, E>>) -> Job
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: UnitError,
    F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>> + Send + Sync + 'static,
{
    Box::new(move |tx, runtime| {
        let result = runtime.block_on(unit(tx, &input));
        let ok = result.is_ok();
        Ran {
            ok,
            answer: Box::new(move |failed: Option<&str>| {
                let result = match (result, failed) {
                    (Ok(_), Some(why)) => Err(E::from(sqlx::Error::Protocol(why.to_string()))),
                    (r, _) => r,
                };
                let _ = tell.send(result);
            }),
        }
    })
}

/// Runs `unit` on the SQLite writer `w` ([`Db::write`], [`Db::write_rollup`]).
async fn write_sqlite<I, T, E, F>(w: &Writer, input: I, unit: F) -> Result<T, E>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: UnitError,
    F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>> + Send + Sync + 'static,
{
    if writer::on_writer_thread() {
        // It would queue behind the unit that sent it, which waits for it: forever.
        return Err(E::from(sqlx::Error::Protocol(
            "a unit of work cannot send another; pass the Tx to the code that writes".into(),
        )));
    }
    let (tell, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
    w.send(sqlite_job(input, unit, tell)).map_err(E::from)?;
    answer.await.unwrap_or_else(|_| Err(E::from(unfinished())))
}

/// Runs `unit` in a PostgreSQL transaction, in a task of its own ([`run_postgres_unit`]).
async fn write_postgres<I, T, E, F>(pool: &PgPool, input: I, unit: F) -> Result<T, E>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: UnitError,
    F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>> + Send + Sync + 'static,
{
    let pool = pool.clone();
    let task = tokio::spawn(async move { run_postgres_unit(&pool, &input, &unit).await });
    task.await.unwrap_or_else(|e| Err(E::from(sqlx::Error::Protocol(format!("a unit of work failed: {e}")))))
}

fn unfinished() -> sqlx::Error {
    sqlx::Error::Protocol("the unit of work did not finish: it panicked, or no transaction could begin".into())
}

/// Runs a unit in a PostgreSQL transaction, again after a deadlock or serialization failure.
async fn run_postgres_unit<I, T, E, F>(pool: &PgPool, input: &I, unit: &F) -> Result<T, E>
where
    E: UnitError,
    F: for<'t> Fn(&'t mut Tx, &'t I) -> Unit<'t, Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut tx = Tx { conn: TxConn::Postgres(pool.begin().await?) };
        let failed = match unit(&mut tx, input).await {
            Ok(v) => match tx.conn {
                TxConn::Postgres(t) => match t.commit().await {
                    Ok(()) => return Ok(v),
                    Err(e) => E::from(e),
                },
                TxConn::Sqlite(_) => unreachable!("a PostgreSQL unit runs on PostgreSQL"),
            },
            Err(e) => {
                if let TxConn::Postgres(t) = tx.conn {
                    let _ = t.rollback().await;
                }
                e
            }
        };
        if attempt >= PG_ATTEMPTS || !failed.store_error().is_some_and(is_retryable) {
            return Err(failed);
        }
        // Exponential backoff with jitter, so the two that collided do not collide again.
        let jitter =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
                % 5_000;
        let wait = Duration::from_micros(2_000u64 << attempt) + Duration::from_micros(u64::from(jitter));
        tracing::info!(attempt, error = ?failed.store_error(), "retrying a unit of work after a deadlock or serialization failure");
        tokio::time::sleep(wait).await;
    }
}

/// Whether PostgreSQL refused a transaction only because of its timing with another one
/// (deadlock detected, serialization failure): running it again may succeed.
pub fn is_retryable(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "40P01" || c == "40001")
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_string(),
    }
}
