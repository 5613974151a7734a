//! Price lists as the admin keeps them on the pricing pages: created (the base list, or one for
//! accounts and groups), and assigned to an account or a group — or taken off — one at a time.
//! Each change is one unit with its audit row and the `prices.changed` event, like the ERP's
//! whole-document upserts in [`super::price_admin`].

use super::{Actor, FieldError, ServiceError, ServiceResult, audit, check_texts, names_nothing};
use crate::domain::auth::Permission;
use crate::domain::input::{MAX_PRIORITY, check_range};
pub use crate::store::pricing::PriceListRow;
use crate::store::pricing::{self, NewPriceList};
use crate::store::{Db, accounts, new_id};
use serde_json::json;

/// A new price list as the admin's form sends it.
#[derive(Clone, Debug)]
pub struct NewListForm {
    pub code: String,
    pub name: String,
    pub priority: i64,
    /// Make it the base list (it applies to everyone); only while there is none.
    pub base: bool,
}

/// Creates a price list from the pricing page (prices and assignments follow on its page): a code
/// that exists, or a second base list, is refused naming the field.
pub async fn create_price_list(db: &Db, now: i64, actor: &Actor<'_>, f: &NewListForm) -> ServiceResult<PriceListRow> {
    actor.require(Permission::ManagePrices)?;
    check_texts(&[("code", &f.code), ("name", &f.name)], &[])?;
    let mut problems = Vec::new();
    let code = f.code.trim().to_uppercase();
    if code.is_empty() || code.chars().count() > 32 {
        problems.push(FieldError {
            field: "code".into(),
            message: "A code is 1 to 32 characters (e.g. BASE, EAST).".into(),
        });
    }
    if f.name.trim().is_empty() || f.name.trim().chars().count() > 200 {
        problems.push(FieldError { field: "name".into(), message: "A name is 1 to 200 characters.".into() });
    }
    if let Err(e) = check_range(f.priority, 0, MAX_PRIORITY) {
        problems.push(FieldError { field: "priority".into(), message: format!("Priority: {e}.") });
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let unit = (new_id(), now, actor.owned(), code, f.name.trim().to_string(), f.priority, f.base);
    db.write(unit, |tx, (id, now, actor, code, name, priority, base)| {
        Box::pin(async move {
            if pricing::price_list_by_code_in(tx, code).await? {
                return Err(ServiceError::invalid("code", format!("A price list with code {code} already exists.")));
            }
            if *base && pricing::base_list_exists_in(tx).await? {
                return Err(ServiceError::invalid(
                    "base",
                    "There is a base list already; this one can apply to accounts and groups.",
                ));
            }
            let h =
                NewPriceList { id, code, name, is_base: *base, priority: *priority, valid_from: None, valid_to: None };
            pricing::insert_price_list(tx, &h, *now).await?;
            let summary = json!({ "code": code, "name": name, "base": base, "prices": 0 });
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "price_list.created",
                ("price_list", id),
                None,
                Some(summary.clone()),
            )
            .await?;
            crate::store::audit::enqueue(tx, "prices.changed", &summary, *now).await?;
            Ok(PriceListRow {
                id: id.clone(),
                code: code.clone(),
                name: name.clone(),
                is_base: *base,
                priority: *priority,
                valid_from: None,
                valid_to: None,
            })
        })
    })
    .await
}

/// Assigns a price list to one more account (id, number or ERP id) or account group (id or name)
/// from its page; the base list applies to everyone and takes none.
pub async fn assign_price_list(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    account: Option<&str>,
    group: Option<&str>,
) -> ServiceResult<bool> {
    actor.require(Permission::ManagePrices)?;
    names_nothing(code)?;
    check_texts(&[("account", account.unwrap_or("")), ("group", group.unwrap_or(""))], &[])?;
    let list = pricing::price_list_by_code(db, code).await?.ok_or(ServiceError::NotFound)?;
    let field = if group.is_some() { "group" } else { "account" };
    if list.is_base {
        return Err(ServiceError::invalid(field, "The base list applies to everyone; it takes no assignments."));
    }
    let (account_id, group_id) = match (account.map(str::trim), group.map(str::trim)) {
        (Some(a), _) if !a.is_empty() => match accounts::find_by_reference(db, a).await? {
            Some(acc) => (Some(acc.id), None),
            None => {
                return Err(ServiceError::invalid(
                    "account",
                    format!("No account “{a}” (use its number, e.g. A-10001)."),
                ));
            }
        },
        (_, Some(g)) if !g.is_empty() => {
            match accounts::groups(db).await?.into_iter().find(|x| x.id == g || x.name == g) {
                Some(x) => (None, Some(x.id)),
                None => return Err(ServiceError::invalid("group", format!("No account group “{g}”."))),
            }
        }
        _ => return Err(ServiceError::invalid(field, "Name an account or choose a group.")),
    };
    let unit = (new_id(), now, actor.owned(), list.id, list.code, account_id, group_id);
    db.write(unit, |tx, (id, now, actor, list_id, list_code, account_id, group_id)| {
        Box::pin(async move {
            let added =
                pricing::add_assignment_once(tx, id, list_id, account_id.as_deref(), group_id.as_deref()).await?;
            if added {
                pricing::touch_price_list(tx, list_id, *now).await?;
                let summary = json!({ "code": list_code, "account_id": account_id, "group_id": group_id });
                audit(
                    tx,
                    Some(&actor.actor()),
                    *now,
                    "price_list.assigned",
                    ("price_list", list_id),
                    None,
                    Some(summary.clone()),
                )
                .await?;
                crate::store::audit::enqueue(tx, "prices.changed", &summary, *now).await?;
            }
            Ok(added)
        })
    })
    .await
}

/// Takes one assignment (by id) off a price list, from its page; an unknown one is 404.
pub async fn unassign_price_list(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    assignment_id: &str,
) -> ServiceResult<()> {
    actor.require(Permission::ManagePrices)?;
    names_nothing(code)?;
    names_nothing(assignment_id)?;
    let list = pricing::price_list_by_code(db, code).await?.ok_or(ServiceError::NotFound)?;
    let unit = (now, actor.owned(), list.id, list.code, assignment_id.to_string());
    db.write(unit, |tx, (now, actor, list_id, list_code, assignment_id)| {
        Box::pin(async move {
            if pricing::delete_assignment(tx, list_id, assignment_id).await? == 0 {
                return Err(ServiceError::NotFound);
            }
            pricing::touch_price_list(tx, list_id, *now).await?;
            let summary = json!({ "code": list_code, "unassigned": assignment_id });
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "price_list.unassigned",
                ("price_list", list_id),
                None,
                Some(summary.clone()),
            )
            .await?;
            crate::store::audit::enqueue(tx, "prices.changed", &summary, *now).await?;
            Ok(())
        })
    })
    .await
}
