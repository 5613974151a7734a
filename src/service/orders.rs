//! Orders: the one placement pipeline every channel goes through (DESIGN.md §3), and amendments,
//! cancellation and confirmation of open orders.
//!
//! Pipeline: the one pure evaluation (`domain::pipeline`, loaded by `service::evaluation`: catalog
//! visibility → quantity rules → pricing (always server-side) → [licences: later] → stock /
//! backorder outlook) → diversions (credit hold now; credit exposure, buyer approval and routing
//! later) → write. The evaluation runs before the write transaction so it stays short; reservation
//! runs inside it, on locked rows, so stock is never oversold — a line whose stock ran out
//! meanwhile is refused there with the evaluation's own `out_of_stock` reason.

use super::catalog::{catalog_scope, today};
pub use super::evaluation::{Evaluation, LineInput, PricedLine, ProductRef, evaluate};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::catalog::{BackorderPolicy, available};
use crate::domain::money::Money;
use crate::domain::orders::{Channel, LineIssue, OrderDiff, OrderStatus, allocate, diff_lines, diversions};
use crate::domain::pipeline::out_of_stock;
use crate::store::accounts::{self, AccountRow};
use crate::store::orders::{self, NewEvent, Settle};
pub use crate::store::orders::{OrderFilter, OrderLineRow, OrderRow};
use crate::store::{Db, Tx, carts, idempotency, new_id, pricing};
use serde_json::json;
use std::collections::HashMap;

/// The most lines one order may have.
pub const MAX_LINES: usize = 1_000;

/// Where and how to deliver, as the buyer (or the rep, desk or ERP) asked.
#[derive(Clone, Debug, Default)]
pub struct OrderHeader {
    /// `None`: the account's default ship-to.
    pub ship_to_id: Option<String>,
    pub po_number: String,
    /// ISO date (YYYY-MM-DD), optional.
    pub requested_date: Option<String>,
    pub notes: String,
}

pub struct PlaceOrder {
    pub account_id: String,
    pub lines: Vec<LineInput>,
    pub header: OrderHeader,
    /// Empty the placer's cart for this account when the order is placed (checkout from the cart).
    pub clear_cart: bool,
}

/// An idempotency key for a placement: the API's `Idempotency-Key` (scope = the token) or a form's
/// one-time token (scope = the user).
#[derive(Clone, Debug)]
pub struct IdemKey {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

// Returned once per placement and matched at once: boxing the order would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Placement {
    /// A new order was written; `response` is what the caller asked to record for replays.
    Placed { order: OrderRow, response: (i64, String) },
    /// The key was used before with the same request: the recorded response.
    Replayed { order_id: Option<String>, status: i64, body: String },
}

/// Checks that the actor may order for the account and returns it with the channel to record.
pub(crate) async fn ordering_scope(
    db: &Db,
    actor: &Actor<'_>,
    account_id: &str,
) -> ServiceResult<(AccountRow, Channel)> {
    let p = actor.principal;
    let account = accounts::get(db, account_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(own) = p.buyer_account() {
        if own != account_id {
            return Err(ServiceError::NotFound);
        }
        if !p.can(Permission::PortalOrder) {
            return Err(ServiceError::Forbidden);
        }
        return Ok((account, Channel::Portal));
    }
    if !p.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    if !p.can(Permission::OrderForCustomers) {
        return Err(ServiceError::Forbidden);
    }
    let channel = if actor.channel == "api" {
        Channel::Api
    } else if p.can(Permission::ViewOwnBook) && account.owner_rep_id.as_deref() == Some(p.user_id.as_str()) {
        Channel::Rep
    } else {
        Channel::Phone
    };
    Ok((account, channel))
}

/// Validates the header against the account; returns the ship-to id and its address line.
async fn check_header(db: &Db, now: i64, account: &AccountRow, h: &OrderHeader) -> ServiceResult<(String, String)> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let ship_tos = accounts::ship_tos(db, &account.id).await?;
    let ship_to = match h.ship_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => ship_tos.iter().find(|s| s.id == id),
        None => ship_tos.iter().find(|s| s.is_default).or(ship_tos.first()),
    };
    if ship_to.is_none() {
        problems.push(("ship_to".into(), "Choose a ship-to address of this account.".into()));
    }
    let po = h.po_number.trim();
    if account.po_required && po.is_empty() {
        problems.push(("po_number".into(), "This account requires a PO number on every order.".into()));
    }
    if po.chars().count() > 64 {
        problems.push(("po_number".into(), "The PO number is longer than 64 characters.".into()));
    }
    if let Some(d) = h.requested_date.as_deref().filter(|d| !d.trim().is_empty()) {
        match pricing::parse_date(Some(d.trim())) {
            None => problems.push(("requested_date".into(), format!("“{d}” is not a date (YYYY-MM-DD)."))),
            Some(day) if day < today(now) => {
                problems.push(("requested_date".into(), "The requested delivery date is in the past.".into()))
            }
            Some(_) => {}
        }
    }
    if h.notes.chars().count() > 2000 {
        problems.push(("notes".into(), "Notes are longer than 2,000 characters.".into()));
    }
    ServiceError::from_problems(problems)?;
    let s = ship_to.expect("checked above");
    Ok((s.id.clone(), format!("{} — {}", s.label, s.address().one_line())))
}

