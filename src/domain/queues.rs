//! Work queues: why an order in progress needs someone (the desk's and the rep's queues), and the
//! thresholds that decide it. Pure: the store selects candidate orders with the same rules in SQL
//! (`store::queues`), and [`reasons_of`] names every reason a selected order is there for.

use super::orders::OrderStatus;

const DAY: i64 = 86_400;

/// An order waiting for the customer's approver longer than this needs a nudge from the desk.
pub const PENDING_APPROVAL_TOO_LONG: i64 = 2 * DAY;
/// An amendment this recent is shown on the desk (someone may need to tell the customer, the
/// warehouse or the rep).
pub const RECENTLY_AMENDED: i64 = 7 * DAY;

/// Why an order is in a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Routing sent it to the owning rep.
    Escalated,
    /// Waiting on the customer's approver.
    PendingApproval,
    /// Held for credit: finance releases or rejects it.
    OnHold,
    /// Some units wait for stock.
    Backordered,
    /// Changed after placement.
    Amended,
}

impl Reason {
    pub const ALL: [Reason; 5] =
        [Reason::Escalated, Reason::PendingApproval, Reason::OnHold, Reason::Backordered, Reason::Amended];

    /// What a rep's home lists: orders that wait on the rep or on the rep's customer.
    pub const REP: [Reason; 3] = [Reason::Escalated, Reason::PendingApproval, Reason::OnHold];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Escalated => "escalated",
            Reason::PendingApproval => "pending_approval",
            Reason::OnHold => "on_hold",
            Reason::Backordered => "backordered",
            Reason::Amended => "amended",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Reason::Escalated => "Escalated",
            Reason::PendingApproval => "Awaiting approval",
            Reason::OnHold => "Credit hold",
            Reason::Backordered => "Backordered",
            Reason::Amended => "Amended",
        }
    }
}

/// Statuses in which an order is still being worked (not draft, shipped, closed or cancelled).
pub fn in_progress(s: OrderStatus) -> bool {
    matches!(
        s,
        OrderStatus::PendingApproval
            | OrderStatus::Placed
            | OrderStatus::Escalated
            | OrderStatus::Confirmed
            | OrderStatus::PartiallyShipped
            | OrderStatus::OnHold
    )
}

/// What the queues know of an order.
#[derive(Clone, Copy, Debug)]
pub struct OrderFacts {
    pub status: OrderStatus,
    pub backordered: bool,
    pub placed_at: i64,
    /// When it was last amended, if ever.
    pub amended_at: Option<i64>,
}

/// How long a pending approval may wait before it is a reason (the desk waits two days; the rep
/// sees every order of their book that waits on the customer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    Desk,
    Rep,
}

impl Queue {
    pub fn reasons(self) -> &'static [Reason] {
        match self {
            Queue::Desk => &Reason::ALL,
            Queue::Rep => &Reason::REP,
        }
    }

    /// Orders pending approval placed before this time are in the queue.
    pub fn pending_before(self, now: i64) -> i64 {
        match self {
            Queue::Desk => now - PENDING_APPROVAL_TOO_LONG,
            Queue::Rep => i64::MAX,
        }
    }

    /// Amendments at or after this time count as recent.
    pub fn amended_since(self, now: i64) -> i64 {
        now - RECENTLY_AMENDED
    }
}

/// Every reason (of the queue's) the order needs someone, in [`Reason::ALL`] order; empty when it
/// needs nobody.
pub fn reasons_of(queue: Queue, o: &OrderFacts, now: i64) -> Vec<Reason> {
    if !in_progress(o.status) {
        return Vec::new();
    }
    queue
        .reasons()
        .iter()
        .copied()
        .filter(|r| match r {
            Reason::Escalated => o.status == OrderStatus::Escalated,
            Reason::PendingApproval => {
                o.status == OrderStatus::PendingApproval && o.placed_at < queue.pending_before(now)
            }
            Reason::OnHold => o.status == OrderStatus::OnHold,
            Reason::Backordered => o.backordered,
            Reason::Amended => o.amended_at.is_some_and(|at| at >= queue.amended_since(now)),
        })
        .collect()
}

/// An age as people read it on a phone: "just now", "5 h", "3 d".
pub fn age_label(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < DAY => format!("{} h", s / 3_600),
        s => format!("{} d", s / DAY),
    }
}

/// Whole days between two instants (never negative): "days since the last order".
pub fn days_between(from: i64, to: i64) -> i64 {
    ((to - from).max(0)) / DAY
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(status: OrderStatus, backordered: bool, placed_at: i64, amended_at: Option<i64>) -> OrderFacts {
        OrderFacts { status, backordered, placed_at, amended_at }
    }

    #[test]
    fn desk_reasons() {
        let now = 100 * DAY;
        let pending_fresh = facts(OrderStatus::PendingApproval, false, now - DAY, None);
        let pending_old = facts(OrderStatus::PendingApproval, false, now - 3 * DAY, None);
        assert!(reasons_of(Queue::Desk, &pending_fresh, now).is_empty());
        assert_eq!(reasons_of(Queue::Desk, &pending_old, now), vec![Reason::PendingApproval]);
        assert_eq!(reasons_of(Queue::Rep, &pending_fresh, now), vec![Reason::PendingApproval]);
        let held = facts(OrderStatus::OnHold, true, now - DAY, Some(now - 8 * DAY));
        assert_eq!(reasons_of(Queue::Desk, &held, now), vec![Reason::OnHold, Reason::Backordered]);
        assert_eq!(reasons_of(Queue::Rep, &held, now), vec![Reason::OnHold]);
        let amended = facts(OrderStatus::Confirmed, false, now - 30 * DAY, Some(now - 6 * DAY));
        assert_eq!(reasons_of(Queue::Desk, &amended, now), vec![Reason::Amended]);
        let shipped = facts(OrderStatus::Shipped, true, now - DAY, Some(now));
        assert!(reasons_of(Queue::Desk, &shipped, now).is_empty());
        assert_eq!(age_label(59), "0 min");
        assert_eq!(age_label(2 * 3_600), "2 h");
        assert_eq!(age_label(3 * DAY + 5), "3 d");
    }

    proptest! {
        /// The rep's reasons are the desk's minus backorders and amendments, plus fresh approvals;
        /// nothing finished is ever in a queue.
        #[test]
        fn rep_queue_relates_to_desk(s in 0usize..10, backordered: bool, age in 0i64..20 * DAY, amended in proptest::option::of(0i64..20 * DAY)) {
            let now = 100 * DAY;
            let o = facts(OrderStatus::ALL[s], backordered, now - age, amended.map(|a| now - a));
            let desk = reasons_of(Queue::Desk, &o, now);
            let rep = reasons_of(Queue::Rep, &o, now);
            if !in_progress(o.status) {
                prop_assert!(desk.is_empty() && rep.is_empty());
            }
            for r in &desk {
                if Reason::REP.contains(r) { prop_assert!(rep.contains(r)); }
            }
            for r in &rep {
                prop_assert!(Reason::REP.contains(r));
                prop_assert!(desk.contains(r) || *r == Reason::PendingApproval);
            }
        }
    }
}
