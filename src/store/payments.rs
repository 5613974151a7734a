//! Payments and their applications to invoices (`payments`, `payment_applications`), and the
//! invoice balances they move. The exposure they change is kept by the caller's unit of work with
//! `store::credit::adjust`, in the same transaction.

use super::{Db, StoreResult, Tx};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct PaymentRow {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub account_name: String,
    pub account_number: String,
    pub amount: i64,
    pub unapplied: i64,
    pub received_on: String,
    pub method: String,
    pub reference: String,
    pub source: String,
    pub external_id: Option<String>,
    pub status: String,
    pub reversed_at: Option<i64>,
    pub reversal_reason: String,
    pub created_by_name: String,
    pub created_at: i64,
    /// Changes when the payment is applied, unapplied or reversed.
    #[serde(default)]
    pub updated_at: i64,
}

/// An application of a payment or credit note to an invoice (live, or taken off).
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ApplicationRow {
    pub id: String,
    /// `payment` or `credit_note`.
    pub source_kind: String,
    pub source_id: String,
    /// The payment's number (PAY-…) or the credit note's (CN-…).
    pub source_number: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub amount: i64,
    pub applied_on: String,
    /// When it stopped applying (see `taken_off`), if it did.
    pub reversed_at: Option<i64>,
    /// `reversal` (its payment was reversed) or `unapplied` (taken off on its own).
    pub taken_off: Option<String>,
    pub created_at: i64,
}

impl ApplicationRow {
    pub fn is_live(&self) -> bool {
        self.reversed_at.is_none()
    }
}

/// An application as a unit of work finds it (its row locked).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LockedApplication {
    pub id: String,
    pub account_id: String,
    pub source_kind: String,
    pub source_id: String,
    pub invoice_id: String,
    pub amount: i64,
    pub reversed_at: Option<i64>,
}

/// An open invoice with what is still owed on it.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct OpenInvoiceRow {
    pub id: String,
    pub number: String,
    pub issued_on: String,
    pub due_on: String,
    pub total: i64,
    pub paid: i64,
}

pub struct NewPayment<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub account_id: &'a str,
    pub amount: i64,
    pub received_on: &'a str,
    pub method: &'a str,
    pub reference: &'a str,
    pub source: &'a str,
    pub external_id: Option<&'a str>,
    pub created_by_user_id: &'a str,
    pub created_by_name: &'a str,
}

const COLUMNS: &str = "p.id, p.number, p.account_id, a.name AS account_name, a.number AS account_number, p.amount,
     p.unapplied, p.received_on, p.method, p.reference, p.source, p.external_id, p.status, p.reversed_at,
     p.reversal_reason, p.created_by_name, p.created_at, p.updated_at";
const FROM: &str = "FROM payments p JOIN accounts a ON a.id = p.account_id";

/// Writes a payment, all of it unapplied.
pub async fn insert(tx: &mut Tx, p: &NewPayment<'_>, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO payments (id, number, account_id, amount, unapplied, received_on, method, reference, source,
             external_id, created_by_user_id, created_by_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        args![
            p.id,
            p.number,
            p.account_id,
            p.amount,
            p.received_on,
            p.method,
            p.reference,
            p.source,
            p.external_id,
            p.created_by_user_id,
            p.created_by_name,
            now
        ],
    )
    .await?;
    Ok(())
}

/// One payment by id or number.
pub async fn get(db: &Db, id_or_number: &str) -> StoreResult<Option<PaymentRow>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE p.id = $1 OR p.number = $1");
    on_db!(db, |c| sqlx::query_as::<_, PaymentRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id_or_number)
        .fetch_optional(c)
        .await)
}

/// One payment by id, in a unit of work (what it just wrote included).
pub async fn get_tx(tx: &mut Tx, id: &str) -> StoreResult<Option<PaymentRow>> {
    tx.fetch_optional(&format!("SELECT {COLUMNS} {FROM} WHERE p.id = $1"), args![id]).await
}

/// One payment, locked until the unit ends.
pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<PaymentRow>> {
    // The lock is on the payment's row only (PostgreSQL refuses FOR UPDATE of a join's nullable side).
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE p.id = $1");
    let locked = match tx.is_sqlite() {
        true => tx.fetch_optional(&sql, args![id]).await?,
        false => tx.fetch_optional(&format!("{sql} FOR UPDATE OF p"), args![id]).await?,
    };
    Ok(locked)
}

