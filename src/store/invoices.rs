//! Invoices, their lines, the tax rates they are computed with, and the seller's settings printed
//! on them.

use super::{Db, StoreResult, Tx};
use crate::domain::invoicing::TaxRate;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub account_id: String,
    pub account_name: String,
    pub account_number: String,
    pub order_id: String,
    pub order_number: String,
    pub shipment_id: Option<String>,
    pub shipment_number: Option<String>,
    pub issued_on: String,
    pub due_on: String,
    pub terms: String,
    pub bill_to: String,
    pub ship_to: String,
    pub po_number: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub paid: i64,
    pub tax_note: String,
    pub status: String,
    pub created_at: i64,
    /// Changes when the invoice is paid, unapplied, credited against or reversed.
    #[serde(default)]
    pub updated_at: i64,
    /// Of a credit note: why, and the number of the invoice it credits.
    pub reason: String,
    pub credited_invoice_number: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct InvoiceLineRow {
    pub line_no: i64,
    pub order_line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub net: i64,
    pub tax_rate_ppm: i64,
    pub tax_label: String,
    pub tax: i64,
    /// Of an invoice's line: how much credit notes have credited.
    #[serde(default)]
    pub credited_qty: i64,
}

/// What an invoice needs to know of its account.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct BillingFacts {
    pub name: String,
    pub number: String,
    pub terms_days: i64,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub terms_from_month_end: bool,
    pub tax_exempt_certificate: String,
    pub tax_exempt_until: Option<String>,
    pub bill_line1: String,
    pub bill_line2: String,
    pub bill_city: String,
    pub bill_region: String,
    pub bill_postal_code: String,
    pub bill_country: String,
    pub ship_country: String,
    pub ship_region: String,
}

/// What an invoice needs of its account, with the ship-to's country and region (where tax is
/// decided; empty without a ship-to) — one read.
pub async fn billing_facts(
    tx: &mut Tx,
    account_id: &str,
    ship_to_id: Option<&str>,
) -> StoreResult<Option<BillingFacts>> {
    tx.fetch_optional(
        "SELECT a.name, a.number, a.terms_days, a.terms_from_month_end, a.tax_exempt_certificate, a.tax_exempt_until,
                a.bill_line1, a.bill_line2, a.bill_city, a.bill_region, a.bill_postal_code, a.bill_country,
                COALESCE(s.country, '') AS ship_country, COALESCE(s.region, '') AS ship_region
         FROM accounts a LEFT JOIN ship_tos s ON s.id = $2 AND s.account_id = a.id WHERE a.id = $1",
        args![account_id, ship_to_id],
    )
    .await
}

/// Tax classes of products, by id, with their category paths ('' without one; commission rates by
/// category need them) — one query.
pub async fn tax_classes(tx: &mut Tx, product_ids: &[String]) -> StoreResult<Vec<(String, String, String)>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=product_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT p.id, p.tax_class, COALESCE(c.path, '') FROM products p LEFT JOIN categories c ON c.id = p.category_id
         WHERE p.id IN ({})",
        placeholders.join(", ")
    );
    tx.fetch_all(&sql, product_ids.iter().map(|id| super::Cell::text(id)).collect()).await
}

pub async fn tax_rates_tx(tx: &mut Tx) -> StoreResult<Vec<TaxRate>> {
    let rows: Vec<(String, String, String, i64, String)> = tx
        .fetch_all(
            "SELECT country, region, tax_class, rate_ppm, label FROM tax_rates ORDER BY country, region, tax_class",
            vec![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(country, region, tax_class, rate_ppm, label)| TaxRate { country, region, tax_class, rate_ppm, label })
        .collect())
}

/// Sets a tax rate (country, region, class are its key).
pub async fn put_tax_rate(tx: &mut Tx, id: &str, r: &TaxRate) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO tax_rates (id, country, region, tax_class, rate_ppm, label) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (country, region, tax_class) DO UPDATE SET rate_ppm = excluded.rate_ppm, label = excluded.label",
        args![id, r.country.as_str(), r.region.as_str(), r.tax_class.as_str(), r.rate_ppm, r.label.as_str()],
    )
    .await?;
    Ok(())
}

pub struct NewInvoice<'a> {
    /// `invoice` or `credit_note`.
    pub kind: &'a str,
    /// Of a credit note: the invoice it credits, and why.
    pub credited_invoice_id: Option<&'a str>,
    pub reason: &'a str,
    pub id: &'a str,
    pub number: &'a str,
    pub account_id: &'a str,
    pub order_id: &'a str,
    pub shipment_id: Option<&'a str>,
    pub issued_on: &'a str,
    pub due_on: &'a str,
    pub terms: &'a str,
    pub bill_to: &'a str,
    pub ship_to: &'a str,
    pub po_number: &'a str,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub tax_note: &'a str,
    pub lines: &'a [InvoiceLineRow],
}

