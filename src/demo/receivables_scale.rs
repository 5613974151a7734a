//! The aging benchmark's receivables (issue 15, "Benchmark"): 1,000 accounts × 50 open invoices,
//! due from 150 days ago to 30 days ahead so every bucket is filled, some partly paid, plus an
//! unapplied payment on every tenth account. Written on top of whatever the database holds (the
//! large dataset's accounts, else accounts made here), with multi-row inserts in one unit;
//! deterministic. The running exposure is rebuilt from the records at the end.

use super::Rng;
use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::money::Money;
use crate::domain::pricing::format_iso_date;
use crate::store::order_history::{self, HistoryOrder};
use crate::store::{Cell, Db, accounts, bulk_insert};

#[derive(Clone, Copy, Debug)]
pub struct ReceivablesSize {
    pub accounts: usize,
    pub invoices_per_account: usize,
}

pub const AGING: ReceivablesSize = ReceivablesSize { accounts: 1_000, invoices_per_account: 50 };

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// Adds open invoices (and the orders they bill) to the first `size.accounts` accounts by number,
/// making accounts first if there are fewer.
pub async fn seed(db: &Db, now: i64, size: &ReceivablesSize) -> Result<(), sqlx::Error> {
    let started = std::time::Instant::now();
    db.write((now, *size), |tx, (now, size)| {
        Box::pin(async move {
            let (now, size) = (*now, *size);
            let mut rng = Rng(super::SEED ^ 0xA6196);
            tx.bulk_mode().await?;
            let mut ids: Vec<(String,)> = tx
                .fetch_all("SELECT id FROM accounts ORDER BY number LIMIT $1", crate::args![size.accounts as i64])
                .await?;
            while ids.len() < size.accounts {
                let id = rng.id();
                let n = ids.len();
                let draft = AccountDraft {
                    name: format!("Receivable Customer {n:04}"),
                    status: AccountStatus::Active,
                    ownership_mode: OwnershipMode::SelfService,
                    owner_rep_id: None,
                    terms: PaymentTerms::Net(30),
                    credit_limit: Money::from_units(250_000).unwrap_or_default(),
                    po_required: false,
                    external_id: None,
                    phone: String::new(),
                    bill_to: Address {
                        line1: format!("{n} Ledger Road"),
                        line2: String::new(),
                        city: "Chicago".into(),
                        region: "IL".into(),
                        postal_code: "60601".into(),
                        country: "US".into(),
                    },
                };
                let number = format!("A-{}", tx.next_counter("account").await?);
                accounts::insert(tx, &id, &number, &draft, now).await?;
                ids.push((id,));
            }
            let today = crate::service::catalog::today(now);
            let (mut orders, mut invoices, mut payments) = (Vec::new(), Vec::new(), Vec::new());
            for (a, (account,)) in ids.iter().enumerate() {
                let order = rng.id();
                orders.push(HistoryOrder {
                    id: order.clone(),
                    number: format!("AR-{a:06}"),
                    account_id: account.clone(),
                    status: "shipped",
                    channel: "api",
                    placed_by_user_id: "bench",
                    placed_by_name: "Aging benchmark",
                    po_number: String::new(),
                    terms_days: 30,
                    subtotal: 0,
                    line_count: 0,
                    placed_at: now,
                    owner_rep_id: None,
                });
                for i in 0..size.invoices_per_account {
                    let due = today + time::Duration::days(30 - rng.below(181) as i64);
                    let issued = due - time::Duration::days(30);
                    let total = (1_000 + rng.below(500_000) as i64) * 100;
                    let paid = if i % 7 == 0 { total / 200 * 100 } else { 0 };
                    invoices.push(vec![
                        t(rng.id()),
                        t(format!("AR-{a:04}-{i:03}")),
                        t(account),
                        t(&order),
                        t(format_iso_date(issued)),
                        t(format_iso_date(due)),
                        t("Net 30"),
                        t(""),
                        t(""),
                        Cell::Int(total),
                        Cell::Int(0),
                        Cell::Int(total),
                        Cell::Int(paid),
                        Cell::Int(now),
                    ]);
                }
                if a % 10 == 0 {
                    let amount = 50_000 * 100;
                    payments.push(vec![
                        t(rng.id()),
                        t(format!("ARP-{a:06}")),
                        t(account),
                        Cell::Int(amount),
                        Cell::Int(amount),
                        t(format_iso_date(today)),
                        t("wire"),
                        t("bench"),
                        t("Aging benchmark"),
                        Cell::Int(now),
                    ]);
                }
            }
            order_history::insert_orders(tx, &orders).await?;
            bulk_insert(
                tx,
                "invoices",
                &[
                    "id",
                    "number",
                    "account_id",
                    "order_id",
                    "issued_on",
                    "due_on",
                    "terms",
                    "bill_to",
                    "ship_to",
                    "subtotal",
                    "tax",
                    "total",
                    "paid",
                    "created_at",
                ],
                &invoices,
            )
            .await?;
            bulk_insert(
                tx,
                "payments",
                &[
                    "id",
                    "number",
                    "account_id",
                    "amount",
                    "unapplied",
                    "received_on",
                    "method",
                    "created_by_user_id",
                    "created_by_name",
                    "created_at",
                ],
                &payments,
            )
            .await?;
            crate::store::credit::rebuild_all(tx, now).await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .await?;
    // These orders were written directly, not by the order writer: the dashboards' rollups are
    // rebuilt from them.
    crate::store::dashboards::rebuild(db).await?;
    eprintln!(
        "  {:<40} {:>7.1} s",
        format!("receivables ({} × {} open invoices)", size.accounts, size.invoices_per_account),
        started.elapsed().as_secs_f64()
    );
    db.analyze().await
}
