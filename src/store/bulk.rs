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
    run_inserts(tx, "INSERT", table, columns, rows, suffix).await
}

/// [`bulk_insert`] of rows the caller knows are not there (it read them, or deleted them first).
///
/// On SQLite it says `INSERT OR FAIL`. A statement that writes several rows and may abort (a key
/// or NOT NULL constraint, so any plain multi-row `INSERT`, and any upsert) first copies every
/// page it changes into a statement journal, to take back its own rows alone; where the rows
/// spread over the table, that copying was a tenth of the who-buys-what worker's CPU. `OR FAIL`
/// never takes a statement back: a failure keeps the statement's earlier rows and returns the
/// error, and the error takes back the caller's whole unit. PostgreSQL keeps no such journal.
pub async fn bulk_insert_new(
    tx: &mut Tx,
    table: &'static str,
    columns: &[&'static str],
    rows: &[Vec<Cell>],
) -> StoreResult<()> {
    let verb = if tx.is_sqlite() { "INSERT OR FAIL" } else { "INSERT" };
    run_inserts(tx, verb, table, columns, rows, "").await.map(|_| ())
}

/// Runs [`insert_statements`] in the caller's transaction; returns the rows inserted or changed.
async fn run_inserts(
    tx: &mut Tx,
    verb: &'static str,
    table: &'static str,
    columns: &[&'static str],
    rows: &[Vec<Cell>],
    suffix: &'static str,
) -> StoreResult<u64> {
    let mut affected = 0;
    for (sql, args) in insert_statements(verb, table, columns, rows, suffix) {
        affected += tx.execute(&sql, args).await?;
    }
    Ok(affected)
}

/// How many of the `left` rows the next statement inserts: `most`, else all of them up to 16,
/// else the largest power of two that fits. Statements then come in a few lengths (at most about
/// 16 + log2(`most`) texts per table), each prepared once and kept in the connection's statement
/// cache, however the row counts vary — the who-buys-what worker writes thousands of rows in
/// pieces of every size.
fn statement_rows(left: usize, most: usize) -> usize {
    if left >= most {
        most
    } else if left <= 16 {
        left
    } else {
        1 << (usize::BITS - 1 - left.leading_zeros())
    }
}

/// Multi-row `INSERT … VALUES (…), (…)` statements for `rows`, with their arguments. The text is
/// written without `format!`: formatting each of a statement's thousand placeholders was a tenth
/// of the who-buys-what worker's CPU.
fn insert_statements(
    verb: &str,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell>],
    suffix: &str,
) -> Vec<(String, Vec<Cell>)> {
    // About 1,000 parameters per statement: SQLite allows 32,766, but the driver looks up each
    // parameter's name by scanning the statement's list, so the cost per statement grows with the
    // square of its parameters (30,000 made a 1M-row import spend 98 % of its time there).
    let per_statement = (1_000 / columns.len()).max(1);
    let head = [verb, " INTO ", table, " (", &columns.join(", "), ") VALUES "].concat();
    let mut statements = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(statement_rows(rest.len(), per_statement));
        rest = tail;
        // "($1, $2), " is at most 9 bytes a placeholder with the separators.
        let mut sql = String::with_capacity(head.len() + chunk.len() * columns.len() * 9 + 1 + suffix.len());
        sql.push_str(&head);
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
                push_placeholder(&mut sql, n);
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(suffix);
        statements.push((sql, chunk.iter().flatten().cloned().collect()));
    }
    statements
}

/// Appends `$n`.
fn push_placeholder(sql: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let (mut at, mut left) = (digits.len(), n);
    loop {
        at -= 1;
        digits[at] = b'0' + (left % 10) as u8;
        left /= 10;
        if left == 0 {
            break;
        }
    }
    sql.push('$');
    sql.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row is inserted once, in order, and however the row counts vary the statements come
    /// in a few texts (what the statement cache holds).
    #[test]
    fn statements_cover_the_rows_in_a_few_lengths() {
        let columns = ["a", "b", "c", "d", "e", "f"];
        let mut texts = std::collections::BTreeSet::new();
        for n in 0..2_000i64 {
            let rows: Vec<Vec<Cell>> = (0..n).map(|i| vec![Cell::Int(i); columns.len()]).collect();
            let statements = insert_statements("INSERT", "t", &columns, &rows, "");
            let args: Vec<Cell> = statements.iter().flat_map(|(_, a)| a.clone()).collect();
            assert_eq!(format!("{args:?}"), format!("{:?}", rows.concat()), "{n} rows");
            texts.extend(statements.into_iter().map(|(sql, _)| sql));
        }
        // 166 rows at most: 1..=16, 32, 64, 128 and 166.
        assert_eq!(texts.len(), 16 + 3 + 1);
    }

    /// The text is what it says: placeholders numbered from 1 across the rows, the verb and the
    /// suffix where they belong.
    #[test]
    fn statements_read_as_written() {
        let rows: Vec<Vec<Cell>> = (0..3).map(|i| vec![Cell::Int(i), Cell::text("x")]).collect();
        let statements = insert_statements("INSERT OR FAIL", "t", &["a", "b"], &rows, "ON CONFLICT (a) DO NOTHING");
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].0,
            "INSERT OR FAIL INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) ON CONFLICT (a) DO NOTHING"
        );
        for n in [1, 9, 10, 99, 100, 1000, 12345, usize::MAX] {
            let mut sql = String::new();
            push_placeholder(&mut sql, n);
            assert_eq!(sql, format!("${n}"));
        }
    }
}
