//! Accounts (customer companies) and their ship-to locations.

use super::{Db, StoreResult, Tx, like_pattern};
use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::auth::AccountScope;
use crate::domain::money::Money;
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub number: String,
    pub name: String,
    pub status: String,
    pub ownership_mode: String,
    pub owner_rep_id: Option<String>,
    pub terms_days: i64,
    pub credit_limit: i64,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub po_required: bool,
    pub external_id: Option<String>,
    pub phone: String,
    pub bill_line1: String,
    pub bill_line2: String,
    pub bill_city: String,
    pub bill_region: String,
    pub bill_postal_code: String,
    pub bill_country: String,
    /// Counts terms_days from the end of the invoice's month ("EOM + N").
    #[serde(deserialize_with = "super::bool_from_json")]
    pub terms_from_month_end: bool,
    pub tax_exempt_certificate: String,
    pub tax_exempt_until: Option<String>,
    /// `hold` or `tell` (domain::credit::OverLimit).
    pub credit_over_limit: String,
    /// Hold orders while an invoice is overdue by more than this many days.
    pub overdue_hold_days: Option<i64>,
    /// The account group (its group's price lists and catalogs apply to it).
    #[serde(default)]
    pub group_id: Option<String>,
    /// The hand-over of the last change of owner (domain::commissions::Handover): the previous
    /// owner, until when (unix seconds), with what share (ppm). All None: none.
    #[serde(default)]
    pub handover_rep_id: Option<String>,
    #[serde(default)]
    pub handover_until: Option<i64>,
    #[serde(default)]
    pub handover_share_ppm: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A row of an accounts list: the account plus its owning rep's name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountListRow {
    pub id: String,
    pub number: String,
    pub name: String,
    pub status: String,
    pub ownership_mode: String,
    pub terms_days: i64,
    pub credit_limit: i64,
    pub bill_city: String,
    pub bill_region: String,
    pub owner_rep_name: Option<String>,
}

impl AccountRow {
    pub fn status(&self) -> AccountStatus {
        AccountStatus::parse(&self.status).unwrap_or(AccountStatus::OnHold)
    }
    pub fn ownership_mode(&self) -> OwnershipMode {
        OwnershipMode::parse(&self.ownership_mode).unwrap_or(OwnershipMode::Hybrid)
    }
    pub fn terms(&self) -> PaymentTerms {
        PaymentTerms::from_days(self.terms_days)
    }
    /// The terms as people read them: "Net 30 days", "Prepay", or "End of month + 10".
    pub fn terms_label(&self) -> String {
        if self.terms_from_month_end {
            crate::domain::invoicing::DueTerms::of(self.terms_days, true).label()
        } else {
            self.terms().label()
        }
    }
    pub fn credit_limit(&self) -> Money {
        Money::from_raw(self.credit_limit)
    }
    /// The hand-over of the last change of owner, if one was recorded (it may have ended).
    pub fn handover(&self) -> Option<crate::domain::commissions::Handover> {
        match (&self.handover_rep_id, self.handover_until, self.handover_share_ppm) {
            (Some(rep), Some(until), Some(share)) => {
                Some(crate::domain::commissions::Handover { rep_id: rep.clone(), until, share_ppm: share })
            }
            _ => None,
        }
    }
    /// The hand-over while it runs at `now` (with a share to split); None once it ended.
    pub fn running_handover(&self, now: i64) -> Option<crate::domain::commissions::Handover> {
        self.handover().filter(|h| h.until > now && h.share_ppm > 0)
    }
    pub fn bill_to(&self) -> Address {
        Address {
            line1: self.bill_line1.clone(),
            line2: self.bill_line2.clone(),
            city: self.bill_city.clone(),
            region: self.bill_region.clone(),
            postal_code: self.bill_postal_code.clone(),
            country: self.bill_country.clone(),
        }
    }
    /// The editable fields as stored: a draft that saves nothing new.
    pub fn draft(&self) -> AccountDraft {
        AccountDraft {
            name: self.name.clone(),
            status: self.status(),
            ownership_mode: self.ownership_mode(),
            owner_rep_id: self.owner_rep_id.clone(),
            terms: self.terms(),
            credit_limit: self.credit_limit(),
            po_required: self.po_required,
            external_id: self.external_id.clone(),
            phone: self.phone.clone(),
            bill_to: self.bill_to(),
        }
    }
}