/// Writes an invoice and its lines, and counts its quantities as invoiced on the order's lines; a
/// credit note's lines are counted as credited on the invoice it credits instead.
pub async fn insert(tx: &mut Tx, i: &NewInvoice<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO invoices (id, number, kind, account_id, order_id, shipment_id, issued_on, due_on, terms, bill_to, ship_to,
             po_number, subtotal, tax, total, tax_note, created_at, updated_at, credited_invoice_id, reason)
         VALUES ($1, $2, $17, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $18, $19)",
        args![
            i.id,
            i.number,
            i.account_id,
            i.order_id,
            i.shipment_id,
            i.issued_on,
            i.due_on,
            i.terms,
            i.bill_to,
            i.ship_to,
            i.po_number,
            i.subtotal,
            i.tax,
            i.total,
            i.tax_note,
            now,
            i.kind,
            i.credited_invoice_id,
            i.reason
        ],
    )
    .await?;
    if i.lines.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<super::Cell>> = i
        .lines
        .iter()
        .map(|l| {
            args![
                i.id,
                l.line_no,
                l.order_line_no,
                l.sku.as_str(),
                l.name.as_str(),
                l.quantity,
                l.unit_price,
                l.net,
                l.tax_rate_ppm,
                l.tax_label.as_str(),
                l.tax
            ]
        })
        .collect();
    super::bulk::bulk_insert(
        tx,
        "invoice_lines",
        &[
            "invoice_id",
            "line_no",
            "order_line_no",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "net",
            "tax_rate_ppm",
            "tax_label",
            "tax",
        ],
        &rows,
    )
    .await?;
    // What the lines billed (or credited) is counted on the order's (or the invoice's) lines, in
    // one statement: quantity per order line, from the lines just written.
    let (table, key, column, owner) = match i.credited_invoice_id {
        None => ("order_lines", "order_id", "invoiced_qty", i.order_id),
        Some(credited) => ("invoice_lines", "invoice_id", "credited_qty", credited),
    };
    let line_column = if table == "order_lines" { "line_no" } else { "order_line_no" };
    tx.execute(
        &format!(
            "UPDATE {table} SET {column} = {column} + (
                 SELECT COALESCE(SUM(n.quantity), 0) FROM invoice_lines n WHERE n.invoice_id = $2 AND n.order_line_no = {table}.{line_column})
             WHERE {key} = $1 AND {line_column} IN (SELECT order_line_no FROM invoice_lines WHERE invoice_id = $2)"
        ),
        args![owner, i.id],
    )
    .await?;
    if let Some(credited) = i.credited_invoice_id {
        // What it credited shows on the credited invoice: it changed too.
        tx.execute("UPDATE invoices SET updated_at = $2 WHERE id = $1", args![credited, now]).await?;
    }
    Ok(())
}

const INVOICE_COLUMNS: &str =
    "i.id, i.number, i.kind, i.account_id, a.name AS account_name, a.number AS account_number,
     i.order_id, o.number AS order_number, i.shipment_id, s.number AS shipment_number, i.issued_on, i.due_on, i.terms,
     i.bill_to, i.ship_to, i.po_number, i.subtotal, i.tax, i.total, i.paid, i.tax_note, i.status, i.created_at, i.updated_at, i.reason, ci.number AS credited_invoice_number";
const INVOICE_FROM: &str = "FROM invoices i JOIN accounts a ON a.id = i.account_id JOIN orders o ON o.id = i.order_id
     LEFT JOIN shipments s ON s.id = i.shipment_id LEFT JOIN invoices ci ON ci.id = i.credited_invoice_id";

/// An invoice or credit note (by id or number), read in a unit after locking its row, so what is
/// credited or paid cannot change under the unit.
pub async fn lock(tx: &mut Tx, id_or_number: &str) -> StoreResult<Option<InvoiceRow>> {
    let ids: Vec<String> = tx.lock("SELECT id FROM invoices WHERE id = $1 OR number = $1", args![id_or_number]).await?;
    let Some(id) = ids.into_iter().next() else { return Ok(None) };
    tx.fetch_optional(&format!("SELECT {INVOICE_COLUMNS} {INVOICE_FROM} WHERE i.id = $1"), args![id.as_str()]).await
}

/// [`lock`], with the invoice's lines.
pub async fn lock_with_lines(
    tx: &mut Tx,
    id_or_number: &str,
) -> StoreResult<Option<(InvoiceRow, Vec<InvoiceLineRow>)>> {
    let Some(row) = lock(tx, id_or_number).await? else { return Ok(None) };
    let id = row.id.clone();
    let lines = tx
        .fetch_all(
            "SELECT line_no, order_line_no, sku, name, quantity, unit_price, net, tax_rate_ppm, tax_label, tax, credited_qty
             FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no",
            args![id.as_str()],
        )
        .await?;
    Ok(Some((row, lines)))
}

/// The ids of an order's invoices (not its credit notes), oldest first.
pub async fn ids_of_order(tx: &mut Tx, order_id: &str) -> StoreResult<Vec<String>> {
    tx.fetch_all(
        "SELECT id FROM invoices WHERE order_id = $1 AND kind = 'invoice' ORDER BY created_at, number",
        args![order_id],
    )
    .await
}

