//! The buyer's approval of an order that waits for it (issue 14 §1). Approving records the
//! approver's decision; once every approval the order needs is given, the order goes on through
//! the pipeline *at that moment*: its lines are priced again, stock is reserved and the credit
//! step taken, exactly as a placement does — the approver is shown beforehand what changed since
//! it was submitted. Rejecting cancels it, with the approver's comment for the buyer.
//!
//! Approvers are the account's own purchasing managers (`domain::approvals` says which of them);
//! seller staff cannot approve for the customer.

use super::events::{event, event_payload};
use super::reserve::{line_rows, reserve_lines};
use super::{LineInput, OrderRow, PricedLine, ProductRef, get_order, too_large};
use crate::domain::approvals::{self, Decision, Outcome, Step};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::{LineIssue, OrderStatus, diversions};
use crate::service::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::store::accounts::{self, AccountRow};
use crate::store::approvals::{self as store, DecisionRow};
use crate::store::{Db, Tx, orders};
use serde_json::json;
use std::collections::BTreeSet;

/// One approval an order needs, as its page shows it.
#[derive(Clone, Debug)]
pub struct StepView {
    pub reason: String,
    /// Who approves it, in words.
    pub who: String,
    /// Given (by whom), or still waiting.
    pub done: bool,
}

/// A line as it would be if the order were approved now.
#[derive(Clone, Debug)]
pub struct PreviewLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub was: Money,
    pub now: Money,
    /// What ships from stock now; the rest is backordered.
    pub ships_now: i64,
    pub backordered: i64,
}

/// What approving now would do: today's prices and stock, and the credit step's verdict.
#[derive(Clone, Debug)]
pub struct Preview {
    pub lines: Vec<PreviewLine>,
    pub was: Money,
    pub now: Option<Money>,
    /// Lines that could no longer be ordered (approval would be refused until they are fixed).
    pub blocked: Vec<LineIssue>,
    /// Why the order would be held (or refused) for credit, if it would.
    pub credit: Option<String>,
}

impl Preview {
    pub fn price_changes(&self) -> usize {
        self.lines.iter().filter(|l| l.was != l.now).count()
    }
}

/// Where an order's approval stands, for its page.
#[derive(Clone, Debug)]
pub struct ApprovalView {
    pub steps: Vec<StepView>,
    pub decisions: Vec<DecisionRow>,
    pub waiting: bool,
    /// The viewer may approve or reject now.
    pub can_decide: bool,
    /// For someone who may decide: what approving now would do.
    pub preview: Option<Preview>,
}

/// The approvals of an order that needed any (`None` for one that did not).
pub async fn approval_view(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    order: &OrderRow,
) -> ServiceResult<Option<ApprovalView>> {
    let steps = store::steps(db, &order.id).await?;
    if steps.is_empty() {
        return Ok(None);
    }
    let decisions = store::decisions(db, &order.id).await?;
    let names = crate::service::approvals::manager_names(db, &order.account_id).await?;
    let managers: BTreeSet<String> = names.iter().map(|(id, _)| id.clone()).collect();
    let decided: Vec<Decision> = decisions.iter().map(DecisionRow::decision).collect();
    let outcome = approvals::outcome(&steps, &decided, &managers);
    let open: Vec<usize> = match &outcome {
        Outcome::Waiting(w) => w.iter().map(|(i, _)| *i).collect(),
        _ => Vec::new(),
    };
    let waiting = order.status() == OrderStatus::PendingApproval;
    let views = steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepView {
            reason: s.reason.clone(),
            who: crate::service::approvals::who(&s.approvers, s.require_all, &names),
            done: !open.contains(&i),
        })
        .collect();
    let can_decide = waiting
        && actor.principal.can(Permission::PortalApprove)
        && approvals::may_act(&steps, &decided, &managers, &actor.principal.user_id);
    let preview = if can_decide { Some(preview(db, now, order).await?) } else { None };
    Ok(Some(ApprovalView { steps: views, decisions, waiting, can_decide, preview }))
}