/// Places an order through the pipeline. With an idempotency key, a repeat of the same request
/// returns the first response; a repeat with another body is refused; one still running is a conflict.
pub async fn place_order<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &PlaceOrder,
    idem: Option<&IdemKey>,
    respond: F,
) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    let mut claim = None;
    if let Some(k) = idem {
        // The guard exists before the claim is sent: a request dropped at any moment from here
        // on releases its claim once the claim's unit has finished.
        let mut guard = ClaimGuard { db, key: k, claim_id: new_id(), armed: true, claiming: None };
        let (db2, k2, id) = (db.clone(), k.clone(), guard.claim_id.clone());
        let claiming = guard.claiming.insert(tokio::spawn(async move {
            idempotency::claim(&db2, &k2.scope, &k2.key, &k2.request_hash, &id, now).await
        }));
        let claimed =
            claiming.await.map_err(|e| ServiceError::Internal(format!("claiming an idempotency key: {e}")))??;
        guard.claiming = None;
        match claimed {
            idempotency::Claim::Claimed => claim = Some(guard),
            idempotency::Claim::InFlight { request_hash } if request_hash != k.request_hash => {
                return Err(ServiceError::IdempotencyMismatch);
            }
            idempotency::Claim::InFlight { .. } => return Err(ServiceError::InFlight),
            idempotency::Claim::Done(row) if row.request_hash != k.request_hash => {
                return Err(ServiceError::IdempotencyMismatch);
            }
            idempotency::Claim::Done(row) => {
                return Ok(Placement::Replayed {
                    order_id: row.order_id,
                    status: row.response_status.unwrap_or(200),
                    body: row.response_body.unwrap_or_default(),
                });
            }
        }
    }
    let idem = claim.as_ref().map(|c| (c.key.scope.clone(), c.key.key.clone(), c.claim_id.clone()));
    let result = place_claimed(db, now, actor, req, idem, respond).await;
    if let Some(mut c) = claim {
        c.armed = false;
        if result.is_err() {
            // Nothing was written: let a retry run again (refusals may pass later, e.g. after
            // restock).
            idempotency::release(db, &c.key.scope, &c.key.key, &c.claim_id).await?;
        }
    }
    result
}

/// An Idempotency-Key this request claimed. If the request is dropped before it finished (its
/// client hung up), the claim is released at once: a retry need not wait for anything. The
/// release only removes this claim while still in flight, so a placement already sent to the
/// writer (which runs to its end) keeps its completed record.
struct ClaimGuard<'a> {
    db: &'a Db,
    key: &'a IdemKey,
    claim_id: String,
    armed: bool,
    /// The claim's own task while it runs: a release waits for it, so it never comes first.
    claiming: Option<tokio::task::JoinHandle<crate::store::StoreResult<idempotency::Claim>>>,
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (db, scope, key, id) =
            (self.db.clone(), self.key.scope.clone(), self.key.key.clone(), self.claim_id.clone());
        let claiming = self.claiming.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Some(c) = claiming {
                        let _ = c.await;
                    }
                    if let Err(e) = idempotency::release(&db, &scope, &key, &id).await {
                        tracing::warn!(error = %e, "releasing the idempotency key of a dropped request failed");
                    }
                });
            }
            Err(_) => tracing::warn!("a dropped request's idempotency key is left to its process's heartbeat"),
        }
    }
}

