//! Payments (DESIGN.md §3 "Payment"): finance records money received — by hand, from the bank's
//! file, or confirmed by the payment provider — and applies it to one or many open invoices of the
//! same account, in part or in full; what is not applied stays on the payment as unapplied cash.
//! A reversal (a bounced check) takes back every application and the payment itself.
//!
//! Every unit of work here keeps `invoices.paid`/`status`, `payments.unapplied` and the account's
//! running exposure (`store::credit::adjust`) exact together, and writes its audit row and outbox
//! event (`payment.recorded`, `payment.applied`, `payment.reversed`). Who may: staff with
//! `ManageCredit` (finance, admin) write; a buyer with billing rights reads their own account's.

use super::catalog::today;
use super::commissions::PaidEvent;
use super::idempotency::{self, IdemKey, Keyed, UnitKey};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::domain::credit::Exposure;
use crate::domain::money::Money;
use crate::domain::payments::{
    Allocation, MAX_EXTERNAL_ID_LEN, MAX_REASON_LEN, Method, OpenInvoice, PaymentDraft, allocate, check_line,
    check_payment, parse_amount,
};
use crate::store::payments::{self, NewPayment};
use crate::store::{Db, Tx, credit, new_id};
use serde_json::json;

pub use super::unapply::unapply_payment;
pub use crate::store::payments::{ApplicationRow, OpenInvoiceRow, PaymentRow};

/// What to apply a payment to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ApplyInput {
    /// Nothing now: the payment stays unapplied.
    #[default]
    Nothing,
    /// The account's open invoices, oldest due first, as far as the payment goes.
    OldestFirst,
    /// Only these invoices (numbers), oldest due first, as far as the payment goes (a bank file's
    /// remittance).
    OldestOf(Vec<String>),
    /// These amounts (decimal text) to these invoices (numbers or ids).
    Amounts(Vec<(String, String)>),
}

/// A payment as finance (or an integration) reports it; amounts are decimal text.
#[derive(Clone, Debug, Default)]
pub struct PaymentInput {
    /// Account id, number or external id.
    pub account: String,
    pub amount: String,
    /// `YYYY-MM-DD`; today when empty.
    pub received_on: String,
    pub method: String,
    pub reference: String,
    /// The bank's or ERP's id of the payment: recording it twice records it once.
    pub external_id: Option<String>,
    pub apply: ApplyInput,
}

/// A payment with its applications.
#[derive(Clone, Debug)]
pub struct Payment {
    pub row: PaymentRow,
    pub applications: Vec<ApplicationRow>,
}

/// What recording answered: the payment, and whether it had been recorded before (same external id).
#[derive(Clone, Debug)]
pub struct Recorded {
    pub payment: Payment,
    pub replayed: bool,
}

/// Writes payments (staff with `ManageCredit`): customer service and reps are refused (403),
/// buyers find nothing (404).
pub fn require_writer(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::ManageCredit)
}

/// May the actor read this account's payments? Buyers: their own account, with billing rights.
/// Staff: finance (and admin). Anyone else: as if there were none (404 for buyers, 403 for staff).
async fn read_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if let Some(own) = p.buyer_account() {
        return if own == account_id && p.can(Permission::PortalBilling) {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        };
    }
    actor.require(Permission::FinanceArea)?;
    super::accounts::get_account(db, actor, account_id).await.map(|_| ())
}

/// Checks a payment as entered and the account it is for; what needs no transaction.
async fn check_input(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    input: &PaymentInput,
) -> ServiceResult<(String, PaymentDraft, Option<String>, Plan)> {
    let received_on = if input.received_on.trim().is_empty() {
        crate::store::pricing::format_iso(today(now))
    } else {
        input.received_on.clone()
    };
    let mut problems = super::text_problems(&[("account", &input.account)], &[]);
    let draft = match check_payment(&input.amount, &received_on, &input.method, &input.reference, today(now)) {
        Ok(d) => Some(d),
        Err(p) => {
            problems.extend(p);
            None
        }
    };
    let external_id = match input.external_id.as_deref().map(|e| check_line(e, MAX_EXTERNAL_ID_LEN)) {
        None => None,
        Some(Ok(e)) if e.is_empty() => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => {
            problems.push(("external_id".into(), format!("external_id: {e}")));
            None
        }
    };
    let plan = match plan_of(&input.apply) {
        Ok(p) => Some(p),
        Err(p) => {
            problems.extend(p);
            None
        }
    };
    let account = if input.account.trim().is_empty() {
        problems.push(("account".into(), "account: choose the account that paid.".into()));
        None
    } else {
        match super::accounts::find_account(db, actor, input.account.trim()).await {
            Ok(a) => Some(a.id),
            Err(ServiceError::NotFound) => {
                problems.push(("account".into(), format!("account: no account “{}”.", input.account.trim())));
                None
            }
            Err(e) => return Err(e),
        }
    };
    ServiceError::from_problems(problems)?;
    match (account, draft, plan) {
        (Some(a), Some(d), Some(p)) => Ok((a, d, external_id, p)),
        _ => Err(ServiceError::invalid("amount", "Invalid payment.")),
    }
}

