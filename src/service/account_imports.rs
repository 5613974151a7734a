//! Account and ship-to CSV imports (columns: `domain::import_accounts`), all-or-nothing like every
//! import: the whole file is checked first under the account rules of the pages and the API, every
//! bad row reported (line, column, reason); a clean file is written in one transaction, with the
//! audit rows and the `account.*` / `ship_to.*` events each change raises. Accounts are keyed by
//! number, or by external id for a row without one (a new account gets the next number); ship-tos
//! by id, or by external id within their account. Rows equal to what is stored write nothing, so
//! re-importing an export changes nothing.

use super::accounts::{insert_account, record_update, ship_to_event, ship_to_problems, stale};
use super::imports::{CsvFile, ImportError, Progress};
use super::{Actor, OwnedActor, ServiceError, ServiceResult, audit};
use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::auth::{Permission, StaffRole};
use crate::domain::import::RowError;
use crate::domain::import_accounts::{
    ACCOUNT_COLUMNS, ACCOUNT_REQUIRED, AccountLine, SHIP_TO_COLUMNS, SHIP_TO_REQUIRED, ShipToLine, account_column,
    parse_account, parse_ship_to, ship_to_column,
};
use crate::domain::money::Money;
use crate::store::accounts::{AccountRow, ShipToRow};
use crate::store::{Db, Tx, accounts, new_id, users};
use serde_json::json;
use std::collections::HashMap;
use std::io::Read;

/// What an import changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AccountImportReport {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
}

/// One planned account write: the account as stored (none for a new one), the new draft and group.
struct AccountWrite {
    current: Option<AccountRow>,
    draft: AccountDraft,
    group_id: Option<String>,
}

