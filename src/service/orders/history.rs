//! What an actor may see of orders: one order (with its page), the history with its filters and
//! download, and the changes an ERP pulls. A buyer sees their own account only; staff their scope.

use super::{OrderFilter, OrderLineRow, OrderRow};
use crate::domain::auth::Permission;
use crate::service::catalog::catalog_scope;
use crate::service::{Actor, ServiceError, ServiceResult};
use crate::store::{Db, accounts, orders};

/// An order with everything its page shows.
pub struct OrderView {
    pub order: OrderRow,
    pub lines: Vec<OrderLineRow>,
    pub events: Vec<orders::OrderEventRow>,
    pub revisions: Vec<orders::RevisionRow>,
    pub account_name: String,
    pub shipments: Vec<super::Shipment>,
    /// When stock is next expected, per product id of a backordered line (as shown to people).
    pub backorder_etas: std::collections::HashMap<String, String>,
}

impl OrderView {
    /// The expected arrival of a backordered line's product, if known.
    pub fn eta(&self, product_id: &str) -> Option<&str> {
        self.backorder_etas.get(product_id).map(String::as_str)
    }
}

/// An order the actor may see (a buyer only their account's; staff their scope); else 404.
pub async fn get_order(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderRow> {
    crate::service::names_nothing(id_or_number)?;
    let order = orders::get(db, id_or_number).await?.ok_or(ServiceError::NotFound)?;
    catalog_scope(db, actor, &order.account_id).await.map_err(|e| match e {
        ServiceError::Forbidden => ServiceError::NotFound,
        e => e,
    })?;
    Ok(order)
}

pub async fn order_view(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<OrderView> {
    let order = get_order(db, actor, id_or_number).await?;
    let lines = orders::lines(db, &order.id).await?;
    let events = orders::events(db, &order.id).await?;
    let revisions = orders::revisions(db, &order.id).await?;
    let account_name = accounts::get(db, &order.account_id).await?.map(|a| a.name).unwrap_or_default();
    let shipments = super::shipments::shipments_of(db, &order).await?;
    let waiting: Vec<String> = lines.iter().filter(|l| l.backordered_qty > 0).map(|l| l.product_id.clone()).collect();
    let backorder_etas = if waiting.is_empty() {
        Default::default()
    } else {
        crate::store::inventory::totals(db, &waiting)
            .await?
            .into_iter()
            .filter_map(|(id, t)| {
                let eta = crate::store::pricing::parse_date(t.next_eta.as_deref())?;
                Some((id, crate::domain::pricing::format_date(eta)))
            })
            .collect()
    };
    Ok(OrderView { order, lines, events, revisions, account_name, shipments, backorder_etas })
}

/// A page of the order history the actor may see. `account_id` narrows staff to one account; a
/// buyer always sees only their own account's orders.
pub async fn list_orders(
    db: &Db,
    actor: &Actor<'_>,
    filter: OrderFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<OrderRow>> {
    let filter = scoped(db, actor, filter).await?;
    Ok(orders::list(db, &filter, after, limit).await?)
}

/// [`list_orders`] in another order (the staff list's sortable columns), each with its account's
/// name and number, after the cursor of the previous page's last row.
pub async fn list_orders_sorted(
    db: &Db,
    actor: &Actor<'_>,
    filter: OrderFilter,
    sort: orders::OrderSort,
    after: Option<&orders::OrderCursor>,
    limit: i64,
) -> ServiceResult<Vec<orders::ListedOrder>> {
    if let Some(orders::OrderCursor { id, value: Some(orders::SortValue::Text(t)), .. }) = after {
        crate::service::check_texts(&[("after", t.as_str()), ("after_id", id.as_str())], &[])?;
    }
    let filter = scoped(db, actor, filter).await?;
    Ok(orders::list_sorted(db, &filter, sort, after, limit).await?)
}

/// The filter narrowed to what the actor may see (403 for staff who see no account).
async fn scoped(db: &Db, actor: &Actor<'_>, mut filter: OrderFilter) -> ServiceResult<OrderFilter> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        if !p.can(Permission::PortalView) {
            return Err(ServiceError::Forbidden);
        }
        filter.account_id = Some(own.to_string());
    } else if let Some(a) = &filter.account_id {
        crate::service::accounts::get_account(db, actor, a).await?;
    } else {
        match p.account_scope() {
            crate::domain::auth::AccountScope::All => {}
            crate::domain::auth::AccountScope::Book(rep) => filter.owner_rep_id = Some(rep.to_string()),
            _ => return Err(ServiceError::Forbidden),
        }
    }
    Ok(filter)
}

/// An order the actor may see, with its lines.
pub async fn order_with_lines(
    db: &Db,
    actor: &Actor<'_>,
    id_or_number: &str,
) -> ServiceResult<(OrderRow, Vec<OrderLineRow>)> {
    let order = get_order(db, actor, id_or_number).await?;
    let lines = orders::lines(db, &order.id).await?;
    Ok((order, lines))
}

/// [`list_orders`] with each order's lines (the history download).
pub async fn list_orders_with_lines(
    db: &Db,
    actor: &Actor<'_>,
    filter: OrderFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    let rows = list_orders(db, actor, filter, after, limit).await?;
    with_lines(db, rows).await
}

/// Orders created or changed at or after `since` (how an ERP pulls), each with its lines, after
/// the keyset `after` (updated_at, id). For actors who see every account; `account` (id, number or
/// external id) narrows to one; `status` to the orders now in that status.
pub async fn orders_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    account: Option<&str>,
    status: Option<crate::domain::orders::OrderStatus>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    actor.require(Permission::ViewAllAccounts)?;
    let account_id = match account {
        Some(reference) => Some(crate::service::accounts::find_account(db, actor, reference).await?.id),
        None => None,
    };
    let status = status.map(|s| s.as_str());
    let rows = orders::changed_since(db, since, account_id.as_deref(), status, after, limit).await?;
    with_lines(db, rows).await
}

async fn with_lines(db: &Db, rows: Vec<OrderRow>) -> ServiceResult<Vec<(OrderRow, Vec<OrderLineRow>)>> {
    let ids: Vec<String> = rows.iter().map(|o| o.id.clone()).collect();
    let mut lines = orders::lines_of_orders(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let l = lines.remove(&o.id).unwrap_or_default();
            (o, l)
        })
        .collect())
}

/// Who has placed the account's orders (user id, name), for the history's "placed by" filter.
pub async fn placers(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<(String, String)>> {
    catalog_scope(db, actor, account_id).await?;
    Ok(orders::placers(db, account_id).await?)
}
