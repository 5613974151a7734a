//! Category administration: the tree with its product counts; creating, renaming, moving,
//! re-sorting and deleting categories; and the API's idempotent "make sure this path exists".
//!
//! Every change is one transaction that takes the tree lock, checks the change against the tree
//! as it is now (domain::catalog rules), rewrites the materialised paths of the category and all
//! its descendants, rebuilds customer-catalog membership when ancestry changed (category rules
//! match by path prefix), and writes the audit row and the `category.*` outbox event. Product
//! search terms are SKU, name and attribute values only (domain::catalog::index_terms), so a
//! category's name or path never has to be re-indexed.

use super::{Actor, FieldError, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::categories::{
    self as rules, CategoryName, TreeProblem, child_path, delete_blockers, parse_path, plan_create, plan_edit,
    sibling_named, subtree_totals, tree_order,
};
use crate::store::catalogs;
pub use crate::store::categories::CategoryRow;
use crate::store::categories::{self, category_nodes};
use crate::store::{Db, Tx, audit as outbox, new_id};
use serde_json::{Value, json};

/// A category as pages and the API show it.
#[derive(Clone, Debug)]
pub struct CategoryView {
    pub row: CategoryRow,
    /// 0 for a top-level category.
    pub depth: usize,
    pub parent_path: Option<String>,
    /// Products in the category and all its subcategories: (active, all).
    pub active_products: i64,
    pub products: i64,
    /// Products directly in the category (what blocks deleting it, with its subcategories).
    pub direct_products: i64,
    pub children: i64,
}

/// Who may read the tree (catalog readers: staff, and API tokens with `catalog:read`).
fn require_read(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::ReadCatalog)
}

/// Who may change it (catalog administrators; `catalog:write`). Buyers get 404, other staff 403.
fn require_manage(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::ManageCatalog)
}

fn invalid(problems: Vec<TreeProblem>) -> ServiceError {
    ServiceError::Invalid(
        problems.into_iter().map(|(field, message)| FieldError { field: field.to_string(), message }).collect(),
    )
}

