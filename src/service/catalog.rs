//! What an account sees of the catalog: its products, at its prices, with stock.
//!
//! Used by buyers (their own account) and by staff "viewing as" an account they may see — the same
//! function, so a rep sees exactly what the customer sees.

use super::accounts::get_account;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::Permission;
use crate::domain::catalog::{StockStatus, available};
use crate::domain::pricing::{ResolvedPrice, resolve, tier_table};
use crate::store::inventory::{self, StockTotal};
use crate::store::products::{self, CategoryRow, ListFilter, ListedProduct, ProductRow, Visibility};
use crate::store::{Db, pricing};
use time::Date;

/// Today's date (UTC) for price validity.
pub fn today(now: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(now).map(|t| t.date()).unwrap_or(time::Date::MIN)
}

/// The account whose catalog the actor is looking at, checked: a buyer only their own; staff any
/// account they may see. Everything else is 404.
pub async fn catalog_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        if own != account_id {
            return Err(ServiceError::NotFound);
        }
        if !p.can(Permission::PortalView) {
            return Err(ServiceError::Forbidden);
        }
    } else {
        get_account(db, actor, account_id).await?;
    }
    Ok(())
}

/// A product with this account's price (at its first valid quantity) and its stock.
#[derive(Clone, Debug)]
pub struct PricedProduct {
    pub product: ProductRow,
    pub price: Option<ResolvedPrice>,
    pub stock: StockStatus,
}

pub struct CatalogPage {
    pub items: Vec<PricedProduct>,
    /// Keyset of the next page, if there is one: (name, id) of the last item.
    pub next: Option<(String, String)>,
}

pub struct BrowseQuery<'a> {
    pub category_id: Option<&'a str>,
    pub term: &'a str,
    pub after: Option<(&'a str, &'a str)>,
    pub limit: i64,
}

fn stock_of(p: &ProductRow, t: Option<&StockTotal>) -> StockStatus {
    let t = t.cloned().unwrap_or_default();
    StockStatus::of(available(t.on_hand, t.reserved), p.backorder(), t.next_eta.map(|d| display_iso(&d)))
}

fn display_iso(iso: &str) -> String {
    pricing::parse_date(Some(iso)).map(crate::domain::pricing::format_date).unwrap_or_else(|| iso.to_string())
}

/// A page of the account's catalog, priced for the account, with stock.
pub async fn browse(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    q: &BrowseQuery<'_>,
) -> ServiceResult<CatalogPage> {
    catalog_scope(db, actor, account_id).await?;
    let category_ids = match q.category_id {
        Some(id) => subtree(&products::categories(db).await?, id),
        None => Vec::new(),
    };
    let filter = ListFilter { category_ids, term: q.term.to_string(), include_inactive: false };
    let mut rows = products::list(db, Visibility::Account(account_id), &filter, q.after, q.limit + 1).await?;
    let next = if rows.len() as i64 > q.limit {
        rows.truncate(q.limit as usize);
        rows.last().map(|p| (p.product.name.clone(), p.product.id.clone()))
    } else {
        None
    };
    let items = price(db, now, account_id, rows).await?;
    Ok(CatalogPage { items, next })
}

/// Prices listed products for the account (one query for all of them).
async fn price(db: &Db, now: i64, account_id: &str, rows: Vec<ListedProduct>) -> ServiceResult<Vec<PricedProduct>> {
    let ids: Vec<String> = rows.iter().map(|p| p.product.id.clone()).collect();
    let sources = pricing::sources_for(db, account_id, &ids).await?;
    let day = today(now);
    Ok(rows
        .into_iter()
        .map(|row| {
            let p = row.product;
            let price = sources.get(&p.id).and_then(|s| resolve(s, p.rules().first_valid(), day));
            let total =
                StockTotal { on_hand: row.on_hand, reserved: row.reserved, incoming: 0, next_eta: row.next_eta };
            let stock = stock_of(&p, Some(&total));
            PricedProduct { product: p, price, stock }
        })
        .collect())
}

/// The ids of a category and all its descendants.
fn subtree(categories: &[CategoryRow], id: &str) -> Vec<String> {
    let Some(root) = categories.iter().find(|c| c.id == id) else { return vec![id.to_string()] };
    let prefix = format!("{} / ", root.path);
    categories.iter().filter(|c| c.id == id || c.path.starts_with(&prefix)).map(|c| c.id.clone()).collect()
}

pub struct WarehouseStock {
    pub name: String,
    pub available: i64,
    pub incoming: i64,
    pub eta: Option<String>,
}

