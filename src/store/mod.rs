//! Persistence. One module per aggregate; all SQL lives here.
//!
//! [`Db`] holds a pool for whichever backend `DATABASE_URL` named. Queries are written once: SQLite
//! accepts `$1` placeholders, so the same text runs on both, and the [`on_db!`]/[`on_tx!`] macros
//! expand one body for each backend. The few places where the dialects differ (row locks) use
//! [`for_update!`]. Conventions that keep one text valid on both:
//! - integers are BIGINT (`i64`), times are unix seconds, money is BIGINT ten-thousandths;
//! - `SUM` is wrapped in `CAST(... AS BIGINT)` (PostgreSQL returns NUMERIC for SUM(BIGINT));
//! - case-insensitive search uses `LOWER(col) LIKE $n` (no ILIKE on SQLite).

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod carts;
pub mod idempotency;
pub mod import_jobs;
pub mod inventory;
pub mod lane;
pub mod orders;
pub mod pricing;
pub mod products;
pub mod readers;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use lane::{SAVEPOINT, SqliteTurn, SqliteWriter};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// The database, on either backend.
#[derive(Clone, Debug)]
pub enum Db {
    /// The pool for reads, this process's write lane ([`SqliteWriter`]) and the reads that run on
    /// the caller's thread ([`readers`]; none for an in-memory database).
    Sqlite(SqlitePool, std::sync::Arc<SqliteWriter>, Option<std::sync::Arc<readers::SyncReaders>>),
    Postgres(PgPool),
}

/// A write transaction (see [`Db::begin`]), with the writes queued by [`Tx::defer`] that have not
/// been sent yet.
pub struct Tx {
    conn: TxConn,
    deferred: Vec<(String, Vec<Cell>)>,
}

