//! Work queues: the customer-service desk (every order in progress that needs someone, with why)
//! and the rep's home (their book's accounts with their last order, and the orders of the book
//! that wait on the rep or the customer). Reads only; acting on an order goes through the order's
//! own actions.

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::{AccountScope, Permission};
use crate::domain::orders::OrderStatus;
use crate::domain::queues::{OrderFacts, Queue, Reason, reasons_of};
use crate::store::queues::{self, QueueRow, QueueSelection};
use crate::store::{Db, accounts::AccountListRow};

/// An order in a queue with every reason it is there for (of the queue's reasons).
pub struct QueueItem {
    pub row: QueueRow,
    pub reasons: Vec<Reason>,
}

/// A page of a queue, with how many orders wait for each reason and the cursor of the next page.
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub counts: Vec<(Reason, i64)>,
    /// How many orders the whole queue holds (each once, whatever its reasons).
    pub total: i64,
    /// (placed_at, id) of the last item when another page follows.
    pub next: Option<(i64, String)>,
}

/// The desk's queue: orders of every account the actor sees that need someone, oldest first,
/// narrowed to one reason if asked. Staff with the desk area only (403 otherwise).
pub async fn desk_queue(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reason: Option<Reason>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<QueuePage> {
    let p = actor.principal;
    // An area, not an object: anyone without it is refused (403), as the page always was.
    if !p.is_staff() || !p.can(Permission::DeskArea) {
        return Err(ServiceError::Forbidden);
    }
    let owner = match p.account_scope() {
        AccountScope::All => None,
        AccountScope::Book(rep) => Some(rep),
        _ => return Err(ServiceError::Forbidden),
    };
    page(db, now, Queue::Desk, owner, reason, after, limit).await
}

/// The rep's queue: orders of the rep's own book that are escalated to them, wait for the
/// customer's approval, or are held for credit, oldest first. A rep never sees another rep's.
pub async fn rep_queue(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reason: Option<Reason>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<QueuePage> {
    let p = actor.principal;
    if !p.is_staff() || !p.can(Permission::ViewOwnBook) {
        return Err(ServiceError::Forbidden);
    }
    page(db, now, Queue::Rep, Some(p.user_id.as_str()), reason, after, limit).await
}

async fn page(
    db: &Db,
    now: i64,
    queue: Queue,
    owner_rep_id: Option<&str>,
    reason: Option<Reason>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<QueuePage> {
    if let Some((_, id)) = after {
        super::check_texts(&[("after_id", id)], &[])?;
    }
    let all = queue.reasons();
    if reason.is_some_and(|r| !all.contains(&r)) {
        return Err(ServiceError::invalid("reason", "That reason is not one of this queue's."));
    }
    let one = reason.map(|r| [r]);
    let reasons: &[Reason] = match &one {
        Some(r) => r,
        None => all,
    };
    let limit = limit.clamp(1, 200);
    let sel = QueueSelection {
        owner_rep_id,
        reasons,
        pending_before: queue.pending_before(now),
        amended_since: queue.amended_since(now),
    };
    let mut rows = queues::page(db, &sel, after, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| (r.placed_at, r.id.clone()))
    } else {
        None
    };
    let (total, counts) = queues::counts(db, &QueueSelection { reasons: all, ..sel }).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let facts = OrderFacts {
                status: OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Closed),
                backordered: row.backordered,
                placed_at: row.placed_at,
                amended_at: row.amended_at,
            };
            QueueItem { reasons: reasons_of(queue, &facts, now), row }
        })
        .collect();
    Ok(QueuePage { items, counts, total, next })
}

/// An account of the rep's book with its last order (number, placed_at), if any.
pub struct BookAccount {
    pub account: AccountListRow,
    pub last_order: Option<(String, i64)>,
}

/// A page of the rep's book (by name, after the keyset (name, id)), each account with its last
/// order: what the rep's home lists so a reorder is one tap away.
pub async fn rep_book(
    db: &Db,
    actor: &Actor<'_>,
    term: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<Vec<BookAccount>> {
    if !actor.principal.is_staff() || !actor.principal.can(Permission::ViewOwnBook) {
        return Err(ServiceError::Forbidden);
    }
    let rows = super::accounts::search_accounts(db, actor, true, term, after, limit).await?;
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();
    let mut last = queues::last_orders(db, &ids).await?;
    Ok(rows.into_iter().map(|a| BookAccount { last_order: last.remove(&a.id), account: a }).collect())
}