/// Imports accounts (ManageAccounts).
pub async fn import_accounts<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<AccountImportReport, ImportError> {
    actor.require(Permission::ManageAccounts)?;
    let mut file = CsvFile::open(reader, &ACCOUNT_COLUMNS, &ACCOUNT_REQUIRED)?;
    let stored = accounts::all(db).await?;
    let by_number: HashMap<&str, &AccountRow> = stored.iter().map(|a| (a.number.as_str(), a)).collect();
    let by_external: HashMap<&str, &AccountRow> =
        stored.iter().filter_map(|a| Some((a.external_id.as_deref()?, a))).collect();
    let groups: HashMap<String, String> = accounts::groups(db).await?.into_iter().map(|g| (g.name, g.id)).collect();
    let mut reps: HashMap<String, Option<String>> = HashMap::new();
    let mut lines: Vec<AccountLine> = Vec::new();
    let mut errors = Vec::new();
    let present: Vec<bool> = ACCOUNT_COLUMNS.iter().map(|c| file.has_column(c)).collect();
    let has_external_id = file.has_column("external_id");
    file.for_each_row(1_000, &mut progress, &mut errors, |line, cells, errors| {
        let get = |c: &str| {
            let i = ACCOUNT_COLUMNS.iter().position(|k| *k == c)?;
            present[i].then(|| cells.get(c))
        };
        match parse_account(line, get) {
            Ok(l) => lines.push(l),
            Err(mut e) => errors.append(&mut e),
        }
    });
    // The owning reps the file names, each looked up once.
    for l in &lines {
        if let Some(r) = l.owner_rep.as_deref().filter(|r| !r.is_empty())
            && !reps.contains_key(r)
        {
            reps.insert(r.to_string(), sales_rep(db, r).await?);
        }
    }
    let (mut seen_number, mut seen_external) = (HashMap::new(), HashMap::new());
    let mut writes = Vec::new();
    for l in &lines {
        let err = |column: &str, reason: String| RowError { line: l.line, column: column.into(), reason };
        let mut row_errors = Vec::new();
        let current = if !l.number.is_empty() {
            match by_number.get(l.number.as_str()) {
                Some(a) => Some(*a),
                None => {
                    row_errors.push(err(
                        "number",
                        format!("no account has number {} (leave number empty to create an account)", l.number),
                    ));
                    None
                }
            }
        } else {
            by_external.get(l.external_id.as_str()).copied()
        };
        let key = current.map(|a| a.id.clone()).unwrap_or_else(|| format!("new:{}", l.external_id));
        if let Some(first) = seen_number.insert(key, l.line) {
            row_errors.push(err("number", format!("the same account as line {first}")));
        }
        if !l.external_id.is_empty() {
            if let Some(first) = seen_external.insert(l.external_id.clone(), l.line) {
                row_errors.push(err("external_id", format!("external id {} is on line {first} too", l.external_id)));
            } else if let Some(owner) = by_external.get(l.external_id.as_str())
                && current.is_some_and(|c| c.id != owner.id)
            {
                row_errors.push(err(
                    "external_id",
                    format!("external id {} belongs to account {}", l.external_id, owner.number),
                ));
            }
        }
        let base = current.map(AccountRow::draft);
        let owner_rep_id = match l.owner_rep.as_deref() {
            None => base.as_ref().and_then(|b| b.owner_rep_id.clone()),
            Some("") => None,
            Some(r) => match reps.get(r).cloned().flatten() {
                Some(id) => Some(id),
                None => {
                    row_errors
                        .push(err("owner_rep", format!("no active sales rep has the e-mail address or id “{r}”")));
                    None
                }
            },
        };
        let group_id = match l.group.as_deref() {
            None => current.and_then(|c| c.group_id.clone()),
            Some("") => None,
            Some(g) => match groups.get(g) {
                Some(id) => Some(id.clone()),
                None => {
                    row_errors.push(err("group", format!("no account group is named “{g}”")));
                    None
                }
            },
        };
        let old_bill = base.as_ref().map(|b| b.bill_to.clone()).unwrap_or_default();
        let [line1, line2, city, region, postal_code, country] = l.bill_to.clone();
        let keep = |v: Option<String>, old: &str| v.unwrap_or_else(|| old.to_string());
        let draft = AccountDraft {
            name: l.name.clone(),
            status: l.status.or(base.as_ref().map(|b| b.status)).unwrap_or(AccountStatus::Active),
            ownership_mode: l
                .ownership_mode
                .or(base.as_ref().map(|b| b.ownership_mode))
                .unwrap_or(OwnershipMode::SelfService),
            owner_rep_id,
            terms: l.terms.or(base.as_ref().map(|b| b.terms)).unwrap_or(PaymentTerms::Net(30)),
            credit_limit: l.credit_limit.or(base.as_ref().map(|b| b.credit_limit)).unwrap_or(Money::ZERO),
            po_required: l.po_required.or(base.as_ref().map(|b| b.po_required)).unwrap_or(false),
            external_id: if has_external_id {
                Some(l.external_id.clone()).filter(|e| !e.is_empty())
            } else {
                base.as_ref().and_then(|b| b.external_id.clone())
            },
            phone: l.phone.clone().or(base.as_ref().map(|b| b.phone.clone())).unwrap_or_default(),
            bill_to: Address {
                line1: keep(line1, &old_bill.line1),
                line2: keep(line2, &old_bill.line2),
                city: keep(city, &old_bill.city),
                region: keep(region, &old_bill.region),
                postal_code: keep(postal_code, &old_bill.postal_code),
                country: keep(country, &old_bill.country),
            },
        }
        .normalized();
        for (field, reason) in draft.problems() {
            // The rep's rule was checked above by name; the draft's text rules by column.
            if field == "owner_rep_id" && row_errors.iter().any(|e| e.column == "owner_rep") {
                continue;
            }
            row_errors.push(err(account_column(&field), reason));
        }
        if row_errors.is_empty() {
            let unchanged = current.is_some_and(|c| c.draft() == draft && c.group_id == group_id);
            if !unchanged {
                writes.push(AccountWrite { current: current.cloned(), draft, group_id });
            }
        }
        errors.append(&mut row_errors);
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }
    let created = writes.iter().filter(|w| w.current.is_none()).count() as u64;
    let report = AccountImportReport { rows: lines.len() as u64, created, updated: writes.len() as u64 - created };
    let summary = json!({ "rows": report.rows, "created": report.created, "updated": report.updated });
    db.write((now, actor.owned(), writes, summary), |tx, (now, actor, writes, summary)| {
        Box::pin(write_accounts(tx, *now, actor, writes, summary))
    })
    .await?;
    Ok(report)
}

/// The staff user a file names as owning rep (e-mail address or id), if an active sales rep.
async fn sales_rep(db: &Db, reference: &str) -> ServiceResult<Option<String>> {
    let user = match crate::domain::account::normalize_email(reference) {
        Some(email) if reference.contains('@') => users::find_by_email(db, &email).await?,
        _ => users::get(db, reference).await?,
    };
    Ok(user.filter(|u| u.active && u.staff_roles().contains(&StaffRole::SalesRep)).map(|u| u.id))
}

