//! Setting up a seller from an empty database: what an order needs that does not exist yet, as the
//! steps of the admin's checklist, in the order they depend on each other.

use super::{Actor, ServiceResult};
use crate::domain::auth::Permission;
pub use crate::store::accounts::SetupCounts;
use crate::store::{Db, accounts, invoices};

/// The longest company name, and the longest address (of at most [`MAX_ADDRESS_LINES`] lines).
pub use super::branding::{MAX_ADDRESS_CHARS, MAX_ADDRESS_LINES, MAX_NAME_CHARS};

/// The seller as invoices, statements and mails name it (settings `seller.name`, `seller.address`).
#[derive(Clone, Debug, Default)]
pub struct Company {
    pub name: String,
    /// Postal address, one line per line.
    pub address: String,
}

/// The seller's name and address (admins).
pub async fn company(db: &Db, actor: &Actor<'_>) -> ServiceResult<Company> {
    actor.require(Permission::AdminArea)?;
    Ok(Company {
        name: invoices::setting(db, "seller.name").await?.unwrap_or_default(),
        address: invoices::setting(db, "seller.address").await?.unwrap_or_default(),
    })
}

/// Sets the seller's name (required) and postal address, which head every invoice and statement
/// and sign every mail (admins); audited. The brand is kept (see [`super::branding::change`]).
pub async fn set_company(db: &Db, now: i64, actor: &Actor<'_>, name: &str, address: &str) -> ServiceResult<Company> {
    let change = super::branding::CompanyChange {
        name: Some(name.to_string()),
        address: Some(address.to_string()),
        ..Default::default()
    };
    let s = super::branding::change(db, now, actor, &change).await?;
    Ok(Company { name: s.name, address: s.address })
}

/// One step of the checklist: done when at least one of its things exists.
#[derive(Clone, Debug)]
pub struct SetupStep {
    pub title: &'static str,
    /// What to do, and why an order needs it.
    pub hint: &'static str,
    pub href: &'static str,
    pub count: i64,
    pub done: bool,
}

/// The steps, in the order they depend on each other; `None` once every step is done.
pub async fn setup_steps(db: &Db, actor: &Actor<'_>) -> ServiceResult<Option<Vec<SetupStep>>> {
    actor.require(Permission::AdminArea)?;
    let c = accounts::setup_counts(db).await?;
    let steps = steps(&c);
    Ok(steps.iter().any(|s| !s.done).then_some(steps))
}

/// How many of each thing exist, for the empty states of the staff pages.
pub async fn counts(db: &Db, actor: &Actor<'_>) -> ServiceResult<SetupCounts> {
    actor.require(Permission::StaffArea)?;
    Ok(accounts::setup_counts(db).await?)
}

fn steps(c: &accounts::SetupCounts) -> Vec<SetupStep> {
    let step = |title, hint, href, count: i64| SetupStep { title, hint, href, count, done: count > 0 };
    vec![
        step(
            "Name your company",
            "Your name and address head invoices and statements and sign every mail.",
            "/admin/company",
            c.seller,
        ),
        step("Add a warehouse", "Stock is counted per warehouse.", "/admin/warehouses", c.warehouses),
        step(
            "Create a category",
            "Products are filed in categories; catalogs include them.",
            "/admin/categories",
            c.categories,
        ),
        step("Create a product", "With its SKU, unit and order quantities.", "/admin/products/new", c.products),
        step("Put stock on hand", "Open a product and adjust its stock in a warehouse.", "/admin/products", c.stocked),
        step(
            "Create a customer catalog",
            "Buyers see only the products of their catalogs: the default one, or those assigned to them or their group.",
            "/admin/catalogs",
            c.catalogs,
        ),
        step("Create a price list", "Products without a price cannot be ordered.", "/admin/pricing", c.price_lists),
        step(
            "Create an account",
            "A customer company, with its ship-to address and terms.",
            "/admin/accounts/new",
            c.accounts,
        ),
        step(
            "Invite a buyer",
            "Open the account and invite its first user; they get a link by e-mail.",
            "/admin/accounts",
            c.buyers,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_database_starts_with_the_company_then_a_warehouse() {
        let s = steps(&accounts::SetupCounts::default());
        assert!(s.iter().all(|s| !s.done));
        assert_eq!((s[0].href, s[1].href), ("/admin/company", "/admin/warehouses"));
        let done = steps(&accounts::SetupCounts { seller: 1, warehouses: 2, ..Default::default() });
        assert!(done[0].done && done[1].done && !done[2].done);
    }
}
