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

/// The most keys one [`padded_in`] list holds.
pub(crate) const IN_CHUNK: usize = 512;

/// An `IN (…)` list for `keys` (at most [`IN_CHUNK`]) from parameter `$first`, with its
/// arguments, padded with NULLs (which match nothing) to a power of two of at least 8. A loop over
/// thousands of keys then runs statements of a few texts, not one text per length: each text is
/// prepared once and stays in the connection's statement cache beside the statements placement
/// runs, instead of being prepared anew and pushing those out.
pub(crate) fn padded_in(first: usize, keys: &[&str]) -> (String, Vec<super::Cell>) {
    let len = keys.len().max(8).next_power_of_two();
    let list = super::leases::placeholders(first, len);
    let mut args: Vec<super::Cell> = keys.iter().map(|k| super::Cell::text(k)).collect();
    args.resize(len, super::Cell::NullText);
    (list, args)
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

/// The keyset of a changes page on the rows named `alias`, as [`changed_rows`] pages them: the
/// condition (changed at or after `$p`, after the previous page's last `(updated_at, id)` at
/// `$p+1`, `$p+2`) and the order with its limit. Bind [`changes_binds`] at `$p`…`$p+2`.
pub(crate) fn changes_keyset(alias: &str, p: usize, limit: i64) -> (String, String) {
    let a = alias;
    let (s, t, i) = (p, p + 1, p + 2);
    (
        format!(
            "{a}.updated_at >= CAST(${s} AS BIGINT) AND ({a}.updated_at > CAST(${t} AS BIGINT)
             OR ({a}.updated_at = CAST(${t} AS BIGINT) AND {a}.id > ${i}))"
        ),
        format!("ORDER BY {a}.updated_at, {a}.id LIMIT {}", limit.clamp(1, 1000)),
    )
}

/// The three texts [`changes_keyset`] binds: since, and the previous page's last key.
pub(crate) fn changes_binds(since: i64, after: Option<(i64, &str)>) -> Vec<String> {
    let (at, id) = after.unwrap_or((since, ""));
    vec![since.to_string(), at.to_string(), id.to_string()]
}

/// [`changed_rows`] for rows read through joins with `FromRow`: `select` is `SELECT … FROM …`
/// whose changing table is aliased `alias`, optionally within one account.
pub(crate) async fn changed_joined<T>(
    db: &Db,
    (select, alias): (&str, &str),
    account: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> super::StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let (keyset, order) = changes_keyset(alias, 1, limit);
    let scope = if account.is_some() { format!(" AND {alias}.account_id = $4") } else { String::new() };
    let sql = format!("{select} WHERE {keyset}{scope} {order}");
    let mut binds = changes_binds(since, after);
    binds.extend(account.map(str::to_string));
    crate::on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(c).await
    })
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
    let a = alias;
    let scope = if account.is_some() { format!("{a}.account_id = $4 AND ") } else { String::new() };
    let (keyset, order) = changes_keyset(a, 1, limit);
    let sql = format!(
        "SELECT {} FROM (SELECT {columns} FROM {from} {a} WHERE {scope}{keyset} {order}) {a}",
        db.json_rows(&super::json_fields(columns), &format!("{a}.updated_at, {a}.id")),
    );
    let texts = changes_binds(since, after);
    let mut binds: Vec<&str> = texts.iter().map(String::as_str).collect();
    binds.extend(account);
    super::fetch_json_rows(db, &sql, &binds).await
}
