//! E-mail: which event mails whom (planned when the outbox worker fans an event out, in the same
//! unit), what each mail says (written when it is sent, from the event), the admin's "Sent mail",
//! and each user's notification settings. Sending is `jobs::mail`; the words are `domain::mail`.
//!
//! Who receives what:
//! - invitation, password reset: the user (cannot be turned off);
//! - order placed: whoever placed it, and the account's owning rep;
//! - approval needed: the account's managers;
//! - quote sent: the buyer who asked for it, else the account's managers;
//! - shipped (fully or partly): whoever placed the order;
//! - invoice issued: the account's finance contacts, else its managers.
//!
//! A one-time link is written into its mail only when the mail is sent, from the event, which
//! holds the link only while it is live: a mail whose link was used or replaced meanwhile is
//! cancelled, and "Sent mail" shows where a link led, never the link itself (staff never get a
//! user into a set-password page) — except in the demo, whose mailbox stands in for the users'.

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::Permission;
use crate::domain::mail::{Composed, Content, MailKind, Sender, compose, opt_outs_text, parse_opt_outs, wanted};
use crate::store::mail::{self as store, Contact, NewMail};
pub use crate::store::mail::{ClaimedMail, MailBody, MailNext, MailRow};
use crate::store::webhooks::EventRow;
use crate::store::{Db, Tx};
use serde_json::Value;

/// The recipients the commonest mails need (who placed an order, an account's owning rep), read
/// for a whole chunk of events in two reads rather than two per event: the fan-out runs in the
/// database's one writer, beside order placement.
#[derive(Default)]
pub(crate) struct Recipients {
    users: std::collections::HashMap<String, Contact>,
    reps: std::collections::HashMap<String, Contact>,
}

/// Reads the [`Recipients`] of `events` (each with its parsed payload).
pub(crate) async fn recipients(tx: &mut Tx, events: &[(&EventRow, Value)]) -> ServiceResult<Recipients> {
    let mut users: Vec<&str> = Vec::new();
    let mut accounts: Vec<&str> = Vec::new();
    for (ev, payload) in events {
        let text = |k: &str| payload.get(k).and_then(Value::as_str).filter(|t| !t.is_empty());
        match MailKind::for_event(&ev.event_type) {
            Some(MailKind::OrderPlaced) => {
                users.extend(text("placed_by"));
                accounts.extend(text("account_id"));
            }
            Some(MailKind::Shipped) => users.extend(text("placed_by")),
            _ => {}
        }
    }
    for list in [&mut users, &mut accounts] {
        list.sort_unstable();
        list.dedup();
    }
    Ok(Recipients {
        users: store::contacts(tx, &users).await?.into_iter().map(|c| (c.id.clone(), c)).collect(),
        reps: store::owning_reps(tx, &accounts).await?.into_iter().collect(),
    })
}

/// Plans the mails of one event inside the fan-out unit: one row per recipient who wants it.
/// `known` holds the recipients read for the chunk ([`recipients`]).
pub(crate) async fn plan(
    tx: &mut Tx,
    known: &Recipients,
    ev: &EventRow,
    payload: &Value,
    now_ms: i64,
) -> ServiceResult<Vec<NewMail>> {
    let Some(kind) = MailKind::for_event(&ev.event_type) else { return Ok(Vec::new()) };
    let text = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let account = text("account_id");
    let mut to: Vec<Contact> = Vec::new();
    match kind {
        MailKind::Invitation | MailKind::PasswordReset => {
            // The address in the event is the one the link was made for.
            to.push(Contact {
                id: text("user_id"),
                email: text("email"),
                name: text("name"),
                mail_opt_outs: String::new(),
            });
        }
        MailKind::OrderPlaced => {
            to.extend(known.users.get(&text("placed_by")).cloned());
            to.extend(known.reps.get(&account).cloned());
        }
        MailKind::ApprovalNeeded => to.extend(store::account_contacts(tx, &account, "manager").await?),
        MailKind::QuoteSent => match store::quote_requester(tx, &text("quote_id")).await? {
            Some(c) => to.push(c),
            None => to.extend(store::account_contacts(tx, &account, "manager").await?),
        },
        MailKind::Shipped => to.extend(known.users.get(&text("placed_by")).cloned()),
        MailKind::InvoiceIssued | MailKind::Statement => {
            to.extend(store::account_contacts(tx, &account, "finance").await?);
            if to.is_empty() {
                to.extend(store::account_contacts(tx, &account, "manager").await?);
            }
        }
    }
    let mut rows: Vec<NewMail> = Vec::new();
    for c in to {
        if c.email.is_empty() || !wanted(kind, &c.mail_opt_outs) || rows.iter().any(|r| r.to_email == c.email) {
            continue;
        }
        rows.push(NewMail {
            event_id: ev.id.clone(),
            kind: kind.as_str(),
            user_id: Some(c.id).filter(|i| !i.is_empty()),
            to_email: c.email,
            to_name: c.name,
            due_ms: now_ms,
            now: now_ms / 1000,
        });
    }
    Ok(rows)
}

