//! The one evaluation of requested lines (DESIGN.md §2 and §3 "Placement pipeline").
//!
//! Quote, cart, quick order, saved lists, reorder, placement and amendment all call [`evaluate`]
//! over facts the store loaded, and differ only in what they do with the verdicts: a placement
//! refuses any issue, a cart shows lines blocked by stock so the buyer can fix them, a price quote
//! keeps the price of a line it could not ship. One place, so every channel gives the same reason.
//!
//! Steps, in order; a line stops at the first that refuses it:
//! 1. **Catalog visibility** — the product exists, is in one of the account's catalogs, and is sold.
//! 2. **Quantity rules** — [`QuantityRules::check`], including the bound
//!    [`MAX_LINE_QUANTITY`](super::catalog::MAX_LINE_QUANTITY).
//! 3. **Pricing** — [`resolve`], then unit price × quantity rounded by [`Money::round_to_cents`].
//! 4. **Licences** — a product with a regulated class is checked by [`licences::check`] against
//!    the seller's rules for the ship-to state and the account's licences; a priced line it blocks
//!    is [`Verdict::Blocked`], like stock (a cart shows why, a quote still prices it).
//! 5. **Stock / backorder outlook** — what ships now, what is backordered (and when it is expected),
//!    or `out_of_stock` when the product cannot be backordered and stock is short.
//!
//! Credit exposure, buyer approval and routing are about the whole order, not a line: they divert
//! a placed order (see [`super::orders::diversions`]) after these steps.
//!
//! ## Reason codes (stable: API clients match on them; messages are for people)
//! | step       | code                 | when |
//! |------------|----------------------|------|
//! | visibility | `unknown_sku`        | no product has this SKU (or external id / id), or it is outside the account's catalogs (the same answer, so nothing can be probed) |
//! | visibility | `not_available`      | the product is in the account's catalogs but no longer sold |
//! | quantity   | `quantity`           | quantity below 1 |
//! | quantity   | `quantity_too_large` | above 1,000,000 units (or a line total that would overflow) |
//! | quantity   | `below_minimum`, `not_multiple`, `above_maximum` | the product's own rules |
//! | pricing    | `no_price`           | no valid price source covers this quantity for the account |
//! | licence    | `licence_required`   | the product's regulated class needs a licence type the account has none of for the ship-to state (or none in force yet) |
//! | licence    | `licence_expired`    | the account's licence of that type for the state has expired (the message names it and the date) |
//! | licence    | `licence_unverified` | the rule demands a licence staff verified, and its document is not verified yet |
//! | stock      | `out_of_stock`       | short of stock and the product cannot be backordered |
//!
//! Order-wide reasons (line 0: `empty`, `too_many_lines`, `account_onboarding`, `too_large`) are
//! decided by the service before or after these steps.

use super::catalog::{BackorderPolicy, QuantityProblem, QuantityRules, Sku, available};
use super::licences::{self, LicenceFacts};
use super::money::Money;
use super::orders::LineIssue;
use super::pricing::{PriceSource, ResolvedPrice, format_date, resolve};
use std::collections::{HashMap, HashSet};
use time::Date;

/// How a request names a product. SKUs are parsed once, where the request is read
/// ([`ProductRef::sku`]); ids and external ids are taken as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProductRef {
    Sku(Sku),
    ExternalId(String),
    Id(String),
    /// Text given as a SKU that no SKU can be (empty, too long, characters SKUs never have),
    /// written as SKUs are (trimmed, upper-case): it names no product and is refused as
    /// `unknown_sku`, like any SKU nobody has.
    NotASku(String),
}

impl ProductRef {
    /// A product named by SKU text as typed (any case, surrounding space ignored).
    pub fn sku(text: &str) -> ProductRef {
        match Sku::parse(text) {
            Ok(sku) => ProductRef::Sku(sku),
            Err(_) => ProductRef::NotASku(Sku::normalize(text)),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            ProductRef::Sku(s) => s.as_str(),
            ProductRef::ExternalId(s) | ProductRef::Id(s) | ProductRef::NotASku(s) => s,
        }
    }

    fn what(&self) -> &'static str {
        match self {
            ProductRef::Sku(_) | ProductRef::NotASku(_) => "SKU",
            ProductRef::ExternalId(_) => "external id",
            ProductRef::Id(_) => "id",
        }
    }
}