/// What a placement's unit of work writes: everything checked and priced before it.
struct NewOrder<F> {
    now: i64,
    actor: OwnedActor,
    channel: Channel,
    account: AccountRow,
    ship_to_id: String,
    ship_to_text: String,
    header: OrderHeader,
    lines: Vec<PricedLine>,
    subtotal: i64,
    clear_cart: bool,
    /// (scope, key, claim id) of the request's Idempotency-Key.
    idem: Option<(String, String, String)>,
    respond: F,
}

async fn place_claimed<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &PlaceOrder,
    idem: Option<(String, String, String)>,
    respond: F,
) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    let (account, channel) = ordering_scope(db, actor, &req.account_id).await?;
    if account.status == "onboarding" {
        return Err(ServiceError::Blocked(vec![LineIssue::new(
            0,
            "",
            "account_onboarding",
            "This account is still being set up and cannot order yet.",
        )]));
    }
    if req.lines.is_empty() {
        return Err(ServiceError::Blocked(vec![LineIssue::new(0, "", "empty", "The order has no lines.")]));
    }
    if req.lines.len() > MAX_LINES {
        return Err(ServiceError::Blocked(vec![LineIssue::new(
            0,
            "",
            "too_many_lines",
            format!("An order may have at most {MAX_LINES} lines."),
        )]));
    }
    let (ship_to_id, ship_to_text) = check_header(db, now, &account, &req.header).await?;
    let eval = evaluate(db, now, &account.id, &req.lines).await?;
    if !eval.issues.is_empty() {
        return Err(ServiceError::Blocked(eval.issues));
    }
    let subtotal = eval.subtotal().ok_or_else(too_large)?;
    let unit = NewOrder {
        now,
        actor: actor.owned(),
        channel,
        account,
        ship_to_id,
        ship_to_text,
        header: req.header.clone(),
        lines: eval.lines,
        subtotal: subtotal.raw(),
        clear_cart: req.clear_cart,
        idem,
        respond,
    };
    db.write(unit, |tx, u| Box::pin(write_new_order(tx, u))).await
}

/// The placement's unit of work: reserves stock on locked rows, writes the order, its lines,
/// allocations, event, audit row and outbox event, and completes the Idempotency-Key.
async fn write_new_order<F>(tx: &mut Tx, u: &NewOrder<F>) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    let (now, actor) = (u.now, u.actor.actor());
    let reserved = match reserve_lines(tx, &u.lines, now).await? {
        Ok(r) => r,
        Err(issues) => return Err(ServiceError::Blocked(issues)),
    };
    let diverted = diversions(&u.account.status);
    let status = diverted.first().map(|d| d.status).unwrap_or(OrderStatus::Placed);
    let number = format!("SO-{}", tx.next_order_number().await?);
    let lines = line_rows(&u.lines, &reserved);
    let order = OrderRow {
        id: new_id(),
        number,
        account_id: u.account.id.clone(),
        status: status.as_str().into(),
        channel: u.channel.as_str().into(),
        placed_by_user_id: actor.principal.user_id.clone(),
        placed_by_name: actor.principal.name.clone(),
        on_behalf_of_account_id: actor.principal.is_staff().then(|| u.account.id.clone()),
        ship_to_id: Some(u.ship_to_id.clone()),
        ship_to_text: u.ship_to_text.clone(),
        po_number: u.header.po_number.trim().to_string(),
        requested_date: u.header.requested_date.clone().filter(|d| !d.trim().is_empty()).map(|d| d.trim().into()),
        notes: u.header.notes.trim().to_string(),
        terms_days: u.account.terms_days,
        subtotal: u.subtotal,
        line_count: lines.len() as i64,
        backordered: lines.iter().any(|l| l.backordered_qty > 0),
        reasons: diverted.iter().map(|d| d.reason.clone()).collect::<Vec<_>>().join(" "),
        revision: 1,
        version: 1,
        placed_at: now,
        updated_at: now,
    };
    orders::insert(tx, &order).await?;
    orders::insert_lines(tx, &order.id, &lines).await?;
    let allocations: Vec<(String, String, i64)> = reserved.into_iter().flat_map(|(_, a)| a).collect();
    orders::insert_allocations(tx, &order.id, &allocations).await?;
    let order_actor =
        Actor { channel: u.channel.as_str(), on_behalf_of: order.on_behalf_of_account_id.as_deref(), ..actor };
    event(tx, &order, &order_actor, &order.reasons, now).await?;
    let summary = event_payload(&order);
    audit(tx, Some(&order_actor), now, "order.placed", ("order", &order.id), None, Some(summary.clone())).await?;
    crate::store::audit::enqueue(tx, "order.placed", &summary, now).await?;
    if u.clear_cart {
        carts::clear_cart(tx, &actor.principal.user_id, &u.account.id).await?;
    }
    let response = (u.respond)(&order, &lines);
    if let Some((scope, key, claim)) = &u.idem
        && !idempotency::complete(tx, scope, key, claim, response.0, &response.1, Some(&order.id)).await?
    {
        // The claim was released meanwhile (this request's client hung up and a retry may be
        // running): this unit takes its work back; the retry places the order.
        return Err(ServiceError::InFlight);
    }
    Ok(Placement::Placed { order, response })
}

