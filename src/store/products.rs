//! Products, categories and customer-specific catalogs (with their materialised membership).

use super::{Cell, Db, StoreResult, Tx, bulk_insert};
use crate::domain::catalog::{BackorderPolicy, QuantityRules};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct ProductRow {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: Option<String>,
    pub uom: String,
    pub pack_size: i64,
    pub min_qty: i64,
    pub multiple_qty: i64,
    pub max_qty: Option<i64>,
    pub image_url: Option<String>,
    pub regulated_class: Option<String>,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub active: bool,
    pub backorder_policy: String,
    pub external_id: Option<String>,
    pub version: i64,
}

pub const PRODUCT_COLUMNS: &str = "p.id, p.sku, p.name, p.description, p.category_id, p.uom, p.pack_size, p.min_qty, p.multiple_qty, p.max_qty, p.image_url, p.regulated_class, p.active, p.backorder_policy, p.external_id, p.version";

impl ProductRow {
    pub fn rules(&self) -> QuantityRules {
        QuantityRules { min: self.min_qty, multiple: self.multiple_qty, max: self.max_qty }
    }
    pub fn backorder(&self) -> BackorderPolicy {
        BackorderPolicy::parse(&self.backorder_policy).unwrap_or(BackorderPolicy::Deny)
    }
}

/// A product as written by forms, imports and the API.
#[derive(Clone, Debug)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: Option<String>,
    pub uom: String,
    pub pack_size: i64,
    pub rules: QuantityRules,
    pub image_url: Option<String>,
    pub regulated_class: Option<String>,
    pub active: bool,
    pub backorder: BackorderPolicy,
    pub external_id: Option<String>,
    pub attributes: Vec<(String, String)>,
}

impl ProductInput {
    /// An active product sold by the each, any quantity, no backorders — change what differs.
    pub fn new(sku: &str, name: &str) -> ProductInput {
        ProductInput {
            sku: sku.to_string(),
            name: name.to_string(),
            description: String::new(),
            category_id: None,
            uom: "EA".into(),
            pack_size: 1,
            rules: QuantityRules::default(),
            image_url: None,
            regulated_class: None,
            active: true,
            backorder: BackorderPolicy::Deny,
            external_id: None,
            attributes: Vec::new(),
        }
    }

    /// The search index terms of this product (SKU, name, attribute values).
    pub fn terms(&self) -> Vec<String> {
        let mut texts: Vec<&str> = vec![&self.sku, &self.name];
        texts.extend(self.attributes.iter().map(|(_, v)| v.as_str()));
        crate::domain::catalog::index_terms(&texts)
    }
}

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

/// Inserts or updates a product by SKU; returns its id.
pub async fn upsert(tx: &mut Tx, id: &str, p: &ProductInput, now: i64) -> StoreResult<String> {
    let id = tx
        .fetch_one::<String>(
            "INSERT INTO products (id, sku, name, description, category_id, uom, pack_size, min_qty, multiple_qty, max_qty, image_url,
                               regulated_class, active, backorder_policy, external_id, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, description = excluded.description, category_id = excluded.category_id,
             uom = excluded.uom, pack_size = excluded.pack_size, min_qty = excluded.min_qty, multiple_qty = excluded.multiple_qty,
             max_qty = excluded.max_qty, image_url = excluded.image_url, regulated_class = excluded.regulated_class,
             active = excluded.active, backorder_policy = excluded.backorder_policy, external_id = excluded.external_id,
             version = products.version + 1, updated_at = excluded.updated_at
         RETURNING id",
            args![
                id,
                &p.sku,
                &p.name,
                &p.description,
                &p.category_id,
                &p.uom,
                p.pack_size,
                p.rules.min,
                p.rules.multiple,
                p.rules.max,
                &p.image_url,
                &p.regulated_class,
                p.active,
                p.backorder.as_str(),
                &p.external_id,
                now
            ],
        )
        .await?;
    tx.execute("DELETE FROM product_attributes WHERE product_id = $1", args![&id]).await?;
    tx.execute("DELETE FROM product_terms WHERE product_id = $1", args![&id]).await?;
    let rows: Vec<Vec<Cell>> = p.terms().into_iter().map(|t| vec![Cell::Text(t), Cell::Text(id.clone())]).collect();
    bulk_insert(tx, "product_terms", &["term", "product_id"], &rows).await?;
    for (k, v) in &p.attributes {
        tx.execute("INSERT INTO product_attributes (product_id, key, value) VALUES ($1, $2, $3)", args![&id, k, v])
            .await?;
    }
    Ok(id)
}

