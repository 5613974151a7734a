//! Products: rows, the input forms, imports and the API write, upserts by SKU (with their search
//! terms and attributes), and lookups by SKU, id or external id. Categories, customer catalogs and
//! the catalog listing are their own modules ([`super::categories`], [`super::catalogs`],
//! [`super::product_search`]).

use super::{Cell, Db, StoreResult, Tx, bulk_insert};
use crate::domain::catalog::{BackorderPolicy, QuantityRules, Sku};
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
    /// The primary image's id (migration 0040), if the product has images.
    pub image_id: Option<String>,
    /// The primary image's alt text ("" or none: the product's name describes it).
    pub image_alt: Option<String>,
    /// Read only by the changes list ([`changed_since`]); 0 elsewhere.
    #[sqlx(default)]
    #[serde(default)]
    pub updated_at: i64,
}

pub const PRODUCT_COLUMNS: &str = "p.id, p.sku, p.name, p.description, p.category_id, p.uom, p.pack_size, p.min_qty, p.multiple_qty, p.max_qty, p.image_url, p.regulated_class, p.active, p.backorder_policy, p.external_id, p.version, p.image_id, p.image_alt";

impl ProductRow {
    /// The primary image as lists show it (a thumbnail), if the product has one.
    pub fn thumbnail(&self) -> Option<crate::domain::product_images::ImageRef> {
        self.image_id.as_ref().map(|id| crate::domain::product_images::ImageRef {
            id: id.clone(),
            alt: self.image_alt.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| self.name.clone()),
        })
    }

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

/// Sets a product's regulated class (a licence rule's class code; `None`: not regulated).
pub async fn set_regulated_class(tx: &mut Tx, id: &str, class: Option<&str>, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE products SET regulated_class = $2, version = version + 1, updated_at = $3 WHERE id = $1",
        args![id, class, now],
    )
    .await?;
    Ok(())
}

pub async fn get_by_sku(db: &Db, sku: &Sku) -> StoreResult<Option<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku = $1");
    on_db!(db, |c| sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(sku.as_str())
        .fetch_optional(c)
        .await)
}

/// The product with this SKU as this transaction sees it, locked until it ends (on PostgreSQL; on
/// SQLite the writer's transaction already holds the database's write lock).
pub async fn lock_by_sku(tx: &mut Tx, sku: &Sku) -> StoreResult<Option<ProductRow>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.sku = $1");
    tx.lock::<ProductRow>(&sql, args![sku.as_str()]).await.map(|v| v.into_iter().next())
}

pub async fn attributes(db: &Db, product_id: &str) -> StoreResult<Vec<(String, String)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT key, value FROM product_attributes WHERE product_id = $1 ORDER BY key"
    )
    .bind(product_id)
    .fetch_all(c)
    .await)
}

/// Products by SKU (any that exist; the caller reports the rest).
pub async fn get_many_by_sku(db: &Db, skus: &[Sku]) -> StoreResult<Vec<ProductRow>> {
    let keys: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
    get_many_where(db, "p.sku", &keys).await
}

/// Products created or changed at or after `since`, oldest change first, after the previous page's
/// last (updated_at, id).
pub async fn changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<ProductRow>> {
    let select = format!("SELECT {PRODUCT_COLUMNS}, p.updated_at FROM products p");
    super::changed_joined(db, (&select, "p"), None, since, after, limit).await
}

/// SKU → product id for every product (imports resolve SKUs once, not per row).
pub async fn sku_index(db: &Db) -> StoreResult<std::collections::HashMap<String, String>> {
    let rows =
        on_db!(db, |c| sqlx::query_as::<_, (String, String)>("SELECT sku, id FROM products").fetch_all(c).await)?;
    Ok(rows.into_iter().collect())
}

/// Products by a key column (`id` or `external_id`; any that exist). By SKU: [`get_many_by_sku`].
pub async fn get_many_by(db: &Db, column: ProductKey, keys: &[String]) -> StoreResult<Vec<ProductRow>> {
    let col = match column {
        ProductKey::Id => "p.id",
        ProductKey::ExternalId => "p.external_id",
    };
    get_many_where(db, col, keys).await
}

/// Products whose `col` (a static column name) is one of `keys`.
async fn get_many_where(db: &Db, col: &'static str, keys: &[String]) -> StoreResult<Vec<ProductRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
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
    ExternalId,
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
