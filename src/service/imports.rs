//! CSV imports and exports. Imports are all-or-nothing: the whole file is read and checked first,
//! every bad row is reported (line, column, reason), and only a clean file is written — in one
//! transaction. Re-importing the same file changes nothing.

use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::import::{self, CONTRACT_PRICE_COLUMNS, ContractPriceRow, RowError};
use crate::domain::input::{TextKind, check_text};
use crate::domain::money::Money;
use crate::store::pricing::{self, PriceTable, format_iso};
use crate::store::{Cell, Db, Tx, UnitError, accounts, bulk_insert, new_id, products};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};

#[derive(Debug)]
pub enum ImportError {
    /// The file has problems; nothing was written.
    Invalid(Vec<RowError>),
    Service(ServiceError),
}

impl From<ServiceError> for ImportError {
    fn from(e: ServiceError) -> Self {
        ImportError::Service(e)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Service(e.into())
    }
}

/// An import's unit of work may refuse the file (a row that no longer applies); that takes back
/// everything it wrote, like any error.
impl UnitError for ImportError {
    fn store_error(&self) -> Option<&sqlx::Error> {
        match self {
            ImportError::Service(e) => e.store_error(),
            ImportError::Invalid(_) => None,
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: u64,
    pub contracts_created: u64,
    pub contracts_updated: u64,
    /// Prices inserted or changed; 0 when the same file is imported again.
    pub prices_changed: u64,
}

/// How far an import has read its file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
}

/// What a CSV file holds: the kinds Portico imports and exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Products,
    Stock,
    PriceLists,
    ContractPrices,
    Accounts,
    ShipTos,
    /// Exported only (one row per order line).
    Orders,
}

impl Kind {
    /// Every kind, in the order menus list them.
    pub const ALL: [Kind; 7] = [
        Kind::Products,
        Kind::Stock,
        Kind::PriceLists,
        Kind::ContractPrices,
        Kind::Accounts,
        Kind::ShipTos,
        Kind::Orders,
    ];
    /// The kinds Portico imports.
    pub const IMPORTS: [Kind; 6] =
        [Kind::Products, Kind::Stock, Kind::PriceLists, Kind::ContractPrices, Kind::Accounts, Kind::ShipTos];

    /// The name on the command line, in the upload form and in export URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Products => "products",
            Kind::Stock => "stock",
            Kind::PriceLists => "price-lists",
            Kind::ContractPrices => "contract-prices",
            Kind::Accounts => "accounts",
            Kind::ShipTos => "ship-tos",
            Kind::Orders => "orders",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Products => "Products",
            Kind::Stock => "Stock levels",
            Kind::PriceLists => "Price list prices",
            Kind::ContractPrices => "Contract prices",
            Kind::Accounts => "Accounts",
            Kind::ShipTos => "Ship-to locations",
            Kind::Orders => "Order lines",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn importable(self) -> bool {
        Kind::IMPORTS.contains(&self)
    }

    /// The permission importing this kind takes.
    pub fn permission(self) -> Permission {
        match self {
            Kind::Products => Permission::ManageCatalog,
            Kind::Stock => Permission::ManageStock,
            Kind::PriceLists | Kind::ContractPrices => Permission::ManagePrices,
            Kind::Accounts | Kind::ShipTos => Permission::ManageAccounts,
            Kind::Orders => Permission::ManageOrders,
        }
    }

    /// The permissions exporting this kind takes: reading the catalog (products, stock), and
    /// seeing every account for what names accounts (prices, accounts, ship-tos, orders). The API
    /// scopes `catalog:read`, `pricing:read`, `accounts:read` and `orders:read` grant them.
    pub fn export_permissions(self) -> &'static [Permission] {
        match self {
            Kind::Products | Kind::Stock => &[Permission::ReadCatalog],
            Kind::PriceLists | Kind::ContractPrices => &[Permission::ReadCatalog, Permission::ViewAllAccounts],
            Kind::Accounts | Kind::ShipTos | Kind::Orders => &[Permission::ViewAllAccounts],
        }
    }

    /// The name of an exported file, e.g. `products.csv`.
    pub fn file_name(self) -> String {
        format!("{}.csv", self.as_str())
    }
}

