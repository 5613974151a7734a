//! Stock changes made by people (counts, receipts, corrections). Orders will reserve through the
//! same store module.

use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::input::{MAX_STOCK_DELTA, MAX_STOCK_LEVEL};
use crate::store::inventory::{self, StockReason, WarehouseRow};
use crate::store::products::ProductRow;
use crate::store::{Db, Tx, products};
use serde_json::json;

/// The checks every stock change by a person or integration shares: permission, a reason, and the
/// product and warehouse it names.
async fn stock_target(
    db: &Db,
    actor: &Actor<'_>,
    sku: &str,
    warehouse_code: &str,
    reason: &str,
) -> ServiceResult<(ProductRow, WarehouseRow)> {
    actor.require(Permission::ManageStock)?;
    super::check_texts(&[("sku", sku), ("warehouse", warehouse_code), ("reason", reason)], &[])?;
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid("reason", "Say why stock changes (count, receipt, damage, ERP sync, …)."));
    }
    let product = products::get_by_sku(db, &super::catalog::named_sku(sku)?).await?.ok_or(ServiceError::NotFound)?;
    let warehouse = inventory::warehouses(db)
        .await?
        .into_iter()
        .find(|w| w.code.eq_ignore_ascii_case(warehouse_code.trim()))
        .ok_or_else(|| ServiceError::invalid("warehouse", format!("No warehouse with code “{warehouse_code}”.")))?;
    Ok((product, warehouse))
}

/// What a stock change's unit of work writes: everything checked before it.
struct StockChange {
    now: i64,
    actor: OwnedActor,
    product: ProductRow,
    warehouse: WarehouseRow,
    /// The delta ([`adjust_stock`]) or the counted quantity ([`set_on_hand`]).
    quantity: i64,
    /// Trimmed.
    reason: String,
}

impl StockChange {
    fn new(
        now: i64,
        actor: &Actor<'_>,
        (product, warehouse): (ProductRow, WarehouseRow),
        quantity: i64,
        reason: &str,
    ) -> StockChange {
        StockChange { now, actor: actor.owned(), product, warehouse, quantity, reason: reason.trim().to_string() }
    }

    fn why(&self) -> StockReason<'_> {
        StockReason {
            reason: &self.reason,
            actor_user_id: Some(&self.actor.principal.user_id),
            channel: self.actor.channel.as_str(),
        }
    }
}

/// Adds (or with a negative delta removes) on-hand stock of a product in a warehouse, with a reason.
/// Refused — changing nothing — when it would take stock below zero or below what is reserved.
pub async fn adjust_stock(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    warehouse_code: &str,
    delta: i64,
    reason: &str,
) -> ServiceResult<i64> {
    let (product, warehouse) = stock_target(db, actor, sku, warehouse_code, reason).await?;
    if delta == 0 {
        return Err(ServiceError::invalid("delta", "The change must not be zero."));
    }
    super::check_number("delta", delta, -MAX_STOCK_DELTA, MAX_STOCK_DELTA)?;
    let unit = StockChange::new(now, actor, (product, warehouse), delta, reason);
    db.write(unit, |tx, u| Box::pin(write_adjustment(tx, u))).await
}

async fn write_adjustment(tx: &mut Tx, u: &StockChange) -> ServiceResult<i64> {
    let (now, actor, product, warehouse, delta) = (u.now, &u.actor.actor(), &u.product, &u.warehouse, u.quantity);
    // The level it leads to stays within bounds too (read on the locked row, so two adjustments
    // at once cannot pass the bound together).
    let current = inventory::on_hand_for_update(tx, &product.id, &warehouse.id).await?;
    if current.saturating_add(delta) > MAX_STOCK_LEVEL {
        return Err(ServiceError::invalid(
            "delta",
            format!(
                "delta: {} in {} would reach {} units; a warehouse holds at most {MAX_STOCK_LEVEL} of a product.",
                product.sku,
                warehouse.code,
                current.saturating_add(delta)
            ),
        ));
    }
    let Some(after) = inventory::adjust_on_hand(tx, &product.id, &warehouse.id, delta, &u.why(), now).await? else {
        return Err(ServiceError::Conflict(format!(
            "Not enough stock of {} in {} to remove {} (stock never goes below zero or below what is reserved).",
            product.sku, warehouse.code, -delta
        )));
    };
    if delta > 0 {
        crate::service::orders::fill_backorders(tx, std::slice::from_ref(&product.id), now).await?;
    }
    audit(
        tx,
        Some(actor),
        now,
        "stock.adjusted",
        ("product", &product.id),
        None,
        Some(json!({ "warehouse": warehouse.code, "delta": delta, "on_hand": after, "reason": u.reason })),
    )
    .await?;
    crate::store::audit::enqueue(
        tx,
        "stock.changed",
        &json!({ "sku": product.sku, "warehouse": warehouse.code, "on_hand": after }),
        now,
    )
    .await?;
    Ok(after)
}

/// Sets on-hand stock of a product in a warehouse to a counted quantity (an ERP's number), as a
/// journaled adjustment by the difference. Refused, changing nothing, below what is reserved.
pub async fn set_on_hand(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    sku: &str,
    warehouse_code: &str,
    on_hand: i64,
    reason: &str,
) -> ServiceResult<i64> {
    let (product, warehouse) = stock_target(db, actor, sku, warehouse_code, reason).await?;
    if on_hand < 0 {
        return Err(ServiceError::invalid("on_hand", "On hand cannot be negative."));
    }
    super::check_number("on_hand", on_hand, 0, MAX_STOCK_LEVEL)?;
    let unit = StockChange::new(now, actor, (product, warehouse), on_hand, reason);
    db.write(unit, |tx, u| Box::pin(write_count(tx, u))).await
}

async fn write_count(tx: &mut Tx, u: &StockChange) -> ServiceResult<i64> {
    let (now, actor, product, warehouse, on_hand) = (u.now, &u.actor.actor(), &u.product, &u.warehouse, u.quantity);
    let current = inventory::on_hand_for_update(tx, &product.id, &warehouse.id).await?;
    let delta = on_hand - current;
    if delta != 0 {
        if inventory::adjust_on_hand(tx, &product.id, &warehouse.id, delta, &u.why(), now).await?.is_none() {
            return Err(ServiceError::Conflict(format!(
                "{} in {} cannot be set to {on_hand}: that is below what is reserved for open orders.",
                product.sku, warehouse.code
            )));
        }
        if delta > 0 {
            crate::service::orders::fill_backorders(tx, std::slice::from_ref(&product.id), now).await?;
        }
        audit(
            tx,
            Some(actor),
            now,
            "stock.set",
            ("product", &product.id),
            Some(json!({ "warehouse": warehouse.code, "on_hand": current })),
            Some(json!({ "warehouse": warehouse.code, "on_hand": on_hand, "reason": u.reason })),
        )
        .await?;
        crate::store::audit::enqueue(
            tx,
            "stock.changed",
            &json!({ "sku": product.sku, "warehouse": warehouse.code, "on_hand": on_hand }),
            now,
        )
        .await?;
    }
    Ok(on_hand)
}