/// Applies `amount` of a payment or credit note (`source_kind`, `source_id`) to an invoice: the
/// application's row (its id returned), and the invoice's paid amount and status. The caller moves
/// the exposure.
pub async fn apply(
    tx: &mut Tx,
    account_id: &str,
    (source_kind, source_id): (&str, &str),
    invoice_id: &str,
    amount: i64,
    applied_on: &str,
    now: i64,
) -> StoreResult<String> {
    let id = super::new_id();
    tx.execute(
        "INSERT INTO payment_applications (id, account_id, source_kind, source_id, invoice_id, amount, applied_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![id.as_str(), account_id, source_kind, source_id, invoice_id, amount, applied_on, now],
    )
    .await?;
    add_paid(tx, invoice_id, amount, now).await?;
    Ok(id)
}

/// Moves an invoice's (or credit note's) paid amount by `amount` and sets its status from it.
pub async fn add_paid(tx: &mut Tx, invoice_id: &str, amount: i64, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE invoices SET paid = paid + $2, updated_at = $3,
             status = CASE WHEN status = 'void' THEN status WHEN paid + $2 >= total THEN 'paid' ELSE 'open' END
         WHERE id = $1",
        args![invoice_id, amount, now],
    )
    .await?;
    Ok(())
}

/// One invoice by id or number.
pub async fn get(db: &Db, id_or_number: &str) -> StoreResult<Option<InvoiceRow>> {
    let sql = format!("SELECT {INVOICE_COLUMNS} {INVOICE_FROM} WHERE i.id = $1 OR i.number = $1");
    on_db!(db, |c| sqlx::query_as::<_, InvoiceRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id_or_number)
        .fetch_optional(c)
        .await)
}

pub async fn lines(db: &Db, invoice_id: &str) -> StoreResult<Vec<InvoiceLineRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, InvoiceLineRow>(
        "SELECT line_no, order_line_no, sku, name, quantity, unit_price, net, tax_rate_ppm, tax_label, tax, credited_qty
         FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no"
    )
    .bind(invoice_id)
    .fetch_all(c)
    .await
    })
}

/// Invoices newest first: of one account, of one order, or all; `after` is the last (issued_on,
/// number) of the previous page.
pub async fn list(
    db: &Db,
    account_id: Option<&str>,
    order_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> StoreResult<Vec<InvoiceRow>> {
    let mut sql = format!("SELECT {INVOICE_COLUMNS} {INVOICE_FROM} WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    if let Some(a) = account_id {
        binds.push(a.to_string());
        sql.push_str(&format!(" AND i.account_id = ${}", binds.len()));
    }
    if let Some(o) = order_id {
        binds.push(o.to_string());
        sql.push_str(&format!(" AND i.order_id = ${}", binds.len()));
    }
    if let Some((on, number)) = after {
        binds.push(on.to_string());
        binds.push(number.to_string());
        let (d, n) = (binds.len() - 1, binds.len());
        sql.push_str(&format!(" AND (i.issued_on < ${d} OR (i.issued_on = ${d} AND i.number < ${n}))"));
    }
    sql.push_str(&format!(" ORDER BY i.issued_on DESC, i.number DESC LIMIT {}", limit.clamp(1, 500)));
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, InvoiceRow>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(c).await
    })
}

/// Invoices and credit notes created or changed at or after `since`, oldest change first, after the
/// previous page's last (updated_at, id): of one account, or all (how an ERP pulls them).
pub async fn changed_since(
    db: &Db,
    account_id: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<InvoiceRow>> {
    let select = format!("SELECT {INVOICE_COLUMNS} {INVOICE_FROM}");
    super::changed_joined(db, (&select, "i"), account_id, since, after, limit).await
}

/// A setting (the seller's name and address), if set.
pub async fn setting(db: &Db, key: &str) -> StoreResult<Option<String>> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(c)
        .await)
}

pub async fn put_setting(tx: &mut Tx, key: &str, value: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        args![key, value],
    )
    .await?;
    Ok(())
}

/// Every tax rate, by country, region and class.
pub async fn tax_rates(db: &Db) -> StoreResult<Vec<TaxRate>> {
    let rows: Vec<(String, String, String, i64, String)> = on_db!(db, |c| sqlx::query_as(
        "SELECT country, region, tax_class, rate_ppm, label FROM tax_rates ORDER BY country, region, tax_class"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(country, region, tax_class, rate_ppm, label)| TaxRate { country, region, tax_class, rate_ppm, label })
        .collect())
}

/// Removes a rate; whether there was one.
pub async fn delete_tax_rate(tx: &mut Tx, country: &str, region: &str, tax_class: &str) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM tax_rates WHERE country = $1 AND region = $2 AND tax_class = $3",
            args![country, region, tax_class],
        )
        .await?;
    Ok(n > 0)
}
