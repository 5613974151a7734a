//! Stock reservation inside a placement or amendment: lines take stock from the warehouses in
//! their fixed order, on rows locked for the transaction, and become the order's line rows.

use super::{OrderLineRow, PricedLine};
use crate::domain::catalog::{BackorderPolicy, available};
use crate::domain::orders::{LineIssue, allocate};
use crate::domain::pipeline::out_of_stock;
use crate::service::ServiceResult;
use crate::store::{Tx, orders};
use std::collections::HashMap;

pub(super) type Reservations = Vec<(usize, Vec<(String, String, i64)>)>;

/// Reserves stock for every line from the warehouses in their fixed order, on rows locked for this
/// transaction. A line short of stock is backordered when its product allows it, and refused
/// otherwise (every refused line is reported).
pub(super) async fn reserve_lines(
    tx: &mut Tx,
    lines: &[PricedLine],
    now: i64,
) -> ServiceResult<Result<Reservations, Vec<LineIssue>>> {
    let mut ids: Vec<String> = lines.iter().map(|l| l.product.id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut locked = orders::lock_stock(tx, &ids).await?;
    // Warehouses in the seller's allocation order (then by id, so the order is total).
    locked.sort_by(|a, b| {
        (&a.product_id, a.warehouse_sort, &a.warehouse_id).cmp(&(&b.product_id, b.warehouse_sort, &b.warehouse_id))
    });
    let mut by_product: HashMap<&str, Vec<(String, i64)>> = HashMap::new();
    for s in &locked {
        by_product
            .entry(s.product_id.as_str())
            .or_default()
            .push((s.warehouse_id.clone(), available(s.on_hand, s.reserved)));
    }
    let mut issues = Vec::new();
    let mut plan: Reservations = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let avail = by_product.get(l.product.id.as_str()).cloned().unwrap_or_default();
        let (alloc, short) = allocate(&avail, l.quantity);
        if short > 0 && l.product.backorder() == BackorderPolicy::Deny {
            issues.push(out_of_stock(l.line, &l.product.sku, l.quantity - short));
            continue;
        }
        plan.push((i, alloc.into_iter().map(|(w, q)| (l.product.id.clone(), w, q)).collect()));
    }
    if !issues.is_empty() {
        return Ok(Err(issues));
    }
    let all: Vec<(String, String, i64)> = plan.iter().flat_map(|(_, a)| a.iter().cloned()).collect();
    orders::reserve_many(tx, &all, now).await?;
    Ok(Ok(plan))
}

pub(super) fn line_rows(lines: &[PricedLine], reserved: &Reservations) -> Vec<OrderLineRow> {
    let held: HashMap<usize, i64> = reserved.iter().map(|(i, a)| (*i, a.iter().map(|x| x.2).sum())).collect();
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let r = held.get(&i).copied().unwrap_or(0);
            OrderLineRow {
                line_no: i as i64 + 1,
                product_id: l.product.id.clone(),
                sku: l.product.sku.clone(),
                name: l.product.name.clone(),
                uom: l.product.uom.clone(),
                quantity: l.quantity,
                unit_price: l.price.unit_price.raw(),
                list_price: l.price.list_price.map(|m| m.raw()),
                line_total: l.line_total.raw(),
                price_source: l.price.kind.as_str().into(),
                price_explanation: l.price.explain(),
                reserved_qty: r,
                backordered_qty: l.quantity - r,
                shipped_qty: 0,
                invoiced_qty: 0,
            }
        })
        .collect()
}
