//! Fulfilment: staff (or the ERP/WMS through the API) record shipments of confirmed orders —
//! lines and quantities, partial allowed, from one warehouse, with carrier, tracking number and
//! ship date. Shipping consumes the stock the order holds there; the order becomes partially
//! shipped, then shipped. Stock that arrives later is reserved for backordered lines, oldest order
//! first ([`fill_backorders`]), so they can ship in a later shipment.

use super::events::{event, event_payload};
use super::{OrderRow, get_order, may_manage};
use crate::domain::fulfilment::{
    MAX_CARRIER_LEN, MAX_TRACKING_LEN, ShippableLine, allocate_arrivals, check_shipment, status_after_shipping,
    tracking_url,
};
use crate::domain::orders::OrderStatus;
use crate::service::catalog::today;
use crate::service::{Actor, OwnedActor, ServiceError, ServiceResult, audit_and_publish};
use crate::store::inventory::{self, StockReason, WarehouseRow};
use crate::store::shipments::{self, NewShipment, ShipmentLineRow, ShipmentRow};
use crate::store::{Db, Tx, new_id, orders};
use serde_json::json;
use std::collections::HashMap;

/// A shipment as staff or an integration report it.
#[derive(Clone, Debug, Default)]
pub struct ShipmentInput {
    /// Warehouse code (or id).
    pub warehouse: String,
    pub carrier: String,
    pub tracking_number: String,
    /// `YYYY-MM-DD`; today when absent.
    pub shipped_on: Option<String>,
    /// (order line number, quantity)
    pub lines: Vec<(i64, i64)>,
    /// The WMS's or ERP's own id of the shipment: reporting it again answers the shipment it made.
    pub external_id: Option<String>,
}

/// A shipment with its lines and the carrier's tracking page.
#[derive(Clone, Debug)]
pub struct Shipment {
    pub row: ShipmentRow,
    pub lines: Vec<ShipmentLineRow>,
    pub tracking_url: Option<String>,
    /// The shipment was reported before under the same external id: nothing new was shipped.
    pub replayed: bool,
}

/// Records a shipment of an order (staff who manage orders, or an integration allowed to); emits
/// `shipment.created`, and `order.shipped` once every unit has shipped.
pub async fn record_shipment(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    order_ref: &str,
    input: &ShipmentInput,
) -> ServiceResult<Shipment> {
    // Buyers learn nothing here (404); staff without the permission are told (403).
    actor.require(crate::domain::auth::Permission::ManageOrders)?;
    let order = get_order(db, actor, order_ref).await?;
    may_manage(actor)?;
    let (warehouse, shipped_on) = check_input(db, now, input).await?;
    let unit = ShipUnit { now, actor: actor.owned(), order_id: order.id, warehouse, shipped_on, input: input.clone() };
    let (row, lines, replayed) = db.write(unit, |tx, u| Box::pin(write_shipment(tx, u))).await?;
    let lines = match lines {
        Some(lines) => lines,
        None => shipments::lines_of(db, &row.id).await?,
    };
    Ok(Shipment { tracking_url: tracking_url(&row.carrier, &row.tracking_number), row, lines, replayed })
}

/// An order's shipments with their lines, oldest first (for whoever may see the order).
pub async fn order_shipments(db: &Db, actor: &Actor<'_>, order_ref: &str) -> ServiceResult<Vec<Shipment>> {
    let order = get_order(db, actor, order_ref).await?;
    shipments_of(db, &order).await
}

pub(crate) async fn shipments_of(db: &Db, order: &OrderRow) -> ServiceResult<Vec<Shipment>> {
    let rows = shipments::for_order(db, &order.id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines: HashMap<String, Vec<ShipmentLineRow>> = HashMap::new();
    for l in shipments::lines_for_order(db, &order.id).await? {
        lines.entry(l.shipment_id.clone()).or_default().push(l);
    }
    Ok(rows
        .into_iter()
        .map(|row| Shipment {
            tracking_url: tracking_url(&row.carrier, &row.tracking_number),
            lines: lines.remove(&row.id).unwrap_or_default(),
            row,
            replayed: false,
        })
        .collect())
}

/// The warehouses shipments can come from (for forms).
pub async fn warehouses(db: &Db) -> ServiceResult<Vec<WarehouseRow>> {
    Ok(inventory::warehouses(db).await?)
}

/// Checks what needs no transaction: the warehouse exists, the texts are short and printable,
/// the date is a date and not in the future.
async fn check_input(db: &Db, now: i64, input: &ShipmentInput) -> ServiceResult<(WarehouseRow, String)> {
    let mut problems = crate::service::text_problems(
        &[
            ("warehouse", &input.warehouse),
            ("carrier", &input.carrier),
            ("tracking_number", &input.tracking_number),
            ("shipped_on", input.shipped_on.as_deref().unwrap_or("")),
            ("external_id", input.external_id.as_deref().unwrap_or("")),
        ],
        &[],
    );
    let wanted = input.warehouse.trim();
    let warehouse =
        inventory::warehouses(db).await?.into_iter().find(|w| w.code.eq_ignore_ascii_case(wanted) || w.id == wanted);
    if warehouse.is_none() {
        problems.push(("warehouse".into(), format!("No warehouse with code “{wanted}”.")));
    }
    for (field, value, max) in
        [("carrier", &input.carrier, MAX_CARRIER_LEN), ("tracking_number", &input.tracking_number, MAX_TRACKING_LEN)]
    {
        if value.trim().chars().count() > max {
            problems.push((field.into(), format!("{field}: at most {max} characters.")));
        }
    }
    let today = today(now);
    let shipped_on = match input.shipped_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(today),
        Some(d) => match crate::store::pricing::parse_date(Some(d)) {
            Some(date) if date > today.next_day().unwrap_or(today) => {
                problems.push(("shipped_on".into(), "The ship date is in the future.".into()));
                None
            }
            Some(date) => Some(date),
            None => {
                problems.push(("shipped_on".into(), format!("“{d}” is not a date (YYYY-MM-DD).")));
                None
            }
        },
    };
    ServiceError::from_problems(problems)?;
    match (warehouse, shipped_on) {
        (Some(w), Some(d)) => Ok((w, crate::store::pricing::format_iso(d))),
        _ => Err(ServiceError::invalid("warehouse", "Invalid shipment.")),
    }
}

