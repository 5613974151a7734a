//! Product CSV: create or update products by SKU. All-or-nothing like every import — the whole
//! file is checked first (each row with the same rules as the API's upsert, plus duplicate SKUs and
//! external ids), every bad row reported; a clean file is written in one transaction. Rows equal
//! to the stored product change nothing, so re-importing the same file is a no-op.
//!
//! `attributes` holds `key=value` pairs separated by `;` (e.g. `Material=Nitrile; Size=M`).

use super::catalog::{ProductDraft, product_input};
use super::imports::{CsvFile, ImportError, Progress};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::import::RowError;
use crate::store::products::{self, ProductInput, ProductRow};
use crate::store::{Db, Tx, new_id};
use crate::store::{catalogs, categories};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};

/// The columns of a product file, in export order.
pub const PRODUCT_COLUMNS: [&str; 15] = [
    "sku",
    "name",
    "description",
    "category",
    "uom",
    "pack_size",
    "min_qty",
    "multiple_qty",
    "max_qty",
    "image_url",
    "regulated_class",
    "active",
    "backorder_policy",
    "external_id",
    "attributes",
];
const REQUIRED: [&str; 2] = ["sku", "name"];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProductImportReport {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
}

/// The file's column name for a validation field of [`product_input`].
fn column_of(field: &str) -> &str {
    match field {
        "quantity_rules" => "min_qty",
        "backorder" => "backorder_policy",
        f => f,
    }
}

fn number(line: u64, column: &str, v: &str, default: i64, errors: &mut Vec<RowError>) -> i64 {
    if v.is_empty() {
        return default;
    }
    v.parse::<i64>().unwrap_or_else(|_| {
        errors.push(RowError { line, column: column.into(), reason: format!("“{v}” is not a whole number") });
        default
    })
}

fn attributes(line: u64, v: &str, errors: &mut Vec<RowError>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in v.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() && !val.trim().is_empty() => {
                out.push((k.trim().to_string(), val.trim().to_string()))
            }
            _ => errors.push(RowError {
                line,
                column: "attributes".into(),
                reason: format!("“{part}” is not key=value (separate pairs with ;)"),
            }),
        }
    }
    out.sort();
    out
}

/// Whether importing `input` would change the stored product.
fn differs(input: &ProductInput, row: &ProductRow, attrs: &[(String, String)]) -> bool {
    let stored = (
        &row.name,
        &row.description,
        &row.category_id,
        &row.uom,
        row.pack_size,
        (row.min_qty, row.multiple_qty, row.max_qty),
        &row.image_url,
        &row.regulated_class,
        row.active,
        row.backorder_policy.as_str(),
        &row.external_id,
    );
    let new = (
        &input.name,
        &input.description,
        &input.category_id,
        &input.uom,
        input.pack_size,
        (input.rules.min, input.rules.multiple, input.rules.max),
        &input.image_url,
        &input.regulated_class,
        input.active,
        input.backorder.as_str(),
        &input.external_id,
    );
    stored != new || attrs != input.attributes.as_slice()
}

