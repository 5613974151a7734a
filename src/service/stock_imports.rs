//! Stock CSV: the ERP's count of on-hand (and optionally incoming) stock per SKU and warehouse.
//! All-or-nothing like every import: the whole file is checked first, every bad row reported; a
//! clean file is applied in one transaction through the guarded stock update, each change journaled
//! as a stock movement. Rows equal to what is stored change nothing (re-importing is a no-op).

use super::imports::{CsvFile, ImportError, Progress};
use super::{Actor, OwnedActor, ServiceError, audit};
use crate::domain::auth::Permission;
use crate::domain::import::RowError;
use crate::domain::import_stock::{STOCK_COLUMNS, STOCK_REQUIRED, StockRow, check_stock_rows, parse_stock_row};
use crate::store::inventory::{self, StockReason};
use crate::store::pricing::format_iso;
use crate::store::{Db, Tx, new_id, products};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct StockImportReport {
    pub rows: u64,
    /// Rows whose on-hand or incoming stock changed (0 when the same file is imported again).
    pub changed: u64,
}

pub async fn import_stock<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<StockImportReport, ImportError> {
    actor.require(Permission::ManageStock)?;
    let mut file = CsvFile::open(reader, &STOCK_COLUMNS, &STOCK_REQUIRED)?;
    let with_incoming = file.has_column("incoming");
    let skus = products::sku_index(db).await?;
    let warehouses: HashMap<String, String> =
        inventory::warehouses(db).await?.into_iter().map(|w| (w.code.to_uppercase(), w.id)).collect();
    let current: HashMap<(String, String), inventory::StockRow> = inventory::all_levels(db)
        .await?
        .into_iter()
        .map(|r| ((r.product_id.clone(), r.warehouse_id.clone()), r))
        .collect();
    let mut rows: Vec<StockRow> = Vec::new();
    let mut errors = Vec::new();
    file.for_each_row(10_000, &mut progress, &mut errors, |line, cells, errors| {
        match parse_stock_row(line, with_incoming, |c| cells.get(c)) {
            Err(mut e) => errors.append(&mut e),
            Ok(row) => {
                let product = skus.get(row.sku.as_str());
                let warehouse = warehouses.get(&row.warehouse);
                if product.is_none() {
                    errors.push(RowError { line, column: "sku".into(), reason: format!("unknown SKU {}", row.sku) });
                }
                if warehouse.is_none() {
                    errors.push(RowError {
                        line,
                        column: "warehouse".into(),
                        reason: format!("unknown warehouse “{}”", row.warehouse),
                    });
                }
                if let (Some(p), Some(w)) = (product, warehouse) {
                    let reserved = current.get(&(p.clone(), w.clone())).map(|c| c.reserved).unwrap_or(0);
                    if row.on_hand < reserved {
                        errors.push(RowError {
                            line,
                            column: "on_hand".into(),
                            reason: format!("{} is below the {reserved} units reserved for open orders", row.on_hand),
                        });
                    }
                }
                rows.push(row);
            }
        }
    });
    errors.extend(check_stock_rows(&rows));
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }

    // Clean: plan the changes against the stock read before, then apply them in one unit of work.
    let mut changes = Vec::new();
    for r in &rows {
        let (p, w) = (&skus[r.sku.as_str()], &warehouses[&r.warehouse]);
        let now_row = current.get(&(p.clone(), w.clone()));
        let (on_hand, incoming, eta) =
            now_row.map(|c| (c.on_hand, c.incoming, c.incoming_eta.clone())).unwrap_or((0, 0, None));
        let incoming = r.incoming.map(|(q, d)| (q, d.map(format_iso))).filter(|(q, d)| (*q, d) != (incoming, &eta));
        if r.on_hand != on_hand || incoming.is_some() {
            changes.push(StockChange {
                line: r.line,
                product_id: p.clone(),
                warehouse_id: w.clone(),
                on_hand_delta: r.on_hand - on_hand,
                incoming,
            });
        }
    }
    // Stock rows are locked in one global order, (product id, warehouse id), as placements lock
    // them by product id: the file's order could make two transactions wait for each other.
    changes.sort_by(|a, b| (&a.product_id, &a.warehouse_id).cmp(&(&b.product_id, &b.warehouse_id)));
    let report = StockImportReport { rows: rows.len() as u64, changed: changes.len() as u64 };
    let unit = StockWrite { now, actor: actor.owned(), changes, rows: report.rows };
    db.write(unit, |tx, u| Box::pin(write_stock(tx, u))).await?;
    Ok(report)
}

/// One row of the file that changes stock.
struct StockChange {
    /// The row's line in the file (for the error that refuses it).
    line: u64,
    product_id: String,
    warehouse_id: String,
    /// 0 when on hand stays.
    on_hand_delta: i64,
    /// The new incoming quantity and ETA, when they change.
    incoming: Option<(i64, Option<String>)>,
}

/// What a stock import writes: the changes, in lock order.
struct StockWrite {
    now: i64,
    actor: OwnedActor,
    changes: Vec<StockChange>,
    /// Rows read (for the audit row).
    rows: u64,
}

/// A stock import's unit of work, through the guarded stock update.
async fn write_stock(tx: &mut Tx, u: &StockWrite) -> Result<(), ImportError> {
    let now = u.now;
    let actor = &u.actor.actor();
    let why = StockReason {
        reason: "stock import",
        actor_user_id: Some(&actor.principal.user_id),
        channel: actor.channel.as_str(),
    };
    tx.bulk_mode().await?;
    for c in &u.changes {
        if c.on_hand_delta != 0 {
            // Guarded: a reservation made since the check refuses the whole file (rolled back).
            let (p, w) = (&c.product_id, &c.warehouse_id);
            if inventory::adjust_on_hand(tx, p, w, c.on_hand_delta, &why, now).await?.is_none() {
                return Err(ImportError::Invalid(vec![RowError {
                    line: c.line,
                    column: "on_hand".into(),
                    reason: "stock was reserved while the file was imported; nothing was changed, import it again"
                        .into(),
                }]));
            }
        }
        if let Some((q, d)) = &c.incoming {
            inventory::set_incoming(tx, &c.product_id, &c.warehouse_id, *q, d.as_deref(), now).await?;
        }
    }
    let arrived: Vec<String> = u.changes.iter().filter(|c| c.on_hand_delta > 0).map(|c| c.product_id.clone()).collect();
    crate::service::orders::fill_backorders(tx, &arrived, now).await.map_err(ImportError::from)?;
    let summary = json!({ "rows": u.rows, "changed": u.changes.len() });
    audit(tx, Some(actor), now, "import.stock", ("import", &new_id()), None, Some(summary.clone())).await?;
    if !u.changes.is_empty() {
        crate::store::audit::enqueue(tx, "stock.imported", &summary, now).await?;
    }
    Ok(())
}

/// Writes every row as CSV that imports back unchanged (the export of [`super::exports`], cells
/// neutralised against spreadsheet formulas). Returns the number of rows written.
pub async fn export_stock<W: Write>(db: &Db, actor: &Actor<'_>, out: W) -> Result<u64, ServiceError> {
    super::exports::write_export(db, actor, super::imports::Kind::Stock, out).await
}