/// What the evaluation needs to know of a product (implemented by the store's product row).
pub trait Orderable {
    fn id(&self) -> &str;
    fn sku(&self) -> &str;
    fn external_id(&self) -> Option<&str>;
    fn active(&self) -> bool;
    fn rules(&self) -> QuantityRules;
    fn backorder(&self) -> BackorderPolicy;
    /// The product's regulated class as a [`licences::class_code`], if it has one.
    fn regulated_class(&self) -> Option<&str> {
        None
    }
}

/// Stock of one product over all warehouses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockFact {
    /// On hand minus reserved (never negative), plus whatever the order being amended holds.
    pub available: i64,
    /// The earliest expected arrival of incoming stock.
    pub next_eta: Option<Date>,
}

/// Everything the evaluation decides on, loaded by the store for the products the lines name.
pub struct Facts<'a, P> {
    /// The products found for the requested references (unknown ones are simply absent).
    pub products: &'a [P],
    /// Ids of the products the account may see (its catalogs).
    pub visible: &'a HashSet<String>,
    /// Candidate price sources per product id, for this account.
    pub prices: &'a HashMap<String, Vec<PriceSource>>,
    /// Stock per product id; a product without a row has none.
    pub stock: &'a HashMap<String, StockFact>,
    /// Price validity and licences are decided on this day.
    pub today: Date,
    /// The account's licences, the rules and the ship-to state; loaded only when a line names a
    /// regulated product ([`LicenceFacts::default`] otherwise: nothing to check).
    pub licences: &'a LicenceFacts,
}

/// One requested line. Repeats of a product are expected merged already (see [`merge_repeats`]);
/// lines of the same product are otherwise evaluated independently (a quote's alternatives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requested {
    /// 1-based position in the request, carried into every issue.
    pub line: usize,
    pub product: ProductRef,
    pub quantity: i64,
}

/// What happens to a line's units: shipped from stock now, backordered, or neither (refused).
/// `ships_now + backordered + short == quantity`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockOutlook {
    /// Available now over all warehouses, before this line.
    pub available: i64,
    /// Units that ship from stock now.
    pub ships_now: i64,
    /// Units that wait for incoming stock (only when the product allows backorders).
    pub backordered: i64,
    /// Units that can neither ship nor be backordered (the line is `out_of_stock`).
    pub short: i64,
    /// When incoming stock is expected, if known.
    pub eta: Option<Date>,
}

impl StockOutlook {
    pub fn of(quantity: i64, available_now: i64, policy: BackorderPolicy, eta: Option<Date>) -> StockOutlook {
        let available_now = available_now.max(0);
        let ships_now = quantity.clamp(0, available_now);
        let rest = quantity.max(0) - ships_now;
        let (backordered, short) = match policy {
            BackorderPolicy::Allow => (rest, 0),
            BackorderPolicy::Deny => (0, rest),
        };
        StockOutlook { available: available_now, ships_now, backordered, short, eta }
    }

    /// The expected date as people read it ("4 Dec 2026"), or "" when unknown.
    pub fn eta_label(&self) -> String {
        self.eta.map(format_date).unwrap_or_default()
    }

    /// Whether every unit ships now.
    pub fn all_now(&self) -> bool {
        self.backordered == 0 && self.short == 0
    }

    /// A quantity far beyond stock — more than ten times what is available, and at least 100
    /// units backordered — which checkout asks the buyer to confirm (a typo such as 204,998
    /// boxes against 226 should not become a backorder silently).
    pub fn far_beyond_stock(&self) -> bool {
        let quantity = self.ships_now + self.backordered + self.short;
        self.backordered >= 100 && quantity > self.available.saturating_mul(10)
    }

    /// What ships now, for carts and checkout: "Ships now: all", "Ships now: 8".
    pub fn ships_now_label(&self) -> String {
        if self.all_now() { "Ships now: all".to_string() } else { format!("Ships now: {}", self.ships_now) }
    }

    /// What waits, for carts and checkout: "Backordered: 4, expected 4 Dec 2026" ("" if nothing).
    pub fn backorder_label(&self) -> String {
        match (self.backordered, self.eta) {
            (0, _) => String::new(),
            (n, Some(d)) => format!("Backordered: {n}, expected {}", format_date(d)),
            (n, None) => format!("Backordered: {n}, no date yet"),
        }
    }
}