impl AccountListRow {
    pub fn status_label(&self) -> &'static str {
        AccountStatus::parse(&self.status).map(|s| s.label()).unwrap_or("?")
    }
    pub fn mode_label(&self) -> &'static str {
        OwnershipMode::parse(&self.ownership_mode).map(|s| s.label()).unwrap_or("?")
    }
    pub fn terms_label(&self) -> String {
        PaymentTerms::from_days(self.terms_days).label()
    }
    pub fn credit_limit(&self) -> Money {
        Money::from_raw(self.credit_limit)
    }
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct ShipToRow {
    pub id: String,
    pub account_id: String,
    pub label: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub is_default: bool,
    /// The ERP's id of the location, unique within the account.
    #[serde(default)]
    pub external_id: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl ShipToRow {
    pub fn address(&self) -> Address {
        Address {
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
        }
    }
}

const COLUMNS: &str = "id, number, name, status, ownership_mode, owner_rep_id, terms_days, credit_limit, po_required, external_id, phone, bill_line1, bill_line2, bill_city, bill_region, bill_postal_code, bill_country, terms_from_month_end, tax_exempt_certificate, tax_exempt_until, credit_over_limit, overdue_hold_days, group_id, handover_rep_id, handover_until, handover_share_ppm, version, created_at, updated_at";

/// The account `filter` (a `WHERE …` clause and what follows it) selects, read as one JSON row
/// ([`super::fetch_json_rows`]: on SQLite on the caller's thread).
async fn get_where(db: &Db, filter: &str, binds: &[&str]) -> StoreResult<Option<AccountRow>> {
    let sql = format!(
        "SELECT {} FROM (SELECT {COLUMNS} FROM accounts {filter}) a",
        db.json_rows(&super::json_fields(COLUMNS), "")
    );
    Ok(super::fetch_json_rows(db, &sql, binds).await?.pop())
}

/// Accounts changed at or after `since`, oldest change first, after the keyset `after`
/// (updated_at, id): how an ERP pulls them. Staff-side: the caller checked the permission.
pub async fn changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<AccountRow>> {
    super::changed_rows(db, ("accounts", "a", COLUMNS), None, since, after, limit).await
}

/// The account with this external (ERP) id, locked for the unit that upserts it.
pub async fn by_external_id_for_update(tx: &mut Tx, external_id: &str) -> StoreResult<Option<AccountRow>> {
    let rows = tx
        .lock::<AccountRow>(&format!("SELECT {COLUMNS} FROM accounts WHERE external_id = $1"), args![external_id])
        .await?;
    Ok(rows.into_iter().next())
}

/// The editable fields of an account, in the order `insert` and `update` number them ($3…$17).
fn draft_cells(d: &AccountDraft) -> Vec<super::Cell> {
    args![
        d.name.trim(),
        d.status.as_str(),
        d.ownership_mode.as_str(),
        d.owner_rep_id.as_deref(),
        d.terms.days(),
        d.credit_limit.raw(),
        d.po_required,
        d.external_id.as_deref(),
        d.phone.trim(),
        d.bill_to.line1.trim(),
        d.bill_to.line2.trim(),
        d.bill_to.city.trim(),
        d.bill_to.region.trim(),
        d.bill_to.postal_code.trim(),
        d.bill_to.country.trim().to_uppercase(),
    ]
}

pub async fn insert(tx: &mut Tx, id: &str, number: &str, d: &AccountDraft, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO accounts (id, number, name, status, ownership_mode, owner_rep_id, terms_days, credit_limit, po_required, external_id, phone,
                               bill_line1, bill_line2, bill_city, bill_region, bill_postal_code, bill_country, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $18)",
        [args![id, number], draft_cells(d), args![now]].concat(),
    )
    .await?;
    Ok(())
}

