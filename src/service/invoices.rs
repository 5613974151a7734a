//! Invoices (DESIGN.md §3 "Invoice"): written in the same unit of work as what they bill — a
//! shipment bills what it shipped; a prepay account's order is billed whole when it is placed —
//! numbered without gaps (the number is taken in that transaction, so a rolled-back unit takes it
//! back), due by the account's terms, taxed per line by the ship-to's region and the product's tax
//! class (`domain::invoicing`). Who may read them: a buyer with billing rights (manager, finance)
//! their own account's; staff the accounts they may see.

use super::catalog::today;
use super::{Actor, ServiceError, ServiceResult, audit_and_publish};
use crate::domain::auth::Permission;
use crate::domain::invoicing::{DocumentLine, DueTerms, InvoiceDocument, exempt_on, format_rate, line_tax, rate_for};
use crate::domain::money::Money;
use crate::store::invoices::{self, InvoiceLineRow, NewInvoice};
use crate::store::{Db, Tx, new_id, orders};
use serde_json::json;
use std::collections::HashMap;

pub use crate::store::invoices::{InvoiceLineRow as InvoiceLine, InvoiceRow};

/// What an invoice bills of an order's lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Basis {
    /// What has shipped and is not invoiced yet (after a shipment).
    Shipped,
    /// Everything ordered and not invoiced yet (a prepay order, at placement).
    Ordered,
}

/// Writes the invoice for what of `order` is due to be billed on `basis`, in the caller's unit of
/// work; `None` when nothing is (a prepay order's shipment: it was billed at placement).
pub(crate) async fn invoice_order(
    tx: &mut Tx,
    actor: &Actor<'_>,
    order: &orders::OrderRow,
    shipment_id: Option<&str>,
    basis: Basis,
    now: i64,
) -> ServiceResult<Option<String>> {
    let lines = orders::lines_tx(tx, &order.id).await?;
    invoice_lines(tx, actor, order, &lines, shipment_id, basis, now).await
}

