//! Demo order history: six months of orders for every active account, through every channel (the
//! buyers on the portal, their rep, customer service on the phone, the ERP over the API), placed
//! through the same service call real orders use, so reorder, buy again and history are meaningful
//! on first sign-in. Orders older than ten days have shipped (and so been invoiced), and finance
//! has recorded the customers' payments as they came in — some partial, some accounts behind — so
//! statements, aging and the credit queue have something to show.

use super::Rng;
use crate::domain::account::AccountStatus;
use crate::domain::auth::{ActorChannel, BuyerRole, Principal, Scope, StaffRole};
use crate::domain::catalog::BackorderPolicy;
use crate::on_db;
use crate::service::Actor;
use crate::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ProductRef};
use crate::store::Db;
use crate::store::product_search::{self, ListFilter, Visibility};

const DAY: i64 = 86_400;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    kind: String,
    roles: String,
    account_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    name: String,
    status: String,
    owner_rep_id: Option<String>,
    po_required: bool,
}

/// Finance records the customer's payment of the invoices due by `at` (received that day): in full,
/// or — one time in five — 60 % of it, applied oldest due first.
async fn pay_what_is_due(
    db: &Db,
    at: i64,
    finance: &Principal,
    account_id: &str,
    rng: &mut Rng,
) -> Result<(), crate::service::ServiceError> {
    use crate::domain::money::Money;
    use crate::service::payments::{ApplyInput, PaymentInput, open_invoices, record_payment};
    let actor = Actor { principal: finance, channel: ActorChannel::Staff, on_behalf_of: None };
    let day = crate::store::pricing::format_iso(crate::service::catalog::today(at));
    let due: i64 =
        open_invoices(db, &actor, account_id).await?.iter().filter(|i| i.due_on <= day).map(|i| i.total - i.paid).sum();
    if due <= 0 {
        return Ok(());
    }
    let amount = if rng.below(5) == 0 { Money::from_raw(due * 6 / 10).round_to_cents() } else { Money::from_raw(due) };
    if amount.is_zero() {
        return Ok(());
    }
    let method = ["ach", "check", "wire"][rng.below(3) as usize];
    let input = PaymentInput {
        account: account_id.to_string(),
        amount: amount.to_plain(),
        received_on: day,
        method: method.into(),
        reference: format!("{}-{}", method.to_uppercase(), 700_000 + rng.below(300_000)),
        external_id: None,
        apply: ApplyInput::OldestFirst,
    };
    record_payment(db, at, &actor, &input).await?;
    Ok(())
}