/// A line that passed visibility, quantity rules and pricing, with its stock outlook.
#[derive(Clone, Debug)]
pub struct Line<'a, P> {
    pub line: usize,
    pub product: &'a P,
    pub quantity: i64,
    pub price: ResolvedPrice,
    /// Unit price × quantity, rounded to cents (half away from zero).
    pub line_total: Money,
    pub stock: StockOutlook,
}

/// The evaluation's answer for one requested line.
#[derive(Clone, Debug)]
pub enum Verdict<'a, P> {
    /// Every step passed: it can be ordered as asked.
    Ok(Line<'a, P>),
    /// Priced, but a step after pricing blocks it (stock today, licences later). The priced line
    /// is kept: a cart shows it so the buyer can fix it, a quote still gives its price.
    Blocked(Line<'a, P>, LineIssue),
    /// Refused before it could be priced.
    Refused(LineIssue),
}

impl<'a, P> Verdict<'a, P> {
    pub fn line(&self) -> usize {
        match self {
            Verdict::Ok(l) | Verdict::Blocked(l, _) => l.line,
            Verdict::Refused(i) => i.line,
        }
    }

    pub fn issue(&self) -> Option<&LineIssue> {
        match self {
            Verdict::Ok(_) => None,
            Verdict::Blocked(_, i) | Verdict::Refused(i) => Some(i),
        }
    }

    /// The priced line, whether or not a later step blocks it.
    pub fn priced(&self) -> Option<&Line<'a, P>> {
        match self {
            Verdict::Ok(l) | Verdict::Blocked(l, _) => Some(l),
            Verdict::Refused(_) => None,
        }
    }
}

/// Every product reference that names a product: its SKU, its id and its external id.
fn index<P: Orderable>(products: &[P]) -> HashMap<ProductRef, &P> {
    let mut by_ref = HashMap::with_capacity(products.len() * 3);
    for p in products {
        by_ref.insert(ProductRef::sku(p.sku()), p);
        by_ref.insert(ProductRef::Id(p.id().to_string()), p);
        if let Some(e) = p.external_id() {
            by_ref.insert(ProductRef::ExternalId(e.to_string()), p);
        }
    }
    by_ref
}

/// Merges lines that name the same product — by SKU, id or external id alike — keeping the first
/// position and adding quantities (saturating, so an absurd sum fails the quantity bound instead
/// of wrapping). A line with a quantity below 1 is kept on its own, to be refused by itself.
/// Line numbers are positions in `lines`, from 1.
pub fn merge_repeats<P: Orderable>(products: &[P], lines: &[(ProductRef, i64)]) -> Vec<Requested> {
    let by_ref = index(products);
    let mut out: Vec<Requested> = Vec::with_capacity(lines.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, (r, quantity)) in lines.iter().enumerate() {
        if *quantity >= 1 {
            let key = match by_ref.get(r) {
                Some(p) => format!("id:{}", p.id()),
                None => format!("{}:{}", r.what(), r.label()),
            };
            if let Some(&at) = seen.get(&key) {
                out[at].quantity = out[at].quantity.saturating_add(*quantity);
                continue;
            }
            seen.insert(key, out.len());
        }
        out.push(Requested { line: i + 1, product: r.clone(), quantity: *quantity });
    }
    out
}

/// The issue of a line that cannot be served from stock and cannot be backordered. Placement
/// reports the same when stock ran out between evaluation and reservation.
pub fn out_of_stock(line: usize, sku: &str, available_now: i64) -> LineIssue {
    let message = if available_now <= 0 {
        format!("{sku} is out of stock and cannot be backordered.")
    } else {
        format!("{sku}: only {available_now} available; it cannot be backordered.")
    };
    LineIssue::new(line, sku, "out_of_stock", message)
}

fn quantity_issue(line: usize, sku: &str, problem: &QuantityProblem) -> LineIssue {
    LineIssue::new(line, sku, problem.code(), format!("{sku}: {problem}."))
}

/// Evaluates every requested line against the facts: one verdict per line, in the same order.
pub fn evaluate<'a, P: Orderable>(facts: &Facts<'a, P>, lines: &[Requested]) -> Vec<Verdict<'a, P>> {
    let by_ref = index(facts.products);
    lines.iter().map(|r| evaluate_line(facts, &by_ref, r)).collect()
}