/// An account import's unit of work.
async fn write_accounts(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    writes: &[AccountWrite],
    summary: &serde_json::Value,
) -> ServiceResult<()> {
    let actor = actor.actor();
    for w in writes {
        match &w.current {
            None => {
                insert_account(tx, &actor, now, &new_id(), &w.draft, w.group_id.as_deref(), None).await?;
            }
            Some(c) => {
                // Changed since the file was checked: refused, like a stale form.
                let before = accounts::get_for_update(tx, &c.id).await?.ok_or(ServiceError::NotFound)?;
                let handover =
                    super::commissions::handover_on_save(tx, &before, w.draft.owner_rep_id.as_deref(), now).await?;
                if !accounts::update(tx, &c.id, c.version, &w.draft, handover.as_ref(), now).await? {
                    return Err(stale());
                }
                if before.group_id != w.group_id {
                    accounts::set_group(tx, &c.id, w.group_id.as_deref()).await?;
                }
                record_update(tx, &actor, now, &before).await?;
            }
        }
    }
    audit(tx, Some(&actor), now, "import.accounts", ("import", &new_id()), None, Some(summary.clone())).await?;
    if !writes.is_empty() {
        crate::store::audit::enqueue(tx, "accounts.imported", summary, now).await?;
    }
    Ok(())
}

/// One planned ship-to write.
struct ShipToWrite {
    account_id: String,
    /// The ship-to as stored; none for a new one.
    current: Option<ShipToRow>,
    external_id: Option<String>,
    label: String,
    address: Address,
    make_default: bool,
}

/// Imports ship-tos (ManageAccounts).
pub async fn import_ship_tos<R: Read>(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    reader: R,
    mut progress: impl FnMut(Progress),
) -> Result<AccountImportReport, ImportError> {
    actor.require(Permission::ManageAccounts)?;
    let mut file = CsvFile::open(reader, &SHIP_TO_COLUMNS, &SHIP_TO_REQUIRED)?;
    let account_refs = accounts::reference_index(db).await?;
    let stored = accounts::all_ship_tos(db).await?;
    let by_id: HashMap<&str, &ShipToRow> = stored.iter().map(|s| (s.id.as_str(), s)).collect();
    let by_external: HashMap<(&str, &str), &ShipToRow> =
        stored.iter().filter_map(|s| Some(((s.account_id.as_str(), s.external_id.as_deref()?), s))).collect();
    let mut lines: Vec<ShipToLine> = Vec::new();
    let mut errors = Vec::new();
    let present: Vec<bool> = SHIP_TO_COLUMNS.iter().map(|c| file.has_column(c)).collect();
    let has_external_id = file.has_column("external_id");
    file.for_each_row(1_000, &mut progress, &mut errors, |line, cells, errors| {
        let get = |c: &str| {
            let i = SHIP_TO_COLUMNS.iter().position(|k| *k == c)?;
            present[i].then(|| cells.get(c))
        };
        match parse_ship_to(line, get) {
            Ok(l) => lines.push(l),
            Err(mut e) => errors.append(&mut e),
        }
    });
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut seen_external: HashMap<(String, String), u64> = HashMap::new();
    let mut defaults: HashMap<String, u64> = HashMap::new();
    let mut writes = Vec::new();
    for l in &lines {
        let err = |column: &str, reason: String| RowError { line: l.line, column: column.into(), reason };
        let mut row_errors = Vec::new();
        let Some(account_id) = account_refs.get(&l.account) else {
            errors.push(err("account", format!("unknown account “{}”", l.account)));
            continue;
        };
        let current = if !l.id.is_empty() {
            match by_id.get(l.id.as_str()) {
                Some(s) if s.account_id == *account_id => Some(*s),
                _ => {
                    row_errors.push(err(
                        "id",
                        format!("account {} has no ship-to with id {} (leave id empty to add one)", l.account, l.id),
                    ));
                    None
                }
            }
        } else {
            by_external.get(&(account_id.as_str(), l.external_id.as_str())).copied()
        };
        let key = current.map(|s| s.id.clone()).unwrap_or_else(|| format!("{account_id}:{}", l.external_id));
        if let Some(first) = seen.insert(key, l.line) {
            row_errors.push(err("id", format!("the same ship-to as line {first}")));
        }
        if !l.external_id.is_empty() {
            let k = (account_id.clone(), l.external_id.clone());
            if let Some(first) = seen_external.insert(k, l.line) {
                row_errors.push(err("external_id", format!("external id {} is on line {first} too", l.external_id)));
            } else if let Some(owner) = by_external.get(&(account_id.as_str(), l.external_id.as_str()))
                && current.is_some_and(|c| c.id != owner.id)
            {
                row_errors.push(err(
                    "external_id",
                    format!("external id {} belongs to another ship-to of account {}", l.external_id, l.account),
                ));
            }
        }
        if l.make_default
            && let Some(first) = defaults.insert(account_id.clone(), l.line)
        {
            row_errors.push(err(
                "default",
                format!("account {} has another default on line {first} (an account has one)", l.account),
            ));
        }
        let [line1, line2, city, region, postal_code, country] = l.address.clone();
        let address = Address { line1, line2, city, region, postal_code, country };
        for (field, reason) in ship_to_problems(&l.label, &address) {
            row_errors.push(err(ship_to_column(&field), reason));
        }
        if row_errors.is_empty() {
            let (label, address) = (l.label.trim().to_string(), address.normalized());
            // A file without the column keeps the stored ERP id.
            let external_id = match (has_external_id, current) {
                (false, Some(c)) => c.external_id.clone(),
                _ => Some(l.external_id.clone()).filter(|e| !e.is_empty()),
            };
            let unchanged = current.is_some_and(|c| {
                c.label == label
                    && c.address() == address
                    && c.external_id == external_id
                    && (c.is_default || !l.make_default)
            });
            if !unchanged {
                writes.push(ShipToWrite {
                    account_id: account_id.clone(),
                    current: current.cloned(),
                    external_id,
                    label,
                    address,
                    make_default: l.make_default,
                });
            }
        }
        errors.append(&mut row_errors);
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(ImportError::Invalid(errors));
    }
    let created = writes.iter().filter(|w| w.current.is_none()).count() as u64;
    let report = AccountImportReport { rows: lines.len() as u64, created, updated: writes.len() as u64 - created };
    let summary = json!({ "rows": report.rows, "created": report.created, "updated": report.updated });
    db.write((now, actor.owned(), writes, summary), |tx, (now, actor, writes, summary)| {
        Box::pin(write_ship_tos(tx, *now, actor, writes, summary))
    })
    .await?;
    Ok(report)
}