/// The payment recorded with this external id, if any.
pub async fn by_external_id(tx: &mut Tx, external_id: &str) -> StoreResult<Option<PaymentRow>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE p.external_id = $1");
    tx.fetch_optional(&sql, args![external_id]).await
}

/// Which of `external_ids` are recorded already.
pub async fn known_external_ids(db: &Db, external_ids: &[String]) -> StoreResult<Vec<String>> {
    let mut known = Vec::new();
    for chunk in external_ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT external_id FROM payments WHERE external_id IN ({})", placeholders.join(", "));
        let rows: Vec<String> = on_db!(db, |c| {
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone()));
            for e in chunk {
                q = q.bind(e);
            }
            q.fetch_all(c).await
        })?;
        known.extend(rows);
    }
    Ok(known)
}

/// Payments recorded or changed at or after `since`, oldest change first, after the previous page's
/// last (updated_at, id): of one account, or all (how an ERP pulls them).
pub async fn changed_since(
    db: &Db,
    account_id: Option<&str>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<PaymentRow>> {
    let select = format!("SELECT {COLUMNS} {FROM}");
    super::changed_joined(db, (&select, "p"), account_id, since, after, limit).await
}

/// Payments newest first (by received date, then number): of one account or all; `after` is the
/// last (received_on, number) of the previous page.
pub async fn list(
    db: &Db,
    account_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> StoreResult<Vec<PaymentRow>> {
    let mut sql = format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    if let Some(a) = account_id {
        binds.push(a.to_string());
        sql.push_str(&format!(" AND p.account_id = ${}", binds.len()));
    }
    if let Some((on, number)) = after {
        binds.push(on.to_string());
        binds.push(number.to_string());
        let (d, n) = (binds.len() - 1, binds.len());
        sql.push_str(&format!(" AND (p.received_on < ${d} OR (p.received_on = ${d} AND p.number < ${n}))"));
    }
    sql.push_str(&format!(" ORDER BY p.received_on DESC, p.number DESC LIMIT {}", limit.clamp(1, 501)));
    on_db!(db, |c| {
        let mut q = sqlx::query_as::<_, PaymentRow>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(c).await
    })
}

const APPLICATIONS: &str = "SELECT pa.id, pa.source_kind, pa.source_id, COALESCE(p.number, cn.number, '') AS source_number,
            pa.invoice_id, i.number AS invoice_number, pa.amount, pa.applied_on, pa.reversed_at, pa.taken_off, pa.created_at
       FROM payment_applications pa JOIN invoices i ON i.id = pa.invoice_id
       LEFT JOIN payments p ON pa.source_kind = 'payment' AND p.id = pa.source_id
       LEFT JOIN invoices cn ON pa.source_kind = 'credit_note' AND cn.id = pa.source_id";

/// The applications of a payment or credit note (by its id), oldest first (those taken off too).
pub async fn applications_of(db: &Db, source_id: &str) -> StoreResult<Vec<ApplicationRow>> {
    let sql = format!("{APPLICATIONS} WHERE pa.source_id = $1 ORDER BY pa.created_at, i.number");
    on_db!(db, |c| sqlx::query_as::<_, ApplicationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(source_id)
        .fetch_all(c)
        .await)
}

/// [`applications_of`], in a unit of work (what it just wrote included).
pub async fn applications_of_tx(tx: &mut Tx, source_id: &str) -> StoreResult<Vec<ApplicationRow>> {
    tx.fetch_all(&format!("{APPLICATIONS} WHERE pa.source_id = $1 ORDER BY pa.created_at, i.number"), args![source_id])
        .await
}

/// The payments and credit notes applied to an invoice, oldest first (those taken off too).
pub async fn applications_to(db: &Db, invoice_id: &str) -> StoreResult<Vec<ApplicationRow>> {
    let sql = format!("{APPLICATIONS} WHERE pa.invoice_id = $1 ORDER BY pa.created_at, source_number");
    on_db!(db, |c| sqlx::query_as::<_, ApplicationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(invoice_id)
        .fetch_all(c)
        .await)
}

/// One application, its row locked until the unit ends.
pub async fn application_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<LockedApplication>> {
    let rows: Vec<LockedApplication> = tx
        .lock(
            "SELECT id, account_id, source_kind, source_id, invoice_id, amount, reversed_at
               FROM payment_applications WHERE id = $1",
            args![id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Takes one live application off its invoice: the invoice owes the amount again (open again), and
/// it is back on its payment (unapplied) or credit note (left to apply). False when it was no
/// longer live.
pub async fn unapply(tx: &mut Tx, a: &LockedApplication, now: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE payment_applications SET reversed_at = $2, taken_off = 'unapplied' WHERE id = $1 AND reversed_at IS NULL",
            args![a.id.as_str(), now],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    super::invoices::add_paid(tx, &a.invoice_id, -a.amount, now).await?;
    match a.source_kind.as_str() {
        "payment" => {
            tx.execute(
                "UPDATE payments SET unapplied = unapplied + $2, updated_at = $3 WHERE id = $1",
                args![a.source_id.as_str(), a.amount, now],
            )
            .await?;
        }
        _ => super::invoices::add_paid(tx, &a.source_id, -a.amount, now).await?,
    }
    Ok(true)
}

const OPEN_INVOICES: &str = "SELECT id, number, issued_on, due_on, total, paid FROM invoices
      WHERE account_id = $1 AND kind = 'invoice' AND status = 'open' AND total > paid
      ORDER BY due_on, number";

/// The account's open invoices, oldest due first (for forms).
pub async fn open_invoices(db: &Db, account_id: &str) -> StoreResult<Vec<OpenInvoiceRow>> {
    on_db!(db, |c| sqlx::query_as::<_, OpenInvoiceRow>(OPEN_INVOICES).bind(account_id).fetch_all(c).await)
}

/// The account's open invoices, oldest due first, locked until the unit ends.
pub async fn open_invoices_for_update(tx: &mut Tx, account_id: &str) -> StoreResult<Vec<OpenInvoiceRow>> {
    let rows: Vec<OpenInvoiceRow> = tx.lock(OPEN_INVOICES, args![account_id]).await?;
    Ok(rows)
}

/// Applies `amount` of a payment to an invoice: the application, the invoice's paid amount (and
/// status, paid once nothing is owed) and the payment's unapplied amount.
pub async fn apply(
    tx: &mut Tx,
    payment: &PaymentRow,
    invoice_id: &str,
    amount: i64,
    applied_on: &str,
    now: i64,
) -> StoreResult<String> {
    let id =
        super::invoices::apply(tx, &payment.account_id, ("payment", &payment.id), invoice_id, amount, applied_on, now)
            .await?;
    tx.execute(
        "UPDATE payments SET unapplied = unapplied - $2, updated_at = $3 WHERE id = $1",
        args![payment.id.as_str(), amount, now],
    )
    .await?;
    Ok(id)
}

/// Reverses every live application of a payment: each invoice owes the amount again (and is open
/// again). Returns (invoice id, amount) of each application reversed.
pub async fn reverse_applications(tx: &mut Tx, payment_id: &str, now: i64) -> StoreResult<Vec<(String, i64)>> {
    let live: Vec<(String, String, i64)> = tx
        .fetch_all(
            "SELECT id, invoice_id, amount FROM payment_applications
              WHERE source_kind = 'payment' AND source_id = $1 AND reversed_at IS NULL ORDER BY invoice_id",
            args![payment_id],
        )
        .await?;
    let mut out = Vec::new();
    for (id, invoice_id, amount) in live {
        tx.execute(
            "UPDATE payment_applications SET reversed_at = $2, taken_off = 'reversal' WHERE id = $1",
            args![id.as_str(), now],
        )
        .await?;
        tx.execute(
            "UPDATE invoices SET paid = paid - $2, updated_at = $3,
                 status = CASE WHEN status = 'void' THEN status ELSE 'open' END
              WHERE id = $1",
            args![invoice_id.as_str(), amount, now],
        )
        .await?;
        tx.execute(
            "UPDATE payments SET unapplied = unapplied + $2, updated_at = $3 WHERE id = $1",
            args![payment_id, amount, now],
        )
        .await?;
        out.push((invoice_id, amount));
    }
    Ok(out)
}

/// Marks a payment reversed (its applications reversed first): nothing of it is left to apply.
pub async fn mark_reversed(tx: &mut Tx, payment_id: &str, reason: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE payments SET status = 'reversed', unapplied = 0, reversed_at = $2, reversal_reason = $3, updated_at = $2
          WHERE id = $1",
        args![payment_id, now, reason],
    )
    .await?;
    Ok(())
}
