//! Quotes (issue 14 §2): a buyer asks for one from their cart (notes, target prices), or a rep or
//! the desk writes one for an account; the seller prices the lines against the account's normal
//! price and the product's cost; a discount past the seller's threshold (or a price below cost)
//! waits for a sales manager's sign-off; the quote is sent with an expiry; the buyer accepts all
//! or some lines — an order at the quoted prices through the one placement pipeline
//! (`orders::place_quoted`: approvals, licences, stock and credit as any order; the rep already
//! owned it, so routing does not send it back to them) — declines it, or lets it expire. Every
//! revision's lines are kept; buyer and seller write in one thread. Each change is audited and
//! writes a `quote.*` outbox event.

use super::catalog::today;
use super::evaluation::{LineInput, ProductRef};
use super::idempotency::{self, Keyed, UnitClaim};
use super::orders::{IdemKey, OrderHeader, Placement};
use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::{ActorChannel, Permission};
use crate::domain::money::Money;
use crate::domain::orders::{Channel, LineIssue};
use crate::domain::pricing::{PriceSource, SourceKind, Tier, format_date, format_iso_date, parse_iso_date};
use crate::domain::quotes::{self, Action, Policy, PricedLine, QuoteStatus};
use crate::store::accounts::{self, AccountRow};
pub use crate::store::quotes::QuotePage;
use crate::store::quotes::{self as store, QuoteFilter};
pub use crate::store::quotes::{MessageRow, QuoteLineRow, QuoteRow};
use crate::store::{Db, Tx, invoices, new_id};
use serde_json::json;
use std::collections::HashMap;

/// The most lines a quote may have.
pub const MAX_LINES: usize = 500;

/// A line as a buyer asks for it or a seller prices it.
#[derive(Clone, Debug)]
pub struct QuoteLineInput {
    pub product: ProductRef,
    pub quantity: i64,
    /// What the buyer would like to pay per unit (buyers only).
    pub target_price: Option<Money>,
    /// The seller's price per unit (sellers only; `None`: the account's normal price).
    pub unit_price: Option<Money>,
}

pub struct NewQuote {
    pub account_id: String,
    pub lines: Vec<QuoteLineInput>,
    pub notes: String,
}

// ---------------------------------------------------------------------------------------------
// The seller's policy

const SIGNOFF_KEY: &str = "quote_signoff_discount_bp";
const VALID_DAYS_KEY: &str = "quote_valid_days";

