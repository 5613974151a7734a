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

/// The keyset condition of every list an ERP pulls (oldest change first): rows of `prefix` (an
/// alias and a dot, or "") changed at or after `$1`, after the key of the previous page's last
/// row (`$2` updated_at, `$3` id). The times are bound as text (as [`super::fetch_json_rows`]
/// binds), hence the casts; order such a list by `updated_at, id`.
pub(crate) fn changed_since_sql(prefix: &str) -> String {
    format!(
        "{prefix}updated_at >= CAST($1 AS BIGINT) AND ({prefix}updated_at > CAST($2 AS BIGINT) \
         OR ({prefix}updated_at = CAST($2 AS BIGINT) AND {prefix}id > $3))"
    )
}