/// Updates every editable field if the row is still at `expected_version`; returns false when it
/// is not (someone else saved first), so the caller can refuse a stale edit. `handover` is the
/// account's hand-over after the save (`service::commissions::handover_on_save`: every change of
/// the owning rep goes through here, so none can skip it).
pub async fn update(
    tx: &mut Tx,
    id: &str,
    expected_version: i64,
    d: &AccountDraft,
    handover: Option<&crate::domain::commissions::Handover>,
    now: i64,
) -> StoreResult<bool> {
    let done = tx
        .execute(
            "UPDATE accounts SET name = $3, status = $4, ownership_mode = $5, owner_rep_id = $6, terms_days = $7, credit_limit = $8,
                po_required = $9, external_id = $10, phone = $11, bill_line1 = $12, bill_line2 = $13, bill_city = $14,
                bill_region = $15, bill_postal_code = $16, bill_country = $17, version = version + 1, updated_at = $18,
                handover_rep_id = $19, handover_until = $20, handover_share_ppm = $21
         WHERE id = $1 AND version = $2",
            [
                args![id, expected_version],
                draft_cells(d),
                args![
                    now,
                    handover.map(|h| h.rep_id.as_str()),
                    handover.map(|h| h.until),
                    handover.map(|h| h.share_ppm)
                ],
            ]
            .concat(),
        )
        .await?;
    Ok(done == 1)
}

