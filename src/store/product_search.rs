//! The catalog listing: a page of products (all, or what one account sees) by category and search
//! words over the terms index (`product_terms`), with stock totals; and the SKU look-ups of quick
//! order ("did you mean", type-ahead).

use super::catalogs::account_catalogs_sql;
use super::products::{PRODUCT_COLUMNS, ProductRow};
use super::{Db, StoreResult};
use crate::on_db;

/// Which products a list shows: every product (staff), or what one account may see.
#[derive(Clone, Copy, Debug)]
pub enum Visibility<'a> {
    All,
    Account(&'a str),
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
