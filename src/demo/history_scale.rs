//! Order history at scale (issue 18, "Scale"): two years of orders across every channel, written
//! directly with multi-row inserts (setup, not the pipeline: a million orders through the pipeline
//! would take twenty minutes) as an ERP history import would leave them — every order closed or,
//! a few, cancelled; none open, so nothing is owed or reserved. The dashboards' rollups are rebuilt
//! from them at the end (`store::dashboards::rebuild`). Deterministic.
//!
//! Shape: each account has a usual basket of products it reorders (most lines come from it), orders
//! 1 to `max_lines` lines, some accounts order far more than others, the self-service share of
//! orders grows over the two years (the adoption trend the dashboards show), and every 40th account
//! stopped ordering three months ago (the "stopped ordering" list). Used by `portico demo --scale
//! large` and by `benches/dashboards.rs`.

use super::Rng;
use crate::store::Db;
use crate::store::order_history::{self, HistoryLine, HistoryOrder};
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct HistorySize {
    pub orders: usize,
    /// Over this many days before now.
    pub days: i64,
    pub max_lines: usize,
}

/// `portico demo --scale large`: a million orders over two years.
pub const LARGE: HistorySize = HistorySize { orders: 1_000_000, days: 730, max_lines: 4 };

/// An account that orders, and its owning rep (credited on its orders).
#[derive(Clone, Debug)]
pub struct Customer {
    pub id: String,
    pub owner_rep_id: Option<String>,
}

/// A product bought, at the price the history shows (ten-thousandths).
#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub unit_price: i64,
}

const DAY: i64 = 86_400;
/// Orders written per unit of work.
const BATCH: usize = 20_000;
const BASKET: usize = 24;

/// The channel of an order placed `age` of the way back (1: the oldest, 0: now): self-service
/// (portal, punchout) grows from 35 % to 65 % of orders over the history.
fn channel(rng: &mut Rng, age_permille: u64) -> &'static str {
    let self_service = 650 - 300 * age_permille / 1000;
    let roll = rng.below(1000);
    if roll < self_service {
        if roll.is_multiple_of(8) { "punchout" } else { "portal" }
    } else {
        ["rep", "rep", "phone", "api", "edi"][rng.below(5) as usize]
    }
}

/// Writes `size.orders` orders of `customers` buying `items` before `now`, then rebuilds the
/// dashboards' rollups. Order numbers are `H-0000001` on, apart from the numbers orders get.
pub async fn seed(
    db: &Db,
    now: i64,
    size: &HistorySize,
    customers: &[Customer],
    items: &[Item],
) -> Result<(), sqlx::Error> {
    if customers.is_empty() || items.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let mut rng = Rng(super::SEED ^ 0x4157_0121);
    let baskets: Vec<Vec<usize>> =
        customers.iter().map(|_| (0..BASKET).map(|_| rng.below(items.len() as u64) as usize).collect()).collect();
    let (n, span) = (customers.len() as u64, (size.days * DAY).max(DAY) as u64);
    let mut written = 0;
    while written < size.orders {
        let batch = (size.orders - written).min(BATCH);
        let mut orders = Vec::with_capacity(batch);
        let mut lines = Vec::with_capacity(batch * size.max_lines);
        for k in 0..batch {
            // Skewed: low-numbered accounts order far more (the product of two uniforms).
            let a = (rng.below(n) * rng.below(n) / n) as usize;
            let customer = &customers[a];
            let back = rng.below(span) as i64;
            let back = if a % 40 == 39 { back.max(90 * DAY) } else { back };
            let placed_at = now - 3600 - back;
            let id = rng.id();
            let count = 1 + rng.below(size.max_lines.max(1) as u64) as usize;
            let mut subtotal = 0i64;
            for line_no in 1..=count {
                let item = if rng.below(5) == 0 {
                    &items[rng.below(items.len() as u64) as usize]
                } else {
                    &items[baskets[a][rng.below(BASKET as u64) as usize]]
                };
                let quantity = 1 + rng.below(20) as i64;
                let total = quantity * item.unit_price;
                subtotal += total;
                lines.push(HistoryLine {
                    order_id: id.clone(),
                    line_no: line_no as i64,
                    product_id: item.id.clone(),
                    sku: item.sku.clone(),
                    name: item.name.clone(),
                    quantity,
                    unit_price: item.unit_price,
                    line_total: total,
                });
            }
            let age_permille = (back as u64).saturating_mul(1000) / span;
            let channel = channel(&mut rng, age_permille);
            let status = if rng.below(40) == 0 { "cancelled" } else { "closed" };
            let po_number = if rng.below(3) == 0 { format!("PO-{}", rng.below(1_000_000)) } else { String::new() };
            orders.push(HistoryOrder {
                id,
                number: format!("H-{:07}", written + k + 1),
                account_id: customer.id.clone(),
                status,
                channel,
                placed_by_user_id: "erp-history",
                placed_by_name: "ERP history import",
                po_number,
                terms_days: 30,
                subtotal,
                line_count: count as i64,
                placed_at,
                owner_rep_id: customer.owner_rep_id.clone(),
            });
        }
        db.write((orders, lines), |tx, (orders, lines)| {
            Box::pin(async move {
                tx.bulk_mode().await?;
                order_history::insert_orders(tx, orders).await?;
                order_history::insert_lines(tx, lines).await
            })
        })
        .await?;
        written += batch;
        if written.is_multiple_of(200_000) || written == size.orders {
            eprintln!("  {written} history orders ({:.1} s)", started.elapsed().as_secs_f64());
        }
    }
    let rebuilt = Instant::now();
    let month = crate::domain::dashboards::month_of(now);
    crate::store::dashboards::rebuild(db).await?;
    db.write_rollup(month, |tx, month| {
        Box::pin(async move { crate::store::dashboards::roll_windows(tx, month).await.map(|_| ()) })
    })
    .await?;
    eprintln!("  dashboards' rollups rebuilt in {:.1} s", rebuilt.elapsed().as_secs_f64());
    db.analyze().await?;
    eprintln!("  order history written in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Every active account of the database and every product, at a made-up history price, for
/// [`seed`] on top of the demo.
pub async fn parties(db: &Db) -> Result<(Vec<Customer>, Vec<Item>), sqlx::Error> {
    let customers: Vec<(String, Option<String>)> = crate::on_db!(db, |c| sqlx::query_as(
        "SELECT id, owner_rep_id FROM accounts WHERE status = 'active' ORDER BY number"
    )
    .fetch_all(c)
    .await)?;
    let items: Vec<(String, String, String)> =
        crate::on_db!(db, |c| sqlx::query_as("SELECT id, sku, name FROM products ORDER BY sku").fetch_all(c).await)?;
    let mut rng = Rng(super::SEED ^ 0x9_71CE);
    Ok((
        customers.into_iter().map(|(id, owner_rep_id)| Customer { id, owner_rep_id }).collect(),
        items
            .into_iter()
            .map(|(id, sku, name)| Item { id, sku, name, unit_price: 5_000 * (1 + rng.below(400) as i64) })
            .collect(),
    ))
}
