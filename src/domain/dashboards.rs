//! The seller's dashboards (issue 18 §4): what counts as an order, self-service shares, the usual
//! interval between an account's orders and the rule that says it stopped ordering, when a cart is
//! abandoned, and the month windows the charts cover. Pure: the store reads the monthly rollup and
//! each account's recent order times, the service applies these rules.
//!
//! **What counts.** An order counts from the moment it is submitted until it is cancelled, whatever
//! its status in between (pending approval, escalated, on hold, shipped, closed); drafts never count.
//! Revenue is the order's subtotal (net of tax), exact in ten-thousandths; an amendment moves it.
//! Orders count in the month (UTC) they were placed, for the channel they came in through.
//!
//! **Self-service** is an order the customer placed themselves: channels portal and punchout
//! (`commissions::SELF_SERVICE`, the same set the rep's statement uses); rep, phone (the desk), API
//! and EDI are not.
//!
//! **Usual interval.** The median of the gaps between an account's last [`RECENT_ORDERS`] orders
//! (at least two orders), so it follows how the account orders now, not five years ago. An account
//! **stopped ordering** when it has at least [`MIN_ORDERS_FOR_RHYTHM`] orders and the time since its
//! last order is at least twice its usual interval and at least [`MIN_OVERDUE_DAYS`] days past it
//! (a daily orderer is not "stopped" after two quiet days). Worst first: the largest multiple of the
//! usual interval, then the longest silence.

use super::money::Money;
use std::cmp::Ordering;

/// How many of an account's latest orders its usual interval is taken from.
pub const RECENT_ORDERS: usize = 13;
/// Orders an account needs before it can be said to have stopped ordering (two gaps).
pub const MIN_ORDERS_FOR_RHYTHM: i64 = 3;
/// At least this many days past the usual interval before an account counts as stopped.
pub const MIN_OVERDUE_DAYS: i64 = 7;
/// A cart untouched for this long (seconds) is abandoned.
pub const ABANDONED_AFTER: i64 = 86_400;
/// The month windows the dashboards offer.
pub const WINDOWS: [u32; 2] = [12, 24];

const DAY: i64 = 86_400;

/// Whether an order in this status counts in the dashboards (see the module doc).
pub fn counts(status: &str) -> bool {
    !matches!(status, "draft" | "cancelled")
}

pub fn is_self_service(channel: &str) -> bool {
    super::commissions::is_self_service(channel)
}

/// The month (UTC) of a unix time, `YYYY-MM`.
pub fn month_of(unix: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(unix).map(|t| t.date()).unwrap_or(time::Date::MIN);
    super::commissions::period_of(date)
}

/// The `n` months ending with the month of `now`, oldest first.
pub fn last_months(now: i64, n: u32) -> Vec<String> {
    let mut months = vec![month_of(now)];
    for _ in 1..n.max(1) {
        let earlier = super::commissions::previous_period(months.last().map(String::as_str).unwrap_or("1970-01"));
        months.push(earlier);
    }
    months.reverse();
    months
}

/// The first month of the window of `n` months ending with `month` (`YYYY-MM`).
pub fn window_start(month: &str, n: u32) -> String {
    let mut first = month.to_string();
    for _ in 1..n.max(1) {
        first = super::commissions::previous_period(&first);
    }
    first
}

/// A window as asked for: 24 if asked for 24, else 12.
pub fn window(asked: Option<u32>) -> u32 {
    match asked {
        Some(24) => 24,
        _ => 12,
    }
}

/// A part of a whole, exact: shown as a percentage with one decimal, rounded half up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    pub part: i64,
    pub whole: i64,
}

impl Share {
    pub fn new(part: i64, whole: i64) -> Share {
        Share { part, whole }
    }

    /// Tenths of a percent (0..=1000), rounded half up; `None` when the whole is zero.
    pub fn permille(self) -> Option<i64> {
        if self.whole <= 0 {
            return None;
        }
        let (p, w) = (self.part.max(0) as i128, self.whole as i128);
        Some(((p * 2000 + w) / (2 * w)) as i64)
    }

    /// `42.5%`, or `–` when there is nothing to share.
    pub fn percent(self) -> String {
        match self.permille() {
            Some(pm) => format!("{}.{}%", pm / 10, pm % 10),
            None => "–".into(),
        }
    }

    /// For CSV and the API: `42.5`, or empty.
    pub fn plain(self) -> String {
        self.permille().map(|pm| format!("{}.{}", pm / 10, pm % 10)).unwrap_or_default()
    }
}

