//! Price lists and contracts as an ERP maintains them: upsert a whole list or contract — header,
//! assignments and every price — in one call. Every bad price is reported at once (with its
//! position) and nothing changes; sending the same document again changes nothing.

use super::{
    Actor, FieldError, OwnedActor, ServiceError, ServiceResult, audit, check_texts, names_nothing, text_problems,
};
use crate::domain::auth::Permission;
use crate::domain::catalog::Sku;
use crate::domain::input::{MAX_PRIORITY, MAX_QUANTITY, check_range};
use crate::domain::money::Money;
use crate::domain::pricing::{Tier, tier_problems};
use crate::store::pricing::{self, NewContract, NewPriceList, PriceOwner};
pub use crate::store::pricing::{ContractSummary, PriceListRow, PriceListSummary};
use crate::store::{Db, Tx, accounts, new_id, products};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One price of a list or contract: a tier from `min_qty` units.
#[derive(Clone, Debug)]
pub struct PriceInput {
    pub sku: String,
    pub min_qty: i64,
    pub unit_price: String,
}

#[derive(Clone, Debug, Default)]
pub struct Validity {
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// Checks every price (unknown SKU, bad or negative price, bad tier, duplicates, tiers that do not
/// make sense together) and returns (product id, min qty, price) rows, or every problem.
async fn check_prices(
    db: &Db,
    prices: &[PriceInput],
    problems: &mut Vec<FieldError>,
) -> ServiceResult<Vec<(String, i64, Money)>> {
    // Parsed once; text that cannot be a SKU names no product and is reported as unknown below.
    let parsed: Vec<Option<Sku>> = prices.iter().map(|p| Sku::parse(&p.sku).ok()).collect();
    let mut skus: Vec<Sku> = parsed.iter().flatten().cloned().collect();
    skus.sort();
    skus.dedup();
    let ids: HashMap<String, String> =
        products::get_many_by_sku(db, &skus).await?.into_iter().map(|p| (p.sku, p.id)).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut tiers: BTreeMap<String, Vec<Tier>> = BTreeMap::new();
    let mut err = |field: String, message: String| problems.push(FieldError { field, message });
    for (i, (p, parsed)) in prices.iter().zip(&parsed).enumerate() {
        let texts = text_problems(
            &[(&format!("prices[{i}].sku"), &p.sku), (&format!("prices[{i}].unit_price"), &p.unit_price)],
            &[],
        );
        if !texts.is_empty() {
            texts.into_iter().for_each(|(field, message)| err(field, message));
            continue;
        }
        let sku = Sku::normalize(&p.sku);
        let id = parsed.as_ref().and_then(|s| ids.get(s.as_str()));
        if id.is_none() {
            err(format!("prices[{i}].sku"), format!("unknown SKU {sku}"));
        }
        let min_qty = check_range(p.min_qty, 1, MAX_QUANTITY);
        if let Err(e) = &min_qty {
            err(format!("prices[{i}].min_qty"), format!("min_qty: {e}"));
        }
        let price = match Money::parse_non_negative(p.unit_price.trim()) {
            Ok(m) => Some(m),
            Err(e) => {
                err(format!("prices[{i}].unit_price"), format!("“{}”: {e}", p.unit_price));
                None
            }
        };
        if !seen.insert((sku.clone(), p.min_qty)) {
            err(format!("prices[{i}]"), format!("{sku} from {} units appears twice", p.min_qty));
        }
        if let (Some(id), Some(price), Ok(_)) = (id, price, min_qty) {
            out.push((id.clone(), p.min_qty, price));
            tiers.entry(sku).or_default().push(Tier { min_qty: p.min_qty, unit_price: price });
        }
    }
    for (sku, t) in tiers {
        for problem in tier_problems(&t) {
            err("prices".into(), format!("{sku}: {problem}"));
        }
    }
    Ok(out)
}

fn check_validity(v: &Validity, problems: &mut Vec<FieldError>) -> (Option<String>, Option<String>) {
    let mut date = |field: &str, s: &Option<String>| match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => match pricing::parse_date(Some(d)) {
            Some(_) => Some(d.to_string()),
            None => {
                problems
                    .push(FieldError { field: field.into(), message: format!("“{d}” is not a date (YYYY-MM-DD)") });
                None
            }
        },
    };
    let (from, to) = (date("valid_from", &v.valid_from), date("valid_to", &v.valid_to));
    if let (Some(f), Some(t)) = (&from, &to)
        && t < f
    {
        problems.push(FieldError { field: "valid_to".into(), message: "valid_to is before valid_from".into() });
    }
    (from, to)
}