/// Imports a file of any kind, all-or-nothing; returns a one-line summary of what changed.
pub async fn import_file<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    kind: Kind,
    reader: R,
    progress: impl FnMut(Progress),
) -> Result<String, ImportError> {
    use super::{price_list_imports, product_imports, stock_imports};
    Ok(match kind {
        Kind::Products => {
            let r = product_imports::import_products(db, now, actor, reader, progress).await?;
            format!("{} products read; {} created, {} updated.", r.rows, r.created, r.updated)
        }
        Kind::Stock => {
            let r = stock_imports::import_stock(db, now, actor, reader, progress).await?;
            format!("{} stock rows read; {} changed.", r.rows, r.changed)
        }
        Kind::PriceLists => {
            let r = price_list_imports::import_price_lists(db, now, actor, reader, progress).await?;
            format!(
                "{} rows read; {} price lists created, {} updated; {} prices inserted or changed.",
                r.rows, r.lists_created, r.lists_updated, r.prices_changed
            )
        }
        Kind::ContractPrices => {
            let r = import_contract_prices(db, now, actor, reader, progress).await?;
            format!(
                "{} rows read; {} contracts created, {} updated; {} prices inserted or changed.",
                r.rows, r.contracts_created, r.contracts_updated, r.prices_changed
            )
        }
        Kind::Accounts => {
            let r = super::account_imports::import_accounts(db, now, actor, reader, progress).await?;
            format!("{} accounts read; {} created, {} updated.", r.rows, r.created, r.updated)
        }
        Kind::ShipTos => {
            let r = super::account_imports::import_ship_tos(db, now, actor, reader, progress).await?;
            format!("{} ship-tos read; {} created, {} updated.", r.rows, r.created, r.updated)
        }
        Kind::Orders => {
            return Err(ServiceError::invalid("kind", "Orders are exported, not imported.").into());
        }
    })
}

/// Exports every row of a kind as CSV (the importable kinds import back unchanged); returns the
/// rows written. The one export path ([`super::exports`]), written whole to `out`.
pub async fn export_file<W: Write>(db: &Db, actor: &Actor<'_>, kind: Kind, out: W) -> Result<u64, ServiceError> {
    super::exports::write_export(db, actor, kind, out).await
}

/// The columns of import files whose cells may hold several lines.
const MULTILINE_COLUMNS: [&str; 1] = ["description"];

/// An import file being read: RFC 4180 via the csv crate, cells trimmed, the header lower-cased and
/// checked against the kind's columns before anything else is read.
pub(crate) struct CsvFile<R: Read> {
    csv: csv::Reader<R>,
    index: HashMap<String, usize>,
}

/// The cells of one data row, by column name (empty when the column is absent).
pub(crate) struct Cells<'r> {
    record: &'r csv::StringRecord,
    index: &'r HashMap<String, usize>,
}

impl<'r> Cells<'r> {
    /// The cell, with an export's formula neutralisation undone.
    pub fn get(&self, column: &str) -> &'r str {
        import::restore_cell(self.index.get(column).and_then(|&i| self.record.get(i)).unwrap_or(""))
    }
}