fn evaluate_line<'a, P: Orderable>(
    facts: &Facts<'a, P>,
    by_ref: &HashMap<ProductRef, &'a P>,
    r: &Requested,
) -> Verdict<'a, P> {
    let (line, qty) = (r.line, r.quantity);
    let wanted = &r.product;
    // 1. Catalog visibility. A product outside the account's catalogs answers exactly as a SKU
    // nobody has (code, message, label as the request wrote it): the account cannot probe which
    // products exist for other accounts.
    let unknown = || {
        let label = wanted.label();
        let message = format!("There is no product with {} {label}.", wanted.what());
        Verdict::Refused(LineIssue::new(line, label, "unknown_sku", message))
    };
    let Some(&p) = by_ref.get(wanted) else {
        return unknown();
    };
    if !facts.visible.contains(p.id()) {
        return unknown();
    }
    let sku = p.sku();
    if !p.active() {
        return Verdict::Refused(LineIssue::new(line, sku, "not_available", format!("{sku} is no longer sold.")));
    }
    // 2. Quantity rules (the line bound included).
    if let Err(problem) = p.rules().check(qty) {
        return Verdict::Refused(quantity_issue(line, sku, &problem));
    }
    // 3. Pricing.
    let Some(price) = facts.prices.get(p.id()).and_then(|s| resolve(s, qty, facts.today)) else {
        let message = format!("{sku} has no price for your account at quantity {qty}; ask your rep.");
        return Verdict::Refused(LineIssue::new(line, sku, "no_price", message));
    };
    let Some(total) = price.unit_price.checked_mul_qty(qty) else {
        // Unreachable with the line bound and sane prices; refused rather than wrapped.
        let message = format!("{sku}: the line total is too large.");
        return Verdict::Refused(LineIssue::new(line, sku, QuantityProblem::TooLarge.code(), message));
    };
    // 4. Licences (the stock outlook is still worked out: a cart shows it).
    let licence_issue = p.regulated_class().and_then(|class| {
        let l = facts.licences;
        let problem = licences::check(class, &l.region, &l.licences, &l.rules, facts.today).err()?;
        Some(LineIssue::new(line, sku, problem.code(), format!("{sku}: {}", problem.message(&l.region))))
    });
    // 5. Stock and backorder outlook.
    let fact = facts.stock.get(p.id()).cloned().unwrap_or_default();
    let stock = StockOutlook::of(qty, fact.available, p.backorder(), fact.next_eta);
    let short = stock.short;
    let priced = Line { line, product: p, quantity: qty, price, line_total: total.round_to_cents(), stock };
    if let Some(issue) = licence_issue {
        return Verdict::Blocked(priced, issue);
    }
    if short > 0 {
        let issue = out_of_stock(line, sku, priced.stock.available);
        return Verdict::Blocked(priced, issue);
    }
    Verdict::Ok(priced)
}

