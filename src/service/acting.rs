//! Staff acting for a customer account ("act for this account"): a rep or customer service orders
//! through the customer's own pages, and each order records `on_behalf_of`. Starting and ending it
//! change the staff member's session; the change and its audit row are one unit, so who acted for
//! which account, and when, can always be told.

use super::accounts::AccountRow;
use super::accounts::get_account;
use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::Permission;
use crate::store::{Db, Tx, sessions};
use serde_json::json;

/// Starts acting for an account in the actor's session `session_id_hash`. Only staff who may see
/// the account (a rep only their book; anyone else gets 404) and may order for customers (403).
/// Switching from another account ends that one first, with its own audit row.
pub async fn act_for_account(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    session_id_hash: &str,
    account_id: &str,
) -> ServiceResult<AccountRow> {
    if !actor.principal.is_staff() {
        return Err(ServiceError::NotFound);
    }
    let account = get_account(db, actor, account_id).await?;
    actor.require(Permission::OrderForCustomers)?;
    let unit = (now, actor.owned(), session_id_hash.to_string(), account.id.clone());
    db.write(unit, |tx, (now, actor, session, account_id)| {
        Box::pin(async move {
            let user_id = &actor.principal.user_id;
            let before = sessions::acting_for_update(tx, session, user_id).await?.ok_or(ServiceError::NotFound)?;
            if before.as_deref() == Some(account_id.as_str()) {
                return Ok(());
            }
            if let Some(previous) = &before {
                record(tx, *now, &actor.actor(), previous, false).await?;
            }
            sessions::set_acting(tx, session, Some(account_id)).await?;
            record(tx, *now, &actor.actor(), account_id, true).await
        })
    })
    .await?;
    Ok(account)
}

/// Stops acting for a customer in the actor's session; returns the account it acted for, if any
/// (nothing is written when it acted for nobody).
pub async fn stop_acting(db: &Db, now: i64, actor: &Actor<'_>, session_id_hash: &str) -> ServiceResult<Option<String>> {
    let unit = (now, actor.owned(), session_id_hash.to_string());
    db.write(unit, |tx, (now, actor, session)| {
        Box::pin(async move {
            let user_id = &actor.principal.user_id;
            let before = sessions::acting_for_update(tx, session, user_id).await?.ok_or(ServiceError::NotFound)?;
            let Some(account_id) = before else { return Ok(None) };
            sessions::set_acting(tx, session, None).await?;
            record(tx, *now, &actor.actor(), &account_id, false).await?;
            Ok(Some(account_id))
        })
    })
    .await
}

/// The audit row of a start or end, on the account (so its history shows it), naming the account
/// as the one acted for.
async fn record(tx: &mut Tx, now: i64, actor: &Actor<'_>, account_id: &str, started: bool) -> ServiceResult<()> {
    let actor = Actor { on_behalf_of: Some(account_id), ..*actor };
    let detail = Some(json!({ "account_id": account_id }));
    let object = ("account", account_id);
    match started {
        true => audit(tx, Some(&actor), now, "session.acting_started", object, None, detail).await,
        false => audit(tx, Some(&actor), now, "session.acting_ended", object, detail, None).await,
    }
}