/// Places the history; returns how many orders were placed.
pub(crate) async fn seed_history(db: &Db, now: i64, rng: &mut Rng) -> Result<usize, crate::service::ServiceError> {
    let users = on_db!(db, |c| sqlx::query_as::<_, UserRow>(
        "SELECT id, name, email, kind, roles, account_id FROM users WHERE active ORDER BY email"
    )
    .fetch_all(c)
    .await)?;
    let accounts = on_db!(db, |c| sqlx::query_as::<_, AccountRow>(
        "SELECT id, name, status, owner_rep_id, po_required FROM accounts ORDER BY number"
    )
    .fetch_all(c)
    .await)?;
    let staff = |role: StaffRole| {
        users
            .iter()
            .find(|u| u.kind == "staff" && StaffRole::parse_list(&u.roles).contains(&role))
            .map(|u| Principal::staff(u.id.clone(), u.name.clone(), u.email.clone(), StaffRole::parse_list(&u.roles)))
    };
    let desk = staff(StaffRole::CustomerService).expect("demo has customer service");
    let finance = staff(StaffRole::Finance).expect("demo has finance");
    let erp = Principal::integration("demo-erp".into(), "ERP integration".into(), &[Scope::OrdersWrite]);
    let mut placed = 0;
    for a in accounts.iter().filter(|a| AccountStatus::parse(&a.status) != Some(AccountStatus::Onboarding)) {
        let buyers: Vec<Principal> = users
            .iter()
            .filter(|u| u.account_id.as_deref() == Some(&a.id))
            .filter_map(|u| {
                let role = BuyerRole::parse(&u.roles)?;
                matches!(role, BuyerRole::Manager | BuyerRole::Buyer)
                    .then(|| Principal::buyer(u.id.clone(), u.name.clone(), u.email.clone(), a.id.clone(), role))
            })
            .collect();
        let rep_principal = |u: &UserRow| {
            Principal::staff(u.id.clone(), u.name.clone(), u.email.clone(), StaffRole::parse_list(&u.roles))
        };
        let mut rep = a.owner_rep_id.as_ref().and_then(|r| users.iter().find(|u| &u.id == r)).map(rep_principal);
        // The account that changes hands (a day before its second-last order) and its new rep.
        let handed_to = (a.name == super::commissions::HANDED_OVER.0)
            .then(|| users.iter().find(|u| u.name == super::commissions::HANDED_OVER.1))
            .flatten();
        // The account's usual products: a dozen from its catalog that it can buy at a price.
        let listed = product_search::list(
            db,
            Visibility::Account(&a.id),
            &ListFilter { category_ids: Vec::new(), term: String::new(), include_inactive: false },
            None,
            200,
        )
        .await?;
        let mut usual = Vec::new();
        for _ in 0..12 {
            let p = &listed[rng.below(listed.len() as u64) as usize].product;
            if p.backorder() == BackorderPolicy::Allow || usual.iter().any(|(id, _): &(String, i64)| id == &p.id) {
                continue;
            }
            let rules = p.rules();
            let mut qty = rules.first_valid() * (1 + rng.below(4) as i64);
            if rules.check(qty).is_err() {
                qty = rules.first_valid();
            }
            usual.push((p.id.clone(), qty));
        }
        let orders_for_account = 5 + rng.below(5) as i64;
        // One account in five pays late: its invoices of the last two months stay open (overdue).
        let pays_late = rng.below(5) == 0;
        for k in 0..orders_for_account {
            // Spread over the last ~180 days, oldest first; the newest one or two stay open.
            let spacing = 170 / orders_for_account;
            let at = now - ((orders_for_account - 1 - k) * spacing + 1) * DAY - rng.below(DAY as u64) as i64;
            if let Some(to) = handed_to.filter(|_| k == orders_for_account - 2) {
                super::commissions::hand_over(db, at - DAY, &a.id, &to.id).await?;
                rep = Some(rep_principal(to));
            }
            if !(pays_late && now - at < 60 * DAY) {
                pay_what_is_due(db, at, &finance, &a.id, rng).await?;
            }
            let n_lines = 3 + rng.below(5) as usize;
            let lines: Vec<LineInput> = usual
                .iter()
                .skip(rng.below(4) as usize)
                .take(n_lines)
                .map(|(id, q)| LineInput { product: ProductRef::Id(id.clone()), quantity: *q })
                .collect();
            if lines.is_empty() {
                continue;
            }
            let (principal, channel) = match rng.below(10) {
                0..=4 if !buyers.is_empty() => (&buyers[rng.below(buyers.len() as u64) as usize], ActorChannel::Portal),
                5..=6 if rep.is_some() => (rep.as_ref().expect("checked"), ActorChannel::Staff),
                7..=8 => (&desk, ActorChannel::Staff),
                _ => (&erp, ActorChannel::Api),
            };
            let actor = Actor { principal, channel, on_behalf_of: principal.is_staff().then_some(a.id.as_str()) };
            let po = if a.po_required || rng.below(3) == 0 {
                format!("PO-{}", 40_000 + rng.below(60_000))
            } else {
                String::new()
            };
            let req = PlaceOrder {
                account_id: a.id.clone(),
                lines,
                header: OrderHeader { po_number: po, ..Default::default() },
                clear_cart: false,
            };
            let order = match orders::place_order(db, at, &actor, &req, None, |o, _| (201, o.id.clone())).await {
                Ok(Placement::Placed { order, .. }) => order,
                // Out of stock by now (the demo's own history used it up): that order simply did not happen.
                Err(crate::service::ServiceError::Blocked(_)) => continue,
                Ok(Placement::Replayed { .. }) => continue,
                Err(e) => return Err(e),
            };
            placed += 1;
            let age = now - at;
            // A rep-led account's request: its rep (or the desk) completes it within the hour —
            // except the last days' requests, which wait in the rep's queue.
            let order = if order.status() == crate::domain::orders::OrderStatus::Escalated {
                if age < 3 * DAY {
                    continue;
                }
                let handler = rep.as_ref().unwrap_or(&desk);
                let staff = Actor { principal: handler, channel: ActorChannel::Staff, on_behalf_of: None };
                match orders::complete_order(db, at + 3_600, &staff, &order.id, None, "").await {
                    Ok(o) => o,
                    Err(crate::service::ServiceError::Blocked(_)) => {
                        let why = "Out of stock now; we will call you with an alternative.";
                        orders::send_back_order(db, at + 3_600, &staff, &order.id, None, why).await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            } else {
                order
            };
            if age > 10 * DAY {
                let carrier = ["UPS", "FedEx", "DHL"][rng.below(3) as usize];
                let tracking = format!("1Z{:016}", rng.below(10_000_000_000_000_000));
                orders::ship_order(
                    db,
                    at + 2 * DAY,
                    &Actor { principal: &desk, channel: ActorChannel::Staff, on_behalf_of: None },
                    &order.id,
                    carrier,
                    &tracking,
                )
                .await?;
            } else if age > 4 * DAY {
                orders::confirm_order(
                    db,
                    at + DAY,
                    &Actor { principal: &desk, channel: ActorChannel::Staff, on_behalf_of: None },
                    &order.id,
                    None,
                )
                .await?;
            }
        }
    }
    Ok(placed)
}
