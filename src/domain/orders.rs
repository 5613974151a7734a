//! Orders: channels, the status machine, stock allocation, the reasons a line is refused, the
//! quick-order parser and amendment diffs. Pure rules, no I/O.

use super::account::AccountStatus;
use super::auth::ActorChannel;
use super::catalog::Sku;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where an order came from. Only a field: every channel goes through the same placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Portal,
    Rep,
    Phone,
    Api,
}

impl Channel {
    /// The channels an order can come in through today (the history's filter lists them).
    pub const ALL: [Channel; 4] = [Channel::Portal, Channel::Rep, Channel::Phone, Channel::Api];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Rep => "rep",
            Channel::Phone => "phone",
            Channel::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(s: &str) -> &'static str {
        match s {
            "portal" => "Portal",
            "rep" => "Sales rep",
            "phone" => "Phone",
            "api" => "API",
            "edi" => "EDI",
            "punchout" => "Punchout",
            "staff" => "Seller staff",
            "system" | "cli" => "System",
            _ => "Other",
        }
    }
}

impl From<Channel> for ActorChannel {
    /// The order's channel, as its audit rows and events record who placed it.
    fn from(c: Channel) -> ActorChannel {
        match c {
            Channel::Portal => ActorChannel::Portal,
            Channel::Rep => ActorChannel::Rep,
            Channel::Phone => ActorChannel::Phone,
            Channel::Api => ActorChannel::Api,
        }
    }
}

/// Order states (DESIGN.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Draft,
    PendingApproval,
    Placed,
    Escalated,
    Confirmed,
    PartiallyShipped,
    Shipped,
    Closed,
    Cancelled,
    OnHold,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::Draft,
        OrderStatus::PendingApproval,
        OrderStatus::Placed,
        OrderStatus::Escalated,
        OrderStatus::Confirmed,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Closed,
        OrderStatus::Cancelled,
        OrderStatus::OnHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::PendingApproval => "pending_approval",
            OrderStatus::Placed => "placed",
            OrderStatus::Escalated => "escalated",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Closed => "closed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::OnHold => "on_hold",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Draft => "Draft",
            OrderStatus::PendingApproval => "Awaiting approval",
            OrderStatus::Placed => "Placed",
            OrderStatus::Escalated => "With your rep",
            OrderStatus::Confirmed => "Confirmed",
            OrderStatus::PartiallyShipped => "Partly shipped",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Closed => "Closed",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::OnHold => "On hold",
        }
    }

    /// Open orders can still be amended or cancelled: nothing has shipped yet.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Draft
                | OrderStatus::PendingApproval
                | OrderStatus::Placed
                | OrderStatus::Escalated
                | OrderStatus::Confirmed
                | OrderStatus::OnHold
        )
    }

    /// Whether the state machine allows `self → to`.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        match (self, to) {
            (from, Cancelled) => from.is_open(),
            (Draft, PendingApproval | Escalated | Placed) => true,
            // Waiting for the customer's approval, or with the rep: nothing is reserved until
            // approval or the rep places it (and the credit step may hold it then); confirming
            // one directly would skip stock and credit.
            (PendingApproval, Placed | Escalated | OnHold) => true,
            (Escalated, Placed | OnHold) => true,
            (Placed, Confirmed | OnHold) => true,
            (Confirmed, OnHold | PartiallyShipped | Shipped) => true,
            (OnHold, Placed | Confirmed) => true,
            (PartiallyShipped, Shipped) => true,
            (Shipped, Closed) => true,
            _ => false,
        }
    }
}

/// Splits `wanted` units over warehouses in their fixed order (the seller's sort), taking what each
/// has available. Returns the allocations and the quantity no warehouse could supply.
pub fn allocate(available: &[(String, i64)], wanted: i64) -> (Vec<(String, i64)>, i64) {
    let mut left = wanted;
    let mut out = Vec::new();
    for (warehouse, avail) in available {
        if left == 0 {
            break;
        }
        let take = (*avail).clamp(0, left);
        if take > 0 {
            out.push((warehouse.clone(), take));
            left -= take;
        }
    }
    (out, left)
}

/// Why a line (line 0: the whole order) cannot be ordered. The code is stable for API clients; the
/// message is for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineIssue {
    /// 1-based line of the request; 0 when the issue is about the whole order.
    pub line: usize,
    pub sku: String,
    pub code: &'static str,
    pub message: String,
}

impl LineIssue {
    pub fn new(line: usize, sku: &str, code: &'static str, message: impl Into<String>) -> LineIssue {
        LineIssue { line, sku: sku.to_string(), code, message: message.into() }
    }
}