/// [`invoice_order`] from the order's lines as the caller has them now (a shipment's unit knows
/// them: it read them and shipped from them).
pub(crate) async fn invoice_lines(
    tx: &mut Tx,
    actor: &Actor<'_>,
    order: &orders::OrderRow,
    lines: &[orders::OrderLineRow],
    shipment_id: Option<&str>,
    basis: Basis,
    now: i64,
) -> ServiceResult<Option<String>> {
    let due: Vec<(&orders::OrderLineRow, i64)> = lines
        .iter()
        .map(|l| {
            let billable = if basis == Basis::Shipped { l.shipped_qty } else { l.quantity };
            (l, billable - l.invoiced_qty)
        })
        .filter(|(_, q)| *q > 0)
        .collect();
    if due.is_empty() {
        return Ok(None);
    }
    let Some(account) = invoices::billing_facts(tx, &order.account_id, order.ship_to_id.as_deref()).await? else {
        return Err(ServiceError::NotFound);
    };
    let (country, region) = (account.ship_country.clone(), account.ship_region.clone());
    let rates = invoices::tax_rates_tx(tx).await?;
    let product_ids: Vec<String> = due.iter().map(|(l, _)| l.product_id.clone()).collect();
    let facts = invoices::tax_classes(tx, &product_ids).await?;
    let classes: HashMap<String, String> = facts.iter().map(|(id, class, _)| (id.clone(), class.clone())).collect();
    let categories: HashMap<String, String> = facts.into_iter().map(|(id, _, path)| (id, path)).collect();
    let issued = today(now);
    let exempt_until = crate::store::pricing::parse_date(account.tax_exempt_until.as_deref());
    let exempt = exempt_on(&account.tax_exempt_certificate, exempt_until, issued);
    let overflow = || ServiceError::invalid("invoice", "The invoice total is too large.");
    let mut rows = Vec::new();
    for (i, (l, qty)) in due.iter().enumerate() {
        let unit = Money::from_raw(l.unit_price);
        let net = unit.checked_mul_qty(*qty).ok_or_else(overflow)?.round_to_cents();
        let class = classes.get(&l.product_id).map(String::as_str).unwrap_or("standard");
        let rate = if exempt { None } else { rate_for(&rates, &country, &region, class) };
        let ppm = rate.map(|r| r.rate_ppm).unwrap_or(0);
        let tax = line_tax(net, ppm).ok_or_else(overflow)?;
        let label = match rate {
            _ if exempt => "exempt".to_string(),
            Some(r) if !r.label.is_empty() => r.label.clone(),
            Some(r) => format_rate(r.rate_ppm),
            None => String::new(),
        };
        rows.push(InvoiceLineRow {
            line_no: i as i64 + 1,
            order_line_no: l.line_no,
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: *qty,
            unit_price: l.unit_price,
            net: net.raw(),
            tax_rate_ppm: ppm,
            tax_label: label,
            tax: tax.raw(),
            credited_qty: 0,
        });
    }
    let subtotal = Money::sum(rows.iter().map(|r| Money::from_raw(r.net))).ok_or_else(overflow)?;
    let tax = Money::sum(rows.iter().map(|r| Money::from_raw(r.tax))).ok_or_else(overflow)?;
    let total = subtotal.checked_add(tax).ok_or_else(overflow)?;
    let terms = DueTerms::of(account.terms_days, account.terms_from_month_end);
    let iso = crate::store::pricing::format_iso;
    let bill_to = [
        account.name.as_str(),
        account.bill_line1.as_str(),
        account.bill_line2.as_str(),
        &[account.bill_postal_code.as_str(), account.bill_city.as_str(), account.bill_region.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        account.bill_country.as_str(),
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join("\n");
    let tax_note = if exempt {
        match &account.tax_exempt_until {
            Some(until) => {
                format!("Tax exempt: certificate {} (valid to {until}).", account.tax_exempt_certificate.trim())
            }
            None => format!("Tax exempt: certificate {}.", account.tax_exempt_certificate.trim()),
        }
    } else {
        String::new()
    };
    let id = new_id();
    let number = format!("INV-{}", tx.next_counter("invoice").await?);
    invoices::insert(
        tx,
        &NewInvoice {
            kind: "invoice",
            credited_invoice_id: None,
            reason: "",
            id: &id,
            number: &number,
            account_id: &order.account_id,
            order_id: &order.id,
            shipment_id,
            issued_on: &iso(issued),
            due_on: &iso(terms.due(issued)),
            terms: &terms.label(),
            bill_to: &bill_to,
            ship_to: &order.ship_to_text,
            po_number: &order.po_number,
            subtotal: subtotal.raw(),
            tax: tax.raw(),
            total: total.raw(),
            tax_note: &tax_note,
            lines: &rows,
        },
        now,
    )
    .await?;
    super::commissions::accrue_invoice(tx, order, lines, &categories, &id, issued, &rows, now).await?;
    let payload = json!({
        "id": id, "number": number, "account_id": order.account_id, "order_id": order.id, "order_number": order.number,
        "shipment_id": shipment_id, "issued_on": iso(issued), "due_on": iso(terms.due(issued)),
        "subtotal": subtotal.to_plain(), "tax": tax.to_plain(), "total": total.to_plain(),
    });
    // What was ordered is now owed: out of the order's uninvoiced value, into receivables.
    let owed = crate::domain::credit::Exposure { receivable: total.raw(), ..Default::default() };
    crate::store::credit::sync_order_and(tx, &order.id, owed, now).await?;
    audit_and_publish(tx, Some(actor), now, "invoice.issued", ("order", &order.id), None, payload).await?;
    Ok(Some(number))
}

/// May the actor read this account's invoices? Buyers: their own account, with billing rights.
/// Staff: accounts they may see. Anyone else: as if there were none (404).
async fn billing_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        return if own == account_id && p.can(Permission::PortalBilling) {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        };
    }
    super::accounts::get_account(db, actor, account_id).await.map(|_| ())
}

/// One invoice with its lines, if the actor may read it.
pub async fn get_invoice(db: &Db, actor: &Actor<'_>, number: &str) -> ServiceResult<(InvoiceRow, Vec<InvoiceLineRow>)> {
    super::names_nothing(number)?;
    let invoice = invoices::get(db, number).await?.ok_or(ServiceError::NotFound)?;
    billing_scope(db, actor, &invoice.account_id).await?;
    let lines = invoices::lines(db, &invoice.id).await?;
    Ok((invoice, lines))
}

