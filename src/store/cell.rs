//! The values bound to a statement's `$1`, `$2`, …: [`Cell`], made by [`args!`](crate::args) from
//! plain values, bound in order by [`bind_cells`]. One type for both backends, so a unit of work's
//! statements ([`super::Tx`]) and bulk inserts ([`super::bulk`]) carry their arguments the same way.

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
    /// Bytes for a BLOB (SQLite) / BYTEA (PostgreSQL) column: uploaded documents.
    Bytes(Vec<u8>),
}

/// The arguments of a statement, `$1`, `$2`, … in order: `args![id, name, now]`.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => { vec![$($crate::store::Cell::from($e)),*] };
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::Text(s.clone())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<&i64> for Cell {
    fn from(n: &i64) -> Cell {
        Cell::Int(*n)
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Cell {
        Cell::Bool(b)
    }
}

impl From<Option<&str>> for Cell {
    fn from(s: Option<&str>) -> Cell {
        s.map(Cell::text).unwrap_or(Cell::NullText)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map(Cell::Text).unwrap_or(Cell::NullText)
    }
}

impl From<&Option<String>> for Cell {
    fn from(s: &Option<String>) -> Cell {
        s.as_deref().map(Cell::text).unwrap_or(Cell::NullText)
    }
}

impl From<Option<&String>> for Cell {
    fn from(s: Option<&String>) -> Cell {
        s.map(|s| Cell::text(s)).unwrap_or(Cell::NullText)
    }
}

impl From<Option<i64>> for Cell {
    fn from(n: Option<i64>) -> Cell {
        n.map(Cell::Int).unwrap_or(Cell::NullInt)
    }
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    pub fn opt_text(s: Option<&str>) -> Cell {
        s.map(Cell::text).unwrap_or(Cell::NullText)
    }
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
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for cell in cells {
        q = match cell {
            Cell::Text(s) => q.bind(s),
            Cell::Int(i) => q.bind(i),
            Cell::Bool(b) => q.bind(b),
            Cell::NullText => q.bind(None::<String>),
            Cell::NullInt => q.bind(None::<i64>),
            Cell::Bytes(b) => q.bind(b),
        };
    }
    q
}