pub async fn get_by_sku(db: &Db, sku: &str) -> StoreResult<Option<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku = $1");
    on_db!(db, |c| sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql.clone())).bind(sku).fetch_optional(c).await)
}

/// The product with this SKU as this transaction sees it, locked until it ends (on PostgreSQL; on
/// SQLite the writer's transaction already holds the database's write lock).
pub async fn lock_by_sku(tx: &mut Tx, sku: &str) -> StoreResult<Option<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku = $1");
    tx.lock::<ProductRow>(&sql, args![sku]).await.map(|v| v.into_iter().next())
}

pub async fn attributes(db: &Db, product_id: &str) -> StoreResult<Vec<(String, String)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT key, value FROM product_attributes WHERE product_id = $1 ORDER BY key"
    )
    .bind(product_id)
    .fetch_all(c)
    .await)
}

/// Which products a list shows: every product (staff), or what one account may see.
#[derive(Clone, Copy, Debug)]
pub enum Visibility<'a> {
    All,
    Account(&'a str),
}

/// The catalogs account `{a}` sees: those assigned to it or its group, else the default catalog.
/// Uncorrelated, so both backends evaluate it once per query.
fn account_catalogs_sql(a: &str) -> String {
    let assigned = format!(
        "SELECT ca.catalog_id FROM catalog_assignments ca WHERE ca.account_id = {a} OR ca.group_id = (SELECT group_id FROM accounts WHERE id = {a})"
    );
    format!("{assigned} UNION ALL SELECT k.id FROM catalogs k WHERE k.is_default = TRUE AND NOT EXISTS ({assigned})")
}

/// Below this many index entries a search word counts as rare (see [`list`]).
const RARE_WORD: i64 = 300;