impl<R: Read> CsvFile<R> {
    pub fn open(reader: R, columns: &[&str], required: &[&str]) -> Result<CsvFile<R>, ImportError> {
        let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(reader);
        let header: Vec<String> = match csv.headers() {
            Ok(h) => h.iter().map(|s| s.to_lowercase()).collect(),
            Err(e) => {
                return Err(ImportError::Invalid(vec![RowError {
                    line: 1,
                    column: "-".into(),
                    reason: format!("cannot read the header: {e}"),
                }]));
            }
        };
        let errors = import::check_columns(&header, columns, required);
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }
        let index = header.into_iter().enumerate().map(|(i, h)| (h, i)).collect();
        Ok(CsvFile { csv, index })
    }

    /// Reports every cell of a record with a control character; true if there was one.
    /// Descriptions may span lines (a quoted cell with line breaks); every other cell is one line.
    fn check_text(&self, line: u64, record: &csv::StringRecord, errors: &mut Vec<RowError>) -> bool {
        let mut refused = false;
        for (column, &i) in &self.index {
            let kind = if MULTILINE_COLUMNS.contains(&column.as_str()) { TextKind::Multiline } else { TextKind::Line };
            if let Some(Err(reason)) = record.get(i).map(|cell| check_text(cell, kind)) {
                errors.push(RowError { line, column: column.clone(), reason });
                refused = true;
            }
        }
        refused
    }

    pub fn has_column(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// Calls `row` with the line number and cells of every non-empty data row, and `progress` with
    /// the rows and bytes read every `every` rows and at the end. A malformed row ends reading (the rest of
    /// the file cannot be trusted) and is reported in `errors`.
    pub fn for_each_row(
        &mut self,
        every: u64,
        mut progress: impl FnMut(Progress),
        errors: &mut Vec<RowError>,
        mut row: impl FnMut(u64, &Cells<'_>, &mut Vec<RowError>),
    ) {
        let mut record = csv::StringRecord::new();
        let mut count = 0u64;
        loop {
            match self.csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    errors.push(RowError { line, column: "-".into(), reason: format!("not valid CSV: {e}") });
                    break;
                }
            }
            count += 1;
            if count.is_multiple_of(every) {
                progress(Progress { rows: count, bytes: self.csv.position().byte() });
            }
            let line = record.position().map(|p| p.line()).unwrap_or(count + 1);
            if record.iter().all(str::is_empty) {
                continue;
            }
            // Every cell passes the text rule of every input (no control characters) before the
            // row is read: a row with one is reported (line and column) and not read further.
            let refused = self.check_text(line, &record, errors);
            if !refused {
                row(line, &Cells { record: &record, index: &self.index }, errors);
            }
        }
        progress(Progress { rows: count, bytes: self.csv.position().byte() });
    }
}

/// Imports contract prices (columns: see [`CONTRACT_PRICE_COLUMNS`]). Contracts that do not exist
/// yet are created for their account. `progress` is called with the number of rows read so far.
pub async fn import_contract_prices<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    actor.require(Permission::ManagePrices)?;
    let mut file = CsvFile::open(reader, &CONTRACT_PRICE_COLUMNS, &import::CONTRACT_PRICE_REQUIRED)?;
    let skus = products::sku_index(db).await?;
    let account_refs = accounts::reference_index(db).await?;
    let existing = pricing::contracts_by_number(db).await?;

    let mut rows: Vec<ContractPriceRow> = Vec::new();
    let mut errors = Vec::new();
    file.for_each_row(10_000, &mut progress, &mut errors, |line, cells, errors| {
        match import::parse_contract_price(line, |c| cells.get(c)) {
            Err(mut e) => errors.append(&mut e),
            Ok(row) => {
                if !skus.contains_key(row.sku.as_str()) {
                    errors.push(RowError { line, column: "sku".into(), reason: format!("unknown SKU {}", row.sku) });
                }
                match account_refs.get(&row.account) {
                    None => errors.push(RowError {
                        line,
                        column: "account".into(),
                        reason: format!("unknown account “{}”", row.account),
                    }),
                    Some(account_id) => {
                        if let Some((_, owner, ..)) = existing.get(&row.contract_number)
                            && owner != account_id
                        {
                            errors.push(RowError {
                                line,
                                column: "account".into(),
                                reason: format!("contract {} belongs to another account", row.contract_number),
                            });
                        }
                    }
                }
                rows.push(row);
            }
        }
    });
    errors.extend(import::check_contract_rows(&rows));
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }

    // Clean: plan every write from what was read, then write it all in one unit of work.
    let mut report = ImportReport { rows: rows.len() as u64, ..Default::default() };
    let mut contract_ids: HashMap<&str, String> = HashMap::new();
    let mut header_updates = Vec::new();
    let mut new_contracts = Vec::new();
    for r in &rows {
        if contract_ids.contains_key(r.contract_number.as_str()) {
            continue;
        }
        let from = r.valid_from.map(format_iso);
        let to = r.valid_to.map(format_iso);
        let name = if r.contract_name.is_empty() {
            format!("Contract {}", r.contract_number)
        } else {
            r.contract_name.clone()
        };
        match existing.get(&r.contract_number) {
            Some((id, _, old_name, old_from, old_to)) => {
                if (&name, &from, &to) != (old_name, old_from, old_to) {
                    header_updates.push(ContractHeader { id: id.clone(), name, from, to });
                }
                contract_ids.insert(&r.contract_number, id.clone());
            }
            None => {
                let id = new_id();
                new_contracts.push(vec![
                    Cell::Text(id.clone()),
                    Cell::Text(r.contract_number.clone()),
                    Cell::Text(account_refs[&r.account].clone()),
                    Cell::Text(name),
                    from.map(Cell::Text).unwrap_or(Cell::NullText),
                    to.map(Cell::Text).unwrap_or(Cell::NullText),
                    Cell::Int(now),
                    Cell::Int(now),
                ]);
                contract_ids.insert(&r.contract_number, id);
            }
        }
    }
    report.contracts_updated = header_updates.len() as u64;
    report.contracts_created = new_contracts.len() as u64;
    let prices = rows
        .iter()
        .map(|r| {
            let contract = contract_ids[r.contract_number.as_str()].clone();
            (contract, skus[r.sku.as_str()].clone(), r.min_qty, r.unit_price)
        })
        .collect();
    drop(contract_ids);
    drop(rows);
    let unit =
        ContractPricesWrite { now, actor: actor.owned(), header_updates, new_contracts, prices, rows: report.rows };
    report.prices_changed = db.write(unit, |tx, u| Box::pin(write_contract_prices(tx, u))).await?;
    if report.prices_changed > 100_000 {
        db.analyze().await?;
    }
    Ok(report)
}

