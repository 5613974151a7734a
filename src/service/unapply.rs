//! Taking one application off its invoice: finance applied a payment (or a credit note was
//! applied) to the wrong invoice, or wants the money on another one. The invoice owes the amount
//! again (open again); the payment has it back as unapplied cash, the credit note as credit left to
//! apply; the account's exposure moves with them, exactly as its records say. One unit of work,
//! audited, with its event (`payment.unapplied`, `credit_note.unapplied`). A reversed payment took
//! all its applications back with it: nothing of it can be taken off (409), nor can an application
//! taken off before.

use super::commissions::PaidEvent;
use super::invoices::{InvoiceRow, get_invoice};
use super::payments::{Payment, PaymentRow, get_payment, load, require_writer};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::credit::{Exposure, reopened};
use crate::domain::money::Money;
use crate::store::{Db, Tx, credit, invoices, payments};
use serde_json::json;

/// Takes one application of a payment (id or number) off its invoice; answers the payment.
pub async fn unapply_payment(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    payment: &str,
    application_id: &str,
) -> ServiceResult<Payment> {
    require_writer(actor)?;
    let payment = get_payment(db, actor, payment).await?.row;
    super::names_nothing(application_id)?;
    let unit = Unapply {
        now,
        actor: actor.owned(),
        source: Source::Payment,
        source_id: payment.id.clone(),
        application_id: application_id.to_string(),
    };
    db.write(unit, |tx, u| Box::pin(unapply_in_unit(tx, u))).await?;
    load(db, &payment.id).await
}

/// Takes one application of a credit note (id or number) off the invoice it was applied to;
/// answers the credit note. Anything but a credit note is 404.
pub async fn unapply_credit_note(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    note: &str,
    application_id: &str,
) -> ServiceResult<InvoiceRow> {
    let (n, _) = get_invoice(db, actor, note).await?;
    actor.require(Permission::ManageCredit)?;
    if n.kind != "credit_note" {
        return Err(ServiceError::NotFound);
    }
    super::names_nothing(application_id)?;
    let unit = Unapply {
        now,
        actor: actor.owned(),
        source: Source::CreditNote,
        source_id: n.id.clone(),
        application_id: application_id.to_string(),
    };
    db.write(unit, |tx, u| Box::pin(unapply_in_unit(tx, u))).await?;
    invoices::get(db, &n.id).await?.ok_or(ServiceError::NotFound)
}

/// What an application is taken off from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Payment,
    CreditNote,
}

struct Unapply {
    now: i64,
    actor: OwnedActor,
    source: Source,
    /// The payment's or credit note's id.
    source_id: String,
    application_id: String,
}

/// The source as the unit locked it.
enum Locked {
    Payment(PaymentRow),
    CreditNote(InvoiceRow),
}

impl Locked {
    fn number(&self) -> &str {
        match self {
            Locked::Payment(p) => &p.number,
            Locked::CreditNote(n) => &n.number,
        }
    }
}

/// The unit: the source's row is locked first (as applying and reversing lock the payment first),
/// then the application's, then the invoice's; the exposure moves by what each of them counts
/// before and after (`domain::credit::reopened`).
async fn unapply_in_unit(tx: &mut Tx, u: &Unapply) -> ServiceResult<()> {
    let source = match u.source {
        Source::Payment => {
            let p = payments::get_for_update(tx, &u.source_id).await?.ok_or(ServiceError::NotFound)?;
            if p.status == "reversed" {
                return Err(ServiceError::Conflict(format!(
                    "Payment {} is reversed; every application was taken back with it.",
                    p.number
                )));
            }
            Locked::Payment(p)
        }
        Source::CreditNote => {
            Locked::CreditNote(invoices::lock(tx, &u.source_id).await?.ok_or(ServiceError::NotFound)?)
        }
    };
    let taken_off = || {
        ServiceError::Conflict(format!("This application of {} was taken off its invoice already.", source.number()))
    };
    let kind = match u.source {
        Source::Payment => "payment",
        Source::CreditNote => "credit_note",
    };
    let a = payments::application_for_update(tx, &u.application_id)
        .await?
        .filter(|a| a.source_kind == kind && a.source_id == u.source_id)
        .ok_or(ServiceError::NotFound)?;
    if a.reversed_at.is_some() {
        return Err(taken_off());
    }
    let inv = invoices::lock(tx, &a.invoice_id).await?.ok_or(ServiceError::NotFound)?;
    // The invoice counts as receivable again what it owes again; the source counts the amount as
    // credit again — a posted payment's unapplied cash whole, a credit note what is left of it
    // while it is open.
    let receivable = reopened(&inv.status, inv.total, inv.paid, a.amount);
    let credits = match &source {
        Locked::Payment(_) => a.amount,
        Locked::CreditNote(n) => reopened(&n.status, n.total, n.paid, a.amount),
    };
    if !payments::unapply(tx, &a, u.now).await? {
        return Err(taken_off());
    }
    let event = match &source {
        Locked::Payment(p) => PaidEvent::Payment(&p.id),
        Locked::CreditNote(_) => PaidEvent::CreditApplication,
    };
    super::commissions::accrue_paid(tx, &a.invoice_id, event, u.now).await?;
    credit::adjust(tx, &a.account_id, Exposure { uninvoiced: 0, receivable, credits }, u.now).await?;
    let mut payload = json!({
        "application_id": a.id, "id": u.source_id, "number": source.number(), "account_id": a.account_id,
        "invoice_id": inv.id, "invoice_number": inv.number, "amount": Money::from_raw(a.amount).to_plain(),
        "invoice_balance": Money::from_raw(inv.total - inv.paid + a.amount).to_plain(),
    });
    let before = json!({"invoice_paid": Money::from_raw(inv.paid).to_plain(), "invoice_status": inv.status});
    let (action, object) = match &source {
        Locked::Payment(p) => {
            payload["unapplied"] = json!(Money::from_raw(p.unapplied + a.amount).to_plain());
            ("payment.unapplied", ("payment", p.id.as_str()))
        }
        // A credit note's history is its order's, as its issue is.
        Locked::CreditNote(n) => {
            payload["left_to_apply"] = json!(Money::from_raw(n.total - n.paid + a.amount).to_plain());
            ("credit_note.unapplied", ("order", n.order_id.as_str()))
        }
    };
    let actor = u.actor.actor();
    audit(tx, Some(&actor), u.now, action, object, Some(before), Some(payload.clone())).await?;
    crate::store::audit::enqueue(tx, action, &payload, u.now).await?;
    Ok(())
}
