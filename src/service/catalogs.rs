//! Customer catalogs: which products an account may see and buy. The admin creates them and
//! changes their rules and assignments a step at a time on the pages; an ERP upserts a whole
//! catalog by its own id and pulls what changed since a time.
//!
//! Every change is one unit of work that writes the catalog, rebuilds the materialised membership
//! when what the catalog includes changed (`includes_all` or a rule), marks the catalog changed
//! for ERP pulls, and appends the audit row and the `catalog.*` event. Assignments decide nothing
//! about membership (visibility reads them per request), so assigning rebuilds nothing.

use super::account_sync::Upserted;
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit, names_nothing, text_problems};
use crate::domain::auth::Permission;
use crate::domain::catalog::Sku;
use crate::domain::customer_catalogs::{CatalogHeader, MAX_ASSIGNMENTS, MAX_RULES, RuleKind, duplicate_rules};
use crate::store::catalog_admin::{self as store, Header};
pub use crate::store::catalog_admin::{AssignmentRow, CatalogRow, CatalogSummary, RuleRow};
use crate::store::{Db, Tx, accounts, catalogs, categories, new_id, products};
use serde_json::{Value, json};

/// A catalog with its rules and assignments, as pages and the API show it.
#[derive(Clone, Debug)]
pub struct CatalogView {
    pub row: CatalogRow,
    pub rules: Vec<RuleRow>,
    pub assignments: Vec<AssignmentRow>,
}

/// Reading catalogs shows which accounts see what: catalog readers who may see every account.
fn require_read(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::ReadCatalog)?;
    actor.require(Permission::ViewAllAccounts)
}

fn require_manage(actor: &Actor<'_>) -> ServiceResult<()> {
    actor.require(Permission::ManageCatalog)?;
    actor.require(Permission::ViewAllAccounts)
}

/// Every catalog with its counts, for the admin's list.
pub async fn catalogs(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<CatalogSummary>> {
    require_manage(actor)?;
    Ok(store::summaries(db).await?)
}

/// One catalog with its rules and assignments, and how many products it holds.
pub async fn catalog(db: &Db, actor: &Actor<'_>, id: &str) -> ServiceResult<(CatalogView, i64)> {
    require_manage(actor)?;
    names_nothing(id)?;
    let row = store::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    let mut views = with_details(db, vec![row]).await?;
    let view = views.pop().ok_or(ServiceError::NotFound)?;
    let products = store::product_count(db, id).await?;
    Ok((view, products))
}

async fn with_details(db: &Db, rows: Vec<CatalogRow>) -> ServiceResult<Vec<CatalogView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut rules = store::rules_of(db, &ids).await?;
    let mut assignments = store::assignments_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) = rules.drain(..).partition(|r| r.catalog_id == row.id);
            rules = rest;
            let (given, rest): (Vec<_>, Vec<_>) = assignments.drain(..).partition(|a| a.catalog_id == row.id);
            assignments = rest;
            CatalogView { row, rules: mine, assignments: given }
        })
        .collect())
}

/// Catalogs changed at or after `since` (their header, rules or assignments), oldest change first.
pub async fn catalogs_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<CatalogView>> {
    require_read(actor)?;
    let rows = store::changed_since(db, since, after, limit).await?;
    with_details(db, rows).await
}

/// What a category or product rule names, as its id, or why it names nothing: a category by id
/// or path ("Medical / Gloves"), a product by SKU.
async fn rule_target(db: &Db, kind: RuleKind, target: &str) -> ServiceResult<Result<String, String>> {
    let target = target.trim();
    if target.is_empty() {
        let what = if kind.is_category() { "a category" } else { "a product's SKU" };
        return Ok(Err(format!("Choose {what}.")));
    }
    if kind.is_category() {
        let found = categories::categories(db).await?.into_iter().find(|c| c.id == target || c.path == target);
        return Ok(found.map(|c| c.id).ok_or_else(|| format!("No category “{target}”.")));
    }
    let Ok(sku) = Sku::parse(target) else {
        return Ok(Err(format!("No product has the SKU “{}”.", Sku::normalize(target))));
    };
    let found = products::get_by_sku(db, &sku).await?;
    Ok(found.map(|p| p.id).ok_or_else(|| format!("No product has the SKU “{sku}”.")))
}

/// An account by id, number or ERP id, or why there is none.
async fn account_target(db: &Db, reference: &str) -> ServiceResult<Result<String, String>> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Ok(Err("Name an account (its number, e.g. A-10001, or its ERP id).".into()));
    }
    Ok(accounts::find_by_reference(db, reference)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| format!("No account “{reference}” (use its number, e.g. A-10001, or its ERP id).")))
}

