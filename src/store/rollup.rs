//! The rollup file (SQLite only): who buys what, kept by the worker from the orders
//! (`store::dashboards::refresh_products`), in a database file of its own beside the main one
//! (`<file>-rollup`, [`super::sqlite::rollup_path`]).
//!
//! Why a file of its own: SQLite has one writer per file. Counting a thousand orders into these
//! tables takes the writer for a few hundred milliseconds, and placements queued behind it: with
//! the rollup in the main file, placement lost 20–30 % of its orders/s while the worker ran. The
//! rollup's own writer ([`super::Db::write_rollup`]) holds the rollup file's lock only, and reads
//! the orders from the main file attached read-only; every read connection attaches the rollup
//! file, so the dashboards read its tables like the main file's.
//!
//! The rollup is derived data: everything in it can be summed again from the orders. Its schema
//! is therefore not migrated but kept here, with a version: a rollup file that is missing, of
//! another version, or left beside a database created anew, is emptied, created anew and filled
//! from the orders when the database is migrated ([`super::Db::migrate`]). (A database file
//! restored from a backup cannot be told from the one it was: delete the rollup file with it.) On PostgreSQL the same tables are in the database, created by
//! the migrations (0044, 0047, 0050–0053, 0055), and written in the order's database like every other.
//!
//! The two files commit separately. Counting an order again changes nothing (what was counted of
//! each order is kept here, `order_product_counts`), so the worker commits the rollup first and
//! removes the orders' marks from the main file afterwards: a crash between the two only counts
//! those orders again.

use super::{StoreResult, Tx};

/// The rollup's schema version: change it with the schema, and every rollup file is filled anew.
/// 2: what was counted of an order is one row per order (`order_product_counts.products`), as
/// PostgreSQL's migration 0055.
const VERSION: i64 = 2;

/// The rollup's tables, (name, columns), as in the PostgreSQL migrations (without foreign keys:
/// the accounts and products are in the other file).
const TABLES: [(&str, &str); 6] = [
    (
        "rollup_state",
        "(
        id      BIGINT PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL,
        -- When the database file's first migration ran: a rollup file left beside a database
        -- created anew is not this database's.
        origin  TEXT NOT NULL,
        -- 1 once filled from the orders.
        filled  BIGINT NOT NULL
    )",
    ),
    (
        "account_product_months",
        "(
        account_id TEXT NOT NULL,
        month      TEXT NOT NULL,
        product_id TEXT NOT NULL,
        quantity   BIGINT NOT NULL,
        revenue    BIGINT NOT NULL,
        orders     BIGINT NOT NULL,
        PRIMARY KEY (account_id, product_id, month)
    ) WITHOUT ROWID",
    ),
    (
        "product_months",
        "(
        month      TEXT NOT NULL,
        product_id TEXT NOT NULL,
        quantity   BIGINT NOT NULL,
        revenue    BIGINT NOT NULL,
        orders     BIGINT NOT NULL,
        buyers     BIGINT NOT NULL,
        PRIMARY KEY (month, product_id)
    ) WITHOUT ROWID",
    ),
    (
        "product_windows",
        "(
        months     BIGINT NOT NULL,
        product_id TEXT NOT NULL,
        quantity   BIGINT NOT NULL,
        revenue    BIGINT NOT NULL,
        orders     BIGINT NOT NULL,
        buyers     BIGINT NOT NULL,
        PRIMARY KEY (months, product_id)
    ) WITHOUT ROWID",
    ),
    (
        "product_window_month",
        "(
        id    BIGINT PRIMARY KEY CHECK (id = 1),
        month TEXT NOT NULL
    )",
    ),
    (
        "order_product_counts",
        "(
        order_id TEXT NOT NULL PRIMARY KEY,
        products TEXT NOT NULL
    ) WITHOUT ROWID",
    ),
];

/// Creates the rollup's tables in the rollup file (the rollup writer's own database) when they are
/// missing, of another version or of another database, emptied. Returns whether the rollup waits
/// to be filled from the orders ([`mark_filled`] once it is). Runs after the database's
/// migrations.
pub(super) async fn ensure(tx: &mut Tx) -> StoreResult<bool> {
    let origin: String = tx
        .fetch_one(
            "SELECT CAST(installed_on AS TEXT) FROM portico._sqlx_migrations ORDER BY version LIMIT 1",
            Vec::new(),
        )
        .await?;
    let exists: i64 = tx
        .fetch_one("SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'rollup_state'", Vec::new())
        .await?;
    if exists > 0 {
        #[derive(serde::Deserialize)]
        struct State {
            version: i64,
            origin: String,
            filled: i64,
        }
        let state: Option<State> =
            tx.fetch_optional("SELECT version, origin, filled FROM main.rollup_state WHERE id = 1", Vec::new()).await?;
        if let Some(state) = state
            && state.version == VERSION
            && state.origin == origin
        {
            return Ok(state.filled == 0);
        }
    }
    for (name, _) in TABLES {
        tx.execute(&format!("DROP TABLE IF EXISTS main.{name}"), Vec::new()).await?;
    }
    for (name, columns) in TABLES {
        tx.execute(&format!("CREATE TABLE main.{name} {columns}"), Vec::new()).await?;
    }
    tx.execute("INSERT INTO main.product_window_month (id, month) VALUES (1, '')", Vec::new()).await?;
    tx.execute(
        "INSERT INTO main.rollup_state (id, version, origin, filled) VALUES (1, $1, $2, 0)",
        crate::args![VERSION, origin.as_str()],
    )
    .await?;
    Ok(true)
}

/// Notes that the rollup was filled from the orders (in the transaction that filled it).
pub(super) async fn mark_filled(tx: &mut Tx) -> StoreResult<()> {
    tx.execute("UPDATE main.rollup_state SET filled = 1 WHERE id = 1", Vec::new()).await.map(|_| ())
}