/// Finance's credit settings of an account (in the unit that also wrote its terms and limit).
pub async fn set_credit_settings(tx: &mut Tx, id: &str, c: &crate::domain::credit::CreditSettings) -> StoreResult<()> {
    tx.execute(
        "UPDATE accounts SET terms_from_month_end = $2, credit_over_limit = $3, overdue_hold_days = $4,
             tax_exempt_certificate = $5, tax_exempt_until = $6 WHERE id = $1",
        args![
            id,
            c.terms_from_month_end,
            c.over_limit.as_str(),
            c.overdue_hold_days,
            c.tax_exempt_certificate.trim(),
            c.tax_exempt_until.map(super::pricing::format_iso)
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<AccountRow>> {
    get_where(db, "WHERE id = $1", &[id]).await
}

pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<AccountRow>> {
    let rows = tx.lock::<AccountRow>(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"), args![id]).await?;
    Ok(rows.into_iter().next())
}

/// One page of accounts visible in `scope`, matching `term` (name, number or external id), ordered
/// by name, starting after the `(name, id)` key `after` (keyset pagination, never OFFSET).
pub async fn search(
    db: &Db,
    scope: AccountScope<'_>,
    term: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> StoreResult<Vec<AccountListRow>> {
    let (scope_sql, scope_val) = match scope {
        AccountScope::All => ("1 = 1 OR $1 = ''", ""),
        AccountScope::Book(rep) => ("a.owner_rep_id = $1", rep),
        AccountScope::One(id) => ("a.id = $1", id),
        AccountScope::None => return Ok(Vec::new()),
    };
    let pattern = like_pattern(term);
    let (after_name, after_id) = after.unwrap_or(("", ""));
    let sql = format!(
        "SELECT a.id, a.number, a.name, a.status, a.ownership_mode, a.terms_days, a.credit_limit, a.bill_city, a.bill_region,
                u.name AS owner_rep_name
         FROM accounts a LEFT JOIN users u ON u.id = a.owner_rep_id
         WHERE ({scope_sql})
           AND (LOWER(a.name) LIKE $2 ESCAPE '\\' OR LOWER(a.number) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(a.external_id, '')) LIKE $2 ESCAPE '\\')
           AND ($3 = '' OR a.name > $3 OR (a.name = $3 AND a.id > $4))
         ORDER BY a.name, a.id
         LIMIT $5"
    );
    // Only static fragments are interpolated; every value is a bind parameter.
    on_db!(db, |c| sqlx::query_as::<_, AccountListRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(scope_val)
        .bind(&pattern)
        .bind(after_name)
        .bind(after_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}

pub async fn count_in_scope(db: &Db, scope: AccountScope<'_>) -> StoreResult<i64> {
    match scope {
        AccountScope::All => {
            on_db!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts").fetch_one(c).await)
        }
        AccountScope::Book(rep) => {
            on_db!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts WHERE owner_rep_id = $1")
                .bind(rep)
                .fetch_one(c)
                .await)
        }
        AccountScope::One(_) => Ok(1),
        AccountScope::None => Ok(0),
    }
}

const SHIP_TO_COLUMNS: &str = "s.id, s.account_id, s.label, s.line1, s.line2, s.city, s.region, s.postal_code, s.country, s.is_default, s.external_id, s.created_at, s.updated_at";

pub async fn ship_tos(db: &Db, account_id: &str) -> StoreResult<Vec<ShipToRow>> {
    let fields = super::json_fields(SHIP_TO_COLUMNS);
    let sql = format!(
        "SELECT {} FROM ship_tos s WHERE s.account_id = $1",
        db.json_rows(&fields, "s.is_default DESC, s.label, s.id")
    );
    super::fetch_json_rows(db, &sql, &[account_id]).await
}

pub async fn ship_to_for_update(tx: &mut Tx, account_id: &str, id: &str) -> StoreResult<Option<ShipToRow>> {
    let rows = tx
        .lock::<ShipToRow>(
            &format!("SELECT {SHIP_TO_COLUMNS} FROM ship_tos s WHERE s.account_id = $1 AND s.id = $2"),
            args![account_id, id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Whether the account has any ship-to (its first becomes the default).
pub async fn has_ship_tos(tx: &mut Tx, account_id: &str) -> StoreResult<bool> {
    let one =
        tx.fetch_optional::<i64>("SELECT 1 FROM ship_tos WHERE account_id = $1 LIMIT 1", args![account_id]).await?;
    Ok(one.is_some())
}

/// The account's ship-to with this external (ERP) id, locked for the unit that upserts it.
pub async fn ship_to_by_external_id_for_update(
    tx: &mut Tx,
    account_id: &str,
    external_id: &str,
) -> StoreResult<Option<ShipToRow>> {
    let rows = tx
        .lock::<ShipToRow>(
            &format!("SELECT {SHIP_TO_COLUMNS} FROM ship_tos s WHERE s.account_id = $1 AND s.external_id = $2"),
            args![account_id, external_id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// An account's ship-tos changed at or after `since`, oldest change first, after the keyset
/// `after` (updated_at, id). The account id is the scope.
pub async fn ship_tos_changed_since(
    db: &Db,
    account_id: &str,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<ShipToRow>> {
    super::changed_rows(db, ("ship_tos", "s", SHIP_TO_COLUMNS), Some(account_id), since, after, limit).await
}

/// Sets a ship-to's label, address and external id (the default flag is [`set_default_ship_to`]'s).
pub async fn update_ship_to(
    tx: &mut Tx,
    account_id: &str,
    id: &str,
    label: &str,
    a: &Address,
    external_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE ship_tos SET label = $3, line1 = $4, line2 = $5, city = $6, region = $7, postal_code = $8, country = $9,
                external_id = $10, updated_at = $11
         WHERE account_id = $1 AND id = $2",
        args![
            account_id,
            id,
            label.trim(),
            a.line1.trim(),
            a.line2.trim(),
            a.city.trim(),
            a.region.trim(),
            a.postal_code.trim(),
            a.country.trim().to_uppercase(),
            external_id,
            now,
        ],
    )
    .await?;
    Ok(())
}

pub async fn insert_ship_to(
    tx: &mut Tx,
    id: &str,
    account_id: &str,
    label: &str,
    a: &Address,
    is_default: bool,
    now: i64,
) -> StoreResult<()> {
    if is_default {
        clear_default_ship_to(tx, account_id, now).await?;
    }
    tx.execute(
        "INSERT INTO ship_tos (id, account_id, label, line1, line2, city, region, postal_code, country, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        args![
            id,
            account_id,
            label.trim(),
            a.line1.trim(),
            a.line2.trim(),
            a.city.trim(),
            a.region.trim(),
            a.postal_code.trim(),
            a.country.trim().to_uppercase(),
            is_default,
            now,
        ],
    )
    .await?;
    Ok(())
}

// Changing the default flag is a change of both ship-tos (an ERP pulling them sees it).
async fn clear_default_ship_to(tx: &mut Tx, account_id: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE ship_tos SET is_default = FALSE, updated_at = $2 WHERE account_id = $1 AND is_default = TRUE",
        args![account_id, now],
    )
    .await?;
    Ok(())
}

pub async fn set_default_ship_to(tx: &mut Tx, account_id: &str, id: &str, now: i64) -> StoreResult<()> {
    clear_default_ship_to(tx, account_id, now).await?;
    tx.execute(
        "UPDATE ship_tos SET is_default = TRUE, updated_at = $3 WHERE account_id = $1 AND id = $2",
        args![account_id, id, now],
    )
    .await?;
    Ok(())
}

pub async fn delete_ship_to(tx: &mut Tx, account_id: &str, id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM ship_tos WHERE account_id = $1 AND id = $2", args![account_id, id]).await?;
    Ok(())
}

/// Makes the oldest remaining ship-to the default when the account has none (after a delete).
pub async fn ensure_default_ship_to(tx: &mut Tx, account_id: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE ship_tos SET is_default = TRUE
         WHERE id = (SELECT id FROM ship_tos WHERE account_id = $1 ORDER BY created_at, id LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM ship_tos WHERE account_id = $1 AND is_default = TRUE)",
        args![account_id],
    )
    .await?;
    Ok(())
}

/// An account group: its price lists and catalogs apply to its accounts.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const GROUP_COLUMNS: &str = "id, name, created_at, updated_at";

pub async fn insert_group(tx: &mut Tx, id: &str, name: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO account_groups (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        args![id, name, now],
    )
    .await?;
    Ok(())
}

/// Every account group, by name (a seller has a handful).
pub async fn groups(db: &Db) -> StoreResult<Vec<GroupRow>> {
    on_db!(db, |c| sqlx::query_as::<_, GroupRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM account_groups ORDER BY name, id"
    )))
    .fetch_all(c)
    .await)
}

/// Account groups changed at or after `since`, oldest change first, after the keyset `after`.
pub async fn groups_changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<GroupRow>> {
    super::changed_rows(db, ("account_groups", "g", GROUP_COLUMNS), None, since, after, limit).await
}

/// The group with this name, locked for the unit that upserts it.
pub async fn group_by_name_for_update(tx: &mut Tx, name: &str) -> StoreResult<Option<GroupRow>> {
    let rows = tx
        .lock::<GroupRow>(&format!("SELECT {GROUP_COLUMNS} FROM account_groups WHERE name = $1"), args![name])
        .await?;
    Ok(rows.into_iter().next())
}

/// The group with this id, locked for the unit that renames or deletes it.
pub async fn group_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<GroupRow>> {
    let rows =
        tx.lock::<GroupRow>(&format!("SELECT {GROUP_COLUMNS} FROM account_groups WHERE id = $1"), args![id]).await?;
    Ok(rows.into_iter().next())
}

/// Renames a group. Its accounts, and the catalogs and price lists assigned to it, name it in
/// what an ERP pulls: they are marked changed too.
pub async fn rename_group(tx: &mut Tx, id: &str, name: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE account_groups SET name = $2, updated_at = $3 WHERE id = $1", args![id, name, now]).await?;
    touch_group_members(tx, id, now).await
}

async fn touch_group_members(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE accounts SET updated_at = $2 WHERE group_id = $1", args![id, now]).await?;
    tx.execute(
        "UPDATE catalogs SET updated_at = $2 WHERE id IN (SELECT catalog_id FROM catalog_assignments WHERE group_id = $1)",
        args![id, now],
    )
    .await?;
    tx.execute(
        "UPDATE price_lists SET updated_at = $2
          WHERE id IN (SELECT price_list_id FROM price_list_assignments WHERE group_id = $1)",
        args![id, now],
    )
    .await?;
    Ok(())
}

/// What deleting a group took apart.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GroupDeleted {
    /// Accounts that were in it (now in no group).
    pub accounts: u64,
    /// Catalog and price list assignments to it (removed).
    pub catalogs: u64,
    pub price_lists: u64,
}

/// Deletes a group: its accounts leave it, its catalog and price list assignments go, and every
/// account, catalog and price list so changed is marked changed for the lists an ERP pulls.
pub async fn delete_group(tx: &mut Tx, id: &str, now: i64) -> StoreResult<GroupDeleted> {
    touch_group_members(tx, id, now).await?;
    let accounts = tx.execute("UPDATE accounts SET group_id = NULL WHERE group_id = $1", args![id]).await?;
    let catalogs = tx.execute("DELETE FROM catalog_assignments WHERE group_id = $1", args![id]).await?;
    let price_lists = tx.execute("DELETE FROM price_list_assignments WHERE group_id = $1", args![id]).await?;
    tx.execute("DELETE FROM account_groups WHERE id = $1", args![id]).await?;
    Ok(GroupDeleted { accounts, catalogs, price_lists })
}

pub async fn set_group(tx: &mut Tx, account_id: &str, group_id: Option<&str>) -> StoreResult<()> {
    tx.execute("UPDATE accounts SET group_id = $2 WHERE id = $1", args![account_id, group_id]).await?;
    Ok(())
}

/// An account by id, number (A-10001) or external (ERP) id — how integrations name accounts.
pub async fn find_by_reference(db: &Db, reference: &str) -> StoreResult<Option<AccountRow>> {
    get_where(db, "WHERE id = $1 OR number = $1 OR external_id = $1 ORDER BY id LIMIT 1", &[reference]).await
}

/// Every way integrations name accounts (id, number, ERP id) → account id.
pub async fn reference_index(db: &Db) -> StoreResult<std::collections::HashMap<String, String>> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT id, number, external_id FROM accounts"
    )
    .fetch_all(c)
    .await)?;
    let mut out = std::collections::HashMap::new();
    for (id, number, ext) in rows {
        if let Some(e) = ext {
            out.insert(e, id.clone());
        }
        out.insert(number, id.clone());
        out.insert(id.clone(), id);
    }
    Ok(out)
}

/// An account group's id by its name.
pub async fn group_by_name(db: &Db, name: &str) -> StoreResult<Option<String>> {
    on_db!(db, |c| sqlx::query_scalar::<_, String>("SELECT id FROM account_groups WHERE name = $1")
        .bind(name)
        .fetch_optional(c)
        .await)
}

/// An account group for the admin's list: how many accounts are in it, and how many catalogs and
/// price lists are assigned to it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub accounts: i64,
    pub catalogs: i64,
    pub price_lists: i64,
}

