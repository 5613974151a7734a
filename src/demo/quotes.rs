//! Demo quotes, seeded after the order history through the quote services themselves: every
//! product gets a cost (62–78 % of its list price), and the first account (whose logins are
//! printed) has a quote in each state a person acts on — a buyer's request the rep prices, a
//! quote ready for the buyer to accept, one past the discount threshold in the sales manager's
//! sign-off queue, and one accepted into an order.

use crate::domain::auth::{BuyerRole, StaffRole};
use crate::service::orders::{OrderHeader, ProductRef};
use crate::service::quotes::{self, NewQuote, QuoteLineInput};
use crate::service::{Actor, ServiceError, ServiceResult};
use crate::store::{Db, accounts, users};

fn line(sku: &str, qty: i64) -> QuoteLineInput {
    QuoteLineInput { product: ProductRef::sku(sku), quantity: qty, target_price: None, unit_price: None }
}

pub(crate) async fn seed(db: &Db, now: i64, account_id: &str) -> ServiceResult<()> {
    db.write((), |tx, ()| {
        Box::pin(async move {
            // A cost for every product: a share of its base list price that varies by product.
            tx.execute(
                "UPDATE products SET cost = (
                    SELECT MIN(i.unit_price) * (62 + (LENGTH(products.sku) * 7) % 17) / 100
                      FROM price_list_items i JOIN price_lists l ON l.id = i.price_list_id
                     WHERE l.is_base AND i.product_id = products.id AND i.min_qty = 1)",
                vec![],
            )
            .await
            .map(|_| ())
        })
    })
    .await?;
    let account = accounts::get(db, account_id).await?.ok_or(ServiceError::NotFound)?;
    let Some(rep_id) = account.owner_rep_id.clone() else { return Ok(()) };
    let rep = users::get(db, &rep_id).await?.and_then(|u| u.principal()).ok_or(ServiceError::NotFound)?;
    let people = users::list_for_account(db, account_id).await?;
    let Some(buyer) = people.iter().find(|u| u.buyer_role() == Some(BuyerRole::Buyer)).and_then(|u| u.principal())
    else {
        return Ok(());
    };
    let staff = users::list_staff(db).await?;
    let manager = staff.iter().find(|u| u.staff_roles().contains(&StaffRole::SalesManager)).and_then(|u| u.principal());
    let (rep, buyer) = (Actor::web(&rep), Actor::web(&buyer));
    // What the account buys most (visible, priced and valid quantities for it).
    let bought: Vec<(String, i64)> = crate::on_db!(db, |c| sqlx::query_as::<_, (String, i64)>(
        "SELECT l.sku, MAX(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 GROUP BY l.sku ORDER BY COUNT(*) DESC, l.sku LIMIT 6"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?;
    if bought.len() < 6 {
        return Ok(());
    }
    let sku = |i: usize| bought[i].0.as_str();
    let qty = |i: usize, times: i64| bought[i].1 * times;
    let day = 86_400;
    let quote = |lines: Vec<QuoteLineInput>, notes: &str| NewQuote {
        account_id: account_id.to_string(),
        lines,
        notes: notes.to_string(),
    };

    // Accepted a month ago: an order at the quoted prices.
    let q = quotes::create_quote(
        db,
        now - 35 * day,
        &rep,
        &quote(vec![line(sku(0), qty(0, 2)), line(sku(1), qty(1, 2))], ""),
    )
    .await;
    if let Ok(q) = q {
        // Price at 7 % below the account's own price.
        let v = quotes::quote_view(db, now - 35 * day, &rep, &q.number).await?;
        let lines: Vec<QuoteLineInput> = v
            .lines
            .iter()
            .map(|l| {
                let price = l.normal().unwrap_or(l.unit()).percent_bp(9_300).unwrap_or(l.unit());
                QuoteLineInput {
                    product: ProductRef::Id(l.row.product_id.clone()),
                    quantity: l.row.quantity,
                    target_price: None,
                    unit_price: Some(price),
                }
            })
            .collect();
        quotes::price_quote(db, now - 35 * day, &rep, &q.number, None, &lines).await?;
        quotes::send_quote(db, now - 35 * day, &rep, &q.number, None, None).await?;
        quotes::post_message(db, now - 34 * day, &buyer, &q.number, "Looks good — we will take both.").await?;
        let header = OrderHeader { po_number: "PO-Q-4471".into(), ..Default::default() };
        quotes::accept_quote(db, now - 33 * day, &buyer, &q.number, None, &[1, 2], header, None).await?;
    }

    // Sent last week: ready for the buyer to accept (valid 30 days).
    if let Ok(q) = quotes::create_quote(
        db,
        now - 6 * day,
        &rep,
        &quote(vec![line(sku(2), qty(2, 3)), line(sku(3), qty(3, 3))], "Quarterly volume, delivered monthly."),
    )
    .await
    {
        discount(db, now - 6 * day, &rep, &q.number, 9_200).await?;
        quotes::send_quote(db, now - 6 * day, &rep, &q.number, None, None).await?;
    }

    // The buyer's request from their cart, with a target price, waiting for the rep to price it.
    let _ = quotes::create_quote(
        db,
        now - 2 * day,
        &buyer,
        &quote(
            vec![line(sku(4), qty(4, 4)), line(sku(5), qty(5, 2))],
            "We are moving more of this volume to you — can you do better than our usual price?",
        ),
    )
    .await;

    // 25 % off: waits for the sales manager's sign-off.
    if manager.is_some()
        && let Ok(q) = quotes::create_quote(db, now - day, &rep, &quote(vec![line(sku(1), qty(1, 5))], "")).await
    {
        discount(db, now - day, &rep, &q.number, 7_500).await?;
        quotes::send_quote(db, now - day, &rep, &q.number, None, None).await?;
    }
    Ok(())
}

/// Prices every line of a quote at `keep_bp` of the account's own price (9,200 = 8 % off).
async fn discount(db: &Db, now: i64, rep: &Actor<'_>, number: &str, keep_bp: i64) -> ServiceResult<()> {
    let v = quotes::quote_view(db, now, rep, number).await?;
    let lines: Vec<QuoteLineInput> = v
        .lines
        .iter()
        .map(|l| QuoteLineInput {
            product: ProductRef::Id(l.row.product_id.clone()),
            quantity: l.row.quantity,
            target_price: None,
            unit_price: Some(l.normal().unwrap_or(l.unit()).percent_bp(keep_bp).unwrap_or(l.unit())),
        })
        .collect();
    quotes::price_quote(db, now, rep, number, None, &lines).await?;
    Ok(())
}