/// Orders and revenue, split into self-service and the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adoption {
    pub orders: i64,
    pub self_orders: i64,
    pub revenue: Money,
    pub self_revenue: Money,
}

impl Adoption {
    pub fn add(&mut self, channel: &str, orders: i64, revenue: Money) {
        self.orders += orders;
        self.revenue = self.revenue.checked_add(revenue).unwrap_or(self.revenue);
        if is_self_service(channel) {
            self.self_orders += orders;
            self.self_revenue = self.self_revenue.checked_add(revenue).unwrap_or(self.self_revenue);
        }
    }

    pub fn order_share(&self) -> Share {
        Share::new(self.self_orders, self.orders)
    }

    pub fn revenue_share(&self) -> Share {
        Share::new(self.self_revenue.raw(), self.revenue.raw())
    }
}

/// The median gap (seconds) between the given order times (any order), `None` under two orders.
/// Of an even number of gaps, the mean of the middle two (rounded down).
pub fn median_gap(times: &[i64]) -> Option<i64> {
    if times.len() < 2 {
        return None;
    }
    let mut t = times.to_vec();
    t.sort_unstable();
    let mut gaps: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let n = gaps.len();
    Some(if n % 2 == 1 { gaps[n / 2] } else { (gaps[n / 2 - 1] + gaps[n / 2]).div_euclid(2) })
}

/// The order times kept for an account (`account_rhythm.recent`): unix seconds, newest first,
/// each written in [`TIME_WIDTH`] digits and separated by one space, so the store adds a new order
/// by prepending it and keeps the latest [`RECENT_ORDERS`] by cutting the text at
/// [`RECENT_TEXT_LEN`] characters, in the same statement, without reading the orders again.
pub fn parse_recent(text: &str) -> Vec<i64> {
    text.split_ascii_whitespace().filter_map(|t| t.parse().ok()).collect()
}

/// Digits per time in `account_rhythm.recent`: unix seconds have ten from 2001 to 2286.
pub const TIME_WIDTH: usize = 10;
/// The text of [`RECENT_ORDERS`] times: what the store keeps of the prepended text.
pub const RECENT_TEXT_LEN: usize = RECENT_ORDERS * (TIME_WIDTH + 1) - 1;

/// One time as `account_rhythm.recent` holds it (zero-padded to [`TIME_WIDTH`]).
pub fn format_time(t: i64) -> String {
    format!("{:0width$}", t.max(0), width = TIME_WIDTH)
}

/// Times (newest first) as `account_rhythm.recent` holds them.
pub fn format_recent(times: &[i64]) -> String {
    times.iter().map(|&t| format_time(t)).collect::<Vec<_>>().join(" ")
}

/// What the store's prepend-and-cut does to `recent` when an order at `t` (no older than any kept)
/// is added: the model the SQL in `store::dashboards` follows, tested here.
pub fn push_recent(recent: &str, t: i64) -> String {
    let joined = if recent.is_empty() { format_time(t) } else { format!("{} {recent}", format_time(t)) };
    joined.chars().take(RECENT_TEXT_LEN).collect()
}

/// Days, rounded half up, of a span in seconds (for display).
pub fn days(secs: i64) -> i64 {
    (secs.max(0) + DAY / 2) / DAY
}

/// How an account orders: how many orders, its last one, its usual interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rhythm {
    pub orders: i64,
    pub last_at: i64,
    /// Median gap in seconds between its recent orders (`None` under two orders).
    pub usual_gap: Option<i64>,
}

impl Rhythm {
    pub fn of(orders: i64, recent: &[i64]) -> Rhythm {
        Rhythm { orders, last_at: recent.iter().copied().max().unwrap_or(0), usual_gap: median_gap(recent) }
    }

    pub fn since_last(&self, now: i64) -> i64 {
        (now - self.last_at).max(0)
    }

    /// Whether the account stopped ordering by the rule in the module doc.
    pub fn stopped(&self, now: i64) -> bool {
        let Some(usual) = self.usual_gap else { return false };
        let since = self.since_last(now);
        self.orders >= MIN_ORDERS_FOR_RHYTHM && since >= 2 * usual && since - usual >= MIN_OVERDUE_DAYS * DAY
    }

    /// The silence as a multiple of the usual interval, in tenths (`25` is 2.5×); `None` without
    /// an interval. An interval of zero (orders in the same second) counts as one second.
    pub fn overdue_tenths(&self, now: i64) -> Option<i64> {
        let usual = self.usual_gap?.max(1) as i128;
        Some(((self.since_last(now) as i128 * 10) / usual).min(i64::MAX as i128) as i64)
    }
}