/// Every account group by name, with its counts (a seller has a handful).
pub async fn group_summaries(db: &Db) -> StoreResult<Vec<GroupSummary>> {
    on_db!(db, |c| sqlx::query_as::<_, GroupSummary>(
        "SELECT g.id, g.name,
            (SELECT COUNT(*) FROM accounts a WHERE a.group_id = g.id) AS accounts,
            (SELECT COUNT(*) FROM catalog_assignments ca WHERE ca.group_id = g.id) AS catalogs,
            (SELECT COUNT(*) FROM price_list_assignments pa WHERE pa.group_id = g.id) AS price_lists
         FROM account_groups g ORDER BY g.name, g.id"
    )
    .fetch_all(c)
    .await)
}

/// How far a seller has set up: how many of each thing an order needs exist.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct SetupCounts {
    pub warehouses: i64,
    pub categories: i64,
    pub products: i64,
    pub stocked: i64,
    pub catalogs: i64,
    pub price_lists: i64,
    pub accounts: i64,
    pub buyers: i64,
    /// 1 once the seller's name is set.
    pub seller: i64,
}

pub async fn setup_counts(db: &Db) -> StoreResult<SetupCounts> {
    on_db!(db, |c| sqlx::query_as::<_, SetupCounts>(
        "SELECT (SELECT COUNT(*) FROM warehouses) AS warehouses,
            (SELECT COUNT(*) FROM categories) AS categories,
            (SELECT COUNT(*) FROM products) AS products,
            (SELECT COUNT(*) FROM stock_levels WHERE on_hand > 0) AS stocked,
            (SELECT COUNT(*) FROM catalogs) AS catalogs,
            (SELECT COUNT(*) FROM price_lists) AS price_lists,
            (SELECT COUNT(*) FROM accounts) AS accounts,
            (SELECT COUNT(*) FROM users WHERE account_id IS NOT NULL) AS buyers,
            (SELECT COUNT(*) FROM settings WHERE key = 'seller.name' AND value <> '') AS seller"
    )
    .fetch_one(c)
    .await)
}

