//! Property tests of the one evaluation every channel runs (`domain::pipeline`) and of stock
//! allocation (`domain::orders::allocate`). Pure: no database.

use portico::domain::catalog::{BackorderPolicy, QuantityRules};
use portico::domain::money::Money;
use portico::domain::orders::allocate;
use portico::domain::pipeline::{Facts, Orderable, ProductRef, Requested, StockFact, Verdict, evaluate, merge_repeats};
use portico::domain::pricing::{PriceSource, SourceKind, Tier, resolve};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use time::Date;

fn today() -> Date {
    time::macros::date!(2026 - 06 - 01)
}

/// Every code the evaluation may give a line (DESIGN: one set for every channel).
const CODES: [&str; 9] = [
    "unknown_sku",
    "not_available",
    "quantity",
    "quantity_too_large",
    "below_minimum",
    "not_multiple",
    "above_maximum",
    "no_price",
    "out_of_stock",
];

#[derive(Clone, Debug)]
struct Product {
    id: String,
    sku: String,
    external_id: Option<String>,
    active: bool,
    rules: QuantityRules,
    backorder: BackorderPolicy,
}

impl Orderable for Product {
    fn id(&self) -> &str {
        &self.id
    }
    fn sku(&self) -> &str {
        &self.sku
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn active(&self) -> bool {
        self.active
    }
    fn rules(&self) -> QuantityRules {
        self.rules
    }
    fn backorder(&self) -> BackorderPolicy {
        self.backorder
    }
}

/// What the world looks like for one product: the product, whether the account sees it, its
/// price sources and its stock.
#[derive(Clone, Debug)]
struct World {
    product: Product,
    visible: bool,
    sources: Vec<PriceSource>,
    stock: Option<StockFact>,
}

fn rules() -> impl Strategy<Value = QuantityRules> {
    let multiple = prop_oneof![3 => Just(1i64), 1 => 2i64..5];
    (1i64..4, multiple, proptest::option::weighted(0.3, 5i64..300)).prop_map(|(min, multiple, max)| QuantityRules {
        min,
        multiple,
        max: max.map(|m| m.max(min)),
    })
}

/// Zero to two sources: tiers from distinct minimum quantities (usually one from 1; otherwise the
/// source does not cover small quantities), prices down to 1/10000, sometimes expired.
fn sources() -> impl Strategy<Value = Vec<PriceSource>> {
    let source = (
        prop_oneof![Just(SourceKind::Contract), Just(SourceKind::Base)],
        proptest::option::weighted(0.8, 0i64..5_000_000),
        proptest::collection::btree_map(2i64..20, 0i64..5_000_000, 0..3),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(kind, from_one, mut tiers, expired)| {
            if let Some(p) = from_one {
                tiers.insert(1, p);
            }
            PriceSource {
                kind,
                id: kind.as_str().into(),
                name: kind.as_str().to_uppercase(),
                priority: 0,
                valid_from: None,
                valid_to: expired.then(|| today() - time::Duration::days(1)),
                tiers: tiers.into_iter().map(|(q, p)| Tier { min_qty: q, unit_price: Money::from_raw(p) }).collect(),
            }
        });
    proptest::collection::vec(source, 0..3).prop_map(|mut v| {
        v.sort_by_key(|s| s.kind);
        v.dedup_by_key(|s| s.kind);
        v
    })
}

fn worlds() -> impl Strategy<Value = Vec<World>> {
    let world = (
        proptest::bool::weighted(0.85),
        rules(),
        any::<bool>(),
        proptest::bool::weighted(0.85),
        any::<bool>(),
        sources(),
        proptest::option::weighted(0.85, (0i64..60, proptest::option::of(1i64..60))),
    );
    proptest::collection::vec(world, 1..8).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (active, rules, allow, visible, ext, sources, stock))| World {
                product: Product {
                    id: format!("p{i}"),
                    sku: format!("SKU-{i}"),
                    external_id: ext.then(|| format!("ERP-{i}")),
                    active,
                    rules,
                    backorder: if allow { BackorderPolicy::Allow } else { BackorderPolicy::Deny },
                },
                visible,
                sources,
                stock: stock.map(|(available, eta)| StockFact {
                    available,
                    next_eta: eta.map(|d| today() + time::Duration::days(d)),
                }),
            })
            .collect()
    })
}

/// Products and lines for them (some naming nothing known).
fn case() -> impl Strategy<Value = (Vec<World>, Vec<(usize, u8, i64)>)> {
    worlds().prop_flat_map(|w| {
        let n = w.len();
        (Just(w), lines(n))
    })
}

/// Lines naming products by SKU (any case), id, external id, or nothing known; quantities mostly
/// ordinary, sometimes zero, negative or beyond the line bound.
fn lines(products: usize) -> impl Strategy<Value = Vec<(usize, u8, i64)>> {
    let qty = prop_oneof![12 => 1i64..120, 1 => -3i64..1, 1 => 999_990i64..1_000_010];
    let index = prop_oneof![9 => 0..products, 1 => Just(products)];
    proptest::collection::vec((index, 0u8..4, qty), 1..12)
}