/// The open transaction on either backend.
pub enum TxConn {
    Sqlite(SqliteTurn),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the pool of whichever backend `$db` (a `&Db`) holds.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($c, ..) => $body,
            $crate::store::Db::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the connection of the open transaction `$tx` (a `&mut Tx`),
/// after the writes it has deferred (so every statement sees the ones queued before it).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx.ready().await {
            Err(e) => Err(e),
            Ok($crate::store::TxConn::Sqlite(turn)) => {
                let $c = turn.conn();
                $body
            }
            Ok($crate::store::TxConn::Postgres(t)) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A `SELECT` that locks the rows it reads until the transaction ends. On PostgreSQL that is
/// `FOR UPDATE`; SQLite has no row locks, and needs none: every write transaction there is
/// `BEGIN IMMEDIATE`, which already holds the database's single write lock.
#[macro_export]
macro_rules! for_update {
    ($tx:expr, |$c:ident, $sql:ident| $select:literal, $body:expr) => {
        match $tx.ready().await {
            Err(e) => Err(e),
            Ok($crate::store::TxConn::Sqlite(turn)) => {
                let $c = turn.conn();
                let $sql = $select;
                $body
            }
            Ok($crate::store::TxConn::Postgres(t)) => {
                let $c = &mut **t;
                let $sql = concat!($select, " FOR UPDATE");
                $body
            }
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "DATABASE_URL must start with sqlite:// (e.g. sqlite://portico.db) or postgres:// (e.g. postgres://user@host/db); got “{0}”"
    )]
    UnknownScheme(String),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens the database named by `url` (no migrations; see [`Db::migrate`]).
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        if url.starts_with("sqlite:") {
            // synchronous=FULL: an acknowledged commit survives an OS crash, not just a process crash.
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(lane::BUSY_TIMEOUT)
                // Reads through a memory map instead of a read() per page: the 500-line quote went
                // from 25 to 15–20 ms and the catalog page from ~280 to ~500 pages/s on the 100k
                // dataset. Mapped pages show as RssFile (shared page cache), not process memory.
                .pragma("mmap_size", "1073741824");
            let pool =
                SqlitePoolOptions::new().max_connections(8).min_connections(1).connect_with(opts.clone()).await?;
            let writer = SqliteWriter::connect(&opts, pool.clone()).await?;
            let readers = readers::SyncReaders::for_file(opts.get_filename()).map(std::sync::Arc::new);
            Ok(Db::Sqlite(pool, std::sync::Arc::new(writer), readers))
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

    pub async fn migrate(&self) -> Result<(), ConnectError> {
        match self {
            Db::Sqlite(p, ..) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock up front, so
    /// two writers never deadlock upgrading a read lock), plain `BEGIN` on PostgreSQL where the
    /// rows that must not change are locked with [`for_update!`].
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            // A plain turn commits what placements left open first: nothing is deferred yet.
            Db::Sqlite(_, w, _) => Tx::new(TxConn::Sqlite(w.turn(false).await?)),
            Db::Postgres(p) => Tx::new(TxConn::Postgres(p.begin().await?)),
        })
    }

    /// A write transaction for a placement: on SQLite it may share one database transaction with
    /// other placements (see [`lane`]); its own writes sit in a savepoint. Refusing it takes
    /// [`Tx::rollback`]; committing may wait for the placements after it. On PostgreSQL it is a
    /// plain transaction.
    pub async fn begin_shared(&self) -> StoreResult<Tx> {
        match self {
            Db::Sqlite(_, w, _) => {
                let mut turn = w.turn(true).await?;
                let mut deferred = turn.take_deferred();
                deferred.push((SAVEPOINT.into(), Vec::new()));
                Ok(Tx { conn: TxConn::Sqlite(turn), deferred })
            }
            Db::Postgres(_) => self.begin().await,
        }
    }

    /// The first column (text) of the one row a read query returns, `None` for NULL. On a SQLite
    /// file this runs on the caller's thread ([`readers`]).
    pub async fn read_text(&self, sql: &str, binds: &[&str]) -> StoreResult<Option<String>> {
        if let Db::Sqlite(_, _, Some(r)) = self {
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
        on_db!(self, |c| sqlx::query("ANALYZE").execute(c).await.map(|_| ()))
    }

    pub async fn ping(&self) -> StoreResult<()> {
        on_db!(self, |c| sqlx::query("SELECT 1").execute(c).await.map(|_| ()))
    }

    /// A subquery yielding the values of a JSON array of strings bound as parameter `param` (e.g.
    /// `$2`; bind [`json_list`]). Long `IN` lists use one parameter this way: the SQLite driver
    /// binds each numbered parameter by scanning the statement's parameter names, so a list of a
    /// thousand `$n` costs a million comparisons per statement.
    pub fn json_values(&self, param: &str) -> String {
        match self {
            Db::Sqlite(..) => format!("SELECT value FROM json_each({param})"),
            Db::Postgres(_) => format!("SELECT jsonb_array_elements_text({param}::jsonb)"),
        }
    }

    /// An aggregate that returns the selected rows as one row: a JSON array of objects with the
    /// given (key, SQL expression) fields, in `order` (an `ORDER BY` list, or empty). Decode it
    /// with [`fetch_json_rows`]. The SQLite driver hands every row from its worker thread to the
    /// caller separately (a channel send, a wake-up, a copy of each value): a catalog page's few
    /// hundred rows cost more in hand-overs than in the queries, one row costs one.
    pub fn json_rows(&self, fields: &[(&str, &str)], order: &str) -> String {
        let pairs: Vec<String> = fields.iter().map(|(k, e)| format!("'{k}', {e}")).collect();
        let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {order}") };
        match self {
            Db::Sqlite(..) => format!("json_group_array(json_object({}){order})", pairs.join(", ")),
            Db::Postgres(_) => {
                format!("COALESCE(json_agg(json_build_object({}){order}), '[]'::json)::text", pairs.join(", "))
            }
        }
    }

    /// The dialect's aggregate that joins text values with commas.
    pub fn string_agg(&self, expr: &str) -> String {
        match self {
            Db::Sqlite(..) => format!("group_concat({expr}, ',')"),
            Db::Postgres(_) => format!("string_agg({expr}, ',')"),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        if let Db::Sqlite(_, w, _) = self {
            w.close().await;
        }
        on_db!(self, |c| c.close().await)
    }
}

impl Tx {
    fn new(conn: TxConn) -> Tx {
        Tx { conn, deferred: Vec::new() }
    }

    fn shared(&self) -> bool {
        matches!(&self.conn, TxConn::Sqlite(turn) if turn.shared)
    }

    /// Sends the deferred writes, then commits.
    pub async fn commit(mut self) -> StoreResult<()> {
        if self.shared() {
            self.defer("RELEASE placement", Vec::new());
            if let Some((writer, done)) = self.hand_over(true) {
                drop(self);
                return writer.wait(done).await;
            }
        }
        self.commit_now().await
    }

    /// Takes back a shared placement's writes (its savepoint) and lets the transaction go on for
    /// the others; a plain transaction is rolled back.
    pub async fn rollback(mut self) -> StoreResult<()> {
        if !self.shared() {
            return match self.conn {
                TxConn::Postgres(t) => t.rollback().await,
                // Dropping the turn rolls the transaction back.
                TxConn::Sqlite(_) => Ok(()),
            };
        }
        match self.deferred.iter().rposition(|(sql, _)| sql == SAVEPOINT) {
            // The savepoint was never sent: neither was anything of this placement.
            Some(at) => self.deferred.truncate(at),
            None => {
                self.deferred.clear();
                self.defer("ROLLBACK TO placement", Vec::new());
                self.defer("RELEASE placement", Vec::new());
            }
        }
        if self.hand_over(false).is_some() {
            return Ok(());
        }
        self.commit_now().await
    }

    /// Sends the deferred writes and commits, for every placement sharing the transaction.
    async fn commit_now(mut self) -> StoreResult<()> {
        let deferred = std::mem::take(&mut self.deferred);
        match self.conn {
            TxConn::Sqlite(turn) => turn.commit(deferred),
            TxConn::Postgres(mut t) => {
                run_postgres(&mut t, deferred).await?;
                t.commit().await
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn hand_over(
        &mut self,
        wait: bool,
    ) -> Option<(std::sync::Arc<SqliteWriter>, tokio::sync::oneshot::Receiver<Result<(), String>>)> {
        match &mut self.conn {
            TxConn::Sqlite(turn) => turn.hand_over(&mut self.deferred, wait),
            TxConn::Postgres(_) => None,
        }
    }

    /// Queues a write whose outcome the caller does not need to see before the transaction goes
    /// on: it is sent with the other queued writes just before the next statement of this
    /// transaction, or at commit. On SQLite the queue runs on the lane's connection without
    /// leaving the task ([`lane`]); on PostgreSQL statement by statement. A failing deferred write
    /// fails that next statement (or the commit), and the transaction rolls back.
    /// `sql` numbers its own parameters from `$1`, and is static text chosen by the caller.
    pub fn defer(&mut self, sql: impl Into<String>, args: Vec<Cell>) {
        self.deferred.push((sql.into(), args));
    }

    /// The connection, once the deferred writes have been sent.
    pub async fn ready(&mut self) -> StoreResult<&mut TxConn> {
        self.flush().await?;
        Ok(&mut self.conn)
    }

    async fn flush(&mut self) -> StoreResult<()> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.deferred);
        match &mut self.conn {
            TxConn::Sqlite(turn) => turn.run(batch),
            TxConn::Postgres(t) => run_postgres(t, batch).await,
        }
    }

    /// Whether this transaction runs on SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self.conn, TxConn::Sqlite(_))
    }

    /// Prepares a transaction that writes hundreds of thousands of rows (imports, seeding). On
    /// SQLite the page cache is raised to 256 MB for this connection: with the default 2 MB, dirty
    /// index pages spill to the WAL again and again during one long transaction, which made a
    /// 1M-row import ten times slower.
    pub async fn bulk_mode(&mut self) -> StoreResult<()> {
        if let TxConn::Sqlite(turn) = self.ready().await? {
            sqlx::query("PRAGMA cache_size = -262144").execute(turn.conn()).await?;
        }
        Ok(())
    }

    /// The next order number. PostgreSQL takes it from a sequence, outside the transaction's
    /// locks (the counter row's lock serialised placements until commit: p99 582 ms at
    /// concurrency 16); a placement that rolls back leaves a gap, never a duplicate. On SQLite the
    /// write lane already serialises writers, so the counter row costs nothing more.
    pub async fn next_order_number(&mut self) -> StoreResult<i64> {
        match self.ready().await? {
            TxConn::Sqlite(..) => self.next_counter("order").await,
            TxConn::Postgres(t) => {
                sqlx::query_scalar::<_, i64>("SELECT nextval('order_numbers')").fetch_one(&mut **t).await
            }
        }
    }

    /// Allocates the next value of a named counter (human numbers such as account A-10001).
    /// Atomic on both backends: the row is updated inside the caller's write transaction.
    pub async fn next_counter(&mut self, name: &str) -> StoreResult<i64> {
        const SQL: &str = "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value";
        match self.ready().await? {
            TxConn::Sqlite(turn) => {
                turn.query(SQL, vec![Cell::text(name)], |r| r.get(0))?.pop().ok_or(sqlx::Error::RowNotFound)
            }
            TxConn::Postgres(t) => sqlx::query_scalar::<_, i64>(SQL).bind(name).fetch_one(&mut **t).await,
        }
    }
}

/// The (key, expression) fields of a plain column list such as `"p.id, p.sku"`, for
/// [`Db::json_rows`]: each key is the column's name.
pub fn json_fields(columns: &str) -> Vec<(&str, &str)> {
    columns.split(',').map(str::trim).map(|c| (c.rsplit('.').next().unwrap_or(c), c)).collect()
}

/// Streams the rows of a static query to `each` without holding them in memory (exports of a
/// million rows); returns how many there were.
pub async fn for_each_row<T, E>(db: &Db, sql: &'static str, mut each: impl FnMut(T) -> Result<(), E>) -> Result<u64, E>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
    E: From<sqlx::Error>,
{
    use futures_util::TryStreamExt;
    let mut n = 0;
    on_db!(db, |c| {
        let mut rows = sqlx::query_as::<_, T>(sql).fetch(c);
        while let Some(row) = rows.try_next().await? {
            each(row)?;
            n += 1;
        }
    });
    Ok(n)
}

/// Runs a query whose one column is a [`Db::json_rows`] aggregate, binding `binds` as `$1…` in
/// order, and decodes its rows (none when nothing matched).
pub async fn fetch_json_rows<T: serde::de::DeserializeOwned>(
    db: &Db,
    sql: &str,
    binds: &[&str],
) -> StoreResult<Vec<T>> {
    match db.read_text(sql, binds).await? {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}

/// A boolean column in a [`Db::json_rows`] object: SQLite stores booleans as 0 and 1.
pub fn bool_from_json<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
    }
    Ok(match <B as serde::Deserialize>::deserialize(d)? {
        B::Bool(b) => b,
        B::Int(i) => i != 0,
    })
}

/// A JSON array of strings, to bind for [`Db::json_values`].
pub fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// True when `err` is a unique-constraint violation (duplicate e-mail, number, external id).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

/// A new id: UUIDv7, so any node can generate one and they sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `%term%` for `LIKE`, lowercased, with LIKE wildcards in the term escaped literally.
pub fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for ch in term.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_string(),
    }
}

/// One value of a bulk-inserted row.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    Int(i64),
    Bool(bool),
    /// A NULL in a TEXT column (PostgreSQL types parameters, so NULLs are typed too).
    NullText,
    /// A NULL in a BIGINT column.
    NullInt,
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    pub fn opt_text(s: Option<&str>) -> Cell {
        s.map(Cell::text).unwrap_or(Cell::NullText)
    }
}

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements inside the caller's
/// transaction — for seeding and imports, where one statement per row is far too slow.
/// `table` and `columns` are static identifiers chosen by the caller, never input.
pub async fn bulk_insert(
    tx: &mut Tx,
    table: &'static str,
    columns: &[&'static str],
    rows: &[Vec<Cell>],
) -> StoreResult<()> {
    bulk_insert_with(tx, table, columns, rows, "").await.map(|_| ())
}

/// [`bulk_insert`] with a clause after the VALUES (an `ON CONFLICT …` upsert); returns the number
/// of rows inserted or changed.
pub async fn bulk_insert_with(
    tx: &mut Tx,
    table: &'static str,
    columns: &[&'static str],
    rows: &[Vec<Cell>],
    suffix: &'static str,
) -> StoreResult<u64> {
    let mut affected = 0;
    for (sql, args) in insert_statements(table, columns, rows, suffix) {
        affected += on_tx!(tx, |c| bind_cells(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(affected)
}

/// [`bulk_insert`] as writes deferred to the transaction's next round trip ([`Tx::defer`]).
pub fn defer_insert(tx: &mut Tx, table: &'static str, columns: &[&'static str], rows: &[Vec<Cell>]) {
    for (sql, args) in insert_statements(table, columns, rows, "") {
        tx.defer(sql, args);
    }
}

/// Multi-row `INSERT … VALUES (…), (…)` statements for `rows`, with their arguments.
pub(crate) fn insert_statements(
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell>],
    suffix: &str,
) -> Vec<(String, Vec<Cell>)> {
    // About 1,000 parameters per statement: SQLite allows 32,766, but the driver looks up each
    // parameter's name by scanning the statement's list, so the cost per statement grows with the
    // square of its parameters (30,000 made a 1M-row import spend 98 % of its time there).
    let per_statement = (1_000 / columns.len()).max(1);
    let mut statements = Vec::new();
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(suffix);
        statements.push((sql, chunk.iter().flatten().cloned().collect()));
    }
    statements
}

/// Binds `cells` in order to `$1`, `$2`, ….
pub(crate) fn bind_cells<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    cells: Vec<Cell>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for cell in cells {
        q = match cell {
            Cell::Text(s) => q.bind(s),
            Cell::Int(i) => q.bind(i),
            Cell::Bool(b) => q.bind(b),
            Cell::NullText => q.bind(None::<String>),
            Cell::NullInt => q.bind(None::<i64>),
        };
    }
    q
}

/// Sends queued statements to PostgreSQL, one after another.
async fn run_postgres(t: &mut Transaction<'static, Postgres>, batch: Vec<(String, Vec<Cell>)>) -> StoreResult<()> {
    for (statement, cells) in batch {
        bind_cells(sqlx::query(sqlx::AssertSqlSafe(statement)), cells).execute(&mut **t).await?;
    }
    Ok(())
}