/// A step of the placement pipeline that sends an order somewhere other than straight to `placed`.
/// Later steps (licences, credit exposure, buyer approval, routing) add their diversions here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diversion {
    pub status: OrderStatus,
    pub reason: String,
}

/// The diversions that apply to an order of an account in `account_status`. Credit holds divert to
/// `on_hold`: the order is kept (and its stock reserved) until finance releases it.
pub fn diversions(account_status: AccountStatus) -> Vec<Diversion> {
    let mut out = Vec::new();
    if account_status == AccountStatus::OnHold {
        out.push(Diversion {
            status: OrderStatus::OnHold,
            reason: "The account is on credit hold; finance will release the order.".into(),
        });
    }
    out
}

/// One line of a quick-order paste, after merging repeats of a SKU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastedLine {
    pub sku: String,
    pub quantity: i64,
    /// 1-based line numbers of the input that made this line (several when a SKU repeats).
    pub lines: Vec<usize>,
}

/// A pasted line that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasteError {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paste {
    pub lines: Vec<PastedLine>,
    pub errors: Vec<PasteError>,
}

/// The most lines one paste may hold.
pub const MAX_PASTE_LINES: usize = 2_000;

/// A first column's heading as spreadsheets name it.
fn is_sku_heading(field: &str) -> bool {
    matches!(
        field.to_lowercase().trim_end_matches(['#', '.', ':']),
        "sku" | "item" | "part" | "product" | "code" | "item number" | "article" | "material" | "catalog" | "ref"
    )
}

/// A quantity column's heading ("Qty", "Order quantity", "Units", "Menge").
fn is_qty_heading(field: &str) -> bool {
    let f = field.to_lowercase();
    !f.chars().any(|c| c.is_ascii_digit())
        && ["qty", "quant", "amount", "units", "count", "pcs", "menge", "cantidad"].iter().any(|w| f.contains(w))
}

/// Reads a quick-order paste: `SKU qty`, `SKU,qty`, `SKU;qty` or `SKU<TAB>qty` (as copied from a
/// spreadsheet), a header row allowed, blank lines ignored, a missing quantity meaning 1, the same
/// SKU twice merged (quantities added, first position kept).
pub fn parse_paste(text: &str) -> Paste {
    let mut paste = Paste::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        if paste.lines.len() + paste.errors.len() >= MAX_PASTE_LINES {
            paste.errors.push(PasteError {
                line: n,
                text: line.to_string(),
                reason: format!("more than {MAX_PASTE_LINES} lines; paste the rest separately"),
            });
            break;
        }
        let fields: Vec<&str> = line
            .split(|c: char| c == ',' || c == '\t' || c == ';' || c.is_whitespace())
            .map(|f| f.trim().trim_matches('"'))
            .filter(|f| !f.is_empty())
            .collect();
        let (sku, qty) = match fields.as_slice() {
            [sku] => (*sku, None),
            [sku, qty] => (*sku, Some(*qty)),
            [sku, qty, ..] => (*sku, Some(*qty)),
            [] => continue,
        };
        let quantity = match qty {
            None => Ok(1),
            Some(q) => parse_quantity(q),
        };
        let is_header = paste.lines.is_empty()
            && paste.errors.is_empty()
            && (quantity.is_err() || qty.is_none())
            && (is_sku_heading(sku) || (!sku.chars().any(|c| c.is_ascii_digit()) && qty.is_some_and(is_qty_heading)));
        if is_header {
            continue;
        }
        let quantity = match quantity {
            Ok(q) => q,
            Err(reason) => {
                paste.errors.push(PasteError { line: n, text: line.to_string(), reason });
                continue;
            }
        };
        let sku = sku.to_uppercase();
        match index.get(&sku) {
            Some(&at) => {
                let merged = &mut paste.lines[at];
                merged.quantity = merged.quantity.saturating_add(quantity);
                merged.lines.push(n);
            }
            None => {
                index.insert(sku.clone(), paste.lines.len());
                paste.lines.push(PastedLine { sku, quantity, lines: vec![n] });
            }
        }
    }
    paste
}

/// A paste with the SKU of the line numbered `line` (1-based) replaced by `sku` — the one-click
/// fix of a "did you mean" — on every line that named the same SKU (a repeat is merged into one
/// line, so it is fixed once for all). The rest of each line (quantity, separators) and every other
/// line are kept as written; line ends become `\n`. `None` when that line holds no readable SKU
/// (the text changed since it was checked): nothing is replaced then.
pub fn replace_pasted_sku(text: &str, line: usize, sku: &Sku) -> Option<String> {
    let paste = parse_paste(text);
    let lines = &paste.lines.iter().find(|l| l.lines.contains(&line))?.lines;
    let is_sep = |c: char| c == ',' || c == '\t' || c == ';' || c == '"' || c.is_whitespace();
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if !lines.contains(&(i + 1)) {
            out.push(raw.to_string());
            continue;
        }
        // The first field as `parse_paste` reads it: after leading blanks, a byte-order mark and
        // an opening quote, up to the next separator.
        let start = raw.find(|c: char| !is_sep(c) && c != '\u{feff}')?;
        let end = raw[start..].find(is_sep).map_or(raw.len(), |e| start + e);
        out.push(format!("{}{sku}{}", &raw[..start], &raw[end..]));
    }
    Some(out.join("\n"))
}