fn too_large() -> ServiceError {
    ServiceError::Blocked(vec![LineIssue::new(0, "", "too_large", "The order total is too large.")])
}

type Reservations = Vec<(usize, Vec<(String, String, i64)>)>;

/// Reserves stock for every line from the warehouses in their fixed order, on rows locked for this
/// transaction. A line short of stock is backordered when its product allows it, and refused
/// otherwise (every refused line is reported).
async fn reserve_lines(
    tx: &mut Tx,
    lines: &[PricedLine],
    now: i64,
) -> ServiceResult<Result<Reservations, Vec<LineIssue>>> {
    let mut ids: Vec<String> = lines.iter().map(|l| l.product.id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut locked = orders::lock_stock(tx, &ids).await?;
    // Warehouses in the seller's allocation order (then by id, so the order is total).
    locked.sort_by(|a, b| {
        (&a.product_id, a.warehouse_sort, &a.warehouse_id).cmp(&(&b.product_id, b.warehouse_sort, &b.warehouse_id))
    });
    let mut by_product: HashMap<&str, Vec<(String, i64)>> = HashMap::new();
    for s in &locked {
        by_product
            .entry(s.product_id.as_str())
            .or_default()
            .push((s.warehouse_id.clone(), available(s.on_hand, s.reserved)));
    }
    let mut issues = Vec::new();
    let mut plan: Reservations = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let avail = by_product.get(l.product.id.as_str()).cloned().unwrap_or_default();
        let (alloc, short) = allocate(&avail, l.quantity);
        if short > 0 && l.product.backorder() == BackorderPolicy::Deny {
            issues.push(out_of_stock(l.line, &l.product.sku, l.quantity - short));
            continue;
        }
        plan.push((i, alloc.into_iter().map(|(w, q)| (l.product.id.clone(), w, q)).collect()));
    }
    if !issues.is_empty() {
        return Ok(Err(issues));
    }
    let all: Vec<(String, String, i64)> = plan.iter().flat_map(|(_, a)| a.iter().cloned()).collect();
    orders::reserve_many(tx, &all, now).await?;
    Ok(Ok(plan))
}

fn line_rows(lines: &[PricedLine], reserved: &Reservations) -> Vec<OrderLineRow> {
    let held: HashMap<usize, i64> = reserved.iter().map(|(i, a)| (*i, a.iter().map(|x| x.2).sum())).collect();
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let r = held.get(&i).copied().unwrap_or(0);
            OrderLineRow {
                line_no: i as i64 + 1,
                product_id: l.product.id.clone(),
                sku: l.product.sku.clone(),
                name: l.product.name.clone(),
                uom: l.product.uom.clone(),
                quantity: l.quantity,
                unit_price: l.price.unit_price.raw(),
                list_price: l.price.list_price.map(|m| m.raw()),
                line_total: l.line_total.raw(),
                price_source: l.price.kind.as_str().into(),
                price_explanation: l.price.explain(),
                reserved_qty: r,
                backordered_qty: l.quantity - r,
            }
        })
        .collect()
}