struct ShipUnit {
    now: i64,
    actor: OwnedActor,
    order_id: String,
    warehouse: WarehouseRow,
    shipped_on: String,
    input: ShipmentInput,
}

/// The shipment's unit of work, on the locked order: checks the lines against what the order
/// holds at the warehouse, consumes that stock, writes the shipment, moves the order's status and
/// writes its event, audit rows and outbox events.
async fn write_shipment(tx: &mut Tx, u: &ShipUnit) -> ServiceResult<(ShipmentRow, Option<Vec<ShipmentLineRow>>, bool)> {
    let (now, actor) = (u.now, &u.actor.actor());
    let Some(before) = orders::get_for_update(tx, &u.order_id).await? else { return Err(ServiceError::NotFound) };
    let external_id = u.input.external_id.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if let Some(ext) = external_id
        && let Some(earlier) = shipments::by_external_id(tx, ext).await?
    {
        // Reported before (a retry): the order's lock makes this the only answer, never a second shipment.
        if earlier.order_id == before.id {
            return Ok((earlier, None, true));
        }
        return Err(ServiceError::Conflict(format!(
            "External id “{ext}” is shipment {} of another order.",
            earlier.number
        )));
    }
    let status = before.status();
    if !matches!(status, OrderStatus::Confirmed | OrderStatus::PartiallyShipped) {
        let why = if matches!(status, OrderStatus::Placed | OrderStatus::OnHold | OrderStatus::Escalated) {
            "confirm it before shipping"
        } else {
            "it cannot ship"
        };
        return Err(ServiceError::Conflict(format!(
            "Order {} is {}; {why}.",
            before.number,
            status.label().to_lowercase()
        )));
    }
    let lines = orders::lines_tx(tx, &before.id).await?;
    let held: HashMap<String, i64> = shipments::held_at(tx, &before.id, &u.warehouse.id).await?.into_iter().collect();
    let shippable: Vec<ShippableLine> = lines
        .iter()
        .map(|l| ShippableLine {
            line_no: l.line_no,
            sku: l.sku.clone(),
            quantity: l.quantity,
            shipped: l.shipped_qty,
            reserved_here: l.reserved_qty.min(held.get(&l.product_id).copied().unwrap_or(0)),
            backordered: l.backordered_qty,
        })
        .collect();
    if let Err(problems) = check_shipment(&shippable, &u.input.lines, &u.warehouse.code) {
        ServiceError::from_problems(problems)?;
    }
    let product_of: HashMap<i64, &str> = lines.iter().map(|l| (l.line_no, l.product_id.as_str())).collect();
    let mut products: Vec<String> = u.input.lines.iter().map(|(n, _)| product_of[n].to_string()).collect();
    products.sort();
    products.dedup();
    orders::lock_stock_only(tx, &products).await?;
    let why = StockReason {
        reason: "shipment",
        actor_user_id: Some(&actor.principal.user_id),
        channel: actor.channel.as_str(),
    };
    let mut shipped = Vec::with_capacity(u.input.lines.len());
    for (line_no, qty) in &u.input.lines {
        let product_id = product_of[line_no];
        let on_hand_after = shipments::ship_from(tx, &before.id, product_id, &u.warehouse.id, *qty, now).await?;
        shipped.push(shipments::Shipped { line_no: *line_no, product_id, quantity: *qty, on_hand_after });
    }
    shipments::record_shipped(tx, &before.id, &u.warehouse.id, &shipped, &why, now).await?;
    let id = new_id();
    let number = format!("SH-{}", tx.next_counter("shipment").await?);
    let ship_lines: Vec<(i64, String, i64)> =
        u.input.lines.iter().map(|(n, q)| (*n, product_of[n].to_string(), *q)).collect();
    let (carrier, tracking) = (u.input.carrier.trim(), u.input.tracking_number.trim());
    shipments::insert(
        tx,
        &NewShipment {
            id: &id,
            number: &number,
            order_id: &before.id,
            account_id: &before.account_id,
            warehouse_id: &u.warehouse.id,
            carrier,
            tracking_number: tracking,
            shipped_on: &u.shipped_on,
            created_by_user_id: &actor.principal.user_id,
            created_by_name: &actor.principal.name,
            channel: actor.channel.as_str(),
            external_id,
            lines: &ship_lines,
        },
        now,
    )
    .await?;
    let shipped_now: HashMap<i64, i64> = u.input.lines.iter().copied().collect();
    let totals: Vec<(i64, i64)> =
        lines.iter().map(|l| (l.quantity, l.shipped_qty + shipped_now.get(&l.line_no).copied().unwrap_or(0))).collect();
    let to = status_after_shipping(&totals);
    let after = OrderRow { status: to.as_str().into(), version: before.version + 1, updated_at: now, ..before.clone() };
    if !orders::update_status(tx, &before, &after).await? {
        return Err(ServiceError::Conflict(format!("Order {} was changed by someone else; reload it.", before.number)));
    }
    let by = if carrier.is_empty() { String::new() } else { format!(" by {carrier} {tracking}") };
    event(tx, &after, actor, format!("Shipment {number} from {}{by}", u.warehouse.code).trim_end(), now).await?;
    let payload = json!({
        "id": id, "number": number, "order_id": before.id, "order_number": before.number,
        "account_id": before.account_id, "warehouse": u.warehouse.code, "carrier": carrier,
        "tracking_number": tracking, "tracking_url": tracking_url(carrier, tracking), "shipped_on": u.shipped_on,
        "lines": u.input.lines.iter().map(|(n, q)| json!({"line_no": n, "quantity": q})).collect::<Vec<_>>(),
    });
    audit_and_publish(tx, Some(actor), now, "shipment.created", ("order", &before.id), None, payload).await?;
    if to != status {
        let action = format!("order.{}", to.as_str());
        let (before_payload, after_payload) = (event_payload(&before), event_payload(&after));
        audit_and_publish(tx, Some(actor), now, &action, ("order", &after.id), Some(before_payload), after_payload)
            .await?;
    }
    // The shipment bills what it shipped (nothing for a prepay order: billed when placed), from
    // the lines as they are now (read before the shipment, plus what it shipped).
    let written: Vec<ShipmentLineRow> = lines
        .iter()
        .filter_map(|l| {
            shipped_now.get(&l.line_no).map(|q| ShipmentLineRow {
                shipment_id: id.clone(),
                line_no: l.line_no,
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: *q,
            })
        })
        .collect();
    let lines_now: Vec<orders::OrderLineRow> = lines
        .into_iter()
        .map(|l| {
            let q = shipped_now.get(&l.line_no).copied().unwrap_or(0);
            orders::OrderLineRow { shipped_qty: l.shipped_qty + q, reserved_qty: l.reserved_qty - q, ..l }
        })
        .collect();
    crate::service::invoices::invoice_lines(
        tx,
        actor,
        &after,
        &lines_now,
        Some(&id),
        crate::service::invoices::Basis::Shipped,
        now,
    )
    .await?;
    let row = ShipmentRow {
        id,
        number,
        order_id: before.id.clone(),
        account_id: before.account_id.clone(),
        warehouse_id: u.warehouse.id.clone(),
        warehouse_code: u.warehouse.code.clone(),
        carrier: carrier.to_string(),
        tracking_number: tracking.to_string(),
        shipped_on: u.shipped_on.clone(),
        created_by_name: actor.principal.name.clone(),
        channel: actor.channel.as_str().to_string(),
        created_at: now,
        external_id: external_id.map(String::from),
    };
    Ok((row, Some(written), false))
}

/// Reserves stock that is free now for the backordered lines of these products, oldest order
/// first, at the warehouses in their fixed order. Called in the same unit of work as every change
/// that adds stock, so arrivals never sit unreserved while orders wait for them.
pub(crate) async fn fill_backorders(tx: &mut Tx, product_ids: &[String], now: i64) -> ServiceResult<()> {
    let mut ids = product_ids.to_vec();
    ids.sort();
    ids.dedup();
    for product in &ids {
        let waiting = shipments::waiting_for(tx, product).await?;
        if waiting.is_empty() {
            continue;
        }
        let mut queue: Vec<((String, i64), i64)> = waiting.into_iter().map(|(o, l, q)| ((o, l), q)).collect();
        for (warehouse, free) in shipments::free_stock(tx, product).await? {
            for ((order_id, line_no), qty) in allocate_arrivals(free, &queue) {
                shipments::fill_backorder(tx, &order_id, line_no, product, &warehouse, qty, now).await?;
                if let Some(w) = queue.iter_mut().find(|w| w.0 == (order_id.clone(), line_no)) {
                    w.1 -= qty;
                }
            }
            queue.retain(|w| w.1 > 0);
            if queue.is_empty() {
                break;
            }
        }
    }
    Ok(())
}