/// An application request, its amounts parsed.
#[derive(Clone, Debug)]
enum Plan {
    Nothing,
    Oldest(Option<Vec<String>>),
    Amounts(Vec<(String, Money)>),
}

fn plan_of(apply: &ApplyInput) -> Result<Plan, Vec<(String, String)>> {
    Ok(match apply {
        ApplyInput::Nothing => Plan::Nothing,
        ApplyInput::OldestFirst => Plan::Oldest(None),
        ApplyInput::OldestOf(numbers) => Plan::Oldest(Some(numbers.clone())),
        ApplyInput::Amounts(lines) => {
            let mut problems = Vec::new();
            let mut out = Vec::new();
            for (i, (invoice, amount)) in lines.iter().enumerate() {
                let field = format!("invoices[{i}]");
                if let Err(e) = crate::domain::input::check_text(invoice, crate::domain::input::TextKind::Line) {
                    problems.push((field, format!("invoice {e}")));
                    continue;
                }
                match parse_amount(amount) {
                    Ok(m) => out.push((invoice.trim().to_string(), m)),
                    Err(e) => problems.push((field, format!("{}: {e}", invoice.trim()))),
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Plan::Amounts(out)
        }
    })
}

struct RecordUnit {
    now: i64,
    actor: OwnedActor,
    account_id: String,
    draft: PaymentDraft,
    source: String,
    external_id: Option<String>,
    plan: Plan,
    /// The request's Idempotency-Key (or form token), claimed.
    key: Option<UnitKey<Recorded>>,
}

/// Records a payment (and applies it as asked) in one unit of work. With an external id already
/// recorded for the same account and amount, records nothing and answers that payment (`replayed`).
pub async fn record_payment(db: &Db, now: i64, actor: &Actor<'_>, input: &PaymentInput) -> ServiceResult<Recorded> {
    match record_payment_once(db, now, actor, input, None, |_| (0, String::new())).await? {
        Keyed::Ran(r) => Ok(r),
        Keyed::Replayed { .. } => Err(ServiceError::Internal("a payment without a key was replayed".into())),
    }
}

/// [`record_payment`] under an idempotency key (the API's `Idempotency-Key`, a form's one-time
/// token): the same key and request again answers the response recorded the first time (`respond`
/// makes it, in the payment's unit, which completes the key); another request under the key is
/// `IdempotencyMismatch`, one still running `InFlight`. A refused request leaves no record.
pub async fn record_payment_once<F>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    input: &PaymentInput,
    idem: Option<&IdemKey>,
    respond: F,
) -> ServiceResult<Keyed<Recorded>>
where
    F: Fn(&Recorded) -> (i64, String) + Send + Sync + 'static,
{
    require_writer(actor)?;
    idempotency::run_once(db, now, idem, |claim| async move {
        let (account_id, draft, external_id, plan) = check_input(db, now, actor, input).await?;
        let key = UnitKey::new(claim, respond);
        let source = "manual".into();
        let unit = RecordUnit { now, actor: actor.owned(), account_id, draft, source, external_id, plan, key };
        db.write(unit, |tx, u| Box::pin(record_in_unit(tx, u))).await
    })
    .await
}

/// The payment's unit: what it recorded (or found recorded under its external id), and the
/// request's key completed with its response.
async fn record_in_unit(tx: &mut Tx, u: &RecordUnit) -> ServiceResult<Recorded> {
    let (id, replayed) = record_or_find(tx, u).await?;
    let recorded = Recorded { payment: load_tx(tx, &id).await?, replayed };
    if let Some(key) = &u.key {
        key.complete(tx, &recorded).await?;
    }
    Ok(recorded)
}

/// (id, replayed): the payment recorded and applied as asked, or the one its external id names.
async fn record_or_find(tx: &mut Tx, u: &RecordUnit) -> ServiceResult<(String, bool)> {
    let actor = u.actor.actor();
    if let Some(ext) = &u.external_id
        && let Some(existing) = payments::by_external_id(tx, ext).await?
    {
        if existing.account_id == u.account_id && existing.amount == u.draft.amount.raw() {
            return Ok((existing.id, true));
        }
        return Err(ServiceError::Conflict(format!(
            "External id “{ext}” is payment {} already, of another account or amount.",
            existing.number
        )));
    }
    let (id, _) = record_tx(tx, &actor, u.now, &u.account_id, &u.draft, &u.source, u.external_id.as_deref()).await?;
    match &u.plan {
        Plan::Nothing => {}
        Plan::Oldest(only) => {
            apply_tx(tx, &actor, u.now, &id, Plan::Oldest(only.clone()), false).await?;
        }
        plan @ Plan::Amounts(_) => {
            apply_tx(tx, &actor, u.now, &id, plan.clone(), true).await?;
        }
    }
    Ok((id, false))
}

/// Writes a payment, all of it unapplied, in the caller's unit of work (the demo's seed calls this
/// through [`record_and_apply_tx`]): audit row, `payment.recorded`, and the account's credits.
async fn record_tx(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    account_id: &str,
    draft: &PaymentDraft,
    source: &str,
    external_id: Option<&str>,
) -> ServiceResult<(String, String)> {
    let id = new_id();
    let number = format!("PAY-{}", tx.next_counter("payment").await?);
    let received_on = crate::store::pricing::format_iso(draft.received_on);
    payments::insert(
        tx,
        &NewPayment {
            id: &id,
            number: &number,
            account_id,
            amount: draft.amount.raw(),
            received_on: &received_on,
            method: draft.method.as_str(),
            reference: &draft.reference,
            source,
            external_id,
            created_by_user_id: &actor.principal.user_id,
            created_by_name: &actor.principal.name,
        },
        now,
    )
    .await?;
    credit::adjust(tx, account_id, Exposure { credits: draft.amount.raw(), ..Default::default() }, now).await?;
    let payload = json!({
        "id": id, "number": number, "account_id": account_id, "amount": draft.amount.to_plain(),
        "received_on": received_on, "method": draft.method.as_str(), "reference": draft.reference,
        "source": source, "external_id": external_id,
    });
    audit(tx, Some(actor), now, "payment.recorded", ("payment", &id), None, Some(payload.clone())).await?;
    crate::store::audit::enqueue(tx, "payment.recorded", &payload, now).await?;
    Ok((id, number))
}

/// A payment of the bank's file, in the import's unit of work: recorded, and applied to the
/// invoices its row lists (oldest due first, as far as it goes). Returns its number.
pub(crate) async fn record_imported_tx(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    account_id: &str,
    draft: &PaymentDraft,
    external_id: Option<&str>,
    invoices: &[String],
) -> ServiceResult<String> {
    let (id, number) = record_tx(tx, actor, now, account_id, draft, "import", external_id).await?;
    if !invoices.is_empty() {
        apply_tx(tx, actor, now, &id, Plan::Oldest(Some(invoices.to_vec())), false).await?;
    }
    Ok(number)
}

/// Records a payment and applies it oldest due first (or to the given invoice numbers with the given
/// amounts), inside the caller's unit of work: for the demo's seed and other callers that already
/// hold a transaction. `actor` must be staff who may write payments. Returns the payment's id.
#[allow(clippy::too_many_arguments)]
pub async fn record_and_apply_tx(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    account_id: &str,
    amount: Money,
    received_on: time::Date,
    method: Method,
    reference: &str,
    amounts: Option<&[(String, Money)]>,
) -> ServiceResult<String> {
    require_writer(actor)?;
    let draft = PaymentDraft { amount, received_on, method, reference: reference.to_string() };
    let (id, _) = record_tx(tx, actor, now, account_id, &draft, "manual", None).await?;
    match amounts {
        None => apply_tx(tx, actor, now, &id, Plan::Oldest(None), false).await?,
        Some(a) => apply_tx(tx, actor, now, &id, Plan::Amounts(a.to_vec()), true).await?,
    };
    Ok(id)
}

/// Applies what of a payment is unapplied, in the caller's unit of work, on the locked payment
/// and the account's locked open invoices. `must_apply`: applying nothing is an error (a request
/// to apply), not a no-op (a payment recorded with nothing yet to apply it to).
async fn apply_tx(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    payment_id: &str,
    plan: Plan,
    must_apply: bool,
) -> ServiceResult<Vec<(String, i64)>> {
    let Some(payment) = payments::get_for_update(tx, payment_id).await? else { return Err(ServiceError::NotFound) };
    if payment.status != "posted" {
        return Err(ServiceError::Conflict(format!(
            "Payment {} is reversed; nothing of it can be applied.",
            payment.number
        )));
    }
    let open = payments::open_invoices_for_update(tx, &payment.account_id).await?;
    let all: Vec<OpenInvoice> = open
        .iter()
        .map(|i| OpenInvoice {
            id: i.id.clone(),
            number: i.number.clone(),
            due_on: i.due_on.clone(),
            balance: Money::from_raw(i.total - i.paid),
        })
        .collect();
    let available = Money::from_raw(payment.unapplied);
    let decided = match plan {
        Plan::Nothing => Vec::new(),
        Plan::Oldest(None) => allocate(available, &all, &Allocation::OldestFirst).unwrap_or_default(),
        Plan::Oldest(Some(numbers)) => {
            let mut problems = Vec::new();
            let mut picked = Vec::new();
            for (k, n) in numbers.iter().enumerate() {
                match all.iter().position(|i| &i.number == n || &i.id == n) {
                    Some(i) => picked.push(i),
                    None => problems
                        .push((format!("invoices[{k}]"), format!("{n} is not an open invoice of this account."))),
                }
            }
            ServiceError::from_problems(problems)?;
            let subset: Vec<OpenInvoice> = picked.iter().map(|i| all[*i].clone()).collect();
            allocate(available, &subset, &Allocation::OldestFirst)
                .unwrap_or_default()
                .into_iter()
                .map(|a| crate::domain::payments::Applied { invoice: picked[a.invoice], amount: a.amount })
                .collect()
        }
        Plan::Amounts(lines) => {
            if lines.is_empty() {
                return Err(ServiceError::invalid("invoices", "Enter an amount for at least one invoice."));
            }
            allocate(available, &all, &Allocation::Explicit(lines))
                .or_else(|p| ServiceError::from_problems(p).map(|_| Vec::new()))?
        }
    };
    if decided.is_empty() {
        if must_apply {
            let why =
                if available.is_zero() { "nothing of it is left to apply" } else { "the account has no open invoice" };
            return Err(ServiceError::Conflict(format!("Payment {}: {why}.", payment.number)));
        }
        return Ok(Vec::new());
    }
    let applied_on = crate::store::pricing::format_iso(today(now));
    let mut total = 0i64;
    let mut out = Vec::new();
    for a in &decided {
        let inv = &all[a.invoice];
        payments::apply(tx, &payment, &inv.id, a.amount.raw(), &applied_on, now).await?;
        super::commissions::accrue_paid(tx, &inv.id, PaidEvent::Payment(&payment.id), now).await?;
        total += a.amount.raw();
        out.push((inv.number.clone(), a.amount.raw()));
    }
    credit::adjust(tx, &payment.account_id, Exposure { uninvoiced: 0, receivable: -total, credits: -total }, now)
        .await?;
    let payload = json!({
        "id": payment.id, "number": payment.number, "account_id": payment.account_id,
        "applied": Money::from_raw(total).to_plain(),
        "unapplied": Money::from_raw(payment.unapplied - total).to_plain(),
        "applications": out.iter().map(|(n, a)| json!({"invoice": n, "amount": Money::from_raw(*a).to_plain()})).collect::<Vec<_>>(),
    });
    audit(tx, Some(actor), now, "payment.applied", ("payment", &payment.id), None, Some(payload.clone())).await?;
    crate::store::audit::enqueue(tx, "payment.applied", &payload, now).await?;
    Ok(out)
}

struct ApplyUnit {
    now: i64,
    actor: OwnedActor,
    payment_id: String,
    plan: Plan,
}

/// Applies what is left of a payment: to these amounts per invoice, or oldest due first.
pub async fn apply_payment(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    payment_ref: &str,
    apply: &ApplyInput,
) -> ServiceResult<Payment> {
    require_writer(actor)?;
    let payment = get_payment(db, actor, payment_ref).await?.row;
    let plan = plan_of(apply).or_else(|p| ServiceError::from_problems(p).map(|_| Plan::Nothing))?;
    if matches!(plan, Plan::Nothing) {
        return Err(ServiceError::invalid("invoices", "Choose what to apply the payment to."));
    }
    let unit = ApplyUnit { now, actor: actor.owned(), payment_id: payment.id.clone(), plan };
    db.write(unit, |tx, u| {
        Box::pin(async move { apply_tx(tx, &u.actor.actor(), u.now, &u.payment_id, u.plan.clone(), true).await })
    })
    .await?;
    load(db, &payment.id).await
}

struct ReverseUnit {
    now: i64,
    actor: OwnedActor,
    payment_id: String,
    reason: String,
}

/// Reverses a payment (a bounced check, a payment recorded in error): every application is taken
/// back (the invoices owe it again, and are open again), the payment is marked reversed with the
/// reason, and the account's credit no longer counts it.
pub async fn reverse_payment(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    payment_ref: &str,
    reason: &str,
) -> ServiceResult<Payment> {
    require_writer(actor)?;
    let reason = match check_line(reason, MAX_REASON_LEN) {
        Ok(r) if r.is_empty() => return Err(ServiceError::invalid("reason", "Say why the payment is reversed.")),
        Ok(r) => r,
        Err(e) => return Err(ServiceError::invalid("reason", format!("reason: {e}"))),
    };
    let payment = get_payment(db, actor, payment_ref).await?.row;
    let unit = ReverseUnit { now, actor: actor.owned(), payment_id: payment.id.clone(), reason };
    db.write(unit, |tx, u| Box::pin(reverse_in_unit(tx, u))).await?;
    load(db, &payment.id).await
}

async fn reverse_in_unit(tx: &mut Tx, u: &ReverseUnit) -> ServiceResult<()> {
    let Some(payment) = payments::get_for_update(tx, &u.payment_id).await? else { return Err(ServiceError::NotFound) };
    if payment.status == "reversed" {
        return Err(ServiceError::Conflict(format!("Payment {} is reversed already.", payment.number)));
    }
    let taken_back = payments::reverse_applications(tx, &payment.id, u.now).await?;
    for (invoice_id, _) in &taken_back {
        super::commissions::accrue_paid(tx, invoice_id, PaidEvent::Payment(&payment.id), u.now).await?;
    }
    let applied: i64 = taken_back.iter().map(|(_, a)| a).sum();
    payments::mark_reversed(tx, &payment.id, &u.reason, u.now).await?;
    // The invoices owe `applied` again; the payment's credit (its unapplied amount) is gone.
    let d = Exposure { uninvoiced: 0, receivable: applied, credits: -payment.unapplied };
    credit::adjust(tx, &payment.account_id, d, u.now).await?;
    let payload = json!({
        "id": payment.id, "number": payment.number, "account_id": payment.account_id,
        "amount": Money::from_raw(payment.amount).to_plain(), "reason": u.reason,
        "reopened": Money::from_raw(applied).to_plain(),
    });
    let actor = u.actor.actor();
    let before = json!({"status": payment.status, "unapplied": Money::from_raw(payment.unapplied).to_plain()});
    audit(tx, Some(&actor), u.now, "payment.reversed", ("payment", &payment.id), Some(before), Some(payload.clone()))
        .await?;
    crate::store::audit::enqueue(tx, "payment.reversed", &payload, u.now).await?;
    Ok(())
}

pub(crate) async fn load(db: &Db, id: &str) -> ServiceResult<Payment> {
    let row = payments::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    let applications = payments::applications_of(db, &row.id).await?;
    Ok(Payment { row, applications })
}

/// A payment with its applications, read in the unit that wrote it.
async fn load_tx(tx: &mut Tx, id: &str) -> ServiceResult<Payment> {
    let row = payments::get_tx(tx, id).await?.ok_or(ServiceError::NotFound)?;
    let applications = payments::applications_of_tx(tx, &row.id).await?;
    Ok(Payment { row, applications })
}

/// One payment with its applications, if the actor may read it.
pub async fn get_payment(db: &Db, actor: &Actor<'_>, reference: &str) -> ServiceResult<Payment> {
    super::names_nothing(reference)?;
    let row = payments::get(db, reference).await?.ok_or(ServiceError::NotFound)?;
    read_scope(db, actor, &row.account_id).await?;
    let applications = payments::applications_of(db, &row.id).await?;
    Ok(Payment { row, applications })
}

/// A page of payments, newest first: one account's (which the actor may read), or — for finance
/// staff — every account's.
pub async fn list_payments(
    db: &Db,
    actor: &Actor<'_>,
    account_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> ServiceResult<Vec<PaymentRow>> {
    let account = account_id.or(actor.principal.buyer_account());
    match account {
        Some(a) => read_scope(db, actor, a).await?,
        None => actor.require(Permission::FinanceArea)?,
    }
    Ok(payments::list(db, account, after, limit).await?)
}

/// Payments recorded or changed since a time, oldest change first (how an ERP pulls them): one
/// account's (which the actor may read), or — for finance staff — every account's.
pub async fn payments_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    account_id: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<PaymentRow>> {
    let account = account_id.or(actor.principal.buyer_account());
    match account {
        Some(a) => read_scope(db, actor, a).await?,
        None => actor.require(Permission::FinanceArea)?,
    }
    Ok(payments::changed_since(db, account, since, after, limit).await?)
}

/// For whoever may read the invoice (by id or number): the payments and credit notes applied to
/// it, or — of a credit note — the invoices it is applied to. Oldest first, those taken off too.
pub async fn invoice_applications(db: &Db, actor: &Actor<'_>, invoice: &str) -> ServiceResult<Vec<ApplicationRow>> {
    let (invoice, _) = super::invoices::get_invoice(db, actor, invoice).await?;
    Ok(match invoice.kind.as_str() {
        "credit_note" => payments::applications_of(db, &invoice.id).await?,
        _ => payments::applications_to(db, &invoice.id).await?,
    })
}

/// An account's open invoices, oldest due first (to apply a payment to, or to pay online).
pub async fn open_invoices(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<Vec<OpenInvoiceRow>> {
    read_scope(db, actor, account_id).await?;
    Ok(payments::open_invoices(db, account_id).await?)
}

pub(crate) struct ProviderPayment {
    pub account_id: String,
    pub amount: Money,
    pub invoices: Vec<String>,
    pub external_id: String,
    pub reference: String,
    pub paid_by: crate::domain::auth::Principal,
}

/// Records a payment the provider confirmed (its signature checked by the caller), applied to the
/// invoices the buyer chose. `None` when the provider's id was recorded before (a replay).
pub(crate) async fn record_provider_payment(db: &Db, now: i64, p: ProviderPayment) -> ServiceResult<Option<String>> {
    let draft = PaymentDraft {
        amount: crate::domain::payments::check_amount(p.amount).map_err(|e| ServiceError::invalid("amount", e))?,
        received_on: today(now),
        method: Method::Online,
        reference: p.reference.clone(),
    };
    let unit = RecordUnit {
        now,
        actor: OwnedActor {
            principal: p.paid_by,
            channel: crate::domain::auth::ActorChannel::Portal,
            on_behalf_of: None,
        },
        account_id: p.account_id,
        draft,
        source: "provider".into(),
        external_id: Some(p.external_id.clone()),
        plan: Plan::Oldest(Some(p.invoices)),
        key: None,
    };
    let external_id = p.external_id;
    match db.write(unit, |tx, u| Box::pin(provider_unit(tx, u))).await {
        Ok((id, replayed)) => Ok((!replayed).then_some(id)),
        // The same confirmation delivered twice at once (PostgreSQL): both units found no payment
        // with the provider's id, the unique key let one commit and failed the other. The other
        // is a replay, not a failure.
        Err(e) if payments::known_external_ids(db, std::slice::from_ref(&external_id)).await?.len() == 1 => {
            tracing::debug!(error = %e, "provider payment recorded meanwhile by the same confirmation");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A provider's payment: like a recorded one, but an invoice paid meanwhile leaves its share
/// unapplied rather than refusing money that was taken.
async fn provider_unit(tx: &mut Tx, u: &RecordUnit) -> ServiceResult<(String, bool)> {
    if let Some(ext) = &u.external_id
        && let Some(existing) = payments::by_external_id(tx, ext).await?
    {
        return Ok((existing.id, true));
    }
    let actor = u.actor.actor();
    let (id, _) = record_tx(tx, &actor, u.now, &u.account_id, &u.draft, &u.source, u.external_id.as_deref()).await?;
    let open: Vec<String> =
        payments::open_invoices_for_update(tx, &u.account_id).await?.into_iter().map(|i| i.number).collect();
    let still_open = match &u.plan {
        Plan::Oldest(Some(numbers)) => numbers.iter().filter(|n| open.contains(n)).cloned().collect(),
        _ => Vec::new(),
    };
    if !still_open.is_empty() {
        apply_tx(tx, &actor, u.now, &id, Plan::Oldest(Some(still_open)), false).await?;
    }
    Ok((id, false))
}
