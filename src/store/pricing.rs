//! Price lists, their assignments, contracts, and loading the price sources of an account.

use super::{Db, StoreResult, Tx};
use crate::domain::money::Money;
use crate::domain::pricing::{PriceSource, SourceKind, Tier};
use crate::{args, on_db};
use std::collections::HashMap;
use time::Date;

pub fn parse_date(s: Option<&str>) -> Option<Date> {
    s.and_then(|s| Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok())
}

pub fn format_iso(d: Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

pub struct NewPriceList<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub is_base: bool,
    pub priority: i64,
    pub valid_from: Option<&'a str>,
    pub valid_to: Option<&'a str>,
}

pub async fn insert_price_list(tx: &mut Tx, l: &NewPriceList<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO price_lists (id, code, name, is_base, priority, valid_from, valid_to, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        args![l.id, l.code, l.name, l.is_base, l.priority, l.valid_from, l.valid_to, now],
    )
    .await?;
    Ok(())
}

pub async fn assign_price_list(
    tx: &mut Tx,
    id: &str,
    list_id: &str,
    account_id: Option<&str>,
    group_id: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO price_list_assignments (id, price_list_id, account_id, group_id) VALUES ($1, $2, $3, $4)",
        args![id, list_id, account_id, group_id],
    )
    .await?;
    Ok(())
}

/// Sets one tier of a list's price for a product (insert or replace).
pub async fn set_list_price(
    tx: &mut Tx,
    list_id: &str,
    product_id: &str,
    min_qty: i64,
    price: Money,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO price_list_items (price_list_id, product_id, min_qty, unit_price) VALUES ($1, $2, $3, $4)
         ON CONFLICT (price_list_id, product_id, min_qty) DO UPDATE SET unit_price = excluded.unit_price",
        args![list_id, product_id, min_qty, price.raw()],
    )
    .await?;
    Ok(())
}

/// Whether a price list has this code (inside a unit of work).
pub async fn price_list_by_code_in(tx: &mut Tx, code: &str) -> StoreResult<bool> {
    let n: i64 = tx.fetch_one("SELECT COUNT(*) FROM price_lists WHERE code = $1", args![code]).await?;
    Ok(n > 0)
}

/// Whether there is a base list (inside a unit of work).
pub async fn base_list_exists_in(tx: &mut Tx) -> StoreResult<bool> {
    let n: i64 = tx.fetch_one("SELECT COUNT(*) FROM price_lists WHERE is_base = TRUE", args![]).await?;
    Ok(n > 0)
}

/// Takes one assignment off a list; how many rows it removed.
pub async fn delete_assignment(tx: &mut Tx, list_id: &str, assignment_id: &str) -> StoreResult<u64> {
    tx.execute("DELETE FROM price_list_assignments WHERE price_list_id = $1 AND id = $2", args![list_id, assignment_id])
        .await
}

/// Assigns a list to an account or a group unless it already is; whether it was new.
pub async fn add_assignment_once(
    tx: &mut Tx,
    id: &str,
    list_id: &str,
    account_id: Option<&str>,
    group_id: Option<&str>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO price_list_assignments (id, price_list_id, account_id, group_id)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (
                 SELECT 1 FROM price_list_assignments x WHERE x.price_list_id = $2
                   AND (x.account_id = $3 OR x.group_id = $4))",
            args![id, list_id, account_id, group_id],
        )
        .await?;
    Ok(n > 0)
}

pub async fn base_list_id(db: &Db) -> StoreResult<Option<String>> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>("SELECT id FROM price_lists WHERE is_base = TRUE")
        .fetch_optional(c)
        .await)
}

pub struct NewContract<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub account_id: &'a str,
    pub name: &'a str,
    pub valid_from: Option<&'a str>,
    pub valid_to: Option<&'a str>,
}

pub async fn insert_contract(tx: &mut Tx, k: &NewContract<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO contracts (id, number, account_id, name, valid_from, valid_to, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        args![k.id, k.number, k.account_id, k.name, k.valid_from, k.valid_to, now],
    )
    .await?;
    Ok(())
}