/// An order's lines (as it waited) through the pipeline's evaluation again, now, for its own
/// ship-to (licences are checked for the state it goes to).
pub(super) async fn evaluate_again(
    db: &Db,
    now: i64,
    order: &OrderRow,
    lines: &[crate::store::orders::OrderLineRow],
) -> ServiceResult<super::Evaluation> {
    let input: Vec<LineInput> = lines
        .iter()
        .map(|l| LineInput { product: ProductRef::Id(l.product_id.clone()), quantity: l.quantity })
        .collect();
    // An order accepted from a quote keeps the quoted prices.
    let quoted = crate::service::quotes::prices_for_order(db, &order.id).await?;
    let held = std::collections::HashMap::new();
    let ship_to = order.ship_to_id.as_deref();
    crate::service::evaluation::evaluate_quoted(db, now, &order.account_id, ship_to, &input, &held, &quoted).await
}

async fn preview(db: &Db, now: i64, order: &OrderRow) -> ServiceResult<Preview> {
    let old = orders::lines(db, &order.id).await?;
    let eval = evaluate_again(db, now, order, &old).await?;
    let lines = eval
        .lines
        .iter()
        .map(|p| {
            let was = old.get(p.line - 1).map(|l| l.unit()).unwrap_or(p.price.unit_price);
            PreviewLine {
                sku: p.product.sku.clone(),
                name: p.product.name.clone(),
                quantity: p.quantity,
                was,
                now: p.price.unit_price,
                ships_now: p.quantity.min(p.available.max(0)),
                backordered: (p.quantity - p.available.max(0)).max(0),
            }
        })
        .collect();
    let credit = match eval.subtotal() {
        Some(total) if eval.issues.is_empty() => {
            let account = accounts::get(db, &order.account_id).await?.ok_or(ServiceError::NotFound)?;
            let before = crate::store::credit::get(db, &account.id).await?;
            crate::domain::credit::check(account.credit_limit(), before, total.raw()).reason()
        }
        _ => None,
    };
    Ok(Preview { lines, was: Money::from_raw(order.subtotal), now: eval.subtotal(), blocked: eval.issues, credit })
}

/// An order waiting for the viewer's approval, for their home page.
#[derive(Clone, Debug)]
pub struct Awaiting {
    pub order: OrderRow,
    pub reasons: Vec<String>,
}

impl Awaiting {
    pub fn total(&self) -> Money {
        Money::from_raw(self.order.subtotal)
    }
}

/// The account's orders waiting for an approval the viewer may give, oldest first.
pub async fn awaiting_my_approval(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<Awaiting>> {
    let p = actor.principal;
    let Some(account_id) = p.buyer_account() else { return Ok(Vec::new()) };
    if !p.can(Permission::PortalApprove) {
        return Ok(Vec::new());
    }
    let filter = super::OrderFilter {
        account_id: Some(account_id.to_string()),
        status: Some(OrderStatus::PendingApproval.as_str().into()),
        ..Default::default()
    };
    let managers: BTreeSet<String> = store::managers(db, account_id).await?.into_iter().collect();
    let mut out = Vec::new();
    for order in orders::list(db, &filter, None, 100).await? {
        let steps = store::steps(db, &order.id).await?;
        let decided: Vec<Decision> = store::decisions(db, &order.id).await?.iter().map(DecisionRow::decision).collect();
        if approvals::may_act(&steps, &decided, &managers, &p.user_id) {
            let reasons = steps.into_iter().map(|s| s.reason).collect();
            out.push(Awaiting { order, reasons });
        }
    }
    out.reverse();
    Ok(out)
}

/// Checks that the actor may decide on approvals at all (a manager of the order's account).
async fn approver_order(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderRow> {
    let order = get_order(db, actor, id_or_number).await?;
    if actor.principal.buyer_account() != Some(order.account_id.as_str())
        || !actor.principal.can(Permission::PortalApprove)
    {
        return Err(ServiceError::Forbidden);
    }
    if order.status() != OrderStatus::PendingApproval {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; it is not waiting for approval.",
            order.number,
            order.status().label().to_lowercase()
        )));
    }
    Ok(order)
}

/// Approves an order waiting for the actor's approval. When it was the last approval needed,
/// the order is priced again and goes through stock and credit now, and becomes `placed` (or
/// `on_hold` for credit); emits `order.approved` (and `order.placed`).
pub async fn approve_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    crate::service::check_texts(&[], &[("comment", comment)])?;
    let order = approver_order(db, actor, id_or_number).await?;
    let account = accounts::get(db, &order.account_id).await?.ok_or(ServiceError::NotFound)?;
    let mut unit = Waited::priced_again(db, now, actor, &order, account, expected_version, comment).await?;
    let channel =
        crate::domain::orders::Channel::parse(&order.channel).unwrap_or(crate::domain::orders::Channel::Portal);
    let total = crate::domain::money::Money::from_raw(unit.subtotal);
    unit.routed =
        crate::service::routing::reasons(db, &unit.account, channel, &unit.lines, total, &order.notes).await?;
    db.write(unit, |tx, u| Box::pin(write_approval(tx, u))).await
}

