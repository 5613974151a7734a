//! CSV exports, one implementation per kind for the command line, the staff pages and the API:
//! an [`Export`] hands out the file a chunk at a time — the header, then one page of rows per
//! chunk, read by key ([`crate::store::exports`]) — so the web and API stream it as a response
//! body and the command line writes it to a file, all in flat memory however many rows there are.
//! Text cells are neutralised against spreadsheet formulas ([`import::neutralise_cell`]); the
//! importable kinds' files import back unchanged.

use super::imports::Kind;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::account::PaymentTerms;
use crate::domain::import::{self, neutralise_cell as cell};
use crate::domain::import_accounts::{ACCOUNT_COLUMNS, SHIP_TO_COLUMNS};
use crate::domain::import_price_list::PRICE_LIST_COLUMNS;
use crate::domain::import_stock::STOCK_COLUMNS;
use crate::domain::money::Money;
use crate::store::exports::{self, KeyPart, PAGE};
use crate::store::{Db, categories};
use std::collections::HashMap;
use std::io::Write;

/// The columns of an order export (one row per order line), in order.
pub const ORDER_COLUMNS: [&str; 18] = [
    "order_number",
    "account",
    "account_name",
    "status",
    "channel",
    "placed_at",
    "po_number",
    "requested_date",
    "ship_to",
    "placed_by",
    "order_subtotal",
    "line_no",
    "sku",
    "name",
    "uom",
    "quantity",
    "unit_price",
    "line_total",
];

/// The columns of a kind's file, in order.
pub fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Products => &super::product_imports::PRODUCT_COLUMNS,
        Kind::Stock => &STOCK_COLUMNS,
        Kind::PriceLists => &PRICE_LIST_COLUMNS,
        Kind::ContractPrices => &import::CONTRACT_PRICE_COLUMNS,
        Kind::Accounts => &ACCOUNT_COLUMNS,
        Kind::ShipTos => &SHIP_TO_COLUMNS,
        Kind::Orders => &ORDER_COLUMNS,
    }
}

/// An export being written, a chunk at a time. It holds no connection between chunks, and its
/// actor was checked when it started (the rows are then read with the store's own scope: every
/// kind needs a permission over every account or the whole catalog).
pub struct Export {
    db: Db,
    kind: Kind,
    after: Option<exports::Key>,
    header_sent: bool,
    done: bool,
    rows: u64,
    /// Category id → path (products; categories are few).
    categories: HashMap<String, String>,
}

