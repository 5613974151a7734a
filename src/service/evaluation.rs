//! The read-only part of the pipeline as every channel runs it: load the facts the lines need
//! (products, the account's catalogs, price sources, stock totals — a handful of queries whatever
//! the number of lines), then the one pure evaluation ([`crate::domain::pipeline`]) over them.
//! Callers differ only in what they do with the verdicts (see the module doc there for the steps
//! and every reason code).

use super::ServiceResult;
use super::catalog::today;
use crate::domain::catalog::{BackorderPolicy, QuantityRules, StockStatus};
use crate::domain::input::{TextKind, check_text};
use crate::domain::licences::LicenceFacts;
use crate::domain::money::Money;
use crate::domain::orders::LineIssue;
pub use crate::domain::pipeline::ProductRef;
use crate::domain::pipeline::{self, Facts, Line, Orderable, Requested, StockFact, StockOutlook, Verdict};
use crate::domain::pricing::{PriceSource, ResolvedPrice, format_date};
use crate::store::catalogs;
use crate::store::products::{self, ProductKey, ProductRow};
use crate::store::{Db, inventory, pricing};
use std::collections::{HashMap, HashSet};
use time::Date;

impl Orderable for ProductRow {
    fn id(&self) -> &str {
        &self.id
    }
    fn sku(&self) -> &str {
        &self.sku
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn active(&self) -> bool {
        self.active
    }
    fn rules(&self) -> QuantityRules {
        ProductRow::rules(self)
    }
    fn backorder(&self) -> BackorderPolicy {
        ProductRow::backorder(self)
    }
    fn regulated_class(&self) -> Option<&str> {
        self.regulated_class.as_deref().filter(|c| !c.is_empty())
    }
}

#[derive(Clone, Debug)]
pub struct LineInput {
    pub product: ProductRef,
    pub quantity: i64,
}

impl LineInput {
    /// A line naming its product by SKU text as typed (parsed here, once).
    pub fn sku(sku: &str, quantity: i64) -> LineInput {
        LineInput { product: ProductRef::sku(sku), quantity }
    }
}

/// A line that passed visibility, quantity rules and pricing.
#[derive(Clone, Debug)]
pub struct PricedLine {
    /// 1-based position in the request.
    pub line: usize,
    pub product: ProductRow,
    pub quantity: i64,
    pub price: ResolvedPrice,
    pub line_total: Money,
    /// Available now, over all warehouses (before this order).
    pub available: i64,
    pub stock: StockStatus,
    /// What of this line ships now, what is backordered and when it is expected.
    pub outlook: StockOutlook,
    /// Why a step after pricing blocks this line (`licence_*`, `out_of_stock`); `None` when it
    /// can be ordered.
    pub blocked_by: Option<LineIssue>,
}

impl PricedLine {
    /// Whether this quantity can only be delivered partly from stock.
    pub fn short(&self) -> bool {
        self.quantity > self.available
    }

    fn of(l: Line<'_, ProductRow>, blocked_by: Option<LineIssue>) -> PricedLine {
        let available = l.stock.available;
        let stock = StockStatus::of(available, l.product.backorder(), l.stock.eta.map(format_date));
        PricedLine {
            line: l.line,
            product: l.product.clone(),
            quantity: l.quantity,
            price: l.price,
            line_total: l.line_total,
            available,
            stock,
            outlook: l.stock,
            blocked_by,
        }
    }
}

/// The verdicts for some lines, sorted for the pages and services that use them.
pub struct Evaluation {
    /// Lines that passed every step, in request order.
    pub lines: Vec<PricedLine>,
    /// Every refused or blocked line's reason, in line order.
    pub issues: Vec<LineIssue>,
    /// Lines that were priced but that a later step blocks (short of stock and not backorderable);
    /// their reasons are in `issues` too. A cart shows them so the buyer can fix them.
    pub blocked: Vec<PricedLine>,
}

impl Evaluation {
    /// The sum of the line totals of the orderable lines (`None` only on an absurd overflow).
    pub fn subtotal(&self) -> Option<Money> {
        Money::sum(self.lines.iter().map(|l| l.line_total))
    }

    /// Every priced line, orderable or blocked, in request order (what a cart lists).
    pub fn rows(&self) -> Vec<&PricedLine> {
        let mut rows: Vec<&PricedLine> = self.lines.iter().chain(&self.blocked).collect();
        rows.sort_by_key(|l| l.line);
        rows
    }

    /// For views where a block is information rather than an error (a saved list is not an
    /// order): blocked lines become lines (still carrying `blocked_by`), their issues go.
    pub fn with_blocked_as_lines(mut self) -> Evaluation {
        let moved: HashSet<usize> = self.blocked.iter().map(|l| l.line).collect();
        self.issues.retain(|i| !moved.contains(&i.line));
        self.lines.append(&mut self.blocked);
        self.lines.sort_by_key(|l| l.line);
        self
    }

    fn of(verdicts: Vec<Verdict<'_, ProductRow>>) -> Evaluation {
        let mut e = Evaluation { lines: Vec::new(), issues: Vec::new(), blocked: Vec::new() };
        for v in verdicts {
            match v {
                Verdict::Ok(l) => e.lines.push(PricedLine::of(l, None)),
                Verdict::Blocked(l, issue) => {
                    e.blocked.push(PricedLine::of(l, Some(issue.clone())));
                    e.issues.push(issue);
                }
                Verdict::Refused(issue) => e.issues.push(issue),
            }
        }
        e.issues.sort_by_key(|i| i.line);
        e
    }
}

/// The facts for the products some lines name, as loaded for one account.
pub(crate) struct Loaded {
    products: Vec<ProductRow>,
    visible: HashSet<String>,
    prices: HashMap<String, Vec<PriceSource>>,
    stock: HashMap<String, StockFact>,
    today: Date,
    licences: LicenceFacts,
}

impl Loaded {
    pub(crate) fn facts(&self) -> Facts<'_, ProductRow> {
        Facts {
            products: &self.products,
            visible: &self.visible,
            prices: &self.prices,
            stock: &self.stock,
            today: self.today,
            licences: &self.licences,
        }
    }