pub async fn policy(db: &Db) -> ServiceResult<Policy> {
    let d = Policy::default();
    let bp = invoices::setting(db, SIGNOFF_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(d.signoff_discount_bp);
    let days = invoices::setting(db, VALID_DAYS_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(d.valid_days);
    Ok(Policy { signoff_discount_bp: bp, valid_days: days })
}

/// Sets the quoting policy (admins): the discount (percent, e.g. "15" or "12.5") past which a
/// quote needs a sales manager's sign-off, and how many days a quote is valid by default.
pub async fn set_policy(db: &Db, now: i64, actor: &Actor<'_>, discount: &str, valid_days: &str) -> ServiceResult<()> {
    if !actor.principal.can(Permission::AdminArea) {
        return Err(ServiceError::Forbidden);
    }
    super::check_texts(&[("discount", discount), ("valid_days", valid_days)], &[])?;
    let pct = rust_decimal::Decimal::from_str_exact(discount.trim().trim_end_matches('%').trim())
        .map_err(|_| ServiceError::invalid("discount", "Give the discount as a percentage, e.g. 15 or 12.5."))?;
    let bp = pct * rust_decimal::Decimal::from(100);
    if bp.fract() != rust_decimal::Decimal::ZERO
        || bp < rust_decimal::Decimal::ZERO
        || bp > rust_decimal::Decimal::from(10_000)
    {
        return Err(ServiceError::invalid("discount", "The discount is between 0 and 100 %, to two decimals."));
    }
    let bp: i64 = bp.try_into().map_err(|_| ServiceError::invalid("discount", "The discount is out of range."))?;
    let days: i64 =
        valid_days.trim().parse().ok().filter(|d| (1..=quotes::MAX_VALID_DAYS).contains(d)).ok_or_else(|| {
            ServiceError::invalid(
                "valid_days",
                format!("Days valid is a whole number from 1 to {}.", quotes::MAX_VALID_DAYS),
            )
        })?;
    let unit = (now, actor.owned(), bp, days);
    db.write(unit, |tx, (now, actor, bp, days)| {
        Box::pin(async move {
            invoices::put_setting(tx, SIGNOFF_KEY, &bp.to_string()).await?;
            invoices::put_setting(tx, VALID_DAYS_KEY, &days.to_string()).await?;
            let after = json!({ "signoff_discount_bp": bp, "valid_days": days });
            audit(tx, Some(&actor.actor()), *now, "quote.policy_set", ("settings", "quotes"), None, Some(after)).await
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Who sees and does what

/// Whose side an actor is on for a quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buyer,
    Seller,
}

/// The account, if the actor may see its quotes, and the side they are on.
async fn account_scope(db: &Db, actor: &Actor<'_>, account_id: &str) -> ServiceResult<(AccountRow, Side)> {
    super::names_nothing(account_id)?;
    let p = actor.principal;
    let account = accounts::get(db, account_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(own) = p.buyer_account() {
        if own != account.id || !p.can(Permission::PortalCatalog) {
            return Err(ServiceError::NotFound);
        }
        return Ok((account, Side::Buyer));
    }
    if !p.can_see_account(&account.id, account.owner_rep_id.as_deref()) {
        return Err(ServiceError::NotFound);
    }
    Ok((account, Side::Seller))
}

/// A quote the actor may see (404 for another account's), with its account and the actor's side.
async fn visible(db: &Db, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<(QuoteRow, AccountRow, Side)> {
    super::names_nothing(id_or_number)?;
    let q = store::get(db, id_or_number).await?.ok_or(ServiceError::NotFound)?;
    let (account, side) = account_scope(db, actor, &q.account_id).await?;
    Ok((q, account, side))
}

/// Writing quotes for customers: reps (their book), the desk, sales managers, admins and
/// integrations with `quotes:write`.
fn may_quote(actor: &Actor<'_>, side: Side) -> ServiceResult<()> {
    if side == Side::Seller && actor.principal.can(Permission::OrderForCustomers) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Signing off discounts past the threshold: sales managers and admins.
fn may_sign_off(actor: &Actor<'_>, side: Side) -> ServiceResult<()> {
    if side == Side::Seller && actor.principal.can(Permission::SignOffQuotes) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Asking for, accepting and declining quotes: the account's users who may order (and staff who
/// may order for it, on the customer's word).
fn may_answer(actor: &Actor<'_>, side: Side) -> ServiceResult<()> {
    let ok = match side {
        Side::Buyer => actor.principal.can(Permission::PortalOrder),
        Side::Seller => actor.principal.can(Permission::OrderForCustomers),
    };
    if ok { Ok(()) } else { Err(ServiceError::Forbidden) }
}

fn status_now(q: &QuoteRow, now: i64) -> QuoteStatus {
    q.stored_status().as_of(q.expires_on.as_deref().and_then(parse_iso_date), today(now))
}

fn refuse(q: &QuoteRow, status: QuoteStatus, what: &str) -> ServiceError {
    ServiceError::Conflict(format!("Quote {} is {}; it cannot be {what}.", q.number, status.label().to_lowercase()))
}

fn channel_of(actor: &Actor<'_>, side: Side, account: &AccountRow) -> Channel {
    match side {
        Side::Buyer => Channel::Portal,
        Side::Seller if actor.channel == ActorChannel::Api => Channel::Api,
        Side::Seller if account.owner_rep_id.as_deref() == Some(actor.principal.user_id.as_str()) => Channel::Rep,
        Side::Seller => Channel::Phone,
    }
}

// ---------------------------------------------------------------------------------------------
// Pricing lines

/// The lines priced for the account now: the normal price and cost beside the quoted price.
/// Lines the account cannot buy (unknown, quantity rules, no price, licence) are refused with
/// every reason; a line short of stock can still be quoted.
async fn price_lines(
    db: &Db,
    now: i64,
    account: &AccountRow,
    input: &[QuoteLineInput],
    side: Side,
    earlier: &[QuoteLineRow],
) -> ServiceResult<Vec<QuoteLineRow>> {
    if input.is_empty() {
        return Err(ServiceError::Blocked(vec![LineIssue::new(0, "", "empty", "The quote has no lines.")]));
    }
    if input.len() > MAX_LINES {
        return Err(ServiceError::Blocked(vec![LineIssue::new(
            0,
            "",
            "too_many_lines",
            format!("A quote may have at most {MAX_LINES} lines."),
        )]));
    }
    for (i, l) in input.iter().enumerate() {
        for (field, price) in [("target_price", l.target_price), ("unit_price", l.unit_price)] {
            if price.is_some_and(|p| p.is_negative() || p > Money::from_units(10_000_000).unwrap_or(Money::ZERO)) {
                return Err(ServiceError::invalid(
                    &format!("lines[{i}].{field}"),
                    format!("Line {}: a price is between 0 and 10,000,000.", i + 1),
                ));
            }
        }
    }
    let asked: Vec<LineInput> =
        input.iter().map(|l| LineInput { product: l.product.clone(), quantity: l.quantity }).collect();
    let eval = super::evaluation::evaluate(db, now, &account.id, &asked).await?.with_blocked_as_lines();
    let mut issues: Vec<LineIssue> = eval.issues.clone();
    issues.extend(eval.lines.iter().filter_map(|l| l.blocked_by.clone()).filter(|i| i.code.starts_with("licence")));
    if !issues.is_empty() {
        issues.sort_by_key(|i| i.line);
        return Err(ServiceError::Blocked(issues));
    }
    let ids: Vec<String> = eval.lines.iter().map(|l| l.product.id.clone()).collect();
    let costs: HashMap<String, i64> = store::costs(db, &ids).await?.into_iter().collect();
    let mut rows = Vec::with_capacity(eval.lines.len());
    for (n, l) in eval.lines.iter().enumerate() {
        // Repeats of a product were merged: the first request line naming it carries the prices.
        let given = input.get(l.line - 1);
        let before = earlier.iter().find(|e| e.product_id == l.product.id);
        let target = match side {
            Side::Buyer => given.and_then(|g| g.target_price),
            Side::Seller => before.and_then(|b| b.target_price).map(Money::from_raw),
        };
        let normal = l.price.unit_price;
        let unit = match side {
            Side::Buyer => normal,
            Side::Seller => given.and_then(|g| g.unit_price).unwrap_or(normal),
        };
        let priced = PricedLine {
            line_no: n as i64 + 1,
            sku: l.product.sku.clone(),
            quantity: l.quantity,
            unit_price: unit,
            normal_price: Some(normal),
            cost: costs.get(&l.product.id).copied().map(Money::from_raw),
        };
        let total = priced.total().ok_or_else(|| {
            ServiceError::Blocked(vec![LineIssue::new(
                l.line,
                &l.product.sku,
                "too_large",
                "The line total is too large.",
            )])
        })?;
        rows.push(QuoteLineRow {
            line_no: priced.line_no,
            product_id: l.product.id.clone(),
            sku: l.product.sku.clone(),
            name: l.product.name.clone(),
            uom: l.product.uom.clone(),
            quantity: l.quantity,
            target_price: target.map(Money::raw),
            unit_price: unit.raw(),
            normal_price: Some(normal.raw()),
            cost: priced.cost.map(Money::raw),
            line_total: total.raw(),
            accepted: false,
        });
    }
    Ok(rows)
}

fn subtotal(lines: &[QuoteLineRow]) -> ServiceResult<i64> {
    Money::sum(lines.iter().map(|l| Money::from_raw(l.line_total)))
        .map(Money::raw)
        .ok_or_else(|| ServiceError::Blocked(vec![LineIssue::new(0, "", "too_large", "The quote total is too large.")]))
}

fn priced(l: &QuoteLineRow) -> PricedLine {
    PricedLine {
        line_no: l.line_no,
        sku: l.sku.clone(),
        quantity: l.quantity,
        unit_price: Money::from_raw(l.unit_price),
        normal_price: l.normal_price.map(Money::from_raw),
        cost: l.cost.map(Money::from_raw),
    }
}

fn payload(q: &QuoteRow) -> serde_json::Value {
    json!({
        "quote_id": q.id,
        "number": q.number,
        "account_id": q.account_id,
        "status": q.status,
        "revision": q.revision,
        "subtotal": Money::from_raw(q.subtotal).to_plain(),
        "expires_on": q.expires_on,
        "order_id": q.order_id,
    })
}

/// Audit row and outbox event of a quote change, in its unit.
async fn record(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    action: &str,
    before: Option<&QuoteRow>,
    after: &QuoteRow,
    extra: serde_json::Value,
) -> ServiceResult<()> {
    let mut p = payload(after);
    if let (Some(map), serde_json::Value::Object(more)) = (p.as_object_mut(), extra) {
        map.extend(more);
    }
    audit(tx, Some(actor), now, action, ("quote", &after.id), before.map(payload), Some(p.clone())).await?;
    crate::store::audit::enqueue(tx, action, &p, now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Creating

/// A buyer's request for a quote (status `requested`), or a quote a seller writes for an account
/// (`draft`). Lines are priced at the account's normal prices; the buyer's target prices are kept.
pub async fn create_quote(db: &Db, now: i64, actor: &Actor<'_>, req: &NewQuote) -> ServiceResult<QuoteRow> {
    create_keyed(db, now, actor, req, None).await
}

/// [`create_quote`] under an idempotency key (the API's `Idempotency-Key`, a form's one-time
/// token): the same key and request again answers the first quote (`Keyed::Replayed`, whose
/// recorded body and subject are the quote's id); another request under the key is
/// `IdempotencyMismatch`, one still running `InFlight`. A refused request leaves no record.
pub async fn create_quote_once(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &NewQuote,
    key: Option<&IdemKey>,
) -> ServiceResult<Keyed<QuoteRow>> {
    idempotency::run_once(db, now, key, |claim| async move { create_keyed(db, now, actor, req, claim).await }).await
}

async fn create_keyed(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    req: &NewQuote,
    claim: Option<UnitClaim>,
) -> ServiceResult<QuoteRow> {
    super::check_texts(&[], &[("notes", &req.notes)])?;
    if req.notes.chars().count() > 4000 {
        return Err(ServiceError::invalid("notes", "Notes are at most 4,000 characters."));
    }
    let (account, side) = account_scope(db, actor, &req.account_id).await?;
    may_answer(actor, side)?;
    if account.status() == crate::domain::account::AccountStatus::Onboarding {
        return Err(ServiceError::Blocked(vec![LineIssue::new(
            0,
            "",
            "account_onboarding",
            "This account is still being set up and cannot ask for quotes yet.",
        )]));
    }
    let lines = price_lines(db, now, &account, &req.lines, side, &[]).await?;
    let status = if side == Side::Buyer { QuoteStatus::Requested } else { QuoteStatus::Draft };
    let q = QuoteRow {
        id: new_id(),
        number: String::new(),
        account_id: account.id.clone(),
        account_name: account.name.clone(),
        status: status.as_str().into(),
        origin: channel_of(actor, side, &account).as_str().into(),
        requested_by_user_id: actor.principal.user_id.clone(),
        requested_by_name: actor.principal.name.clone(),
        owner_rep_id: account.owner_rep_id.clone(),
        notes: req.notes.trim().to_string(),
        revision: 1,
        expires_on: None,
        sent_at: None,
        signoff_reasons: String::new(),
        signed_off_by_name: None,
        decided_at: None,
        decision_note: String::new(),
        order_id: None,
        order_number: None,
        subtotal: subtotal(&lines)?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let unit = (now, actor.owned(), q, lines, claim);
    db.write(unit, |tx, (now, actor, q, lines, claim)| {
        Box::pin(async move {
            let q = QuoteRow { number: format!("Q-{}", tx.next_counter("quote").await?), ..q.clone() };
            store::insert(tx, &q).await?;
            store::replace_lines(tx, &q.id, 1, lines).await?;
            let action = if q.status == "requested" { "quote.requested" } else { "quote.created" };
            record(tx, &actor.actor(), *now, action, None, &q, json!({ "lines": lines.len() })).await?;
            idempotency::complete_if(tx, claim.as_ref(), (201, &q.id), Some(&q.id)).await?;
            Ok(q)
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Changing a quote: one unit shape for every transition

/// A change to a quote, decided before its unit: the quote as it must still be (`version`), and
/// what it becomes.
struct Change {
    now: i64,
    actor: super::OwnedActor,
    before: QuoteRow,
    after: QuoteRow,
    /// New lines for the after-revision (`None`: the lines stay).
    lines: Option<Vec<QuoteLineRow>>,
    action: &'static str,
    extra: serde_json::Value,
    /// A message to add to the thread (seller?, body).
    message: Option<(bool, String)>,
}

impl Change {
    /// A change of status (and fields) without new lines, extra event fields or a message.
    fn of(now: i64, actor: &Actor<'_>, before: QuoteRow, after: QuoteRow, action: &'static str) -> Change {
        Change { now, actor: actor.owned(), before, after, lines: None, action, extra: json!({}), message: None }
    }
}

/// Who may move a quote how: the permission check, the action its status must allow, and what a
/// refusal says cannot be done.
struct Move {
    may: fn(&Actor<'_>, Side) -> ServiceResult<()>,
    action: Action,
    refused: &'static str,
}

const PRICE: Move = Move { may: may_quote, action: Action::Price, refused: "priced; revise it first" };
const SEND: Move = Move { may: may_quote, action: Action::Send, refused: "sent" };
const SIGN_OFF: Move = Move { may: may_sign_off, action: Action::SignOff, refused: "signed off" };
const REVISE: Move = Move { may: may_quote, action: Action::Revise, refused: "revised" };
const DECLINE: Move = Move { may: may_answer, action: Action::Decline, refused: "declined" };

/// A quote someone is about to move: visible to them, theirs to move, still at the version they
/// saw, and in a status that allows the move today. Returns the quote, its account and the
/// actor's side.
async fn to_move(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    m: Move,
) -> ServiceResult<(QuoteRow, AccountRow, Side)> {
    let (q, account, side) = visible(db, actor, id_or_number).await?;
    (m.may)(actor, side)?;
    check_version(&q, expected_version)?;
    let status = status_now(&q, now);
    if !status.can(m.action) {
        return Err(refuse(&q, status, m.refused));
    }
    Ok((q, account, side))
}

async fn apply(db: &Db, change: Change) -> ServiceResult<QuoteRow> {
    db.write(change, |tx, c| {
        Box::pin(async move {
            let actor = c.actor.actor();
            let current = store::get_for_update(tx, &c.before.id).await?.ok_or(ServiceError::NotFound)?;
            if current.version != c.before.version || current.status != c.before.status {
                return Err(ServiceError::Conflict(format!(
                    "Quote {} was changed by someone else meanwhile; reload it.",
                    current.number
                )));
            }
            if let Some(lines) = &c.lines {
                store::replace_lines(tx, &c.after.id, c.after.revision, lines).await?;
            }
            if !store::update(tx, &c.after, c.before.version).await? {
                return Err(ServiceError::Conflict(format!(
                    "Quote {} was changed meanwhile; reload it.",
                    current.number
                )));
            }
            if let Some((seller, body)) = &c.message {
                let who = (actor.principal.user_id.as_str(), actor.principal.name.as_str());
                store::insert_message(tx, &c.after.id, who, *seller, body, c.now).await?;
            }
            record(tx, &actor, c.now, c.action, Some(&c.before), &c.after, c.extra.clone()).await?;
            Ok(c.after.clone())
        })
    })
    .await
}

fn check_version(q: &QuoteRow, expected: Option<i64>) -> ServiceResult<()> {
    match expected {
        Some(v) if v != q.version => {
            Err(ServiceError::Conflict(format!("Quote {} was changed since you loaded it; reload it.", q.number)))
        }
        _ => Ok(()),
    }
}

fn next(q: &QuoteRow, now: i64) -> QuoteRow {
    QuoteRow { version: q.version + 1, updated_at: now, ..q.clone() }
}

/// The seller prices the quote: its lines (products, quantities, prices) replace the current
/// revision's. A buyer's request becomes a draft.
pub async fn price_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    lines: &[QuoteLineInput],
) -> ServiceResult<QuoteRow> {
    let (q, account, side) = to_move(db, now, actor, id_or_number, expected_version, PRICE).await?;
    let earlier = store::lines(db, &q.id, q.revision).await?;
    let rows = price_lines(db, now, &account, lines, side, &earlier).await?;
    let after = QuoteRow { status: QuoteStatus::Draft.as_str().into(), subtotal: subtotal(&rows)?, ..next(&q, now) };
    let extra = json!({ "lines": rows.len() });
    apply(db, Change { lines: Some(rows), extra, ..Change::of(now, actor, q, after, "quote.priced") }).await
}

/// The seller sends the quote, valid to `expires_on` (default: the policy's days from today). A
/// discount past the threshold, or a price below cost, waits for a sales manager's sign-off —
/// unless the sender may sign off themselves.
pub async fn send_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    expires_on: Option<&str>,
) -> ServiceResult<QuoteRow> {
    let (q, ..) = to_move(db, now, actor, id_or_number, expected_version, SEND).await?;
    let policy = policy(db).await?;
    let day = today(now);
    let last = match expires_on.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_iso_date(s)
            .ok_or_else(|| ServiceError::invalid("expires_on", "Give the expiry date as YYYY-MM-DD."))?,
        None => day + time::Duration::days(policy.valid_days),
    };
    quotes::check_expiry(last, day).map_err(|m| ServiceError::invalid("expires_on", m))?;
    let lines = store::lines(db, &q.id, q.revision).await?;
    let reasons = quotes::signoff_reasons(&lines.iter().map(priced).collect::<Vec<_>>(), policy);
    let self_signed = !reasons.is_empty() && actor.principal.can(Permission::SignOffQuotes);
    let waits = !reasons.is_empty() && !self_signed;
    let after = QuoteRow {
        status: if waits { QuoteStatus::AwaitingSignoff } else { QuoteStatus::Sent }.as_str().into(),
        expires_on: Some(format_iso_date(last)),
        sent_at: (!waits).then_some(now),
        signoff_reasons: reasons.join(" "),
        signed_off_by_name: self_signed.then(|| actor.principal.name.clone()),
        decision_note: String::new(),
        ..next(&q, now)
    };
    let action = if waits { "quote.signoff_requested" } else { "quote.sent" };
    apply(db, Change { extra: json!({ "signoff_reasons": reasons }), ..Change::of(now, actor, q, after, action) }).await
}

/// A sales manager signs off a quote (it is sent) or refuses (it goes back to draft with the
/// comment, which only the seller's staff read).
pub async fn sign_off_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    approve: bool,
    comment: &str,
) -> ServiceResult<QuoteRow> {
    super::check_texts(&[], &[("comment", comment)])?;
    let (q, ..) = to_move(db, now, actor, id_or_number, expected_version, SIGN_OFF).await?;
    if !approve && comment.trim().is_empty() {
        return Err(ServiceError::invalid("comment", "Say why (the rep reads it)."));
    }
    let day = today(now);
    let after = if approve {
        let last = q.expires_on.as_deref().and_then(parse_iso_date).filter(|d| *d >= day);
        let policy = policy(db).await?;
        let last = last.unwrap_or(day + time::Duration::days(policy.valid_days));
        QuoteRow {
            status: QuoteStatus::Sent.as_str().into(),
            sent_at: Some(now),
            expires_on: Some(format_iso_date(last)),
            signed_off_by_name: Some(actor.principal.name.clone()),
            decision_note: comment.trim().to_string(),
            ..next(&q, now)
        }
    } else {
        QuoteRow {
            status: QuoteStatus::Draft.as_str().into(),
            expires_on: None,
            decision_note: format!("Sign-off refused by {}: {}", actor.principal.name, comment.trim()),
            ..next(&q, now)
        }
    };
    let action = if approve { "quote.sent" } else { "quote.signoff_refused" };
    let extra = json!({ "comment": comment.trim(), "signed_off": approve });
    apply(db, Change { extra, ..Change::of(now, actor, q, after, action) }).await
}

/// The seller opens a new revision of a quote that was sent (or declined, or expired, or waits
/// for sign-off): its lines are copied to the next revision, which is a draft again.
pub async fn revise_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
) -> ServiceResult<QuoteRow> {
    let (q, ..) = to_move(db, now, actor, id_or_number, expected_version, REVISE).await?;
    let lines: Vec<QuoteLineRow> =
        store::lines(db, &q.id, q.revision).await?.into_iter().map(|l| QuoteLineRow { accepted: false, ..l }).collect();
    let after = QuoteRow {
        status: QuoteStatus::Draft.as_str().into(),
        revision: q.revision + 1,
        expires_on: None,
        sent_at: None,
        signoff_reasons: String::new(),
        signed_off_by_name: None,
        decided_at: None,
        decision_note: String::new(),
        ..next(&q, now)
    };
    apply(db, Change { lines: Some(lines), ..Change::of(now, actor, q, after, "quote.revised") }).await
}

/// The seller withdraws a quote, or the buyer their request while the seller still has it.
pub async fn withdraw_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    reason: &str,
) -> ServiceResult<QuoteRow> {
    super::check_texts(&[], &[("reason", reason)])?;
    let (q, _, side) = visible(db, actor, id_or_number).await?;
    may_answer(actor, side)?;
    check_version(&q, expected_version)?;
    let status = status_now(&q, now);
    let allowed = status.can(Action::Withdraw) && (side == Side::Seller || status != QuoteStatus::Sent);
    if !allowed {
        return Err(refuse(
            &q,
            status,
            if side == Side::Buyer { "withdrawn; decline it instead" } else { "withdrawn" },
        ));
    }
    let after = QuoteRow {
        status: QuoteStatus::Withdrawn.as_str().into(),
        decided_at: Some(now),
        decision_note: reason.trim().to_string(),
        ..next(&q, now)
    };
    let message = (!reason.trim().is_empty()).then(|| (side == Side::Seller, format!("Withdrawn: {}", reason.trim())));
    let extra = json!({ "reason": reason.trim() });
    apply(db, Change { extra, message, ..Change::of(now, actor, q, after, "quote.withdrawn") }).await
}

/// The buyer declines a sent quote (staff may record it for them), with an optional reason the
/// seller reads.
pub async fn decline_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    reason: &str,
) -> ServiceResult<QuoteRow> {
    super::check_texts(&[], &[("reason", reason)])?;
    let (q, ..) = to_move(db, now, actor, id_or_number, expected_version, DECLINE).await?;
    let after = QuoteRow {
        status: QuoteStatus::Declined.as_str().into(),
        decided_at: Some(now),
        decision_note: reason.trim().to_string(),
        ..next(&q, now)
    };
    let message = (!reason.trim().is_empty()).then(|| (false, format!("Declined: {}", reason.trim())));
    let extra = json!({ "reason": reason.trim() });
    apply(db, Change { extra, message, ..Change::of(now, actor, q, after, "quote.declined") }).await
}

/// A message in the quote's thread, from either side.
pub async fn post_message(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    body: &str,
) -> ServiceResult<String> {
    super::check_texts(&[], &[("body", body)])?;
    let body = body.trim();
    if body.is_empty() {
        return Err(ServiceError::invalid("body", "Write a message."));
    }
    if body.chars().count() > 4000 {
        return Err(ServiceError::invalid("body", "A message is at most 4,000 characters."));
    }
    let (q, _, side) = visible(db, actor, id_or_number).await?;
    may_answer(actor, side)?;
    if !q.stored_status().can(Action::Message) {
        return Err(refuse(&q, q.stored_status(), "written to"));
    }
    let unit = (now, actor.owned(), q, side == Side::Seller, body.to_string());
    db.write(unit, |tx, (now, actor, q, seller, body)| {
        Box::pin(async move {
            let actor = actor.actor();
            let who = (actor.principal.user_id.as_str(), actor.principal.name.as_str());
            let id = store::insert_message(tx, &q.id, who, *seller, body, *now).await?;
            let p = json!({ "quote_id": q.id, "number": q.number, "account_id": q.account_id, "message_id": id,
                "from": if *seller { "seller" } else { "customer" }, "author": actor.principal.name, "body": body });
            audit(tx, Some(&actor), *now, "quote.message", ("quote", &q.id), None, Some(p.clone())).await?;
            crate::store::audit::enqueue(tx, "quote.message", &p, *now).await?;
            Ok(id)
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Accepting: an order at the quoted prices, through the one pipeline

/// What an order placed from a quote carries into its unit: the quote as it must still be, and
/// the quoted prices (as the most specific price source).
#[derive(Clone, Debug)]
pub struct QuoteUse {
    pub quote_id: String,
    pub number: String,
    pub revision: i64,
    pub version: i64,
    pub line_nos: Vec<i64>,
    pub prices: HashMap<String, PriceSource>,
}

/// The quoted unit prices as price sources, per product id.
pub fn sources(quote_id: &str, number: &str, prices: &[(String, i64)]) -> HashMap<String, PriceSource> {
    prices
        .iter()
        .map(|(product, price)| {
            let source = PriceSource {
                kind: SourceKind::Quote,
                id: quote_id.to_string(),
                name: number.to_string(),
                priority: 0,
                valid_from: None,
                valid_to: None,
                tiers: vec![Tier { min_qty: 1, unit_price: Money::from_raw(*price) }],
            };
            (product.clone(), source)
        })
        .collect()
}

/// The quoted prices an order keeps when it is priced again (approval, completion, amendment):
/// those of the quote it was accepted from; empty for any other order.
pub(crate) async fn prices_for_order(db: &Db, order_id: &str) -> ServiceResult<HashMap<String, PriceSource>> {
    Ok(match store::for_order(db, order_id).await? {
        Some((id, number, revision)) => sources(&id, &number, &store::accepted_prices(db, &id, revision).await?),
        None => HashMap::new(),
    })
}

/// The buyer accepts the chosen lines of a sent quote: an order for them at the quoted prices,
/// placed through the pipeline (it may wait for the buyer's own approval, or be held for credit);
/// the quote becomes `accepted` in the same unit. `key` makes a repeated submit return the first
/// order.
#[allow(clippy::too_many_arguments)]
pub async fn accept_quote(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id_or_number: &str,
    expected_version: Option<i64>,
    line_nos: &[i64],
    header: OrderHeader,
    key: Option<&IdemKey>,
) -> ServiceResult<Placement> {
    let (q, _, side) = visible(db, actor, id_or_number).await?;
    may_answer(actor, side)?;
    // Whether the quote can still be accepted (sent, current, at the version the buyer saw) is
    // decided in the order's unit (`record_acceptance`), after the key is claimed: a repeat of an
    // acceptance that went through replays its answer there, although the quote has moved on.
    let lines = store::lines(db, &q.id, q.revision).await?;
    let offered: Vec<i64> = lines.iter().map(|l| l.line_no).collect();
    let chosen = quotes::check_acceptance(&offered, line_nos).map_err(|m| ServiceError::invalid("lines", m))?;
    let taken: Vec<&QuoteLineRow> = lines.iter().filter(|l| chosen.contains(&l.line_no)).collect();
    let prices: Vec<(String, i64)> = taken.iter().map(|l| (l.product_id.clone(), l.unit_price)).collect();
    let quote = QuoteUse {
        quote_id: q.id.clone(),
        number: q.number.clone(),
        revision: q.revision,
        version: expected_version.unwrap_or(q.version),
        line_nos: chosen,
        prices: sources(&q.id, &q.number, &prices),
    };
    let req = super::orders::PlaceOrder {
        account_id: q.account_id.clone(),
        lines: taken
            .iter()
            .map(|l| LineInput { product: ProductRef::Id(l.product_id.clone()), quantity: l.quantity })
            .collect(),
        header,
        clear_cart: false,
    };
    super::orders::place_quoted(db, now, actor, &req, key, quote).await
}

/// In the placement's unit: the quote is still the one the buyer saw (version, sent, not past its
/// last day) and becomes accepted, naming the order.
pub(crate) async fn record_acceptance(
    tx: &mut Tx,
    actor: &Actor<'_>,
    u: &QuoteUse,
    order_id: &str,
    now: i64,
) -> ServiceResult<()> {
    let q = store::get_for_update(tx, &u.quote_id).await?.ok_or(ServiceError::NotFound)?;
    let status = status_now(&q, now);
    if q.version != u.version || q.revision != u.revision {
        return Err(ServiceError::Conflict(format!("Quote {} was changed meanwhile; reload it.", q.number)));
    }
    if status != QuoteStatus::Sent {
        return Err(refuse(&q, status, "accepted"));
    }
    store::mark_accepted(tx, &q.id, q.revision, &u.line_nos).await?;
    let after = QuoteRow {
        status: QuoteStatus::Accepted.as_str().into(),
        decided_at: Some(now),
        order_id: Some(order_id.to_string()),
        ..next(&q, now)
    };
    if !store::update(tx, &after, q.version).await? {
        return Err(ServiceError::Conflict(format!("Quote {} was changed meanwhile; reload it.", q.number)));
    }
    record(tx, actor, now, "quote.accepted", Some(&q), &after, json!({ "lines_accepted": u.line_nos })).await
}

// ---------------------------------------------------------------------------------------------
// Expiry

/// Writes `expired` (and `quote.expired`) for sent quotes past their last day; returns how many.
/// Pages and acceptance already treat them as expired; this makes it a record and an event.
pub async fn expire_due(db: &Db, now: i64) -> ServiceResult<usize> {
    let day = format_iso_date(today(now));
    let mut done = 0;
    loop {
        let due = store::past_expiry(db, &day, 200).await?;
        if due.is_empty() {
            return Ok(done);
        }
        let batch = due.len();
        let unit = (now, due);
        let n = db
            .write(unit, |tx, (now, due)| {
                Box::pin(async move {
                    let mut n = 0;
                    for (id, version) in due {
                        let Some(q) = store::get_for_update(tx, id).await? else { continue };
                        if q.version != *version || q.stored_status() != QuoteStatus::Sent {
                            continue;
                        }
                        let after = QuoteRow { status: QuoteStatus::Expired.as_str().into(), ..next(&q, *now) };
                        store::update(tx, &after, q.version).await?;
                        let p = payload(&after);
                        audit(
                            tx,
                            None,
                            *now,
                            "quote.expired",
                            ("quote", &after.id),
                            Some(payload(&q)),
                            Some(p.clone()),
                        )
                        .await?;
                        crate::store::audit::enqueue(tx, "quote.expired", &p, *now).await?;
                        n += 1;
                    }
                    Ok::<usize, ServiceError>(n)
                })
            })
            .await?;
        done += n;
        if n == 0 || batch < 200 {
            return Ok(done);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A line with what the seller weighs it by.
#[derive(Clone, Debug)]
pub struct LineView {
    pub row: QuoteLineRow,
    /// Below the account's normal price ("12.5 %"; negative: above it).
    pub discount: Option<String>,
    pub margin: Option<String>,
    pub past_threshold: bool,
    pub below_cost: bool,
}

impl LineView {
    pub fn unit(&self) -> Money {
        Money::from_raw(self.row.unit_price)
    }
    pub fn total(&self) -> Money {
        Money::from_raw(self.row.line_total)
    }
    pub fn normal(&self) -> Option<Money> {
        self.row.normal_price.map(Money::from_raw)
    }
    pub fn target(&self) -> Option<Money> {
        self.row.target_price.map(Money::from_raw)
    }
    pub fn cost(&self) -> Option<Money> {
        self.row.cost.map(Money::from_raw)
    }
}

/// What may be done to the quote now, by this viewer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Can {
    pub price: bool,
    pub send: bool,
    pub sign_off: bool,
    pub accept: bool,
    pub decline: bool,
    pub revise: bool,
    pub withdraw: bool,
    pub message: bool,
}

#[derive(Clone, Debug)]
pub struct QuoteView {
    pub quote: QuoteRow,
    /// As of today (a sent quote past its last day reads expired).
    pub status: QuoteStatus,
    pub seller: bool,
    pub lines: Vec<LineView>,
    /// Earlier revisions: (revision, lines, total).
    pub revisions: Vec<(i64, i64, Money)>,
    pub messages: Vec<MessageRow>,
    pub can: Can,
    /// For a draft, why sending it would wait for sign-off.
    pub would_need_signoff: Vec<String>,
    pub policy: Policy,
}

impl QuoteView {
    pub fn expires(&self) -> Option<String> {
        self.quote.expires_on.as_deref().and_then(parse_iso_date).map(format_date)
    }
    pub fn total(&self) -> Money {
        self.quote.total()
    }
}

fn line_view(l: QuoteLineRow, policy: Policy) -> LineView {
    let p = priced(&l);
    LineView {
        discount: p.discount_bp().map(quotes::percent),
        margin: p.margin_bp().map(quotes::percent),
        past_threshold: p.past_threshold(policy.signoff_discount_bp),
        below_cost: p.below_cost(),
        row: l,
    }
}

pub async fn quote_view(db: &Db, now: i64, actor: &Actor<'_>, id_or_number: &str) -> ServiceResult<QuoteView> {
    let (q, _, side) = visible(db, actor, id_or_number).await?;
    let policy = policy(db).await?;
    let status = status_now(&q, now);
    let rows = store::lines(db, &q.id, q.revision).await?;
    let would_need_signoff = if side == Side::Seller && status.is_editable() {
        quotes::signoff_reasons(&rows.iter().map(priced).collect::<Vec<_>>(), policy)
    } else {
        Vec::new()
    };
    let mut lines: Vec<LineView> = rows.into_iter().map(|l| line_view(l, policy)).collect();
    if side == Side::Buyer {
        // Cost and margin are the seller's business.
        for l in &mut lines {
            l.row.cost = None;
            l.margin = None;
            l.below_cost = false;
            l.past_threshold = false;
        }
    }
    let p = actor.principal;
    let seller = side == Side::Seller;
    let quoting = seller && p.can(Permission::OrderForCustomers);
    let answering = if seller { p.can(Permission::OrderForCustomers) } else { p.can(Permission::PortalOrder) };
    let can = Can {
        price: quoting && status.can(Action::Price),
        send: quoting && status.can(Action::Send),
        sign_off: seller && p.can(Permission::SignOffQuotes) && status.can(Action::SignOff),
        accept: answering && status.can(Action::Accept),
        decline: answering && status.can(Action::Decline),
        revise: quoting && status.can(Action::Revise),
        withdraw: answering && status.can(Action::Withdraw) && (seller || status != QuoteStatus::Sent),
        message: answering && status.can(Action::Message),
    };
    let revisions = store::earlier_revisions(db, &q.id, q.revision)
        .await?
        .into_iter()
        .map(|(r, n, t)| (r, n, Money::from_raw(t)))
        .collect();
    let messages = store::messages(db, &q.id).await?;
    let mut quote = q;
    if !seller {
        // Sign-off notes are for the seller's staff.
        quote.signoff_reasons.clear();
        quote.signed_off_by_name = None;
        if status != QuoteStatus::Declined && status != QuoteStatus::Withdrawn {
            quote.decision_note.clear();
        }
    }
    Ok(QuoteView { quote, status, seller, lines, revisions, messages, can, would_need_signoff, policy })
}

/// One page of quotes the actor may see, newest change first.
pub struct QuoteList {
    pub quotes: Vec<(QuoteRow, QuoteStatus)>,
    /// The cursor of the next page, if there is one.
    pub next: Option<(i64, String)>,
}

/// Quotes the actor may see: a customer's own account's; a rep's book; everyone's for staff who
/// see every account (optionally one account's).
pub async fn list_quotes(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account: Option<&str>,
    statuses: &[QuoteStatus],
    page: QuotePage,
    limit: i64,
) -> ServiceResult<QuoteList> {
    let p = actor.principal;
    let mut f = QuoteFilter { statuses: statuses.to_vec(), page, limit: limit.clamp(1, 200) + 1, ..Default::default() };
    if let Some(own) = p.buyer_account() {
        if !p.can(Permission::PortalCatalog) {
            return Err(ServiceError::Forbidden);
        }
        f.account_id = Some(own.to_string());
    } else if p.can(Permission::ViewAllAccounts) {
        if let Some(a) = account.filter(|a| !a.is_empty()) {
            let (acc, _) = account_scope(db, actor, a).await?;
            f.account_id = Some(acc.id);
        }
    } else if p.can(Permission::ViewOwnBook) {
        f.owner_rep_id = Some(p.user_id.clone());
        if let Some(a) = account.filter(|a| !a.is_empty()) {
            let (acc, _) = account_scope(db, actor, a).await?;
            f.account_id = Some(acc.id);
        }
    } else {
        return Err(ServiceError::Forbidden);
    }
    let mut rows = store::list(db, &f).await?;
    let more = rows.len() as i64 > f.limit - 1;
    if more {
        rows.truncate((f.limit - 1) as usize);
    }
    let next = if more { rows.last().map(|q| (q.updated_at, q.id.clone())) } else { None };
    let quotes = rows
        .into_iter()
        .map(|q| {
            let s = status_now(&q, now);
            (q, s)
        })
        .collect();
    Ok(QuoteList { quotes, next })
}

/// Quotes waiting for a sales manager's sign-off (their queue).
pub async fn awaiting_signoff(db: &Db, now: i64, actor: &Actor<'_>) -> ServiceResult<Vec<QuoteRow>> {
    if !actor.principal.can(Permission::SignOffQuotes) {
        return Err(ServiceError::Forbidden);
    }
    let list = list_quotes(db, now, actor, None, &[QuoteStatus::AwaitingSignoff], QuotePage::default(), 200).await?;
    Ok(list.quotes.into_iter().map(|(q, _)| q).collect())
}
