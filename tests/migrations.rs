//! The two migration trees stay in lock-step: same file names, and the same tables and columns
//! (views are not compared: each tree writes its own dialect of them).

mod common;

use common::DbPlace;
use portico::store::Db;
use std::collections::BTreeSet;

type Columns = BTreeSet<(String, String)>;

fn file_names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The tables and columns SQLite builds: in the database file, and in the rollup file beside it
/// (store::rollup: who buys what, whose schema the code keeps; its `rollup_state` is SQLite's own).
async fn sqlite_columns() -> (Columns, Columns) {
    let path = std::env::temp_dir().join(format!("portico-parity-{}.db", portico::store::new_id()));
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    db.migrate().await.unwrap();
    let Db::Sqlite(pool, ..) = &db else { unreachable!() };
    let main: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM main.sqlite_master m JOIN pragma_table_info(m.name, 'main') p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let rollup: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM rollup.sqlite_master m JOIN pragma_table_info(m.name, 'rollup') p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'rollup_state'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    db.close().await;
    for file in portico::store::database_files(&path) {
        let _ = std::fs::remove_file(file);
    }
    (main.into_iter().collect(), rollup.into_iter().collect())
}

/// Columns declared by the CREATE TABLE statements of a migration tree (a check that needs no server).
fn declared_columns(dir: &str) -> Columns {
    let mut out = Columns::new();
    for name in file_names(dir) {
        let sql = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let mut table: Option<String> = None;
        for line in sql.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("ALTER TABLE ")
                && let Some((from, to)) = rest.split_once(" RENAME TO ")
            {
                let to = to.trim_end_matches(';').trim().to_string();
                let moved: Vec<(String, String)> = out.iter().filter(|(t, _)| t == from.trim()).cloned().collect();
                for (t, col) in moved {
                    out.remove(&(t, col.clone()));
                    out.insert((to.clone(), col));
                }
            } else if let Some(rest) = line.strip_prefix("DROP TABLE ") {
                let dropped = rest.trim_end_matches(';').trim();
                out.retain(|(t, _)| t != dropped);
            } else if let Some(rest) = line.strip_prefix("ALTER TABLE ")
                && let Some((t, col)) = rest.split_once(" ADD COLUMN ")
            {
                out.insert((t.trim().to_string(), col.split_whitespace().next().unwrap().to_string()));
            } else if let Some(rest) = line.strip_prefix("ALTER TABLE ")
                && let Some((t, col)) = rest.split_once(" DROP COLUMN ")
            {
                out.remove(&(t.trim().to_string(), col.trim_end_matches(';').trim().to_string()));
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = Some(rest.split_whitespace().next().unwrap().to_string());
            } else if line.starts_with(')') {
                table = None;
            } else if let Some(t) = &table {
                let first = line.split_whitespace().next().unwrap_or("");
                if !first.is_empty()
                    && !["CHECK", "PRIMARY", "UNIQUE", "FOREIGN", "CONSTRAINT", "--"]
                        .iter()
                        .any(|k| first.starts_with(k))
                {
                    out.insert((t.clone(), first.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn both_trees_have_the_same_files() {
    let sqlite = file_names("migrations/sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, file_names("migrations/postgres"));
}

#[tokio::test]
async fn both_trees_declare_and_build_the_same_tables_and_columns() {
    let (live_main, live_rollup) = sqlite_columns().await;
    assert!(live_main.contains(&("accounts".into(), "credit_limit".into())));
    assert!(live_rollup.contains(&("product_months".into(), "buyers".into())));
    assert_eq!(
        declared_columns("migrations/sqlite"),
        live_main,
        "the parser reads the SQLite tree as SQLite builds it"
    );
    // PostgreSQL keeps in its database what SQLite keeps in the rollup file.
    let live_sqlite: Columns = live_main.union(&live_rollup).cloned().collect();
    assert_eq!(declared_columns("migrations/postgres"), live_sqlite, "PostgreSQL tree declares the same columns");

    // With a PostgreSQL server at hand, compare what it actually builds.
    let (place, url) = DbPlace::new();
    if place.is_postgres() {
        place.prepare().await;
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let Db::Postgres(pool) = &db else { unreachable!() };
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        db.close().await;
        assert_eq!(
            rows.into_iter().collect::<Columns>(),
            live_sqlite,
            "PostgreSQL builds the same tables and columns as SQLite"
        );
    }
}