/// A page of invoices, newest first: one account's (which the actor may read), or — for finance
/// staff — every account's.
pub async fn list_invoices(
    db: &Db,
    actor: &Actor<'_>,
    account_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<Vec<InvoiceRow>> {
    match account_id.or(actor.principal.buyer_account()) {
        Some(a) => billing_scope(db, actor, a).await?,
        None if actor.principal.can(Permission::FinanceArea) => {}
        None => return Err(ServiceError::NotFound),
    }
    Ok(invoices::list(db, account_id.or(actor.principal.buyer_account()), None, after, limit).await?)
}

/// Invoices and credit notes issued or changed since a time, oldest change first (how an ERP pulls
/// them): one account's (which the actor may read), or — for finance staff — every account's.
pub async fn invoices_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    account_id: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<InvoiceRow>> {
    let account = account_id.or(actor.principal.buyer_account());
    match account {
        Some(a) => billing_scope(db, actor, a).await?,
        None if actor.principal.can(Permission::FinanceArea) => {}
        None => return Err(ServiceError::NotFound),
    }
    Ok(invoices::changed_since(db, account, since, after, limit).await?)
}

/// The invoices of an order the actor may see (on the order's page), if the actor may read billing.
pub async fn order_invoices(db: &Db, actor: &Actor<'_>, order: &orders::OrderRow) -> ServiceResult<Vec<InvoiceRow>> {
    if billing_scope(db, actor, &order.account_id).await.is_err() {
        return Ok(Vec::new());
    }
    Ok(invoices::list(db, None, Some(&order.id), None, 100).await?)
}

/// Everything the printed invoice shows (page and PDF).
pub async fn document(db: &Db, invoice: &InvoiceRow, lines: &[InvoiceLineRow]) -> ServiceResult<InvoiceDocument> {
    let seller_name = invoices::setting(db, "seller.name").await?.unwrap_or_default();
    let seller_address = invoices::setting(db, "seller.address").await?.unwrap_or_default();
    let seller = std::iter::once(seller_name)
        .chain(seller_address.lines().map(str::to_string))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut references = vec![
        ("Account".to_string(), format!("{} ({})", invoice.account_name, invoice.account_number)),
        ("Order".to_string(), invoice.order_number.clone()),
    ];
    if !invoice.po_number.is_empty() {
        references.push(("PO number".into(), invoice.po_number.clone()));
    }
    if let Some(s) = &invoice.shipment_number {
        references.push(("Shipment".into(), s.clone()));
    }
    if let Some(n) = &invoice.credited_invoice_number {
        references.push(("Credits invoice".into(), n.clone()));
    } else {
        references.push(("Terms".into(), invoice.terms.clone()));
    }
    let total = Money::from_raw(invoice.total);
    Ok(InvoiceDocument {
        title: if invoice.kind == "credit_note" { "Credit note".into() } else { "Invoice".into() },
        number: invoice.number.clone(),
        issued_on: invoice.issued_on.clone(),
        due_on: invoice.due_on.clone(),
        seller,
        bill_to: invoice.bill_to.lines().map(str::to_string).collect(),
        // Stored on one line ("Main — 1 Test Way, Springfield, IL, …"): printed as an address.
        ship_to: invoice
            .ship_to
            .split(['\n', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        references,
        lines: lines
            .iter()
            .map(|l| DocumentLine {
                sku: l.sku.clone(),
                description: l.name.clone(),
                quantity: l.quantity,
                unit_price: Money::from_raw(l.unit_price),
                net: Money::from_raw(l.net),
                tax_label: l.tax_label.clone(),
                tax: Money::from_raw(l.tax),
            })
            .collect(),
        subtotal: Money::from_raw(invoice.subtotal),
        tax: Money::from_raw(invoice.tax),
        total,
        // A credit note's figure is what it credits, however much of it has been applied.
        amount_due: if invoice.kind == "credit_note" {
            total
        } else {
            total.checked_sub(Money::from_raw(invoice.paid)).unwrap_or(total)
        },
        notes: [
            if invoice.reason.is_empty() { String::new() } else { format!("Reason: {}", invoice.reason) },
            invoice.tax_note.clone(),
        ]
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect(),
    })
}

/// An invoice as a PDF drawn by the server: (file name, bytes).
pub async fn invoice_pdf(db: &Db, actor: &Actor<'_>, number: &str) -> ServiceResult<(String, Vec<u8>)> {
    let (invoice, lines) = get_invoice(db, actor, number).await?;
    let doc = document(db, &invoice, &lines).await?;
    let bytes = super::invoice_pdf::render(&doc).map_err(|e| ServiceError::TooLarge(e.to_string()))?;
    Ok((format!("{}.pdf", invoice.number), bytes))
}
