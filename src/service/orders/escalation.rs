//! The rep's side of routing (issue 14 §3): an order a customer sent that went to the rep
//! (`escalated`: every request of a rep-led account, and what a hybrid account's routing rules
//! caught) is *completed* — priced again and placed through stock and credit now, exactly as a
//! placement — or *sent back* to the customer with a comment (cancelled; the customer reads why).
//! To change its lines, the rep completes it and amends it, or sends it back.
//!
//! Who: seller staff who may order for the account (its rep for their book, the desk for every
//! account) and integrations with `orders:write`; never the customer.

use super::approve::{Waited, locked_waiting, place_now};
use super::events::{event, event_payload};
use super::{OrderRow, get_order};
use crate::domain::orders::OrderStatus;
use crate::service::{Actor, ServiceError, ServiceResult, audit};
use crate::store::accounts::AccountRow;
use crate::store::{Db, Tx, orders};
use serde_json::json;

async fn escalated_order(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<(OrderRow, AccountRow)> {
    let order = get_order(db, actor, id_or_number).await?;
    if actor.principal.buyer_account().is_some() {
        return Err(ServiceError::Forbidden);
    }
    let (account, _) = super::ordering_scope(db, actor, &order.account_id).await?;
    if order.status() != OrderStatus::Escalated {
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; it is not waiting for the rep.",
            order.number,
            order.status().label().to_lowercase()
        )));
    }
    Ok((order, account))
}

/// Completes an order that went to the rep: placed now at today's prices through stock and credit
/// (it may be held for credit); emits `order.completed` and `order.placed`.
pub async fn complete_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    crate::service::check_texts(&[], &[("comment", comment)])?;
    let (order, account) = escalated_order(db, actor, id_or_number).await?;
    let unit = Waited::priced_again(db, now, actor, &order, account, expected_version, comment).await?;
    db.write(unit, |tx, u| Box::pin(write_completion(tx, u))).await
}

async fn write_completion(tx: &mut Tx, u: &Waited) -> ServiceResult<OrderRow> {
    let (now, actor) = (u.now, u.actor.actor());
    let before = locked_waiting(tx, &u.order_id, u.expected_version, OrderStatus::Escalated).await?;
    let placed = place_now(tx, &actor, &before, &u.issues, &u.lines, u.subtotal, &u.account, now).await?;
    let said = if u.comment.is_empty() { String::new() } else { format!(": {}", u.comment) };
    let note = format!("Completed by {}{said}.", actor.principal.name);
    placed.record(tx, &actor, &before, ("order.completed", "completed_by"), note, now).await
}

/// Sends an order that went to the rep back to the customer: cancelled with the comment
/// (required: the customer reads it); emits `order.sent_back`.
pub async fn send_back_order(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    comment: &str,
) -> ServiceResult<OrderRow> {
    crate::service::check_texts(&[], &[("comment", comment)])?;
    if comment.trim().is_empty() {
        return Err(ServiceError::invalid("comment", "Say why it goes back (the customer reads it)."));
    }
    let (order, _) = escalated_order(db, actor, id_or_number).await?;
    let unit = (now, actor.owned(), order.id, expected_version, comment.trim().to_string());
    db.write(unit, |tx, (now, actor, id, expected_version, comment)| {
        Box::pin(async move {
            let actor = actor.actor();
            let before = locked_waiting(tx, id, *expected_version, OrderStatus::Escalated).await?;
            let after = OrderRow {
                status: OrderStatus::Cancelled.as_str().into(),
                reasons: format!("Sent back by {}: {comment}", actor.principal.name),
                version: before.version + 1,
                updated_at: *now,
                ..before.clone()
            };
            if !orders::update_header(tx, &before, &after).await? {
                return Err(ServiceError::Conflict(format!(
                    "Order {} was changed by someone else; reload it.",
                    before.number
                )));
            }
            event(tx, &after, &actor, &after.reasons, *now).await?;
            let mut payload = event_payload(&after);
            payload["reason"] = json!(comment);
            audit(
                tx,
                Some(&actor),
                *now,
                "order.sent_back",
                ("order", &after.id),
                Some(event_payload(&before)),
                Some(payload.clone()),
            )
            .await?;
            crate::store::audit::enqueue(tx, "order.sent_back", &payload, *now).await?;
            Ok(after)
        })
    })
    .await
}
