//! Licences for regulated products: the seller's rules, each account's licences and their
//! documents (see `domain::licences` for what they mean). Documents are bytes in the database
//! (BLOB / BYTEA), so every app node serves them.

use super::{Cell, Db, StoreResult, Tx};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct LicenceRow {
    pub id: String,
    pub account_id: String,
    pub licence_type: String,
    pub number: String,
    pub issuing_region: String,
    pub valid_from: Option<String>,
    pub expires_on: String,
    pub verified_at: Option<i64>,
    pub verified_by: Option<String>,
    pub expiry_notice_for: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The document's file name, type and size (the bytes are read only to download them).
    pub document_name: Option<String>,
    pub document_type: Option<String>,
    pub document_size: Option<i64>,
}

const COLUMNS: &str = "l.id, l.account_id, l.licence_type, l.number, l.issuing_region, l.valid_from, l.expires_on, l.verified_at, l.verified_by, l.expiry_notice_for, l.version, l.created_at, l.updated_at,
    d.filename AS document_name, d.content_type AS document_type, d.size AS document_size";
const FROM: &str = "account_licences l LEFT JOIN licence_documents d ON d.licence_id = l.id";

/// A licence with its account, for the staff list of licences needing attention.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttentionRow {
    #[sqlx(flatten)]
    pub licence: LicenceRow,
    pub account_name: String,
    pub account_number: String,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub regulated_class: String,
    pub licence_type: String,
    /// '' for every destination.
    pub region: String,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub require_verified: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DocumentRow {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// What a licence form writes.
#[derive(Clone, Debug)]
pub struct LicenceFields {
    pub licence_type: String,
    pub number: String,
    pub issuing_region: String,
    pub valid_from: Option<String>,
    pub expires_on: String,
}

/// An account's licences, by type and expiry.
pub async fn for_account(db: &Db, account_id: &str) -> StoreResult<Vec<LicenceRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE l.account_id = $1 ORDER BY l.licence_type, l.expires_on DESC, l.id"
    );
    on_db!(db, |c| sqlx::query_as::<_, LicenceRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id)
        .fetch_all(c)
        .await)
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<LicenceRow>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE l.id = $1");
    on_db!(db, |c| sqlx::query_as::<_, LicenceRow>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(c).await)
}

pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<LicenceRow>> {
    let rows = tx
        .lock::<LicenceRow>(
            "SELECT l.id, l.account_id, l.licence_type, l.number, l.issuing_region, l.valid_from, l.expires_on, l.verified_at, l.verified_by,
                    l.expiry_notice_for, l.version, l.created_at, l.updated_at,
                    CAST(NULL AS TEXT) AS document_name, CAST(NULL AS TEXT) AS document_type, CAST(NULL AS BIGINT) AS document_size
             FROM account_licences l WHERE l.id = $1",
            args![id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

pub async fn insert(tx: &mut Tx, id: &str, account_id: &str, f: &LicenceFields, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO account_licences (id, account_id, licence_type, number, issuing_region, valid_from, expires_on, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
        args![id, account_id, &f.licence_type, &f.number, &f.issuing_region, &f.valid_from, &f.expires_on, now],
    )
    .await?;
    Ok(())
}

/// Saves an edit made from a form showing `expected_version`; false when the row changed since.
/// A changed number, type, state or dates needs verifying again.
pub async fn update(tx: &mut Tx, id: &str, expected_version: i64, f: &LicenceFields, now: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE account_licences SET licence_type = $3, number = $4, issuing_region = $5, valid_from = $6, expires_on = $7,
                 verified_at = NULL, verified_by = NULL, version = version + 1, updated_at = $8
             WHERE id = $1 AND version = $2",
            args![id, expected_version, &f.licence_type, &f.number, &f.issuing_region, &f.valid_from, &f.expires_on, now],
        )
        .await?;
    Ok(n == 1)
}

pub async fn set_verified(tx: &mut Tx, id: &str, by: Option<&str>, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE account_licences SET verified_at = $2, verified_by = $3, version = version + 1, updated_at = $2 WHERE id = $1",
        args![id, now, by],
    )
    .await?;
    Ok(())
}

/// Stores (or replaces) a licence's document; the licence needs verifying again.
pub async fn put_document(
    tx: &mut Tx,
    licence_id: &str,
    filename: &str,
    content_type: &str,
    content: &[u8],
    by: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute("DELETE FROM licence_documents WHERE licence_id = $1", args![licence_id]).await?;
    tx.execute(
        "INSERT INTO licence_documents (licence_id, filename, content_type, size, content, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            Cell::text(licence_id),
            Cell::text(filename),
            Cell::text(content_type),
            Cell::Int(content.len() as i64),
            Cell::Bytes(content.to_vec()),
            Cell::text(by),
            Cell::Int(now),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE account_licences SET verified_at = NULL, verified_by = NULL, version = version + 1, updated_at = $2 WHERE id = $1",
        args![licence_id, now],
    )
    .await?;
    Ok(())
}

pub async fn document(db: &Db, licence_id: &str) -> StoreResult<Option<DocumentRow>> {
    on_db!(db, |c| sqlx::query_as::<_, DocumentRow>(
        "SELECT filename, content_type, content FROM licence_documents WHERE licence_id = $1"
    )
    .bind(licence_id)
    .fetch_optional(c)
    .await)
}

/// Licences in their expiry window (`from` ≤ expires_on ≤ `to`, ISO dates) for which
/// `licence.expiring` has not been raised for this expiry date yet.
pub async fn expiring_without_notice(tx: &mut Tx, from: &str, to: &str) -> StoreResult<Vec<LicenceRow>> {
    tx.lock::<LicenceRow>(
        "SELECT l.id, l.account_id, l.licence_type, l.number, l.issuing_region, l.valid_from, l.expires_on, l.verified_at, l.verified_by,
                l.expiry_notice_for, l.version, l.created_at, l.updated_at,
                CAST(NULL AS TEXT) AS document_name, CAST(NULL AS TEXT) AS document_type, CAST(NULL AS BIGINT) AS document_size
         FROM account_licences l
         WHERE l.expires_on >= $1 AND l.expires_on <= $2 AND (l.expiry_notice_for IS NULL OR l.expiry_notice_for <> l.expires_on)
         ORDER BY l.id",
        args![from, to],
    )
    .await
}

/// Whether any licence waits for its `licence.expiring` (a read, so that checking often costs
/// no write).
pub async fn any_expiring_without_notice(db: &Db, from: &str, to: &str) -> StoreResult<bool> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM account_licences l
         WHERE l.expires_on >= $1 AND l.expires_on <= $2 AND (l.expiry_notice_for IS NULL OR l.expiry_notice_for <> l.expires_on)"
    )
    .bind(from)
    .bind(to)
    .fetch_one(c)
    .await)
    .map(|n| n > 0)
}

