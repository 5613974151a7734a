//! Mails: one row per recipient of an event's mail, leased to a worker to send ([`LEASED`]), and
//! kept afterwards with what was sent (the admin's "Sent mail"). Also who receives what: the
//! contacts an event's mail goes to, and each user's notification opt-outs.

use super::leases::{self, Leased};
use super::{Cell, Db, StoreResult, Tx, bulk_insert, new_id};
use crate::{args, on_db};
use serde::Deserialize;

pub const LEASED: Leased = Leased { table: "mails", also: "" };

/// A person a mail may go to.
#[derive(Clone, Debug, Deserialize)]
pub struct Contact {
    pub id: String,
    pub email: String,
    pub name: String,
    pub mail_opt_outs: String,
}

const CONTACT: &str = "SELECT id, email, name, mail_opt_outs FROM users";

/// Active users, by id (`ids` any length; read 500 at a time).
pub async fn contacts(tx: &mut Tx, ids: &[&str]) -> StoreResult<Vec<Contact>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!("{CONTACT} WHERE active = $1 AND id IN ({})", leases::placeholders(2, chunk.len()));
        let mut cells = args![true];
        cells.extend(chunk.iter().map(|id| Cell::from(*id)));
        out.extend(tx.fetch_all::<Contact>(&sql, cells).await?);
    }
    Ok(out)
}

/// The owning reps (if active) of accounts, as (account id, rep).
pub async fn owning_reps(tx: &mut Tx, account_ids: &[&str]) -> StoreResult<Vec<(String, Contact)>> {
    #[derive(Deserialize)]
    struct Row {
        account_id: String,
        id: String,
        email: String,
        name: String,
        mail_opt_outs: String,
    }
    let mut out = Vec::new();
    for chunk in account_ids.chunks(500) {
        let sql = format!(
            "SELECT a.id AS account_id, u.id, u.email, u.name, u.mail_opt_outs FROM accounts a JOIN users u ON u.id = a.owner_rep_id
             WHERE u.active = $1 AND a.id IN ({})",
            leases::placeholders(2, chunk.len())
        );
        let mut cells = args![true];
        cells.extend(chunk.iter().map(|id| Cell::from(*id)));
        let rows: Vec<Row> = tx.fetch_all(&sql, cells).await?;
        out.extend(rows.into_iter().map(|r| {
            (r.account_id, Contact { id: r.id, email: r.email, name: r.name, mail_opt_outs: r.mail_opt_outs })
        }));
    }
    Ok(out)
}

/// The active buyers of an account holding `role` (`manager`, `finance`, …).
pub async fn account_contacts(tx: &mut Tx, account_id: &str, role: &str) -> StoreResult<Vec<Contact>> {
    let sql =
        format!("{CONTACT} WHERE account_id = $1 AND active = $2 AND (',' || roles || ',') LIKE $3 ORDER BY email");
    tx.fetch_all(&sql, args![account_id, true, format!("%,{role},%")]).await
}

/// Who asked for a quote.
pub async fn quote_requester(tx: &mut Tx, quote_id: &str) -> StoreResult<Option<Contact>> {
    let sql =
        "SELECT u.id, u.email, u.name, u.mail_opt_outs FROM quotes q JOIN users u ON u.id = q.requested_by_user_id
               WHERE q.id = $1 AND u.active = $2 AND u.kind = 'buyer'";
    Ok(tx.fetch_all(sql, args![quote_id, true]).await?.into_iter().next())
}

/// A mail to create.
pub struct NewMail {
    pub event_id: String,
    pub kind: &'static str,
    pub user_id: Option<String>,
    pub to_email: String,
    pub to_name: String,
    pub due_ms: i64,
    pub now: i64,
}

pub async fn insert_mails(tx: &mut Tx, rows: &[NewMail]) -> StoreResult<()> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|m| {
            args![
                new_id(),
                m.event_id.as_str(),
                m.kind,
                m.user_id.clone(),
                m.to_email.as_str(),
                m.to_name.as_str(),
                "pending",
                m.due_ms,
                m.now
            ]
        })
        .collect();
    bulk_insert(
        tx,
        "mails",
        &["id", "event_id", "kind", "user_id", "to_email", "to_name", "status", "due_ms", "created_at"],
        &cells,
    )
    .await
}

