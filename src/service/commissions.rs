//! Commissions (issue 18, slice 1): the order's owning rep at the time of the order earns on what
//! is invoiced of it, whatever its channel, by the plan assigned to the rep on the invoice's day
//! (`domain::commissions` has the rules). Accrual lines are written in the invoice's own unit of
//! work — one indexed read for the plan (the products' categories come with the invoice's read of
//! their tax classes) and one multi-row INSERT — and a credit note writes the negative (clawback)
//! lines mirroring what it credits, in its own unit. Statements per rep and month: open →
//! approved → locked; a closed period never takes a new line (it lands in the next open one).
//!
//! The hand-over split (issue 18 item 5): an order placed while its account was being handed over
//! from one rep to another is shared — the previous rep earns their share of each line's net at
//! their own plan's rate, the owner the rest at theirs; credit notes claw back from each.
//!
//! Who sees what: a rep their own statements; finance and admins every rep's (and approve and
//! lock them); admins keep the plans, assign them and flag house accounts.

use super::catalog::today;
use super::{Actor, ServiceError, ServiceResult, audit_and_publish};
use crate::domain::auth::Permission;
use crate::domain::commissions::{
    self as rules, Adjustment, Assignee, Basis, Handover, HandoverDraft, HandoverTerms, Plan, PlanDraft, PlanPeriod,
    PlanRules, PlanSpec, StatementAction, StatementStatus,
};
use crate::domain::money::Money;
use crate::store::commissions::{self as store, AccrualRow, NewAccrualLine, PlanRow, StatementRow};
use crate::store::invoices::{InvoiceLineRow, InvoiceRow};
use crate::store::{Db, Tx, new_id, orders};
use serde_json::json;
use std::collections::HashMap;

pub use crate::store::commissions::{
    AccrualRow as AccrualLine, AssignmentRow, PlanRow as CommissionPlan, TeamAssignmentRow,
};

// ---- Accruals (inside the invoice's and the credit note's units) ----

/// Who earns on an order, and on which part of it: the owning rep at the time of the order (the
/// whole, or what they keep during a hand-over) and, if the order was placed during a hand-over
/// of the account, its previous owner (their share).
fn earners(order: &orders::OrderRow) -> Vec<(&str, rules::Share)> {
    let mut out = Vec::with_capacity(2);
    match (order.handover_rep_id.as_deref(), order.owner_rep_id.as_deref()) {
        (Some(previous), owner) if order.handover_share_ppm > 0 && owner != Some(previous) => {
            let share = order.handover_share_ppm.min(rules::MAX_RATE_PPM);
            out.push((previous, rules::Share::Previous(share)));
            if let Some(owner) = owner
                && share < rules::MAX_RATE_PPM
            {
                out.push((owner, rules::Share::Kept(share)));
            }
        }
        (_, Some(owner)) => out.push((owner, rules::Share::Whole)),
        _ => {}
    }
    // Reps are held in one order (by id), whichever owns the order.
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// The share a rep's accrual lines of an order were written for (see [`earners`]).
fn share_of(rep: &str, handover: &(Option<String>, i64)) -> rules::Share {
    match handover {
        (Some(previous), share) if *share > 0 && previous == rep => rules::Share::Previous(*share),
        (Some(_), share) if *share > 0 => rules::Share::Kept(*share),
        _ => rules::Share::Whole,
    }
}

/// Writes the accrual lines of an invoice just written, in its unit of work: for the order's owning
/// rep at the time of the order — and, for an order placed during a hand-over, for the account's
/// previous owner, each on their share of every line's net ([`rules::split`]) — each by the plan
/// assigned to them on the invoice's day, in their own first open period. Nothing for an order
/// without a rep, a rep without a plan, or a house account. A rep whose plan is on the paid basis
/// earns nothing yet: the rate, rule and category of each line are kept for them instead
/// (`commission_paid_terms`), and each payment earns its part ([`accrue_paid`]). `categories` are the products' category paths, by id, as the
/// invoice read them with their tax classes (so the accrual adds one read per rep, not two).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accrue_invoice(
    tx: &mut Tx,
    order: &orders::OrderRow,
    order_lines: &[orders::OrderLineRow],
    categories: &HashMap<String, String>,
    invoice_id: &str,
    issued: time::Date,
    rows: &[InvoiceLineRow],
    now: i64,
) -> ServiceResult<()> {
    let earners = earners(order);
    if earners.is_empty() {
        return Ok(());
    }
    let day = crate::store::pricing::format_iso(issued);
    let product_of = |no: i64| order_lines.iter().find(|l| l.line_no == no).map(|l| l.product_id.clone());
    let overflow = || ServiceError::invalid("invoice", "The commission is too large.");
    let mut lines = Vec::with_capacity(rows.len() * earners.len());
    let mut terms = Vec::new();
    for (rep, share) in earners {
        store::hold_rep(tx, rep).await?;
        let Some(facts) = store::accrual_facts(tx, rep, &order.account_id, &day).await? else { continue };
        if facts.house != 0 {
            return Ok(());
        }
        let Some(basis) = Basis::parse(&facts.basis) else { continue };
        let plan = Plan {
            id: facts.id,
            name: facts.name,
            default_rate_ppm: facts.default_rate_ppm,
            basis,
            rules: serde_json::from_str(&facts.rules).unwrap_or_default(),
        };
        let period = rules::landing_period(&rules::period_of(issued), facts.closed_through.as_deref());
        let note = share.rule_note();
        for r in rows {
            let category = product_of(r.order_line_no).and_then(|p| categories.get(&p).cloned()).unwrap_or_default();
            let rate = rules::rate_for(&plan, &category, &order.channel);
            if plan.basis == Basis::Paid {
                terms.push(store::PaidTermsRow {
                    rep_id: rep.to_string(),
                    line_no: r.line_no,
                    plan_id: plan.id.clone(),
                    category,
                    rate_ppm: rate.ppm,
                    rule: format!("{}{note}", rate.rule),
                });
                continue;
            }
            let base = share.of(Money::from_raw(r.net)).ok_or_else(overflow)?;
            let amount = rules::commission(base, rate.ppm).ok_or_else(overflow)?;
            lines.push(NewAccrualLine {
                rep_id: rep.to_string(),
                period: period.clone(),
                plan_id: plan.id.clone(),
                invoice_id: invoice_id.to_string(),
                invoice_line_no: r.line_no,
                credited_invoice_id: None,
                payment_id: None,
                category,
                base: base.raw(),
                rate_ppm: rate.ppm,
                rule: format!("{}{note}", rate.rule),
                amount: amount.raw(),
                created_at: now,
            });
        }
    }
    store::insert_accruals(tx, &lines).await?;
    store::insert_paid_terms(tx, invoice_id, &terms).await?;
    Ok(())
}