/// Why a mail is not written: its link is no longer live.
pub struct LinkGone;

/// Writes a claimed mail from its event. `show_links` puts a one-time link into the copy kept for
/// "Sent mail" (the demo only); the mail itself always carries it.
pub fn write(m: &ClaimedMail, from: &Sender) -> Result<Composed, LinkGone> {
    let payload: Value = serde_json::from_str(&m.payload).unwrap_or(Value::Null);
    let text = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let money = |k: &str| format!("${}", text(k));
    let kind = MailKind::parse(&m.kind).unwrap_or(MailKind::OrderPlaced);
    let seller = if from.seller_name.is_empty() { "Portico".to_string() } else { from.seller_name.clone() };
    let is_rep = m.user_id.as_deref().is_some_and(|u| u != text("placed_by")) && kind == MailKind::OrderPlaced;
    let content = match kind {
        MailKind::Invitation | MailKind::PasswordReset => {
            let path = text("set_password_path");
            if path.is_empty() {
                return Err(LinkGone);
            }
            let invite = kind == MailKind::Invitation;
            Content {
                kind,
                to_name: &m.to_name,
                subject: if invite {
                    format!("You are invited to {seller}'s ordering portal")
                } else {
                    format!("Reset your {seller} password")
                },
                paragraphs: vec![
                    if invite {
                        format!(
                            "You have been given access to {seller}'s ordering portal. Choose a password to sign in."
                        )
                    } else {
                        "Someone (we hope you) asked to reset the password of your account. Choose a new one with the link below; if it was not you, ignore this e-mail and nothing changes.".into()
                    },
                    "The link works once and expires in 72 hours.".into(),
                ],
                facts: vec![("Your sign-in", m.to_email.clone())],
                action: Some((if invite { "Set your password" } else { "Choose a new password" }, path)),
            }
        }
        MailKind::OrderPlaced => Content {
            kind,
            to_name: &m.to_name,
            subject: format!("Order {} received", text("number")),
            paragraphs: vec![if is_rep {
                format!("An order was placed in one of your accounts (channel: {}).", text("channel"))
            } else {
                "Thank you for your order. We will let you know when it ships.".into()
            }],
            facts: [("Order", text("number")), ("PO number", text("po_number")), ("Subtotal", money("subtotal"))]
                .into_iter()
                .filter(|(_, v)| !v.is_empty() && v != "$")
                .collect(),
            action: Some(if is_rep {
                ("Open the order", format!("/orders/{}", text("number")))
            } else {
                ("View your order", format!("/portal/orders/{}", text("number")))
            }),
        },
        MailKind::ApprovalNeeded => Content {
            kind,
            to_name: &m.to_name,
            subject: format!("Order {} needs your approval", text("number")),
            paragraphs: vec!["An order from your team waits for your approval before it is placed.".into()],
            facts: vec![("Order", text("number")), ("Subtotal", money("subtotal"))],
            action: Some(("Review the order", format!("/portal/orders/{}", text("number")))),
        },
        MailKind::QuoteSent => Content {
            kind,
            to_name: &m.to_name,
            subject: format!("Your quote {} is ready", text("number")),
            paragraphs: vec!["Your quote is priced. Accept all or some of its lines to order at these prices.".into()],
            facts: vec![
                ("Quote", text("number")),
                ("Subtotal", money("subtotal")),
                ("Valid until", text("expires_on")),
            ],
            action: Some(("View the quote", format!("/portal/quotes/{}", text("number")))),
        },
        MailKind::Shipped => {
            let partly = m.event_type == "order.partially_shipped";
            Content {
                kind,
                to_name: &m.to_name,
                subject: if partly {
                    format!("Part of order {} shipped", text("number"))
                } else {
                    format!("Order {} shipped", text("number"))
                },
                paragraphs: vec![if partly {
                    "Part of your order is on its way; the rest follows. The order page shows each shipment with its tracking.".into()
                } else {
                    "Your order is on its way. The order page shows each shipment with its tracking.".into()
                }],
                facts: vec![("Order", text("number"))],
                action: Some(("Track your order", format!("/portal/orders/{}", text("number")))),
            }
        }
        MailKind::InvoiceIssued => Content {
            kind,
            to_name: &m.to_name,
            subject: format!("Invoice {} from {seller}", text("number")),
            paragraphs: vec![format!("A new invoice for order {} is ready.", text("order_number"))],
            facts: vec![("Invoice", text("number")), ("Total", money("total")), ("Due", text("due_on"))],
            action: Some(("View or pay the invoice", format!("/portal/invoices/{}", text("number")))),
        },
        MailKind::Statement => Content {
            kind,
            to_name: &m.to_name,
            subject: format!("Your statement from {seller}, {} to {}", text("from"), text("to")),
            paragraphs: vec![format!(
                "Your account statement for {} to {} is ready: every invoice, credit and payment of the period with the running balance, and what is open by age. The statement page also offers it as a PDF and a CSV.",
                text("from"),
                text("to")
            )],
            facts: [
                ("Account", text("account_number")),
                ("Balance at the end of the period", money("closing_balance")),
                ("Overdue today", money("overdue")),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty() && v != "$")
            .collect(),
            action: Some(("View your statement", format!("/portal/statement?from={}&to={}", text("from"), text("to")))),
        },
    };
    Ok(compose(from, &content))
}