pub async fn set_contract_price(
    tx: &mut Tx,
    contract_id: &str,
    product_id: &str,
    min_qty: i64,
    price: Money,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO contract_prices (contract_id, product_id, min_qty, unit_price) VALUES ($1, $2, $3, $4)
         ON CONFLICT (contract_id, product_id, min_qty) DO UPDATE SET unit_price = excluded.unit_price",
        args![contract_id, product_id, min_qty, price.raw()],
    )
    .await?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct SourceRow {
    source_id: String,
    name: String,
    priority: i64,
    valid_from: Option<String>,
    valid_to: Option<String>,
    kind: String,
    product_id: String,
    /// `min_qty:unit_price` pairs joined by commas: one row per source and product, because the
    /// SQLite driver hands rows over one by one and rows, not bytes, are what cost.
    tiers: String,
}

/// Every price source that could apply to `account_id` for each of `product_ids`: its contracts,
/// the lists assigned to it and to its group, and the base list. Validity is left to the domain.
pub async fn sources_for(
    db: &Db,
    account_id: &str,
    product_ids: &[String],
) -> StoreResult<HashMap<String, Vec<PriceSource>>> {
    let mut out: HashMap<String, Vec<PriceSource>> = HashMap::new();
    if product_ids.is_empty() {
        return Ok(out);
    }
    let ph = db.json_values("$2");
    // Kind per list: 'base', 'account' (assigned to the account itself) or 'group'. Groups are by
    // primary key and product only (the other columns depend on the key; both databases allow
    // that): grouping by every text column made the sort keys, and a 500-product quote, slower.
    let contract_tiers = db.string_agg("CAST(cp.min_qty AS TEXT) || ':' || CAST(cp.unit_price AS TEXT)");
    let list_tiers = db.string_agg("CAST(i.min_qty AS TEXT) || ':' || CAST(i.unit_price AS TEXT)");
    let sql = format!(
        "SELECT c.id AS source_id, c.number AS name, CAST(0 AS BIGINT) AS priority, c.valid_from, c.valid_to, 'contract' AS kind,
                cp.product_id, {contract_tiers} AS tiers
         FROM contracts c JOIN contract_prices cp ON cp.contract_id = c.id
         WHERE c.account_id = $1 AND cp.product_id IN ({ph})
         GROUP BY c.id, cp.product_id
         UNION ALL
         SELECT l.id, l.name, l.priority, l.valid_from, l.valid_to,
                CASE WHEN l.is_base THEN 'base'
                     WHEN EXISTS (SELECT 1 FROM price_list_assignments x WHERE x.price_list_id = l.id AND x.account_id = $1) THEN 'account'
                     ELSE 'group' END,
                i.product_id, {list_tiers}
         FROM price_lists l JOIN price_list_items i ON i.price_list_id = l.id
         WHERE i.product_id IN ({ph})
           AND (l.is_base OR EXISTS (SELECT 1 FROM price_list_assignments x WHERE x.price_list_id = l.id
                  AND (x.account_id = $1 OR x.group_id = (SELECT group_id FROM accounts WHERE id = $1))))
         GROUP BY l.id, i.product_id"
    );
    let fields =
        super::json_fields("s.source_id, s.name, s.priority, s.valid_from, s.valid_to, s.kind, s.product_id, s.tiers");
    let sql = format!("SELECT {} FROM ({sql}) s", db.json_rows(&fields, ""));
    let rows: Vec<SourceRow> = super::fetch_json_rows(db, &sql, &[account_id, &super::json_list(product_ids)]).await?;
    for r in rows {
        let kind = match r.kind.as_str() {
            "contract" => SourceKind::Contract,
            "account" => SourceKind::AccountList,
            "group" => SourceKind::GroupList,
            _ => SourceKind::Base,
        };
        let mut tiers: Vec<Tier> = r
            .tiers
            .split(',')
            .filter_map(|t| t.split_once(':'))
            .filter_map(|(q, p)| Some(Tier { min_qty: q.parse().ok()?, unit_price: Money::from_raw(p.parse().ok()?) }))
            .collect();
        tiers.sort_by_key(|t| t.min_qty);
        out.entry(r.product_id).or_default().push(PriceSource {
            kind,
            id: r.source_id,
            name: r.name,
            priority: r.priority,
            valid_from: parse_date(r.valid_from.as_deref()),
            valid_to: parse_date(r.valid_to.as_deref()),
            tiers,
        });
    }
    Ok(out)
}

/// Every price row of one product, for staff: lists (with their kind) and contracts (with account).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProductPriceRow {
    pub source: String,
    pub code: String,
    pub name: String,
    pub account_name: Option<String>,
    pub min_qty: i64,
    pub unit_price: i64,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

impl ProductPriceRow {
    pub fn price(&self) -> Money {
        Money::from_raw(self.unit_price)
    }
}

