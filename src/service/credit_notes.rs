//! Credit notes (DESIGN.md §3 "Invoice"): finance credits returned units of an invoice's lines,
//! and cancelling an order that was billed before it shipped (a prepay order) credits what was
//! billed and will never ship. A credit note is a document of the invoice series' kind
//! `credit_note`, numbered without gaps in its own series (CN-…), with the credited lines' own
//! rates; it is applied at once to what is still open of the invoice it credits, and the rest is
//! the account's credit (it lowers the exposure until applied elsewhere or refunded).
//!
//! **Exactness.** A line credited in several notes never credits more than it billed, to the
//! cent: each note credits the difference between "everything credited so far, as one amount"
//! before and after it (net and tax alike), so the notes of a fully credited line add up to the
//! line's net and tax exactly.

use super::catalog::today;
use super::invoices::{InvoiceRow, get_invoice};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::credit::Exposure;
use crate::domain::invoicing::line_tax;
use crate::domain::money::Money;
use crate::store::invoices::{self, InvoiceLineRow, NewInvoice};
use crate::store::{Db, Tx, new_id, orders};
use serde_json::json;

pub use super::unapply::unapply_credit_note;

/// What finance credits: (invoice line number, quantity) pairs, and why (printed on the note).
#[derive(Clone, Debug, Default)]
pub struct CreditRequest {
    pub lines: Vec<(i64, i64)>,
    pub reason: String,
}

/// Issues a credit note for units of an invoice's lines (returns, price corrections by quantity).
/// Finance only; the invoice must be one the actor may read (404 otherwise). Returns the note.
pub async fn issue_credit_note(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    invoice: &str,
    req: &CreditRequest,
) -> ServiceResult<InvoiceRow> {
    let (inv, lines) = get_invoice(db, actor, invoice).await?;
    actor.require(Permission::ManageCredit)?;
    super::check_texts(&[], &[("reason", &req.reason)])?;
    if inv.kind != "invoice" {
        return Err(ServiceError::invalid(
            "invoice",
            format!("{} is a credit note; credit the invoice itself.", inv.number),
        ));
    }
    let mut problems = Vec::new();
    if req.reason.trim().is_empty() {
        problems
            .push(("reason".to_string(), "Say why the invoice is credited (it is printed on the credit note).".into()));
    }
    let wanted: Vec<(i64, i64)> = req.lines.iter().copied().filter(|(_, q)| *q != 0).collect();
    if wanted.is_empty() {
        problems.push(("lines".to_string(), "Give a quantity to credit on at least one line.".into()));
    }
    for (no, qty) in &wanted {
        match lines.iter().find(|l| l.line_no == *no) {
            None => problems.push((format!("line_{no}"), format!("The invoice has no line {no}."))),
            Some(l) if *qty < 0 || *qty > l.quantity - l.credited_qty => problems.push((
                format!("line_{no}"),
                format!("Line {no} ({}): credit between 1 and {} units.", l.sku, l.quantity - l.credited_qty),
            )),
            Some(_) => {}
        }
    }
    if wanted.iter().enumerate().any(|(i, (no, _))| wanted[..i].iter().any(|(n, _)| n == no)) {
        problems.push(("lines".to_string(), "Each line may be named once.".into()));
    }
    ServiceError::from_problems(problems)?;
    let unit = (now, actor.owned(), inv.id.clone(), wanted, req.reason.trim().to_string());
    let id = db
        .write(unit, |tx, (now, actor, invoice_id, wanted, reason)| {
            Box::pin(write_credit_note(tx, *now, actor, invoice_id, wanted, reason))
        })
        .await?;
    invoices::get(db, &id).await?.ok_or(ServiceError::NotFound)
}

/// In a cancellation's unit: credits whatever of the order was billed and has not shipped (and
/// now never will), invoice by invoice. Nothing when nothing was billed ahead of shipping.
pub(crate) async fn credit_cancelled_order(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    order_id: &str,
    reason: &str,
) -> ServiceResult<()> {
    let mut unshipped: Vec<(i64, i64)> = orders::lines_tx(tx, order_id)
        .await?
        .into_iter()
        .filter(|l| l.invoiced_qty > l.shipped_qty)
        .map(|l| (l.line_no, l.invoiced_qty - l.shipped_qty))
        .collect();
    if unshipped.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = invoices::ids_of_order(tx, order_id).await?;
    for id in ids {
        let Some((_, lines)) = invoices::lock_with_lines(tx, &id).await? else { continue };
        let mut wanted = Vec::new();
        for l in &lines {
            if let Some((_, left)) = unshipped.iter_mut().find(|(no, left)| *no == l.order_line_no && *left > 0) {
                let q = (*left).min(l.quantity - l.credited_qty);
                if q > 0 {
                    wanted.push((l.line_no, q));
                    *left -= q;
                }
            }
        }
        if !wanted.is_empty() {
            let reason = format!("Order cancelled: {reason}");
            write_credit_note(tx, now, actor, &id, &wanted, &reason).await?;
        }
    }
    Ok(())
}