pub struct ProductDetail {
    pub item: PricedProduct,
    pub attributes: Vec<(String, String)>,
    pub category_path: Option<String>,
    /// (from quantity, price) rows at this account's prices.
    pub tiers: Vec<(i64, ResolvedPrice)>,
    pub warehouses: Vec<WarehouseStock>,
}

/// One product as the account sees it; a product outside the account's catalog does not exist for it.
pub async fn product(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    sku: &str,
) -> ServiceResult<ProductDetail> {
    catalog_scope(db, actor, account_id).await?;
    let p = products::get_by_sku(db, &sku.trim().to_uppercase()).await?.ok_or(ServiceError::NotFound)?;
    if !p.active || !products::visible_to_account(db, &p.id, account_id).await? {
        return Err(ServiceError::NotFound);
    }
    let ids = vec![p.id.clone()];
    let sources = pricing::sources_for(db, account_id, &ids).await?.remove(&p.id).unwrap_or_default();
    let day = today(now);
    let tiers = tier_table(&sources, day);
    let levels = inventory::levels(db, &ids).await?;
    let warehouses = inventory::warehouses(db)
        .await?
        .into_iter()
        .filter_map(|w| {
            levels.iter().find(|l| l.warehouse_id == w.id).map(|l| WarehouseStock {
                name: w.name,
                available: available(l.on_hand, l.reserved),
                incoming: l.incoming,
                eta: l.incoming_eta.as_deref().map(display_iso),
            })
        })
        .collect();
    let categories = products::categories(db).await?;
    let category_path =
        p.category_id.as_ref().and_then(|id| categories.iter().find(|c| &c.id == id)).map(|c| c.path.clone());
    let attributes = products::attributes(db, &p.id).await?;
    let totals = inventory::totals(db, &ids).await?.remove(&p.id).unwrap_or_default();
    let listed =
        ListedProduct { product: p, on_hand: totals.on_hand, reserved: totals.reserved, next_eta: totals.next_eta };
    let mut items = price(db, now, account_id, vec![listed]).await?;
    let item = items.pop().ok_or(ServiceError::NotFound)?;
    Ok(ProductDetail { item, attributes, category_path, tiers, warehouses })
}

/// Top-level categories and their children, for navigation.
pub async fn category_tree(db: &Db) -> ServiceResult<Vec<CategoryRow>> {
    Ok(products::categories(db).await?)
}

fn require_catalog_admin(actor: &Actor<'_>) -> ServiceResult<()> {
    match actor.principal.can(Permission::ManageCatalog) {
        true => Ok(()),
        false if actor.principal.is_staff() => Err(ServiceError::Forbidden),
        false => Err(ServiceError::NotFound),
    }
}

/// Staff product list: every product, active or not, by name, with stock totals.
pub async fn staff_products(
    db: &Db,
    actor: &Actor<'_>,
    term: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<Vec<ListedProduct>> {
    require_catalog_admin(actor)?;
    let filter = ListFilter { category_ids: Vec::new(), term: term.to_string(), include_inactive: true };
    Ok(products::list(db, Visibility::All, &filter, after, limit).await?)
}

pub struct StaffProduct {
    pub product: ProductRow,
    pub attributes: Vec<(String, String)>,
    pub category_path: Option<String>,
    pub stock: Vec<(crate::store::inventory::WarehouseRow, Option<crate::store::inventory::StockRow>)>,
    pub prices: Vec<pricing::ProductPriceRow>,
}

/// One product with everything staff manage about it: stock per warehouse and every price.
pub async fn staff_product(db: &Db, actor: &Actor<'_>, sku: &str) -> ServiceResult<StaffProduct> {
    require_catalog_admin(actor)?;
    let product = products::get_by_sku(db, &sku.trim().to_uppercase()).await?.ok_or(ServiceError::NotFound)?;
    let ids = vec![product.id.clone()];
    let levels = inventory::levels(db, &ids).await?;
    let stock = inventory::warehouses(db)
        .await?
        .into_iter()
        .map(|w| {
            let level = levels.iter().find(|l| l.warehouse_id == w.id).cloned();
            (w, level)
        })
        .collect();
    let categories = products::categories(db).await?;
    let category_path =
        product.category_id.as_ref().and_then(|id| categories.iter().find(|c| &c.id == id)).map(|c| c.path.clone());
    Ok(StaffProduct {
        attributes: products::attributes(db, &product.id).await?,
        prices: pricing::prices_for_product(db, &product.id).await?,
        category_path,
        stock,
        product,
    })
}