pub async fn prices_for_product(db: &Db, product_id: &str) -> StoreResult<Vec<ProductPriceRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, ProductPriceRow>(
        "SELECT CASE WHEN l.is_base THEN 'Base list' ELSE 'Price list' END AS source, l.code, l.name, NULL AS account_name,
                i.min_qty, i.unit_price, l.valid_from, l.valid_to
         FROM price_list_items i JOIN price_lists l ON l.id = i.price_list_id WHERE i.product_id = $1
         UNION ALL
         SELECT 'Contract', k.number, k.name, a.name, cp.min_qty, cp.unit_price, k.valid_from, k.valid_to
         FROM contract_prices cp JOIN contracts k ON k.id = cp.contract_id JOIN accounts a ON a.id = k.account_id
         WHERE cp.product_id = $1
         ORDER BY 1, 2, 5"
    )
    .bind(product_id)
    .fetch_all(c)
    .await
    })
}

/// Contracts by number: (id, account id, name, valid_from, valid_to).
pub async fn contracts_by_number(
    db: &Db,
) -> StoreResult<HashMap<String, (String, String, String, Option<String>, Option<String>)>> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, (String, String, String, String, Option<String>, Option<String>)>(
        "SELECT number, id, account_id, name, valid_from, valid_to FROM contracts"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(n, id, a, name, f, t)| (n, (id, a, name, f, t))).collect())
}

pub async fn update_contract_header(
    tx: &mut Tx,
    id: &str,
    name: &str,
    valid_from: Option<&str>,
    valid_to: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE contracts SET name = $2, valid_from = $3, valid_to = $4, updated_at = $5 WHERE id = $1",
        args![id, name, valid_from, valid_to, now],
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContractPriceExport {
    pub contract_number: String,
    pub account: String,
    pub contract_name: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub sku: String,
    pub min_qty: i64,
    pub unit_price: i64,
}

/// A price list's header, by code.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PriceListRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub is_base: bool,
    pub priority: i64,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

pub async fn price_list_by_code(db: &Db, code: &str) -> StoreResult<Option<PriceListRow>> {
    on_db!(db, |c| sqlx::query_as::<_, PriceListRow>(
        "SELECT id, code, name, is_base, priority, valid_from, valid_to FROM price_lists WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(c)
    .await)
}

/// Every price list's header, by code.
pub async fn price_lists_by_code(db: &Db) -> StoreResult<HashMap<String, PriceListRow>> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, PriceListRow>(
        "SELECT id, code, name, is_base, priority, valid_from, valid_to FROM price_lists"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|l| (l.code.clone(), l)).collect())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ListPriceExport {
    pub code: String,
    pub name: String,
    pub priority: i64,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub sku: String,
    pub min_qty: i64,
    pub unit_price: i64,
}

pub async fn update_price_list(tx: &mut Tx, l: &NewPriceList<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE price_lists SET name = $2, priority = $3, valid_from = $4, valid_to = $5, updated_at = $6 WHERE id = $1",
        args![l.id, l.name, l.priority, l.valid_from, l.valid_to, now],
    )
    .await?;
    Ok(())
}

/// Replaces who a price list is assigned to.
pub async fn replace_assignments(
    tx: &mut Tx,
    list_id: &str,
    accounts: &[String],
    groups: &[String],
) -> StoreResult<()> {
    tx.execute("DELETE FROM price_list_assignments WHERE price_list_id = $1", args![list_id]).await?;
    for a in accounts {
        assign_price_list(tx, &super::new_id(), list_id, Some(a), None).await?;
    }
    for g in groups {
        assign_price_list(tx, &super::new_id(), list_id, None, Some(g)).await?;
    }
    Ok(())
}

/// Which table a batch of imported prices goes to.
#[derive(Clone, Copy, Debug)]
pub enum PriceTable {
    Lists,
    Contracts,
}

