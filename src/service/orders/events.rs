//! What every change of an order records: its event row (the history on the order page) and the
//! payload its audit row and outbox event carry.

use super::OrderRow;
use crate::domain::money::Money;
use crate::service::{Actor, ServiceResult};
use crate::store::Tx;
use crate::store::orders::{self, NewEvent};
use serde_json::json;

pub(super) async fn event(tx: &mut Tx, order: &OrderRow, actor: &Actor<'_>, note: &str, now: i64) -> ServiceResult<()> {
    orders::add_event(
        tx,
        &order.id,
        &NewEvent {
            status: &order.status,
            actor_user_id: Some(&actor.principal.user_id),
            actor_name: &actor.principal.name,
            channel: actor.channel.as_str(),
            note,
        },
        now,
    )
    .await?;
    Ok(())
}

pub(super) fn event_payload(o: &OrderRow) -> serde_json::Value {
    json!({
        "id": o.id, "number": o.number, "account_id": o.account_id, "status": o.status, "channel": o.channel,
        "placed_by": o.placed_by_user_id, "on_behalf_of": o.on_behalf_of_account_id, "po_number": o.po_number,
        "subtotal": Money::from_raw(o.subtotal).to_plain(), "lines": o.line_count, "revision": o.revision,
        "version": o.version,
    })
}
