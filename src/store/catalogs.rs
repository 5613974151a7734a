//! Customer-specific catalogs: which catalogs an account sees (assigned to it or its group, else
//! the default), their rules, and the materialised membership (`catalog_products`) that every
//! visibility check reads.

use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

/// The catalogs account `{a}` sees: those assigned to it or its group, else the default catalog.
/// Uncorrelated, so both backends evaluate it once per query.
pub(super) fn account_catalogs_sql(a: &str) -> String {
    let assigned = format!(
        "SELECT ca.catalog_id FROM catalog_assignments ca WHERE ca.account_id = {a} OR ca.group_id = (SELECT group_id FROM accounts WHERE id = {a})"
    );
    format!("{assigned} UNION ALL SELECT k.id FROM catalogs k WHERE k.is_default = TRUE AND NOT EXISTS ({assigned})")
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
        "INSERT INTO catalogs (id, name, includes_all, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
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
