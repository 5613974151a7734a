//! Routing (DESIGN.md §3 "routing rules"; issue 14 §3): whether a customer's order goes to the
//! account's owning rep before it is placed. Pure: the store loads the rules and facts, the
//! service diverts the order to `escalated` with every reason named.
//!
//! - **Self-service** accounts: never; buyers place orders directly.
//! - **Rep-led** accounts: always; a buyer's order is a *request* that the rep turns into an order.
//! - **Hybrid** accounts: when one of the seller's routing rules catches it — total above an
//!   amount, a line above a quantity, a product flagged "consult a specialist", one of the
//!   account's first N orders, delivery notes for the seller — and self-service otherwise.
//!
//! Routing looks at orders the customer sends (the portal and the API). Orders the seller's own
//! staff place for the customer (a rep, the desk on the phone) are the rep's work already.

use super::account::OwnershipMode;
use super::money::Money;

/// A seller-wide routing rule (hybrid accounts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    OrderTotalOver(Money),
    LineQuantityOver(i64),
    ConsultProduct,
    FirstOrders(i64),
    HasNotes,
}

impl Rule {
    pub fn code(&self) -> &'static str {
        match self {
            Rule::OrderTotalOver(_) => "order_total",
            Rule::LineQuantityOver(_) => "line_quantity",
            Rule::ConsultProduct => "consult_product",
            Rule::FirstOrders(_) => "first_orders",
            Rule::HasNotes => "has_notes",
        }
    }

    /// The rule in words, for the admin page.
    pub fn describe(&self) -> String {
        match self {
            Rule::OrderTotalOver(m) => format!("Orders over ${m}"),
            Rule::LineQuantityOver(q) => format!("A line of more than {q} units"),
            Rule::ConsultProduct => "A product flagged “consult a specialist”".into(),
            Rule::FirstOrders(n) => format!("The account's first {n} orders"),
            Rule::HasNotes => "Orders with delivery notes".into(),
        }
    }
}

/// A line as routing sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub sku: String,
    pub quantity: i64,
    pub consult: bool,
}

/// What routing looks at.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub mode: OwnershipMode,
    /// The order comes from the customer (portal, API), not from the seller's staff.
    pub from_customer: bool,
    pub total: Money,
    pub lines: &'a [Line],
    /// Orders the account placed before this one (not counting cancelled ones).
    pub prior_orders: i64,
    pub has_notes: bool,
    /// The owning rep's name, for the reason.
    pub rep: Option<&'a str>,
}

/// Why the order goes to the rep (every rule that caught it), or nothing: it is placed directly.
pub fn route(f: &Facts<'_>, rules: &[Rule]) -> Vec<String> {
    if !f.from_customer {
        return Vec::new();
    }
    let rep = f.rep.unwrap_or("your sales rep");
    match f.mode {
        OwnershipMode::SelfService => Vec::new(),
        OwnershipMode::RepLed => vec![format!("{rep} places the orders of this account: your request is with them.")],
        OwnershipMode::Hybrid => {
            rules.iter().filter_map(|r| fired(r, f)).map(|why| format!("{why} Sent to {rep}.")).collect()
        }
    }
}

fn fired(rule: &Rule, f: &Facts<'_>) -> Option<String> {
    match rule {
        Rule::OrderTotalOver(m) => {
            (f.total > *m).then(|| format!("Orders over ${m} go to your rep (this one is ${}).", f.total))
        }
        Rule::LineQuantityOver(q) => f
            .lines
            .iter()
            .find(|l| l.quantity > *q)
            .map(|l| format!("{} × {} is more than {q} units of one product.", l.quantity, l.sku)),
        Rule::ConsultProduct => {
            let skus: Vec<&str> = f.lines.iter().filter(|l| l.consult).map(|l| l.sku.as_str()).collect();
            (!skus.is_empty()).then(|| format!("{} needs a specialist's advice.", skus.join(", ")))
        }
        Rule::FirstOrders(n) => (f.prior_orders < *n)
            .then(|| format!("This is one of the account's first {n} orders (number {}).", f.prior_orders + 1)),
        Rule::HasNotes => f.has_notes.then(|| "The order has notes for us.".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(mode: OwnershipMode, lines: &[Line]) -> Facts<'_> {
        Facts {
            mode,
            from_customer: true,
            total: Money::from_cents(100_000),
            lines,
            prior_orders: 10,
            has_notes: false,
            rep: Some("Rosa"),
        }
    }

    #[test]
    fn each_mode_routes_as_it_says() {
        let lines = [Line { sku: "A".into(), quantity: 1, consult: false }];
        let rules = [Rule::OrderTotalOver(Money::from_cents(50_000))];
        assert!(route(&facts(OwnershipMode::SelfService, &lines), &rules).is_empty());
        assert_eq!(
            route(&facts(OwnershipMode::RepLed, &lines), &[]),
            ["Rosa places the orders of this account: your request is with them."]
        );
        assert_eq!(
            route(&facts(OwnershipMode::Hybrid, &lines), &rules),
            ["Orders over $500.00 go to your rep (this one is $1,000.00). Sent to Rosa."]
        );
        let staff = Facts { from_customer: false, ..facts(OwnershipMode::RepLed, &lines) };
        assert!(route(&staff, &rules).is_empty(), "the rep's own orders are not routed to the rep");
    }

    #[test]
    fn every_rule_names_what_caught_the_order() {
        let lines = [
            Line { sku: "GLV".into(), quantity: 600, consult: false },
            Line { sku: "PUMP".into(), quantity: 1, consult: true },
        ];
        let f = Facts { prior_orders: 1, has_notes: true, ..facts(OwnershipMode::Hybrid, &lines) };
        let rules = [Rule::LineQuantityOver(500), Rule::ConsultProduct, Rule::FirstOrders(3), Rule::HasNotes];
        let got = route(&f, &rules);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].starts_with("600 × GLV is more than 500 units"));
        assert!(got[1].starts_with("PUMP needs a specialist's advice."));
        assert!(got[2].starts_with("This is one of the account's first 3 orders (number 2)."));
        assert!(got[3].starts_with("The order has notes for us."));
    }

    proptest! {
        /// A hybrid account's order is routed exactly when some rule fires; a bigger order is never
        /// routed less; self-service never is.
        #[test]
        fn routing_is_monotonic_in_the_total(a in 0i64..10_000_000, extra in 0i64..10_000_000, limit in 0i64..10_000_000) {
            let lines = [Line { sku: "A".into(), quantity: 1, consult: false }];
            let rules = [Rule::OrderTotalOver(Money::from_cents(limit))];
            let small = Facts { total: Money::from_cents(a), ..facts(OwnershipMode::Hybrid, &lines) };
            let big = Facts { total: Money::from_cents(a + extra), ..small.clone() };
            prop_assert!(route(&small, &rules).len() <= route(&big, &rules).len());
            prop_assert_eq!(route(&small, &rules).is_empty(), a <= limit);
            let own = Facts { mode: OwnershipMode::SelfService, ..big.clone() };
            prop_assert!(route(&own, &rules).is_empty());
        }
    }
}
