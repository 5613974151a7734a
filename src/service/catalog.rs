//! What an account sees of the catalog: its products, at its prices, with stock.
//!
//! Used by buyers (their own account) and by staff "viewing as" an account they may see — the same
//! function, so a rep sees exactly what the customer sees.

use super::accounts::get_account;
use super::{Actor, OwnedActor, ServiceError, ServiceResult};
use crate::domain::auth::Permission;
use crate::domain::catalog::{Sku, StockStatus, available};
use crate::domain::input::{MAX_QUANTITY, check_range};
use crate::domain::pricing::{PriceSource, ResolvedPrice, resolve, tier_table};
use crate::domain::product_images::ImageRef;
use crate::store::catalogs;
use crate::store::categories::{self, CategoryRow};
use crate::store::inventory::{self, StockTotal};
pub use crate::store::product_search::ListedProduct;
use crate::store::product_search::{self, ListFilter, Visibility};
use crate::store::products::{self, ProductRow};
use crate::store::{Db, Tx, pricing};
use time::Date;

/// A SKU a request names (a page's path, a form, an API call), parsed once where the service takes
/// it: text that cannot be a SKU names no product.
pub(crate) fn named_sku(text: &str) -> ServiceResult<Sku> {
    Sku::parse(text).map_err(|_| ServiceError::NotFound)
}

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

/// The catalog itself (browse, a product's page, a price quote): as [`catalog_scope`], and a
/// buyer needs the right to browse (the finance role sees billing only: 403).
pub async fn browse_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    catalog_scope(db, actor, account_id).await?;
    if actor.principal.buyer_account().is_some() && !actor.principal.can(Permission::PortalCatalog) {
        return Err(ServiceError::Forbidden);
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
    /// The category tree, for navigation (shared with the cache).
    pub categories: std::sync::Arc<Vec<CategoryRow>>,
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
    browse_scope(db, actor, account_id).await?;
    // The version is read before anything cached is (see `catalog_cache`).
    let cache = super::catalog_cache::view(db).await?;
    let categories = match cache.categories() {
        Some(c) => c,
        None => {
            let c = std::sync::Arc::new(categories::categories(db).await?);
            cache.keep_categories(c.clone());
            c
        }
    };
    let key = super::catalog_cache::PageKey {
        account_id: account_id.to_string(),
        category_id: q.category_id.map(str::to_string),
        term: q.term.to_string(),
        after: q.after.map(|(n, i)| (n.to_string(), i.to_string())),
        limit: q.limit,
        day: today(now).to_julian_day(),
    };
    if let Some(page) = cache.page(&key) {
        // Stock is never cached: it changes with every order.
        let ids: Vec<String> = page.items.iter().map(|i| i.product.id.clone()).collect();
        let totals = inventory::totals(db, &ids).await?;
        let items = page
            .items
            .iter()
            .map(|i| PricedProduct { stock: stock_of(&i.product, totals.get(&i.product.id)), ..i.clone() })
            .collect();
        return Ok(CatalogPage { items, next: page.next.clone(), categories });
    }
    let category_ids = match q.category_id {
        Some(id) => subtree(&categories, id),
        None => Vec::new(),
    };
    let filter = ListFilter { category_ids, term: q.term.to_string(), include_inactive: false };
    let mut rows = product_search::list(db, Visibility::Account(account_id), &filter, q.after, q.limit + 1).await?;
    let next = if rows.len() as i64 > q.limit {
        rows.truncate(q.limit as usize);
        rows.last().map(|p| (p.product.name.clone(), p.product.id.clone()))
    } else {
        None
    };
    let items = price(db, now, account_id, rows).await?;
    cache.keep_page(
        key,
        std::sync::Arc::new(super::catalog_cache::CachedPage { items: items.clone(), next: next.clone() }),
    );
    Ok(CatalogPage { items, next, categories })
}

