//! A rep's commission statement for a month as a PDF (issue 18 §3), drawn from its
//! [`CommissionDocument`] alone with the invoice's fonts and page and the statements' flowing
//! tables: the seller, the rep, the month and its status on top; what the month earned by channel
//! (self-service orders apart), the tier and cap adjustments and the total; then every line —
//! invoice, order, channel, SKU, base, rate, the rule that gave it and the commission, clawbacks
//! negative. Pure and deterministic, like the invoice.

use super::flow::{Col, Flow, PAD, span};
use super::text::{Font, Style, dollars, fit, win_ansi};
use super::{ACCENT, BAND, BODY, INK, LABEL, LEFT, MUTED, RIGHT, RULE, TOP, WIDTH};
use crate::domain::money::Money;

/// The most lines one commission statement PDF is drawn for.
pub const MAX_LINES: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the statement has {0} lines; a PDF is drawn for at most {MAX_LINES}")]
    TooManyLines(usize),
}

/// What the PDF shows, ready to print.
#[derive(Clone, Debug)]
pub struct CommissionDocument {
    /// The seller's name, then its address lines.
    pub seller: Vec<String>,
    pub rep_name: String,
    /// `YYYY-MM`.
    pub period: String,
    /// "Open", "Approved" or "Locked", with who and when where known.
    pub status: String,
    /// (channel, lines, base, commission) — self-service channels marked in the label.
    pub by_channel: Vec<(String, i64, Money, Money)>,
    pub base: Money,
    pub earned: Money,
    pub self_service: Money,
    /// (label, amount): tier bonuses (positive) and caps (negative).
    pub adjustments: Vec<(String, Money)>,
    pub total: Money,
    pub lines: Vec<CommissionLine>,
}

#[derive(Clone, Debug)]
pub struct CommissionLine {
    pub issued_on: String,
    /// The invoice or, for a clawback, the credit note.
    pub invoice: String,
    pub clawback: bool,
    pub order: String,
    pub channel: String,
    pub sku: String,
    pub base: Money,
    /// "6 %", with the rule that gave it ("Category Dental").
    pub rate: String,
    pub rule: String,
    pub amount: Money,
}

const CHANNELS: [Col; 4] =
    [("Channel", 232.0, false), ("Lines", 60.0, true), ("Base", 110.0, true), ("Commission", 110.0, true)];
const LINES: [Col; 8] = [
    ("Issued", 56.0, false),
    ("Invoice", 66.0, false),
    ("Order", 62.0, false),
    ("Channel", 58.0, false),
    ("SKU", 70.0, false),
    ("Base", 62.0, true),
    ("Rate / rule", 80.0, false),
    ("Commission", 58.0, true),
];
const _: () = assert!(span(&CHANNELS) == WIDTH && span(&LINES) == WIDTH, "tables span the page");

/// The PDF of `doc`.
pub fn render(doc: &CommissionDocument) -> Result<Vec<u8>, RenderError> {
    if doc.lines.len() > MAX_LINES {
        return Err(RenderError::TooManyLines(doc.lines.len()));
    }
    let mut f = Flow::new(win_ansi(&format!("Commission statement {} {}", doc.rep_name, doc.period)));
    header(&mut f, doc);
    f.section("BY CHANNEL".into());
    let mut rows: Vec<Vec<String>> = doc
        .by_channel
        .iter()
        .map(|(label, n, base, amount)| vec![label.clone(), n.to_string(), dollars(*base), dollars(*amount)])
        .collect();
    let n: i64 = doc.by_channel.iter().map(|c| c.1).sum();
    rows.push(vec!["All channels".into(), n.to_string(), dollars(doc.base), dollars(doc.earned)]);
    f.table(&CHANNELS, &rows);
    f.note(&format!("From your customers' self-service orders: {}", dollars(doc.self_service)));
    totals(&mut f, doc);
    f.section("LINES".into());
    if doc.lines.is_empty() {
        f.note("No lines this month.");
    } else {
        let rows: Vec<Vec<String>> = doc
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.issued_on.clone(),
                    if l.clawback { format!("{} (clawback)", l.invoice) } else { l.invoice.clone() },
                    l.order.clone(),
                    l.channel.clone(),
                    l.sku.clone(),
                    dollars(l.base),
                    format!("{} {}", l.rate, l.rule),
                    dollars(l.amount),
                ]
            })
            .collect();
        f.table(&LINES, &rows);
    }
    Ok(f.write())
}

/// The seller (top left); "Commission statement", the rep, the month and its status (top right).
fn header(f: &mut Flow, doc: &CommissionDocument) {
    let half = WIDTH / 2.0 - 10.0;
    let mut left_y = TOP + 14.0;
    for (i, line) in doc.seller.iter().filter(|l| !l.trim().is_empty()).take(8).enumerate() {
        let style = if i == 0 { Style::new(Font::Bold, 14.0, INK) } else { Style::new(Font::Regular, 9.0, MUTED) };
        let text = fit(&win_ansi(line), style, half);
        f.page().text(style, LEFT, left_y, &text);
        left_y += 12.0;
    }
    let title = Style::new(Font::Bold, 18.0, ACCENT);
    let rep = win_ansi(&doc.rep_name);
    let rep_style = Style::new(Font::Bold, 11.0, INK).shrunk_to(&rep, half);
    let page = f.page();
    page.text_right(title, RIGHT, TOP + 16.0, b"Commission statement");
    page.text_right(rep_style, RIGHT, TOP + 33.0, &rep);
    let mut right_y = TOP + 52.0;
    for (label, value) in [("Month", doc.period.as_str()), ("Status", doc.status.as_str())] {
        let value = win_ansi(value);
        page.text(LABEL, RIGHT - 200.0, right_y, label.as_bytes());
        page.text_right(BODY.shrunk_to(&value, 150.0), RIGHT, right_y, &value);
        right_y += 13.0;
    }
    let bottom = left_y.max(right_y) + 2.0;
    f.page().rule(LEFT, RIGHT, bottom, 0.75, RULE);
    f.y = bottom + 6.0;
}

/// Earned, each adjustment, and the total in a band, right of the page.
fn totals(f: &mut Flow, doc: &CommissionDocument) {
    let col = WIDTH / 2.0;
    let x = RIGHT - col;
    let mut rows = vec![("Earned on the lines".to_string(), doc.earned)];
    rows.extend(doc.adjustments.iter().cloned());
    f.make_room(13.0 * rows.len() as f32 + 40.0);
    f.y += 6.0;
    for (label, amount) in rows {
        let (label, value) = (win_ansi(&label), dollars(amount).into_bytes());
        let y = f.y + 9.0;
        let page = f.page();
        page.text(LABEL, x, y, &fit(&label, LABEL, col - 100.0));
        page.text_right(BODY.shrunk_to(&value, 96.0), RIGHT, y, &value);
        f.y += 13.0;
    }
    let band = Style::new(Font::Bold, 10.5, ACCENT);
    let value = dollars(doc.total).into_bytes();
    let y = f.y + 2.0;
    let page = f.page();
    page.fill(x - PAD, y, col + PAD, 22.0, BAND);
    page.text(band, x, y + 15.0, b"Total commission");
    page.text_right(band.shrunk_to(&value, 110.0), RIGHT - PAD, y + 15.0, &value);
    f.y = y + 24.0;
}
