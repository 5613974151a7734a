//! The benchmark dataset: 100,000 products, 1,000 accounts (each with a buyer and a contract of
//! 1,000 prices: 1,000,000 contract prices), a base list with breaks, 3 warehouses with stock.
//! Written with multi-row inserts in one transaction per table group; deterministic.

use super::Rng;
use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::money::Money;
use crate::store::image_dir::ImageDir;
use crate::store::{Cell, Db, accounts, bulk_insert, catalogs, categories};
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct ScaleSize {
    pub products: usize,
    pub accounts: usize,
    pub contract_lines_per_account: usize,
}

pub const LARGE: ScaleSize = ScaleSize { products: 100_000, accounts: 1_000, contract_lines_per_account: 1_000 };

/// E-mail of the buyer of scale account `n` (0-based); password is the demo password.
pub fn buyer_email(n: usize) -> String {
    format!("buyer{n}@scale.example")
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn step(label: &str, started: Instant) {
    eprintln!("  {label:<40} {:>7.1} s", started.elapsed().as_secs_f64());
}

/// Seeds an empty, migrated database (after the regular demo company) with the large dataset.
pub async fn seed(db: &Db, image_dir: Option<&ImageDir>, now: i64, size: &ScaleSize) -> Result<(), sqlx::Error> {
    let started = Instant::now();
    let mut rng = Rng(super::SEED ^ 0x5CA1E);
    let password_hash =
        tokio::task::spawn_blocking(|| crate::service::auth::hash_password_blocking(super::DEMO_PASSWORD))
            .await
            .expect("hashing task");

    // Categories: 10 × 10.
    let (subcats, seed) = db
        .write((rng.0, now, *size), |tx, (seed, now, size)| {
            Box::pin(async move {
                let (now, _size) = (*now, *size);
                let mut rng = Rng(*seed);
                tx.bulk_mode().await?;
                let mut subcats = Vec::new();
                for a in 0..10 {
                    let top = rng.id();
                    let top_name = format!("Division {a}");
                    categories::insert_category(tx, &top, None, &top_name, &top_name, a, now).await?;
                    for b in 0..10 {
                        let id = rng.id();
                        let name = format!("Line {a}{b}");
                        categories::insert_category(
                            tx,
                            &id,
                            Some(&top),
                            &name,
                            &format!("{top_name} / {name}"),
                            b,
                            now,
                        )
                        .await?;
                        subcats.push(id);
                    }
                }
                Ok::<_, sqlx::Error>((subcats, rng.0))
            })
        })
        .await?;
    rng = Rng(seed);
    step("categories", started);

    // Products, base prices (two breaks) and stock in three warehouses.
    // The demo company's three warehouses and base list carry the large catalog too.
    let warehouses: Vec<String> = crate::store::inventory::warehouses(db).await?.into_iter().map(|w| w.id).collect();
    let base = crate::store::pricing::base_list_id(db).await?.ok_or(sqlx::Error::RowNotFound)?;
    let (product_ids, seed) = db
        .write((rng.0, now, *size, subcats, warehouses, base), |tx, (seed, now, size, subcats, warehouses, base)| {
            Box::pin(async move {
                let (now, size) = (*now, *size);
                let mut rng = Rng(*seed);
                tx.bulk_mode().await?;
                const WORDS: [&str; 12] = [
                    "Nitrile", "Sterile", "Steel", "Foam", "Vinyl", "Hex", "Safety", "Lab", "Cable", "Paper", "Gauze",
                    "Poly",
                ];
                const NOUNS: [&str; 12] = [
                    "Gloves", "Syringe", "Screw", "Dressing", "Tubing", "Nut", "Glasses", "Tips", "Ties", "Towels",
                    "Sponges", "Bags",
                ];
                let mut product_ids = Vec::with_capacity(size.products);
                let mut rows = Vec::with_capacity(size.products);
                let mut prices = Vec::with_capacity(size.products * 3);
                let mut stock = Vec::with_capacity(size.products * 3);
                let mut terms = Vec::with_capacity(size.products * 6);
                for n in 0..size.products {
                    let id = rng.id();
                    let name = format!("{} {} {:06}", WORDS[n % 12], NOUNS[(n / 12) % 12], n);
                    let sku = format!("SKU-{n:06}");
                    for term in crate::domain::catalog::index_terms(&[&sku, &name]) {
                        terms.push(vec![t(term), t(&id)]);
                    }
                    rows.push(vec![
                        t(&id),
                        t(&sku),
                        t(&name),
                        t(""),
                        t(&subcats[n % subcats.len()]),
                        t("EA"),
                        Cell::Int(1),
                        Cell::Int(1),
                        Cell::Int(1),
                        Cell::Bool(true),
                        t("deny"),
                        Cell::Int(1),
                        Cell::Int(now),
                        Cell::Int(now),
                    ]);
                    let cents = 100 + rng.below(20_000) as i64;
                    for (q, pct) in [(1, 100), (10, 95), (50, 90)] {
                        prices.push(vec![
                            t(base.as_str()),
                            t(&id),
                            Cell::Int(q),
                            Cell::Int(Money::from_cents(cents * pct / 100).raw()),
                        ]);
                    }
                    for w in warehouses.iter() {
                        stock.push(vec![
                            t(&id),
                            t(w),
                            Cell::Int(rng.below(500) as i64),
                            Cell::Int(0),
                            Cell::Int(0),
                            Cell::Int(now),
                        ]);
                    }
                    product_ids.push((id, cents));
                }
                // Inserting in primary-key order keeps every B-tree append-only: several times faster.
                sort_by_key_cells(&mut rows, 1);
                sort_by_key_cells(&mut prices, 3);
                sort_by_key_cells(&mut stock, 2);
                sort_by_key_cells(&mut terms, 2);
                bulk_insert(
                    tx,
                    "products",
                    &[
                        "id",
                        "sku",
                        "name",
                        "description",
                        "category_id",
                        "uom",
                        "pack_size",
                        "min_qty",
                        "multiple_qty",
                        "active",
                        "backorder_policy",
                        "version",
                        "created_at",
                        "updated_at",
                    ],
                    &rows,
                )
                .await?;
                drop(rows);
                bulk_insert(tx, "product_terms", &["term", "product_id"], &terms).await?;
                drop(terms);
                bulk_insert(tx, "price_list_items", &["price_list_id", "product_id", "min_qty", "unit_price"], &prices)
                    .await?;
                drop(prices);
                bulk_insert(
                    tx,
                    "stock_levels",
                    &["product_id", "warehouse_id", "on_hand", "reserved", "incoming", "updated_at"],
                    &stock,
                )
                .await?;
                drop(stock);
                // The default catalog includes everything, so the new products join it.
                catalogs::rebuild_catalog_membership(tx).await?;
                Ok::<_, sqlx::Error>((product_ids, rng.0))
            })
        })
        .await?;
    rng = Rng(seed);
    step(&format!("{} products, prices, stock, catalog", size.products), started);

    // Accounts, one buyer each, one contract each.
    let (contract_lines, _) = db
        .write((rng.0, now, *size, product_ids, password_hash), |tx, (seed, now, size, product_ids, password_hash)| {
            Box::pin(async move {
                let (now, size) = (*now, *size);
                let mut rng = Rng(*seed);
                tx.bulk_mode().await?;
                let mut contract_lines = Vec::with_capacity(size.accounts * size.contract_lines_per_account);
                let mut users = Vec::with_capacity(size.accounts);
                let mut contracts = Vec::with_capacity(size.accounts);
                for n in 0..size.accounts {
                    let id = rng.id();
                    let draft = AccountDraft {
                        name: format!("Scale Customer {n:04}"),
                        status: AccountStatus::Active,
                        ownership_mode: OwnershipMode::SelfService,
                        owner_rep_id: None,
                        terms: PaymentTerms::Net(30),
                        credit_limit: Money::from_units(10_000).unwrap_or_default(),
                        po_required: false,
                        external_id: None,
                        phone: String::new(),
                        bill_to: Address {
                            line1: "1 Main St".into(),
                            line2: String::new(),
                            city: "Chicago".into(),
                            region: "IL".into(),
                            postal_code: "60601".into(),
                            country: "US".into(),
                        },
                    };
                    accounts::insert(tx, &id, &format!("S-{n:05}"), &draft, now).await?;
                    accounts::insert_ship_to(tx, &rng.id(), &id, "Receiving dock", &draft.bill_to, true, now).await?;
                    users.push(vec![
                        t(rng.id()),
                        t(buyer_email(n)),
                        t(format!("Buyer {n}")),
                        t(""),
                        t("buyer"),
                        t("buyer"),
                        t(&id),
                        t(password_hash.as_str()),
                        Cell::Bool(true),
                        Cell::Int(now),
                        Cell::Int(now),
                    ]);
                    let cid = rng.id();
                    contracts.push(vec![
                        t(&cid),
                        t(format!("SC-{n:05}")),
                        t(&id),
                        t(format!("Contract {n}")),
                        Cell::NullText,
                        t("2099-12-31"),
                        Cell::Int(now),
                        Cell::Int(now),
                    ]);
                    // 1,000 distinct products per contract, spread over the catalog.
                    let start = rng.below(size.products as u64) as usize;
                    let stride = 1 + (n % 97);
                    for k in 0..size.contract_lines_per_account {
                        let (pid, cents) = &product_ids[(start + k * stride) % size.products];
                        contract_lines.push(vec![
                            t(&cid),
                            t(pid),
                            Cell::Int(1),
                            Cell::Int(Money::from_cents(cents * 85 / 100).raw()),
                        ]);
                    }
                }
                bulk_insert(
                    tx,
                    "users",
                    &[
                        "id",
                        "email",
                        "name",
                        "phone",
                        "kind",
                        "roles",
                        "account_id",
                        "password_hash",
                        "active",
                        "created_at",
                        "updated_at",
                    ],
                    &users,
                )
                .await?;
                bulk_insert(
                    tx,
                    "contracts",
                    &["id", "number", "account_id", "name", "valid_from", "valid_to", "created_at", "updated_at"],
                    &contracts,
                )
                .await?;
                Ok::<_, sqlx::Error>((contract_lines, rng.0))
            })
        })
        .await?;
    step(&format!("{} accounts, buyers, contracts", size.accounts), started);
    // Duplicate (contract, product) pairs can arise from the stride; keep the first.
    let mut contract_lines = contract_lines;
    let mut seen = std::collections::HashSet::new();
    contract_lines.retain(|r| match (&r[0], &r[1]) {
        (Cell::Text(c), Cell::Text(p)) => seen.insert((c.clone(), p.clone())),
        _ => true,
    });
    sort_by_key_cells(&mut contract_lines, 2);
    let count = contract_lines.len();
    db.write(contract_lines, |tx, lines| {
        Box::pin(async move {
            tx.bulk_mode().await?;
            bulk_insert(tx, "contract_prices", &["contract_id", "product_id", "min_qty", "unit_price"], lines).await
        })
    })
    .await?;
    step(&format!("{count} contract prices"), started);
    let pictured = super::product_images::seed(db, image_dir, now, super::product_images::draw_pictures()).await?;
    step(&format!("{pictured} product images"), started);
    db.analyze().await?;
    eprintln!("  {:<40} {:>7.1} s", "planner statistics", started.elapsed().as_secs_f64());
    Ok(())
}

/// Sorts rows by their first `n` cells (the primary key columns).
fn sort_by_key_cells(rows: &mut [Vec<Cell>], n: usize) {
    fn key(c: &Cell) -> (i64, &str) {
        match c {
            Cell::Text(s) => (0, s.as_str()),
            Cell::Int(i) => (*i, ""),
            Cell::Bool(b) => (*b as i64, ""),
            Cell::NullText | Cell::NullInt | Cell::Bytes(_) => (i64::MIN, ""),
        }
    }
    rows.sort_by(|a, b| a[..n].iter().map(key).cmp(b[..n].iter().map(key)));
}
