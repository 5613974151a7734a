//! The category tree: rows with materialised paths ("Medical / Gloves"), kept in display order,
//! and the changes that move, rename or delete categories.

use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct CategoryRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub path: String,
    pub sort: i64,
}

impl CategoryRow {
    /// Levels above this category (0 for a top-level one), for indenting the tree.
    pub fn depth(&self) -> usize {
        crate::domain::categories::path_depth(&self.path)
    }
}

pub async fn insert_category(
    tx: &mut Tx,
    id: &str,
    parent_id: Option<&str>,
    name: &str,
    path: &str,
    sort: i64,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO categories (id, parent_id, name, path, sort, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        args![id, parent_id, name, path, sort, now],
    )
    .await?;
    Ok(())
}

/// Every category in display order: depth-first, siblings by their sort, then name.
pub async fn categories(db: &Db) -> StoreResult<Vec<CategoryRow>> {
    // One row for the whole tree (it is on every catalog page).
    let sql = format!(
        "SELECT {} FROM categories c",
        db.json_rows(&super::json_fields("c.id, c.parent_id, c.name, c.path, c.sort"), "c.path")
    );
    Ok(in_tree_order(super::fetch_json_rows(db, &sql, &[]).await?))
}

fn in_tree_order(rows: Vec<CategoryRow>) -> Vec<CategoryRow> {
    let order = crate::domain::categories::tree_order(&category_nodes(&rows));
    let mut slots: Vec<Option<CategoryRow>> = rows.into_iter().map(Some).collect();
    order.into_iter().filter_map(|(i, _)| slots[i].take()).collect()
}

/// The rows as the domain's tree rules see them.
pub fn category_nodes(rows: &[CategoryRow]) -> Vec<crate::domain::categories::CategoryNode<'_>> {
    rows.iter()
        .map(|c| crate::domain::categories::CategoryNode {
            id: &c.id,
            parent_id: c.parent_id.as_deref(),
            name: &c.name,
            path: &c.path,
            sort: c.sort,
        })
        .collect()
}

/// Serialises changes to the category tree: every tree change bumps this counter first, so on
/// PostgreSQL two concurrent changes (which each check sibling names against the tree they read)
/// queue on its row lock instead of both passing. SQLite's write transactions are serial anyway.
pub async fn lock_category_tree(tx: &mut Tx) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO counters (name, value) VALUES ('category_tree', 1)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
        args![],
    )
    .await?;
    Ok(())
}

/// Every category, read inside a write transaction (after [`lock_category_tree`]), in display order.
pub async fn categories_for_update(tx: &mut Tx) -> StoreResult<Vec<CategoryRow>> {
    let rows = tx
        .fetch_all::<CategoryRow>("SELECT id, parent_id, name, path, sort FROM categories ORDER BY path", args![])
        .await?;
    Ok(in_tree_order(rows))
}

/// Products per category, directly in it (not its subcategories): id → (active, all).
pub async fn category_product_counts(db: &Db) -> StoreResult<std::collections::HashMap<String, (i64, i64)>> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT category_id, CAST(SUM(CASE WHEN active THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM products WHERE category_id IS NOT NULL GROUP BY category_id"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id, active, all)| (id, (active, all))).collect())
}

/// What is directly inside a category: (products, subcategories).
pub async fn category_contents(tx: &mut Tx, id: &str) -> StoreResult<(i64, i64)> {
    tx.fetch_one::<(i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM products WHERE category_id = $1), (SELECT COUNT(*) FROM categories WHERE parent_id = $1)",
        args![id],
    )
    .await
}

/// Sets a category's own fields; its path (and its descendants') with [`set_category_paths`].
pub async fn update_category(
    tx: &mut Tx,
    id: &str,
    parent_id: Option<&str>,
    name: &str,
    sort: i64,
) -> StoreResult<u64> {
    tx.execute(
        "UPDATE categories SET parent_id = $2, name = $3, sort = $4 WHERE id = $1",
        args![id, parent_id, name, sort],
    )
    .await
}

/// Rewrites materialised paths: (category id, new path).
pub async fn set_category_paths(tx: &mut Tx, paths: &[(String, String)]) -> StoreResult<()> {
    for (id, path) in paths {
        tx.execute("UPDATE categories SET path = $2 WHERE id = $1", args![id, path]).await?;
    }
    Ok(())
}

/// Deletes an (empty) category and the catalog rules that named it; returns how many rules went.
pub async fn delete_category(tx: &mut Tx, id: &str) -> StoreResult<u64> {
    let rules = tx
        .execute(
            "DELETE FROM catalog_rules WHERE rule IN ('include_category', 'exclude_category') AND target_id = $1",
            args![id],
        )
        .await?;
    tx.execute("DELETE FROM categories WHERE id = $1", args![id]).await?;
    Ok(rules)
}

/// Catalog rules (with their catalog's name) that name a category: (catalog, rule).
pub async fn category_rules(db: &Db, id: &str) -> StoreResult<Vec<(String, String)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT k.name, r.rule FROM catalog_rules r JOIN catalogs k ON k.id = r.catalog_id
         WHERE r.rule IN ('include_category', 'exclude_category') AND r.target_id = $1 ORDER BY k.name"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

pub async fn category_by_path(db: &Db, path: &str) -> StoreResult<Option<CategoryRow>> {
    on_db!(db, |c| sqlx::query_as::<_, CategoryRow>(
        "SELECT id, parent_id, name, path, sort FROM categories WHERE path = $1"
    )
    .bind(path)
    .fetch_optional(c)
    .await)
}