pub async fn mark_expiry_notice(tx: &mut Tx, id: &str, expires_on: &str) -> StoreResult<()> {
    tx.execute("UPDATE account_licences SET expiry_notice_for = $2 WHERE id = $1", args![id, expires_on]).await?;
    Ok(())
}

/// Licences staff should look at: expiring up to `until` (expired ones included, from `since`),
/// or not verified yet; in the accounts `account_ids` only when given (a rep's book).
pub async fn needing_attention(
    db: &Db,
    since: &str,
    until: &str,
    book_of: Option<&str>,
) -> StoreResult<Vec<AttentionRow>> {
    let sql = format!(
        "SELECT {COLUMNS}, a.name AS account_name, a.number AS account_number
         FROM {FROM} JOIN accounts a ON a.id = l.account_id
         WHERE ((l.expires_on >= $1 AND l.expires_on <= $2) OR (l.verified_at IS NULL AND l.expires_on >= $1))
           AND ($3 = '' OR a.owner_rep_id = $3)
         ORDER BY l.expires_on, l.id LIMIT 500"
    );
    let book = book_of.unwrap_or("");
    on_db!(db, |c| sqlx::query_as::<_, AttentionRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(since)
        .bind(until)
        .bind(book)
        .fetch_all(c)
        .await)
}

/// How many licences expire from `today` to `until` (ISO dates), for the staff badge.
pub async fn count_expiring(db: &Db, today: &str, until: &str, book_of: Option<&str>) -> StoreResult<i64> {
    let book = book_of.unwrap_or("");
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM account_licences l JOIN accounts a ON a.id = l.account_id
         WHERE l.expires_on >= $1 AND l.expires_on <= $2 AND ($3 = '' OR a.owner_rep_id = $3)"
    )
    .bind(today)
    .bind(until)
    .bind(book)
    .fetch_one(c)
    .await)
}

// ---- Rules ----

const RULE_COLUMNS: &str = "id, regulated_class, licence_type, region, require_verified, created_at";

pub async fn rules(db: &Db) -> StoreResult<Vec<RuleRow>> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM licence_rules ORDER BY regulated_class, licence_type, region");
    on_db!(db, |c| sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)
}

pub async fn insert_rule(
    tx: &mut Tx,
    id: &str,
    class: &str,
    licence_type: &str,
    region: &str,
    require_verified: bool,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO licence_rules (id, regulated_class, licence_type, region, require_verified, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        args![id, class, licence_type, region, require_verified, now],
    )
    .await?;
    Ok(())
}

pub async fn get_rule_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<RuleRow>> {
    let rows =
        tx.lock::<RuleRow>(&format!("SELECT {RULE_COLUMNS} FROM licence_rules WHERE id = $1"), args![id]).await?;
    Ok(rows.into_iter().next())
}

pub async fn delete_rule(tx: &mut Tx, id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM licence_rules WHERE id = $1", args![id]).await?;
    Ok(())
}

/// The ship-to state of an order: the named ship-to of the account, else its default (or first)
/// ship-to, else its billing state; '' when none is known.
pub async fn destination_region(db: &Db, account_id: &str, ship_to_id: Option<&str>) -> StoreResult<String> {
    let ship_to = ship_to_id.unwrap_or("");
    on_db!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT COALESCE(
             (SELECT region FROM ship_tos WHERE account_id = $1 AND id = $2),
             (SELECT region FROM ship_tos WHERE account_id = $1 ORDER BY is_default DESC, created_at, id LIMIT 1),
             (SELECT bill_region FROM accounts WHERE id = $1),
             '')"
    )
    .bind(account_id)
    .bind(ship_to)
    .fetch_one(c)
    .await)
}
