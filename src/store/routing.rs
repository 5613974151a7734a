//! The seller's routing rules and the products flagged "consult a specialist" (see
//! `domain::routing`).

use super::{Db, StoreResult, Tx};
use crate::domain::money::Money;
use crate::domain::routing::Rule;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub kind: String,
    pub amount: Option<i64>,
    pub quantity: Option<i64>,
    pub created_at: i64,
}

impl RuleRow {
    pub fn rule(&self) -> Option<Rule> {
        Some(match (self.kind.as_str(), self.amount, self.quantity) {
            ("order_total", Some(a), _) => Rule::OrderTotalOver(Money::from_raw(a)),
            ("line_quantity", _, Some(q)) => Rule::LineQuantityOver(q),
            ("consult_product", _, _) => Rule::ConsultProduct,
            ("first_orders", _, Some(n)) => Rule::FirstOrders(n),
            ("has_notes", _, _) => Rule::HasNotes,
            _ => return None,
        })
    }
}

pub async fn rules(db: &Db) -> StoreResult<Vec<RuleRow>> {
    on_db!(db, |c| sqlx::query_as::<_, RuleRow>(
        "SELECT id, kind, amount, quantity, created_at FROM routing_rules ORDER BY created_at, id"
    )
    .fetch_all(c)
    .await)
}

pub async fn insert_rule(tx: &mut Tx, r: &RuleRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO routing_rules (id, kind, amount, quantity, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![&r.id, &r.kind, r.amount, r.quantity, r.created_at],
    )
    .await?;
    Ok(())
}

/// Deletes a rule; returns whether it existed.
pub async fn delete_rule(tx: &mut Tx, id: &str) -> StoreResult<bool> {
    Ok(tx.execute("DELETE FROM routing_rules WHERE id = $1", args![id]).await? == 1)
}

/// Of these products, the ones flagged "consult a specialist".
pub async fn consult_among(db: &Db, product_ids: &[String]) -> StoreResult<Vec<String>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id FROM products WHERE consult_specialist AND id IN ({})", db.json_values("$1"));
    let list = super::json_list(product_ids);
    on_db!(db, |c| sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone())).bind(&list).fetch_all(c).await)
}

/// Every flagged product: (id, SKU, name), by SKU.
pub async fn consult_products(db: &Db) -> StoreResult<Vec<(String, String, String)>> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String, String)>(
        "SELECT id, sku, name FROM products WHERE consult_specialist ORDER BY sku"
    )
    .fetch_all(c)
    .await)
}

/// Flags (or unflags) the product with this SKU; returns its id (`None`: no such SKU).
pub async fn set_consult(tx: &mut Tx, sku: &str, consult: bool) -> StoreResult<Option<String>> {
    let id: Option<String> = tx.fetch_optional("SELECT id FROM products WHERE sku = $1", args![sku]).await?;
    if let Some(id) = &id {
        tx.execute("UPDATE products SET consult_specialist = $2 WHERE id = $1", args![id, consult]).await?;
    }
    Ok(id)
}

/// How many orders the account has placed (cancelled ones not counted).
pub async fn prior_orders(db: &Db, account_id: &str) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM orders WHERE account_id = $1 AND status <> 'cancelled'"
    )
    .bind(account_id)
    .fetch_one(c)
    .await)
}
