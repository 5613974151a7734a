//! Fulfilment rules (DESIGN.md §3 "Shipment"): what a shipment may take from an order, the status
//! the order reaches, how arriving stock is shared among waiting backorders, and the carrier's
//! tracking link. Pure: the store loads the lines and allocations, the service writes the result.

use super::orders::OrderStatus;
use std::collections::HashSet;

/// Longest carrier name and tracking number kept.
pub const MAX_CARRIER_LEN: usize = 60;
pub const MAX_TRACKING_LEN: usize = 60;

/// An order line as a shipment from one warehouse sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippableLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    pub shipped: i64,
    /// Units reserved for this line at the shipment's warehouse (what it can ship now).
    pub reserved_here: i64,
    /// Units still waiting for stock (no warehouse holds them yet).
    pub backordered: i64,
}

/// Checks the requested `(line_no, quantity)` pairs of one shipment against the order's lines:
/// every line exists once, every quantity is at least 1 and at most what the warehouse holds for
/// the line. Every problem is reported, named by the request's position (`lines[i]`).
pub fn check_shipment(
    lines: &[ShippableLine],
    wanted: &[(i64, i64)],
    warehouse: &str,
) -> Result<(), Vec<(String, String)>> {
    let mut errors = Vec::new();
    if wanted.is_empty() {
        errors.push(("lines".to_string(), "Ship at least one line.".to_string()));
    }
    let mut seen = HashSet::new();
    for (i, (line_no, qty)) in wanted.iter().enumerate() {
        let field = format!("lines[{i}]");
        let Some(l) = lines.iter().find(|l| l.line_no == *line_no) else {
            errors.push((field, format!("The order has no line {line_no}.")));
            continue;
        };
        if !seen.insert(*line_no) {
            errors.push((field, format!("Line {line_no} ({}) is listed twice.", l.sku)));
        } else if *qty < 1 {
            errors.push((field, format!("Line {line_no} ({}): ship at least 1.", l.sku)));
        } else if *qty > l.reserved_here {
            let waiting = if l.backordered > 0 {
                format!("; {} backordered, not in stock yet", l.backordered)
            } else {
                String::new()
            };
            errors.push((
                field,
                format!(
                    "Line {line_no} ({}): {qty} asked, but only {} reserved at {warehouse}{waiting}.",
                    l.sku, l.reserved_here
                ),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The order's status once its lines have shipped `(quantity, shipped)`: shipped when every unit
/// has, partially shipped otherwise.
pub fn status_after_shipping(lines: &[(i64, i64)]) -> OrderStatus {
    if lines.iter().all(|(q, s)| s >= q) { OrderStatus::Shipped } else { OrderStatus::PartiallyShipped }
}

/// Shares `available` units that arrived among backorders waiting for them, in the order given
/// (oldest order first): each takes what it waits for while units last. Returns what each gets,
/// leaving out those that get nothing.
pub fn allocate_arrivals<K: Clone>(available: i64, waiting: &[(K, i64)]) -> Vec<(K, i64)> {
    let mut left = available.max(0);
    let mut out = Vec::new();
    for (key, wants) in waiting {
        if left == 0 {
            break;
        }
        let take = (*wants).max(0).min(left);
        if take > 0 {
            out.push((key.clone(), take));
            left -= take;
        }
    }
    out
}

/// The carrier's public tracking page for a tracking number, for the carriers Portico knows;
/// `None` for others (the number is shown as text).
pub fn tracking_url(carrier: &str, tracking: &str) -> Option<String> {
    let t = tracking.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let base = match carrier.trim().to_ascii_lowercase().as_str() {
        "ups" => "https://www.ups.com/track?tracknum=",
        "fedex" => "https://www.fedex.com/fedextrack/?trknbr=",
        "usps" => "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
        "dhl" => "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id=",
        _ => return None,
    };
    Some(format!("{base}{t}"))
}

/// The carriers offered in forms (others can be typed).
pub const KNOWN_CARRIERS: [&str; 4] = ["UPS", "FedEx", "USPS", "DHL"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(no: i64, qty: i64, shipped: i64, here: i64, bo: i64) -> ShippableLine {
        ShippableLine {
            line_no: no,
            sku: format!("S-{no}"),
            quantity: qty,
            shipped,
            reserved_here: here,
            backordered: bo,
        }
    }

    #[test]
    fn a_shipment_takes_only_what_the_warehouse_holds_for_each_line() {
        let lines = [line(1, 10, 0, 6, 4), line(2, 5, 5, 0, 0)];
        assert!(check_shipment(&lines, &[(1, 6)], "CHI").is_ok());
        let e = check_shipment(&lines, &[(1, 7), (2, 1), (3, 1), (1, 1), (1, 0)], "CHI").unwrap_err();
        let msgs: Vec<(&str, &str)> = e.iter().map(|e| (e.0.as_str(), e.1.as_str())).collect();
        assert_eq!(
            msgs,
            vec![
                ("lines[0]", "Line 1 (S-1): 7 asked, but only 6 reserved at CHI; 4 backordered, not in stock yet."),
                ("lines[1]", "Line 2 (S-2): 1 asked, but only 0 reserved at CHI."),
                ("lines[2]", "The order has no line 3."),
                ("lines[3]", "Line 1 (S-1) is listed twice."),
                ("lines[4]", "Line 1 (S-1) is listed twice."),
            ]
        );
        assert_eq!(check_shipment(&lines, &[], "CHI").unwrap_err()[0].0, "lines");
    }

    #[test]
    fn status_follows_what_has_shipped() {
        assert_eq!(status_after_shipping(&[(10, 10), (5, 5)]), OrderStatus::Shipped);
        assert_eq!(status_after_shipping(&[(10, 4), (5, 5)]), OrderStatus::PartiallyShipped);
    }

    #[test]
    fn tracking_links_for_known_carriers_only() {
        assert_eq!(
            tracking_url("UPS", "1Z999AA10123456784").unwrap(),
            "https://www.ups.com/track?tracknum=1Z999AA10123456784"
        );
        assert_eq!(tracking_url("Acme Freight", "123"), None);
        assert_eq!(tracking_url("ups", "12 34\"><script>"), None, "anything but letters and digits is text");
    }

    proptest! {
        #[test]
        fn arrivals_go_to_the_oldest_backorders_first(
            available in -5i64..200,
            waiting in proptest::collection::vec(0i64..50, 0..12),
        ) {
            let keyed: Vec<(usize, i64)> = waiting.iter().copied().enumerate().collect();
            let got = allocate_arrivals(available, &keyed);
            let total: i64 = got.iter().map(|g| g.1).sum();
            let wanted: i64 = waiting.iter().sum();
            // Never more than arrived, never more than waited, and all of one or the other.
            prop_assert_eq!(total, available.max(0).min(wanted));
            for (k, q) in &got {
                prop_assert!(*q > 0 && *q <= waiting[*k]);
            }
            // Oldest first: every backorder before the last served one is served in full.
            if let Some((last, _)) = got.last() {
                for (k, w) in keyed.iter().take(*last) {
                    let served = got.iter().find(|g| g.0 == *k).map(|g| g.1).unwrap_or(0);
                    prop_assert_eq!(served, *w);
                }
            }
        }
    }
}