/// An account group by id or name, or why there is none.
async fn group_target(db: &Db, reference: &str) -> ServiceResult<Result<String, String>> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Ok(Err("Choose an account group.".into()));
    }
    let found = accounts::groups(db).await?.into_iter().find(|g| g.id == reference || g.name == reference);
    Ok(found.map(|g| g.id).ok_or_else(|| format!("No account group “{reference}”.")))
}

fn header_problems(h: &CatalogHeader) -> Vec<(String, String)> {
    let mut problems = text_problems(&[("name", &h.name)], &[]);
    if problems.is_empty() {
        problems.extend(h.problems());
    }
    problems
}

/// Creates a catalog (the admin's form): its header; rules and assignments follow on its page.
pub async fn create_catalog(db: &Db, now: i64, actor: &Actor<'_>, h: &CatalogHeader) -> ServiceResult<CatalogRow> {
    require_manage(actor)?;
    ServiceError::from_problems(header_problems(h))?;
    let unit = (new_id(), now, actor.owned(), h.clone());
    db.write(unit, |tx, (id, now, actor, h)| {
        Box::pin(async move {
            let name = h.name.trim();
            check_name_free(tx, name, id).await?;
            let header = Header { name, includes_all: h.includes_all, is_default: h.is_default };
            store::insert(tx, id, None, &header, *now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            record(tx, &actor.actor(), *now, "catalog.created", id, None).await?;
            store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)
        })
    })
    .await
}

async fn check_name_free(tx: &mut Tx, name: &str, id: &str) -> ServiceResult<()> {
    if store::named(tx, name, id).await? {
        return Err(ServiceError::invalid("name", format!("Another catalog is already named “{name}”.")));
    }
    Ok(())
}

/// One step of a catalog's page.
#[derive(Clone, Debug)]
pub enum CatalogChange {
    Header(CatalogHeader),
    /// Adds a rule; the target is a category (id or path) or a product's SKU.
    AddRule {
        kind: RuleKind,
        target: String,
    },
    RemoveRule {
        kind: RuleKind,
        target_id: String,
    },
    /// Assigns the catalog to an account (id, number or ERP id).
    AssignAccount(String),
    /// Assigns the catalog to an account group (id or name).
    AssignGroup(String),
    /// Takes an assignment (by its id) off.
    Unassign(String),
}

/// A [`CatalogChange`] with what it names resolved to ids, as its unit of work applies it.
enum Resolved {
    Header(CatalogHeader),
    AddRule(RuleKind, String),
    RemoveRule(RuleKind, String),
    Assign(Option<String>, Option<String>),
    Unassign(String),
}

/// Applies one change to a catalog: checked first (every problem names its field: `name`,
/// `target`, `account`, `group`), then written with its audit row and `catalog.updated` event.
pub async fn change_catalog(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    id: &str,
    change: CatalogChange,
) -> ServiceResult<CatalogRow> {
    require_manage(actor)?;
    names_nothing(id)?;
    // An unknown catalog is 404 whatever the change names (checked again in the unit).
    store::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    let invalid = |field: &str, message: String| Err(ServiceError::invalid(field, message));
    let resolved = match change {
        CatalogChange::Header(h) => {
            ServiceError::from_problems(header_problems(&h))?;
            Resolved::Header(h)
        }
        CatalogChange::AddRule { kind, target } => {
            super::check_texts(&[("target", &target)], &[])?;
            match rule_target(db, kind, &target).await? {
                Ok(t) => Resolved::AddRule(kind, t),
                Err(m) => return invalid("target", m),
            }
        }
        CatalogChange::RemoveRule { kind, target_id } => {
            names_nothing(&target_id)?;
            Resolved::RemoveRule(kind, target_id)
        }
        CatalogChange::AssignAccount(reference) => {
            super::check_texts(&[("account", &reference)], &[])?;
            match account_target(db, &reference).await? {
                Ok(a) => Resolved::Assign(Some(a), None),
                Err(m) => return invalid("account", m),
            }
        }
        CatalogChange::AssignGroup(reference) => {
            super::check_texts(&[("group", &reference)], &[])?;
            match group_target(db, &reference).await? {
                Ok(g) => Resolved::Assign(None, Some(g)),
                Err(m) => return invalid("group", m),
            }
        }
        CatalogChange::Unassign(assignment) => {
            names_nothing(&assignment)?;
            Resolved::Unassign(assignment)
        }
    };
    let unit = (id.to_string(), now, actor.owned(), resolved);
    db.write(unit, |tx, (id, now, actor, change)| Box::pin(write_change(tx, id, *now, actor, change))).await
}

