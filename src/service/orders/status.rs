//! Status changes of an order: cancel (releasing its stock) and confirm, each checked against the
//! status machine on the locked order. Shipping is recorded by shipments (`shipments.rs`).

use super::events::{event, event_payload};
use super::{OrderRow, get_order, may_manage};
use crate::domain::auth::Permission;
use crate::domain::orders::OrderStatus;
use crate::service::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::store::orders;
use crate::store::{Db, Tx};
use serde_json::json;

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

/// Releases an order held for credit (finance only): it continues as placed; emits
/// `order.released` with the comment.
pub async fn release_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    credit_decision(db, now, actor, id_or_number, expected_version, OrderStatus::Placed, comment).await
}

/// Rejects an order held for credit (finance only): it is cancelled, its stock released, and the
/// comment (required: the customer sees it) recorded; emits `order.rejected`.
pub async fn reject_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    if comment.trim().is_empty() {
        return Err(ServiceError::invalid("comment", "Say why the order is rejected (the customer sees it)."));
    }
    credit_decision(db, now, actor, id_or_number, expected_version, OrderStatus::Cancelled, comment).await
}

/// Finance's decision on a held order: buyers get 404, staff without credit rights 403.
async fn credit_decision(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    to: OrderStatus,
    comment: &str,
) -> ServiceResult<OrderRow> {
    actor.require(Permission::ManageCredit)?;
    crate::service::check_texts(&[], &[("comment", comment)])?;
    let current = get_order(db, actor, id_or_number).await?;
    if current.status() != OrderStatus::OnHold {
        return Err(ServiceError::Conflict(format!("Order {} is not on hold.", current.number)));
    }
    let unit = (now, actor.owned(), current.id.clone(), expected_version, to, comment.trim().to_string());
    db.write(unit, |tx, (now, actor, id, expected_version, to, comment)| {
        Box::pin(write_status(tx, *now, actor, id, *expected_version, *to, comment))
    })
    .await
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
    if current.status() == OrderStatus::OnHold && to != OrderStatus::Cancelled {
        // A credit hold is finance's to lift (release_order), not customer service's.
        return Err(ServiceError::Forbidden);
    }
    crate::service::check_texts(&[], &[("reason", reason)])?;
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
    let owned = actor;
    let actor = &actor.actor();
    let Some(before) = orders::get_for_update(tx, id).await? else { return Err(ServiceError::NotFound) };
    if expected_version.is_some_and(|v| v != before.version) {
        return Err(ServiceError::Conflict(format!(
            "Order {} was changed by someone else since you opened it. Reload it and try again.",
            before.number
        )));
    }
    let from = before.status();
    if !from.can_become(to) {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; it cannot become {}.",
            before.number,
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    if to == OrderStatus::Cancelled {
        orders::release_allocations(tx, &before.id, now).await?;
        // Billed ahead of shipping (prepay) and now never shipping: credited.
        crate::service::credit_notes::credit_cancelled_order(tx, now, owned, &before.id, reason.trim()).await?;
    }
    let after = OrderRow { status: to.as_str().into(), version: before.version + 1, updated_at: now, ..before.clone() };
    if !orders::update_header(tx, &before, &after).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    event(tx, &after, actor, reason.trim(), now).await?;
    // A cancelled or closed order no longer counts towards its account's exposure.
    crate::store::credit::sync_order(tx, &after.id, now).await?;
    if before.status() == OrderStatus::OnHold && to == OrderStatus::Placed && after.terms_days == 0 {
        // A prepay order is billed when it is placed for good: here, on release from a hold.
        let basis = crate::service::invoices::Basis::Ordered;
        crate::service::invoices::invoice_order(tx, actor, &after, None, basis, now).await?;
    }
    let action = match (before.status(), to) {
        (OrderStatus::OnHold, OrderStatus::Placed) => "order.released".to_string(),
        (OrderStatus::OnHold, OrderStatus::Cancelled) => "order.rejected".to_string(),
        _ => format!("order.{}", to.as_str()),
    };
    let mut payload = event_payload(&after);
    if !reason.trim().is_empty() {
        payload["reason"] = json!(reason.trim());
    }
    audit(tx, Some(actor), now, &action, ("order", &after.id), Some(event_payload(&before)), Some(payload.clone()))
        .await?;
    crate::store::audit::enqueue(tx, &action, &payload, now).await?;
    Ok(after)
}

/// Ships everything an order holds, one shipment per warehouse (the demo's history uses it), by
/// `carrier` with tracking numbers `tracking`, `tracking`2, …: a placed order is confirmed
/// first; backordered units stay to ship later; an order held for credit ships nothing.
pub async fn ship_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    carrier: &str,
    tracking: &str,
) -> ServiceResult<OrderRow> {
    let o = get_order(db, actor, id_or_number).await?;
    if o.status() == OrderStatus::OnHold {
        // Held for credit: nothing ships until finance releases it.
        return Ok(o);
    }
    if o.status() == OrderStatus::Placed {
        change_status(db, now, actor, id_or_number, None, OrderStatus::Confirmed, "").await?;
    }
    for (i, (warehouse, lines)) in orders::holdings(db, &o.id).await?.into_iter().enumerate() {
        let tracking_number = if i == 0 { tracking.to_string() } else { format!("{tracking}{}", i + 1) };
        let input = super::ShipmentInput {
            warehouse,
            lines,
            carrier: carrier.into(),
            tracking_number,
            shipped_on: None,
            external_id: None,
        };
        super::record_shipment(db, now, actor, &o.id, &input).await?;
    }
    get_order(db, actor, &o.id).await
}
