//! Customer catalogs as the admin and an ERP keep them: the catalogs with their rules and their
//! assignments to accounts and groups, read for pages and the API, and changed inside a unit of
//! work. Membership (`catalog_products`) is rebuilt by [`super::catalogs`]; visibility reads stay
//! there too.

use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct CatalogRow {
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub includes_all: bool,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, external_id, includes_all, is_default, created_at, updated_at";

/// A catalog for the admin's list: with how many rules, products and assignments it has.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CatalogSummary {
    pub id: String,
    pub name: String,
    pub includes_all: bool,
    pub is_default: bool,
    pub rules: i64,
    pub products: i64,
    pub assignments: i64,
}

/// One rule of a catalog with what it names: a category's path, or a product's SKU and name.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct RuleRow {
    pub catalog_id: String,
    pub rule: String,
    pub target_id: String,
    /// The category's path or the product's SKU; `None` when it no longer exists.
    pub target: Option<String>,
    /// The product's name (category rules: none).
    pub target_name: Option<String>,
}

/// One assignment of a catalog: to an account (with its number, name and ERP id) or a group.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct AssignmentRow {
    pub id: String,
    pub catalog_id: String,
    pub account_id: Option<String>,
    pub account_number: Option<String>,
    pub account_name: Option<String>,
    pub account_external_id: Option<String>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
}

const RULE_SELECT: &str = "SELECT r.catalog_id, r.rule, r.target_id,
        COALESCE(c.path, p.sku) AS target, p.name AS target_name
     FROM catalog_rules r
     LEFT JOIN categories c ON c.id = r.target_id AND r.rule IN ('include_category', 'exclude_category')
     LEFT JOIN products p ON p.id = r.target_id AND r.rule IN ('include_product', 'exclude_product')";

const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.catalog_id, a.account_id, ac.number AS account_number,
        ac.name AS account_name, ac.external_id AS account_external_id, a.group_id, g.name AS group_name
     FROM catalog_assignments a
     LEFT JOIN accounts ac ON ac.id = a.account_id
     LEFT JOIN account_groups g ON g.id = a.group_id";

/// Every catalog, by name, with its counts (a seller has a handful).
pub async fn summaries(db: &Db) -> StoreResult<Vec<CatalogSummary>> {
    on_db!(db, |c| sqlx::query_as::<_, CatalogSummary>(
        "SELECT k.id, k.name, k.includes_all, k.is_default,
            (SELECT COUNT(*) FROM catalog_rules r WHERE r.catalog_id = k.id) AS rules,
            (SELECT COUNT(*) FROM catalog_products cp WHERE cp.catalog_id = k.id) AS products,
            (SELECT COUNT(*) FROM catalog_assignments a WHERE a.catalog_id = k.id) AS assignments
         FROM catalogs k ORDER BY k.name, k.id"
    )
    .fetch_all(c)
    .await)
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<CatalogRow>> {
    on_db!(db, |c| sqlx::query_as::<_, CatalogRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM catalogs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// How many products a catalog holds now.
pub async fn product_count(db: &Db, id: &str) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM catalog_products WHERE catalog_id = $1")
        .bind(id)
        .fetch_one(c)
        .await)
}

/// The rules of some catalogs, by catalog, kind and what they name.
pub async fn rules_of(db: &Db, catalog_ids: &[String]) -> StoreResult<Vec<RuleRow>> {
    if catalog_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{RULE_SELECT} WHERE r.catalog_id IN ({}) ORDER BY r.catalog_id, r.rule, COALESCE(c.path, p.sku), r.target_id",
        db.json_values("$1")
    );
    let list = super::json_list(catalog_ids);
    on_db!(db, |c| sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(sql.clone())).bind(&list).fetch_all(c).await)
}

/// The assignments of some catalogs: accounts by number, then groups by name.
pub async fn assignments_of(db: &Db, catalog_ids: &[String]) -> StoreResult<Vec<AssignmentRow>> {
    if catalog_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{ASSIGNMENT_SELECT} WHERE a.catalog_id IN ({}) ORDER BY a.catalog_id, ac.number, g.name, a.id",
        db.json_values("$1")
    );
    let list = super::json_list(catalog_ids);
    on_db!(db, |c| sqlx::query_as::<_, AssignmentRow>(sqlx::AssertSqlSafe(sql.clone())).bind(&list).fetch_all(c).await)
}

/// Catalogs changed at or after `since`, oldest change first, after the keyset `after`.
pub async fn changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<CatalogRow>> {
    super::changed_rows(db, ("catalogs", "k", COLUMNS), None, since, after, limit).await
}

// ---- Inside a unit of work ----

pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<CatalogRow>> {
    let rows = tx.lock::<CatalogRow>(&format!("SELECT {COLUMNS} FROM catalogs WHERE id = $1"), args![id]).await?;
    Ok(rows.into_iter().next())
}

pub async fn by_external_for_update(tx: &mut Tx, external_id: &str) -> StoreResult<Option<CatalogRow>> {
    let rows = tx
        .lock::<CatalogRow>(&format!("SELECT {COLUMNS} FROM catalogs WHERE external_id = $1"), args![external_id])
        .await?;
    Ok(rows.into_iter().next())
}