fn parse_quantity(q: &str) -> Result<i64, String> {
    let cleaned = q.replace('_', "");
    let cleaned = cleaned.strip_suffix(".0").unwrap_or(&cleaned);
    match cleaned.parse::<i64>() {
        Ok(v) if v > 0 && v <= super::input::MAX_QUANTITY => Ok(v),
        Ok(v) if v <= 0 => Err(format!("quantity “{q}” must be at least 1")),
        Ok(_) => Err(format!("quantity “{q}” is too large")),
        Err(_) => Err(format!("“{q}” is not a whole-number quantity")),
    }
}

/// The edit distance between two short strings (for "did you mean").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to a mistyped SKU, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(sku: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (sku.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(sku, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// What an amendment changed on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineChange {
    pub sku: String,
    pub from_qty: i64,
    pub to_qty: i64,
}

/// What an amendment changed: lines (0 = removed / added) and header fields (field, from, to).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderDiff {
    pub lines: Vec<LineChange>,
    pub fields: Vec<(String, String, String)>,
}

impl OrderDiff {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.fields.is_empty()
    }

    /// A one-line human summary ("AB-1: 10 → 20; CD-2 removed; PO: — → 4711").
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .lines
            .iter()
            .map(|c| match (c.from_qty, c.to_qty) {
                (0, to) => format!("{} added ({to})", c.sku),
                (from, 0) => format!("{} removed (was {from})", c.sku),
                (from, to) => format!("{}: {from} → {to}", c.sku),
            })
            .collect();
        parts.extend(self.fields.iter().map(|(f, a, b)| {
            let show = |s: &str| if s.is_empty() { "—".to_string() } else { s.to_string() };
            format!("{f}: {} → {}", show(a), show(b))
        }));
        parts.join("; ")
    }
}

/// Compares line quantities by SKU (order of `before`, then new SKUs in the order of `after`).
pub fn diff_lines(before: &[(String, i64)], after: &[(String, i64)]) -> Vec<LineChange> {
    let old: BTreeMap<&str, i64> = before.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    let new: BTreeMap<&str, i64> = after.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    let mut out = Vec::new();
    for (sku, q) in before {
        let to = new.get(sku.as_str()).copied().unwrap_or(0);
        if to != *q {
            out.push(LineChange { sku: sku.clone(), from_qty: *q, to_qty: to });
        }
    }
    for (sku, q) in after {
        if !old.contains_key(sku.as_str()) {
            out.push(LineChange { sku: sku.clone(), from_qty: 0, to_qty: *q });
        }
    }
    out
}

/// How a price moved since a previous order (for the reorder review).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceMove {
    Same,
    Up,
    Down,
}

pub fn price_move(before: i64, now: i64) -> PriceMove {
    match now.cmp(&before) {
        std::cmp::Ordering::Equal => PriceMove::Same,
        std::cmp::Ordering::Greater => PriceMove::Up,
        std::cmp::Ordering::Less => PriceMove::Down,
    }
}

