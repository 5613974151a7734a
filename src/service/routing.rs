//! Routing (issue 14 §3): the pipeline step that sends a customer's order to the owning rep
//! (`escalated`) instead of placing it — every order of a rep-led account, and the orders of a
//! hybrid account that one of the seller's rules catches — and the admin's rules, flagged
//! products and "what would happen to this order" preview. Completing or sending back an
//! escalated order is an order action (`service::orders::escalation`).
//!
//! The facts are read before the placing unit (rules and flags are settings; "the account's first
//! N orders" counts what is committed), so the unit itself does no extra work.

use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::account::OwnershipMode;
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::Channel;
use crate::domain::routing::{self, Rule};
use crate::service::evaluation::PricedLine;
use crate::store::accounts::AccountRow;
use crate::store::routing::{self as store, RuleRow};
use crate::store::{Db, new_id};
use serde_json::json;

/// Why an order of `account` coming in through `channel` goes to the rep (empty: it does not).
pub async fn reasons(
    db: &Db,
    account: &AccountRow,
    channel: Channel,
    lines: &[PricedLine],
    total: Money,
    notes: &str,
) -> ServiceResult<Vec<String>> {
    let from_customer = matches!(channel, Channel::Portal | Channel::Api);
    let mode = OwnershipMode::parse(&account.ownership_mode).unwrap_or(OwnershipMode::SelfService);
    if !from_customer || mode == OwnershipMode::SelfService {
        return Ok(Vec::new());
    }
    let rules: Vec<Rule> = if mode == OwnershipMode::Hybrid {
        store::rules(db).await?.iter().filter_map(RuleRow::rule).collect()
    } else {
        Vec::new()
    };
    if mode == OwnershipMode::Hybrid && rules.is_empty() {
        return Ok(Vec::new());
    }
    let consult = if rules.contains(&Rule::ConsultProduct) {
        let ids: Vec<String> = lines.iter().map(|l| l.product.id.clone()).collect();
        store::consult_among(db, &ids).await?
    } else {
        Vec::new()
    };
    let prior_orders = if rules.iter().any(|r| matches!(r, Rule::FirstOrders(_))) {
        store::prior_orders(db, &account.id).await?
    } else {
        0
    };
    let rep = match &account.owner_rep_id {
        Some(id) => crate::store::users::get(db, id).await?.map(|u| u.name),
        None => None,
    };
    let lines: Vec<routing::Line> = lines
        .iter()
        .map(|l| routing::Line {
            sku: l.product.sku.clone(),
            quantity: l.quantity,
            consult: consult.contains(&l.product.id),
        })
        .collect();
    let facts = routing::Facts {
        mode,
        from_customer,
        total,
        lines: &lines,
        prior_orders,
        has_notes: !notes.trim().is_empty(),
        rep: rep.as_deref(),
    };
    Ok(routing::route(&facts, &rules))
}

/// A routing rule as the admin page shows it.
#[derive(Clone, Debug)]
pub struct RuleView {
    pub id: String,
    pub what: String,
}

fn require(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::AdminArea)
}