/// Worst first: the larger multiple of the usual interval (compared exactly), then the longer
/// silence. Accounts without an interval sort last.
pub fn worse_first(a: &Rhythm, b: &Rhythm, now: i64) -> Ordering {
    match (a.usual_gap, b.usual_gap) {
        (Some(ua), Some(ub)) => {
            let (sa, sb) = (a.since_last(now) as i128, b.since_last(now) as i128);
            // sa/ua vs sb/ub without division.
            (sb * ua.max(1) as i128).cmp(&(sa * ub.max(1) as i128)).then(sb.cmp(&sa))
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => b.since_last(now).cmp(&a.since_last(now)),
    }
}

/// Whether a cart last touched at `last_at` is abandoned at `now`.
pub fn abandoned(last_at: i64, now: i64) -> bool {
    now - last_at >= ABANDONED_AFTER
}

/// What an order change does to the monthly rollup: (orders, revenue) to add to the row of its
/// account, month and channel (which never change for an order). Zero when nothing moves.
pub fn rollup_delta(before: Option<(&str, i64)>, after: (&str, i64)) -> (i64, i64) {
    let value = |s: Option<(&str, i64)>| match s {
        Some((status, subtotal)) if counts(status) => (1, subtotal),
        _ => (0, 0),
    };
    let (bo, br) = value(before);
    let (ao, ar) = value(Some(after));
    (ao - bo, ar - br)
}

/// The unix times (UTC) a month `YYYY-MM` starts and the next one starts; `None` for a text that
/// is not a month.
pub fn month_bounds(month: &str) -> Option<(i64, i64)> {
    let start = |y: i32, m: u8| -> Option<i64> {
        let m = time::Month::try_from(m).ok()?;
        Some(time::Date::from_calendar_date(y, m, 1).ok()?.midnight().assume_utc().unix_timestamp())
    };
    let (y, m) = month.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((start(y, m)?, start(ny, nm)?))
}

/// **Who buys what.** What an account bought in a month, per product: the quantity, the revenue
/// (the lines' totals, net of tax) and how many of its orders had the product. The rollup keeps
/// one such row per account, month and product, and one per month and product over all accounts
/// with `buyers`: the accounts whose latest month of buying the product is that month. The
/// accounts that bought a product in a window ending now are then the sum of `buyers` over the
/// window — a count of distinct accounts that adds up month by month.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct ProductMonth {
    pub product_id: String,
    pub quantity: i64,
    pub revenue: i64,
    pub orders: i64,
}

/// How an account-month's row of one product changes when the month is recounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductChange {
    pub product_id: String,
    /// What to add to the product's month over all accounts.
    pub quantity: i64,
    pub revenue: i64,
    pub orders: i64,
    /// The row as it is now (`None`: the account did not buy the product that month).
    pub now: Option<ProductMonth>,
    /// Whether the account started or stopped buying the product that month (its latest month of
    /// buying it may move).
    pub presence_changed: bool,
}

/// The changes from the kept rows of an account-month (`old`) to its recount (`new`), one per
/// product whose row differs, by product id (the order the writes take, so two nodes never
/// deadlock on the same rows).
pub fn product_changes(old: &[ProductMonth], new: &[ProductMonth]) -> Vec<ProductChange> {
    // By product id, each side's row (a row of `new` without orders counts as none); a map, as an
    // account-month may hold thousands of products.
    type Sides<'a> = (Option<&'a ProductMonth>, Option<&'a ProductMonth>);
    let mut sides: std::collections::BTreeMap<&str, Sides<'_>> = std::collections::BTreeMap::new();
    for r in old {
        sides.entry(r.product_id.as_str()).or_default().0.get_or_insert(r);
    }
    for r in new {
        let after = &mut sides.entry(r.product_id.as_str()).or_default().1;
        if after.is_none() && r.orders > 0 {
            *after = Some(r);
        }
    }
    // (quantity, revenue, orders) of a side, zero where it has no row.
    let sums = |r: Option<&ProductMonth>| r.map_or((0, 0, 0), |r| (r.quantity, r.revenue, r.orders));
    sides
        .into_iter()
        .filter_map(|(id, (before, after))| {
            if before == after {
                return None;
            }
            let (b, a) = (sums(before), sums(after));
            Some(ProductChange {
                product_id: id.to_string(),
                quantity: a.0 - b.0,
                revenue: a.1 - b.1,
                orders: a.2 - b.2,
                now: after.cloned(),
                presence_changed: before.is_some() != after.is_some(),
            })
        })
        .collect()
}

