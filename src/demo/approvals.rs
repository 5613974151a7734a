//! Demo buyer approvals, seeded after the order history (so the history is placed as it always
//! was): the first account gets a requester, two approval rules and limits for its buyer, and one
//! order from the requester that waits on the purchasing manager's home page.

use crate::domain::auth::{BuyerRole, Principal};
use crate::service::Actor;
use crate::service::approvals::{self, NewRule};
use crate::service::orders::{self, LineInput, OrderFilter, OrderHeader, PlaceOrder, ProductRef};
use crate::service::{ServiceError, ServiceResult};
use crate::store::{Db, users};

/// The requester's sign-in (printed with the other demo logins).
pub fn requester_email(account_slug: &str) -> String {
    format!("requester@{account_slug}.example")
}

pub(crate) async fn seed(db: &Db, now: i64, account_id: &str, requester_email: &str) -> ServiceResult<()> {
    let people = users::list_for_account(db, account_id).await?;
    let find = |role: BuyerRole| people.iter().find(|u| u.buyer_role() == Some(role) && u.active);
    let (Some(manager), Some(buyer)) = (find(BuyerRole::Manager), find(BuyerRole::Buyer)) else {
        return Ok(());
    };
    let hash = manager.password_hash.clone();
    let requester_id = format!("{account_id}-requester");
    let unit = (requester_id.clone(), requester_email.to_string(), account_id.to_string(), hash, now);
    db.write(unit, |tx, (id, email, account_id, hash, now)| {
        Box::pin(async move {
            users::insert(
                tx,
                &users::NewUser {
                    id,
                    email,
                    name: "Robin Ellis",
                    phone: "",
                    kind: "buyer",
                    roles: BuyerRole::Requester.as_str(),
                    account_id: Some(account_id),
                    password_hash: hash.as_deref(),
                    now: *now,
                },
            )
            .await
        })
    })
    .await?;
    let as_manager = manager.principal().ok_or(ServiceError::NotFound)?;
    let actor = Actor::web(&as_manager);
    let total = NewRule { kind: "order_total".into(), amount: "10000".into(), ..Default::default() };
    approvals::add_rule(db, now, &actor, account_id, &total).await?;
    if let Some(dx) = crate::store::categories::category_by_path(db, "Medical / Diagnostics").await? {
        let rule = NewRule {
            kind: "category".into(),
            category_id: dx.id,
            approvers: vec![manager.id.clone()],
            ..Default::default()
        };
        approvals::add_rule(db, now, &actor, account_id, &rule).await?;
    }
    approvals::set_limits(db, now, &actor, &buyer.id, "5000", "").await?;

    // The requester reorders the account's latest order: it waits for the manager.
    let filter = OrderFilter { account_id: Some(account_id.to_string()), ..Default::default() };
    let Some(latest) = orders::list_orders(db, &actor, filter, None, 1).await?.into_iter().next() else {
        return Ok(());
    };
    let lines: Vec<LineInput> = crate::store::orders::lines(db, &latest.id)
        .await?
        .iter()
        .map(|l| LineInput { product: ProductRef::Id(l.product_id.clone()), quantity: l.quantity })
        .collect();
    let requester = Principal::buyer(
        requester_id,
        "Robin Ellis".into(),
        requester_email.to_string(),
        account_id.to_string(),
        BuyerRole::Requester,
    );
    let header =
        OrderHeader { po_number: "PO-REQ-1".into(), notes: "Restock for the east wing".into(), ..Default::default() };
    let req = PlaceOrder { account_id: account_id.to_string(), lines, header, clear_cart: false };
    orders::place_order(db, now, &Actor::web(&requester), &req, None, |o, _| (201, o.id.clone())).await?;
    Ok(())
}

/// The seller's routing rules for hybrid accounts, and two products flagged "consult a
/// specialist" (industrial equipment the clinics do not see), seeded after the history.
pub(crate) async fn seed_routing(db: &Db, now: i64) -> ServiceResult<()> {
    let staff = users::list_staff(db).await?;
    let Some(admin) = staff.iter().find(|u| u.staff_roles().contains(&crate::domain::auth::StaffRole::Admin)) else {
        return Ok(());
    };
    let admin = admin.principal().ok_or(ServiceError::NotFound)?;
    let actor = Actor::web(&admin);
    crate::service::routing::add_rule(db, now, &actor, "order_total", "25000", "").await?;
    crate::service::routing::add_rule(db, now, &actor, "line_quantity", "", "1000").await?;
    crate::service::routing::add_rule(db, now, &actor, "consult_product", "", "").await?;
    let electrical = crate::store::product_search::list(
        db,
        crate::store::product_search::Visibility::All,
        &crate::store::product_search::ListFilter {
            category_ids: match crate::store::categories::category_by_path(db, "Industrial / Electrical").await? {
                Some(c) => vec![c.id],
                None => return Ok(()),
            },
            term: String::new(),
            include_inactive: false,
        },
        None,
        2,
    )
    .await?;
    for p in electrical {
        crate::service::routing::set_consult(db, now, &actor, &p.product.sku, true).await?;
    }
    Ok(())
}
