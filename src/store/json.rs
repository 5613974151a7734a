//! Reading many rows as one: a query aggregates its rows into a single row holding a JSON array
//! ([`Db::json_rows`]), decoded by [`fetch_json_rows`]; long `IN` lists bind one JSON array
//! ([`Db::json_values`], [`json_list`]). The SQLite driver hands every row (and looks up every
//! numbered parameter) separately, so on hot pages one row and one parameter cost far less than
//! hundreds.

use super::{Db, StoreResult};

impl Db {
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
}

/// The (key, expression) fields of a plain column list such as `"p.id, p.sku"`, for
/// [`Db::json_rows`]: each key is the column's name.
pub fn json_fields(columns: &str) -> Vec<(&str, &str)> {
    columns.split(',').map(str::trim).map(|c| (c.rsplit('.').next().unwrap_or(c), c)).collect()
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