/// The search word with the fewest index entries, if it has fewer than [`RARE_WORD`] (counted in
/// one query, each count stopping there).
async fn rarest_word(db: &Db, words: &[String]) -> StoreResult<Option<usize>> {
    let counts: Vec<String> = (0..words.len())
        .map(|i| {
            format!(
                "(SELECT COUNT(*) FROM (SELECT 1 FROM product_terms t WHERE t.term >= ${} AND t.term < ${} LIMIT {RARE_WORD}))",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    let bounds: Vec<String> = words.iter().flat_map(|w| [w.clone(), format!("{w}\u{10FFFF}")]).collect();
    let binds: Vec<&str> = bounds.iter().map(String::as_str).collect();
    let sql = format!("SELECT json_array({})", counts.join(", "));
    let counts: Vec<i64> = match db.read_text(&sql, &binds).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        None => return Ok(None),
    };
    Ok(counts.iter().enumerate().min_by_key(|(_, n)| **n).filter(|(_, n)| **n < RARE_WORD).map(|(i, _)| i))
}

/// A listed product with its stock summed over warehouses (one query for the whole page).
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ListedProduct {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub product: ProductRow,
    pub on_hand: i64,
    pub reserved: i64,
    pub next_eta: Option<String>,
}

/// Filters of a catalog listing.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub category_ids: Vec<String>,
    pub term: String,
    pub include_inactive: bool,
}

/// One page of products by (name, id), starting after `after` — keyset pagination, never OFFSET —
/// with their stock totals.
pub async fn list(
    db: &Db,
    visibility: Visibility<'_>,
    filter: &ListFilter,
    after: Option<(&str, &str)>,
    limit: i64,
) -> StoreResult<Vec<ListedProduct>> {
    // Only static fragments and numbered placeholders are assembled; every value is bound.
    let mut sql = format!(
        "SELECT {PRODUCT_COLUMNS},
                COALESCE((SELECT CAST(SUM(s.on_hand) AS BIGINT) FROM stock_levels s WHERE s.product_id = p.id), 0) AS on_hand,
                COALESCE((SELECT CAST(SUM(s.reserved) AS BIGINT) FROM stock_levels s WHERE s.product_id = p.id), 0) AS reserved,
                (SELECT MIN(s.incoming_eta) FROM stock_levels s WHERE s.product_id = p.id AND s.incoming > 0) AS next_eta
         FROM products p WHERE 1 = 1"
    );
    let mut binds: Vec<String> = Vec::new();
    let next = |v: String, binds: &mut Vec<String>| {
        binds.push(v);
        format!("${}", binds.len())
    };
    if !filter.include_inactive {
        sql.push_str(" AND p.active = TRUE");
    }
    if let Visibility::Account(account_id) = visibility {
        let a = next(account_id.to_string(), &mut binds);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM catalog_products cp WHERE cp.product_id = p.id AND cp.catalog_id IN ({}))",
            account_catalogs_sql(&a)
        ));
    }
    if !filter.category_ids.is_empty() {
        let ph: Vec<String> = filter.category_ids.iter().map(|i| next(i.clone(), &mut binds)).collect();
        sql.push_str(&format!(" AND p.category_id IN ({})", ph.join(", ")));
    }
    // Every search word must prefix-match an indexed term: a range scan of product_terms each.
    // The planners differ here (one of the few dialect differences): PostgreSQL does best when
    // each word is its own semi-join (672 pages/s vs 275 with INTERSECT); SQLite when the words
    // are intersected first (three words on 100k products: 14 ms → 7 ms) — unless one word is
    // rare: then its few products are the candidates and the other words are checked per product
    // ("nitrile gloves 0001": 5 ms → 1 ms; with two common words that is 6× slower, so only then).
    let words: Vec<String> = crate::domain::catalog::query_terms(&filter.term).into_iter().take(8).collect();
    let rare = match db {
        Db::Sqlite(..) if words.len() > 1 => rarest_word(db, &words).await?,
        _ => None,
    };
    let range = |word: &str, binds: &mut Vec<String>| {
        let lo = next(word.to_string(), binds);
        let hi = next(format!("{word}\u{10FFFF}"), binds);
        format!("t.term >= {lo} AND t.term < {hi}")
    };
    let in_terms = |cond: &str| format!("SELECT t.product_id FROM product_terms t WHERE {cond}");
    match rare {
        Some(r) => {
            sql.push_str(&format!(" AND p.id IN ({})", in_terms(&range(&words[r], &mut binds))));
            for w in words.iter().enumerate().filter(|(i, _)| *i != r).map(|(_, w)| w) {
                let cond = range(w, &mut binds);
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM product_terms t WHERE t.product_id = p.id AND {cond})"
                ));
            }
        }
        None if matches!(db, Db::Sqlite(..)) && !words.is_empty() => {
            let sets: Vec<String> = words.iter().map(|w| in_terms(&range(w, &mut binds))).collect();
            sql.push_str(&format!(" AND p.id IN ({})", sets.join(" INTERSECT ")));
        }
        None => {
            for w in &words {
                let cond = range(w, &mut binds);
                sql.push_str(&format!(" AND p.id IN ({})", in_terms(&cond)));
            }
        }
    }
    if let Some((name, id)) = after {
        let n = next(name.to_string(), &mut binds);
        let i = next(id.to_string(), &mut binds);
        sql.push_str(&format!(" AND (p.name > {n} OR (p.name = {n} AND p.id > {i}))"));
    }
    sql.push_str(&format!(" ORDER BY p.name, p.id LIMIT {}", limit.clamp(1, 500)));
    // The page comes back as one row (see `Db::json_rows`).
    let columns = format!("{}, l.on_hand, l.reserved, l.next_eta", PRODUCT_COLUMNS.replace("p.", "l."));
    let sql = format!("SELECT {} FROM ({sql}) l", db.json_rows(&super::json_fields(&columns), "l.name, l.id"));
    let binds: Vec<&str> = binds.iter().map(String::as_str).collect();
    super::fetch_json_rows(db, &sql, &binds).await
}