impl Export {
    /// Starts an export of `kind` for an actor allowed it (403 for other staff, 404 for buyers).
    pub async fn start(db: &Db, actor: &Actor<'_>, kind: Kind) -> ServiceResult<Export> {
        for p in kind.export_permissions() {
            actor.require(*p)?;
        }
        let categories = match kind {
            Kind::Products => categories::categories(db).await?.into_iter().map(|c| (c.id, c.path)).collect(),
            _ => HashMap::new(),
        };
        Ok(Export { db: db.clone(), kind, after: None, header_sent: false, done: false, rows: 0, categories })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The next chunk of the file (the first holds the header), or `None` after the last.
    pub async fn next_chunk(&mut self) -> ServiceResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut w = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
        if !self.header_sent {
            w.write_record(columns(self.kind)).map_err(io)?;
            self.header_sent = true;
        }
        let (n, last) = self.page(&mut w).await?;
        self.rows += n;
        if n < PAGE as u64 {
            self.done = true;
        }
        if last.is_some() {
            self.after = last;
        }
        let bytes = w.into_inner().map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Some(bytes))
    }

    /// Writes the next page's rows; returns how many and the key of the last.
    async fn page(&self, w: &mut csv::Writer<Vec<u8>>) -> ServiceResult<(u64, Option<exports::Key>)> {
        let (db, after) = (&self.db, self.after.as_ref());
        let text = |s: &str| KeyPart::Text(s.to_string());
        let (n, last);
        match self.kind {
            Kind::Products => {
                let rows = exports::products(db, after).await?;
                let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
                let mut attrs: HashMap<String, Vec<String>> = HashMap::new();
                for (id, k, v) in exports::attributes_of(db, &ids).await? {
                    attrs.entry(id).or_default().push(format!("{k}={v}"));
                }
                for p in &rows {
                    let a = attrs.get(&p.id).map(|v| v.join("; ")).unwrap_or_default();
                    let category = p.category_id.as_ref().and_then(|c| self.categories.get(c));
                    w.write_record([
                        cell(&p.sku),
                        cell(&p.name),
                        cell(&p.description),
                        cell(category.map(String::as_str).unwrap_or("")),
                        cell(&p.uom),
                        p.pack_size.to_string(),
                        p.min_qty.to_string(),
                        p.multiple_qty.to_string(),
                        p.max_qty.map(|m| m.to_string()).unwrap_or_default(),
                        cell(p.image_url.as_deref().unwrap_or("")),
                        cell(p.regulated_class.as_deref().unwrap_or("")),
                        p.active.to_string(),
                        p.backorder_policy.clone(),
                        cell(p.external_id.as_deref().unwrap_or("")),
                        cell(&a),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|p| vec![text(&p.sku)]);
            }
            Kind::Stock => {
                let rows = exports::stock(db, after).await?;
                for r in &rows {
                    w.write_record([
                        cell(&r.sku),
                        cell(&r.warehouse),
                        r.on_hand.to_string(),
                        r.incoming.to_string(),
                        if r.incoming > 0 { r.incoming_eta.clone().unwrap_or_default() } else { String::new() },
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|r| vec![text(&r.sku), text(&r.warehouse)]);
            }
            Kind::PriceLists => {
                let rows = exports::list_prices(db, after).await?;
                for r in &rows {
                    w.write_record([
                        cell(&r.code),
                        cell(&r.name),
                        r.priority.to_string(),
                        r.valid_from.clone().unwrap_or_default(),
                        r.valid_to.clone().unwrap_or_default(),
                        cell(&r.sku),
                        r.min_qty.to_string(),
                        Money::from_raw(r.unit_price).to_plain(),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|r| vec![text(&r.code), text(&r.sku), KeyPart::Int(r.min_qty)]);
            }
            Kind::ContractPrices => {
                let rows = exports::contract_prices(db, after).await?;
                for r in &rows {
                    w.write_record([
                        cell(&r.contract_number),
                        cell(&r.account),
                        cell(&r.contract_name),
                        r.valid_from.clone().unwrap_or_default(),
                        r.valid_to.clone().unwrap_or_default(),
                        cell(&r.sku),
                        r.min_qty.to_string(),
                        Money::from_raw(r.unit_price).to_plain(),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|r| vec![text(&r.contract_number), text(&r.sku), KeyPart::Int(r.min_qty)]);
            }
            Kind::Orders => {
                let rows = exports::order_lines(db, after).await?;
                for r in &rows {
                    w.write_record([
                        cell(&r.number),
                        cell(&r.account),
                        cell(&r.account_name),
                        r.status.clone(),
                        r.channel.clone(),
                        iso_time(r.placed_at),
                        cell(&r.po_number),
                        r.requested_date.clone().unwrap_or_default(),
                        cell(&r.ship_to),
                        cell(&r.placed_by),
                        Money::from_raw(r.subtotal).to_plain(),
                        r.line_no.to_string(),
                        cell(&r.sku),
                        cell(&r.name),
                        cell(&r.uom),
                        r.quantity.to_string(),
                        Money::from_raw(r.unit_price).to_plain(),
                        Money::from_raw(r.line_total).to_plain(),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|r| vec![text(&r.number), KeyPart::Int(r.line_no)]);
            }
            Kind::Accounts => {
                let rows = exports::accounts(db, after).await?;
                for a in &rows {
                    w.write_record([
                        cell(&a.number),
                        cell(a.external_id.as_deref().unwrap_or("")),
                        cell(&a.name),
                        a.status.clone(),
                        a.ownership_mode.clone(),
                        cell(a.owner_rep.as_deref().unwrap_or("")),
                        PaymentTerms::from_days(a.terms_days).code(),
                        Money::from_raw(a.credit_limit).to_plain(),
                        a.po_required.to_string(),
                        cell(&a.phone),
                        cell(a.account_group.as_deref().unwrap_or("")),
                        cell(&a.bill_line1),
                        cell(&a.bill_line2),
                        cell(&a.bill_city),
                        cell(&a.bill_region),
                        cell(&a.bill_postal_code),
                        cell(&a.bill_country),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|a| vec![text(&a.number)]);
            }
            Kind::ShipTos => {
                let rows = exports::ship_tos(db, after).await?;
                for s in &rows {
                    w.write_record([
                        cell(&s.account),
                        cell(&s.id),
                        cell(s.external_id.as_deref().unwrap_or("")),
                        cell(&s.label),
                        s.is_default.to_string(),
                        cell(&s.line1),
                        cell(&s.line2),
                        cell(&s.city),
                        cell(&s.region),
                        cell(&s.postal_code),
                        cell(&s.country),
                    ])
                    .map_err(io)?;
                }
                n = rows.len();
                last = rows.last().map(|s| vec![text(&s.account), text(&s.id)]);
            }
        }
        Ok((n as u64, last))
    }
}

fn io(e: csv::Error) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// A time as exported: RFC 3339 in UTC (`2026-12-06T12:38:22Z`).
fn iso_time(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Writes a whole export to `out` (the command line, and callers that want a file); returns the
/// number of data rows.
pub async fn write_export<W: Write>(db: &Db, actor: &Actor<'_>, kind: Kind, mut out: W) -> ServiceResult<u64> {
    let mut export = Export::start(db, actor, kind).await?;
    while let Some(chunk) = export.next_chunk().await? {
        out.write_all(&chunk).map_err(|e| ServiceError::Internal(e.to_string()))?;
    }
    out.flush().map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(export.rows())
}

impl Export {
    /// The export as a stream of chunks, for a response body produced as it is sent: the next
    /// page is read only when the client has taken the previous one.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = ServiceResult<Vec<u8>>> + Send + 'static {
        futures_util::stream::try_unfold(self, |mut export| async move {
            let kind = export.kind;
            match export.next_chunk().await {
                Ok(Some(chunk)) => Ok(Some((chunk, export))),
                Ok(None) => Ok(None),
                Err(e) => {
                    // The status line went out with the first chunk; the client sees a cut body.
                    tracing::error!(kind = kind.as_str(), error = %e, "an export failed mid-stream");
                    Err(e)
                }
            }
        })
    }
}