/// Inserts or changes many prices — (list or contract id, product id, min qty, price) — in key order
/// (sequential B-tree inserts); returns how many rows were inserted or changed (an unchanged price
/// is not written, so re-importing a file counts 0).
pub async fn upsert_prices(
    tx: &mut Tx,
    table: PriceTable,
    mut items: Vec<(String, String, i64, Money)>,
) -> StoreResult<u64> {
    items.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    let rows: Vec<Vec<super::Cell>> = items
        .into_iter()
        .map(|(owner, product, min_qty, price)| {
            use super::Cell::{Int, Text};
            vec![Text(owner), Text(product), Int(min_qty), Int(price.raw())]
        })
        .collect();
    match table {
        PriceTable::Lists => {
            super::bulk_insert_with(
                tx,
                "price_list_items",
                &["price_list_id", "product_id", "min_qty", "unit_price"],
                &rows,
                "ON CONFLICT (price_list_id, product_id, min_qty) DO UPDATE SET unit_price = excluded.unit_price
                 WHERE price_list_items.unit_price <> excluded.unit_price",
            )
            .await
        }
        PriceTable::Contracts => {
            super::bulk_insert_with(
                tx,
                "contract_prices",
                &["contract_id", "product_id", "min_qty", "unit_price"],
                &rows,
                "ON CONFLICT (contract_id, product_id, min_qty) DO UPDATE SET unit_price = excluded.unit_price
                 WHERE contract_prices.unit_price <> excluded.unit_price",
            )
            .await
        }
    }
}

/// Whose prices a set of items is: a price list's or a contract's.
#[derive(Clone, Copy, Debug)]
pub enum PriceOwner<'a> {
    List(&'a str),
    Contract(&'a str),
}

/// Replaces every price of a list or contract with `items` (product id, min qty, price) when they
/// differ from what is stored; returns whether anything changed.
pub async fn replace_prices(tx: &mut Tx, owner: PriceOwner<'_>, items: &[(String, i64, Money)]) -> StoreResult<bool> {
    let (table, key, id) = match owner {
        PriceOwner::List(id) => ("price_list_items", "price_list_id", id),
        PriceOwner::Contract(id) => ("contract_prices", "contract_id", id),
    };
    let select = format!("SELECT product_id, min_qty, unit_price FROM {table} WHERE {key} = $1");
    let mut stored = tx.fetch_all::<(String, i64, i64)>(&select, args![id]).await?;
    let mut wanted: Vec<(String, i64, i64)> = items.iter().map(|(p, q, m)| (p.clone(), *q, m.raw())).collect();
    stored.sort();
    wanted.sort();
    if stored == wanted {
        return Ok(false);
    }
    let delete = format!("DELETE FROM {table} WHERE {key} = $1");
    tx.execute(&delete, args![id]).await?;
    let rows: Vec<Vec<super::Cell>> = wanted
        .into_iter()
        .map(|(p, q, m)| {
            vec![super::Cell::Text(id.to_string()), super::Cell::Text(p), super::Cell::Int(q), super::Cell::Int(m)]
        })
        .collect();
    let columns: [&'static str; 4] = match owner {
        PriceOwner::List(_) => ["price_list_id", "product_id", "min_qty", "unit_price"],
        PriceOwner::Contract(_) => ["contract_id", "product_id", "min_qty", "unit_price"],
    };
    super::bulk_insert(tx, table, &columns, &rows).await?;
    Ok(true)
}

/// A price list as an ERP pulls it: its header, when it changed, and whom it applies to.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct PriceListSync {
    pub id: String,
    pub code: String,
    pub name: String,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub is_base: bool,
    pub priority: i64,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub prices: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Price lists changed at or after `since` (their header, assignments or prices: see
/// [`touch_price_list`]), oldest change first, after the keyset `after` (updated_at, id).
pub async fn price_lists_changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<PriceListSync>> {
    let with_prices = "(SELECT p.*, (SELECT COUNT(*) FROM price_list_items i WHERE i.price_list_id = p.id) AS prices
                        FROM price_lists p)";
    let columns =
        "l.id, l.code, l.name, l.is_base, l.priority, l.valid_from, l.valid_to, l.prices, l.created_at, l.updated_at";
    super::changed_rows(db, (with_prices, "l", columns), None, since, after, limit).await
}

/// Marks a price list changed (its prices or assignments were), for the lists an ERP pulls.
pub async fn touch_price_list(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE price_lists SET updated_at = $2 WHERE id = $1", args![id, now]).await?;
    Ok(())
}

/// Who each of some price lists applies to: (list id, account id or None, group name or None).
pub async fn assignments_of(
    db: &Db,
    list_ids: &[String],
) -> StoreResult<Vec<(String, Option<String>, Option<String>)>> {
    if list_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.price_list_id, a.account_id, g.name FROM price_list_assignments a
         LEFT JOIN account_groups g ON g.id = a.group_id
         WHERE a.price_list_id IN ({}) ORDER BY a.price_list_id, a.account_id, g.name",
        db.json_values("$1")
    );
    let list = super::json_list(list_ids);
    on_db!(db, |c| sqlx::query_as::<_, (String, Option<String>, Option<String>)>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&list)
        .fetch_all(c)
        .await)
}