/// Whether an account may see a product (it is in one of the account's catalogs).
pub async fn visible_to_account(db: &Db, product_id: &str, account_id: &str) -> StoreResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM catalog_products WHERE product_id = $1 AND catalog_id IN ({})",
        account_catalogs_sql("$2")
    );
    let n = on_db!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(product_id)
        .bind(account_id)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

pub async fn insert_catalog(
    tx: &mut Tx,
    id: &str,
    name: &str,
    includes_all: bool,
    is_default: bool,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO catalogs (id, name, includes_all, is_default, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![id, name, includes_all, is_default, now],
    )
    .await?;
    Ok(())
}

pub async fn add_catalog_rule(tx: &mut Tx, catalog_id: &str, rule: &str, target_id: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO catalog_rules (catalog_id, rule, target_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        args![catalog_id, rule, target_id],
    )
    .await?;
    Ok(())
}

pub async fn assign_catalog(
    tx: &mut Tx,
    id: &str,
    catalog_id: &str,
    account_id: Option<&str>,
    group_id: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO catalog_assignments (id, catalog_id, account_id, group_id) VALUES ($1, $2, $3, $4)",
        args![id, catalog_id, account_id, group_id],
    )
    .await?;
    Ok(())
}

/// Recomputes which products belong to which catalog, from the rules, in one statement per step.
/// Categories include their descendants (by path prefix). Runs inside the caller's transaction.
pub async fn rebuild_catalog_membership(tx: &mut Tx) -> StoreResult<()> {
    rebuild_membership(tx, Only::Product("")).await
}

/// Recomputes one product's catalog membership (after it is created or moved).
pub async fn rebuild_product_membership(tx: &mut Tx, product_id: &str) -> StoreResult<()> {
    rebuild_membership(tx, Only::Product(product_id)).await
}

/// Recomputes the membership of the products in the category at `path` and its descendants (after
/// the category moved: category rules match by ancestry). Call it with the *new* path.
pub async fn rebuild_subtree_membership(tx: &mut Tx, path: &str) -> StoreResult<()> {
    rebuild_membership(tx, Only::Subtree(path)).await
}

/// Which products a rebuild covers; the value is bound as `$1`.
#[derive(Clone, Copy)]
enum Only<'a> {
    /// One product, or every product when empty.
    Product(&'a str),
    /// The products of a category subtree, by the subtree's path.
    Subtree(&'a str),
}

impl Only<'_> {
    fn value(self) -> String {
        match self {
            Only::Product(v) | Only::Subtree(v) => v.to_string(),
        }
    }

    /// A condition on a product id column.
    fn products(self, col: &str) -> String {
        match self {
            Only::Product(_) => format!("($1 = '' OR {col} = $1)"),
            Only::Subtree(_) => format!(
                "{col} IN (SELECT sp.id FROM products sp JOIN categories sc ON sc.id = sp.category_id
                           WHERE sc.path = $1 OR substr(sc.path, 1, length($1) + 3) = $1 || ' / ')"
            ),
        }
    }
}

