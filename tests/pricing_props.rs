//! Property tests of price resolution (pure: no database).

use portico::domain::money::Money;
use portico::domain::pricing::{PriceSource, SourceKind, Tier, resolve};
use proptest::prelude::*;
use time::{Date, Duration};

fn day0() -> Date {
    time::macros::date!(2026 - 06 - 01)
}

fn kind() -> impl Strategy<Value = SourceKind> {
    prop_oneof![
        Just(SourceKind::Contract),
        Just(SourceKind::AccountList),
        Just(SourceKind::GroupList),
        Just(SourceKind::Base)
    ]
}

/// Tiers with distinct minimum quantities and prices down to 1/10000.
fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    proptest::collection::btree_map(1i64..500, 0i64..10_000_000, 1..5)
        .prop_map(|m| m.into_iter().map(|(q, p)| Tier { min_qty: q, unit_price: Money::from_raw(p) }).collect())
}

/// Validity relative to day0: (from offset, to offset), each optional.
fn validity() -> impl Strategy<Value = (Option<i64>, Option<i64>)> {
    (proptest::option::of(-400i64..400), proptest::option::of(-400i64..400))
}

fn source() -> impl Strategy<Value = PriceSource> {
    (kind(), 0i64..5, "[a-z]{1,6}", validity(), tiers()).prop_map(|(kind, priority, id, (from, to), tiers)| {
        PriceSource {
            kind,
            name: id.to_uppercase(),
            id,
            priority,
            valid_from: from.map(|d| day0() + Duration::days(d)),
            valid_to: to.map(|d| day0() + Duration::days(d)),
            tiers,
        }
    })
}

/// Several sources with distinct ids.
fn sources(max: usize) -> impl Strategy<Value = Vec<PriceSource>> {
    proptest::collection::vec(source(), 1..max).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                s.id = format!("s{i}");
                s
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// An expired or not-yet-valid source never supplies the price.
    #[test]
    fn invalid_sources_never_apply(sources in sources(8), qty in 1i64..1000) {
        if let Some(p) = resolve(&sources, qty, day0()) {
            let winner = sources.iter().find(|s| s.id == p.source_id && s.kind == p.kind).unwrap();
            prop_assert!(winner.is_valid_on(day0()));
        }
    }

    /// The tier chosen is the highest tier not above the quantity, of the winning source.
    #[test]
    fn tier_is_highest_not_above_quantity(sources in sources(8), qty in 1i64..1000) {
        if let Some(p) = resolve(&sources, qty, day0()) {
            let winner = sources.iter().filter(|s| s.id == p.source_id && s.kind == p.kind && s.is_valid_on(day0()))
                .find(|s| s.tier_for(qty).map(|t| t.min_qty) == Some(p.tier_min_qty)).unwrap();
            let expected = winner.tiers.iter().filter(|t| t.min_qty <= qty).map(|t| t.min_qty).max().unwrap();
            prop_assert_eq!(p.tier_min_qty, expected);
            prop_assert!(p.tier_min_qty <= qty);
            // Exact: the price is one of the winner's tier prices, unchanged.
            prop_assert!(winner.tiers.iter().any(|t| t.min_qty == p.tier_min_qty && t.unit_price == p.unit_price));
        }
    }

    /// A valid contract that prices the quantity always beats every list, whatever the lists charge.
    #[test]
    fn valid_contract_beats_lists(lists in proptest::collection::vec(source(), 0..6), contract_tiers in tiers(), qty in 1i64..1000) {
        let mut sources: Vec<PriceSource> = lists.into_iter().map(|mut s| { if s.kind == SourceKind::Contract { s.kind = SourceKind::Base; } s }).collect();
        let contract = PriceSource { kind: SourceKind::Contract, id: "k".into(), name: "K".into(), priority: 0, valid_from: None, valid_to: None, tiers: contract_tiers };
        let prices_qty = contract.tier_for(qty).is_some();
        sources.push(contract);
        let p = resolve(&sources, qty, day0());
        if prices_qty {
            prop_assert_eq!(p.unwrap().kind, SourceKind::Contract);
        }
    }

    /// Something valid that prices the quantity is always found (no price is lost).
    #[test]
    fn a_price_exists_when_any_valid_source_prices_the_quantity(sources in sources(8), qty in 1i64..1000) {
        let any = sources.iter().any(|s| s.is_valid_on(day0()) && s.tier_for(qty).is_some());
        prop_assert_eq!(resolve(&sources, qty, day0()).is_some(), any);
    }
}
