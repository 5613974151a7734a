//! Warehouses: created and changed by code (an ERP's key; the admin's too), listed by what
//! changed since a time. A seller installing Portico from an empty database needs somewhere to
//! put stock.

use super::account_sync::Upserted;
use super::{Actor, ServiceError, ServiceResult, audit, check_texts};
use crate::domain::auth::Permission;
pub use crate::store::warehouses::WarehouseRow;
use crate::store::{Db, new_id, warehouses};

/// Creates or updates the warehouse with this code; audited. The same name and sort again write
/// nothing.
pub async fn upsert_warehouse(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    name: &str,
    sort: i64,
) -> ServiceResult<Upserted<WarehouseRow>> {
    write_warehouse(db, now, actor, code, name, sort, Mode::Upsert).await
}

/// Creates a warehouse (the admin's form): a code another warehouse has, in any case, is refused.
pub async fn create_warehouse(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    name: &str,
    sort: i64,
) -> ServiceResult<WarehouseRow> {
    Ok(write_warehouse(db, now, actor, code, name, sort, Mode::Create).await?.row)
}

/// Renames or re-sorts the warehouse with this code (the admin's form); an unknown code is 404.
pub async fn update_warehouse(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    name: &str,
    sort: i64,
) -> ServiceResult<Upserted<WarehouseRow>> {
    super::names_nothing(code)?;
    write_warehouse(db, now, actor, code, name, sort, Mode::Update).await
}

/// Every warehouse, in their sort order, for the admin's list.
pub async fn warehouses(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<WarehouseRow>> {
    actor.require(Permission::ManageStock)?;
    Ok(warehouses::all(db).await?)
}

/// One warehouse by code, for its edit form.
pub async fn warehouse(db: &Db, actor: &Actor<'_>, code: &str) -> ServiceResult<WarehouseRow> {
    actor.require(Permission::ManageStock)?;
    super::names_nothing(code)?;
    warehouses::all(db).await?.into_iter().find(|w| w.code == code).ok_or(ServiceError::NotFound)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Upsert,
    Create,
    Update,
}

async fn write_warehouse(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    name: &str,
    sort: i64,
    mode: Mode,
) -> ServiceResult<Upserted<WarehouseRow>> {
    actor.require(Permission::ManageStock)?;
    check_texts(&[("code", code), ("name", name)], &[])?;
    let (code, name) = (code.trim().to_string(), name.trim().to_string());
    let mut problems = Vec::new();
    if code.is_empty() || code.chars().count() > 32 {
        problems.push(("code".to_string(), "A warehouse code is 1 to 32 characters.".to_string()));
    }
    if name.is_empty() || name.chars().count() > 100 {
        problems.push(("name".to_string(), "A warehouse name is 1 to 100 characters.".to_string()));
    }
    if let Err(e) = crate::domain::input::check_range(sort, 0, crate::domain::input::MAX_SORT) {
        problems.push(("sort".to_string(), format!("sort: {e}.")));
    }
    ServiceError::from_problems(problems)?;
    if mode == Mode::Create && warehouses::all(db).await?.iter().any(|w| w.code.eq_ignore_ascii_case(&code)) {
        return Err(ServiceError::invalid("code", format!("A warehouse with code “{code}” already exists.")));
    }
    db.write((new_id(), now, actor.owned(), code, name, sort), move |tx, (id, now, actor, code, name, sort)| {
        Box::pin(async move {
            let actor = actor.actor();
            let (created, id, before) = match warehouses::by_code_for_update(tx, code).await? {
                Some(_) if mode == Mode::Create => {
                    return Err(ServiceError::invalid(
                        "code",
                        format!("A warehouse with code “{code}” already exists."),
                    ));
                }
                Some(w) if w.name == *name && w.sort == *sort => {
                    return Ok(Upserted { row: w, created: false, changed: false });
                }
                Some(w) => {
                    warehouses::update(tx, &w.id, name, *sort, *now).await?;
                    (false, w.id.clone(), serde_json::to_value(&w).ok())
                }
                None if mode == Mode::Update => return Err(ServiceError::NotFound),
                None => {
                    warehouses::insert(tx, id, code, name, *sort, *now).await?;
                    (true, id.clone(), None)
                }
            };
            let row = warehouses::get_for_update(tx, &id).await?.ok_or(ServiceError::NotFound)?;
            let action = if created { "warehouse.created" } else { "warehouse.updated" };
            audit(tx, Some(&actor), *now, action, ("warehouse", &id), before, serde_json::to_value(&row).ok()).await?;
            let event = serde_json::json!({ "id": row.id, "code": row.code, "name": row.name, "sort": row.sort });
            crate::store::audit::enqueue(tx, action, &event, *now).await?;
            Ok(Upserted { row, created, changed: true })
        })
    })
    .await
}

/// Warehouses changed at or after `since`, oldest change first, after the keyset `after`.
pub async fn warehouses_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<WarehouseRow>> {
    actor.require(Permission::ReadCatalog)?;
    Ok(warehouses::changed_since(db, since, after, limit).await?)
}