async fn write_change(
    tx: &mut Tx,
    id: &str,
    now: i64,
    actor: &OwnedActor,
    change: &Resolved,
) -> ServiceResult<CatalogRow> {
    let before = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
    let before_json = snapshot(tx, id).await?;
    let (changed, rebuild) = match change {
        Resolved::Header(h) => {
            let name = h.name.trim();
            check_name_free(tx, name, id).await?;
            let same =
                (name, h.includes_all, h.is_default) == (before.name.as_str(), before.includes_all, before.is_default);
            if !same {
                let header = Header { name, includes_all: h.includes_all, is_default: h.is_default };
                store::update(tx, id, &header, now).await?;
            }
            (!same, h.includes_all != before.includes_all)
        }
        Resolved::AddRule(kind, target) => {
            let rules = store::rules_in(tx, id).await?;
            if rules.len() >= MAX_RULES {
                return Err(ServiceError::invalid("target", format!("A catalog holds at most {MAX_RULES} rules.")));
            }
            let exists = rules.iter().any(|r| r.rule == kind.as_str() && r.target_id == *target);
            if !exists {
                catalogs::add_catalog_rule(tx, id, kind.as_str(), target).await?;
            }
            (!exists, !exists)
        }
        Resolved::RemoveRule(kind, target) => {
            let n = store::delete_rule(tx, id, kind.as_str(), target).await?;
            (n > 0, n > 0)
        }
        Resolved::Assign(account, group) => {
            let added = store::add_assignment(tx, &new_id(), id, account.as_deref(), group.as_deref()).await?;
            (added, false)
        }
        Resolved::Unassign(assignment) => {
            let n = store::delete_assignment(tx, id, assignment).await?;
            (n > 0, false)
        }
    };
    if changed {
        if rebuild {
            catalogs::rebuild_catalog_membership(tx).await?;
        }
        store::touch(tx, id, now).await?;
        record(tx, &actor.actor(), now, "catalog.updated", id, Some(before_json)).await?;
    }
    store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)
}