/// Every account (an account import resolves its rows against them once, not per row). Staff-side:
/// the caller checked the permission.
pub async fn all(db: &Db) -> StoreResult<Vec<AccountRow>> {
    let sql =
        format!("SELECT {} FROM (SELECT {COLUMNS} FROM accounts) a", db.json_rows(&super::json_fields(COLUMNS), ""));
    super::fetch_json_rows(db, &sql, &[]).await
}

/// Every ship-to of every account (a ship-to import resolves its rows against them once).
pub async fn all_ship_tos(db: &Db) -> StoreResult<Vec<ShipToRow>> {
    let sql = format!("SELECT {} FROM ship_tos s", db.json_rows(&super::json_fields(SHIP_TO_COLUMNS), ""));
    super::fetch_json_rows(db, &sql, &[]).await
}

/// A catalog or price list that applies to an account, and whether through its group.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Applied {
    pub id: String,
    pub name: String,
    pub via_group: bool,
}

/// What an account sees and pays: its group, the catalogs and price lists assigned to it or to its
/// group (by name), and the default catalog (what it sees when none is assigned).
#[derive(Clone, Debug, Default)]
pub struct Assortment {
    pub group: Option<String>,
    pub catalogs: Vec<Applied>,
    pub price_lists: Vec<Applied>,
    pub default_catalog: Option<String>,
}