/// Available stock for a product from its totals, counting back what the order being amended holds
/// (`held`): an amendment releases its old reservation before reserving the new lines.
pub fn available_for(on_hand: i64, reserved: i64, held: i64) -> i64 {
    available(on_hand, reserved.saturating_sub(held.max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::MAX_LINE_QUANTITY;
    use crate::domain::pricing::{SourceKind, Tier};

    struct P {
        id: &'static str,
        sku: &'static str,
        active: bool,
        rules: QuantityRules,
        backorder: BackorderPolicy,
    }

    impl Orderable for P {
        fn id(&self) -> &str {
            self.id
        }
        fn sku(&self) -> &str {
            self.sku
        }
        fn external_id(&self) -> Option<&str> {
            Some(self.id).filter(|_| self.id == "p1").map(|_| "ERP-1")
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

    fn product(id: &'static str, sku: &'static str, backorder: BackorderPolicy) -> P {
        P { id, sku, active: true, rules: QuantityRules::default(), backorder }
    }

    fn base(price: &str) -> Vec<PriceSource> {
        vec![PriceSource {
            kind: SourceKind::Base,
            id: "base".into(),
            name: "BASE".into(),
            priority: 0,
            valid_from: None,
            valid_to: None,
            tiers: vec![Tier { min_qty: 1, unit_price: Money::parse(price).unwrap() }],
        }]
    }

    fn req(line: usize, sku: &str, quantity: i64) -> Requested {
        Requested { line, product: ProductRef::sku(sku), quantity }
    }

    #[test]
    fn a_quantity_far_beyond_stock_is_flagged_an_ordinary_backorder_is_not() {
        let allow = BackorderPolicy::Allow;
        assert!(StockOutlook::of(204_998, 226, allow, None).far_beyond_stock(), "the typo");
        assert!(!StockOutlook::of(300, 226, allow, None).far_beyond_stock(), "a backorder of 74");
        assert!(!StockOutlook::of(60, 0, allow, None).far_beyond_stock(), "a small backorder of an item out of stock");
        assert!(StockOutlook::of(500, 0, allow, None).far_beyond_stock());
        assert!(!StockOutlook::of(2_000, 226, allow, None).far_beyond_stock(), "under ten times the stock");
        assert!(!StockOutlook::of(204_998, 226, BackorderPolicy::Deny, None).far_beyond_stock(), "refused anyway");
    }

    #[test]
    fn every_step_has_its_one_reason() {
        let mut hidden = product("p3", "HID-1", BackorderPolicy::Deny);
        hidden.active = false;
        let mut old = product("p4", "OLD-1", BackorderPolicy::Deny);
        old.active = false;
        let products = vec![
            product("p1", "GLV-1", BackorderPolicy::Deny),
            product("p2", "BO-1", BackorderPolicy::Allow),
            hidden,
            old,
            product("p5", "FREE-1", BackorderPolicy::Deny),
        ];
        let visible: HashSet<String> = ["p1", "p2", "p4", "p5"].into_iter().map(String::from).collect();
        let prices: HashMap<String, Vec<PriceSource>> =
            [("p1", base("2.50")), ("p2", base("0.0125")), ("p4", base("1"))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let eta = time::macros::date!(2026 - 12 - 04);
        let stock: HashMap<String, StockFact> = [
            ("p1".to_string(), StockFact { available: 5, next_eta: None }),
            ("p2".to_string(), StockFact { available: 2, next_eta: Some(eta) }),
        ]
        .into_iter()
        .collect();
        let facts = Facts {
            products: &products,
            visible: &visible,
            prices: &prices,
            stock: &stock,
            today: eta,
            licences: &Default::default(),
        };
        let lines = vec![
            req(1, " glv-1 ", 4),
            req(2, "NOPE", 1),
            req(3, "HID-1", 1),
            req(4, "OLD-1", 1),
            req(5, "GLV-1", 0),
            req(6, "GLV-1", MAX_LINE_QUANTITY + 1),
            req(7, "FREE-1", 1),
            req(8, "GLV-1", 6),
            req(9, "BO-1", 7),
        ];
        let v = evaluate(&facts, &lines);
        let codes: Vec<&str> = v.iter().map(|v| v.issue().map(|i| i.code).unwrap_or("ok")).collect();
        assert_eq!(
            codes,
            vec![
                "ok",
                "unknown_sku",
                "unknown_sku",
                "not_available",
                "quantity",
                "quantity_too_large",
                "no_price",
                "out_of_stock",
                "ok"
            ]
        );
        assert_eq!(v[1].issue().unwrap().message, "There is no product with SKU NOPE.");
        assert_eq!(v[2].issue().unwrap().message, "There is no product with SKU HID-1.", "reads as unknown");
        assert_eq!(v[3].issue().unwrap().message, "OLD-1 is no longer sold.");
        assert_eq!(v[7].issue().unwrap().message, "GLV-1: only 5 available; it cannot be backordered.");
        let first = v[0].priced().unwrap();
        assert_eq!((first.line_total, first.stock.ships_now), (Money::parse("10.00").unwrap(), 4));
        assert_eq!(first.stock.ships_now_label(), "Ships now: all");
        let bo = v[8].priced().unwrap();
        assert_eq!(bo.line_total, Money::parse("0.09").unwrap(), "0.0875 rounds half away from zero");
        assert_eq!((bo.stock.ships_now, bo.stock.backordered, bo.stock.short), (2, 5, 0));
        assert_eq!(bo.stock.ships_now_label(), "Ships now: 2");
        assert_eq!(bo.stock.backorder_label(), "Backordered: 5, expected 4 Dec 2026");
        assert!(v[7].priced().is_some(), "a line blocked by stock keeps its price");
    }

    #[test]
    fn a_regulated_line_without_a_licence_is_blocked_with_its_price_and_outlook() {
        use crate::domain::licences::{Licence, LicenceFacts, LicenceRule, LicenceType};
        struct Regulated(P);
        impl Orderable for Regulated {
            fn id(&self) -> &str {
                self.0.id
            }
            fn sku(&self) -> &str {
                self.0.sku
            }
            fn external_id(&self) -> Option<&str> {
                None
            }
            fn active(&self) -> bool {
                true
            }
            fn rules(&self) -> QuantityRules {
                QuantityRules::default()
            }
            fn backorder(&self) -> BackorderPolicy {
                BackorderPolicy::Deny
            }
            fn regulated_class(&self) -> Option<&str> {
                (self.0.id == "cs").then_some("controlled_substance")
            }
        }
        let products = vec![
            Regulated(product("cs", "CS-1", BackorderPolicy::Deny)),
            Regulated(product("g", "GLV-1", BackorderPolicy::Deny)),
        ];
        let visible: HashSet<String> = ["cs", "g"].into_iter().map(String::from).collect();
        let prices: HashMap<String, Vec<PriceSource>> =
            [("cs", base("150.00")), ("g", base("1.00"))].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let stock: HashMap<String, StockFact> = [("cs", 3), ("g", 3)]
            .into_iter()
            .map(|(k, n)| (k.to_string(), StockFact { available: n, next_eta: None }))
            .collect();
        let today = time::macros::date!(2026 - 11 - 26);
        let rule = LicenceRule {
            class: "controlled_substance".into(),
            licence_type: LicenceType::Dea,
            region: None,
            require_verified: true,
        };
        let expired = Licence {
            licence_type: LicenceType::Dea,
            number: "RX-1234".into(),
            issuing_region: "TX".into(),
            valid_from: None,
            expires_on: time::macros::date!(2026 - 10 - 31),
            verified: true,
        };
        let licences = LicenceFacts { region: "TX".into(), licences: vec![expired], rules: vec![rule] };
        let facts = Facts {
            products: &products,
            visible: &visible,
            prices: &prices,
            stock: &stock,
            today,
            licences: &licences,
        };
        let v = evaluate(&facts, &[req(1, "CS-1", 2), req(2, "GLV-1", 2), req(3, "CS-1", 9)]);
        let issue = v[0].issue().unwrap();
        assert_eq!(issue.code, "licence_expired");
        assert_eq!(
            issue.message,
            "CS-1: Controlled substances need a verified DEA registration for shipping to TX; licence RX-1234 expired on 31 Oct 2026."
        );
        let priced = v[0].priced().expect("a blocked line keeps its price");
        assert_eq!((priced.line_total, priced.stock.ships_now), (Money::parse("300.00").unwrap(), 2));
        assert!(v[1].issue().is_none(), "an ordinary product is not checked");
        assert_eq!(v[2].issue().unwrap().code, "licence_expired", "the licence step comes before stock");
        let mut renewed = licences.clone();
        renewed.licences[0].expires_on = time::macros::date!(2027 - 10 - 31);
        let facts = Facts { licences: &renewed, ..facts };
        assert!(evaluate(&facts, &[req(1, "CS-1", 2)])[0].issue().is_none());
    }

    #[test]
    fn repeats_merge_by_product_whatever_names_them() {
        let products = vec![product("p1", "GLV-1", BackorderPolicy::Deny)];
        let lines = vec![
            (ProductRef::sku("glv-1"), 2),
            (ProductRef::sku("NOPE"), 1),
            (ProductRef::Id("p1".into()), 3),
            (ProductRef::ExternalId("ERP-1".into()), 4),
            (ProductRef::sku("GLV-1"), 0),
            (ProductRef::sku("nope"), 1),
            (ProductRef::sku("GLV-1"), i64::MAX),
        ];
        let merged = merge_repeats(&products, &lines);
        let got: Vec<(usize, &str, i64)> = merged.iter().map(|r| (r.line, r.product.label(), r.quantity)).collect();
        assert_eq!(got, vec![(1, "GLV-1", i64::MAX), (2, "NOPE", 2), (5, "GLV-1", 0)]);
    }
}