/// A ship-to import's unit of work.
async fn write_ship_tos(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    writes: &[ShipToWrite],
    summary: &serde_json::Value,
) -> ServiceResult<()> {
    let actor = actor.actor();
    for w in writes {
        let account_id = w.account_id.as_str();
        let (id, action, before) = match &w.current {
            None => {
                let id = new_id();
                let default = w.make_default || !accounts::has_ship_tos(tx, account_id).await?;
                accounts::insert_ship_to(tx, &id, account_id, &w.label, &w.address, default, now).await?;
                (id, "ship_to.created", None)
            }
            Some(c) => {
                let before =
                    accounts::ship_to_for_update(tx, account_id, &c.id).await?.ok_or(ServiceError::NotFound)?;
                (c.id.clone(), "ship_to.updated", Some(before))
            }
        };
        accounts::update_ship_to(tx, account_id, &id, &w.label, &w.address, w.external_id.as_deref(), now).await?;
        if w.make_default && before.as_ref().is_some_and(|b| !b.is_default) {
            accounts::set_default_ship_to(tx, account_id, &id, now).await?;
        }
        let row = accounts::ship_to_for_update(tx, account_id, &id).await?.ok_or(ServiceError::NotFound)?;
        let (b, a) = (before.as_ref().and_then(|b| serde_json::to_value(b).ok()), serde_json::to_value(&row).ok());
        audit(tx, Some(&actor), now, action, ("account", account_id), b, a).await?;
        crate::store::audit::enqueue(tx, action, &ship_to_event(&row), now).await?;
    }
    audit(tx, Some(&actor), now, "import.ship_tos", ("import", &new_id()), None, Some(summary.clone())).await?;
    if !writes.is_empty() {
        crate::store::audit::enqueue(tx, "ship_tos.imported", summary, now).await?;
    }
    Ok(())
}