async fn event(tx: &mut Tx, order: &OrderRow, actor: &Actor<'_>, note: &str, now: i64) -> ServiceResult<()> {
    orders::add_event(
        tx,
        &order.id,
        &NewEvent {
            status: &order.status,
            actor_user_id: Some(&actor.principal.user_id),
            actor_name: &actor.principal.name,
            channel: actor.channel,
            note,
        },
        now,
    )
    .await?;
    Ok(())
}

fn event_payload(o: &OrderRow) -> serde_json::Value {
    json!({
        "id": o.id, "number": o.number, "account_id": o.account_id, "status": o.status, "channel": o.channel,
        "placed_by": o.placed_by_user_id, "on_behalf_of": o.on_behalf_of_account_id, "po_number": o.po_number,
        "subtotal": Money::from_raw(o.subtotal).to_plain(), "lines": o.line_count, "revision": o.revision,
        "version": o.version,
    })
}

/// An order with everything its page shows.
pub struct OrderView {
    pub order: OrderRow,
    pub lines: Vec<OrderLineRow>,
    pub events: Vec<orders::OrderEventRow>,
    pub revisions: Vec<orders::RevisionRow>,
    pub account_name: String,
}

/// An order the actor may see (a buyer only their account's; staff their scope); else 404.
pub async fn get_order(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderRow> {
    let order = orders::get(db, id_or_number).await?.ok_or(ServiceError::NotFound)?;
    catalog_scope(db, actor, &order.account_id).await.map_err(|e| match e {
        ServiceError::Forbidden => ServiceError::NotFound,
        e => e,
    })?;
    Ok(order)
}

pub async fn order_view(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderView> {
    let order = get_order(db, actor, id_or_number).await?;
    let lines = orders::lines(db, &order.id).await?;
    let events = orders::events(db, &order.id).await?;
    let revisions = orders::revisions(db, &order.id).await?;
    let account_name = accounts::get(db, &order.account_id).await?.map(|a| a.name).unwrap_or_default();
    Ok(OrderView { order, lines, events, revisions, account_name })
}

/// A page of the order history the actor may see. `account_id` narrows staff to one account; a
/// buyer always sees only their own account's orders.
pub async fn list_orders(
    db: &Db,
    actor: &Actor<'_>,
    mut filter: OrderFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<OrderRow>> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        if !p.can(Permission::PortalView) {
            return Err(ServiceError::Forbidden);
        }
        filter.account_id = Some(own.to_string());
    } else if let Some(a) = &filter.account_id {
        super::accounts::get_account(db, actor, a).await?;
    } else {
        match p.account_scope() {
            crate::domain::auth::AccountScope::All => {}
            crate::domain::auth::AccountScope::Book(rep) => filter.owner_rep_id = Some(rep.to_string()),
            _ => return Err(ServiceError::Forbidden),
        }
    }
    Ok(orders::list(db, &filter, after, limit).await?)
}

/// What an amendment asks for: the complete new set of lines and header, checked against the
/// version the editor saw.
pub struct Amendment {
    pub expected_version: i64,
    pub lines: Vec<LineInput>,
    pub header: OrderHeader,
    pub reason: String,
}

fn may_manage(actor: &Actor<'_>) -> ServiceResult<()> {
    if actor.principal.can(Permission::ManageOrders) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

/// Amends an open order: re-prices and re-reserves the new lines through the same pipeline, writes
/// a revision with its diff and reason, and emits `order.amended`. A stale version is refused.
pub async fn amend_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    a: &Amendment,
) -> ServiceResult<OrderRow> {
    let current = get_order(db, actor, id_or_number).await?;
    may_manage(actor)?;
    if a.reason.trim().is_empty() {
        return Err(ServiceError::invalid("reason", "Say why the order changes (the customer sees it)."));
    }
    if a.lines.is_empty() {
        return Err(ServiceError::invalid("lines", "An order needs at least one line; cancel it instead."));
    }
    if a.lines.len() > MAX_LINES {
        return Err(ServiceError::Blocked(vec![LineIssue::new(
            0,
            "",
            "too_many_lines",
            format!("An order may have at most {MAX_LINES} lines."),
        )]));
    }
    let account = accounts::get(db, &current.account_id).await?.ok_or(ServiceError::NotFound)?;
    let (ship_to_id, ship_to_text) = check_header(db, now, &account, &a.header).await?;
    // The stock the order holds now is available to its new lines: the amendment releases it first.
    let mut held: HashMap<String, i64> = HashMap::new();
    for l in orders::lines(db, &current.id).await? {
        *held.entry(l.product_id).or_default() += l.reserved_qty;
    }
    let eval = super::evaluation::evaluate_holding(db, now, &account.id, &a.lines, &held).await?;
    if !eval.issues.is_empty() {
        return Err(ServiceError::Blocked(eval.issues));
    }
    let unit = Amend {
        now,
        actor: actor.owned(),
        order_id: current.id.clone(),
        expected_version: a.expected_version,
        header: a.header.clone(),
        reason: a.reason.trim().to_string(),
        ship_to_id,
        ship_to_text,
        subtotal: eval.subtotal(),
        lines: eval.lines,
    };
    db.write(unit, |tx, u| Box::pin(write_amendment(tx, u))).await
}

/// An amendment's unit of work: everything checked and priced before it.
struct Amend {
    now: i64,
    actor: OwnedActor,
    order_id: String,
    expected_version: i64,
    header: OrderHeader,
    reason: String,
    ship_to_id: String,
    ship_to_text: String,
    lines: Vec<PricedLine>,
    subtotal: Option<Money>,
}

/// Locks the order, then the stock of its old and new products together (in product order, so two
/// amendments that swap products never deadlock), releases the old reservation, reserves the new
/// lines, and writes the revision, event, audit row and outbox event.
async fn write_amendment(tx: &mut Tx, u: &Amend) -> ServiceResult<OrderRow> {
    let (now, actor, a) = (u.now, u.actor.actor(), u);
    let Some(before) = orders::get_for_update(tx, &u.order_id).await? else { return Err(ServiceError::NotFound) };
    if before.version != a.expected_version {
        return Err(ServiceError::Conflict(format!(
            "Order {} was changed by someone else since you opened it (now revision {}). Reload it and make your change again.",
            before.number, before.revision
        )));
    }
    let status = OrderStatus::parse(&before.status).unwrap_or(OrderStatus::Closed);
    if !status.is_open() {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {} and can no longer change.",
            before.number,
            status.label().to_lowercase()
        )));
    }
    let old_lines = orders::lines_tx(tx, &before.id).await?;
    let touched: Vec<String> =
        old_lines.iter().map(|l| l.product_id.clone()).chain(u.lines.iter().map(|l| l.product.id.clone())).collect();
    orders::lock_stock(tx, &touched).await?;
    orders::settle_allocations(tx, &before.id, Settle::Release, now).await?;
    let reserved = match reserve_lines(tx, &u.lines, now).await? {
        Ok(r) => r,
        Err(issues) => return Err(ServiceError::Blocked(issues)),
    };
    let lines = line_rows(&u.lines, &reserved);
    let mut diff = OrderDiff {
        lines: diff_lines(
            &old_lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect::<Vec<_>>(),
            &lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect::<Vec<_>>(),
        ),
        fields: Vec::new(),
    };
    let po = a.header.po_number.trim().to_string();
    let requested = a.header.requested_date.clone().filter(|d| !d.trim().is_empty()).map(|d| d.trim().to_string());
    let notes = a.header.notes.trim().to_string();
    let mut field = |name: &str, from: &str, to: &str| {
        if from != to {
            diff.fields.push((name.into(), from.into(), to.into()));
        }
    };
    field("Ship to", &before.ship_to_text, &u.ship_to_text);
    field("PO number", &before.po_number, &po);
    field("Requested date", before.requested_date.as_deref().unwrap_or(""), requested.as_deref().unwrap_or(""));
    field("Notes", &before.notes, &notes);
    if diff.is_empty() {
        return Err(ServiceError::invalid("lines", "Nothing changed."));
    }
    let subtotal = u.subtotal.ok_or_else(too_large)?.raw();
    if subtotal != before.subtotal {
        diff.fields.push((
            "Subtotal".into(),
            Money::from_raw(before.subtotal).format(),
            Money::from_raw(subtotal).format(),
        ));
    }
    let after = OrderRow {
        ship_to_id: Some(u.ship_to_id.clone()),
        ship_to_text: u.ship_to_text.clone(),
        po_number: po,
        requested_date: requested,
        notes,
        subtotal,
        line_count: lines.len() as i64,
        backordered: lines.iter().any(|l| l.backordered_qty > 0),
        revision: before.revision + 1,
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    if !orders::update_header(tx, &after, before.version).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    orders::replace_lines(tx, &after.id, &lines).await?;
    let allocations: Vec<(String, String, i64)> = reserved.into_iter().flat_map(|(_, a)| a).collect();
    orders::insert_allocations(tx, &after.id, &allocations).await?;
    let diff_json = serde_json::to_string(&diff).map_err(|e| ServiceError::Internal(e.to_string()))?;
    orders::add_revision(
        tx,
        &after.id,
        after.revision,
        (Some(&actor.principal.user_id), &actor.principal.name),
        a.reason.trim(),
        &diff_json,
        now,
    )
    .await?;
    let note = format!("Amended (revision {}): {} — {}", after.revision, diff.summary(), a.reason.trim());
    event(tx, &after, &actor, &note, now).await?;
    let before_json = json!({ "order": event_payload(&before), "lines": old_lines });
    let after_json = json!({ "order": event_payload(&after), "lines": lines, "reason": a.reason.trim(), "diff": diff });
    audit(tx, Some(&actor), now, "order.amended", ("order", &after.id), Some(before_json), Some(after_json)).await?;
    let mut payload = event_payload(&after);
    payload["reason"] = json!(a.reason.trim());
    payload["diff"] = serde_json::to_value(&diff).unwrap_or_default();
    crate::store::audit::enqueue(tx, "order.amended", &payload, now).await?;
    Ok(after)
}