/// Writes the clawback lines of a credit note of `invoice` (its lines as they were before the
/// note: `credited_qty` is what earlier notes credited), in the note's unit: for each rep who
/// accrued on the invoice and each credited line they accrued on, the change in their commission
/// on their share of what remains invoiced of it (negative), at their accrual's rate and rule —
/// in that rep's first open period.
pub(crate) async fn claw_back(
    tx: &mut Tx,
    invoice: &InvoiceRow,
    before: &[InvoiceLineRow],
    note_id: &str,
    wanted: &[(i64, i64)],
    now: i64,
) -> ServiceResult<()> {
    // Reps on the paid basis earn the commission on what remains invoiced × the part paid: the
    // note changes what remains, so their lines are recounted.
    let paid_reps = accrue_paid(tx, &invoice.id, PaidEvent::CreditNote(note_id), now).await?;
    let mut accruals = store::accruals_of_invoice(tx, &invoice.id).await?;
    accruals.retain(|a| !paid_reps.contains(&a.rep_id));
    if accruals.is_empty() {
        return Ok(());
    }
    let mut reps: Vec<&str> = accruals.iter().map(|a| a.rep_id.as_str()).collect();
    reps.sort_unstable();
    reps.dedup();
    // Which share each rep's lines were written for: the order's hand-over, as placed.
    let handover = store::order_handover(tx, &invoice.order_id).await?;
    let issued = today(now);
    let overflow = || ServiceError::invalid("lines", "The commission is too large.");
    let mut lines = Vec::new();
    for rep in reps {
        store::hold_rep(tx, rep).await?;
        let closed = store::closed_through(tx, rep).await?;
        let period = rules::landing_period(&rules::period_of(issued), closed.as_deref());
        let share = share_of(rep, &handover);
        for (no, qty) in wanted {
            let (Some(l), Some(a)) = (
                before.iter().find(|l| l.line_no == *no),
                accruals.iter().find(|a| a.rep_id == rep && a.invoice_line_no == *no),
            ) else {
                continue;
            };
            let (base, amount) = rules::clawback_share(
                Money::from_raw(l.net),
                Money::from_raw(l.unit_price),
                l.credited_qty,
                *qty,
                a.rate_ppm,
                share,
            )
            .ok_or_else(overflow)?;
            lines.push(NewAccrualLine {
                rep_id: a.rep_id.clone(),
                period: period.clone(),
                plan_id: a.plan_id.clone(),
                invoice_id: note_id.to_string(),
                invoice_line_no: a.invoice_line_no,
                credited_invoice_id: Some(invoice.id.clone()),
                payment_id: None,
                category: a.category.clone(),
                base: base.raw(),
                rate_ppm: a.rate_ppm,
                rule: a.rule.clone(),
                amount: amount.raw(),
                created_at: now,
            });
        }
    }
    store::insert_accruals(tx, &lines).await?;
    Ok(())
}