/// An order that waited (for approval, or with the rep), priced again before the unit that
/// decides on it: everything that unit needs to place it now.
pub(super) struct Waited {
    pub now: i64,
    pub actor: OwnedActor,
    pub order_id: String,
    pub expected_version: Option<i64>,
    pub comment: String,
    /// Lines that can no longer be ordered: placing is refused with them (an approval that leaves
    /// others to give is still recorded).
    pub issues: Vec<LineIssue>,
    pub lines: Vec<PricedLine>,
    pub subtotal: i64,
    pub account: AccountRow,
    /// Why the order goes to the rep once approved (routing, after approval), if it does.
    pub routed: Vec<String>,
}

impl Waited {
    pub(super) async fn priced_again(
        db: &Db,
        now: i64,
        actor: &Actor<'_>,
        order: &OrderRow,
        account: AccountRow,
        expected_version: Option<i64>,
        comment: &str,
    ) -> ServiceResult<Waited> {
        let eval = evaluate_again(db, now, order, &orders::lines(db, &order.id).await?).await?;
        let subtotal = eval.subtotal().ok_or_else(too_large)?.raw();
        Ok(Waited {
            now,
            actor: actor.owned(),
            order_id: order.id.clone(),
            expected_version,
            comment: comment.trim().to_string(),
            issues: eval.issues,
            lines: eval.lines,
            subtotal,
            account,
            routed: Vec::new(),
        })
    }
}

async fn approval_state(tx: &mut Tx, order: &OrderRow) -> ServiceResult<(Vec<Step>, Vec<Decision>, BTreeSet<String>)> {
    let steps = store::steps_tx(tx, &order.id).await?;
    let decided = store::decisions_tx(tx, &order.id).await?.iter().map(DecisionRow::decision).collect();
    let managers = store::managers_tx(tx, &order.account_id).await?.into_iter().collect();
    Ok((steps, decided, managers))
}

