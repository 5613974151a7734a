//! Users: seller staff and account (buyer) users share one table; `kind` tells them apart.

use super::{Db, StoreResult, Tx};
use crate::domain::auth::{BuyerRole, Principal, StaffRole};
use crate::{args, on_db};

#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub kind: String,
    pub roles: String,
    pub account_id: Option<String>,
    pub password_hash: Option<String>,
    #[serde(deserialize_with = "super::bool_from_json")]
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub password_changed_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
}

const COLUMNS: &str = "id, email, name, phone, kind, roles, account_id, password_hash, active, created_at, updated_at, password_changed_at, last_sign_in_at";

impl UserRow {
    pub fn is_staff(&self) -> bool {
        self.kind == "staff"
    }

    pub fn staff_roles(&self) -> Vec<StaffRole> {
        if self.is_staff() { StaffRole::parse_list(&self.roles) } else { Vec::new() }
    }

    pub fn buyer_role(&self) -> Option<BuyerRole> {
        if self.is_staff() { None } else { BuyerRole::parse(&self.roles) }
    }

    pub fn role_labels(&self) -> String {
        match self.buyer_role() {
            Some(r) => r.label().to_string(),
            None => self.staff_roles().iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
        }
    }

    /// Whether the user has finished setting a password (accepted the invitation).
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }

    pub fn principal(&self) -> Option<Principal> {
        if self.is_staff() {
            Some(Principal::staff(self.id.clone(), self.name.clone(), self.email.clone(), self.staff_roles()))
        } else {
            Some(Principal::buyer(
                self.id.clone(),
                self.name.clone(),
                self.email.clone(),
                self.account_id.clone()?,
                self.buyer_role()?,
            ))
        }
    }
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub kind: &'a str,
    pub roles: &'a str,
    pub account_id: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO users (id, email, name, phone, kind, roles, account_id, password_hash, active, created_at, updated_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, $10)",
        args![
            u.id,
            u.email,
            u.name,
            u.phone,
            u.kind,
            u.roles,
            u.account_id,
            u.password_hash,
            u.now,
            u.password_hash.map(|_| u.now),
        ],
    )
    .await?;
    Ok(())
}

pub async fn find_by_email(db: &Db, email: &str) -> StoreResult<Option<UserRow>> {
    on_db!(db, |c| sqlx::query_as::<_, UserRow>(format_select("WHERE email = $1")).bind(email).fetch_optional(c).await)
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<UserRow>> {
    on_db!(db, |c| sqlx::query_as::<_, UserRow>(format_select("WHERE id = $1")).bind(id).fetch_optional(c).await)
}

/// Reads a user inside a write transaction, locking the row on PostgreSQL.
pub async fn get_for_update(tx: &mut Tx, id: &str) -> StoreResult<Option<UserRow>> {
    let rows = tx
        .lock::<UserRow>(
            "SELECT id, email, name, phone, kind, roles, account_id, password_hash, active, created_at, updated_at, password_changed_at, last_sign_in_at FROM users WHERE id = $1",
            args![id],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// The user holding an e-mail address, read inside a write transaction (an invitation decides
/// on it before inserting: a failed insert would end a PostgreSQL transaction).
pub async fn find_by_email_in(tx: &mut Tx, email: &str) -> StoreResult<Option<UserRow>> {
    tx.fetch_optional(
        "SELECT id, email, name, phone, kind, roles, account_id, password_hash, active, created_at, updated_at, password_changed_at, last_sign_in_at FROM users WHERE email = $1",
        args![email],
    )
    .await
}

/// All seller staff, by name.
pub async fn list_staff(db: &Db) -> StoreResult<Vec<UserRow>> {
    on_db!(db, |c| sqlx::query_as::<_, UserRow>(format_select("WHERE kind = 'staff' ORDER BY name, id"))
        .fetch_all(c)
        .await)
}

/// Active staff holding the sales rep role (owning reps to choose from).
pub async fn list_reps(db: &Db) -> StoreResult<Vec<UserRow>> {
    let staff = list_staff(db).await?;
    Ok(staff.into_iter().filter(|u| u.active && u.staff_roles().contains(&StaffRole::SalesRep)).collect())
}

/// The users of one account. The account id is the scope: callers pass the id they are allowed to see.
pub async fn list_for_account(db: &Db, account_id: &str) -> StoreResult<Vec<UserRow>> {
    on_db!(db, |c| sqlx::query_as::<_, UserRow>(format_select("WHERE account_id = $1 ORDER BY active DESC, name, id"))
        .bind(account_id)
        .fetch_all(c)
        .await)
}

/// An account's users changed at or after `since`, oldest change first, after the keyset `after`
/// (updated_at, id). The account id is the scope.
pub async fn account_users_changed_since(
    db: &Db,
    account_id: &str,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<UserRow>> {
    super::changed_rows(db, ("users", "u", COLUMNS), Some(account_id), since, after, limit).await
}

pub async fn count_active_managers(tx: &mut Tx, account_id: &str) -> StoreResult<i64> {
    tx.fetch_one::<i64>(
        "SELECT COUNT(*) FROM users WHERE account_id = $1 AND kind = 'buyer' AND roles = 'manager' AND active = TRUE",
        args![account_id],
    )
    .await
}

pub async fn set_roles(tx: &mut Tx, id: &str, roles: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1", args![id, roles, now]).await?;
    Ok(())
}

pub async fn set_profile(tx: &mut Tx, id: &str, name: &str, phone: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE users SET name = $2, phone = $3, updated_at = $4 WHERE id = $1", args![id, name, phone, now])
        .await?;
    Ok(())
}

/// The user's own time zone (`None`: the seller's); returns how many users changed (0: no such user).
pub async fn set_time_zone(tx: &mut Tx, id: &str, zone: Option<&str>, now: i64) -> StoreResult<u64> {
    tx.execute("UPDATE users SET time_zone = $2, updated_at = $3 WHERE id = $1", args![id, zone, now]).await
}

pub async fn set_active(tx: &mut Tx, id: &str, active: bool, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1", args![id, active, now]).await?;
    Ok(())
}

pub async fn set_password_hash(tx: &mut Tx, id: &str, hash: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1",
        args![id, hash, now],
    )
    .await?;
    Ok(())
}

pub async fn mark_signed_in(tx: &mut Tx, id: &str, now: i64) -> StoreResult<()> {
    tx.execute("UPDATE users SET last_sign_in_at = $2 WHERE id = $1", args![id, now]).await?;
    Ok(())
}

fn format_select(rest: &str) -> sqlx::AssertSqlSafe<String> {
    // Only static fragments are joined here; every value is a bind parameter.
    sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users {rest}"))
}