/// Prices listed products for the account (one query for all of them).
async fn price(db: &Db, now: i64, account_id: &str, rows: Vec<ListedProduct>) -> ServiceResult<Vec<PricedProduct>> {
    let ids: Vec<String> = rows.iter().map(|p| p.product.id.clone()).collect();
    let sources = pricing::sources_for(db, account_id, &ids).await?;
    let day = today(now);
    Ok(rows
        .into_iter()
        .map(|row| {
            let s = sources.get(&row.product.id).map(Vec::as_slice);
            priced(row, s, day)
        })
        .collect())
}

/// A listed product with its price (at its first valid quantity) and stock status.
fn priced(row: ListedProduct, sources: Option<&[PriceSource]>, day: Date) -> PricedProduct {
    let p = row.product;
    let price = sources.and_then(|s| resolve(s, p.rules().first_valid(), day));
    let total = StockTotal { on_hand: row.on_hand, reserved: row.reserved, incoming: 0, next_eta: row.next_eta };
    let stock = stock_of(&p, Some(&total));
    PricedProduct { product: p, price, stock }
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
    /// The product's images, primary first (empty: the page shows a placeholder).
    pub images: Vec<crate::store::product_images::ImageRow>,
}

impl ProductDetail {
    /// The primary image as the page shows it, and the others.
    pub fn gallery(&self) -> Option<(ImageRef, Vec<ImageRef>)> {
        let name = &self.item.product.name;
        let (first, rest) = self.images.split_first()?;
        Some((first.link(name), rest.iter().map(|i| i.link(name)).collect()))
    }
}