/// A mail a worker holds, with its event.
#[derive(Clone, Debug, Deserialize)]
pub struct ClaimedMail {
    pub id: String,
    pub kind: String,
    pub attempts: i64,
    pub user_id: Option<String>,
    pub to_email: String,
    pub to_name: String,
    pub event_type: String,
    pub payload: String,
}

pub async fn claim(tx: &mut Tx, owner: &str, now_ms: i64, lease_ms: i64, limit: i64) -> StoreResult<Vec<ClaimedMail>> {
    let ids = leases::claim(tx, LEASED, owner, now_ms, lease_ms, limit).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    tx.fetch_all(
        &format!(
            "SELECT m.id, m.kind, m.attempts, m.user_id, m.to_email, m.to_name, o.event_type, o.payload
             FROM mails m JOIN outbox o ON o.id = m.event_id WHERE m.id IN ({}) ORDER BY m.id",
            leases::placeholders(1, ids.len())
        ),
        ids.iter().map(Cell::from).collect(),
    )
    .await
}

/// How an attempt at a mail ended.
#[derive(Clone, Debug)]
pub enum MailNext {
    /// Handed to the SMTP server (`sent`) or written to the local mailbox (`kept`), with what it said.
    Done {
        status: &'static str,
        subject: String,
        text: String,
        html: String,
        at: i64,
    },
    RetryAt(i64, String),
    Dead(String),
    /// Nothing to send any more, and why.
    Cancelled(String),
}

pub async fn record(tx: &mut Tx, owner: &str, outcomes: &[(String, MailNext)]) -> StoreResult<()> {
    for (id, next) in outcomes {
        let (status, due, error, subject, text, html, at) = match next {
            MailNext::Done { status, subject, text, html, at } => {
                (*status, None, None, Some(subject.clone()), Some(text.clone()), Some(html.clone()), Some(*at))
            }
            MailNext::RetryAt(due, why) => ("pending", Some(*due), Some(why.clone()), None, None, None, None),
            MailNext::Dead(why) => ("dead", None, Some(why.clone()), None, None, None, None),
            MailNext::Cancelled(why) => ("cancelled", None, Some(why.clone()), None, None, None, None),
        };
        tx.execute(
            "UPDATE mails SET status = $3, due_ms = COALESCE($4, due_ms), last_error = $5, subject = COALESCE($6, subject),
                text_body = COALESCE($7, text_body), html_body = COALESCE($8, html_body), sent_at = COALESCE($9, sent_at),
                lease_owner = NULL, lease_until_ms = 0
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
            args![id.as_str(), owner, status, due, error, subject, text, html, at],
        )
        .await?;
    }
    Ok(())
}

/// A mail as the admin's mailbox lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub to_email: String,
    pub to_name: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub subject: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
}

/// Mails newest first, `limit` after the cursor `before` (a mail id).
pub async fn mails(db: &Db, before: Option<&str>, limit: i64) -> StoreResult<Vec<MailRow>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, MailRow>(
            "SELECT id, kind, to_email, to_name, status, attempts, last_error, subject, sent_at, created_at FROM mails
             WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(c)
        .await
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MailBody {
    pub id: String,
    pub kind: String,
    pub to_email: String,
    pub to_name: String,
    pub status: String,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
}

pub async fn mail(db: &Db, id: &str) -> StoreResult<Option<MailBody>> {
    on_db!(db, |c| {
        sqlx::query_as::<_, MailBody>(
            "SELECT id, kind, to_email, to_name, status, subject, text_body, html_body, last_error, sent_at, created_at
             FROM mails WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await
    })
}

pub async fn opt_outs(db: &Db, user_id: &str) -> StoreResult<Option<String>> {
    db.read_text("SELECT mail_opt_outs FROM users WHERE id = $1", &[user_id]).await
}

pub async fn set_opt_outs(tx: &mut Tx, user_id: &str, text: &str, now: i64) -> StoreResult<u64> {
    tx.execute("UPDATE users SET mail_opt_outs = $2, updated_at = $3 WHERE id = $1", args![user_id, text, now]).await
}