/// What changed what is paid or credited of an invoice (the paid basis' lines name it).
#[derive(Clone, Copy, Debug)]
pub(crate) enum PaidEvent<'a> {
    /// A payment applied to it, or an application of a payment taken off it (unapplied, or the
    /// payment reversed).
    Payment(&'a str),
    /// A credit note of it (its id).
    CreditNote(&'a str),
    /// A credit note's application to it taken off.
    CreditApplication,
}

/// The paid basis (issue 18 item 6), in the unit of whatever changed what is paid or credited of
/// an invoice: for each rep who earns on it on the paid basis (its `commission_paid_terms`, kept
/// at issue) and each of its lines, writes the difference between what they have earned so far
/// ([`rules::paid_target`]: the commission on their share of what remains invoiced × the part of
/// the invoice paid) and what their lines of it add up to — a negative (clawback) line when a
/// payment is taken back or a credit note lowers what remains — at the rate and rule of the
/// invoice's day, in the rep's first open period. So the lines always add up to the target; an
/// event that changes nothing writes nothing; paid in full they are exactly the invoiced basis'.
///
/// Cost: for an invoice without paid-basis reps, one read by primary key prefix; with them, the
/// invoice and its lines, what is paid of it, the order's hand-over and what was written so far —
/// all by the invoice's (or order's) id — and one INSERT of the changed lines. Returns the reps
/// who earn on the invoice on the paid basis.
pub(crate) async fn accrue_paid(
    tx: &mut Tx,
    invoice_id: &str,
    event: PaidEvent<'_>,
    now: i64,
) -> ServiceResult<Vec<String>> {
    let terms = store::paid_terms(tx, invoice_id).await?;
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let Some((inv, rows)) = crate::store::invoices::lock_with_lines(tx, invoice_id).await? else {
        return Ok(Vec::new());
    };
    let overflow = || ServiceError::invalid("amount", "The commission is too large.");
    let billed: Vec<(i64, rules::BilledLine)> = rows
        .iter()
        .map(|l| {
            (
                l.line_no,
                rules::BilledLine {
                    net: Money::from_raw(l.net),
                    tax: Money::from_raw(l.tax),
                    unit_price: Money::from_raw(l.unit_price),
                    tax_rate_ppm: l.tax_rate_ppm,
                    credited_qty: l.credited_qty,
                },
            )
        })
        .collect();
    let lines: Vec<rules::BilledLine> = billed.iter().map(|(_, l)| *l).collect();
    let due = rules::due_after_credits(Money::from_raw(inv.total), &lines).ok_or_else(overflow)?;
    let paid = Money::from_raw(store::paid_for_commission(tx, invoice_id).await?);
    let handover = store::order_handover(tx, &inv.order_id).await?;
    let accrued = store::accrued_on_invoice(tx, invoice_id).await?;
    let (written_by, credited, payment_id) = match event {
        PaidEvent::Payment(p) => (invoice_id, None, Some(p.to_string())),
        PaidEvent::CreditNote(n) => (n, Some(invoice_id.to_string()), None),
        PaidEvent::CreditApplication => (invoice_id, None, None),
    };
    let month = rules::period_of(today(now));
    let mut out = Vec::new();
    let mut reps: Vec<&str> = terms.iter().map(|t| t.rep_id.as_str()).collect();
    reps.dedup();
    for rep in reps.iter().copied() {
        store::hold_rep(tx, rep).await?;
        let closed = store::closed_through(tx, rep).await?;
        let period = rules::landing_period(&month, closed.as_deref());
        let share = share_of(rep, &handover);
        for t in terms.iter().filter(|t| t.rep_id == rep) {
            let Some((_, line)) = billed.iter().find(|(no, _)| *no == t.line_no) else { continue };
            let (base, amount) = rules::paid_target(line, share, t.rate_ppm, paid, due).ok_or_else(overflow)?;
            let (base_so_far, amount_so_far) = accrued
                .iter()
                .find(|(r, no, _, _)| r == rep && *no == t.line_no)
                .map(|(_, _, b, a)| (*b, *a))
                .unwrap_or((0, 0));
            let (base, amount) = (
                base.raw().checked_sub(base_so_far).ok_or_else(overflow)?,
                amount.raw().checked_sub(amount_so_far).ok_or_else(overflow)?,
            );
            if base == 0 && amount == 0 {
                continue;
            }
            out.push(NewAccrualLine {
                rep_id: rep.to_string(),
                period: period.clone(),
                plan_id: t.plan_id.clone(),
                invoice_id: written_by.to_string(),
                invoice_line_no: t.line_no,
                credited_invoice_id: credited.clone(),
                payment_id: payment_id.clone(),
                category: t.category.clone(),
                base,
                rate_ppm: t.rate_ppm,
                rule: t.rule.clone(),
                amount,
                created_at: now,
            });
        }
    }
    store::insert_accruals(tx, &out).await?;
    Ok(reps.into_iter().map(str::to_string).collect())
}

// ---- The hand-over split: settings, and an account's change of owner ----

/// The seller's hand-over terms (admins; finance and API tokens with `commissions:read` read them).
pub async fn handover_settings(db: &Db, actor: &Actor<'_>) -> ServiceResult<HandoverTerms> {
    require_view(actor)?;
    let (days, share) = store::handover_settings(db).await?;
    Ok(HandoverTerms::from_stored(days.as_deref(), share.as_deref()))
}

/// Sets the hand-over terms (admins): days (0–365, 0 = off) and the previous rep's share (a
/// percentage, 0–100 with at most 2 decimals), each problem naming its field; a bad field changes
/// nothing. Hand-overs already started keep the terms they started with. Audited.
pub async fn set_handover_settings(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    draft: &HandoverDraft,
) -> ServiceResult<HandoverTerms> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::check_texts(&[("handover_days", &draft.days), ("handover_share", &draft.share)], &[])?;
    let terms = draft.check().map_err(|p| {
        ServiceError::Invalid(p.into_iter().map(|(field, message)| super::FieldError { field, message }).collect())
    })?;
    db.write((now, actor.owned(), terms), |tx, (now, actor, terms)| {
        Box::pin(async move {
            let (days, share) = store::handover_settings_tx(tx).await?;
            let before = HandoverTerms::from_stored(days.as_deref(), share.as_deref());
            crate::store::invoices::put_setting(tx, "commissions.handover_days", &terms.days.to_string()).await?;
            crate::store::invoices::put_setting(tx, "commissions.handover_share", &terms.share_ppm.to_string()).await?;
            let json = |t: &HandoverTerms| json!({"handover_days": t.days, "handover_share_ppm": t.share_ppm});
            super::audit(
                tx,
                Some(&actor.actor()),
                *now,
                "commission_settings.updated",
                ("settings", "commissions"),
                Some(json(&before)),
                Some(json(terms)),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await?;
    Ok(terms)
}

/// An account's hand-over after a save that changes `before` (its row as read in the unit) to
/// `new_owner` at `now` ([`rules::handover_after_owner_change`]): read by every path that saves an
/// account's owning rep (the staff form, the API, CSV import, ERP sync) and handed to
/// `store::accounts::update`. Reads the seller's terms only when the owner changes.
pub(crate) async fn handover_on_save(
    tx: &mut Tx,
    before: &crate::store::accounts::AccountRow,
    new_owner: Option<&str>,
    now: i64,
) -> ServiceResult<Option<Handover>> {
    let old = before.owner_rep_id.as_deref();
    if old == new_owner {
        return Ok(before.handover());
    }
    let terms = match (old, new_owner) {
        (Some(_), Some(_)) => {
            let (days, share) = store::handover_settings_tx(tx).await?;
            HandoverTerms::from_stored(days.as_deref(), share.as_deref())
        }
        _ => HandoverTerms::default(),
    };
    Ok(rules::handover_after_owner_change(old, before.handover(), new_owner, terms, now))
}

// ---- Statements ----

/// A channel's share of a statement.
#[derive(Clone, Debug)]
pub struct ChannelTotal {
    pub channel: String,
    pub label: &'static str,
    pub self_service: bool,
    pub base: Money,
    pub amount: Money,
    pub lines: i64,
}

/// A rep's statement for a month.
#[derive(Clone, Debug)]
pub struct Statement {
    pub rep_id: String,
    pub rep_name: String,
    pub period: String,
    pub status: StatementStatus,
    pub by_channel: Vec<ChannelTotal>,
    /// Net base and commission of the lines.
    pub base: Money,
    pub earned: Money,
    /// What the customers' self-service orders (portal, punchout) earned.
    pub self_service: Money,
    /// Tier bonuses and caps (frozen when approved).
    pub adjustments: Vec<Adjustment>,
    /// earned + adjustments.
    pub total: Money,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub locked_at: Option<i64>,
}

/// May the actor read this rep's statements? A rep (who has a book) their own; finance and admins
/// anyone's; other staff none (403), buyers none (404).
fn statement_scope(actor: &Actor<'_>, rep_id: &str) -> ServiceResult<()> {
    let p = actor.principal;
    if p.can(Permission::ViewCommissions) || (p.can(Permission::ViewOwnBook) && p.user_id == rep_id) {
        Ok(())
    } else if p.is_staff() {
        Err(ServiceError::Forbidden)
    } else {
        Err(ServiceError::NotFound)
    }
}

fn checked_period(period: &str) -> ServiceResult<String> {
    rules::parse_period(period).ok_or_else(|| ServiceError::invalid("period", "Period: a month, YYYY-MM."))
}

/// This month, as a period.
pub fn this_period(now: i64) -> String {
    rules::period_of(today(now))
}

async fn rep_name(db: &Db, rep_id: &str) -> ServiceResult<String> {
    match crate::store::users::get(db, rep_id).await? {
        Some(u) if u.is_staff() => Ok(u.name),
        _ => Err(ServiceError::NotFound),
    }
}

fn plan_periods(rows: Vec<(String, String, i64, i64)>) -> Vec<PlanPeriod> {
    rows.into_iter()
        .map(|(name, rules_json, base, amount)| {
            let r: PlanRules = serde_json::from_str(&rules_json).unwrap_or_default();
            PlanPeriod {
                plan_name: name,
                base: Money::from_raw(base),
                amount: Money::from_raw(amount),
                tiers: r.tiers,
                cap: r.cap,
            }
        })
        .collect()
}

/// A rep's statement for a period (`period` as `YYYY-MM`): totals by channel, adjustments, status.
pub async fn statement(db: &Db, actor: &Actor<'_>, rep_id: &str, period: &str) -> ServiceResult<Statement> {
    statement_scope(actor, rep_id)?;
    let period = checked_period(period)?;
    let rep_name = rep_name(db, rep_id).await?;
    let row = store::statement(db, rep_id, &period).await?;
    let status = row.as_ref().and_then(|r| StatementStatus::parse(&r.status)).unwrap_or(StatementStatus::Open);
    let overflow = || ServiceError::Internal("statement total overflows".into());
    let by_channel: Vec<ChannelTotal> = store::totals_by_channel(db, rep_id, &period)
        .await?
        .into_iter()
        .map(|(channel, base, amount, lines)| ChannelTotal {
            label: crate::domain::orders::Channel::label(&channel),
            self_service: rules::is_self_service(&channel),
            channel,
            base: Money::from_raw(base),
            amount: Money::from_raw(amount),
            lines,
        })
        .collect();
    let base = Money::sum(by_channel.iter().map(|c| c.base)).ok_or_else(overflow)?;
    let earned = Money::sum(by_channel.iter().map(|c| c.amount)).ok_or_else(overflow)?;
    let self_service =
        Money::sum(by_channel.iter().filter(|c| c.self_service).map(|c| c.amount)).ok_or_else(overflow)?;
    let adjustments = match (&row, status) {
        (Some(r), StatementStatus::Approved | StatementStatus::Locked) => {
            serde_json::from_str(&r.adjustments).unwrap_or_default()
        }
        _ => {
            rules::adjustments(&plan_periods(store::totals_by_plan(db, rep_id, &period).await?)).ok_or_else(overflow)?
        }
    };
    let total = earned
        .checked_add(Money::sum(adjustments.iter().map(|a| Money::from_raw(a.amount))).ok_or_else(overflow)?)
        .ok_or_else(overflow)?;
    Ok(Statement {
        rep_id: rep_id.to_string(),
        rep_name,
        period,
        status,
        by_channel,
        base,
        earned,
        self_service,
        adjustments,
        total,
        approved_by: row.as_ref().and_then(|r| r.approved_by.clone()),
        approved_at: row.as_ref().and_then(|r| r.approved_at),
        locked_at: row.as_ref().and_then(|r| r.locked_at),
    })
}

/// A page of a rep's statement lines, oldest first; `after` is (created_at, id) of the last line.
pub async fn statement_lines(
    db: &Db,
    actor: &Actor<'_>,
    rep_id: &str,
    period: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<AccrualRow>> {
    statement_scope(actor, rep_id)?;
    let period = checked_period(period)?;
    Ok(store::statement_lines(db, rep_id, &period, after, limit).await?)
}

/// A rep's month as a PDF drawn by the server: (file name, bytes). Who may read it is who may read
/// the statement.
pub async fn statement_pdf(db: &Db, actor: &Actor<'_>, rep_id: &str, period: &str) -> ServiceResult<(String, Vec<u8>)> {
    use super::invoice_pdf::commission::{self as pdf, CommissionDocument, CommissionLine};
    let s = statement(db, actor, rep_id, period).await?;
    let lines = store::statement_lines(db, rep_id, &s.period, None, pdf::MAX_LINES as i64 + 1).await?;
    let name = crate::store::invoices::setting(db, "seller.name").await?.unwrap_or_default();
    let address = crate::store::invoices::setting(db, "seller.address").await?.unwrap_or_default();
    let status = match (s.status, s.approved_at, s.locked_at) {
        (StatementStatus::Locked, _, Some(at)) => {
            format!("Locked {}", crate::domain::pricing::format_iso_date(today(at)))
        }
        (StatementStatus::Approved, Some(at), _) => {
            format!("Approved {}", crate::domain::pricing::format_iso_date(today(at)))
        }
        (status, _, _) => status.label().to_string(),
    };
    let doc = CommissionDocument {
        seller: std::iter::once(name).chain(address.lines().map(str::to_string)).collect(),
        rep_name: s.rep_name.clone(),
        period: s.period.clone(),
        status,
        by_channel: s
            .by_channel
            .iter()
            .map(|c| {
                let label = if c.self_service { format!("{} (self-service)", c.label) } else { c.label.to_string() };
                (label, c.lines, c.base, c.amount)
            })
            .collect(),
        base: s.base,
        earned: s.earned,
        self_service: s.self_service,
        adjustments: s.adjustments.iter().map(|a| (a.label.clone(), Money::from_raw(a.amount))).collect(),
        total: s.total,
        lines: lines
            .into_iter()
            .map(|l| CommissionLine {
                issued_on: l.issued_on,
                invoice: l.invoice_number,
                clawback: l.kind == "clawback",
                order: l.order_number,
                channel: crate::domain::orders::Channel::label(&l.channel).to_string(),
                sku: l.sku,
                base: Money::from_raw(l.base),
                rate: crate::domain::invoicing::format_rate(l.rate_ppm),
                rule: match &l.payment_number {
                    Some(p) => format!("{}; payment {p}", rules::rule_label(&l.rule)),
                    None => rules::rule_label(&l.rule),
                },
                amount: Money::from_raw(l.amount),
            })
            .collect(),
    };
    let bytes = pdf::render(&doc).map_err(|e| ServiceError::TooLarge(e.to_string()))?;
    let safe: String = s.rep_name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    Ok((format!("commission-{safe}-{}.pdf", s.period), bytes))
}

/// One rep's line of the all-reps summary.
#[derive(Clone, Debug)]
pub struct RepSummary {
    pub rep_id: String,
    pub rep_name: String,
    pub base: Money,
    pub earned: Money,
    pub self_service: Money,
    pub status: StatementStatus,
}

/// Every rep with lines in a period (finance and admins).
pub async fn period_summary(db: &Db, actor: &Actor<'_>, period: &str) -> ServiceResult<Vec<RepSummary>> {
    actor.require(Permission::ViewCommissions)?;
    let period = checked_period(period)?;
    let statuses: HashMap<String, String> =
        store::statements_of_period(db, &period).await?.into_iter().map(|s| (s.rep_id, s.status)).collect();
    Ok(store::reps_of_period(db, &period)
        .await?
        .into_iter()
        .map(|(rep_id, rep_name, base, amount, self_service)| RepSummary {
            status: statuses.get(&rep_id).and_then(|s| StatementStatus::parse(s)).unwrap_or(StatementStatus::Open),
            rep_id,
            rep_name,
            base: Money::from_raw(base),
            earned: Money::from_raw(amount),
            self_service: Money::from_raw(self_service),
        })
        .collect())
}

/// Accrual lines written since a time (the API's changes list), of one rep and period if given.
pub async fn accruals_since(
    db: &Db,
    actor: &Actor<'_>,
    rep_id: Option<&str>,
    period: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<AccrualRow>> {
    match rep_id {
        Some(r) => statement_scope(actor, r)?,
        None => actor.require(Permission::ViewCommissions)?,
    }
    let period = period.map(checked_period).transpose()?;
    Ok(store::accruals_since(db, rep_id, period.as_deref(), since, after, limit).await?)
}

/// Approves, locks or reopens a rep's statement (finance, admins). Approving freezes its tier
/// bonus and cap adjustments and total; from then on no new line lands in the period (nor in an
/// earlier one); locking makes that final.
pub async fn act_on_statement(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    rep_id: &str,
    period: &str,
    action: StatementAction,
) -> ServiceResult<Statement> {
    actor.require(Permission::ApproveCommissions)?;
    let period = checked_period(period)?;
    rep_name(db, rep_id).await?;
    let unit = (now, actor.owned(), rep_id.to_string(), period.clone(), action);
    db.write(unit, |tx, (now, actor, rep_id, period, action)| {
        Box::pin(async move {
            let now = *now;
            store::lock_rep(tx, rep_id).await?;
            let before = store::lock_statement(tx, rep_id, period).await?;
            let from = before.as_ref().and_then(|r| StatementStatus::parse(&r.status)).unwrap_or(StatementStatus::Open);
            let to = action.apply(from).map_err(|m| ServiceError::Conflict(m.to_string()))?;
            let mut row = before.clone().unwrap_or(StatementRow {
                rep_id: rep_id.clone(),
                period: period.clone(),
                status: "open".into(),
                total: 0,
                adjustments: "[]".into(),
                approved_by: None,
                approved_at: None,
                locked_at: None,
                updated_at: now,
            });
            match action {
                StatementAction::Approve => {
                    let totals: Vec<(String, String, i64, i64)> = tx
                        .fetch_all(
                            "SELECT p.name, p.rules, CAST(SUM(l.base) AS BIGINT), CAST(SUM(l.amount) AS BIGINT)
                             FROM commission_accruals l JOIN commission_plans p ON p.id = l.plan_id
                             WHERE l.rep_id = $1 AND l.period = $2 GROUP BY p.id, p.name, p.rules ORDER BY p.name",
                            crate::args![rep_id.as_str(), period.as_str()],
                        )
                        .await?;
                    let earned: i64 = totals.iter().map(|t| t.3).sum();
                    let adjustments = rules::adjustments(&plan_periods(totals))
                        .ok_or_else(|| ServiceError::Internal("statement total overflows".into()))?;
                    row.total = earned + adjustments.iter().map(|a| a.amount).sum::<i64>();
                    row.adjustments = serde_json::to_string(&adjustments).unwrap_or_else(|_| "[]".into());
                    row.approved_by = Some(actor.principal.user_id.clone());
                    row.approved_at = Some(now);
                }
                StatementAction::Lock => row.locked_at = Some(now),
                StatementAction::Reopen => {
                    row.approved_by = None;
                    row.approved_at = None;
                    row.adjustments = "[]".into();
                    row.total = 0;
                }
            }
            row.status = to.as_str().into();
            row.updated_at = now;
            store::put_statement(tx, &row).await?;
            let event = match action {
                StatementAction::Approve => "commission_statement.approved",
                StatementAction::Lock => "commission_statement.locked",
                StatementAction::Reopen => "commission_statement.reopened",
            };
            let payload = json!({
                "rep_id": row.rep_id, "period": row.period, "status": row.status,
                "total": Money::from_raw(row.total).to_plain(), "by": actor.principal.user_id,
            });
            let before_json = before.map(|b| json!({"status": b.status}));
            let a = actor.actor();
            let object = format!("{}:{}", row.rep_id, row.period);
            audit_and_publish(tx, Some(&a), now, event, ("commission_statement", &object), before_json, payload)
                .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await?;
    statement(db, actor, rep_id, &period).await
}

// ---- Plans, assignments, house accounts (admins) ----

pub fn plan_rules(p: &PlanRow) -> PlanRules {
    serde_json::from_str(&p.rules).unwrap_or_default()
}

/// The admin form of a stored plan.
pub fn plan_draft(p: &PlanRow) -> PlanDraft {
    PlanDraft::of(&p.name, &p.effective_from, p.effective_to.as_deref(), p.default_rate_ppm, &p.basis, &plan_rules(p))
}

/// Plans, their assignments, teams and house accounts are read by those who manage plans and by
/// those who see every rep's commissions (finance, a `commissions:read` token); not by reps.
fn require_view(actor: &Actor<'_>) -> ServiceResult<()> {
    let p = actor.principal;
    if p.can(Permission::ManageCommissionPlans) || p.can(Permission::ViewCommissions) {
        return Ok(());
    }
    Err(if p.is_staff() { ServiceError::Forbidden } else { ServiceError::NotFound })
}

pub async fn plans(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<PlanRow>> {
    require_view(actor)?;
    Ok(store::plans(db).await?)
}

pub async fn plan(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<PlanRow> {
    require_view(actor)?;
    super::names_nothing(id)?;
    store::plan(db, id).await?.ok_or(ServiceError::NotFound)
}

fn plan_payload(p: &PlanRow) -> serde_json::Value {
    json!({
        "id": p.id, "name": p.name, "effective_from": p.effective_from, "effective_to": p.effective_to,
        "default_rate_ppm": p.default_rate_ppm, "basis": p.basis,
        "rules": serde_json::from_str::<serde_json::Value>(&p.rules).unwrap_or(json!({})),
    })
}

fn invalid(problems: Vec<(String, String)>) -> ServiceError {
    ServiceError::Invalid(problems.into_iter().map(|(field, message)| super::FieldError { field, message }).collect())
}

/// Creates a plan (`id` None) or changes one, as typed in the admin form. Returns its id. Lines
/// already accrued keep the rate and rule they were written with.
pub async fn save_plan(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: Option<&str>,
    draft: &PlanDraft,
) -> ServiceResult<String> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::check_texts(
        &[("name", &draft.name), ("effective_from", &draft.effective_from), ("effective_to", &draft.effective_to)],
        &[("category_rates", &draft.category_rates), ("channel_rates", &draft.channel_rates), ("tiers", &draft.tiers)],
    )?;
    let plan = draft.check().map_err(invalid)?;
    put_plan(db, now, actor, id, plan).await
}

/// Creates a plan (`id` None) or changes one, as the API sends it ([`PlanSpec`]: the same rules
/// as the form, each list item on its own). Returns its id.
pub async fn save_plan_spec(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: Option<&str>,
    spec: &PlanSpec,
) -> ServiceResult<String> {
    actor.require(Permission::ManageCommissionPlans)?;
    let plan = spec.check().map_err(invalid)?;
    put_plan(db, now, actor, id, plan).await
}

async fn put_plan(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: Option<&str>,
    (name, from, to, rate, basis, plan_rules): rules::CheckedPlan,
) -> ServiceResult<String> {
    if let Some(id) = id {
        super::names_nothing(id)?;
    }
    let row = PlanRow {
        id: id.map(str::to_string).unwrap_or_else(new_id),
        name,
        effective_from: from,
        effective_to: to,
        default_rate_ppm: rate,
        basis: basis.as_str().into(),
        rules: serde_json::to_string(&plan_rules).unwrap_or_else(|_| "{}".into()),
        created_at: now,
        updated_at: now,
    };
    let unit = (now, actor.owned(), row, id.is_some());
    db.write(unit, |tx, (now, actor, row, existing)| {
        Box::pin(async move {
            let before = store::plan_tx(tx, &row.id).await?;
            if *existing && before.is_none() {
                return Err(ServiceError::NotFound);
            }
            if store::plan_name_taken(tx, &row.name, &row.id).await? {
                return Err(ServiceError::invalid("name", format!("A plan named “{}” exists already.", row.name)));
            }
            let mut row = row.clone();
            if let Some(b) = &before {
                row.created_at = b.created_at;
            }
            store::put_plan(tx, &row).await?;
            let event = if before.is_some() { "commission_plan.updated" } else { "commission_plan.created" };
            let a = actor.actor();
            audit_and_publish(
                tx,
                Some(&a),
                *now,
                event,
                ("commission_plan", &row.id),
                before.as_ref().map(plan_payload),
                plan_payload(&row),
            )
            .await?;
            Ok::<_, ServiceError>(row.id)
        })
    })
    .await
}

pub async fn assignments(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<AssignmentRow>> {
    require_view(actor)?;
    Ok(store::assignments(db).await?)
}

/// A plan's assignment to a rep or a team, as the API lists them together.
#[derive(Clone, Debug)]
pub struct PlanAssignment {
    pub id: String,
    pub assignee: Assignee,
    /// The rep's or the team's name.
    pub assignee_name: String,
    pub plan_id: String,
    pub plan_name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub created_at: i64,
}

/// Every assignment: the reps' (by rep name), then the teams' (by team name); latest start first.
pub async fn every_assignment(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<PlanAssignment>> {
    require_view(actor)?;
    let reps = store::assignments(db).await?.into_iter().map(|a| PlanAssignment {
        id: a.id,
        assignee: Assignee::Rep(a.rep_id),
        assignee_name: a.rep_name,
        plan_id: a.plan_id,
        plan_name: a.plan_name,
        effective_from: a.effective_from,
        effective_to: a.effective_to,
        created_at: a.created_at,
    });
    let teams = store::team_assignments(db).await?.into_iter().map(|a| PlanAssignment {
        id: a.id,
        assignee: Assignee::Team(a.team_id),
        assignee_name: a.team_name,
        plan_id: a.plan_id,
        plan_name: a.plan_name,
        effective_from: a.effective_from,
        effective_to: a.effective_to,
        created_at: a.created_at,
    });
    Ok(reps.chain(teams).collect())
}

/// Assigns a plan to a sales rep from a date (to a date, or open-ended). On a day two assignments
/// cover, the one that starts later applies.
pub async fn assign_plan(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    rep_id: &str,
    plan_id: &str,
    from: &str,
    to: &str,
) -> ServiceResult<String> {
    assign(db, now, actor, &Assignee::Rep(rep_id.to_string()), plan_id, from, to).await
}

/// Assigns a plan to a team from a date (to a date, or open-ended): its members earn by it on days
/// they have no own assignment in force (domain::commissions::plan_in_force). Audited.
pub async fn assign_plan_to_team(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    team_id: &str,
    plan_id: &str,
    from: &str,
    to: &str,
) -> ServiceResult<String> {
    assign(db, now, actor, &Assignee::Team(team_id.to_string()), plan_id, from, to).await
}

/// Assigns a plan to a rep or a team from a date (to a date, or open-ended): problems beside the
/// fields `rep` or `team`, `plan`, `effective_from`, `effective_to`. Audited and published
/// (`commission_plan.assigned`, naming `rep_id` or `team_id`). Returns the assignment's id.
pub async fn assign(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    to_whom: &Assignee,
    plan_id: &str,
    from: &str,
    to: &str,
) -> ServiceResult<String> {
    actor.require(Permission::ManageCommissionPlans)?;
    let (who_field, who) = match to_whom {
        Assignee::Rep(r) => ("rep", r.as_str()),
        Assignee::Team(t) => ("team", t.as_str()),
    };
    super::check_texts(&[(who_field, who), ("plan", plan_id), ("effective_from", from), ("effective_to", to)], &[])?;
    let who = who.trim().to_string();
    let mut problems = Vec::new();
    let known = match to_whom {
        Assignee::Rep(_) => is_rep(db, &who).await? == Some(true),
        Assignee::Team(_) => store::teams(db).await?.iter().any(|t| t.id == who),
    };
    if !known {
        let message = if who_field == "rep" { "Choose a sales rep." } else { "Choose a team." };
        problems.push((who_field.to_string(), message.to_string()));
    }
    let (from_d, to_d) = check_assignment(db, plan_id, from, to, &mut problems).await?;
    ServiceError::from_problems(problems)?;
    let to_whom = match to_whom {
        Assignee::Rep(_) => Assignee::Rep(who),
        Assignee::Team(_) => Assignee::Team(who),
    };
    let unit = (now, actor.owned(), new_id(), to_whom, plan_id.trim().to_string(), from_d.unwrap_or_default(), to_d);
    db.write(unit, |tx, (now, actor, id, to_whom, plan, from, to)| {
        Box::pin(async move {
            // A team may have been deleted since it was checked (a rep is never deleted).
            if let Assignee::Team(team) = &*to_whom
                && store::team_tx(tx, team).await?.is_none()
            {
                return Err(ServiceError::invalid("team", "Choose a team."));
            }
            store::insert_assignment(tx, id, to_whom, plan, from, to.as_deref(), *now).await?;
            let mut payload = json!({"id": id, "plan_id": plan, "effective_from": from, "effective_to": to});
            match &*to_whom {
                Assignee::Rep(r) => payload["rep_id"] = json!(r),
                Assignee::Team(t) => payload["team_id"] = json!(t),
            }
            let a = actor.actor();
            audit_and_publish(tx, Some(&a), *now, "commission_plan.assigned", ("commission_plan", plan), None, payload)
                .await?;
            Ok::<_, ServiceError>(id.clone())
        })
    })
    .await
}

/// The plan and effective dates of an assignment (to a rep or a team): problems beside the fields.
async fn check_assignment(
    db: &Db,
    plan_id: &str,
    from: &str,
    to: &str,
    problems: &mut Vec<(String, String)>,
) -> ServiceResult<(Option<String>, Option<String>)> {
    if store::plan(db, plan_id.trim()).await?.is_none() {
        problems.push(("plan".to_string(), "Choose a plan.".to_string()));
    }
    let date = |s: &str| crate::domain::pricing::parse_iso_date(s.trim()).map(|_| s.trim().to_string());
    let from_d = date(from);
    if from_d.is_none() {
        problems.push(("effective_from".to_string(), "Effective from: a date, YYYY-MM-DD.".to_string()));
    }
    let to_d = if to.trim().is_empty() { None } else { date(to) };
    if !to.trim().is_empty() && to_d.is_none() {
        problems.push(("effective_to".to_string(), "Effective to: a date, YYYY-MM-DD, or empty.".to_string()));
    }
    if let (Some(f), Some(t)) = (&from_d, &to_d)
        && t < f
    {
        problems.push(("effective_to".to_string(), "Effective to is before effective from.".to_string()));
    }
    Ok((from_d, to_d))
}

/// Whether a user is a staff user with the sales rep role (None: no such user).
async fn is_rep(db: &Db, user_id: &str) -> ServiceResult<Option<bool>> {
    Ok(crate::store::users::get(db, user_id).await?.map(|u| {
        u.is_staff()
            && crate::domain::auth::StaffRole::parse_list(&u.roles).contains(&crate::domain::auth::StaffRole::SalesRep)
    }))
}

/// Removes an assignment (lines already accrued stay).
pub async fn unassign_plan(db: &Db, now: i64, actor: &Actor<'_>, assignment_id: &str) -> ServiceResult<()> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::names_nothing(assignment_id)?;
    let unit = (now, actor.owned(), assignment_id.to_string());
    db.write(unit, |tx, (now, actor, id)| {
        Box::pin(async move {
            if !store::delete_assignment(tx, id).await? {
                return Err(ServiceError::NotFound);
            }
            let a = actor.actor();
            audit_and_publish(
                tx,
                Some(&a),
                *now,
                "commission_plan.unassigned",
                ("commission_assignment", id),
                None,
                json!({"id": id}),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// House accounts: (id, number, name).
pub async fn house_accounts(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<(String, String, String)>> {
    require_view(actor)?;
    Ok(store::house_accounts(db).await?)
}

/// Makes an account (by id, number or external id) a house account — it earns no commission from
/// now on — or a regular one again. Returns the account's id.
pub async fn set_house_account(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account: &str,
    house: bool,
) -> ServiceResult<String> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::check_texts(&[("account", account)], &[])?;
    // Seller-wide: whoever manages plans reaches every account (a `commissions:write` token too).
    let found = crate::store::accounts::find_by_reference(db, account.trim())
        .await?
        .ok_or_else(|| ServiceError::invalid("account", format!("No account “{}”.", account.trim())))?;
    let unit = (now, actor.owned(), found.id.clone(), found.number.clone(), house);
    db.write(unit, |tx, (now, actor, id, number, house)| {
        Box::pin(async move {
            if !store::set_house(tx, id, *house, *now).await? {
                return Err(ServiceError::NotFound);
            }
            let payload = json!({"account_id": id, "account_number": number, "house": house});
            let a = actor.actor();
            audit_and_publish(tx, Some(&a), *now, "commission_house.changed", ("account", id), None, payload).await?;
            Ok::<_, ServiceError>(id.clone())
        })
    })
    .await
}

/// Sales reps (for the assignment form).
pub async fn reps(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<(String, String)>> {
    actor.require(Permission::ManageCommissionPlans)?;
    Ok(crate::store::users::list_reps(db).await?.into_iter().map(|u| (u.id, u.name)).collect())
}

/// A team with its member reps (id, name), for the admin page and the API.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub members: Vec<(String, String)>,
}

/// Commission teams (plans assigned to a team apply to its members who have no own assignment in
/// force; a rep is in at most one team at a time).
pub async fn teams(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<Team>> {
    require_view(actor)?;
    let members = store::team_members(db).await?;
    Ok(store::teams(db)
        .await?
        .into_iter()
        .map(|t| {
            let members =
                members.iter().filter(|m| m.team_id == t.id).map(|m| (m.rep_id.clone(), m.rep_name.clone())).collect();
            Team { id: t.id, name: t.name, members }
        })
        .collect())
}

pub async fn team_assignments(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<store::TeamAssignmentRow>> {
    require_view(actor)?;
    Ok(store::team_assignments(db).await?)
}

/// Most characters of a team's name.
pub const MAX_TEAM_NAME: usize = 120;

/// A team's name as typed: trimmed, 1 to [`MAX_TEAM_NAME`] characters.
fn team_name(name: &str) -> ServiceResult<String> {
    super::check_texts(&[("name", name)], &[])?;
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "Name the team."));
    }
    if name.chars().count() > MAX_TEAM_NAME {
        return Err(ServiceError::invalid("name", "A team name is at most 120 characters."));
    }
    Ok(name)
}

/// Audits and publishes a change to a team, in its unit (`commission_team.*`).
async fn team_event(
    tx: &mut Tx,
    actor: &super::OwnedActor,
    now: i64,
    event: &str,
    team_id: &str,
    before: Option<serde_json::Value>,
    payload: serde_json::Value,
) -> ServiceResult<()> {
    audit_and_publish(tx, Some(&actor.actor()), now, event, ("commission_team", team_id), before, payload).await
}

/// Refuses a name another team has (regardless of case), beside the field.
async fn name_free(tx: &mut Tx, name: &str, team_id: &str) -> ServiceResult<()> {
    if store::team_name_taken(tx, name, team_id).await? {
        return Err(ServiceError::invalid("name", format!("A team named “{name}” exists already.")));
    }
    Ok(())
}

/// Creates a team (a name, unique regardless of case). Audited.
pub async fn create_team(db: &Db, now: i64, actor: &Actor<'_>, name: &str) -> ServiceResult<String> {
    actor.require(Permission::ManageCommissionPlans)?;
    let name = team_name(name)?;
    db.write((now, actor.owned(), new_id(), name), |tx, (now, actor, id, name)| {
        Box::pin(async move {
            name_free(tx, name, id).await?;
            store::insert_team(tx, id, name, *now).await?;
            team_event(tx, actor, *now, "commission_team.created", id, None, json!({"id": id, "name": name})).await?;
            Ok::<_, ServiceError>(id.clone())
        })
    })
    .await
}

/// Renames a team (the same rules as a new name; its members and assignments stay). Audited.
pub async fn rename_team(db: &Db, now: i64, actor: &Actor<'_>, team_id: &str, name: &str) -> ServiceResult<()> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::names_nothing(team_id)?;
    let name = team_name(name)?;
    db.write((now, actor.owned(), team_id.to_string(), name), |tx, (now, actor, id, name)| {
        Box::pin(async move {
            let Some(team) = store::team_tx(tx, id).await? else { return Err(ServiceError::NotFound) };
            name_free(tx, name, id).await?;
            store::rename_team(tx, id, name).await?;
            let before = json!({"id": id, "name": team.name});
            team_event(tx, actor, *now, "commission_team.renamed", id, Some(before), json!({"id": id, "name": name}))
                .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// Adds a sales rep to a team. A rep is in at most one team: one already in a team is refused
/// (remove them there first). From now on, invoices of theirs with no own assignment in force earn
/// by the team's plan. An unknown team or user is not found; a user who is not a sales rep is
/// refused beside `rep`. Audited.
pub async fn add_team_member(db: &Db, now: i64, actor: &Actor<'_>, team_id: &str, rep_id: &str) -> ServiceResult<()> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::names_nothing(team_id)?;
    super::check_texts(&[("rep", rep_id)], &[])?;
    match is_rep(db, rep_id.trim()).await? {
        None => return Err(ServiceError::NotFound),
        Some(false) => return Err(ServiceError::invalid("rep", "Choose a sales rep.")),
        Some(true) => {}
    }
    db.write((now, actor.owned(), team_id.to_string(), rep_id.trim().to_string()), |tx, (now, actor, team, rep)| {
        Box::pin(async move {
            if store::team_tx(tx, team).await?.is_none() {
                return Err(ServiceError::NotFound);
            }
            match store::team_of_rep(tx, rep).await? {
                // Already in this team: nothing to do (adding is idempotent).
                Some((id, _)) if id == *team => return Ok(()),
                Some((_, other)) => {
                    return Err(ServiceError::invalid(
                        "rep",
                        format!("This rep is in the team “{other}”; a rep is in one team at a time."),
                    ));
                }
                None => {}
            }
            store::insert_team_member(tx, team, rep, *now).await?;
            let payload = json!({"team_id": team, "rep_id": rep});
            team_event(tx, actor, *now, "commission_team.member_added", team, None, payload).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// Takes a rep out of a team: later invoices no longer earn by the team's plan; lines already
/// accrued stay. Audited.
pub async fn remove_team_member(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    team_id: &str,
    rep_id: &str,
) -> ServiceResult<()> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::names_nothing(team_id)?;
    super::names_nothing(rep_id)?;
    db.write((now, actor.owned(), team_id.to_string(), rep_id.to_string()), |tx, (now, actor, team, rep)| {
        Box::pin(async move {
            if !store::delete_team_member(tx, team, rep).await? {
                return Err(ServiceError::NotFound);
            }
            let payload = json!({"team_id": team, "rep_id": rep});
            team_event(tx, actor, *now, "commission_team.member_removed", team, None, payload).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

/// Deletes a team — refused (409) while it has members or plan assignments, so a team that ever
/// decided a rep's plan is only deleted once it is emptied on purpose. Audited.
pub async fn delete_team(db: &Db, now: i64, actor: &Actor<'_>, team_id: &str) -> ServiceResult<()> {
    actor.require(Permission::ManageCommissionPlans)?;
    super::names_nothing(team_id)?;
    db.write((now, actor.owned(), team_id.to_string()), |tx, (now, actor, id)| {
        Box::pin(async move {
            let Some(team) = store::team_tx(tx, id).await? else { return Err(ServiceError::NotFound) };
            if !store::delete_empty_team(tx, id).await? {
                return Err(ServiceError::Conflict(format!(
                    "The team “{}” still has members or plan assignments: remove them first.",
                    team.name
                )));
            }
            let payload = json!({"id": id, "name": team.name});
            team_event(tx, actor, *now, "commission_team.deleted", id, None, payload).await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}
