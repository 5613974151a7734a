//! Placement: who may order for an account (and through which channel), the pipeline from
//! request to written order, and the Idempotency-Key (or form token) that makes a repeat return
//! the first answer — released at once when the request is cut off.

use super::events::{event, event_payload};
use super::header::check_header;
use super::reserve::{line_rows, reserve_lines};
use super::{LineInput, MAX_LINES, OrderHeader, OrderLineRow, OrderRow, PricedLine, get_order, too_large};
use crate::domain::account::AccountStatus;
use crate::domain::auth::{ActorChannel, Permission};
use crate::domain::orders::{Channel, Diversion, LineIssue, OrderStatus, diversions};
use crate::service::idempotency::{self, Keyed, UnitClaim};
use crate::service::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::store::accounts::{self, AccountRow};
use crate::store::{Db, Tx, carts, new_id, orders};

pub struct PlaceOrder {
    pub account_id: String,
    pub lines: Vec<LineInput>,
    pub header: OrderHeader,
    /// Empty the placer's cart for this account when the order is placed (checkout from the cart).
    pub clear_cart: bool,
}

pub use crate::service::idempotency::IdemKey;

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
    let channel = if actor.channel == ActorChannel::Api {
        Channel::Api
    } else if p.can(Permission::ViewOwnBook) && account.owner_rep_id.as_deref() == Some(p.user_id.as_str()) {
        Channel::Rep
    } else {
        Channel::Phone
    };
    Ok((account, channel))
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
    place(db, now, actor, req, idem, respond, None).await
}

/// Places the order a buyer accepts from a quote (`service::quotes::accept_quote`): the quoted
/// prices are the most specific price source; the quote becomes accepted in the order's unit. The
/// rep already owned the quote, so routing does not send the order back to them; the buyer's own
/// approval rules, licences, stock and credit apply as to any order. The recorded response of a
/// keyed request is the order's id.
pub(crate) async fn place_quoted(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &PlaceOrder,
    idem: Option<&IdemKey>,
    quote: crate::service::quotes::QuoteUse,
) -> ServiceResult<Placement> {
    place(db, now, actor, req, idem, |o: &OrderRow, _: &[OrderLineRow]| (201, o.id.clone()), Some(quote)).await
}

async fn place<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &PlaceOrder,
    idem: Option<&IdemKey>,
    respond: F,
    quote: Option<crate::service::quotes::QuoteUse>,
) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    let ran =
        idempotency::run_once(db, now, idem, |claim| place_claimed(db, now, actor, req, claim, respond, quote)).await?;
    Ok(match ran {
        Keyed::Ran(placement) => placement,
        Keyed::Replayed { status, body, subject_id } => Placement::Replayed { order_id: subject_id, status, body },
    })
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
    /// The request's Idempotency-Key, claimed.
    idem: Option<UnitClaim>,
    /// The account's approval rules and who places the order (the approval step).
    approval: crate::service::approvals::ApprovalInput,
    /// Why the order goes to the owning rep instead (the routing step; empty: it does not).
    routed: Vec<String>,
    /// The quote the order is accepted from, if it is.
    quote: Option<crate::service::quotes::QuoteUse>,
    respond: F,
}

async fn place_claimed<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &PlaceOrder,
    idem: Option<UnitClaim>,
    respond: F,
    quote: Option<crate::service::quotes::QuoteUse>,
) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    super::header::check_text(&req.header, &req.lines)?;
    let (account, channel) = ordering_scope(db, actor, &req.account_id).await?;
    if account.status() == AccountStatus::Onboarding {
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
    let no_quote = std::collections::HashMap::new();
    let quoted = quote.as_ref().map(|q| &q.prices).unwrap_or(&no_quote);
    let eval = crate::service::evaluation::evaluate_quoted(
        db,
        now,
        &account.id,
        Some(&ship_to_id),
        &req.lines,
        &std::collections::HashMap::new(),
        quoted,
    )
    .await?;
    if !eval.issues.is_empty() {
        return Err(ServiceError::Blocked(eval.issues));
    }
    let subtotal = eval.subtotal().ok_or_else(too_large)?;
    let approval = crate::service::approvals::input(db, actor, &account.id, &eval.lines).await?;
    let routed = if quote.is_some() {
        Vec::new()
    } else {
        crate::service::routing::reasons(db, &account, channel, &eval.lines, subtotal, &req.header.notes).await?
    };
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
        approval,
        routed,
        quote,
        respond,
    };
    db.write(unit, |tx, u| Box::pin(write_new_order(tx, u))).await
}

