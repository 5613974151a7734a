//! Orders: the one placement pipeline every channel goes through (DESIGN.md §3), and amendments,
//! cancellation and confirmation of open orders.
//!
//! Pipeline: the one pure evaluation (`domain::pipeline`, loaded by `service::evaluation`: catalog
//! visibility → quantity rules → pricing (always server-side) → [licences: later] → stock /
//! backorder outlook) → buyer approval (an order that trips the account's rules waits, unreserved,
//! in `pending_approval`) → routing (a customer's order the owning rep must see waits, unreserved,
//! in `escalated`) → reservation → credit exposure (hold) → write. The evaluation runs before the write transaction so it stays short; reservation
//! runs inside it, on locked rows, so stock is never oversold — a line whose stock ran out
//! meanwhile is refused there with the evaluation's own `out_of_stock` reason.
//!
//! One idea a file: `place.rs` (placement, under an Idempotency-Key or form token), `amend.rs`
//! (amendments), `approve.rs` (the buyer's approval of an order that waits for it),
//! `escalation.rs` (the rep completes or sends back an order routing sent them), `status.rs` (cancel, confirm), `shipments.rs` (shipments, backorders filled as stock arrives), `history.rs` (what an actor may see: an
//! order, its page, lists, the ERP's pull), and what they share: `header.rs` (delivery details
//! and their checks), `reserve.rs` (stock reservation on locked rows and the line rows it
//! yields), `events.rs` (the event, audit and outbox payload of every change).

mod amend;
mod approve;
mod credit;
mod escalation;
mod events;
mod header;
mod history;
mod place;
mod reserve;
mod shipments;
mod status;

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::Permission;
use crate::domain::orders::LineIssue;

pub use crate::service::evaluation::{Evaluation, LineInput, PricedLine, ProductRef, evaluate};
pub use crate::store::inventory::WarehouseRow;
pub use crate::store::orders::{
    ListedOrder, OrderCursor, OrderFilter, OrderLineRow, OrderRow, OrderSort, SortBy, SortValue,
};
pub use amend::{Amendment, amend_order};
pub use approve::{
    ApprovalView, Awaiting, Preview, PreviewLine, StepView, approval_view, approve_order, awaiting_my_approval,
    reject_approval,
};
pub use escalation::{complete_order, send_back_order};
pub use header::OrderHeader;
pub use history::{
    OrderView, get_order, list_orders, list_orders_sorted, list_orders_with_lines, order_view, order_with_lines,
    orders_changed_since, placers,
};
pub use place::{IdemKey, PlaceOrder, Placement, place_order, wait_for_placement};
pub(crate) use place::{ordering_scope, place_quoted};
pub(crate) use shipments::fill_backorders;
pub use shipments::{Shipment, ShipmentInput, order_shipments, record_shipment, warehouses};
pub use status::{cancel_order, confirm_order, reject_order, release_order, ship_order};

/// The most lines one order may have.
pub const MAX_LINES: usize = 1_000;

/// The order-wide refusal when a total would overflow (absurd, but refused rather than wrapped).
fn too_large() -> ServiceError {
    ServiceError::Blocked(vec![LineIssue::new(0, "", "too_large", "The order total is too large.")])
}

/// Amendments and status changes are for staff who manage orders (customer service, admins).
fn may_manage(actor: &Actor<'_>) -> ServiceResult<()> {
    if actor.principal.can(Permission::ManageOrders) { Ok(()) } else { Err(ServiceError::Forbidden) }
}
