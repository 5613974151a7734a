//! Price list CSV: the prices (and volume breaks) of price lists, as an ERP or a pricing analyst
//! maintains them in a spreadsheet. All-or-nothing like every import; lists named in the file that
//! do not exist yet are created (assignments are maintained on the pricing pages or by the API).
//! Prices not in the file are left alone; re-importing the same file changes nothing.

use super::imports::{CsvFile, ImportError, Progress};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::import::RowError;
use crate::domain::import_price_list::{
    PRICE_LIST_COLUMNS, PRICE_LIST_REQUIRED, PriceListPriceRow, check_price_list_rows, parse_price_list_price,
};
use crate::domain::money::Money;
use crate::store::pricing::{self, NewPriceList, PriceTable, format_iso};
use crate::store::{Db, Tx, new_id, products};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PriceListImportReport {
    pub rows: u64,
    pub lists_created: u64,
    pub lists_updated: u64,
    /// Prices inserted or changed; 0 when the same file is imported again.
    pub prices_changed: u64,
}

/// Imports price list prices (columns: see [`PRICE_LIST_COLUMNS`]); `progress` is called with the
/// number of rows read so far.
pub async fn import_price_lists<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<PriceListImportReport, ImportError> {
    actor.require(Permission::ManagePrices)?;
    let mut file = CsvFile::open(reader, &PRICE_LIST_COLUMNS, &PRICE_LIST_REQUIRED)?;
    let with_validity = file.has_column("valid_from") || file.has_column("valid_to");
    let skus = products::sku_index(db).await?;
    let lists = pricing::price_lists_by_code(db).await?;
    let mut rows: Vec<PriceListPriceRow> = Vec::new();
    let mut errors = Vec::new();
    file.for_each_row(10_000, &mut progress, &mut errors, |line, cells, errors| {
        match parse_price_list_price(line, with_validity, |c| cells.get(c)) {
            Err(mut e) => errors.append(&mut e),
            Ok(row) => {
                if !skus.contains_key(row.sku.as_str()) {
                    errors.push(RowError { line, column: "sku".into(), reason: format!("unknown SKU {}", row.sku) });
                }
                let dated = row.validity.is_some_and(|(f, t)| f.is_some() || t.is_some());
                if dated && lists.get(&row.code).is_some_and(|l| l.is_base) {
                    errors.push(RowError {
                        line,
                        column: "valid_from".into(),
                        reason: format!("{} is the base list, which is always valid: leave the dates empty", row.code),
                    });
                }
                rows.push(row);
            }
        }
    });
    errors.extend(check_price_list_rows(&rows));
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }

    // Clean: plan every write from what was read, then write it all in one unit of work.
    let mut report = PriceListImportReport { rows: rows.len() as u64, ..Default::default() };
    let mut list_ids: HashMap<&str, String> = HashMap::new();
    let mut headers = Vec::new();
    for r in &rows {
        if list_ids.contains_key(r.code.as_str()) {
            continue;
        }
        let (from, to) = match r.validity {
            Some((f, t)) => (f.map(format_iso), t.map(format_iso)),
            None => lists.get(&r.code).map(|l| (l.valid_from.clone(), l.valid_to.clone())).unwrap_or_default(),
        };
        match lists.get(&r.code) {
            Some(l) => {
                let name = r.list_name.as_deref().unwrap_or(&l.name);
                let priority = r.priority.unwrap_or(l.priority);
                if (name, priority, &from, &to) != (l.name.as_str(), l.priority, &l.valid_from, &l.valid_to) {
                    headers.push(ListHeader {
                        new: false,
                        id: l.id.clone(),
                        code: l.code.clone(),
                        name: name.to_string(),
                        is_base: l.is_base,
                        priority,
                        from,
                        to,
                    });
                    report.lists_updated += 1;
                }
                list_ids.insert(&r.code, l.id.clone());
            }
            None => {
                let id = new_id();
                headers.push(ListHeader {
                    new: true,
                    id: id.clone(),
                    code: r.code.clone(),
                    name: r.list_name.clone().unwrap_or_else(|| r.code.clone()),
                    is_base: false,
                    priority: r.priority.unwrap_or(100),
                    from,
                    to,
                });
                report.lists_created += 1;
                list_ids.insert(&r.code, id);
            }
        }
    }
    let prices = rows
        .iter()
        .map(|r| (list_ids[r.code.as_str()].clone(), skus[r.sku.as_str()].clone(), r.min_qty, r.unit_price))
        .collect();
    drop(list_ids);
    drop(rows);
    let unit = PriceListsWrite { now, actor: actor.owned(), headers, prices, rows: report.rows };
    report.prices_changed = db.write(unit, |tx, u| Box::pin(write_price_lists(tx, u))).await?;
    if report.prices_changed > 100_000 {
        db.analyze().await?;
    }
    Ok(report)
}

/// A price list's header to insert (`new`) or update.
struct ListHeader {
    new: bool,
    id: String,
    code: String,
    name: String,
    is_base: bool,
    priority: i64,
    from: Option<String>,
    to: Option<String>,
}

/// What a price list import writes, planned from the checked file.
struct PriceListsWrite {
    now: i64,
    actor: OwnedActor,
    headers: Vec<ListHeader>,
    /// (price list id, product id, min qty, price).
    prices: Vec<(String, String, i64, Money)>,
    /// Rows read (for the audit row).
    rows: u64,
}

/// A price list import's unit of work; returns the number of prices inserted or changed.
async fn write_price_lists(tx: &mut Tx, u: &PriceListsWrite) -> ServiceResult<u64> {
    let now = u.now;
    tx.bulk_mode().await?;
    for l in &u.headers {
        let h = NewPriceList {
            id: &l.id,
            code: &l.code,
            name: &l.name,
            is_base: l.is_base,
            priority: l.priority,
            valid_from: l.from.as_deref(),
            valid_to: l.to.as_deref(),
        };
        match l.new {
            true => pricing::insert_price_list(tx, &h, now).await?,
            false => pricing::update_price_list(tx, &h, now).await?,
        }
    }
    // The store takes the prices by value; the unit keeps its own (PostgreSQL may run it again).
    let prices_changed = pricing::upsert_prices(tx, PriceTable::Lists, u.prices.clone()).await?;
    let created = u.headers.iter().filter(|h| h.new).count() as u64;
    let updated = u.headers.len() as u64 - created;
    let summary = json!({
        "rows": u.rows, "lists_created": created,
        "lists_updated": updated, "prices_changed": prices_changed,
    });
    audit(tx, Some(&u.actor.actor()), now, "import.price_lists", ("import", &new_id()), None, Some(summary.clone()))
        .await?;
    if prices_changed > 0 || created > 0 || updated > 0 {
        crate::store::audit::enqueue(tx, "prices.imported", &summary, now).await?;
    }
    Ok(prices_changed)
}

/// Writes every row as CSV that imports back unchanged (the export of [`super::exports`], cells
/// neutralised against spreadsheet formulas). Returns the number of rows written.
pub async fn export_price_lists<W: Write>(db: &Db, actor: &Actor<'_>, out: W) -> Result<u64, ServiceError> {
    super::exports::write_export(db, actor, super::imports::Kind::PriceLists, out).await
}