/// The whole tree in display order, with product counts (for `GET /api/v1/categories`).
pub async fn tree(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<CategoryView>> {
    require_read(actor)?;
    load_tree(db).await
}

/// The whole tree for the administration page.
pub async fn admin_tree(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<CategoryView>> {
    require_manage(actor)?;
    load_tree(db).await
}

async fn load_tree(db: &Db) -> ServiceResult<Vec<CategoryView>> {
    let rows = categories::categories(db).await?;
    let counts = categories::category_product_counts(db).await?;
    Ok(views(rows, &counts))
}

fn views(rows: Vec<CategoryRow>, counts: &std::collections::HashMap<String, (i64, i64)>) -> Vec<CategoryView> {
    let index: std::collections::HashMap<&str, usize> =
        rows.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let parent_of: Vec<Option<usize>> =
        rows.iter().map(|c| c.parent_id.as_deref().and_then(|p| index.get(p).copied())).collect();
    let direct: Vec<(i64, i64)> = rows.iter().map(|c| counts.get(&c.id).copied().unwrap_or((0, 0))).collect();
    let totals = subtree_totals(&parent_of, &direct);
    let mut children = vec![0i64; rows.len()];
    for p in parent_of.iter().flatten() {
        children[*p] += 1;
    }
    let order = tree_order(&category_nodes(&rows));
    order
        .into_iter()
        .map(|(i, depth)| CategoryView {
            row: rows[i].clone(),
            depth,
            parent_path: parent_of[i].map(|p| rows[p].path.clone()),
            active_products: totals[i].0,
            products: totals[i].1,
            direct_products: direct[i].1,
            children: children[i],
        })
        .collect()
}

/// One category for its administration page: itself, where it may move to (every category outside
/// its own subtree), and the customer catalogs whose rules name it.
pub struct CategoryDetail {
    pub category: CategoryView,
    pub parents: Vec<CategoryView>,
    /// (catalog name, rule): `include_category` or `exclude_category`.
    pub rules: Vec<(String, String)>,
}

pub async fn category_detail(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<CategoryDetail> {
    require_manage(actor)?;
    let all = load_tree(db).await?;
    let category = all.iter().find(|c| c.row.id == id).cloned().ok_or(ServiceError::NotFound)?;
    let parents = all.into_iter().filter(|c| !rules::is_self_or_descendant(&category.row.path, &c.row.path)).collect();
    let rules = categories::category_rules(db, id).await?;
    Ok(CategoryDetail { category, parents, rules })
}

/// The event (and audit "after") of a category.
fn event(c: &CategoryRow, parent_path: Option<&str>) -> Value {
    json!({ "id": c.id, "path": c.path, "name": c.name, "parent_path": parent_path, "sort": c.sort })
}

/// Audit row and outbox event of one change, inside its transaction.
async fn record(
    tx: &mut Tx,
    now: i64,
    actor: &Actor<'_>,
    action: &str,
    id: &str,
    before: Option<Value>,
    after: Value,
) -> ServiceResult<()> {
    let after_audit = (action != "category.deleted").then(|| after.clone());
    audit(tx, Some(actor), now, action, ("category", id), before, after_audit).await?;
    outbox::enqueue(tx, action, &after, now).await?;
    Ok(())
}

/// Opens a tree change in a unit of work: takes the tree lock and reads the tree as it is now.
async fn lock_tree(tx: &mut Tx) -> ServiceResult<Vec<CategoryRow>> {
    categories::lock_category_tree(tx).await?;
    Ok(categories::categories_for_update(tx).await?)
}

fn path_of(rows: &[CategoryRow], id: Option<&str>) -> Option<String> {
    id.and_then(|id| rows.iter().find(|c| c.id == id)).map(|c| c.path.clone())
}

/// Creates a category under `parent_id` (`None`: top level).
pub async fn create_category(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    name: &str,
    parent_id: Option<&str>,
    sort: i64,
) -> ServiceResult<CategoryRow> {
    require_manage(actor)?;
    let unit = (now, actor.owned(), name.to_string(), parent_id.map(str::to_string), sort);
    db.write(unit, |tx, (now, actor, name, parent_id, sort)| {
        Box::pin(write_create(tx, *now, actor, name, parent_id.as_deref(), *sort))
    })
    .await
}

/// A creation's unit of work: checks the name against the tree as it is now, and inserts.
async fn write_create(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    name: &str,
    parent_id: Option<&str>,
    sort: i64,
) -> ServiceResult<CategoryRow> {
    let rows = lock_tree(tx).await?;
    let (name, path) = plan_create(&category_nodes(&rows), name, parent_id).map_err(invalid)?;
    insert(tx, now, &actor.actor(), &rows, parent_id, &name, path, sort).await
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    now: i64,
    actor: &Actor<'_>,
    rows: &[CategoryRow],
    parent_id: Option<&str>,
    name: &CategoryName,
    path: String,
    sort: i64,
) -> ServiceResult<CategoryRow> {
    let row = CategoryRow {
        id: new_id(),
        parent_id: parent_id.map(str::to_string),
        name: name.as_str().to_string(),
        path,
        sort,
    };
    categories::insert_category(tx, &row.id, parent_id, &row.name, &row.path, sort, now).await?;
    let parent_path = path_of(rows, parent_id);
    record(tx, now, actor, "category.created", &row.id, None, event(&row, parent_path.as_deref())).await?;
    Ok(row)
}

/// What a change does to a category.
enum Change {
    Rename(String),
    Move(Option<String>),
    Sort(i64),
}

pub async fn rename_category(db: &Db, now: i64, actor: &Actor<'_>, id: &str, name: &str) -> ServiceResult<bool> {
    change(db, now, actor, id, Change::Rename(name.to_string())).await
}

/// Moves a category (and its subtree) under `parent_id` (`None`: top level).
pub async fn move_category(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    parent_id: Option<&str>,
) -> ServiceResult<bool> {
    change(db, now, actor, id, Change::Move(parent_id.map(str::to_string))).await
}

pub async fn set_category_sort(db: &Db, now: i64, actor: &Actor<'_>, id: &str, sort: i64) -> ServiceResult<bool> {
    change(db, now, actor, id, Change::Sort(sort)).await
}

/// Applies one change in its own unit of work; returns whether anything changed (an identical
/// change writes nothing but the tree lock's counter).
async fn change(db: &Db, now: i64, actor: &Actor<'_>, id: &str, change: Change) -> ServiceResult<bool> {
    require_manage(actor)?;
    let unit = (now, actor.owned(), id.to_string(), change);
    db.write(unit, |tx, (now, actor, id, change)| Box::pin(write_change(tx, *now, actor, id, change))).await
}

async fn write_change(tx: &mut Tx, now: i64, actor: &OwnedActor, id: &str, change: &Change) -> ServiceResult<bool> {
    let rows = lock_tree(tx).await?;
    apply(tx, now, &actor.actor(), &rows, id, change).await
}

/// Applies one change inside the caller's tree transaction.
async fn apply(
    tx: &mut Tx,
    now: i64,
    actor: &Actor<'_>,
    rows: &[CategoryRow],
    id: &str,
    change: &Change,
) -> ServiceResult<bool> {
    let before = rows.iter().find(|c| c.id == id).cloned().ok_or(ServiceError::NotFound)?;
    let (name, parent_id, sort) = match change {
        Change::Rename(name) => (name.as_str(), before.parent_id.as_deref(), before.sort),
        Change::Move(parent_id) => (before.name.as_str(), parent_id.as_deref(), before.sort),
        Change::Sort(sort) => (before.name.as_str(), before.parent_id.as_deref(), *sort),
    };
    let edit = plan_edit(&category_nodes(rows), id, name, parent_id).map_err(invalid)?;
    if edit.changes_nothing() && edit.name == before.name && sort == before.sort {
        return Ok(false);
    }
    categories::update_category(tx, id, edit.parent_id.as_deref(), &edit.name, sort).await?;
    categories::set_category_paths(tx, &edit.new_paths).await?;
    if edit.ancestry_changed {
        catalogs::rebuild_subtree_membership(tx, &edit.path).await?;
    }
    let after = CategoryRow {
        id: before.id.clone(),
        parent_id: edit.parent_id.clone(),
        name: edit.name.clone(),
        path: edit.path.clone(),
        sort,
    };
    let mut payload = event(&after, path_of(rows, edit.parent_id.as_deref()).as_deref());
    payload["previous_path"] = json!(before.path);
    // Descendants' paths changed too; subscribers that key by path need to know.
    payload["paths_rewritten"] = json!(edit.new_paths.len());
    let before_json = event(&before, path_of(rows, before.parent_id.as_deref()).as_deref());
    record(tx, now, actor, "category.updated", id, Some(before_json), payload).await?;
    Ok(true)
}

/// Deletes a category that holds no products and no subcategories; anything else is refused with
/// what blocks it. Catalog rules naming the category go with it. Returns the deleted row.
pub async fn delete_category(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<CategoryRow> {
    require_manage(actor)?;
    delete(db, now, actor, Target::Id(id.to_string())).await
}

/// The category a deletion names.
enum Target {
    Id(String),
    /// Levels matched ignoring case ([`resolve`]).
    Path(Vec<CategoryName>),
}

async fn delete(db: &Db, now: i64, actor: &Actor<'_>, target: Target) -> ServiceResult<CategoryRow> {
    let unit = (now, actor.owned(), target);
    db.write(unit, |tx, (now, actor, target)| Box::pin(write_delete(tx, *now, actor, target))).await
}

/// A deletion's unit of work: finds the category in the tree as it is now, and deletes it.
async fn write_delete(tx: &mut Tx, now: i64, actor: &OwnedActor, target: &Target) -> ServiceResult<CategoryRow> {
    let rows = lock_tree(tx).await?;
    let before = match target {
        Target::Id(id) => rows.iter().find(|c| &c.id == id),
        Target::Path(names) => resolve(&rows, names),
    };
    let before = before.cloned().ok_or(ServiceError::NotFound)?;
    delete_row(tx, now, &actor.actor(), &rows, before).await
}

async fn delete_row(
    tx: &mut Tx,
    now: i64,
    actor: &Actor<'_>,
    rows: &[CategoryRow],
    before: CategoryRow,
) -> ServiceResult<CategoryRow> {
    let (products, children) = categories::category_contents(tx, &before.id).await?;
    if let Some(why) = delete_blockers(&before.path, products, children) {
        return Err(ServiceError::Conflict(format!("{why} Nothing was deleted.")));
    }
    let removed_rules = match categories::delete_category(tx, &before.id).await {
        Ok(n) => n,
        // A product was put in the category after the count (PostgreSQL: another transaction).
        Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => {
            return Err(ServiceError::Conflict(format!(
                "“{}” just received a product; it can no longer be deleted. Nothing was deleted.",
                before.path
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let parent_path = path_of(rows, before.parent_id.as_deref());
    let mut payload = json!({ "id": before.id, "path": before.path, "parent_path": parent_path });
    payload["removed_catalog_rules"] = json!(removed_rules);
    let before_json = event(&before, parent_path.as_deref());
    record(tx, now, actor, "category.deleted", &before.id, Some(before_json), payload).await?;
    Ok(before)
}

/// The category at a path, each level matched ignoring case (as [`ensure_path`] creates them).
fn resolve<'a>(rows: &'a [CategoryRow], names: &[CategoryName]) -> Option<&'a CategoryRow> {
    let nodes = category_nodes(rows);
    let mut at: Option<&CategoryRow> = None;
    for name in names {
        let found = sibling_named(&nodes, at.map(|c| c.id.as_str()), name, None)?;
        at = rows.iter().find(|c| c.id == found.id);
    }
    at
}

/// The outcome of [`ensure_path`].
pub struct Ensured {
    pub category: CategoryView,
    /// Paths of the categories created (ancestors first); empty when all existed.
    pub created: Vec<String>,
    /// Whether anything was written (created, or the sort changed).
    pub changed: bool,
}

/// Makes sure the category at `path` ("Medical / Gloves / Nitrile") exists, creating it and any
/// missing ancestors; levels that exist are matched ignoring case (their stored names win).
/// `sort`, if given, is set on the last level. The same request twice changes nothing.
pub async fn ensure_path(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    path: &str,
    sort: Option<i64>,
) -> ServiceResult<Ensured> {
    require_manage(actor)?;
    let names = parse_path(path).map_err(|e| ServiceError::invalid("path", e))?;
    let unit = (now, actor.owned(), names, sort);
    let (leaf, created, sort_changed) =
        db.write(unit, |tx, (now, actor, names, sort)| Box::pin(write_ensure(tx, *now, actor, names, *sort))).await?;
    let counts = categories::category_product_counts(db).await?;
    let category = views(categories::categories(db).await?, &counts)
        .into_iter()
        .find(|c| c.row.id == leaf.id)
        .ok_or(ServiceError::NotFound)?;
    let changed = sort_changed || !created.is_empty();
    Ok(Ensured { category, created, changed })
}

/// [`ensure_path`]'s unit of work: creates the missing levels and sets the leaf's sort; returns the
/// leaf, the paths created and whether the sort changed.
async fn write_ensure(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    names: &[CategoryName],
    sort: Option<i64>,
) -> ServiceResult<(CategoryRow, Vec<String>, bool)> {
    let actor = &actor.actor();
    let mut rows = lock_tree(tx).await?;
    let mut created = Vec::new();
    let mut parent: Option<CategoryRow> = None;
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        let parent_id = parent.as_ref().map(|p| p.id.clone());
        let existing =
            sibling_named(&category_nodes(&rows), parent_id.as_deref(), name, None).map(|n| n.id.to_string());
        let row = match existing.and_then(|id| rows.iter().find(|c| c.id == id).cloned()) {
            Some(row) => row,
            None => {
                let path = child_path(parent.as_ref().map(|p| p.path.as_str()), name);
                let sort = if last { sort.unwrap_or(0) } else { 0 };
                let row = insert(tx, now, actor, &rows, parent_id.as_deref(), name, path, sort).await?;
                created.push(row.path.clone());
                rows.push(row.clone());
                row
            }
        };
        parent = Some(row);
    }
    let leaf = parent.ok_or_else(|| ServiceError::invalid("path", "Path is required."))?;
    // A leaf that existed keeps its sort unless the request names another.
    let sort_changed = match sort {
        Some(sort) if created.is_empty() => apply(tx, now, actor, &rows, &leaf.id, &Change::Sort(sort)).await?,
        _ => false,
    };
    Ok((leaf, created, sort_changed))
}

/// Deletes the category at `path` (levels matched ignoring case), with [`delete_category`]'s rules.
pub async fn delete_path(db: &Db, now: i64, actor: &Actor<'_>, path: &str) -> ServiceResult<CategoryRow> {
    require_manage(actor)?;
    let names = parse_path(path).map_err(|e| ServiceError::invalid("path", e))?;
    delete(db, now, actor, Target::Path(names)).await
}