pub async fn import_products<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<ProductImportReport, ImportError> {
    actor.require(Permission::ManageCatalog)?;
    let mut file = CsvFile::open(reader, &PRODUCT_COLUMNS, &REQUIRED)?;
    let categories: HashMap<String, String> =
        categories::categories(db).await?.into_iter().map(|c| (c.path, c.id)).collect();
    let existing: HashMap<String, ProductRow> =
        products::all_by_sku(db).await?.into_iter().map(|p| (p.sku.clone(), p)).collect();
    let external_owner: HashMap<String, String> =
        existing.values().filter_map(|p| p.external_id.as_ref().map(|e| (e.clone(), p.sku.clone()))).collect();
    let stored_attrs = products::all_attributes(db).await?;
    let mut inputs: Vec<(u64, ProductInput)> = Vec::new();
    let (mut seen_sku, mut seen_ext) = (HashSet::new(), HashSet::new());
    let mut errors = Vec::new();
    file.for_each_row(10_000, &mut progress, &mut errors, |line, cells, errors| {
        let mut row_errors = Vec::new();
        let active = match cells.get("active").to_lowercase().as_str() {
            "" | "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            other => {
                row_errors.push(RowError {
                    line,
                    column: "active".into(),
                    reason: format!("“{other}” is not true or false"),
                });
                true
            }
        };
        let opt = |v: &str| Some(v.to_string()).filter(|s| !s.is_empty());
        let draft = ProductDraft {
            sku: cells.get("sku").to_string(),
            name: cells.get("name").to_string(),
            description: cells.get("description").to_string(),
            category: opt(cells.get("category")),
            uom: cells.get("uom").to_string(),
            pack_size: number(line, "pack_size", cells.get("pack_size"), 1, &mut row_errors),
            min_qty: number(line, "min_qty", cells.get("min_qty"), 1, &mut row_errors),
            multiple_qty: number(line, "multiple_qty", cells.get("multiple_qty"), 1, &mut row_errors),
            max_qty: opt(cells.get("max_qty")).map(|v| number(line, "max_qty", &v, 0, &mut row_errors)),
            image_url: opt(cells.get("image_url")),
            regulated_class: opt(cells.get("regulated_class")),
            active,
            backorder: if cells.get("backorder_policy").is_empty() {
                "deny".into()
            } else {
                cells.get("backorder_policy").to_lowercase()
            },
            external_id: opt(cells.get("external_id")),
            attributes: attributes(line, cells.get("attributes"), &mut row_errors),
        };
        match product_input(&draft, &categories) {
            Err(problems) => row_errors.extend(problems.into_iter().map(|(f, m)| RowError {
                line,
                column: column_of(&f).into(),
                reason: m,
            })),
            Ok(input) => {
                if !seen_sku.insert(input.sku.clone()) {
                    row_errors.push(RowError {
                        line,
                        column: "sku".into(),
                        reason: format!("{} appears more than once", input.sku),
                    });
                }
                if let Some(ext) = &input.external_id {
                    if !seen_ext.insert(ext.clone()) {
                        row_errors.push(RowError {
                            line,
                            column: "external_id".into(),
                            reason: format!("external id {ext} appears more than once"),
                        });
                    } else if let Some(owner) = external_owner.get(ext).filter(|o| **o != input.sku) {
                        row_errors.push(RowError {
                            line,
                            column: "external_id".into(),
                            reason: format!("external id {ext} belongs to {owner}"),
                        });
                    }
                }
                if row_errors.is_empty() {
                    inputs.push((line, input));
                }
            }
        }
        errors.append(&mut row_errors);
    });
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }
    // Clean: plan the writes (only products that change), then write them in one unit of work.
    let mut report = ProductImportReport { rows: inputs.len() as u64, ..Default::default() };
    let mut writes: Vec<(String, ProductInput)> = Vec::new();
    for (_, input) in inputs {
        match existing.get(&input.sku) {
            Some(row) => {
                let attrs = stored_attrs.get(&row.id).map(Vec::as_slice).unwrap_or(&[]);
                if differs(&input, row, attrs) {
                    writes.push((row.id.clone(), input));
                    report.updated += 1;
                }
            }
            None => {
                writes.push((new_id(), input));
                report.created += 1;
            }
        }
    }
    drop((existing, stored_attrs));
    let summary = json!({ "rows": report.rows, "created": report.created, "updated": report.updated });
    let unit = ProductsWrite { now, actor: actor.owned(), writes, summary };
    db.write(unit, |tx, u| Box::pin(write_products(tx, u))).await?;
    Ok(report)
}

/// What a product import writes, planned from the checked file.
struct ProductsWrite {
    now: i64,
    actor: OwnedActor,
    /// (product id, new or changed product).
    writes: Vec<(String, ProductInput)>,
    summary: serde_json::Value,
}

/// A product import's unit of work.
async fn write_products(tx: &mut Tx, u: &ProductsWrite) -> ServiceResult<()> {
    let now = u.now;
    tx.bulk_mode().await?;
    for (id, input) in &u.writes {
        products::upsert(tx, id, input, now).await?;
    }
    if !u.writes.is_empty() {
        catalogs::rebuild_catalog_membership(tx).await?;
    }
    audit(tx, Some(&u.actor.actor()), now, "import.products", ("import", &new_id()), None, Some(u.summary.clone()))
        .await?;
    if !u.writes.is_empty() {
        crate::store::audit::enqueue(tx, "products.imported", &u.summary, now).await?;
    }
    Ok(())
}

/// Writes every row as CSV that imports back unchanged (the export of [`super::exports`], cells
/// neutralised against spreadsheet formulas). Returns the number of rows written.
pub async fn export_products<W: Write>(db: &Db, actor: &Actor<'_>, out: W) -> Result<u64, ServiceError> {
    super::exports::write_export(db, actor, super::imports::Kind::Products, out).await
}
