//! Everything before placement: the cart, quick order (paste / CSV / SKU entry), saved lists, buy
//! again and the reorder review. Lines are priced by the same evaluation placement uses.

use super::orders::{Evaluation, LineInput, ProductRef, evaluate, ordering_scope};
use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::{LineIssue, Paste, PriceMove, did_you_mean, parse_paste, price_move, usual_quantity};
pub use crate::store::carts::ListRow;
use crate::store::carts::{self, ItemRow};
use crate::store::{Db, catalogs, new_id, orders, product_search, products};
use serde_json::json;
use std::collections::HashMap;

/// The account whose cart/lists the actor works on: a buyer their own (with the right to order);
/// staff an account they may order for (acting for it).
async fn scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    ordering_scope(db, actor, account_id).await.map(|_| ())
}

/// Read access: every portal role that browses the catalog may look at lists and buy-again (not
/// the finance role); staff as for ordering.
async fn read_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    match actor.principal.buyer_account() {
        Some(own) if own == account_id && actor.principal.can(Permission::PortalCatalog) => Ok(()),
        Some(own) if own == account_id => Err(ServiceError::Forbidden),
        Some(_) => Err(ServiceError::NotFound),
        None => scope(db, actor, account_id).await,
    }
}

fn inputs(items: &[ItemRow]) -> Vec<LineInput> {
    items.iter().map(|i| LineInput { product: ProductRef::Id(i.product_id.clone()), quantity: i.quantity }).collect()
}

/// The cart, priced as placement would price it, with anything that would block it.
pub async fn cart(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Evaluation> {
    scope(db, actor, account_id).await?;
    let items = carts::cart(db, &actor.principal.user_id, account_id).await?;
    evaluate(db, now, account_id, &inputs(&items)).await
}

/// Adds lines to the cart after checking each against the catalog, quantity rules and pricing.
/// Lines that fail are returned with their reasons and nothing of them is added.
pub async fn add_to_cart(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    lines: &[LineInput],
) -> ServiceResult<(Evaluation, usize)> {
    scope(db, actor, account_id).await?;
    let eval = evaluate(db, now, account_id, lines).await?;
    let items: Vec<(String, i64)> = eval.lines.iter().map(|l| (l.product.id.clone(), l.quantity)).collect();
    if !items.is_empty() {
        let unit = (actor.principal.user_id.clone(), account_id.to_string(), items, now);
        db.write(unit, |tx, (user, account, items, now)| {
            Box::pin(async move { carts::add_to_cart(tx, user, account, items, *now).await })
        })
        .await?;
    }
    let count = carts::cart_count(db, &actor.principal.user_id, account_id).await? as usize;
    Ok((eval, count))
}

/// How many lines the actor's cart for the account has (the "Cart (n)" buttons).
pub async fn cart_count(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<usize> {
    scope(db, actor, account_id).await?;
    Ok(carts::cart_count(db, &actor.principal.user_id, account_id).await? as usize)
}

/// Changes one cart line's quantity (0 removes it). The new quantity is checked against the rules.
pub async fn set_cart_quantity(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    sku: &str,
    qty: i64,
) -> ServiceResult<Evaluation> {
    scope(db, actor, account_id).await?;
    let product = products::get_by_sku(db, &super::catalog::named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
    // Outside the account's catalogs answers as an unknown SKU does, before any rule is read.
    if !catalogs::visible_to_account(db, &product.id, account_id).await? {
        return Err(ServiceError::NotFound);
    }
    let user = &actor.principal.user_id;
    if qty <= 0 {
        carts::remove_from_cart(db, user, account_id, &product.id).await?;
    } else {
        if let Err(p) = product.rules().check(qty) {
            return Err(ServiceError::invalid("quantity", format!("{}: {p}.", product.sku)));
        }
        if !carts::set_cart_quantity(db, user, account_id, &product.id, qty).await? {
            return Err(ServiceError::NotFound);
        }
    }
    cart(db, now, actor, account_id).await
}

/// A pasted line that was not added, with why (and the text to fix, kept for the paste box).
#[derive(Clone, Debug)]
pub struct PasteProblem {
    pub lines: Vec<usize>,
    pub text: String,
    pub reason: String,
    pub suggestion: Option<String>,
    /// The quantity asked for (to add the suggestion with); 0 when it could not be read.
    pub quantity: i64,
}

pub struct QuickOrderResult {
    /// (SKU, quantity) of every line added to the cart.
    pub added: Vec<(String, i64)>,
    pub problems: Vec<PasteProblem>,
    /// The lines that were not added, as pasted, to fix and send again.
    pub remaining: String,
    pub cart_count: usize,
}

/// Quick order: reads a paste (or CSV), adds every valid line to the cart and reports every other
/// line with its reason (with a "did you mean" for unknown SKUs). Bad lines change nothing.
pub async fn quick_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    text: &str,
) -> ServiceResult<QuickOrderResult> {
    scope(db, actor, account_id).await?;
    super::check_texts(&[], &[("lines", text)])?;
    let paste = parse_paste(text);
    let inputs: Vec<LineInput> = paste.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)).collect();
    let (eval, cart_count) = add_to_cart(db, now, actor, account_id, &inputs).await?;
    let problems = paste_problems(db, account_id, text, &paste, &eval).await?;
    let remaining = problems.iter().map(|p| p.text.clone()).collect::<Vec<_>>().join("\n");
    let added = eval.lines.iter().map(|l| (l.product.sku.clone(), l.quantity)).collect();
    Ok(QuickOrderResult { added, problems, remaining, cart_count })
}