pub struct ContractDoc {
    pub number: String,
    /// Account id, number or ERP id.
    pub account: String,
    pub name: String,
    pub validity: Validity,
    pub prices: Vec<PriceInput>,
}

/// The outcome of an upsert: whether it created the object and whether anything changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upserted {
    pub created: bool,
    pub changed: bool,
}

pub async fn upsert_contract(db: &Db, now: i64, actor: &Actor<'_>, d: &ContractDoc) -> ServiceResult<Upserted> {
    actor.require(Permission::ManagePrices)?;
    let v = &d.validity;
    check_texts(
        &[
            ("number", &d.number),
            ("account", &d.account),
            ("name", &d.name),
            ("valid_from", v.valid_from.as_deref().unwrap_or("")),
            ("valid_to", v.valid_to.as_deref().unwrap_or("")),
        ],
        &[],
    )?;
    let mut problems = Vec::new();
    let number = d.number.trim().to_string();
    if number.is_empty() || number.len() > 64 {
        problems.push(FieldError { field: "number".into(), message: "a contract number of 1 to 64 characters".into() });
    }
    let account = accounts::find_by_reference(db, d.account.trim()).await?;
    if account.is_none() {
        problems.push(FieldError { field: "account".into(), message: format!("unknown account “{}”", d.account) });
    }
    let existing = pricing::contracts_by_number(db).await?.remove(&number);
    if let (Some((_, owner, ..)), Some(a)) = (&existing, &account)
        && owner != &a.id
    {
        problems.push(FieldError {
            field: "account".into(),
            message: format!("contract {number} belongs to another account"),
        });
    }
    let (from, to) = check_validity(&d.validity, &mut problems);
    let items = check_prices(db, &d.prices, &mut problems).await?;
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let account = account.expect("checked");
    let name = if d.name.trim().is_empty() { format!("Contract {number}") } else { d.name.trim().to_string() };
    let unit = ContractWrite {
        now,
        actor: actor.owned(),
        existing,
        number,
        account_id: account.id,
        account_number: account.number,
        name,
        from,
        to,
        items,
    };
    db.write(unit, |tx, u| Box::pin(write_contract(tx, u))).await
}

/// (id, account id, name, valid from, valid to) of a stored contract.
type StoredContract = (String, String, String, Option<String>, Option<String>);

/// A contract upsert's unit of work: everything checked before it.
struct ContractWrite {
    now: i64,
    actor: OwnedActor,
    existing: Option<StoredContract>,
    number: String,
    account_id: String,
    account_number: String,
    name: String,
    from: Option<String>,
    to: Option<String>,
    items: Vec<(String, i64, Money)>,
}

async fn write_contract(tx: &mut Tx, u: &ContractWrite) -> ServiceResult<Upserted> {
    let (now, actor) = (u.now, &u.actor.actor());
    let (name, from, to) = (&u.name, &u.from, &u.to);
    let (id, created, mut changed) = match &u.existing {
        Some((id, _, old_name, old_from, old_to)) => {
            let header_changed = (name, from, to) != (old_name, old_from, old_to);
            if header_changed {
                pricing::update_contract_header(tx, id, name, from.as_deref(), to.as_deref(), now).await?;
            }
            (id.clone(), false, header_changed)
        }
        None => {
            let id = new_id();
            let k = NewContract {
                id: &id,
                number: &u.number,
                account_id: &u.account_id,
                name,
                valid_from: from.as_deref(),
                valid_to: to.as_deref(),
            };
            pricing::insert_contract(tx, &k, now).await?;
            (id, true, true)
        }
    };
    changed |= pricing::replace_prices(tx, PriceOwner::Contract(&id), &u.items).await?;
    if changed {
        let summary = json!({ "number": u.number, "account": u.account_number, "prices": u.items.len() });
        let action = if created { "contract.created" } else { "contract.updated" };
        audit(tx, Some(actor), now, action, ("contract", &id), None, Some(summary.clone())).await?;
        crate::store::audit::enqueue(tx, "prices.changed", &summary, now).await?;
    }
    Ok(Upserted { created, changed })
}