/// The placement's unit of work: decides whether the order waits for the buyer's approval; if
/// not, reserves stock on locked rows and takes the credit step; writes the order, its lines,
/// allocations (or the approvals it needs), event, audit row and outbox event, and completes the
/// Idempotency-Key.
async fn write_new_order<F>(tx: &mut Tx, u: &NewOrder<F>) -> ServiceResult<Placement>
where
    F: Fn(&OrderRow, &[OrderLineRow]) -> (i64, String) + Send + Sync + 'static,
{
    let (now, actor) = (u.now, u.actor.actor());
    let total = crate::domain::money::Money::from_raw(u.subtotal);
    let (steps, placer_approved) =
        crate::service::approvals::steps_in_unit(tx, &u.account.id, &u.approval, total, now).await?;
    let (lines, reserved, value, diverted, exposure_left) = if steps.is_empty() && u.routed.is_empty() {
        let reserved = match reserve_lines(tx, &u.lines, now).await? {
            Ok(r) => r,
            Err(issues) => return Err(ServiceError::Blocked(issues)),
        };
        let lines = line_rows(&u.lines, &reserved);
        let value = super::credit::value_of(&lines);
        let mut diverted = diversions(u.account.status());
        let (held, left) = super::credit::credit_step(tx, &u.account, value, now).await?;
        diverted.extend(held);
        (lines, reserved, value, diverted, left)
    } else {
        // Waiting for approval, or for the rep: nothing is reserved or counted against credit
        // yet; approval (`approve.rs`) or the rep (`escalation.rs`) takes the order through stock
        // and credit at that moment. Approval comes first; routing is looked at again then.
        let mut lines = line_rows(&u.lines, &Vec::new());
        lines.iter_mut().for_each(|l| l.backordered_qty = 0);
        let diversion = if steps.is_empty() {
            Diversion { status: OrderStatus::Escalated, reason: u.routed.join(" ") }
        } else {
            let reason = steps.iter().map(|s| s.reason.as_str()).collect::<Vec<_>>().join(" ");
            Diversion { status: OrderStatus::PendingApproval, reason }
        };
        (lines, Vec::new(), 0, vec![diversion], 0)
    };
    let status = diverted.first().map(|d| d.status).unwrap_or(OrderStatus::Placed);
    let number = format!("SO-{}", tx.next_order_number().await?);
    // Placed during a hand-over of the account: its previous owner shares the commission (from
    // the account row already read, so placement reads nothing more).
    let handover = crate::domain::commissions::order_handover(
        u.account.handover().as_ref(),
        u.account.owner_rep_id.as_deref(),
        now,
    );
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
        owner_rep_id: u.account.owner_rep_id.clone(),
        handover_rep_id: handover.as_ref().map(|h| h.0.clone()),
        handover_share_ppm: handover.as_ref().map(|h| h.1).unwrap_or(0),
    };
    orders::insert(tx, &order, value).await?;
    orders::insert_lines(tx, &order.id, &lines).await?;
    let allocations: Vec<(String, String, i64)> = reserved.into_iter().flat_map(|(_, a)| a).collect();
    orders::insert_allocations(tx, &order.id, &allocations).await?;
    let order_actor =
        Actor { channel: u.channel.into(), on_behalf_of: order.on_behalf_of_account_id.as_deref(), ..actor };
    event(tx, &order, &order_actor, &order.reasons, now).await?;
    let mut summary = event_payload(&order);
    let action = if status == OrderStatus::Escalated {
        summary["routing"] = serde_json::json!(u.routed);
        "order.escalated"
    } else if steps.is_empty() {
        "order.placed"
    } else {
        crate::service::approvals::record_submission(tx, &order, &actor, &steps, placer_approved, now).await?;
        summary["approvals"] = serde_json::to_value(&steps).unwrap_or_default();
        "order.approval_requested"
    };
    audit(tx, Some(&order_actor), now, action, ("order", &order.id), None, Some(summary.clone())).await?;
    crate::store::audit::enqueue(tx, action, &summary, now).await?;
    if let Some(q) = &u.quote {
        crate::service::quotes::record_acceptance(tx, &order_actor, q, &order.id, now).await?;
    }
    if u.clear_cart {
        carts::clear_cart(tx, &actor.principal.user_id, &u.account.id).await?;
    }
    // Late, the account's rows (its rollup, its exposure): their locks are held to commit, and
    // the account's concurrent placements wait for them (see `credit_step`). A prepaid order's
    // invoice below moves them again.
    orders::count_new(tx, &order).await?;
    super::credit::settle(tx, &u.account.id, exposure_left, now).await?;
    if u.account.terms_days == 0 && status == OrderStatus::Placed {
        // Prepay: billed whole at placement, in the same unit (shipments then bill nothing); an
        // order held for credit is billed when finance releases it.
        let basis = crate::service::invoices::Basis::Ordered;
        crate::service::invoices::invoice_order(tx, &order_actor, &order, None, basis, now).await?;
    }
    let response = (u.respond)(&order, &lines);
    // A claim released meanwhile (the client hung up, a retry may be running) fails the unit: its
    // work is taken back and the retry places the order.
    idempotency::complete_if(tx, u.idem.as_ref(), (response.0, &response.1), Some(&order.id)).await?;
    Ok(Placement::Placed { order, response })
}

/// The order a form placed under `key` while another request (the first of a double click) still
/// holds it: waits up to ten seconds for that request to finish. `InFlight` if it has not, or if
/// it gave up without placing (its key was released).
pub async fn wait_for_placement(db: &Db, actor: &Actor<'_>, key: &IdemKey) -> ServiceResult<OrderRow> {
    let (_, _, order_id) = idempotency::wait_for(db, key).await?;
    get_order(db, actor, &order_id.ok_or(ServiceError::NotFound)?).await
}
