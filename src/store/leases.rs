//! Work leased to one worker at a time: rows of a delivery table (`webhook_deliveries`, `mails`)
//! with `status`, `due_ms`, `attempts`, `lease_owner` and `lease_until_ms`. A pending row is due
//! at `due_ms`; claiming it counts an attempt and holds it until `lease_until_ms`, after which
//! (its worker died mid-delivery) it is due again. Claims take rows another node holds by
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL ([`Tx::claim`]); on SQLite the writer serialises them.

use super::{Cell, Db, StoreResult, Tx};
use crate::args;

/// A table whose rows are leased. The names are static identifiers, never input.
#[derive(Clone, Copy, Debug)]
pub struct Leased {
    pub table: &'static str,
    /// A further condition on the rows a claim may take (`AND …`, aliasing the table `d`), e.g.
    /// "no earlier delivery of the same key is pending".
    pub also: &'static str,
}

/// Whether some row is due and free at `now_ms` (a read: an idle worker writes nothing).
pub async fn any_due(db: &Db, t: Leased, now_ms: i64) -> StoreResult<bool> {
    let sql = format!(
        "SELECT id FROM {} WHERE status = 'pending' AND due_ms <= CAST($1 AS BIGINT) AND lease_until_ms < CAST($1 AS BIGINT) LIMIT 1",
        t.table
    );
    Ok(db.read_text(&sql, &[&now_ms.to_string()]).await?.is_some())
}

/// Claims up to `limit` due rows for `owner` until `now_ms + lease_ms`, counting an attempt on
/// each; returns their ids, soonest due first.
pub async fn claim(
    tx: &mut Tx,
    t: Leased,
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let select = format!(
        "SELECT d.id FROM {} d WHERE d.status = 'pending' AND d.due_ms <= $1 AND d.lease_until_ms < $1 {} ORDER BY d.due_ms LIMIT $2",
        t.table, t.also
    );
    let ids: Vec<String> = tx.claim(&select, args![now_ms, limit]).await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    let list = (4..ids.len() + 4).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let mut cells = args![owner, now_ms + lease_ms, now_ms / 1000];
    cells.extend(ids.iter().map(Cell::from));
    let update = format!(
        "UPDATE {} SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, last_attempt_at = $3 WHERE id IN ({list})",
        t.table
    );
    tx.execute(&update, cells).await?;
    Ok(ids)
}

/// Gives back the leases `owner` still holds (a clean stop): those rows are due again at once.
pub async fn release(tx: &mut Tx, t: Leased, owner: &str) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE {} SET lease_owner = NULL, lease_until_ms = 0 WHERE lease_owner = $1 AND status = 'pending'",
        t.table
    );
    tx.execute(&sql, args![owner]).await
}

/// `$first, $first+1, …` for `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
