//! Each account's credit exposure (`account_exposure`), kept current by the units of work that
//! change its parts — placement, amendment, cancellation, invoicing, credit notes, payments —
//! and recomputed from the records for checks and repair (see `domain::credit`).

use super::{Db, StoreResult, Tx};
use crate::domain::credit::Exposure;
use crate::{args, on_db};

/// Adds `d` to the account's exposure (creating its row) and returns the exposure after. The
/// row stays locked until the unit ends (PostgreSQL), so two units of one account are serialised
/// from here on: the returned figures are the ones the unit decides on.
pub async fn adjust(tx: &mut Tx, account_id: &str, d: Exposure, now: i64) -> StoreResult<Exposure> {
    tx.fetch_one(
        "INSERT INTO account_exposure (account_id, uninvoiced, receivable, credits, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET
             uninvoiced = account_exposure.uninvoiced + excluded.uninvoiced,
             receivable = account_exposure.receivable + excluded.receivable,
             credits = account_exposure.credits + excluded.credits,
             updated_at = excluded.updated_at
         RETURNING uninvoiced, receivable, credits",
        args![account_id, d.uninvoiced, d.receivable, d.credits, now],
    )
    .await
}

/// What an order's lines and status say it adds to `uninvoiced` (domain::credit::order_uninvoiced,
/// in SQL). `$1` is the order.
/// (PostgreSQL sums BIGINTs as NUMERIC: every sum read back is cast.)
const ORDER_UNINVOICED: &str =
    "CAST(CASE WHEN o.status IN ('draft', 'pending_approval', 'escalated', 'cancelled', 'closed') THEN 0 ELSE
        COALESCE((SELECT SUM(((l.quantity - l.invoiced_qty) * l.unit_price + 50) / 100 * 100)
                    FROM order_lines l WHERE l.order_id = o.id AND l.quantity > l.invoiced_qty), 0) END AS BIGINT)";

/// Brings an order's share of its account's exposure up to date with its lines and status, at the
/// end of a unit that changed them, and moves the account's figure by the difference. Returns
/// (account id, the difference, the account's exposure after). Calling it twice changes nothing.
pub async fn sync_order(tx: &mut Tx, order_id: &str, now: i64) -> StoreResult<(String, i64, Exposure)> {
    sync_order_and(tx, order_id, Exposure::default(), now).await
}

/// [`sync_order`], moving the account's figure by `also` in the same statement (an invoice: what
/// the order no longer has uninvoiced is now receivable).
pub async fn sync_order_and(
    tx: &mut Tx,
    order_id: &str,
    also: Exposure,
    now: i64,
) -> StoreResult<(String, i64, Exposure)> {
    let (account_id, stored, current): (String, i64, i64) = tx
        .fetch_one(
            &format!("SELECT o.account_id, o.uninvoiced, {ORDER_UNINVOICED} FROM orders o WHERE o.id = $1"),
            args![order_id],
        )
        .await?;
    let delta = current - stored;
    if delta != 0 {
        tx.execute("UPDATE orders SET uninvoiced = $2 WHERE id = $1", args![order_id, current]).await?;
    }
    let after = adjust(tx, &account_id, also.plus(Exposure { uninvoiced: delta, ..Exposure::default() }), now).await?;
    Ok((account_id, delta, after))
}

/// The account's current exposure (zero for an account that never had any).
pub async fn get(db: &Db, account_id: &str) -> StoreResult<Exposure> {
    let row: Option<(i64, i64, i64)> = on_db!(db, |c| sqlx::query_as(
        "SELECT uninvoiced, receivable, credits FROM account_exposure WHERE account_id = $1"
    )
    .bind(account_id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(uninvoiced, receivable, credits)| Exposure { uninvoiced, receivable, credits }).unwrap_or_default())
}

/// Every account's running exposure: (account id, exposure), by account id.
pub async fn all(db: &Db) -> StoreResult<Vec<(String, Exposure)>> {
    let rows: Vec<(String, i64, i64, i64)> = on_db!(db, |c| sqlx::query_as(
        "SELECT account_id, uninvoiced, receivable, credits FROM account_exposure ORDER BY account_id"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, uninvoiced, receivable, credits)| (id, Exposure { uninvoiced, receivable, credits }))
        .collect())
}

/// The same figures as a query over the records: open orders' lines, open invoices, unapplied
/// credit notes and payments. `$1` is the account. (The migration that created the table fills it
/// with this query too.)
const FROM_RECORDS: &str = "
    SELECT CAST(COALESCE((SELECT SUM(((l.quantity - l.invoiced_qty) * l.unit_price + 50) / 100 * 100)
                       FROM order_lines l JOIN orders o ON o.id = l.order_id
                      WHERE o.account_id = a.id AND o.status NOT IN ('draft', 'pending_approval', 'escalated', 'cancelled', 'closed')
                        AND l.quantity > l.invoiced_qty), 0) AS BIGINT) AS uninvoiced,
           CAST(COALESCE((SELECT SUM(i.total - i.paid) FROM invoices i
                      WHERE i.account_id = a.id AND i.kind = 'invoice' AND i.status = 'open'), 0) AS BIGINT) AS receivable,
           CAST(COALESCE((SELECT SUM(i.total - i.paid) FROM invoices i
                      WHERE i.account_id = a.id AND i.kind = 'credit_note' AND i.status = 'open'), 0)
         + COALESCE((SELECT SUM(p.unapplied) FROM payments p
                      WHERE p.account_id = a.id AND p.status = 'posted'), 0) AS BIGINT) AS credits
      FROM accounts a";

/// The account's exposure computed from its records (for tests, and to repair a running figure).
pub async fn from_records(db: &Db, account_id: &str) -> StoreResult<Exposure> {
    let sql = format!("{FROM_RECORDS} WHERE a.id = $1");
    let row: Option<(i64, i64, i64)> =
        on_db!(db, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(account_id).fetch_optional(c).await)?;
    Ok(row.map(|(uninvoiced, receivable, credits)| Exposure { uninvoiced, receivable, credits }).unwrap_or_default())
}

/// Sets every account's running exposure from its records: after a bulk load (the demo's seed,
/// a large dataset) that wrote orders and invoices without going through the units that keep it.
pub async fn rebuild_all(tx: &mut Tx, now: i64) -> StoreResult<()> {
    tx.execute(
        &format!("UPDATE orders SET uninvoiced = (SELECT {ORDER_UNINVOICED} FROM orders o WHERE o.id = orders.id)"),
        args![],
    )
    .await?;
    tx.execute("DELETE FROM account_exposure", args![]).await?;
    let select = FROM_RECORDS.replacen("SELECT ", "SELECT a.id, ", 1).replace("AS credits", "AS credits, $1");
    tx.execute(
        &format!("INSERT INTO account_exposure (account_id, uninvoiced, receivable, credits, updated_at) {select}"),
        args![now],
    )
    .await?;
    Ok(())
}

/// The account's most overdue open invoice: (number, due date as YYYY-MM-DD), if any invoice is
/// due before `before` (YYYY-MM-DD).
pub async fn oldest_overdue(tx: &mut Tx, account_id: &str, before: &str) -> StoreResult<Option<(String, String)>> {
    tx.fetch_optional(
        "SELECT number, due_on FROM invoices
          WHERE account_id = $1 AND status = 'open' AND kind = 'invoice' AND due_on < $2
          ORDER BY due_on, number LIMIT 1",
        args![account_id, before],
    )
    .await
}