/// What one credited line comes to: the change in "all credited so far" (see the module doc).
fn credited(l: &InvoiceLineRow, qty: i64) -> Option<(Money, Money)> {
    let unit = Money::from_raw(l.unit_price);
    let cumulative = |q: i64| -> Option<(Money, Money)> {
        let net = unit.checked_mul_qty(q)?.round_to_cents();
        Some((net, line_tax(net, l.tax_rate_ppm)?))
    };
    let (net_before, tax_before) = cumulative(l.credited_qty)?;
    let (net_after, tax_after) = cumulative(l.credited_qty + qty)?;
    Some((net_after.checked_sub(net_before)?, tax_after.checked_sub(tax_before)?))
}

async fn write_credit_note(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    invoice_id: &str,
    wanted: &[(i64, i64)],
    reason: &str,
) -> ServiceResult<String> {
    let Some((inv, lines)) = invoices::lock_with_lines(tx, invoice_id).await? else {
        return Err(ServiceError::NotFound);
    };
    let overflow = || ServiceError::invalid("lines", "The credit is too large.");
    let mut rows = Vec::new();
    for (no, qty) in wanted {
        let Some(l) = lines.iter().find(|l| l.line_no == *no) else { return Err(ServiceError::NotFound) };
        if *qty > l.quantity - l.credited_qty {
            // Another credit note took these units meanwhile.
            return Err(ServiceError::Conflict(format!(
                "Line {no} ({}) has only {} units left to credit; reload the invoice.",
                l.sku,
                l.quantity - l.credited_qty
            )));
        }
        let (net, tax) = credited(l, *qty).ok_or_else(overflow)?;
        rows.push(InvoiceLineRow {
            line_no: rows.len() as i64 + 1,
            order_line_no: l.order_line_no,
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: *qty,
            unit_price: l.unit_price,
            net: net.raw(),
            tax_rate_ppm: l.tax_rate_ppm,
            tax_label: l.tax_label.clone(),
            tax: tax.raw(),
            credited_qty: 0,
        });
    }
    let subtotal = Money::sum(rows.iter().map(|r| Money::from_raw(r.net))).ok_or_else(overflow)?;
    let tax = Money::sum(rows.iter().map(|r| Money::from_raw(r.tax))).ok_or_else(overflow)?;
    let total = subtotal.checked_add(tax).ok_or_else(overflow)?;
    let issued = crate::store::pricing::format_iso(today(now));
    let id = new_id();
    let number = format!("CN-{}", tx.next_counter("credit_note").await?);
    invoices::insert(
        tx,
        &NewInvoice {
            kind: "credit_note",
            credited_invoice_id: Some(&inv.id),
            reason,
            id: &id,
            number: &number,
            account_id: &inv.account_id,
            order_id: &inv.order_id,
            shipment_id: None,
            issued_on: &issued,
            due_on: &issued,
            terms: &inv.terms,
            bill_to: &inv.bill_to,
            ship_to: &inv.ship_to,
            po_number: &inv.po_number,
            subtotal: subtotal.raw(),
            tax: tax.raw(),
            total: total.raw(),
            tax_note: &inv.tax_note,
            lines: &rows,
        },
        now,
    )
    .await?;
    super::commissions::claw_back(tx, &inv, &lines, &id, wanted, now).await?;
    // Applied at once to what is open of the credited invoice; the rest is the account's credit.
    let open = if inv.status == "open" { (inv.total - inv.paid).max(0) } else { 0 };
    let applied = open.min(total.raw());
    if applied > 0 {
        invoices::apply(tx, &inv.account_id, ("credit_note", &id), &inv.id, applied, &issued, now).await?;
        invoices::add_paid(tx, &id, applied, now).await?;
    }
    let moved = Exposure { uninvoiced: 0, receivable: -applied, credits: total.raw() - applied };
    crate::store::credit::adjust(tx, &inv.account_id, moved, now).await?;
    let payload = json!({
        "id": id, "number": number, "account_id": inv.account_id, "order_id": inv.order_id, "order_number": inv.order_number,
        "invoice_id": inv.id, "invoice_number": inv.number, "reason": reason, "issued_on": issued,
        "subtotal": subtotal.to_plain(), "tax": tax.to_plain(), "total": total.to_plain(),
        "applied": Money::from_raw(applied).to_plain(),
    });
    let actor = actor.actor();
    audit(tx, Some(&actor), now, "credit_note.issued", ("order", &inv.order_id), None, Some(payload.clone())).await?;
    crate::store::audit::enqueue(tx, "credit_note.issued", &payload, now).await?;
    Ok(id)
}