/// How a catalog is named: by its id (pages) or by the ERP's id (the API).
#[derive(Clone, Copy, Debug)]
pub enum CatalogKey<'a> {
    Id(&'a str),
    External(&'a str),
}

/// Deletes a catalog with its rules and assignments (its accounts and groups see their other
/// catalogs, or the default one); audited, `catalog.deleted` carries it as it was. The default
/// catalog cannot go: every account without a catalog of its own sees it.
pub async fn delete_catalog(db: &Db, now: i64, actor: &Actor<'_>, key: CatalogKey<'_>) -> ServiceResult<String> {
    require_manage(actor)?;
    let (key, by_external) = match key {
        CatalogKey::Id(id) => (id, false),
        CatalogKey::External(x) => (x, true),
    };
    names_nothing(key)?;
    db.write((key.to_string(), by_external, now, actor.owned()), |tx, (key, by_external, now, actor)| {
        Box::pin(async move {
            let row = if *by_external {
                store::by_external_for_update(tx, key).await?
            } else {
                store::get_for_update(tx, key).await?
            };
            let row = row.ok_or(ServiceError::NotFound)?;
            let id = row.id.as_str();
            if row.is_default {
                return Err(ServiceError::Conflict(format!(
                    "“{}” is the default catalog: every account without a catalog of its own sees it. \
                     Make another catalog the default first.",
                    row.name
                )));
            }
            let before = snapshot(tx, id).await?;
            store::delete(tx, id).await?;
            audit(tx, Some(&actor.actor()), *now, "catalog.deleted", ("catalog", id), Some(before.clone()), None)
                .await?;
            crate::store::audit::enqueue(tx, "catalog.deleted", &before, *now).await?;
            Ok(row.name.clone())
        })
    })
    .await
}

/// A whole catalog as an ERP sends it, keyed by the ERP's id.
#[derive(Clone, Debug)]
pub struct CatalogDoc {
    pub name: String,
    pub includes_all: bool,
    /// `None` keeps the current flag (false for a new catalog).
    pub is_default: Option<bool>,
    /// (kind, target): a category path or id, or a product's SKU. Replaces every rule.
    pub rules: Vec<(String, String)>,
    /// Accounts (id, number or ERP id) and groups (by name); `None` keeps the current ones.
    pub accounts: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
}

/// A [`CatalogDoc`] with every reference resolved to ids.
struct DocWrite {
    external_id: String,
    name: String,
    includes_all: bool,
    is_default: Option<bool>,
    rules: Vec<(String, String)>,
    accounts: Option<Vec<String>>,
    groups: Option<Vec<String>>,
}

/// Creates or replaces the catalog with this ERP id: header, every rule and (when named) every
/// assignment. Every bad field is reported at once (`rules[2].target`, `accounts[0]`) and nothing
/// changes; a document equal to what is stored writes nothing.
pub async fn upsert_catalog(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    external_id: &str,
    d: &CatalogDoc,
) -> ServiceResult<Upserted<CatalogView>> {
    require_manage(actor)?;
    let mut texts = text_problems(&[("external_id", external_id), ("name", &d.name)], &[]);
    for (i, (kind, target)) in d.rules.iter().enumerate() {
        texts.extend(text_problems(
            &[(&format!("rules[{i}].rule"), kind), (&format!("rules[{i}].target"), target)],
            &[],
        ));
    }
    for (i, a) in d.accounts.iter().flatten().enumerate() {
        texts.extend(text_problems(&[(&format!("accounts[{i}]"), a)], &[]));
    }
    for (i, g) in d.groups.iter().flatten().enumerate() {
        texts.extend(text_problems(&[(&format!("groups[{i}]"), g)], &[]));
    }
    ServiceError::from_problems(texts)?;
    let mut problems: Vec<(String, String)> = Vec::new();
    let external_id = external_id.trim();
    if external_id.is_empty() || external_id.chars().count() > 64 {
        problems.push(("external_id".into(), "An external id is 1 to 64 characters.".into()));
    }
    let header = CatalogHeader { name: d.name.clone(), includes_all: d.includes_all, is_default: false };
    problems.extend(header.problems());
    if d.rules.len() > MAX_RULES {
        problems.push(("rules".into(), format!("A catalog holds at most {MAX_RULES} rules.")));
    }
    let assigned = d.accounts.as_ref().map_or(0, Vec::len) + d.groups.as_ref().map_or(0, Vec::len);
    if assigned > MAX_ASSIGNMENTS {
        problems.push(("accounts".into(), format!("A catalog is assigned to at most {MAX_ASSIGNMENTS} at once.")));
    }
    ServiceError::from_problems(problems.clone())?;
    let mut rules = Vec::new();
    let mut kinds = Vec::new();
    for (i, (kind, target)) in d.rules.iter().enumerate() {
        let Some(k) = RuleKind::parse(kind) else {
            problems.push((
                format!("rules[{i}].rule"),
                format!(
                    "“{}” is not a rule: use include_category, exclude_category, include_product or exclude_product.",
                    kind.chars().take(40).collect::<String>()
                ),
            ));
            continue;
        };
        match rule_target(db, k, target).await? {
            Ok(t) => {
                kinds.push((k, t.clone()));
                rules.push((k.as_str().to_string(), t));
            }
            Err(m) => problems.push((format!("rules[{i}].target"), m)),
        }
    }
    for i in duplicate_rules(&kinds) {
        problems.push(("rules".into(), format!("Rule {} repeats an earlier rule.", i + 1)));
    }
    let accounts = resolve_refs(db, "accounts", &d.accounts, false, &mut problems).await?;
    let groups = resolve_refs(db, "groups", &d.groups, true, &mut problems).await?;
    ServiceError::from_problems(problems)?;
    let unit = DocWrite {
        external_id: external_id.to_string(),
        name: d.name.trim().to_string(),
        includes_all: d.includes_all,
        is_default: d.is_default,
        rules,
        accounts,
        groups,
    };
    let written =
        db.write((now, actor.owned(), unit), |tx, (now, actor, u)| Box::pin(write_doc(tx, *now, actor, u))).await?;
    let view = with_details(db, vec![written.row]).await?.pop().ok_or(ServiceError::NotFound)?;
    Ok(Upserted { row: view, created: written.created, changed: written.changed })
}

/// Accounts or groups a document names, as ids without repeats; unknown ones become problems.
async fn resolve_refs(
    db: &Db,
    field: &str,
    refs: &Option<Vec<String>>,
    group: bool,
    problems: &mut Vec<(String, String)>,
) -> ServiceResult<Option<Vec<String>>> {
    let Some(refs) = refs else { return Ok(None) };
    let mut ids = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let found = if group { group_target(db, r).await? } else { account_target(db, r).await? };
        match found {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(m) => problems.push((format!("{field}[{i}]"), m)),
        }
    }
    Ok(Some(ids))
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

async fn write_doc(tx: &mut Tx, now: i64, actor: &OwnedActor, u: &DocWrite) -> ServiceResult<Upserted<CatalogRow>> {
    let existing = store::by_external_for_update(tx, &u.external_id).await?;
    let id = existing.as_ref().map(|c| c.id.clone()).unwrap_or_else(new_id);
    check_name_free(tx, &u.name, &id).await?;
    let is_default = u.is_default.unwrap_or(existing.as_ref().is_some_and(|c| c.is_default));
    let header = Header { name: &u.name, includes_all: u.includes_all, is_default };
    let Some(before) = existing else {
        store::insert(tx, &id, Some(&u.external_id), &header, now).await?;
        store::replace_rules(tx, &id, &u.rules).await?;
        let (accounts, groups) = (u.accounts.clone().unwrap_or_default(), u.groups.clone().unwrap_or_default());
        store::replace_assignments(tx, &id, &accounts, &groups).await?;
        catalogs::rebuild_catalog_membership(tx).await?;
        record(tx, &actor.actor(), now, "catalog.created", &id, None).await?;
        let row = store::get_for_update(tx, &id).await?.ok_or(ServiceError::NotFound)?;
        return Ok(Upserted { row, created: true, changed: true });
    };
    let old_rules: Vec<(String, String)> =
        store::rules_in(tx, &id).await?.into_iter().map(|r| (r.rule, r.target_id)).collect();
    let old_assignments = store::assignments_in(tx, &id).await?;
    let old_accounts: Vec<String> = old_assignments.iter().filter_map(|a| a.account_id.clone()).collect();
    let old_groups: Vec<String> = old_assignments.iter().filter_map(|a| a.group_id.clone()).collect();
    let header_same =
        (u.name.as_str(), u.includes_all, is_default) == (before.name.as_str(), before.includes_all, before.is_default);
    let rules_same = sorted(&u.rules) == sorted(&old_rules);
    let accounts_same = u.accounts.as_ref().is_none_or(|a| sorted(a) == sorted(&old_accounts));
    let groups_same = u.groups.as_ref().is_none_or(|g| sorted(g) == sorted(&old_groups));
    if header_same && rules_same && accounts_same && groups_same {
        return Ok(Upserted { row: before, created: false, changed: false });
    }
    let before_json = snapshot(tx, &id).await?;
    store::update(tx, &id, &header, now).await?;
    if !rules_same {
        store::replace_rules(tx, &id, &u.rules).await?;
    }
    if !(accounts_same && groups_same) {
        let accounts = u.accounts.clone().unwrap_or(old_accounts);
        let groups = u.groups.clone().unwrap_or(old_groups);
        store::replace_assignments(tx, &id, &accounts, &groups).await?;
    }
    if !rules_same || u.includes_all != before.includes_all {
        catalogs::rebuild_catalog_membership(tx).await?;
    }
    record(tx, &actor.actor(), now, "catalog.updated", &id, Some(before_json)).await?;
    let row = store::get_for_update(tx, &id).await?.ok_or(ServiceError::NotFound)?;
    Ok(Upserted { row, created: false, changed: true })
}

/// A catalog as its audit rows and events carry it: header, rules by what they name, and
/// assignments by account number and group name.
async fn snapshot(tx: &mut Tx, id: &str) -> ServiceResult<Value> {
    let row = store::get_for_update(tx, id).await?.ok_or(ServiceError::NotFound)?;
    let rules: Vec<Value> = store::rules_in(tx, id)
        .await?
        .into_iter()
        .map(|r| json!({ "rule": r.rule, "target": r.target.unwrap_or(r.target_id) }))
        .collect();
    let assignments = store::assignments_in(tx, id).await?;
    let accounts: Vec<&str> = assignments.iter().filter_map(|a| a.account_number.as_deref()).collect();
    let groups: Vec<&str> = assignments.iter().filter_map(|a| a.group_name.as_deref()).collect();
    Ok(json!({
        "id": row.id, "external_id": row.external_id, "name": row.name, "includes_all": row.includes_all,
        "default": row.is_default, "rules": rules, "accounts": accounts, "groups": groups,
    }))
}

/// The audit row and the outbox event of a change, inside its unit.
async fn record(
    tx: &mut Tx,
    actor: &Actor<'_>,
    now: i64,
    action: &str,
    id: &str,
    before: Option<Value>,
) -> ServiceResult<()> {
    let after = snapshot(tx, id).await?;
    audit(tx, Some(actor), now, action, ("catalog", id), before, Some(after.clone())).await?;
    crate::store::audit::enqueue(tx, action, &after, now).await?;
    Ok(())
}
