//! Checkout, order history and detail, two-click reorder, and the staff side: acting for a customer,
//! the order desk, amendments, confirmation and cancellation. Every placement goes through
//! `service::orders::place_order`, whatever page it starts from.
//!
//! One page or action a file: `checkout.rs`, `history.rs` (the order lists), `order_page.rs` (one
//! order), `downloads.rs` (CSV), `reorder.rs` (two-click reorder), `acting.rs` (acting for a
//! customer), `manage.rs` (amend, cancel, confirm); `place_once.rs` places under a form's one-time
//! token for the pages that place.

mod acting;
mod checkout;
mod downloads;
mod history;
mod manage;
mod order_page;
mod place_once;
mod reorder;

use crate::web::AppState;
use axum::Router;

pub use history::OrderItem;
pub(crate) use place_once::place_once;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(checkout::router())
        .merge(history::router())
        .merge(order_page::router())
        .merge(downloads::router())
        .merge(reorder::router())
        .merge(acting::router())
        .merge(manage::router())
}

/// Which side an order page is on: the buyer's portal or the seller's staff pages (the same pages,
/// with other links and checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Portal,
    Staff,
}

impl Side {
    /// Where the side's order pages live.
    fn base(self) -> &'static str {
        match self {
            Side::Portal => "/portal/orders",
            Side::Staff => "/orders",
        }
    }
}