/// Cancels an open order, releasing its reserved stock; emits `order.cancelled`.
pub async fn cancel_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    reason: &str,
) -> ServiceResult<OrderRow> {
    change_status(db, now, actor, id_or_number, expected_version, OrderStatus::Cancelled, reason).await
}

/// Confirms a placed order (the seller or its ERP accepts it); emits `order.confirmed`.
pub async fn confirm_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
) -> ServiceResult<OrderRow> {
    change_status(db, now, actor, id_or_number, expected_version, OrderStatus::Confirmed, "").await
}

async fn change_status(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    to: OrderStatus,
    reason: &str,
) -> ServiceResult<OrderRow> {
    let current = get_order(db, actor, id_or_number).await?;
    may_manage(actor)?;
    if to == OrderStatus::Cancelled && reason.trim().is_empty() {
        return Err(ServiceError::invalid("reason", "Say why the order is cancelled (the customer sees it)."));
    }
    let unit = (now, actor.owned(), current.id.clone(), expected_version, to, reason.trim().to_string());
    db.write(unit, |tx, (now, actor, id, expected_version, to, reason)| {
        Box::pin(write_status(tx, *now, actor, id, *expected_version, *to, reason))
    })
    .await
}

/// A status change's unit of work: on the locked order, releases or consumes its stock as the new
/// status needs, and writes the event, audit row and outbox event.
async fn write_status(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    id: &str,
    expected_version: Option<i64>,
    to: OrderStatus,
    reason: &str,
) -> ServiceResult<OrderRow> {
    let actor = &actor.actor();
    let Some(before) = orders::get_for_update(tx, id).await? else { return Err(ServiceError::NotFound) };
    if expected_version.is_some_and(|v| v != before.version) {
        return Err(ServiceError::Conflict(format!(
            "Order {} was changed by someone else since you opened it. Reload it and try again.",
            before.number
        )));
    }
    let from = OrderStatus::parse(&before.status).unwrap_or(OrderStatus::Closed);
    if !from.can_become(to) {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; it cannot become {}.",
            before.number,
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    match to {
        OrderStatus::Cancelled => orders::settle_allocations(tx, &before.id, Settle::Release, now).await?,
        OrderStatus::Shipped => orders::settle_allocations(tx, &before.id, Settle::Ship, now).await?,
        _ => {}
    }
    let after = OrderRow { status: to.as_str().into(), version: before.version + 1, updated_at: now, ..before.clone() };
    if !orders::update_header(tx, &after, before.version).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    event(tx, &after, actor, reason.trim(), now).await?;
    let action = format!("order.{}", to.as_str());
    let mut payload = event_payload(&after);
    if !reason.trim().is_empty() {
        payload["reason"] = json!(reason.trim());
    }
    audit(tx, Some(actor), now, &action, ("order", &after.id), Some(event_payload(&before)), Some(payload.clone()))
        .await?;
    crate::store::audit::enqueue(tx, &action, &payload, now).await?;
    Ok(after)
}

/// Ships an order in full (used by the demo's history and, later, by shipment recording): reserved
/// stock is consumed.
pub async fn ship_order(db: &Db, now: i64, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderRow> {
    let o = get_order(db, actor, id_or_number).await?;
    if o.status == "placed" || o.status == "on_hold" {
        change_status(db, now, actor, id_or_number, None, OrderStatus::Confirmed, "").await?;
    }
    change_status(db, now, actor, id_or_number, None, OrderStatus::Shipped, "").await
}

/// The order a form placed under `key` while another request (the first of a double click) still
/// holds it: waits up to ten seconds for that request to finish. `InFlight` if it has not, or if
/// it gave up without placing (its key was released).
pub async fn wait_for_placement(db: &Db, actor: &Actor<'_>, key: &IdemKey) -> ServiceResult<OrderRow> {
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        match idempotency::get(db, &key.scope, &key.key).await? {
            Some(row) if row.state == "done" => {
                let id = row.order_id.ok_or(ServiceError::NotFound)?;
                return get_order(db, actor, &id).await;
            }
            Some(_) => {}
            None => break,
        }
    }
    Err(ServiceError::InFlight)
}

/// An order the actor may see, with its lines.
pub async fn order_with_lines(
    db: &Db,
    actor: &Actor<'_>,
    id_or_number: &str,
) -> ServiceResult<(OrderRow, Vec<OrderLineRow>)> {
    let order = get_order(db, actor, id_or_number).await?;
    let lines = orders::lines(db, &order.id).await?;
    Ok((order, lines))
}

/// [`list_orders`] with each order's lines (the history download).
pub async fn list_orders_with_lines(
    db: &Db,
    actor: &Actor<'_>,
    filter: OrderFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    let rows = list_orders(db, actor, filter, after, limit).await?;
    with_lines(db, rows).await
}

/// Orders created or changed at or after `since` (how an ERP pulls), each with its lines, after
/// the keyset `after` (updated_at, id). For actors who see every account; `account` (id, number or
/// external id) narrows to one.
pub async fn orders_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    account: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    actor.require(Permission::ViewAllAccounts)?;
    let account_id = match account {
        Some(reference) => Some(super::accounts::find_account(db, actor, reference).await?.id),
        None => None,
    };
    let rows = orders::changed_since(db, since, account_id.as_deref(), after, limit).await?;
    with_lines(db, rows).await
}

async fn with_lines(db: &Db, rows: Vec<OrderRow>) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    let ids: Vec<String> = rows.iter().map(|o| o.id.clone()).collect();
    let mut lines = orders::lines_of_orders(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let l = lines.remove(&o.id).unwrap_or_default();
            (o, l)
        })
        .collect())
}

/// Who has placed the account's orders (user id, name), for the history's "placed by" filter.
pub async fn placers(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<(String, String)>> {
    catalog_scope(db, actor, account_id).await?;
    Ok(orders::placers(db, account_id).await?)
}