/// A paste checked as quick order would add it, without adding anything (the quick order page
/// checks the box as it is pasted or typed).
pub struct PasteCheck {
    /// The lines that would be added, priced as placement prices them.
    pub ready: Vec<super::orders::PricedLine>,
    pub problems: Vec<PasteProblem>,
    /// How many lines the cart has now (the page's "Cart (n)").
    pub cart_count: usize,
}

impl PasteCheck {
    /// The sum of the ready lines (`None` only on an absurd overflow).
    pub fn subtotal(&self) -> Option<Money> {
        Money::sum(self.ready.iter().map(|l| l.line_total))
    }
}

/// Checks a paste line by line with the evaluation placement runs (catalog, quantity rules, price,
/// licences, stock) and the same reasons and "did you mean" as [`quick_order`]; writes nothing.
pub async fn check_paste(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    text: &str,
) -> ServiceResult<PasteCheck> {
    scope(db, actor, account_id).await?;
    super::check_texts(&[], &[("lines", text)])?;
    let paste = parse_paste(text);
    let inputs: Vec<LineInput> = paste.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)).collect();
    let eval = evaluate(db, now, account_id, &inputs).await?;
    let problems = paste_problems(db, account_id, text, &paste, &eval).await?;
    let cart_count = carts::cart_count(db, &actor.principal.user_id, account_id).await? as usize;
    Ok(PasteCheck { ready: eval.lines, problems, cart_count })
}