/// The quantity an account usually orders of a product: the most frequent line quantity, the larger
/// one on a tie (so a reorder is never short).
pub fn usual_quantity(quantities: &[i64]) -> i64 {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for q in quantities {
        *counts.entry(*q).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(q, n)| (*n, *q)).map(|(q, _)| q).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paste_formats_headers_blanks_and_merges() {
        let p = parse_paste("SKU,Qty\nAB-100 5\n\ncd-200,3\nEF-300\t12\nab-100;2\nGH-400\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<(&str, i64)> = p.lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
        assert_eq!(got, vec![("AB-100", 7), ("CD-200", 3), ("EF-300", 12), ("GH-400", 1)]);
        assert_eq!(p.lines[0].lines, vec![2, 6]);
    }

    #[test]
    fn paste_reports_bad_quantities_with_line_numbers() {
        let p = parse_paste("AB-1 x\nAB-2 0\nAB-3 -4\nAB-4 2.5\nAB-5 3\nAB-6 10.0");
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4]);
        assert!(p.errors[0].reason.contains("not a whole-number"));
        assert!(p.errors[1].reason.contains("at least 1"));
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[1].quantity, 10);
    }

    #[test]
    fn spreadsheet_headings_are_skipped_on_the_first_line() {
        for heading in
            ["Item #\tQty", "Part Number\tOrder Qty", "Material\tQuantity", "SKU:", "Article No.\tUnits", "Code;Menge"]
        {
            let p = parse_paste(&format!("{heading}\nAB-1\t2\n"));
            assert!(p.errors.is_empty(), "{heading}: {:?}", p.errors);
            assert_eq!(p.lines.len(), 1, "{heading}");
        }
        // A first line with a SKU and a bad quantity is a line, not a heading.
        let p = parse_paste("AB-1 qty\nAB-2 3");
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 1));
    }

    #[test]
    fn a_header_is_only_skipped_on_the_first_line() {
        let p = parse_paste("AB-1 2\nsku qty");
        assert_eq!(p.lines.len(), 1);
        assert_eq!(p.errors.len(), 1);
    }

    #[test]
    fn a_suggestion_replaces_the_sku_of_its_lines_only() {
        let sku = |s: &str| Sku::parse(s).unwrap();
        let text = "SKU\tQty\nAB-1\t2\n  \"ab-9x\",3\nCD-2 4\nAB-9X;5";
        let fixed = replace_pasted_sku(text, 3, &sku("AB-9")).unwrap();
        assert_eq!(fixed, "SKU\tQty\nAB-1\t2\n  \"AB-9\",3\nCD-2 4\nAB-9;5");
        let p = parse_paste(&fixed);
        let got: Vec<(&str, i64)> = p.lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
        assert_eq!(got, vec![("AB-1", 2), ("AB-9", 8), ("CD-2", 4)]);
        // A SKU alone on its line; a byte-order mark before it stays.
        assert_eq!(replace_pasted_sku("\u{feff}AB-9X\r\nCD-2 1", 1, &sku("ab-9")).unwrap(), "\u{feff}AB-9\nCD-2 1");
        // A line that is blank, a header, unreadable or past the end names no SKU: nothing changes.
        for n in [0, 1, 6] {
            assert_eq!(replace_pasted_sku(text, n, &sku("ZZ-1")), None, "line {n}");
        }
        assert_eq!(replace_pasted_sku("AB-1 x", 1, &sku("ZZ-1")), None);
    }

    #[test]
    fn paste_of_500_lines() {
        let text: String = (0..500).map(|i| format!("SKU-{i:05}\t{}\n", i % 7 + 1)).collect();
        let p = parse_paste(&text);
        assert_eq!(p.lines.len(), 500);
        assert!(p.errors.is_empty());
    }

    #[test]
    fn allocation_follows_warehouse_order_and_reports_shortfall() {
        let wh = vec![("A".to_string(), 3), ("B".to_string(), 0), ("C".to_string(), 10)];
        assert_eq!(allocate(&wh, 5), (vec![("A".into(), 3), ("C".into(), 2)], 0));
        assert_eq!(allocate(&wh, 20), (vec![("A".into(), 3), ("C".into(), 10)], 7));
        assert_eq!(allocate(&wh, 2), (vec![("A".into(), 2)], 0));
        assert_eq!(allocate(&[("A".to_string(), -2)], 2), (vec![], 2));
    }

    #[test]
    fn status_machine() {
        use OrderStatus::*;
        assert!(Placed.can_become(Cancelled));
        assert!(Placed.can_become(Confirmed));
        assert!(!Shipped.can_become(Cancelled));
        assert!(!Cancelled.can_become(Placed));
        assert!(!Closed.is_open());
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn suggestions_are_close_typos_only() {
        let c = ["GLV-NIT-M", "GLV-NIT-L", "SYR-10ML"];
        assert_eq!(did_you_mean("GLV-NTI-M", c), Some("GLV-NIT-M"));
        assert_eq!(did_you_mean("XXXXXXXX", c), None);
    }

    #[test]
    fn diff_and_summary() {
        let before = vec![("A".to_string(), 10), ("B".to_string(), 5)];
        let after = vec![("A".to_string(), 20), ("C".to_string(), 1)];
        let d = OrderDiff { lines: diff_lines(&before, &after), fields: vec![("PO".into(), "".into(), "4711".into())] };
        assert_eq!(d.summary(), "A: 10 → 20; B removed (was 5); C added (1); PO: — → 4711");
    }

    #[test]
    fn usual_quantity_prefers_frequent_then_larger() {
        assert_eq!(usual_quantity(&[10, 20, 10, 5]), 10);
        assert_eq!(usual_quantity(&[5, 20]), 20);
        assert_eq!(usual_quantity(&[]), 1);
    }
}