async fn write_approval(tx: &mut Tx, u: &Waited) -> ServiceResult<OrderRow> {
    let (now, actor) = (u.now, u.actor.actor());
    let me = &actor.principal.user_id;
    let before = locked_waiting(tx, &u.order_id, u.expected_version, OrderStatus::PendingApproval).await?;
    let (steps, mut decided, managers) = approval_state(tx, &before).await?;
    if !approvals::may_act(&steps, &decided, &managers, me) {
        if decided.iter().any(|d| &d.user_id == me && d.approved) {
            return Err(ServiceError::Conflict(format!(
                "You have approved order {} already; it waits for the other approvers.",
                before.number
            )));
        }
        return Err(ServiceError::Forbidden);
    }
    let decision = DecisionRow {
        user_id: me.clone(),
        user_name: actor.principal.name.clone(),
        approved: true,
        comment: u.comment.clone(),
        decided_at: now,
    };
    store::insert_decision(tx, &before.id, &decision).await?;
    decided.push(decision.decision());
    let said = if u.comment.is_empty() { String::new() } else { format!(": {}", u.comment) };
    if let Outcome::Waiting(w) = approvals::outcome(&steps, &decided, &managers) {
        let after = OrderRow { version: before.version + 1, updated_at: now, ..before.clone() };
        if !orders::update_header(tx, &before, &after).await? {
            return Err(ServiceError::Conflict(format!(
                "Order {} was changed by someone else; reload it.",
                before.number
            )));
        }
        let note = format!("Approved by {}{said}; {} more approval(s) needed.", actor.principal.name, w.len());
        event(tx, &after, &actor, &note, now).await?;
        let mut payload = event_payload(&after);
        payload["approved_by"] = json!(actor.principal.name);
        audit(tx, Some(&actor), now, "order.approval_given", ("order", &after.id), None, Some(payload.clone())).await?;
        crate::store::audit::enqueue(tx, "order.approval_given", &payload, now).await?;
        return Ok(after);
    }
    // The last approval: routing, then the pipeline's remaining steps, now.
    let mut note = format!("Approved by {}{said}.", actor.principal.name);
    if !u.routed.is_empty() {
        let reasons = u.routed.join(" ");
        let after = OrderRow {
            status: OrderStatus::Escalated.as_str().into(),
            reasons: reasons.clone(),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        if !orders::update_header(tx, &before, &after).await? {
            return Err(ServiceError::Conflict(format!(
                "Order {} was changed by someone else; reload it.",
                before.number
            )));
        }
        note.push_str(&format!(" {reasons}"));
        event(tx, &after, &actor, &note, now).await?;
        let mut payload = event_payload(&after);
        payload["approved_by"] = json!(actor.principal.name);
        audit(tx, Some(&actor), now, "order.approved", ("order", &after.id), None, Some(payload.clone())).await?;
        crate::store::audit::enqueue(tx, "order.approved", &payload, now).await?;
        payload["routing"] = json!(u.routed);
        crate::store::audit::enqueue(tx, "order.escalated", &payload, now).await?;
        return Ok(after);
    }
    let placed = place_now(tx, &actor, &before, &u.issues, &u.lines, u.subtotal, &u.account, now).await?;
    placed.record(tx, &actor, &before, ("order.approved", "approved_by"), note, now).await
}

/// An order that waited (for approval, or with the rep) as it is placed now.
pub(super) struct PlacedNow {
    pub order: OrderRow,
    pub old_lines: Vec<crate::store::orders::OrderLineRow>,
    pub lines: Vec<crate::store::orders::OrderLineRow>,
    /// Unit prices that changed since it was submitted ("SKU $10.00 → $12.00").
    pub changes: Vec<String>,
}

/// Places an order that waited, on its locked row `before`, with its lines priced now: reserves
/// stock, writes the lines and allocations, takes the credit step (which may hold it), and bills a
/// prepay order. The caller writes the event, audit row and outbox events.
#[allow(clippy::too_many_arguments)]
pub(super) async fn place_now(
    tx: &mut Tx,
    actor: &Actor<'_>,
    before: &OrderRow,
    issues: &[LineIssue],
    priced: &[PricedLine],
    subtotal: i64,
    account: &AccountRow,
    now: i64,
) -> ServiceResult<PlacedNow> {
    if !issues.is_empty() {
        return Err(ServiceError::Blocked(issues.to_vec()));
    }
    let old_lines = orders::lines_tx(tx, &before.id).await?;
    let reserved = match reserve_lines(tx, priced, now).await? {
        Ok(r) => r,
        Err(issues) => return Err(ServiceError::Blocked(issues)),
    };
    let lines = line_rows(priced, &reserved);
    orders::replace_lines(tx, &before.id, &lines).await?;
    let allocations: Vec<(String, String, i64)> = reserved.into_iter().flat_map(|(_, a)| a).collect();
    orders::insert_allocations(tx, &before.id, &allocations).await?;
    let mut after = OrderRow {
        status: OrderStatus::Placed.as_str().into(),
        subtotal,
        line_count: lines.len() as i64,
        backordered: lines.iter().any(|l| l.backordered_qty > 0),
        reasons: String::new(),
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    if !orders::update_header(tx, before, &after).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    // The credit step, on the order's value now (it counted nothing while it waited).
    let (_, delta, exposure) = crate::store::credit::sync_order(tx, &after.id, now).await?;
    let mut diverted = diversions(account.status());
    diverted.extend(super::credit::decide(tx, account, delta, exposure, now).await?);
    if let Some(first) = diverted.first() {
        let held = OrderRow {
            status: first.status.as_str().into(),
            reasons: diverted.iter().map(|d| d.reason.clone()).collect::<Vec<_>>().join(" "),
            version: after.version + 1,
            ..after.clone()
        };
        if !orders::update_header(tx, &after, &held).await? {
            return Err(ServiceError::Conflict(format!(
                "Order {} was changed by someone else; reload it.",
                before.number
            )));
        }
        after = held;
    }
    if after.terms_days == 0 && after.status() == OrderStatus::Placed {
        let basis = crate::service::invoices::Basis::Ordered;
        crate::service::invoices::invoice_order(tx, actor, &after, None, basis, now).await?;
    }
    let changes = old_lines
        .iter()
        .zip(&lines)
        .filter(|(o, n)| o.unit_price != n.unit_price)
        .map(|(o, n)| format!("{} ${} → ${}", n.sku, o.unit(), n.unit()))
        .collect();
    Ok(PlacedNow { order: after, old_lines, lines, changes })
}

impl PlacedNow {
    /// Writes what placing it now did: the event (`note`, then any price changes and holds), the
    /// audit row with the lines before and after, and the outbox events `action.0` and
    /// `order.placed`. `action.1` names who decided in the payload.
    pub(super) async fn record(
        self,
        tx: &mut Tx,
        actor: &Actor<'_>,
        before: &OrderRow,
        action: (&str, &str),
        mut note: String,
        now: i64,
    ) -> ServiceResult<OrderRow> {
        if !self.changes.is_empty() {
            note.push_str(&format!(" Priced again: {}.", self.changes.join(", ")));
        }
        let after = self.order;
        if !after.reasons.is_empty() {
            note.push_str(&format!(" {}", after.reasons));
        }
        event(tx, &after, actor, &note, now).await?;
        let mut payload = event_payload(&after);
        payload[action.1] = json!(actor.principal.name);
        payload["price_changes"] = json!(self.changes);
        let before_json = json!({ "order": event_payload(before), "lines": self.old_lines });
        let after_json = json!({ "order": payload.clone(), "lines": self.lines });
        audit(tx, Some(actor), now, action.0, ("order", &after.id), Some(before_json), Some(after_json)).await?;
        crate::store::audit::enqueue(tx, action.0, &payload, now).await?;
        crate::store::audit::enqueue(tx, "order.placed", &event_payload(&after), now).await?;
        Ok(after)
    }
}

/// Locks an order that waits in `waiting` (for approval, or with the rep), checking the version
/// its editor saw: the decision is read and written on the locked row, so two people deciding at
/// once are counted once each and place it once.
pub(super) async fn locked_waiting(
    tx: &mut Tx,
    id: &str,
    expected_version: Option<i64>,
    waiting: OrderStatus,
) -> ServiceResult<OrderRow> {
    let Some(before) = orders::get_for_update(tx, id).await? else { return Err(ServiceError::NotFound) };
    if expected_version.is_some_and(|v| v != before.version) {
        return Err(ServiceError::Conflict(format!(
            "Order {} was changed by someone else since you opened it. Reload it and try again.",
            before.number
        )));
    }
    if before.status() != waiting {
        let what = if waiting == OrderStatus::Escalated { "the rep" } else { "approval" };
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; it is not waiting for {what}.",
            before.number,
            before.status().label().to_lowercase()
        )));
    }
    Ok(before)
}

