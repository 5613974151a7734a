//! The audit log and the outbox. Both are written inside the transaction of the change they
//! describe (DESIGN.md invariant 7), so neither can disagree with the data.

use super::{Cell, Db, StoreResult, Tx, new_id};
use crate::on_db;

/// One audit row: who did what to which object, for whom, through which channel.
pub struct AuditEntry<'a> {
    pub at: i64,
    pub actor_user_id: Option<&'a str>,
    pub on_behalf_of_account_id: Option<&'a str>,
    pub channel: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor_user_id: Option<String>,
    pub actor_name: Option<String>,
    pub on_behalf_of_account_id: Option<String>,
    pub channel: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// Writes an audit row in the caller's transaction.
pub async fn append(tx: &mut Tx, e: &AuditEntry<'_>) -> StoreResult<()> {
    insert(tx, e, e.after.as_ref().map(|v| v.to_string())).await
}

/// Writes an audit row and the outbox event of the same name whose payload is the row's `after`,
/// serialised once for both; returns the event's id.
pub async fn append_and_enqueue(tx: &mut Tx, e: &AuditEntry<'_>) -> StoreResult<String> {
    let payload = e.after.as_ref().map_or_else(|| "null".to_string(), |v| v.to_string());
    insert(tx, e, Some(payload.clone())).await?;
    enqueue_text(tx, e.action, payload, e.at).await
}

async fn insert(tx: &mut Tx, e: &AuditEntry<'_>, after: Option<String>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit_log (id, at, actor_user_id, on_behalf_of_account_id, channel, action, object_type, object_id, before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            Cell::Text(new_id()),
            Cell::Int(e.at),
            Cell::opt_text(e.actor_user_id),
            Cell::opt_text(e.on_behalf_of_account_id),
            Cell::text(e.channel),
            Cell::text(e.action),
            Cell::text(e.object_type),
            Cell::text(e.object_id),
            Cell::opt_text(e.before.as_ref().map(|v| v.to_string()).as_deref()),
            after.map_or(Cell::NullText, Cell::Text),
        ],
    )
    .await?;
    Ok(())
}

/// Writes an outbox event in the caller's transaction; returns its id.
pub async fn enqueue(tx: &mut Tx, event_type: &str, payload: &serde_json::Value, now: i64) -> StoreResult<String> {
    enqueue_text(tx, event_type, payload.to_string(), now).await
}

/// [`enqueue`] with the payload already serialised.
async fn enqueue_text(tx: &mut Tx, event_type: &str, payload: String, now: i64) -> StoreResult<String> {
    // A type webhooks and docs/webhooks.md do not know would reach no one's documentation.
    debug_assert!(
        crate::domain::webhooks::is_known(event_type),
        "event type {event_type} is not in domain::webhooks::EVENTS"
    );
    let id = new_id();
    tx.execute(
        "INSERT INTO outbox (id, event_type, payload, created_at) VALUES ($1, $2, $3, $4)",
        vec![Cell::Text(id.clone()), Cell::text(event_type), Cell::Text(payload), Cell::Int(now)],
    )
    .await?;
    Ok(id)
}

/// The history of one object, newest first.
pub async fn for_object(db: &Db, object_type: &str, object_id: &str, limit: i64) -> StoreResult<Vec<AuditRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, a.at, a.actor_user_id, u.name AS actor_name, a.on_behalf_of_account_id, a.channel, a.action,
                a.object_type, a.object_id, a.before_json, a.after_json
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
         WHERE a.object_type = $1 AND a.object_id = $2
         ORDER BY a.id DESC LIMIT $3",
        )
        .bind(object_type)
        .bind(object_id)
        .bind(limit)
        .fetch_all(c)
        .await
    })
}

/// Events of some types written after the event `after` (`""`: from the first), oldest first:
/// the demo's console mailbox reads its mails so, however many other events there are.
pub async fn events_of_after(db: &Db, types: &[&str], after: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    let placeholders: Vec<String> = (3..types.len() + 3).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, event_type, payload, created_at, delivered_at FROM outbox
         WHERE id > $2 AND event_type IN ({}) ORDER BY id LIMIT $1",
        placeholders.join(", ")
    );
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, OutboxRow>(sqlx::AssertSqlSafe(sql.clone())).bind(limit).bind(after);
        for t in types {
            q = q.bind(*t);
        }
        q.fetch_all(c).await
    })
}

/// The first `limit` events written, oldest first (tests read what a change wrote so).
pub async fn pending_events(db: &Db, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, OutboxRow>(
            "SELECT id, event_type, payload, created_at, delivered_at FROM outbox ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(c)
        .await
    })
}