    pub(crate) fn products(&self) -> &[ProductRow] {
        &self.products
    }
}

/// Loads the facts for `refs` for an account. `held` counts units per product id that the order
/// being amended holds now, as available again (the amendment releases them before reserving).
/// `ship_to` is the order's ship-to (its state decides licence rules); `None`: the account's
/// default. Licences, rules and the ship-to state are read only when a line names a regulated
/// product: an evaluation of ordinary products costs no query more.
pub(crate) async fn load(
    db: &Db,
    now: i64,
    account_id: &str,
    ship_to: Option<&str>,
    refs: &[ProductRef],
    held: &HashMap<String, i64>,
) -> ServiceResult<Loaded> {
    fn keys<T: Clone + Ord>(refs: &[ProductRef], f: fn(&ProductRef) -> Option<&T>) -> Vec<T> {
        let mut v: Vec<T> = refs.iter().filter_map(f).cloned().collect();
        v.sort();
        v.dedup();
        v
    }
    // Text that cannot be a SKU names no product: nothing to look up. Nor does text with a
    // control character (PostgreSQL would refuse it in the query).
    let skus = keys(refs, |r| if let ProductRef::Sku(s) = r { Some(s) } else { None });
    let named = |s: &String| check_text(s, TextKind::Line).is_ok();
    let mut ext = keys(refs, |r| if let ProductRef::ExternalId(s) = r { Some(s) } else { None });
    ext.retain(named);
    let mut ids = keys(refs, |r| if let ProductRef::Id(s) = r { Some(s) } else { None });
    ids.retain(named);
    let mut found = products::get_many_by_sku(db, &skus).await?;
    found.extend(products::get_many_by(db, ProductKey::ExternalId, &ext).await?);
    found.extend(products::get_many_by(db, ProductKey::Id, &ids).await?);
    let mut product_ids: Vec<String> = found.iter().map(|p| p.id.clone()).collect();
    product_ids.sort();
    product_ids.dedup();
    let visible = catalogs::visible_subset(db, account_id, &product_ids).await?;
    let prices = pricing::sources_for(db, account_id, &product_ids).await?;
    let stock = inventory::totals(db, &product_ids)
        .await?
        .into_iter()
        .map(|(id, t)| {
            let held = held.get(&id).copied().unwrap_or(0);
            let available = pipeline::available_for(t.on_hand, t.reserved, held);
            (id, StockFact { available, next_eta: pricing::parse_date(t.next_eta.as_deref()) })
        })
        .collect();
    let licences = if found.iter().any(|p| p.regulated_class().is_some()) {
        super::licences::facts(db, account_id, ship_to).await?
    } else {
        LicenceFacts::default()
    };
    Ok(Loaded { products: found, visible, prices, stock, today: today(now), licences })
}

/// Evaluates lines of an account as an order would take them (repeats of a product merged first),
/// shipped to the account's default ship-to (a cart's or quick order's lines, before checkout
/// chooses one).
pub async fn evaluate(db: &Db, now: i64, account_id: &str, input: &[LineInput]) -> ServiceResult<Evaluation> {
    evaluate_holding(db, now, account_id, None, input, &HashMap::new()).await
}

/// [`evaluate`] for an order going to the ship-to `ship_to` (placement).
pub async fn evaluate_to(
    db: &Db,
    now: i64,
    account_id: &str,
    ship_to: &str,
    input: &[LineInput],
) -> ServiceResult<Evaluation> {
    evaluate_holding(db, now, account_id, Some(ship_to), input, &HashMap::new()).await
}

/// [`evaluate_to`] for an amendment: `held` is what the order holds now, per product id.
pub(crate) async fn evaluate_holding(
    db: &Db,
    now: i64,
    account_id: &str,
    ship_to: Option<&str>,
    input: &[LineInput],
    held: &HashMap<String, i64>,
) -> ServiceResult<Evaluation> {
    evaluate_quoted(db, now, account_id, ship_to, input, held, &HashMap::new()).await
}

/// [`evaluate_holding`] for an order from an accepted quote: `quoted` are the quote's prices (per
/// product id), the most specific source there is (`SourceKind::Quote`).
pub(crate) async fn evaluate_quoted(
    db: &Db,
    now: i64,
    account_id: &str,
    ship_to: Option<&str>,
    input: &[LineInput],
    held: &HashMap<String, i64>,
    quoted: &HashMap<String, PriceSource>,
) -> ServiceResult<Evaluation> {
    let refs: Vec<ProductRef> = input.iter().map(|l| l.product.clone()).collect();
    let mut loaded = load(db, now, account_id, ship_to, &refs, held).await?;
    for (product, source) in quoted {
        loaded.prices.entry(product.clone()).or_default().push(source.clone());
    }
    let asked: Vec<(ProductRef, i64)> = refs.into_iter().zip(input.iter().map(|l| l.quantity)).collect();
    let requested: Vec<Requested> = pipeline::merge_repeats(loaded.products(), &asked);
    Ok(Evaluation::of(pipeline::evaluate(&loaded.facts(), &requested)))
}