/// Rejects an order waiting for the actor's approval: it is cancelled with the comment (required:
/// the buyer sees it); emits `order.approval_rejected`.
pub async fn reject_approval(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    crate::service::check_texts(&[], &[("comment", comment)])?;
    if comment.trim().is_empty() {
        return Err(ServiceError::invalid("comment", "Say why the order is rejected (the buyer sees it)."));
    }
    let order = approver_order(db, actor, id_or_number).await?;
    let unit = (now, actor.owned(), order.id, expected_version, comment.trim().to_string());
    db.write(unit, |tx, (now, actor, id, expected_version, comment)| {
        Box::pin(write_rejection(tx, *now, actor, id, *expected_version, comment))
    })
    .await
}

async fn write_rejection(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    id: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    let actor = actor.actor();
    let me = &actor.principal.user_id;
    let before = locked_waiting(tx, id, expected_version, OrderStatus::PendingApproval).await?;
    let (steps, decided, managers) = approval_state(tx, &before).await?;
    let open = match approvals::outcome(&steps, &decided, &managers) {
        Outcome::Waiting(w) => w,
        _ => Vec::new(),
    };
    if !open.iter().any(|(i, _)| approvals::may_decide_step(&steps[*i], me, &managers)) {
        return Err(ServiceError::Forbidden);
    }
    let decision = DecisionRow {
        user_id: me.clone(),
        user_name: actor.principal.name.clone(),
        approved: false,
        comment: comment.to_string(),
        decided_at: now,
    };
    store::insert_decision(tx, &before.id, &decision).await?;
    let after = OrderRow {
        status: OrderStatus::Cancelled.as_str().into(),
        reasons: format!("Rejected by {}: {comment}", actor.principal.name),
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    if !orders::update_header(tx, &before, &after).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    event(tx, &after, &actor, &after.reasons, now).await?;
    let mut payload = event_payload(&after);
    payload["reason"] = json!(comment);
    audit(
        tx,
        Some(&actor),
        now,
        "order.approval_rejected",
        ("order", &after.id),
        Some(event_payload(&before)),
        Some(payload.clone()),
    )
    .await?;
    crate::store::audit::enqueue(tx, "order.approval_rejected", &payload, now).await?;
    Ok(after)
}
