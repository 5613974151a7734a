//! Small helpers for writing one SQL text that both backends run, and for the values it binds.

use super::Db;

impl Db {
    /// The dialect's aggregate that joins text values with commas.
    pub fn string_agg(&self, expr: &str) -> String {
        match self {
            Db::Sqlite(..) => format!("group_concat({expr}, ',')"),
            Db::Postgres(_) => format!("string_agg({expr}, ',')"),
        }
    }
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

/// One page of every list an ERP pulls, oldest change first: the rows of `from` (a table, or a
/// derived table, named `alias`) changed at or after `since`, after the key of the previous page's
/// last row (`after`: updated_at, id), optionally within one account. `columns` are read as one
/// JSON row ([`super::fetch_json_rows`]); the times are bound as text, hence the casts.
pub(crate) async fn changed_rows<T: serde::de::DeserializeOwned>(
    db: &Db,
    (from, alias, columns): (&str, &str, &str),
    account: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> super::StoreResult<Vec<T>> {
    let (at, id) = after.unwrap_or((since, ""));
    let a = alias;
    let scope = if account.is_some() { format!("{a}.account_id = $4 AND ") } else { String::new() };
    let sql = format!(
        "SELECT {} FROM (SELECT {columns} FROM {from} {a} WHERE {scope}{a}.updated_at >= CAST($1 AS BIGINT)
             AND ({a}.updated_at > CAST($2 AS BIGINT) OR ({a}.updated_at = CAST($2 AS BIGINT) AND {a}.id > $3))
             ORDER BY {a}.updated_at, {a}.id LIMIT {}) {a}",
        db.json_rows(&super::json_fields(columns), &format!("{a}.updated_at, {a}.id")),
        limit.clamp(1, 1000)
    );
    let (since, at) = (since.to_string(), at.to_string());
    let mut binds = vec![since.as_str(), at.as_str(), id];
    binds.extend(account);
    super::fetch_json_rows(db, &sql, &binds).await
}