/// What the rollup counted of one order for one product, or counts now: the quantity and
/// revenue of the order's lines of the product. An order that does not count (a draft, a
/// cancelled order) has none.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct OrderCount {
    pub order_id: String,
    pub product_id: String,
    pub quantity: i64,
    pub revenue: i64,
}

/// One order's lines summed per product (an order may have a product on several lines), in
/// product order: what the order counts.
pub fn per_product(mut lines: Vec<OrderCount>) -> Vec<OrderCount> {
    lines.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    let mut out: Vec<OrderCount> = Vec::with_capacity(lines.len());
    for l in lines {
        match out.last_mut() {
            Some(last) if last.product_id == l.product_id => {
                last.quantity += l.quantity;
                last.revenue += l.revenue;
            }
            _ => out.push(l),
        }
    }
    out
}

/// What was counted of one order, packed into the one row the rollup keeps of it
/// (`order_product_counts.products`): a JSON array of `[product id, quantity, revenue]`, one per
/// product, in product order. One row per order, not one per product: counting an order writes
/// one entry instead of one per line.
pub fn pack_counts(counts: &[OrderCount]) -> String {
    let mut rows: Vec<(&str, i64, i64)> =
        counts.iter().map(|c| (c.product_id.as_str(), c.quantity, c.revenue)).collect();
    rows.sort_unstable();
    serde_json::to_string(&rows).expect("a list of strings and integers serialises")
}

/// The counts packed by [`pack_counts`] (or by the rebuild's SQL, in any order and spacing) for
/// the order `order_id`, in product order; an error names the order and what is wrong.
pub fn unpack_counts(order_id: &str, packed: &str) -> Result<Vec<OrderCount>, String> {
    let rows: Vec<(String, i64, i64)> = serde_json::from_str(packed)
        .map_err(|e| format!("what was counted of order {order_id} cannot be read ({e}): {packed:.80}"))?;
    let mut counts: Vec<OrderCount> = rows
        .into_iter()
        .map(|(product_id, quantity, revenue)| OrderCount {
            order_id: order_id.to_string(),
            product_id,
            quantity,
            revenue,
        })
        .collect();
    counts.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    Ok(counts)
}

/// What a change of one order's counting adds to its account-month, per product whose count
/// moved, by product id: the quantity and revenue moved, and `orders` +1 where the product
/// entered the order's counting, −1 where it left (`was`: what was counted of the order; `is`:
/// what counts now; each at most one row per product).
pub fn order_delta(was: &[OrderCount], is: &[OrderCount]) -> Vec<ProductMonth> {
    let mut by_product: std::collections::BTreeMap<&str, [i64; 3]> = std::collections::BTreeMap::new();
    for (rows, sign) in [(was, -1), (is, 1)] {
        for r in rows {
            let d = by_product.entry(r.product_id.as_str()).or_default();
            d[0] += sign * r.quantity;
            d[1] += sign * r.revenue;
            d[2] += sign;
        }
    }
    by_product
        .into_iter()
        .filter(|(_, d)| *d != [0, 0, 0])
        .map(|(id, [quantity, revenue, orders])| ProductMonth { product_id: id.to_string(), quantity, revenue, orders })
        .collect()
}

/// An account-month's rows of the products in `delta` once `delta` is added (several rows of a
/// product add up: several orders' differences): `old` holds the kept rows of those products
/// (none where the account had not bought the product that month), the result a row for each
/// product of either (a row without orders: the product left the month; [`product_changes`] reads
/// it as none).
pub fn add_delta(old: &[ProductMonth], delta: &[ProductMonth]) -> Vec<ProductMonth> {
    let mut rows: std::collections::BTreeMap<&str, ProductMonth> =
        old.iter().map(|r| (r.product_id.as_str(), r.clone())).collect();
    for d in delta {
        let r = rows.entry(d.product_id.as_str()).or_insert_with(|| ProductMonth {
            product_id: d.product_id.clone(),
            quantity: 0,
            revenue: 0,
            orders: 0,
        });
        r.quantity += d.quantity;
        r.revenue += d.revenue;
        r.orders += d.orders;
    }
    rows.into_values().collect()
}

/// The latest month an account bought a product in, from the latest of its other months
/// (`other`) and whether it bought it in `month`.
pub fn latest_month<'a>(other: Option<&'a str>, month: &'a str, bought: bool) -> Option<&'a str> {
    match (other, bought) {
        (Some(o), true) => Some(o.max(month)),
        (Some(o), false) => Some(o),
        (None, true) => Some(month),
        (None, false) => None,
    }
}