pub async fn assortment(db: &Db, account_id: &str) -> StoreResult<Assortment> {
    let group = on_db!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT g.name FROM accounts a JOIN account_groups g ON g.id = a.group_id WHERE a.id = $1"
    )
    .bind(account_id)
    .fetch_optional(c)
    .await)?;
    let applied = |table: &str, key: &str, source: &str| {
        format!(
            "SELECT x.id, x.name, (MAX(CASE WHEN s.group_id IS NULL THEN 0 ELSE 1 END) = 1) AS via_group
               FROM {table} s JOIN {source} x ON x.id = s.{key}
              WHERE s.account_id = $1 OR s.group_id = (SELECT group_id FROM accounts WHERE id = $1)
              GROUP BY x.id, x.name ORDER BY x.name, x.id"
        )
    };
    let catalogs_sql = applied("catalog_assignments", "catalog_id", "catalogs");
    let catalogs = on_db!(db, |c| sqlx::query_as::<_, Applied>(sqlx::AssertSqlSafe(catalogs_sql.clone()))
        .bind(account_id)
        .fetch_all(c)
        .await)?;
    let lists_sql = applied("price_list_assignments", "price_list_id", "price_lists");
    let price_lists = on_db!(db, |c| sqlx::query_as::<_, Applied>(sqlx::AssertSqlSafe(lists_sql.clone()))
        .bind(account_id)
        .fetch_all(c)
        .await)?;
    let default_catalog = on_db!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT name FROM catalogs WHERE is_default ORDER BY id LIMIT 1"
    )
    .fetch_optional(c)
    .await)?;
    Ok(Assortment { group, catalogs, price_lists, default_catalog })
}