/// The membership rules, for the products `only` names. A category rule covers the category and
/// its descendants: paths equal, or the product's path continues the rule's with " / ". (Compared
/// with `substr`, not `LIKE`: a `_` or `%` in a category name must not act as a wildcard.)
async fn rebuild_membership(tx: &mut Tx, only: Only<'_>) -> StoreResult<()> {
    let steps = [
        format!("DELETE FROM catalog_products WHERE {}", only.products("product_id")),
        format!(
            "INSERT INTO catalog_products (catalog_id, product_id)
             SELECT k.id, p.id FROM catalogs k CROSS JOIN products p WHERE k.includes_all = TRUE AND {}",
            only.products("p.id")
        ),
        format!(
            "INSERT INTO catalog_products (catalog_id, product_id)
             SELECT DISTINCT r.catalog_id, p.id
             FROM catalog_rules r
             JOIN categories rc ON rc.id = r.target_id
             JOIN categories pc ON pc.path = rc.path OR substr(pc.path, 1, length(rc.path) + 3) = rc.path || ' / '
             JOIN products p ON p.category_id = pc.id
             WHERE r.rule = 'include_category' AND {}
             UNION
             SELECT r.catalog_id, r.target_id FROM catalog_rules r WHERE r.rule = 'include_product' AND {}
             ON CONFLICT DO NOTHING",
            only.products("p.id"),
            only.products("r.target_id")
        ),
        format!(
            "DELETE FROM catalog_products WHERE {} AND EXISTS (
                 SELECT 1 FROM catalog_rules r
                 LEFT JOIN categories rc ON rc.id = r.target_id
                 JOIN products p ON p.id = catalog_products.product_id
                 LEFT JOIN categories pc ON pc.id = p.category_id
                 WHERE r.catalog_id = catalog_products.catalog_id
                   AND ((r.rule = 'exclude_product' AND r.target_id = p.id)
                     OR (r.rule = 'exclude_category'
                         AND (pc.path = rc.path OR substr(pc.path, 1, length(rc.path) + 3) = rc.path || ' / '))))",
            only.products("product_id")
        ),
    ];
    let value = only.value();
    for sql in steps {
        tx.execute(&sql, args![&value]).await?;
    }
    Ok(())
}

/// Products by SKU (any that exist; the caller reports the rest).
pub async fn get_many_by_sku(db: &Db, skus: &[String]) -> StoreResult<Vec<ProductRow>> {
    get_many_by(db, ProductKey::Sku, skus).await
}