/// The copy kept for "Sent mail": a one-time link replaced by where it led, unless `show_links`.
pub fn kept_copy(m: &ClaimedMail, mail: &Composed, show_links: bool) -> Composed {
    let payload: Value = serde_json::from_str(&m.payload).unwrap_or(Value::Null);
    match payload.get("set_password_path").and_then(Value::as_str) {
        Some(path) if !show_links && !path.is_empty() => {
            let hidden = "/set-password/[one-time link, sent only to the user]";
            Composed {
                subject: mail.subject.clone(),
                text: mail.text.replace(path, hidden),
                html: mail.html.replace(path, hidden),
            }
        }
        _ => mail.clone(),
    }
}

/// The seller as mails name and show it (settings `seller.name`, `seller.address`; the brand).
pub async fn sender(db: &Db, base_url: &str) -> ServiceResult<Sender> {
    let brand = super::branding::brand(db).await?;
    Ok(Sender {
        seller_name: brand.name.clone(),
        seller_address: crate::store::invoices::setting(db, "seller.address").await?.unwrap_or_default(),
        base_url: base_url.trim_end_matches('/').to_string(),
        accent: brand.accent.map(|a| a.hex()),
        logo_path: brand.logo_url(),
    })
}

pub async fn claim(db: &Db, owner: &str, now_ms: i64, lease_ms: i64, limit: i64) -> ServiceResult<Vec<ClaimedMail>> {
    if !crate::store::leases::any_due(db, store::LEASED, now_ms).await? {
        return Ok(Vec::new());
    }
    let unit = (owner.to_string(), now_ms, lease_ms, limit);
    db.write(unit, |tx, (owner, now_ms, lease_ms, limit)| {
        Box::pin(async move { Ok::<_, ServiceError>(store::claim(tx, owner, *now_ms, *lease_ms, *limit).await?) })
    })
    .await
}

pub async fn record(db: &Db, owner: &str, outcomes: Vec<(String, MailNext)>) -> ServiceResult<()> {
    db.write((owner.to_string(), outcomes), |tx, (owner, outcomes)| {
        Box::pin(async move { Ok::<_, ServiceError>(store::record(tx, owner, outcomes).await?) })
    })
    .await
}

pub async fn release(db: &Db, owner: &str) -> ServiceResult<u64> {
    db.write(owner.to_string(), |tx, owner| {
        Box::pin(async move { Ok::<_, ServiceError>(crate::store::leases::release(tx, store::LEASED, owner).await?) })
    })
    .await
}

fn require_admin(actor: &Actor<'_>) -> ServiceResult<()> {
    match actor.principal.can(Permission::AdminArea) {
        true => Ok(()),
        false if actor.principal.is_staff() => Err(ServiceError::Forbidden),
        false => Err(ServiceError::NotFound),
    }
}

/// "Sent mail": every mail, newest first (a page of `limit` after the cursor), for admins.
pub async fn mailbox(
    db: &Db,
    actor: &Actor<'_>,
    before: Option<&str>,
    limit: i64,
) -> ServiceResult<(Vec<MailRow>, Option<String>)> {
    require_admin(actor)?;
    let limit = limit.clamp(1, 200);
    let mut rows = store::mails(db, before, limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone()).unwrap_or_default()
    });
    Ok((rows, next))
}

pub async fn mail(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<MailBody> {
    require_admin(actor)?;
    store::mail(db, id).await?.ok_or(ServiceError::NotFound)
}

/// The mails a user may turn off, and whether each is on.
pub async fn notification_settings(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<(MailKind, bool)>> {
    let stored = store::opt_outs(db, &actor.principal.user_id).await?.ok_or(ServiceError::NotFound)?;
    let off = parse_opt_outs(&stored);
    Ok(MailKind::ALL.into_iter().filter(|k| !k.essential()).map(|k| (k, !off.contains(&k))).collect())
}

/// Saves which mails the signed-in user receives (`on`: the kinds left on); audited.
pub async fn set_notifications(db: &Db, now: i64, actor: &Actor<'_>, on: &[MailKind]) -> ServiceResult<()> {
    let off: Vec<MailKind> = MailKind::ALL.into_iter().filter(|k| !k.essential() && !on.contains(k)).collect();
    let text = opt_outs_text(&off);
    db.write((actor.owned(), now, text), |tx, (actor, now, text)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let user = actor.principal.user_id.clone();
            if store::set_opt_outs(tx, &user, text, *now).await? == 0 {
                return Err(ServiceError::NotFound);
            }
            let after = serde_json::json!({ "mail_opt_outs": text });
            super::audit(tx, Some(actor), *now, "user.notifications_changed", ("user", &user), None, Some(after))
                .await?;
            Ok(())
        })
    })
    .await
}
