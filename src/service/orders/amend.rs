//! Amendments: a whole new set of lines and header for an open order, re-priced and re-reserved
//! through the same pipeline, written as an audited revision with its diff. A request with the rep
//! (`escalated`) is adjusted the same way but reserves nothing until the rep completes it; an
//! order waiting for the customer's approval cannot change behind its approvers' backs.

use super::events::{event, event_payload};
use super::header::check_header;
use super::reserve::{line_rows, reserve_lines};
use super::{LineInput, MAX_LINES, OrderHeader, OrderRow, PricedLine, get_order, may_manage, too_large};
use crate::domain::money::Money;
use crate::domain::orders::{LineIssue, OrderDiff, diff_lines};
use crate::service::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::store::orders;
use crate::store::{Db, Tx, accounts};
use serde_json::json;
use std::collections::HashMap;

/// What an amendment asks for: the complete new set of lines and header, checked against the
/// version the editor saw.
pub struct Amendment {
    pub expected_version: i64,
    pub lines: Vec<LineInput>,
    pub header: OrderHeader,
    pub reason: String,
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
    let p = actor.principal;
    if current.status() == crate::domain::orders::OrderStatus::Escalated
        && !p.can(crate::domain::auth::Permission::ManageOrders)
    {
        // The rep adjusts a request of their book before completing it.
        if p.buyer_account().is_some() {
            return Err(ServiceError::Forbidden);
        }
        super::ordering_scope(db, actor, &current.account_id).await?;
    } else {
        may_manage(actor)?;
    }
    if current.status() == crate::domain::orders::OrderStatus::PendingApproval {
        // Its approvers decide on the lines they were shown; a change would go behind their back.
        return Err(ServiceError::Conflict(format!(
            "Order {} is waiting for the customer's approval; it can be amended once approved, or cancelled.",
            current.number
        )));
    }
    super::header::check_text(&a.header, &a.lines)?;
    crate::service::check_texts(&[], &[("reason", &a.reason)])?;
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
    // An order accepted from a quote keeps the quoted prices (of the products the quote priced).
    let quoted = crate::service::quotes::prices_for_order(db, &current.id).await?;
    let eval =
        crate::service::evaluation::evaluate_quoted(db, now, &account.id, Some(&ship_to_id), &a.lines, &held, &quoted)
            .await?;
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
        credit_limit: account.credit_limit(),
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
    credit_limit: Money,
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
    let status = before.status();
    if !status.is_open() {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {} and can no longer change.",
            before.number,
            status.label().to_lowercase()
        )));
    }
    let old_lines = orders::lines_tx(tx, &before.id).await?;
    if old_lines.iter().any(|l| l.shipped_qty > 0 || l.invoiced_qty > 0) {
        // Lines are rewritten whole; what has shipped is settled and stays as it is.
        return Err(ServiceError::Conflict(format!(
            "Order {} has shipped or been invoiced in part; its lines can no longer change. Cancel what has not shipped, or place a new order.",
            before.number
        )));
    }
    let (lines, reserved) = if status == crate::domain::orders::OrderStatus::Escalated {
        // The rep adjusts a request before completing it: it still holds nothing (completing it
        // reserves), and counts nothing against credit, so only its lines change.
        let mut lines = line_rows(&u.lines, &Vec::new());
        lines.iter_mut().for_each(|l| l.backordered_qty = 0);
        (lines, Vec::new())
    } else {
        let touched: Vec<String> = old_lines
            .iter()
            .map(|l| l.product_id.clone())
            .chain(u.lines.iter().map(|l| l.product.id.clone()))
            .collect();
        orders::lock_stock(tx, &touched).await?;
        orders::release_allocations(tx, &before.id, now).await?;
        let reserved = match reserve_lines(tx, &u.lines, now).await? {
            Ok(r) => r,
            Err(issues) => return Err(ServiceError::Blocked(issues)),
        };
        (line_rows(&u.lines, &reserved), reserved)
    };
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
    if !orders::update_header(tx, &before, &after).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    orders::replace_lines(tx, &after.id, &lines).await?;
    // The credit step: an amendment that takes the account past its limit is refused (the order
    // as it was stays, held by nobody's decision); one that lowers the value always passes.
    let (_, delta, exposure) = crate::store::credit::sync_order(tx, &after.id, now).await?;
    let before_exposure = exposure.plus(crate::domain::credit::Exposure { uninvoiced: -delta, ..Default::default() });
    if let Some(reason) = crate::domain::credit::check(u.credit_limit, before_exposure, delta).reason() {
        return Err(ServiceError::Blocked(vec![LineIssue::new(0, "", "credit_limit", reason)]));
    }
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