/// Every line of a paste that is not (or would not be) added, in line order, with its reason and,
/// for an unknown SKU, the closest SKU of the account's catalog (for the first 25 of them).
async fn paste_problems(
    db: &Db,
    account_id: &str,
    text: &str,
    paste: &Paste,
    eval: &Evaluation,
) -> ServiceResult<Vec<PasteProblem>> {
    let source: Vec<&str> = text.lines().collect();
    let line_text = |n: usize| source.get(n - 1).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut problems: Vec<PasteProblem> = paste
        .errors
        .iter()
        .map(|e| PasteProblem {
            lines: vec![e.line],
            text: e.text.clone(),
            reason: e.reason.clone(),
            suggestion: None,
            quantity: 0,
        })
        .collect();
    let mut suggestions_left = 25;
    for issue in &eval.issues {
        let pasted = &paste.lines[issue.line - 1];
        let suggestion = if issue.code == "unknown_sku" && suggestions_left > 0 {
            suggestions_left -= 1;
            let near = product_search::skus_near(db, account_id, &pasted.sku).await?;
            did_you_mean(&pasted.sku, near.iter().map(String::as_str)).map(str::to_string)
        } else {
            None
        };
        let reason = match &suggestion {
            Some(s) => format!("{} Did you mean {s}?", issue.message),
            None => issue.message.clone(),
        };
        let text = pasted.lines.iter().map(|n| line_text(*n)).collect::<Vec<_>>().join("\n");
        problems.push(PasteProblem {
            lines: pasted.lines.clone(),
            text,
            reason,
            suggestion,
            quantity: pasted.quantity,
        });
    }
    problems.sort_by_key(|p| p.lines[0]);
    Ok(problems)
}

/// Type-ahead for the SKU entry row: SKUs of the account's catalog starting with `prefix`.
pub async fn sku_suggestions(
    db: &Db,
    actor: &Actor<'_>,
    account_id: &str,
    prefix: &str,
) -> ServiceResult<Vec<(String, String)>> {
    read_scope(db, actor, account_id).await?;
    let prefix = prefix.trim().to_uppercase();
    // No SKU has a control character: type-ahead offers nothing for one.
    if prefix.is_empty() || crate::domain::input::check_text(&prefix, crate::domain::input::TextKind::Line).is_err() {
        return Ok(Vec::new());
    }
    let rows = product_search::sku_suggestions(db, account_id, &prefix, 10).await?;
    Ok(rows.into_iter().filter(|(s, _)| s.starts_with(&prefix)).collect())
}

// ---- Saved lists ----

pub async fn lists(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<ListRow>> {
    read_scope(db, actor, account_id).await?;
    Ok(carts::lists(db, account_id, &actor.principal.user_id).await?)
}

pub struct ListView {
    pub list: ListRow,
    pub eval: Evaluation,
    /// Whether the actor may change it (its owner; shared lists are read-only to others).
    pub editable: bool,
}

async fn visible_list(db: &Db, actor: &Actor<'_>, account_id: &str, list_id: &str) -> ServiceResult<ListRow> {
    read_scope(db, actor, account_id).await?;
    carts::list(db, account_id, &actor.principal.user_id, list_id).await?.ok_or(ServiceError::NotFound)
}

async fn own_list(db: &Db, actor: &Actor<'_>, account_id: &str, list_id: &str) -> ServiceResult<ListRow> {
    let list = visible_list(db, actor, account_id, list_id).await?;
    scope(db, actor, account_id).await?;
    if list.owner_user_id != actor.principal.user_id {
        return Err(ServiceError::Forbidden);
    }
    Ok(list)
}

pub async fn list_view(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    list_id: &str,
) -> ServiceResult<ListView> {
    let list = visible_list(db, actor, account_id, list_id).await?;
    let items = carts::list_items(db, &list.id).await?;
    // A list is not an order: stock is shown as information there, not as an error.
    let eval = evaluate(db, now, account_id, &inputs(&items)).await?.with_blocked_as_lines();
    let editable = list.owner_user_id == actor.principal.user_id && scope(db, actor, account_id).await.is_ok();
    Ok(ListView { list, eval, editable })
}

/// What a new list starts with.
pub enum ListSource<'a> {
    Empty,
    Cart,
    Order(&'a str),
}

/// Creates a named list, optionally shared with the whole account, from the cart or an order.
pub async fn create_list(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    name: &str,
    shared: bool,
    from: ListSource<'_>,
) -> ServiceResult<String> {
    scope(db, actor, account_id).await?;
    super::check_texts(&[("name", name)], &[])?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ServiceError::invalid("name", "Give the list a name (at most 80 characters)."));
    }
    let items: Vec<(String, i64)> = match from {
        ListSource::Empty => Vec::new(),
        ListSource::Cart => carts::cart(db, &actor.principal.user_id, account_id)
            .await?
            .into_iter()
            .map(|i| (i.product_id, i.quantity))
            .collect(),
        ListSource::Order(id) => {
            let order = super::orders::get_order(db, actor, id).await?;
            if order.account_id != account_id {
                return Err(ServiceError::NotFound);
            }
            orders::lines(db, &order.id).await?.into_iter().map(|l| (l.product_id, l.quantity)).collect()
        }
    };
    let unit = (new_id(), account_id.to_string(), actor.owned(), name.to_string(), shared, items, now);
    db.write(unit, |tx, (id, account, actor, name, shared, items, now)| {
        Box::pin(async move {
            let actor = actor.actor();
            carts::insert_list(tx, id, account, &actor.principal.user_id, name, *shared, *now).await?;
            carts::add_to_list(tx, id, items, *now).await?;
            let after = json!({ "name": name, "shared": shared, "lines": items.len() });
            audit(tx, Some(&actor), *now, "list.created", ("saved_list", id), None, Some(after)).await?;
            Ok(id.clone())
        })
    })
    .await
}