/// Which of `product_ids` the account may see.
pub async fn visible_subset(
    db: &Db,
    account_id: &str,
    product_ids: &[String],
) -> StoreResult<std::collections::HashSet<String>> {
    if product_ids.is_empty() {
        return Ok(Default::default());
    }
    // One row holding every visible id: rows, not bytes, are what the SQLite driver is slow at.
    let sql = format!(
        "SELECT {} FROM (SELECT DISTINCT product_id FROM catalog_products WHERE product_id IN ({}) AND catalog_id IN ({})) v",
        db.string_agg("v.product_id"),
        db.json_values("$2"),
        account_catalogs_sql("$1")
    );
    let list = super::json_list(product_ids);
    let ids = db.read_text(&sql, &[account_id, &list]).await?;
    Ok(ids.unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// Products ordered by SKU after `after_sku` (the API's cursor order; stable for ERP sync).
pub async fn list_by_sku(db: &Db, after_sku: &str, limit: i64) -> StoreResult<Vec<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku > $1 ORDER BY p.sku LIMIT $2");
    on_db!(db, |c| sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(after_sku)
        .bind(limit)
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

/// SKU → product id for every product (imports resolve SKUs once, not per row).
pub async fn sku_index(db: &Db) -> StoreResult<std::collections::HashMap<String, String>> {
    let rows =
        on_db!(db, |c| sqlx::query_as::<_, (String, String)>("SELECT sku, id FROM products").fetch_all(c).await)?;
    Ok(rows.into_iter().collect())
}

/// Products by a key column (`id` or `external_id`; any that exist).
pub async fn get_many_by(db: &Db, column: ProductKey, keys: &[String]) -> StoreResult<Vec<ProductRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let col = match column {
        ProductKey::Id => "p.id",
        ProductKey::Sku => "p.sku",
        ProductKey::ExternalId => "p.external_id",
    };
    // Hundreds of products (a quote, a pasted order) come back as one row.
    let sql = format!(
        "SELECT {} FROM products p WHERE {col} IN ({})",
        db.json_rows(&super::json_fields(PRODUCT_COLUMNS), ""),
        db.json_values("$1")
    );
    super::fetch_json_rows(db, &sql, &[&super::json_list(keys)]).await
}

#[derive(Clone, Copy, Debug)]
pub enum ProductKey {
    Id,
    Sku,
    ExternalId,
}

/// Candidates for "did you mean" when `sku` is unknown: SKUs the account can buy that are its
/// neighbours in SKU order (a typo near the end) or share its first four characters or its first
/// half (a typo further in) — a few hundred at most, in one row.
pub async fn skus_near(db: &Db, account_id: &str, sku: &str) -> StoreResult<Vec<String>> {
    let chars: Vec<char> = sku.chars().collect();
    let short: String = chars.iter().take(4.min(chars.len().saturating_sub(1)).max(1)).collect();
    let half: String = chars.iter().take((chars.len() / 2).max(short.chars().count())).collect();
    let visible = format!(
        "p.active AND EXISTS (SELECT 1 FROM catalog_products cp WHERE cp.product_id = p.id AND cp.catalog_id IN ({}))",
        account_catalogs_sql("$1")
    );
    let window = |cond: &str, order: &str, limit: i64| {
        format!(
            "SELECT sku FROM (SELECT p.sku FROM products p WHERE {cond} AND {visible} ORDER BY p.sku {order} LIMIT {limit}) w"
        )
    };
    let sql = format!(
        "SELECT {} FROM ({} UNION {} UNION {} UNION {}) n",
        db.string_agg("n.sku"),
        window("p.sku >= $2", "", 20),
        window("p.sku < $2", "DESC", 20),
        window("p.sku >= $3 AND p.sku < $4", "", 150),
        window("p.sku >= $5 AND p.sku < $6", "", 150),
    );
    let skus = on_db!(db, |c| sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id)
        .bind(sku)
        .bind(&short)
        .bind(format!("{short}\u{10FFFF}"))
        .bind(&half)
        .bind(format!("{half}\u{10FFFF}"))
        .fetch_one(c)
        .await)?;
    Ok(skus.unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// SKUs visible to an account that start with `prefix` (type-ahead of the quick-order entry row).
pub async fn sku_suggestions(
    db: &Db,
    account_id: &str,
    prefix: &str,
    limit: i64,
) -> StoreResult<Vec<(String, String)>> {
    let upper = format!("{prefix}\u{10FFFF}");
    let sql = format!(
        "SELECT p.sku, p.name FROM products p WHERE p.sku >= $2 AND p.sku < $3 AND p.active
           AND EXISTS (SELECT 1 FROM catalog_products cp WHERE cp.product_id = p.id AND cp.catalog_id IN ({}))
         ORDER BY p.sku LIMIT $4",
        account_catalogs_sql("$1")
    );
    on_db!(db, |c| sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id)
        .bind(prefix)
        .bind(&upper)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Every product by SKU (imports compare a whole file against the catalog; exports write it).
pub async fn all_by_sku(db: &Db) -> StoreResult<Vec<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p ORDER BY p.sku");
    on_db!(db, |c| sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)
}

/// Every product's attributes: product id → (key, value) by key.
pub async fn all_attributes(db: &Db) -> StoreResult<std::collections::HashMap<String, Vec<(String, String)>>> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, (String, String, String)>(
        "SELECT product_id, key, value FROM product_attributes ORDER BY product_id, key"
    )
    .fetch_all(c)
    .await)?;
    let mut out: std::collections::HashMap<String, Vec<(String, String)>> = std::collections::HashMap::new();
    for (p, k, v) in rows {
        out.entry(p).or_default().push((k, v));
    }
    Ok(out)
}