/// A contract's new header (name, validity).
struct ContractHeader {
    id: String,
    name: String,
    from: Option<String>,
    to: Option<String>,
}

/// What a contract price import writes, planned from the checked file.
struct ContractPricesWrite {
    now: i64,
    actor: OwnedActor,
    header_updates: Vec<ContractHeader>,
    /// Rows of `contracts` to insert.
    new_contracts: Vec<Vec<Cell>>,
    /// (contract id, product id, min qty, price).
    prices: Vec<(String, String, i64, Money)>,
    /// Rows read (for the audit row).
    rows: u64,
}

/// A contract price import's unit of work; returns the number of prices inserted or changed.
async fn write_contract_prices(tx: &mut Tx, u: &ContractPricesWrite) -> ServiceResult<u64> {
    let now = u.now;
    tx.bulk_mode().await?;
    for h in &u.header_updates {
        pricing::update_contract_header(tx, &h.id, &h.name, h.from.as_deref(), h.to.as_deref(), now).await?;
    }
    bulk_insert(
        tx,
        "contracts",
        &["id", "number", "account_id", "name", "valid_from", "valid_to", "created_at", "updated_at"],
        &u.new_contracts,
    )
    .await?;
    // The store takes the prices by value; the unit keeps its own (PostgreSQL may run it again).
    let prices_changed = pricing::upsert_prices(tx, PriceTable::Contracts, u.prices.clone()).await?;
    let (created, updated) = (u.new_contracts.len() as u64, u.header_updates.len() as u64);
    let summary = json!({
        "rows": u.rows, "contracts_created": created,
        "contracts_updated": updated, "prices_changed": prices_changed,
    });
    audit(
        tx,
        Some(&u.actor.actor()),
        now,
        "import.contract_prices",
        ("import", &new_id()),
        None,
        Some(summary.clone()),
    )
    .await?;
    if prices_changed > 0 || created > 0 || updated > 0 {
        crate::store::audit::enqueue(tx, "prices.imported", &summary, now).await?;
    }
    Ok(prices_changed)
}

/// Writes every contract price as CSV that imports back unchanged (the contract price export of
/// [`super::exports`]). Returns the number of rows written.
pub async fn export_contract_prices<W: Write>(db: &Db, actor: &Actor<'_>, out: W) -> Result<u64, ServiceError> {
    super::exports::write_export(db, actor, Kind::ContractPrices, out).await
}
