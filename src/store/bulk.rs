//! Multi-row inserts: many rows in a few `INSERT … VALUES (…), (…)` statements.

use super::{Cell, StoreResult, Tx};

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements inside the caller's
/// transaction — for seeding, imports and an order's lines, where one statement per row is far
/// too slow. `table` and `columns` are static identifiers chosen by the caller, never input.
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
        affected += tx.execute(&sql, args).await?;
    }
    Ok(affected)
}

/// Multi-row `INSERT … VALUES (…), (…)` statements for `rows`, with their arguments.
fn insert_statements(table: &str, columns: &[&str], rows: &[Vec<Cell>], suffix: &str) -> Vec<(String, Vec<Cell>)> {
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