/// The catalog with this name, other than `except` (names are unique).
pub async fn named(tx: &mut Tx, name: &str, except: &str) -> StoreResult<bool> {
    let n: i64 =
        tx.fetch_one("SELECT COUNT(*) FROM catalogs WHERE name = $1 AND id <> $2", args![name, except]).await?;
    Ok(n > 0)
}

/// What a unit writes as a catalog's header.
pub struct Header<'a> {
    pub name: &'a str,
    pub includes_all: bool,
    pub is_default: bool,
}

pub async fn insert(tx: &mut Tx, id: &str, external_id: Option<&str>, h: &Header<'_>, now: i64) -> StoreResult<()> {
    if h.is_default {
        clear_default(tx, id, now).await?;
    }
    tx.execute(
        "INSERT INTO catalogs (id, name, external_id, includes_all, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        args![id, h.name, external_id, h.includes_all, h.is_default, now],
    )
    .await?;
    Ok(())
}

/// Sets the header and marks the catalog changed. A new default replaces the old one.
pub async fn update(tx: &mut Tx, id: &str, h: &Header<'_>, now: i64) -> StoreResult<()> {
    if h.is_default {
        clear_default(tx, id, now).await?;
    }
    tx.execute(
        "UPDATE catalogs SET name = $2, includes_all = $3, is_default = $4, updated_at = $5 WHERE id = $1",
        args![id, h.name, h.includes_all, h.is_default, now],
    )
    .await?;
    Ok(())
}

/// The default catalog other than `id` stops being default: changed, for the ERP pulling it.
async fn clear_default(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE catalogs SET is_default = FALSE, updated_at = $2 WHERE is_default = TRUE AND id <> $1",
        args![id, now],
    )
    .await?;
    Ok(())
}

/// Deletes a catalog with its rules, assignments and membership; returns how many assignments it
/// had (those accounts and groups see their other catalogs, or the default one).
pub async fn delete(tx: &mut Tx, id: &str) -> StoreResult<u64> {
    let assignments = tx.execute("DELETE FROM catalog_assignments WHERE catalog_id = $1", args![id]).await?;
    tx.execute("DELETE FROM catalog_rules WHERE catalog_id = $1", args![id]).await?;
    tx.execute("DELETE FROM catalog_products WHERE catalog_id = $1", args![id]).await?;
    tx.execute("DELETE FROM catalogs WHERE id = $1", args![id]).await?;
    Ok(assignments)
}

/// Marks a catalog changed (its rules or assignments were), for the lists an ERP pulls.
pub async fn touch(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE catalogs SET updated_at = $2 WHERE id = $1", args![id, now]).await?;
    Ok(())
}

pub async fn rules_in(tx: &mut Tx, catalog_id: &str) -> StoreResult<Vec<RuleRow>> {
    tx.fetch_all(&format!("{RULE_SELECT} WHERE r.catalog_id = $1 ORDER BY r.rule, r.target_id"), args![catalog_id])
        .await
}

pub async fn assignments_in(tx: &mut Tx, catalog_id: &str) -> StoreResult<Vec<AssignmentRow>> {
    tx.fetch_all(&format!("{ASSIGNMENT_SELECT} WHERE a.catalog_id = $1 ORDER BY a.id"), args![catalog_id]).await
}

/// Replaces every rule of a catalog.
pub async fn replace_rules(tx: &mut Tx, catalog_id: &str, rules: &[(String, String)]) -> StoreResult<()> {
    tx.execute("DELETE FROM catalog_rules WHERE catalog_id = $1", args![catalog_id]).await?;
    for (rule, target) in rules {
        super::catalogs::add_catalog_rule(tx, catalog_id, rule, target).await?;
    }
    Ok(())
}

pub async fn delete_rule(tx: &mut Tx, catalog_id: &str, rule: &str, target_id: &str) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM catalog_rules WHERE catalog_id = $1 AND rule = $2 AND target_id = $3",
        args![catalog_id, rule, target_id],
    )
    .await
}

/// Assigns a catalog to an account or a group, unless it already is; returns whether it was new.
pub async fn add_assignment(
    tx: &mut Tx,
    id: &str,
    catalog_id: &str,
    account_id: Option<&str>,
    group_id: Option<&str>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO catalog_assignments (id, catalog_id, account_id, group_id)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (
                 SELECT 1 FROM catalog_assignments x WHERE x.catalog_id = $2
                   AND (x.account_id = $3 OR x.group_id = $4))",
            args![id, catalog_id, account_id, group_id],
        )
        .await?;
    Ok(n > 0)
}

pub async fn delete_assignment(tx: &mut Tx, catalog_id: &str, assignment_id: &str) -> StoreResult<u64> {
    tx.execute("DELETE FROM catalog_assignments WHERE catalog_id = $1 AND id = $2", args![catalog_id, assignment_id])
        .await
}

/// Replaces every assignment of a catalog.
pub async fn replace_assignments(
    tx: &mut Tx,
    catalog_id: &str,
    account_ids: &[String],
    group_ids: &[String],
) -> StoreResult<()> {
    tx.execute("DELETE FROM catalog_assignments WHERE catalog_id = $1", args![catalog_id]).await?;
    for a in account_ids {
        add_assignment(tx, &super::new_id(), catalog_id, Some(a), None).await?;
    }
    for g in group_ids {
        add_assignment(tx, &super::new_id(), catalog_id, None, Some(g)).await?;
    }
    Ok(())
}