fn reference(worlds: &[World], index: usize, how: u8) -> ProductRef {
    match (worlds.get(index), how) {
        (None, _) => ProductRef::sku(&format!("nope-{how}")),
        (Some(w), 0) => ProductRef::sku(&format!(" {} ", w.product.sku.to_lowercase())),
        (Some(w), 1) => ProductRef::Id(w.product.id.clone()),
        (Some(w), 2) => match &w.product.external_id {
            Some(e) => ProductRef::ExternalId(e.clone()),
            None => ProductRef::ExternalId(format!("ERP-missing-{index}")),
        },
        (Some(w), _) => ProductRef::sku(&w.product.sku),
    }
}

/// Money rules, computed independently: exact product, then half away from zero to cents.
fn expected_total(unit: Money, qty: i64) -> Money {
    let exact = unit.raw() as i128 * qty as i128;
    Money::from_raw(((exact + 50) / 100 * 100) as i64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn every_line_gets_the_verdict_its_facts_decide((worlds, raw) in case()) {
        let products: Vec<Product> = worlds.iter().map(|w| w.product.clone()).collect();
        let visible: HashSet<String> = worlds.iter().filter(|w| w.visible).map(|w| w.product.id.clone()).collect();
        let prices: HashMap<String, Vec<PriceSource>> =
            worlds.iter().map(|w| (w.product.id.clone(), w.sources.clone())).collect();
        let stock: HashMap<String, StockFact> =
            worlds.iter().filter_map(|w| w.stock.clone().map(|s| (w.product.id.clone(), s))).collect();
        let facts = Facts { products: &products, visible: &visible, prices: &prices, stock: &stock, today: today(), licences: &Default::default() };
        let requested: Vec<Requested> = raw
            .iter()
            .enumerate()
            .map(|(i, (index, how, quantity))| Requested {
                line: i + 1,
                product: reference(&worlds, *index, *how),
                quantity: *quantity,
            })
            .collect();
        let verdicts = evaluate(&facts, &requested);
        prop_assert_eq!(verdicts.len(), requested.len());
        for (r, v) in requested.iter().zip(&verdicts) {
            prop_assert_eq!(v.line(), r.line);
            if let Some(issue) = v.issue() {
                prop_assert!(CODES.contains(&issue.code), "{}", issue.code);
                prop_assert_eq!(issue.line, r.line);
                prop_assert!(!issue.message.is_empty());
            }
            let known = worlds.iter().find(|w| match &r.product {
                ProductRef::Sku(s) => s.as_str() == w.product.sku,
                ProductRef::NotASku(_) => false,
                ProductRef::Id(id) => *id == w.product.id,
                ProductRef::ExternalId(e) => w.product.external_id.as_deref() == Some(e.as_str()),
            });
            let Some(w) = known else {
                prop_assert_eq!(v.issue().map(|i| i.code), Some("unknown_sku"));
                continue;
            };
            let q = r.quantity;
            let rules_ok = w.product.rules.check(q);
            let price = resolve(&w.sources, q, today());
            // Priced iff visible, active, within the quantity rules and some source prices it.
            let should_price = w.visible && w.product.active && rules_ok.is_ok() && price.is_some();
            prop_assert_eq!(v.priced().is_some(), should_price, "{:?} {:?}", r, v.issue());
            if !w.visible {
                // Outside the account's catalogs reads exactly as unknown: code and message.
                let issue = v.issue().unwrap();
                prop_assert_eq!(issue.code, "unknown_sku");
                prop_assert_eq!(issue.sku.as_str(), r.product.label());
                continue;
            }
            if !w.product.active {
                prop_assert_eq!(v.issue().map(|i| i.code), Some("not_available"));
                continue;
            }
            if let Err(problem) = rules_ok {
                prop_assert_eq!(v.issue().map(|i| i.code), Some(problem.code()));
                continue;
            }
            let Some(price) = price else {
                prop_assert_eq!(v.issue().map(|i| i.code), Some("no_price"));
                continue;
            };
            let line = v.priced().unwrap();
            prop_assert_eq!(line.product.id.as_str(), w.product.id.as_str());
            prop_assert_eq!(line.quantity, q);
            prop_assert_eq!(&line.price, &price);
            prop_assert_eq!(line.line_total, expected_total(price.unit_price, q));
            // The stock outlook accounts for every unit, backorders only where allowed.
            let s = &line.stock;
            let available = w.stock.as_ref().map(|s| s.available).unwrap_or(0);
            prop_assert_eq!(s.ships_now + s.backordered + s.short, q);
            prop_assert_eq!(s.ships_now, q.min(available));
            prop_assert!(s.backordered == 0 || w.product.backorder == BackorderPolicy::Allow);
            prop_assert!(s.short == 0 || w.product.backorder == BackorderPolicy::Deny);
            prop_assert_eq!(s.eta, w.stock.as_ref().and_then(|s| s.next_eta));
            match v {
                Verdict::Ok(_) => prop_assert_eq!(s.short, 0),
                Verdict::Blocked(_, issue) => {
                    prop_assert!(s.short > 0);
                    prop_assert_eq!(issue.code, "out_of_stock");
                }
                Verdict::Refused(_) => prop_assert!(false, "a priced line is not refused"),
            }
        }
        // A line's verdict does not depend on the other lines (nor on their order).
        let reversed: Vec<Requested> = requested.iter().rev().cloned().collect();
        let again = evaluate(&facts, &reversed);
        for (a, b) in verdicts.iter().zip(again.iter().rev()) {
            prop_assert_eq!(a.issue(), b.issue());
            prop_assert_eq!(a.priced().map(|l| (l.line_total, l.stock.clone())), b.priced().map(|l| (l.line_total, l.stock.clone())));
        }
    }

    #[test]
    fn repeats_merge_into_one_line_per_product((worlds, raw) in case()) {
        let products: Vec<Product> = worlds.iter().map(|w| w.product.clone()).collect();
        let asked: Vec<(ProductRef, i64)> =
            raw.iter().map(|(index, how, quantity)| (reference(&worlds, *index, *how), *quantity)).collect();
        let merged = merge_repeats(&products, &asked);
        // Lines stay in request order, each at the position of its product's first line.
        prop_assert!(merged.windows(2).all(|w| w[0].line < w[1].line));
        let product_of = |r: &ProductRef| {
            products.iter().find(|p| match r {
                ProductRef::Sku(s) => s.as_str() == p.sku,
                ProductRef::NotASku(_) => false,
                ProductRef::Id(id) => *id == p.id,
                ProductRef::ExternalId(e) => p.external_id.as_deref() == Some(e.as_str()),
            })
        };
        for p in &products {
            let asked_positive: Vec<(usize, i64)> = asked
                .iter()
                .enumerate()
                .filter(|(_, (r, q))| *q >= 1 && product_of(r).is_some_and(|x| x.id == p.id))
                .map(|(i, (_, q))| (i + 1, *q))
                .collect();
            let got: Vec<&Requested> =
                merged.iter().filter(|m| m.quantity >= 1 && product_of(&m.product).is_some_and(|x| x.id == p.id)).collect();
            if asked_positive.is_empty() {
                prop_assert!(got.is_empty());
            } else {
                prop_assert_eq!(got.len(), 1, "one line per product");
                prop_assert_eq!(got[0].line, asked_positive[0].0, "the first position is kept");
                let sum = asked_positive.iter().fold(0i64, |a, (_, q)| a.saturating_add(*q));
                prop_assert_eq!(got[0].quantity, sum, "quantities add up");
            }
        }
        // Lines below 1 are never merged away: each is refused on its own.
        let non_positive = asked.iter().filter(|(_, q)| *q < 1).count();
        prop_assert_eq!(merged.iter().filter(|m| m.quantity < 1).count(), non_positive);
    }

    #[test]
    fn allocation_takes_what_each_warehouse_has_in_order(
        available in proptest::collection::vec(-5i64..40, 0..6),
        wanted in 0i64..200,
    ) {
        let warehouses: Vec<(String, i64)> =
            available.iter().enumerate().map(|(i, a)| (format!("w{i}"), *a)).collect();
        let (allocated, short) = allocate(&warehouses, wanted);
        let total: i64 = allocated.iter().map(|(_, q)| q).sum();
        prop_assert_eq!(total + short, wanted, "every unit is allocated or short");
        prop_assert!(short >= 0);
        let mut last = None;
        for (w, q) in &allocated {
            let at = warehouses.iter().position(|(id, _)| id == w).unwrap();
            prop_assert!(*q > 0, "no empty allocations");
            prop_assert!(*q <= warehouses[at].1, "never more than the warehouse has");
            prop_assert!(last.is_none_or(|l| at > l), "warehouses in their order, each once");
            last = Some(at);
        }
        // Short only when every earlier warehouse is used up: nothing is left behind.
        let positive: i64 = available.iter().map(|a| (*a).max(0)).sum();
        prop_assert_eq!(short, (wanted - positive).max(0));
        // A warehouse is only passed over when it has nothing, or the request is already covered.
        if let Some((w, _)) = allocated.last() {
            let at = warehouses.iter().position(|(id, _)| id == w).unwrap();
            for (i, (_, a)) in warehouses.iter().enumerate().take(at) {
                let took = allocated.iter().find(|(id, _)| *id == warehouses[i].0).map(|(_, q)| *q).unwrap_or(0);
                prop_assert_eq!(took, (*a).max(0), "earlier warehouses give all they have");
            }
        }
    }
}