/// One product as the account sees it; a product outside the account's catalog does not exist for it.
pub async fn product(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    sku: &str,
) -> ServiceResult<ProductDetail> {
    browse_scope(db, actor, account_id).await?;
    let p = products::get_by_sku(db, &named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
    if !p.active || !catalogs::visible_to_account(db, &p.id, account_id).await? {
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
    let categories = categories::categories(db).await?;
    let category_path =
        p.category_id.as_ref().and_then(|id| categories.iter().find(|c| &c.id == id)).map(|c| c.path.clone());
    let attributes = products::attributes(db, &p.id).await?;
    // The product row names its primary image: no query for a product without any.
    let images = match p.image_id {
        Some(_) => crate::store::product_images::list(db, &p.id).await?,
        None => Vec::new(),
    };
    // Totals from the levels already loaded, prices from the sources already loaded.
    let total = inventory::sum_levels(&levels);
    let listed =
        ListedProduct { product: p, on_hand: total.on_hand, reserved: total.reserved, next_eta: total.next_eta };
    let item = priced(listed, Some(&sources), day);
    Ok(ProductDetail { item, attributes, category_path, tiers, warehouses, images })
}

/// Staff product list: every product, active or not, by name, with stock totals; optionally only
/// those in a category (and its subcategories), which is returned too.
pub async fn staff_products(
    db: &Db,
    actor: &Actor<'_>,
    term: &str,
    category_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<(Vec<ListedProduct>, Option<CategoryRow>)> {
    actor.require(Permission::ManageCatalog)?;
    let (category_ids, category) = match category_id {
        Some(id) => {
            let categories = categories::categories(db).await?;
            let category = categories.iter().find(|c| c.id == id).cloned().ok_or(ServiceError::NotFound)?;
            (subtree(&categories, id), Some(category))
        }
        None => (Vec::new(), None),
    };
    let filter = ListFilter { category_ids, term: term.to_string(), include_inactive: true };
    Ok((product_search::list(db, Visibility::All, &filter, after, limit).await?, category))
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
    actor.require(Permission::ManageCatalog)?;
    let product = products::get_by_sku(db, &named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
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
    let categories = categories::categories(db).await?;
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

/// A product as an integration sends it (the API's input, before validation).
#[derive(Clone, Debug, Default)]
pub struct ProductDraft {
    pub sku: String,
    pub name: String,
    pub description: String,
    /// Category path such as "Medical / Gloves".
    pub category: Option<String>,
    pub uom: String,
    pub pack_size: i64,
    pub min_qty: i64,
    pub multiple_qty: i64,
    pub max_qty: Option<i64>,
    pub image_url: Option<String>,
    pub regulated_class: Option<String>,
    pub active: bool,
    pub backorder: String,
    pub external_id: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// Checks a draft and turns it into what the store writes; every problem as (field, message).
/// `categories` maps category paths ("Medical / Gloves") to ids.
pub fn product_input(
    d: &ProductDraft,
    categories: &std::collections::HashMap<String, String>,
) -> Result<products::ProductInput, Vec<(String, String)>> {
    let mut problems: Vec<(String, String)> = super::text_problems(
        &[
            ("sku", &d.sku),
            ("name", &d.name),
            ("category", d.category.as_deref().unwrap_or("")),
            ("uom", &d.uom),
            ("image_url", d.image_url.as_deref().unwrap_or("")),
            ("regulated_class", d.regulated_class.as_deref().unwrap_or("")),
            ("backorder", &d.backorder),
            ("external_id", d.external_id.as_deref().unwrap_or("")),
        ],
        &[("description", &d.description)],
    );
    for (k, v) in &d.attributes {
        problems.extend(super::text_problems(&[(&format!("attributes.{k}"), k), (&format!("attributes.{k}"), v)], &[]));
    }
    if !problems.is_empty() {
        // The other checks would only repeat these (a SKU with a NUL is not a SKU either).
        return Err(problems);
    }
    let sku = match Sku::parse(&d.sku) {
        Ok(s) => Some(s),
        Err(e) => {
            problems.push(("sku".into(), e));
            None
        }
    };
    if d.name.trim().is_empty() || d.name.chars().count() > 300 {
        problems.push(("name".into(), "name is required (at most 300 characters)".into()));
    }
    let rules = crate::domain::catalog::QuantityRules { min: d.min_qty, multiple: d.multiple_qty, max: d.max_qty };
    problems.extend(rules.problems().into_iter().map(|p| ("quantity_rules".to_string(), p)));
    for (field, value) in [("min_qty", Some(d.min_qty)), ("multiple_qty", Some(d.multiple_qty)), ("max_qty", d.max_qty)]
    {
        if let Some(Err(e)) = value.filter(|v| *v >= 1).map(|v| check_range(v, 1, MAX_QUANTITY)) {
            problems.push((field.into(), format!("{field}: {e}")));
        }
    }
    if d.pack_size < 1 {
        problems.push(("pack_size".into(), "pack size must be at least 1".into()));
    } else if let Err(e) = check_range(d.pack_size, 1, MAX_QUANTITY) {
        problems.push(("pack_size".into(), format!("pack_size: {e}")));
    }
    let backorder = crate::domain::catalog::BackorderPolicy::parse(&d.backorder);
    if backorder.is_none() {
        problems.push(("backorder".into(), format!("“{}” is not a backorder policy: use deny or allow", d.backorder)));
    }
    let category_id = match d.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(path) => match categories.get(path) {
            Some(id) => Some(id.clone()),
            None => {
                problems.push(("category".into(), format!("no category “{path}”")));
                None
            }
        },
        None => None,
    };
    // Stored as a class code, the form licence rules name it in ("Controlled substance" →
    // controlled_substance).
    let regulated_class =
        d.regulated_class.as_deref().map(crate::domain::licences::class_code).filter(|c| !c.is_empty());
    if let Some(p) = regulated_class.as_deref().and_then(crate::domain::licences::class_code_problem) {
        problems.push(("regulated_class".into(), p));
    }
    let (Some(sku), Some(backorder), true) = (sku, backorder, problems.is_empty()) else { return Err(problems) };
    Ok(products::ProductInput {
        sku: sku.as_str().to_string(),
        name: d.name.trim().to_string(),
        description: d.description.trim().to_string(),
        category_id,
        uom: if d.uom.trim().is_empty() { "EA".into() } else { d.uom.trim().to_uppercase() },
        pack_size: d.pack_size,
        rules,
        image_url: d.image_url.clone().filter(|s| !s.trim().is_empty()),
        regulated_class,
        active: d.active,
        backorder,
        external_id: d.external_id.clone().filter(|s| !s.trim().is_empty()),
        attributes: d.attributes.clone(),
    })
}

/// Creates or updates a product by SKU; every problem is reported at once and nothing changes
/// unless there are none. Returns the product and whether it was created.
pub async fn upsert_product(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    d: &ProductDraft,
) -> ServiceResult<(ProductRow, bool)> {
    actor.require(Permission::ManageCatalog)?;
    let categories: std::collections::HashMap<String, String> =
        categories::categories(db).await?.into_iter().map(|c| (c.path, c.id)).collect();
    let input = product_input(d, &categories).map_err(|p| ServiceError::from_problems(p).unwrap_err())?;
    let sku = Sku::parse(&input.sku).map_err(|e| ServiceError::invalid("sku", e))?;
    let unit = (now, actor.owned(), input, sku);
    db.write(unit, |tx, (now, actor, input, sku)| Box::pin(write_product(tx, *now, actor, input, sku, false))).await
}

/// Creates a product (the admin's form): as [`upsert_product`], but a SKU that exists is refused
/// instead of updated.
pub async fn create_product(db: &Db, now: i64, actor: &Actor<'_>, d: &ProductDraft) -> ServiceResult<ProductRow> {
    actor.require(Permission::ManageCatalog)?;
    let categories: std::collections::HashMap<String, String> =
        categories::categories(db).await?.into_iter().map(|c| (c.path, c.id)).collect();
    let input = product_input(d, &categories).map_err(|p| ServiceError::from_problems(p).unwrap_err())?;
    let sku = Sku::parse(&input.sku).map_err(|e| ServiceError::invalid("sku", e))?;
    let unit = (now, actor.owned(), input, sku);
    let (row, _) = db
        .write(unit, |tx, (now, actor, input, sku)| Box::pin(write_product(tx, *now, actor, input, sku, true)))
        .await?;
    Ok(row)
}

/// An upsert's unit of work. The product is read in the transaction, so the audit's "before" and
/// created/updated are this write's own even when two writers update the same SKU at once.
async fn write_product(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    input: &products::ProductInput,
    sku: &Sku,
    create_only: bool,
) -> ServiceResult<(ProductRow, bool)> {
    let actor = &actor.actor();
    let before = products::lock_by_sku(tx, sku).await?;
    if create_only && before.is_some() {
        return Err(ServiceError::invalid("sku", format!("A product with SKU {sku} already exists.")));
    }
    let id = match products::upsert(tx, &crate::store::new_id(), input, now).await {
        Ok(id) => id,
        Err(e) if crate::store::is_unique_violation(&e) => {
            return Err(ServiceError::invalid("external_id", "another product already has this external id"));
        }
        Err(e) => return Err(e.into()),
    };
    catalogs::rebuild_product_membership(tx, &id).await?;
    let action = if before.is_some() { "product.updated" } else { "product.created" };
    let after = serde_json::json!({ "sku": input.sku, "name": input.name, "active": input.active });
    super::audit(
        tx,
        Some(actor),
        now,
        action,
        ("product", &id),
        before.as_ref().and_then(|b| serde_json::to_value(b).ok()),
        Some(after.clone()),
    )
    .await?;
    crate::store::audit::enqueue(tx, action, &after, now).await?;
    let row = products::lock_by_sku(tx, sku).await?.ok_or(ServiceError::NotFound)?;
    Ok((row, before.is_none()))
}

/// One priced line of a quote, or why it cannot be priced.
#[derive(Clone, Debug)]
pub enum QuoteOutcome {
    Priced { price: ResolvedPrice, line_total: crate::domain::money::Money },
    Refused { code: &'static str, reason: String },
}

#[derive(Clone, Debug)]
pub struct QuoteLine {
    pub sku: String,
    pub quantity: i64,
    pub outcome: QuoteOutcome,
    /// For a priced line: what would ship now, be backordered, or be short.
    pub stock: Option<crate::domain::pipeline::StockOutlook>,
    /// Why an order of this line would be refused although it is priced (`out_of_stock`): the
    /// quote keeps the price; placement would answer with this reason.
    pub blocked_by: Option<crate::domain::orders::LineIssue>,
}

/// Prices many (SKU, quantity) lines for an account in a handful of queries, whatever the number of
/// lines, through the same evaluation as orders (each line on its own: a quote may ask for one
/// SKU at several quantities). Lines the account cannot buy are refused with the reason an order
/// would give; others get price and explanation.
pub async fn quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    lines: &[(String, i64)],
) -> ServiceResult<Vec<QuoteLine>> {
    use crate::domain::pipeline::{self, ProductRef, Requested, Verdict};
    browse_scope(db, actor, account_id).await?;
    let requested: Vec<Requested> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, quantity))| Requested { line: i + 1, product: ProductRef::sku(sku), quantity: *quantity })
        .collect();
    let refs: Vec<ProductRef> = requested.iter().map(|r| r.product.clone()).collect();
    let loaded = super::evaluation::load(db, now, account_id, None, &refs, &Default::default()).await?;
    let verdicts = pipeline::evaluate(&loaded.facts(), &requested);
    Ok(requested
        .into_iter()
        .zip(verdicts)
        .map(|(r, v)| {
            let sku = r.product.label().to_string();
            let (outcome, stock, blocked_by) = match v {
                Verdict::Ok(l) => {
                    (QuoteOutcome::Priced { price: l.price, line_total: l.line_total }, Some(l.stock), None)
                }
                Verdict::Blocked(l, issue) => {
                    (QuoteOutcome::Priced { price: l.price, line_total: l.line_total }, Some(l.stock), Some(issue))
                }
                Verdict::Refused(issue) => {
                    (QuoteOutcome::Refused { code: issue.code, reason: issue.message }, None, None)
                }
            };
            QuoteLine { sku, quantity: r.quantity, outcome, stock, blocked_by }
        })
        .collect())
}

/// A product, active or not, with its category's path ("Medical / Gloves"): the catalog record
/// integrations read.
#[derive(Clone, Debug)]
pub struct CatalogRecord {
    pub product: ProductRow,
    pub category_path: Option<String>,
}

/// Products (active or not) created or changed since a time, oldest change first (how an ERP
/// pulls them), for those who read the catalog.
pub async fn records_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<CatalogRecord>> {
    actor.require(Permission::ReadCatalog)?;
    let rows = products::changed_since(db, since, after, limit).await?;
    with_category_paths(db, rows).await
}

/// One product by SKU, active or not, for those who read the catalog.
pub async fn record_by_sku(db: &Db, actor: &Actor<'_>, sku: &str) -> ServiceResult<CatalogRecord> {
    actor.require(Permission::ReadCatalog)?;
    let p = products::get_by_sku(db, &named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
    Ok(with_category_paths(db, vec![p]).await?.remove(0))
}

/// A product just loaded or written (e.g. by [`upsert_product`]) as its catalog record.
pub async fn catalog_record(db: &Db, actor: &Actor<'_>, product: ProductRow) -> ServiceResult<CatalogRecord> {
    actor.require(Permission::ReadCatalog)?;
    Ok(with_category_paths(db, vec![product]).await?.remove(0))
}

async fn with_category_paths(db: &Db, rows: Vec<ProductRow>) -> ServiceResult<Vec<CatalogRecord>> {
    let categories = categories::categories(db).await?;
    let paths: std::collections::HashMap<&str, &str> =
        categories.iter().map(|c| (c.id.as_str(), c.path.as_str())).collect();
    let path = |id: &Option<String>| id.as_deref().and_then(|id| paths.get(id)).map(|p| p.to_string());
    Ok(rows.into_iter().map(|p| CatalogRecord { category_path: path(&p.category_id), product: p }).collect())
}