pub async fn update_list(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    list_id: &str,
    name: &str,
    shared: bool,
) -> ServiceResult<()> {
    own_list(db, actor, account_id, list_id).await?;
    super::check_texts(&[("name", name)], &[])?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ServiceError::invalid("name", "Give the list a name (at most 80 characters)."));
    }
    let unit = (list_id.to_string(), name.to_string(), shared, now);
    db.write(unit, |tx, (list, name, shared, now)| {
        Box::pin(async move { Ok::<_, ServiceError>(carts::update_list(tx, list, name, *shared, *now).await?) })
    })
    .await
}

pub async fn delete_list(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str, list_id: &str) -> ServiceResult<()> {
    let list = own_list(db, actor, account_id, list_id).await?;
    let unit = (list_id.to_string(), actor.owned(), list.name, now);
    db.write(unit, |tx, (list, actor, name, now)| {
        Box::pin(async move {
            carts::delete_list(tx, list).await?;
            let before = Some(json!({ "name": name }));
            audit(tx, Some(&actor.actor()), *now, "list.deleted", ("saved_list", list), before, None).await
        })
    })
    .await
}

/// Adds a product to a list (from the catalog), or sets a line's quantity (`set`; 0 removes it).
#[allow(clippy::too_many_arguments)] // what every use case takes, plus the list, the line and how to apply it
pub async fn put_list_item(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    list_id: &str,
    sku: &str,
    qty: i64,
    set: bool,
) -> ServiceResult<()> {
    own_list(db, actor, account_id, list_id).await?;
    let product = products::get_by_sku(db, &super::catalog::named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
    if !catalogs::visible_to_account(db, &product.id, account_id).await? {
        return Err(ServiceError::NotFound);
    }
    if qty > 0
        && let Err(p) = product.rules().check(qty)
    {
        return Err(ServiceError::invalid("quantity", format!("{}: {p}.", product.sku)));
    }
    let unit = (list_id.to_string(), product.id, qty, set, now);
    db.write(unit, |tx, (list, product, qty, set, now)| {
        Box::pin(async move {
            if *set {
                carts::set_list_quantity(tx, list, product, *qty, *now).await?;
            } else if *qty > 0 {
                carts::add_to_list(tx, list, &[(product.clone(), *qty)], *now).await?;
            }
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// "Add all to cart": every orderable line of a list goes to the cart; the rest are reported.
pub async fn add_list_to_cart(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    list_id: &str,
) -> ServiceResult<(Evaluation, usize)> {
    let list = visible_list(db, actor, account_id, list_id).await?;
    let items = carts::list_items(db, &list.id).await?;
    add_to_cart(db, now, actor, account_id, &inputs(&items)).await
}

// ---- Buy again and reorder ----

/// A product the account bought in the last 12 months.
#[derive(Clone, Debug)]
pub struct BoughtBefore {
    pub sku: String,
    pub name: String,
    pub last_price: Money,
    pub last_at: i64,
    pub usual_qty: i64,
    pub times: usize,
}

pub async fn buy_again(db: &Db, now: i64, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<BoughtBefore>> {
    read_scope(db, actor, account_id).await?;
    let rows = orders::purchases_since(db, account_id, now - 365 * 86_400, 20_000).await?;
    let mut order: Vec<String> = Vec::new();
    let mut by: HashMap<String, (BoughtBefore, Vec<i64>)> = HashMap::new();
    for r in rows {
        let entry = by.entry(r.product_id.clone()).or_insert_with(|| {
            order.push(r.product_id.clone());
            let b = BoughtBefore {
                sku: r.sku.clone(),
                name: r.name.clone(),
                last_price: Money::from_raw(r.unit_price),
                last_at: r.placed_at,
                usual_qty: 1,
                times: 0,
            };
            (b, Vec::new())
        });
        entry.0.times += 1;
        entry.1.push(r.quantity);
    }
    Ok(order
        .into_iter()
        .filter_map(|id| by.remove(&id))
        .map(|(mut b, qs)| {
            b.usual_qty = usual_quantity(&qs);
            b
        })
        .collect())
}

/// A line of a reorder review: what it was and what it is today.
#[derive(Clone, Debug)]
pub struct ReviewLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub was: Option<Money>,
    pub now: Option<Money>,
    pub line_total: Option<Money>,
    pub moved: PriceMove,
    /// What changed since last time, in words ("" when nothing did).
    pub flag: String,
    pub kind: ReviewKind,
}

/// How a reorder line compares with last time; shown as its CSS class (`ok`, `up`, `down`,
/// `backorder`, `blocked`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewKind {
    Ok,
    Up,
    Down,
    Backorder,
    /// Not orderable today: left out when the reorder is placed.
    Blocked,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Ok => "ok",
            ReviewKind::Up => "up",
            ReviewKind::Down => "down",
            ReviewKind::Backorder => "backorder",
            ReviewKind::Blocked => "blocked",
        }
    }
}

impl std::fmt::Display for ReviewKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub struct Review {
    pub lines: Vec<ReviewLine>,
    pub subtotal: Money,
    pub orderable: usize,
    pub eval: Evaluation,
}

/// Where a reorder comes from.
pub enum ReorderSource<'a> {
    Order(&'a str),
    List(&'a str),
}

/// The lines of a past order (or a list) at today's prices and availability, every change flagged.
pub async fn reorder_review(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    source: ReorderSource<'_>,
) -> ServiceResult<Review> {
    read_scope(db, actor, account_id).await?;
    let previous: Vec<(String, String, String, i64, Option<Money>)> = match source {
        ReorderSource::Order(id) => {
            let order = super::orders::get_order(db, actor, id).await?;
            if order.account_id != account_id {
                return Err(ServiceError::NotFound);
            }
            orders::lines(db, &order.id)
                .await?
                .into_iter()
                .map(|l| (l.product_id, l.sku, l.name, l.quantity, Some(Money::from_raw(l.unit_price))))
                .collect()
        }
        ReorderSource::List(id) => {
            let list = visible_list(db, actor, account_id, id).await?;
            carts::list_items(db, &list.id)
                .await?
                .into_iter()
                .map(|i| (i.product_id, i.sku.clone(), i.sku, i.quantity, None))
                .collect()
        }
    };
    let inputs: Vec<LineInput> =
        previous.iter().map(|p| LineInput { product: ProductRef::Id(p.0.clone()), quantity: p.3 }).collect();
    let eval = evaluate(db, now, account_id, &inputs).await?;
    let issues: HashMap<usize, &LineIssue> = eval.issues.iter().map(|i| (i.line, i)).collect();
    let priced: HashMap<usize, &super::orders::PricedLine> = eval.rows().into_iter().map(|l| (l.line, l)).collect();
    let mut lines = Vec::new();
    for (i, (_, sku, name, qty, was)) in previous.iter().enumerate() {
        let n = i + 1;
        if let (Some(issue), None) = (issues.get(&n), priced.get(&n)) {
            lines.push(ReviewLine {
                sku: sku.clone(),
                name: name.clone(),
                quantity: *qty,
                was: *was,
                now: None,
                line_total: None,
                moved: PriceMove::Same,
                flag: format!("No longer available: {}", issue.message),
                kind: ReviewKind::Blocked,
            });
            continue;
        }
        let Some(p) = priced.get(&n) else { continue };
        let price = p.price.unit_price;
        let moved = was.map(|w| price_move(w.raw(), price.raw())).unwrap_or(PriceMove::Same);
        let (flag, kind) = if let Some(issue) = &p.blocked_by {
            (issue.message.clone(), ReviewKind::Blocked)
        } else if p.outlook.backordered > 0 {
            (format!("{} · {}", p.outlook.ships_now_label(), p.outlook.backorder_label()), ReviewKind::Backorder)
        } else {
            match (moved, was) {
                (PriceMove::Up, Some(w)) => (format!("Price up from {}", w.format()), ReviewKind::Up),
                (PriceMove::Down, Some(w)) => (format!("Price down from {}", w.format()), ReviewKind::Down),
                _ => (String::new(), ReviewKind::Ok),
            }
        };
        lines.push(ReviewLine {
            sku: p.product.sku.clone(),
            name: p.product.name.clone(),
            quantity: p.quantity,
            was: *was,
            now: Some(price),
            line_total: Some(p.line_total),
            moved,
            flag,
            kind,
        });
    }
    let orderable: Vec<&ReviewLine> = lines.iter().filter(|l| l.kind != ReviewKind::Blocked).collect();
    let subtotal = Money::sum(orderable.iter().filter_map(|l| l.line_total)).unwrap_or(Money::ZERO);
    let orderable = orderable.len();
    Ok(Review { lines, subtotal, orderable, eval })
}

/// Click two of a reorder: places the review's orderable lines (today's prices, computed again
/// here) with the account's defaults and the given header, through the one pipeline.
pub async fn place_reorder(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    source: ReorderSource<'_>,
    header: super::orders::OrderHeader,
    idem: Option<&super::orders::IdemKey>,
) -> ServiceResult<super::orders::Placement> {
    let review = reorder_review(db, now, actor, account_id, source).await?;
    let blocked: std::collections::HashSet<&str> =
        review.lines.iter().filter(|l| l.kind == ReviewKind::Blocked).map(|l| l.sku.as_str()).collect();
    let lines: Vec<LineInput> = review
        .eval
        .lines
        .iter()
        .filter(|l| !blocked.contains(l.product.sku.as_str()))
        .map(|l| LineInput { product: ProductRef::Id(l.product.id.clone()), quantity: l.quantity })
        .collect();
    let req = super::orders::PlaceOrder { account_id: account_id.to_string(), lines, header, clear_cart: false };
    super::orders::place_order(db, now, actor, &req, idem, |o, _| (201, o.id.clone())).await
}

/// "Change it in the cart instead": the orderable lines of a past order or list go to the cart.
pub async fn reorder_to_cart(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    source: ReorderSource<'_>,
) -> ServiceResult<usize> {
    let review = reorder_review(db, now, actor, account_id, source).await?;
    let lines: Vec<LineInput> = review
        .eval
        .lines
        .iter()
        .map(|l| LineInput { product: ProductRef::Id(l.product.id.clone()), quantity: l.quantity })
        .collect();
    Ok(add_to_cart(db, now, actor, account_id, &lines).await?.1)
}