pub async fn list_rules(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<RuleView>> {
    require(actor)?;
    Ok(store::rules(db)
        .await?
        .iter()
        .filter_map(|r| r.rule().map(|rule| RuleView { id: r.id.clone(), what: rule.describe() }))
        .collect())
}

/// Adds a routing rule for hybrid accounts (`kind` with its `amount` or `quantity`); audited.
pub async fn add_rule(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    kind: &str,
    amount: &str,
    quantity: &str,
) -> ServiceResult<()> {
    require(actor)?;
    super::check_texts(&[("amount", amount), ("quantity", quantity)], &[])?;
    let number = |field: &str, text: &str, what: &str| -> ServiceResult<i64> {
        let n: i64 = text
            .trim()
            .parse()
            .map_err(|_| ServiceError::invalid(field, format!("Enter {what} as a whole number.")))?;
        crate::domain::input::check_range(n, 0, 1_000_000).map_err(|e| ServiceError::invalid(field, e))
    };
    let (amount, quantity) = match kind {
        "order_total" => {
            let m = Money::parse(amount)
                .map_err(|e| ServiceError::invalid("amount", format!("“{}”: {e}", amount.trim())))
                .and_then(|m| crate::domain::input::check_amount(m).map_err(|e| ServiceError::invalid("amount", e)))?;
            (Some(m.raw()), None)
        }
        "line_quantity" => (None, Some(number("quantity", quantity, "the quantity")?)),
        "first_orders" => (None, Some(number("quantity", quantity, "how many first orders")?)),
        "consult_product" | "has_notes" => (None, None),
        _ => return Err(ServiceError::invalid("kind", "Choose what the rule looks at.")),
    };
    let row = RuleRow { id: new_id(), kind: kind.to_string(), amount, quantity, created_at: now };
    db.write((row, actor.owned()), |tx, (row, actor)| {
        Box::pin(async move {
            store::insert_rule(tx, row).await?;
            let after = json!({ "kind": row.kind, "amount": row.amount, "quantity": row.quantity });
            audit(
                tx,
                Some(&actor.actor()),
                row.created_at,
                "routing_rule.created",
                ("routing_rule", &row.id),
                None,
                Some(after),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
    })
    .await
}

pub async fn delete_rule(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<()> {
    require(actor)?;
    db.write((id.to_string(), actor.owned(), now), |tx, (id, actor, now)| {
        Box::pin(async move {
            if !store::delete_rule(tx, id).await? {
                return Err(ServiceError::NotFound);
            }
            audit(tx, Some(&actor.actor()), *now, "routing_rule.deleted", ("routing_rule", id), None, None).await?;
            Ok(())
        })
    })
    .await
}

/// Products flagged "consult a specialist": (id, SKU, name).
pub async fn consult_products(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<(String, String, String)>> {
    require(actor)?;
    Ok(store::consult_products(db).await?)
}

/// Flags or unflags a product by SKU; audited. An unknown SKU is refused, naming it.
pub async fn set_consult(db: &Db, now: i64, actor: &Actor<'_>, sku: &str, consult: bool) -> ServiceResult<()> {
    require(actor)?;
    super::check_texts(&[("sku", sku)], &[])?;
    let sku = crate::domain::catalog::Sku::normalize(sku);
    db.write((sku, consult, actor.owned(), now), |tx, (sku, consult, actor, now)| {
        Box::pin(async move {
            let Some(id) = store::set_consult(tx, sku, *consult).await? else {
                return Err(ServiceError::invalid("sku", format!("No product has SKU “{sku}”.")));
            };
            let after = json!({ "sku": sku, "consult_specialist": consult });
            audit(tx, Some(&actor.actor()), *now, "product.consult_changed", ("product", &id), None, Some(after))
                .await?;
            Ok(())
        })
    })
    .await
}

/// What would happen to an order of these lines for the account, placed by its buyer on the
/// portal now: each step's verdict in words (the admin's preview).
pub async fn preview(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    account_id: &str,
    lines: &[crate::service::evaluation::LineInput],
    notes: &str,
) -> ServiceResult<Vec<String>> {
    require(actor)?;
    let account = crate::store::accounts::get(db, account_id).await?.ok_or(ServiceError::NotFound)?;
    let eval = crate::service::evaluation::evaluate(db, now, &account.id, lines).await?;
    let mut out: Vec<String> =
        eval.issues.iter().map(|i| format!("Refused: line {} {} — {}", i.line, i.sku, i.message)).collect();
    if !out.is_empty() {
        return Ok(out);
    }
    let total = eval.subtotal().unwrap_or_default();
    out.push(format!("{} lines, ${total}, on {} ({}).", eval.lines.len(), account.name, {
        OwnershipMode::parse(&account.ownership_mode).map(|m| m.label()).unwrap_or("?")
    }));
    let routed = reasons(db, &account, Channel::Portal, &eval.lines, total, notes).await?;
    if routed.is_empty() {
        out.push("Placed directly (no routing rule catches it).".into());
    } else {
        out.extend(routed.into_iter().map(|r| format!("Goes to the rep: {r}")));
    }
    let before = crate::store::credit::get(db, &account.id).await?;
    if let Some(why) = crate::domain::credit::check(account.credit_limit(), before, total.raw()).reason() {
        out.push(format!("Credit: {why}"));
    }
    Ok(out)
}
