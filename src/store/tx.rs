//! [`Tx`]: the one way to write. A unit of work (see [`super::Db::write`]) gets a `&mut Tx` and
//! runs statements on it with [`Tx::execute`], reads rows with [`Tx::fetch_all`] and friends, and
//! locks the rows it is about to change with [`Tx::lock`]. The same calls run on both backends:
//! on SQLite on the writer's thread through rusqlite (each call completes without waiting), on
//! PostgreSQL in an ordinary transaction through sqlx.
//!
//! Rows come back as serde values ([`RowDe`]): a struct is filled by column name, a tuple by
//! position, a plain value from the first column. Booleans read from SQLite's 0/1 as well.

use super::{Cell, StoreResult, bind_cells, sqlite};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use sqlx::{Postgres, Transaction};
use std::sync::Arc;

/// A write transaction: the writer's SQLite connection inside its open transaction, or a
/// PostgreSQL transaction.
pub struct Tx {
    pub(super) conn: TxConn,
}

pub(super) enum TxConn {
    Sqlite(rusqlite::Connection),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Runs a statement (a `RETURNING` clause's rows are dropped); returns how many rows it
    /// changed. `sql` numbers its parameters `$1`, `$2`, … and is text chosen by the code, never
    /// input.
    pub async fn execute(&mut self, sql: &str, args: Vec<Cell>) -> StoreResult<u64> {
        match &mut self.conn {
            TxConn::Sqlite(c) => sqlite::execute_on(c, sql, args),
            TxConn::Postgres(t) => bind_cells(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
                .execute(&mut **t)
                .await
                .map(|r| r.rows_affected()),
        }
    }

    /// Every row of a query, each decoded into `T`: a struct by column name, a tuple by position,
    /// anything else from the first column (see the module doc).
    pub async fn fetch_all<T: DeserializeOwned>(&mut self, sql: &str, args: Vec<Cell>) -> StoreResult<Vec<T>> {
        let rows = match &mut self.conn {
            TxConn::Sqlite(c) => sqlite::values_on(c, sql, args)?,
            TxConn::Postgres(t) => {
                let rows = bind_cells(sqlx::query(sqlx::AssertSqlSafe(sql)), args).fetch_all(&mut **t).await?;
                rows.iter().map(pg_values).collect::<StoreResult<Vec<_>>>()?
            }
        };
        rows.into_iter().map(|r| T::deserialize(RowDe(r)).map_err(decode_error)).collect()
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional<T: DeserializeOwned>(&mut self, sql: &str, args: Vec<Cell>) -> StoreResult<Option<T>> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// The first row of a query; `RowNotFound` when there is none.
    pub async fn fetch_one<T: DeserializeOwned>(&mut self, sql: &str, args: Vec<Cell>) -> StoreResult<T> {
        self.fetch_optional(sql, args).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// The rows of a `SELECT`, locked until the transaction ends: `FOR UPDATE` on PostgreSQL. On
    /// SQLite the writer's transaction already holds the database's one write lock. Callers that
    /// lock several rows of one table ask for them in one global order (stock by product id), so
    /// two transactions never wait for each other crosswise.
    pub async fn lock<T: DeserializeOwned>(&mut self, select: &str, args: Vec<Cell>) -> StoreResult<Vec<T>> {
        match &self.conn {
            TxConn::Sqlite(_) => self.fetch_all(select, args).await,
            TxConn::Postgres(_) => self.fetch_all(&format!("{select} FOR UPDATE"), args).await,
        }
    }

    /// Locks the rows a `SELECT` names until the transaction ends, for a caller that needs no
    /// values from them: `FOR UPDATE` on PostgreSQL; nothing on SQLite, where the writer's
    /// transaction already holds the one write lock (a read there would be wasted work).
    pub async fn lock_only(&mut self, select: &str, args: Vec<Cell>) -> StoreResult<()> {
        if let TxConn::Postgres(_) = &self.conn {
            self.execute(&format!("{select} FOR UPDATE"), args).await?;
        }
        Ok(())
    }

    /// Holds the rows a `SELECT` names against `FOR UPDATE` until the transaction ends, without
    /// blocking other holders or ordinary updates: `FOR KEY SHARE` on PostgreSQL; nothing on
    /// SQLite (one writer). For work that must not interleave with one exclusive change of the row
    /// (an invoice's commission against the month being approved) while running beside its peers.
    pub async fn share_only(&mut self, select: &str, args: Vec<Cell>) -> StoreResult<()> {
        if let TxConn::Postgres(_) = &self.conn {
            self.execute(&format!("{select} FOR KEY SHARE"), args).await?;
        }
        Ok(())
    }

    /// The rows of a `SELECT` that are free to take, locked until the transaction ends: on
    /// PostgreSQL `FOR UPDATE SKIP LOCKED`, so nodes claiming work at the same moment take
    /// different rows (the outbox worker); on SQLite the writer already holds the one write lock.
    pub async fn claim<T: DeserializeOwned>(&mut self, select: &str, args: Vec<Cell>) -> StoreResult<Vec<T>> {
        match &self.conn {
            TxConn::Sqlite(_) => self.fetch_all(select, args).await,
            TxConn::Postgres(_) => self.fetch_all(&format!("{select} FOR UPDATE SKIP LOCKED"), args).await,
        }
    }

    /// Whether this transaction runs on SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self.conn, TxConn::Sqlite(_))
    }

    /// Prepares a transaction that writes hundreds of thousands of rows (imports, seeding). On
    /// SQLite the page cache is raised to 256 MB: with the default 2 MB, dirty index pages spill
    /// to the WAL again and again during one long transaction, which made a 1M-row import ten
    /// times slower. (The writer's connection keeps the larger cache afterwards.)
    pub async fn bulk_mode(&mut self) -> StoreResult<()> {
        if self.is_sqlite() {
            self.execute("PRAGMA cache_size = -262144", Vec::new()).await?;
        }
        Ok(())
    }

    /// The next order number. PostgreSQL takes it from a sequence, outside the transaction's
    /// locks (the counter row's lock serialised placements until commit: p99 582 ms at
    /// concurrency 16); a placement that rolls back leaves a gap, never a duplicate. On SQLite the
    /// writer already serialises writes, so the counter row costs nothing more.
    pub async fn next_order_number(&mut self) -> StoreResult<i64> {
        match self.conn {
            TxConn::Sqlite(_) => self.next_counter("order").await,
            TxConn::Postgres(_) => self.fetch_one("SELECT nextval('order_numbers')", Vec::new()).await,
        }
    }

    /// Allocates the next value of a named counter (human numbers such as account A-10001).
    /// Atomic on both backends: the row is updated inside the caller's write transaction.
    pub async fn next_counter(&mut self, name: &str) -> StoreResult<i64> {
        self.fetch_one("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value", vec![Cell::text(name)])
            .await
    }
}

fn decode_error(e: de::value::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// A PostgreSQL row as named values.
fn pg_values(row: &sqlx::postgres::PgRow) -> StoreResult<Row> {
    use sqlx::{Column, Row, TypeInfo, ValueRef};
    let mut out = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = if row.try_get_raw(i)?.is_null() {
            Val::Null
        } else {
            match col.type_info().name() {
                "INT8" => Val::Int(row.try_get::<i64, _>(i)?),
                "INT4" => Val::Int(row.try_get::<i32, _>(i)?.into()),
                "INT2" => Val::Int(row.try_get::<i16, _>(i)?.into()),
                "BOOL" => Val::Bool(row.try_get::<bool, _>(i)?),
                "FLOAT8" => Val::Real(row.try_get::<f64, _>(i)?),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" => Val::Text(row.try_get::<String, _>(i)?),
                "JSON" | "JSONB" => Val::Text(row.try_get::<serde_json::Value, _>(i)?.to_string()),
                other => {
                    return Err(sqlx::Error::Protocol(format!(
                        "column {} has type {other}; cast it to BIGINT, TEXT or BOOLEAN",
                        col.name()
                    )));
                }
            }
        };
        out.push((Arc::from(col.name()), v));
    }
    Ok(out)
}

/// A row as (column name, value) pairs.
pub type Row = Vec<(Arc<str>, Val)>;

/// One column's value.
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

/// Deserializes one value. Booleans also from 0/1 (SQLite); an enum from its text.
struct ValDe(Val);

impl<'de> de::Deserializer<'de> for ValDe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Val::Null => v.visit_unit(),
            Val::Int(n) => v.visit_i64(n),
            Val::Real(f) => v.visit_f64(f),
            Val::Text(s) => v.visit_string(s),
            Val::Bool(b) => v.visit_bool(b),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Val::Int(n) => v.visit_bool(n != 0),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Val::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Val::Text(s) => v.visit_enum(s.into_deserializer()),
            _ => Err(de::Error::custom("an enum is read from a text column")),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, de::value::Error> for ValDe {
    type Deserializer = ValDe;

    fn into_deserializer(self) -> ValDe {
        self
    }
}

/// A column's name as a map key, read as a borrowed string: no `String` per column of every row
/// (made through `Display`, that was a twentieth of the who-buys-what worker's CPU).
struct KeyDe(Arc<str>);

impl<'de> de::Deserializer<'de> for KeyDe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_str(&self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, de::value::Error> for KeyDe {
    type Deserializer = KeyDe;

    fn into_deserializer(self) -> KeyDe {
        self
    }
}

/// Deserializes one row: a struct or map by column name, a tuple or sequence by position, and
/// anything else from the first column.
pub struct RowDe(pub(super) Row);

impl RowDe {
    fn first(self) -> Result<ValDe, de::value::Error> {
        self.0.into_iter().next().map(|(_, v)| ValDe(v)).ok_or_else(|| de::Error::custom("the row has no columns"))
    }
}

macro_rules! first_column {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            self.first()?.$method(v)
        })*
    };
}

impl<'de> de::Deserializer<'de> for RowDe {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        let pairs = self.0.into_iter().map(|(k, val)| (KeyDe(k), ValDe(val)));
        let mut map = de::value::MapDeserializer::new(pairs);
        let out = v.visit_map(&mut map)?;
        map.end()?;
        Ok(out)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        let mut seq = de::value::SeqDeserializer::new(self.0.into_iter().map(|(_, val)| ValDe(val)));
        let out = v.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(out)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, Self::Error> {
        self.first()?.deserialize_newtype_struct(name, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.first()?.deserialize_enum(name, variants, v)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, Self::Error> {
        self.first()?.deserialize_unit_struct(name, v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.first()?.deserialize_bytes(v)
    }

    first_column!(
        deserialize_any,
        deserialize_bool,
        deserialize_option,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: &[(&str, Val)]) -> RowDe {
        RowDe(cols.iter().map(|(k, v)| (Arc::from(*k), v.clone())).collect())
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct S {
        id: String,
        n: i64,
        flag: bool,
        note: Option<String>,
    }

    #[test]
    fn rows_decode_by_name_position_and_first_column() {
        let r =
            || row(&[("id", Val::Text("a".into())), ("n", Val::Int(7)), ("flag", Val::Int(1)), ("note", Val::Null)]);
        let s: S = serde::Deserialize::deserialize(r()).unwrap();
        assert_eq!(s, S { id: "a".into(), n: 7, flag: true, note: None });
        let t: (String, i64, bool, Option<String>) = serde::Deserialize::deserialize(r()).unwrap();
        assert_eq!(t, ("a".into(), 7, true, None));
        let first: String = serde::Deserialize::deserialize(r()).unwrap();
        assert_eq!(first, "a");
        let none: Option<i64> = serde::Deserialize::deserialize(row(&[("x", Val::Null)])).unwrap();
        assert_eq!(none, None);
        let b: bool = serde::Deserialize::deserialize(row(&[("x", Val::Bool(false))])).unwrap();
        assert!(!b);
    }
}