/// A price list with how many prices it holds and whom it is assigned to (for the staff page).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PriceListSummary {
    #[sqlx(flatten)]
    pub list: PriceListRow,
    pub prices: i64,
    pub assignments: i64,
}

pub async fn price_lists(db: &Db) -> StoreResult<Vec<PriceListSummary>> {
    on_db!(db, |c| sqlx::query_as::<_, PriceListSummary>(
        "SELECT l.id, l.code, l.name, l.is_base, l.priority, l.valid_from, l.valid_to,
                (SELECT COUNT(*) FROM price_list_items i WHERE i.price_list_id = l.id) AS prices,
                (SELECT COUNT(*) FROM price_list_assignments a WHERE a.price_list_id = l.id) AS assignments
         FROM price_lists l ORDER BY l.is_base DESC, l.priority, l.code"
    )
    .fetch_all(c)
    .await)
}

/// Who a price list applies to: account and group names.
pub async fn assignment_names(db: &Db, list_id: &str) -> StoreResult<Vec<(String, String)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT a.id, COALESCE(ac.number || ' ' || ac.name, 'Group: ' || g.name) FROM price_list_assignments a
         LEFT JOIN accounts ac ON ac.id = a.account_id LEFT JOIN account_groups g ON g.id = a.group_id
         WHERE a.price_list_id = $1 ORDER BY 2"
    )
    .bind(list_id)
    .fetch_all(c)
    .await)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContractSummary {
    pub id: String,
    pub number: String,
    pub name: String,
    pub account_id: String,
    pub account_number: String,
    pub account_name: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub prices: i64,
}

const CONTRACT_SUMMARY: &str =
    "SELECT k.id, k.number, k.name, k.account_id, a.number AS account_number, a.name AS account_name,
    k.valid_from, k.valid_to, (SELECT COUNT(*) FROM contract_prices p WHERE p.contract_id = k.id) AS prices
    FROM contracts k JOIN accounts a ON a.id = k.account_id";

/// Contracts by number after `after`, matching a contract number or account name / number.
pub async fn contracts_page(db: &Db, term: &str, after: &str, limit: i64) -> StoreResult<Vec<ContractSummary>> {
    let sql = format!(
        "{CONTRACT_SUMMARY} WHERE k.number > $1 AND ($2 = '' OR LOWER(k.number) LIKE $3 ESCAPE '\\' OR LOWER(a.name) LIKE $3 ESCAPE '\\' OR LOWER(a.number) LIKE $3 ESCAPE '\\')
         ORDER BY k.number LIMIT $4"
    );
    on_db!(db, |c| sqlx::query_as::<_, ContractSummary>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(after)
        .bind(term.trim())
        .bind(super::like_pattern(term))
        .bind(limit)
        .fetch_all(c)
        .await)
}

pub async fn contract_by_number(db: &Db, number: &str) -> StoreResult<Option<ContractSummary>> {
    let sql = format!("{CONTRACT_SUMMARY} WHERE k.number = $1");
    on_db!(db, |c| sqlx::query_as::<_, ContractSummary>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(number)
        .fetch_optional(c)
        .await)
}

/// The prices of a list or contract as (SKU, product name, min qty, price), by SKU, after a SKU.
pub async fn prices_page(
    db: &Db,
    owner: PriceOwner<'_>,
    after_sku: &str,
    limit: i64,
) -> StoreResult<Vec<(String, String, i64, i64)>> {
    let (table, key, id) = match owner {
        PriceOwner::List(id) => ("price_list_items", "price_list_id", id),
        PriceOwner::Contract(id) => ("contract_prices", "contract_id", id),
    };
    let sql = format!(
        "SELECT p.sku, p.name, x.min_qty, x.unit_price FROM {table} x JOIN products p ON p.id = x.product_id
         WHERE x.{key} = $1 AND p.sku > $2 ORDER BY p.sku, x.min_qty LIMIT $3"
    );
    on_db!(db, |c| sqlx::query_as::<_, (String, String, i64, i64)>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id)
        .bind(after_sku)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Removes one tier of a list's price.
pub async fn delete_list_price(tx: &mut Tx, list_id: &str, product_id: &str, min_qty: i64) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM price_list_items WHERE price_list_id = $1 AND product_id = $2 AND min_qty = $3",
        args![list_id, product_id, min_qty],
    )
    .await
}