/// What a move of an account's latest month of buying a product does to `buyers`: one fewer in
/// the month it was, one more in the month it is (either may be none).
pub fn buyers_moves<'a>(was: Option<&'a str>, is: Option<&'a str>) -> impl Iterator<Item = (&'a str, i64)> {
    let moved = was != is;
    let gone = was.filter(|_| moved).map(|m| (m, -1));
    gone.into_iter().chain(is.filter(|_| moved).map(|m| (m, 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_orders_lines_count_per_product() {
        let line = |p: &str, q: i64, r: i64| OrderCount {
            order_id: "o".into(),
            product_id: p.into(),
            quantity: q,
            revenue: r,
        };
        let summed = per_product(vec![line("b", 2, 20), line("a", 1, 10), line("b", 3, 35), line("c", 1, 1)]);
        assert_eq!(summed, vec![line("a", 1, 10), line("b", 5, 55), line("c", 1, 1)]);
        assert_eq!(per_product(Vec::new()), Vec::new());
    }

    #[test]
    fn packed_counts_read_from_either_database_and_refuse_what_is_not_theirs() {
        // PostgreSQL's json_agg spaces its output, SQLite's json_group_array does not; either order.
        let pg = unpack_counts("o-9", r#"[["p-2", 3, 40000], ["p-1", -1, 5]]"#).unwrap();
        let lite = unpack_counts("o-9", r#"[["p-1",-1,5],["p-2",3,40000]]"#).unwrap();
        assert_eq!(pg, lite);
        assert_eq!(pg[0], OrderCount { order_id: "o-9".into(), product_id: "p-1".into(), quantity: -1, revenue: 5 });
        assert_eq!(unpack_counts("o-9", "[]").unwrap(), Vec::new());
        let e = unpack_counts("o-9", r#"[["p-1", 1.5, 5]]"#).unwrap_err();
        assert!(e.contains("order o-9"), "{e}");
        assert!(unpack_counts("o-9", "").is_err());
    }

    #[test]
    fn months_have_bounds_and_nonsense_has_none() {
        assert_eq!(month_bounds("2026-12"), Some((1_796_083_200, 1_798_761_600)));
        assert_eq!(month_bounds("2024-02").map(|(a, b)| (b - a) / 86_400), Some(29));
        for bad in ["2026-13", "2026-1", "26-01", "", "2026-00", "abcd-ef"] {
            assert_eq!(month_bounds(bad), None, "{bad}");
        }
        assert_eq!(month_of(1_796_083_200), "2026-12");
        assert_eq!(month_of(1_796_083_199), "2026-11");
    }

    #[test]
    fn the_latest_month_is_the_later_of_the_others_and_this_one_when_bought() {
        assert_eq!(latest_month(Some("2026-03"), "2026-05", true), Some("2026-05"));
        assert_eq!(latest_month(Some("2026-07"), "2026-05", true), Some("2026-07"));
        assert_eq!(latest_month(Some("2026-07"), "2026-05", false), Some("2026-07"));
        assert_eq!(latest_month(None, "2026-05", true), Some("2026-05"));
        assert_eq!(latest_month(None, "2026-05", false), None);
    }

    #[test]
    fn windows_start_n_minus_one_months_back() {
        assert_eq!(window_start("2026-12", 12), "2026-01");
        assert_eq!(window_start("2026-03", 12), "2025-04");
        assert_eq!(window_start("2026-03", 24), "2024-04");
        assert_eq!(window_start("2026-03", 1), "2026-03");
        assert_eq!(last_months(1_796_083_200, 12)[0], window_start("2026-12", 12));
    }

    #[test]
    fn a_recount_changes_only_the_rows_that_differ() {
        let row = |p: &str, q, o| ProductMonth { product_id: p.into(), quantity: q, revenue: q * 10, orders: o };
        let old = [row("a", 5, 1), row("b", 2, 1), row("c", 1, 1)];
        let new = [row("c", 1, 1), row("b", 6, 2), row("d", 3, 1)];
        let changes = product_changes(&old, &new);
        let ids: Vec<&str> = changes.iter().map(|c| c.product_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d"]);
        assert_eq!((changes[0].quantity, changes[0].orders, changes[0].presence_changed), (-5, -1, true));
        assert_eq!(changes[0].now, None);
        assert_eq!((changes[1].quantity, changes[1].revenue, changes[1].presence_changed), (4, 40, false));
        assert_eq!((changes[2].quantity, changes[2].presence_changed), (3, true));
        let moves = |was, is| buyers_moves(was, is).collect::<Vec<_>>();
        assert_eq!(moves(Some("2026-01"), Some("2026-03")), [("2026-01", -1), ("2026-03", 1)]);
        assert_eq!(moves(None, Some("2026-03")), [("2026-03", 1)]);
        assert_eq!(moves(Some("2026-03"), None), [("2026-03", -1)]);
        assert!(moves(Some("2026-03"), Some("2026-03")).is_empty());
        assert!(moves(None, None).is_empty());
    }

    #[test]
    fn shares_round_half_up_to_a_tenth_of_a_percent() {
        assert_eq!(Share::new(1, 3).percent(), "33.3%");
        assert_eq!(Share::new(2, 3).percent(), "66.7%");
        assert_eq!(Share::new(1, 2000).percent(), "0.1%"); // 0.05 % rounds up
        assert_eq!(Share::new(0, 0).percent(), "–");
        assert_eq!(Share::new(5, 5).plain(), "100.0");
    }

    #[test]
    fn months_end_with_this_one() {
        // 2026-03-15
        let now = 1_773_532_800;
        assert_eq!(month_of(now), "2026-03");
        assert_eq!(last_months(now, 4), ["2025-12", "2026-01", "2026-02", "2026-03"]);
        assert_eq!(last_months(now, 24).len(), 24);
        assert_eq!(window(Some(24)), 24);
        assert_eq!(window(Some(7)), 12);
    }

    #[test]
    fn median_gap_of_odd_and_even_counts() {
        assert_eq!(median_gap(&[0]), None);
        assert_eq!(median_gap(&[0, 10]), Some(10));
        assert_eq!(median_gap(&[30, 0, 10]), Some(15)); // gaps 10, 20
        assert_eq!(median_gap(&[0, 1, 2, 100]), Some(1)); // gaps 1, 1, 98
    }

    #[test]
    fn stopped_needs_twice_the_interval_and_a_week_past_it() {
        let week = 7 * DAY;
        let r = Rhythm::of(4, &[0, week, 2 * week, 3 * week]);
        assert_eq!(r.usual_gap, Some(week));
        assert!(!r.stopped(3 * week + 13 * DAY));
        assert!(r.stopped(3 * week + 14 * DAY));
        // A daily orderer is not stopped after two quiet days, but is after eight.
        let d = Rhythm::of(3, &[0, DAY, 2 * DAY]);
        assert!(!d.stopped(4 * DAY));
        assert!(d.stopped(10 * DAY));
        // Two orders are not a rhythm.
        assert!(!Rhythm::of(2, &[0, DAY]).stopped(100 * DAY));
        assert_eq!(r.overdue_tenths(3 * week + 14 * DAY), Some(20));
    }

    #[test]
    fn worst_first_by_multiple_then_silence() {
        let now = 100 * DAY;
        let weekly = Rhythm::of(5, &[now - 35 * DAY, now - 42 * DAY, now - 49 * DAY]); // 5× silent
        let monthly = Rhythm::of(5, &[now - 60 * DAY, now - 90 * DAY]); // 2×
        let single = Rhythm::of(1, &[now - 99 * DAY]);
        let mut v = vec![single.clone(), monthly.clone(), weekly.clone()];
        v.sort_by(|a, b| worse_first(a, b, now));
        assert_eq!(v, vec![weekly, monthly, single]);
    }

    #[test]
    fn recent_times_keep_the_latest_in_fixed_width() {
        let mut recent = String::new();
        for t in 1_700_000_000..1_700_000_020 {
            recent = push_recent(&recent, t);
        }
        let kept = parse_recent(&recent);
        assert_eq!(kept.len(), RECENT_ORDERS);
        assert_eq!(kept[0], 1_700_000_019);
        assert_eq!(kept[RECENT_ORDERS - 1], 1_700_000_007);
        assert_eq!(recent, format_recent(&kept));
        assert_eq!(format_recent(&[5, 1_700_000_000]), "0000000005 1700000000");
        assert_eq!(parse_recent("0000000005 1700000000"), vec![5, 1_700_000_000]);
    }

    #[test]
    fn rollup_deltas_follow_the_counting_rule() {
        assert_eq!(rollup_delta(None, ("placed", 500)), (1, 500));
        assert_eq!(rollup_delta(None, ("draft", 500)), (0, 0));
        assert_eq!(rollup_delta(Some(("placed", 500)), ("cancelled", 500)), (-1, -500));
        assert_eq!(rollup_delta(Some(("placed", 500)), ("confirmed", 700)), (0, 200));
        assert_eq!(rollup_delta(Some(("pending_approval", 500)), ("placed", 500)), (0, 0));
    }

    proptest! {
        /// After any sequence of changes to an order, the rollup's running sum equals what the
        /// order's final state counts for on its own.
        #[test]
        fn deltas_sum_to_the_final_state(steps in proptest::collection::vec((0usize..5, 0i64..1_000_000), 1..20)) {
            const S: [&str; 5] = ["placed", "cancelled", "confirmed", "draft", "on_hold"];
            let mut before: Option<(&str, i64)> = None;
            let (mut orders, mut revenue) = (0, 0);
            for (s, v) in steps {
                let after = (S[s], v);
                let (o, r) = rollup_delta(before, after);
                orders += o;
                revenue += r;
                before = Some(after);
            }
            let (fo, fr) = rollup_delta(None, before.unwrap());
            prop_assert_eq!((orders, revenue), (fo, fr));
        }

        /// Shares stay within 0..=100 % and a larger part never has a smaller share.
        #[test]
        fn shares_are_monotone(whole in 1i64..1_000_000_000, a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
            let (a, b) = (a % (whole + 1), b % (whole + 1));
            let (sa, sb) = (Share::new(a, whole).permille().unwrap(), Share::new(b, whole).permille().unwrap());
            prop_assert!((0..=1000).contains(&sa));
            if a <= b { prop_assert!(sa <= sb); }
        }

        /// Whatever order account-months are recounted in, applying each recount's changes (as
        /// the store does) keeps the months over all accounts equal to the sum of the accounts'
        /// rows, and the buyers of a product in any window ending now equal to the accounts with a
        /// row of it in the window.
        #[test]
        fn recounts_keep_the_product_months_and_their_buyers(
            recounts in proptest::collection::vec(
                (0usize..3, 0usize..4, proptest::collection::vec((0usize..3, 0i64..3, 0i64..50), 0..4)), 1..40)
        ) {
            use std::collections::BTreeMap;
            const MONTHS: [&str; 4] = ["2026-01", "2026-02", "2026-03", "2026-04"];
            // (account, month, product) -> row; (month, product) -> (quantity, revenue, orders, buyers)
            let mut accounts: BTreeMap<(usize, &str, String), ProductMonth> = BTreeMap::new();
            let mut months: BTreeMap<(String, String), (i64, i64, i64, i64)> = BTreeMap::new();
            for (account, month, lines) in recounts {
                let month = MONTHS[month];
                let mut new: Vec<ProductMonth> = Vec::new();
                for (p, orders, q) in lines {
                    let id = format!("p{p}");
                    if new.iter().any(|r| r.product_id == id) { continue; }
                    new.push(ProductMonth { product_id: id, quantity: q * orders, revenue: 7 * q * orders, orders });
                }
                let old: Vec<ProductMonth> = accounts.iter()
                    .filter(|((a, m, _), _)| *a == account && *m == month).map(|(_, r)| r.clone()).collect();
                let last = |acc: &BTreeMap<(usize, &str, String), ProductMonth>, p: &str| acc.keys()
                    .filter(|(a, _, q)| *a == account && q == p).map(|(_, m, _)| m.to_string()).max();
                for c in product_changes(&old, &new) {
                    let was = last(&accounts, &c.product_id);
                    let key = (account, month, c.product_id.clone());
                    match &c.now { Some(r) => { accounts.insert(key, r.clone()); } None => { accounts.remove(&key); } }
                    let e = months.entry((month.to_string(), c.product_id.clone())).or_default();
                    e.0 += c.quantity; e.1 += c.revenue; e.2 += c.orders;
                    if c.presence_changed {
                        let is = last(&accounts, &c.product_id);
                        for (m, d) in buyers_moves(was.as_deref(), is.as_deref()) {
                            months.entry((m.to_string(), c.product_id.clone())).or_default().3 += d;
                        }
                    } else {
                        prop_assert_eq!(was, last(&accounts, &c.product_id));
                    }
                }
            }
            for month in MONTHS {
                for p in 0..3 {
                    let id = format!("p{p}");
                    let rows: Vec<&ProductMonth> = accounts.iter()
                        .filter(|((_, m, q), _)| *m == month && *q == id).map(|(_, r)| r).collect();
                    let kept = months.get(&(month.to_string(), id.clone())).copied().unwrap_or_default();
                    prop_assert_eq!(kept.0, rows.iter().map(|r| r.quantity).sum::<i64>());
                    prop_assert_eq!(kept.1, rows.iter().map(|r| r.revenue).sum::<i64>());
                    prop_assert_eq!(kept.2, rows.iter().map(|r| r.orders).sum::<i64>());
                    let buyers: i64 = months.iter()
                        .filter(|((m, q), _)| m.as_str() >= month && *q == id).map(|(_, v)| v.3).sum();
                    let mut distinct: Vec<usize> = accounts.keys()
                        .filter(|(_, m, q)| *m >= month && *q == id).map(|(a, _, _)| *a).collect();
                    distinct.dedup();
                    prop_assert_eq!(buyers, distinct.len() as i64);
                }
            }
        }

        /// What was counted of an order reads back as it was packed, whatever the product ids
        /// hold (quotes, backslashes, NUL, any script) and however large the figures.
        #[test]
        fn packed_counts_read_back_as_they_were(
            rows in proptest::collection::btree_map(any::<String>(), (any::<i64>(), any::<i64>()), 0..12)
        ) {
            let counts: Vec<OrderCount> = rows.iter().rev()
                .map(|(p, (q, r))| OrderCount { order_id: "o-1".into(), product_id: p.clone(), quantity: *q, revenue: *r })
                .collect();
            let back = unpack_counts("o-1", &pack_counts(&counts)).unwrap();
            let mut sorted = counts.clone();
            sorted.sort_by(|a, b| a.product_id.cmp(&b.product_id));
            prop_assert_eq!(back, sorted);
        }

        /// Counting an account-month order by order — each order counted as it changes, in any
        /// order, with the changes of several orders added at once — keeps its rows equal to a
        /// recount of the month from its orders as they end.
        #[test]
        fn order_deltas_add_up_to_the_month(
            changes in proptest::collection::vec(
                (0usize..4, proptest::collection::vec((0usize..3, 1i64..20), 0..4), 1usize..3), 1..30)
        ) {
            use std::collections::BTreeMap;
            type Orders = BTreeMap<usize, Vec<OrderCount>>;
            /// A pass: the difference of each waiting order from what was counted of it, added to
            /// the month's kept rows at once.
            fn pass(waiting: &mut Vec<usize>, orders: &Orders, counted: &mut Orders, kept: &mut Vec<ProductMonth>) {
                let mut delta: Vec<ProductMonth> = Vec::new();
                waiting.sort_unstable();
                waiting.dedup();
                for o in waiting.drain(..) {
                    let is = orders[&o].clone();
                    let was = counted.insert(o, is.clone()).unwrap_or_default();
                    delta.extend(order_delta(&was, &is));
                }
                let new = add_delta(kept, &delta);
                for c in product_changes(kept, &new) {
                    kept.retain(|r| r.product_id != c.product_id);
                    kept.extend(c.now);
                }
            }
            // What each order counts now and what was counted of it; the month's kept rows.
            let mut orders: Orders = BTreeMap::new();
            let mut counted: Orders = BTreeMap::new();
            let mut kept: Vec<ProductMonth> = Vec::new();
            let mut waiting: Vec<usize> = Vec::new();
            for (order, lines, every) in changes {
                let mut now: Vec<OrderCount> = Vec::new();
                for (p, q) in lines {
                    let id = format!("p{p}");
                    match now.iter_mut().find(|c| c.product_id == id) {
                        Some(c) => { c.quantity += q; c.revenue += 3 * q; }
                        None => now.push(OrderCount { order_id: order.to_string(), product_id: id, quantity: q, revenue: 3 * q }),
                    }
                }
                orders.insert(order, now);
                waiting.push(order);
                if waiting.len().is_multiple_of(every) {
                    pass(&mut waiting, &orders, &mut counted, &mut kept);
                }
            }
            pass(&mut waiting, &orders, &mut counted, &mut kept);
            kept.sort_by(|a, b| a.product_id.cmp(&b.product_id));
            // The month recounted from its orders.
            let mut whole: BTreeMap<String, ProductMonth> = BTreeMap::new();
            for c in orders.values().flatten() {
                let r = whole.entry(c.product_id.clone()).or_insert_with(|| ProductMonth {
                    product_id: c.product_id.clone(), quantity: 0, revenue: 0, orders: 0 });
                r.quantity += c.quantity; r.revenue += c.revenue; r.orders += 1;
            }
            prop_assert_eq!(kept, whole.into_values().collect::<Vec<_>>());
        }

        /// The median gap lies between the smallest and the largest gap.
        #[test]
        fn median_within_gaps(mut times in proptest::collection::vec(0i64..1_000_000_000, 2..14)) {
            times.sort_unstable();
            let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
            let m = median_gap(&times).unwrap();
            prop_assert!(m >= *gaps.iter().min().unwrap() && m <= *gaps.iter().max().unwrap());
        }
    }
}