pub struct PriceListDoc {
    pub code: String,
    pub name: String,
    pub priority: i64,
    pub validity: Validity,
    /// Accounts (id, number or ERP id) and groups (by name) the list applies to; `None` keeps them.
    pub accounts: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    pub prices: Vec<PriceInput>,
}

pub async fn upsert_price_list(db: &Db, now: i64, actor: &Actor<'_>, d: &PriceListDoc) -> ServiceResult<Upserted> {
    actor.require(Permission::ManagePrices)?;
    let v = &d.validity;
    let mut texts = text_problems(
        &[
            ("code", &d.code),
            ("name", &d.name),
            ("valid_from", v.valid_from.as_deref().unwrap_or("")),
            ("valid_to", v.valid_to.as_deref().unwrap_or("")),
        ],
        &[],
    );
    for (i, a) in d.accounts.iter().flatten().enumerate() {
        texts.extend(text_problems(&[(&format!("accounts[{i}]"), a)], &[]));
    }
    for (i, g) in d.groups.iter().flatten().enumerate() {
        texts.extend(text_problems(&[(&format!("groups[{i}]"), g)], &[]));
    }
    ServiceError::from_problems(texts)?;
    let mut problems = Vec::new();
    if let Err(e) = check_range(d.priority, 0, MAX_PRIORITY) {
        problems.push(FieldError { field: "priority".into(), message: format!("priority: {e}") });
    }
    let code = d.code.trim().to_uppercase();
    if code.is_empty() || code.len() > 32 {
        problems.push(FieldError { field: "code".into(), message: "a code of 1 to 32 characters".into() });
    }
    if d.name.trim().is_empty() {
        problems.push(FieldError { field: "name".into(), message: "name is required".into() });
    }
    let (from, to) = check_validity(&d.validity, &mut problems);
    let mut account_ids = Vec::new();
    for (i, a) in d.accounts.iter().flatten().enumerate() {
        match accounts::find_by_reference(db, a.trim()).await? {
            Some(acc) => account_ids.push(acc.id),
            None => problems
                .push(FieldError { field: format!("accounts[{i}]"), message: format!("unknown account “{a}”") }),
        }
    }
    let mut group_ids = Vec::new();
    for (i, g) in d.groups.iter().flatten().enumerate() {
        match accounts::group_by_name(db, g.trim()).await? {
            Some(id) => group_ids.push(id),
            None => problems
                .push(FieldError {
                    field: format!("groups[{i}]"), message: format!("unknown account group “{g}”")
                }),
        }
    }
    let items = check_prices(db, &d.prices, &mut problems).await?;
    let existing = pricing::price_list_by_code(db, &code).await?;
    if existing.as_ref().is_some_and(|l| l.is_base) && (d.accounts.is_some() || d.groups.is_some()) {
        problems.push(FieldError {
            field: "accounts".into(),
            message: "the base list applies to everyone; it takes no assignments".into(),
        });
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let unit = PriceListWrite {
        now,
        actor: actor.owned(),
        existing,
        code,
        name: d.name.trim().to_string(),
        priority: d.priority,
        from,
        to,
        assignments: (d.accounts.is_some() || d.groups.is_some()).then_some((account_ids, group_ids)),
        items,
    };
    db.write(unit, |tx, u| Box::pin(write_price_list(tx, u))).await
}

/// A price list upsert's unit of work: everything checked before it.
struct PriceListWrite {
    now: i64,
    actor: OwnedActor,
    existing: Option<PriceListRow>,
    code: String,
    name: String,
    priority: i64,
    from: Option<String>,
    to: Option<String>,
    /// (account ids, group ids) replacing the list's assignments, when the document names them.
    assignments: Option<(Vec<String>, Vec<String>)>,
    items: Vec<(String, i64, Money)>,
}

async fn write_price_list(tx: &mut Tx, u: &PriceListWrite) -> ServiceResult<Upserted> {
    let (now, actor) = (u.now, &u.actor.actor());
    let (code, name, from, to) = (&u.code, u.name.as_str(), &u.from, &u.to);
    let (id, created, mut changed) = match &u.existing {
        Some(l) => {
            let header_changed =
                (name, u.priority, from, to) != (l.name.as_str(), l.priority, &l.valid_from, &l.valid_to);
            if header_changed {
                let h = NewPriceList {
                    id: &l.id,
                    code,
                    name,
                    is_base: l.is_base,
                    priority: u.priority,
                    valid_from: from.as_deref(),
                    valid_to: to.as_deref(),
                };
                pricing::update_price_list(tx, &h, now).await?;
            }
            (l.id.clone(), false, header_changed)
        }
        None => {
            let id = new_id();
            let h = NewPriceList {
                id: &id,
                code,
                name,
                is_base: false,
                priority: u.priority,
                valid_from: from.as_deref(),
                valid_to: to.as_deref(),
            };
            pricing::insert_price_list(tx, &h, now).await?;
            (id, true, true)
        }
    };
    if let Some((account_ids, group_ids)) = &u.assignments {
        // Assignments are replaced as a whole; counted as a change only for a new list or when asked.
        pricing::replace_assignments(tx, &id, account_ids, group_ids).await?;
    }
    let prices_changed = pricing::replace_prices(tx, PriceOwner::List(&id), &u.items).await?;
    if prices_changed && !changed {
        // The header did not change, its prices did: the list changed for an ERP pulling it.
        pricing::touch_price_list(tx, &id, now).await?;
    }
    changed |= prices_changed;
    if changed {
        let summary = json!({ "code": code, "prices": u.items.len() });
        let action = if created { "price_list.created" } else { "price_list.updated" };
        audit(tx, Some(actor), now, action, ("price_list", &id), None, Some(summary.clone())).await?;
        crate::store::audit::enqueue(tx, "prices.changed", &summary, now).await?;
    }
    Ok(Upserted { created, changed })
}

/// Parses "SKU, min_qty, price" lines (comma, semicolon or tab; min_qty optional) as staff paste
/// them into the pricing pages; every unreadable line is reported.
pub fn parse_price_lines(text: &str) -> Result<Vec<PriceInput>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.to_lowercase().starts_with("sku") {
            continue;
        }
        let cells: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        let (sku, min, price) = match cells.as_slice() {
            [sku, price] => (*sku, "1", *price),
            [sku, min, price] => (*sku, *min, *price),
            _ => {
                errors.push(FieldError {
                    field: format!("line {}", i + 1),
                    message: format!("“{line}”: use SKU, min_qty, price"),
                });
                continue;
            }
        };
        match min.parse::<i64>() {
            Ok(min_qty) => out.push(PriceInput { sku: sku.to_string(), min_qty, unit_price: price.to_string() }),
            Err(_) => errors
                .push(FieldError {
                    field: format!("line {}", i + 1), message: format!("“{min}” is not a quantity")
                }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Sets (adds or changes) some prices of a price list, or removes them (`remove`: the price is
/// ignored), without touching the rest — how staff edit a 100,000-price base list.
pub async fn set_list_prices(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    code: &str,
    lines: &[PriceInput],
    remove: bool,
) -> ServiceResult<u64> {
    actor.require(Permission::ManagePrices)?;
    names_nothing(code)?;
    let list = pricing::price_list_by_code(db, code).await?.ok_or(ServiceError::NotFound)?;
    let mut problems = Vec::new();
    let lines: Vec<PriceInput> = if remove {
        lines.iter().map(|l| PriceInput { unit_price: "0".into(), ..l.clone() }).collect()
    } else {
        lines.to_vec()
    };
    let items = check_prices(db, &lines, &mut problems).await?;
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let unit = (now, actor.owned(), list.id, list.code, items, remove);
    db.write(unit, |tx, (now, actor, list_id, list_code, items, remove)| {
        Box::pin(write_list_prices(tx, *now, actor, (list_id, list_code), items, *remove))
    })
    .await
}

/// [`set_list_prices`]'s unit of work.
async fn write_list_prices(
    tx: &mut Tx,
    now: i64,
    actor: &OwnedActor,
    (list_id, list_code): (&str, &str),
    items: &[(String, i64, Money)],
    remove: bool,
) -> ServiceResult<u64> {
    let mut changed = 0;
    for (product, min_qty, price) in items {
        if remove {
            changed += pricing::delete_list_price(tx, list_id, product, *min_qty).await?;
        } else {
            pricing::set_list_price(tx, list_id, product, *min_qty, *price).await?;
            changed += 1;
        }
    }
    let summary = json!({ "code": list_code, "lines": items.len(), "removed": remove });
    audit(tx, Some(&actor.actor()), now, "price_list.prices_set", ("price_list", list_id), None, Some(summary.clone()))
        .await?;
    crate::store::audit::enqueue(tx, "prices.changed", &summary, now).await?;
    Ok(changed)
}

// ---- Reads for the staff pricing pages (catalog managers only) ----

pub async fn price_lists(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<pricing::PriceListSummary>> {
    actor.require(Permission::ManagePrices)?;
    Ok(pricing::price_lists(db).await?)
}

pub async fn contracts_page(
    db: &Db,
    actor: &Actor<'_>,
    term: &str,
    after: &str,
    limit: i64,
) -> ServiceResult<Vec<pricing::ContractSummary>> {
    actor.require(Permission::ManagePrices)?;
    Ok(pricing::contracts_page(db, term, after, limit).await?)
}

/// A price list, whom it applies to ((assignment id, name)), and a page of its prices (SKU, name,
/// min qty, raw price).
pub async fn price_list(
    db: &Db,
    actor: &Actor<'_>,
    code: &str,
    after_sku: &str,
    limit: i64,
) -> ServiceResult<(pricing::PriceListRow, Vec<(String, String)>, Vec<(String, String, i64, i64)>)> {
    actor.require(Permission::ManagePrices)?;
    names_nothing(code)?;
    let list = pricing::price_list_by_code(db, code).await?.ok_or(ServiceError::NotFound)?;
    let assigned = pricing::assignment_names(db, &list.id).await?;
    let prices = pricing::prices_page(db, PriceOwner::List(&list.id), after_sku, limit).await?;
    Ok((list, assigned, prices))
}

/// A contract and every one of its prices.
pub async fn contract(
    db: &Db,
    actor: &Actor<'_>,
    number: &str,
) -> ServiceResult<(pricing::ContractSummary, Vec<(String, String, i64, i64)>)> {
    actor.require(Permission::ManagePrices)?;
    names_nothing(number)?;
    let k = pricing::contract_by_number(db, number).await?.ok_or(ServiceError::NotFound)?;
    let prices = pricing::prices_page(db, PriceOwner::Contract(&k.id), "", i64::MAX).await?;
    Ok((k, prices))
}

/// Price lists changed at or after `since` (header, assignments or prices), oldest change first,
/// after the keyset `after`, with whom each applies to: (list, account ids, group names).
pub async fn price_lists_changed_since(
    db: &Db,
    actor: &Actor<'_>,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> ServiceResult<Vec<(pricing::PriceListSync, Vec<String>, Vec<String>)>> {
    actor.require(Permission::ReadCatalog)?;
    let lists = pricing::price_lists_changed_since(db, since, after, limit).await?;
    let ids: Vec<String> = lists.iter().map(|l| l.id.clone()).collect();
    let assignments = pricing::assignments_of(db, &ids).await?;
    Ok(lists
        .into_iter()
        .map(|l| {
            let mine = assignments.iter().filter(|(list, _, _)| *list == l.id);
            let accounts = mine.clone().filter_map(|(_, a, _)| a.clone()).collect();
            let groups = mine.filter_map(|(_, _, g)| g.clone()).collect();
            (l, accounts, groups)
        })
        .collect())
}
