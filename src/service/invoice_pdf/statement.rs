//! An account's statement as a PDF, drawn from its [`StatementDocument`] alone with the invoice's
//! fonts, page and drawing primitives (see the parent module for why `pdf-writer` and the
//! standard fonts): the seller and the period on top, bill-to and the balances, the aging, the
//! period's lines with their running balance (flowing onto further pages with the table header
//! repeated), then the open invoices. Pure and deterministic, like the invoice.

use super::flow::{Col, Flow, PAD, span};
use super::text::{Font, Style, dollars, fit, win_ansi};
use super::{ACCENT, BAND, BODY, BODY_BOLD, HEADING, INK, LABEL, LEFT, MUTED, RIGHT, RULE, TOP, WIDTH};
use crate::domain::aging::Bucket;
use crate::domain::money::Money;
use crate::domain::pricing::format_iso_date as iso;
use crate::domain::statement::StatementDocument;

/// The most lines (activity and open invoices) one statement PDF is drawn for.
pub const MAX_LINES: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the statement has {0} lines; a PDF is drawn for at most {MAX_LINES} (choose a shorter period)")]
    TooManyLines(usize),
}

const ACTIVITY: [Col; 6] = [
    ("Date", 62.0, false),
    ("Type", 84.0, false),
    ("Reference", 82.0, false),
    ("Detail", 148.0, false),
    ("Amount", 68.0, true),
    ("Balance", 68.0, true),
];
const OPEN: [Col; 6] = [
    ("Invoice", 92.0, false),
    ("Issued", 72.0, false),
    ("Due", 72.0, false),
    ("Days overdue", 72.0, true),
    ("Total", 102.0, true),
    ("Open", 102.0, true),
];
const AGING: [Col; 8] = [
    ("Current", 64.0, true),
    ("1-30", 64.0, true),
    ("31-60", 64.0, true),
    ("61-90", 64.0, true),
    ("90+", 64.0, true),
    ("Open total", 64.0, true),
    ("Credits", 64.0, true),
    ("Balance", 64.0, true),
];
const _: () =
    assert!(span(&ACTIVITY) == WIDTH && span(&OPEN) == WIDTH && span(&AGING) == WIDTH, "tables span the page");

/// The PDF of `doc`.
pub fn render(doc: &StatementDocument) -> Result<Vec<u8>, RenderError> {
    let n = doc.statement.lines.len() + doc.open_invoices.len();
    if n > MAX_LINES {
        return Err(RenderError::TooManyLines(n));
    }
    let running =
        win_ansi(&format!("Statement {} {} to {}", doc.account_number, iso(doc.statement.from), iso(doc.statement.to)));
    let mut l = Layout { doc, flow: Flow::new(running) };
    l.header();
    l.summary();
    let mut f = l.flow;
    f.section("AGING AS OF ".to_string() + &iso(doc.as_of));
    f.table(&AGING, &[aging_row(doc)]);
    f.section("ACTIVITY".into());
    f.table(&ACTIVITY, &activity_rows(doc));
    f.section("OPEN INVOICES".into());
    if doc.open_invoices.is_empty() {
        f.note("No open invoices.");
    } else {
        f.table(&OPEN, &open_rows(doc));
    }
    Ok(f.write())
}

fn aging_row(doc: &StatementDocument) -> Vec<String> {
    let a = &doc.aging;
    let mut r: Vec<String> = Bucket::ALL.iter().map(|b| dollars(a.buckets.get(*b))).collect();
    r.extend([dollars(a.open_total()), dollars(a.credits), dollars(a.balance())]);
    r
}

fn activity_rows(doc: &StatementDocument) -> Vec<Vec<String>> {
    let s = &doc.statement;
    let edge = |on, label: &str, balance: Money| {
        vec![iso(on), label.to_string(), String::new(), String::new(), String::new(), dollars(balance)]
    };
    let mut rows = vec![edge(s.from, "Opening balance", s.opening)];
    rows.extend(s.lines.iter().map(|l| {
        vec![
            iso(l.entry.on),
            l.entry.kind.label().to_string(),
            l.entry.reference.clone(),
            l.entry.detail.clone(),
            dollars(l.entry.signed()),
            dollars(l.balance),
        ]
    }));
    rows.push(edge(s.to, "Closing balance", s.closing));
    rows
}

fn open_rows(doc: &StatementDocument) -> Vec<Vec<String>> {
    doc.open_invoices
        .iter()
        .map(|i| {
            vec![
                i.number.clone(),
                iso(i.issued_on),
                iso(i.due_on),
                if i.days_overdue > 0 { i.days_overdue.to_string() } else { "not due".into() },
                dollars(i.total),
                dollars(i.open),
            ]
        })
        .collect()
}

struct Layout<'a> {
    doc: &'a StatementDocument,
    flow: Flow,
}

impl Layout<'_> {
    /// The seller (top left); "Statement", the account and the period (top right).
    fn header(&mut self) {
        let doc = self.doc;
        let half = WIDTH / 2.0 - 10.0;
        let mut left_y = TOP + 14.0;
        for (i, line) in doc.seller.iter().take(8).enumerate() {
            let style = if i == 0 { Style::new(Font::Bold, 14.0, INK) } else { Style::new(Font::Regular, 9.0, MUTED) };
            let text = fit(&win_ansi(line), style, half);
            self.flow.page().text(style, LEFT, left_y, &text);
            left_y += 12.0;
        }
        let title_style = Style::new(Font::Bold, 22.0, ACCENT);
        let account = win_ansi(&format!("{} ({})", doc.account_name, doc.account_number));
        let account_style = Style::new(Font::Bold, 11.0, INK).shrunk_to(&account, half);
        let page = self.flow.page();
        page.text_right(title_style, RIGHT, TOP + 16.0, b"Statement");
        page.text_right(account_style, RIGHT, TOP + 33.0, &account);
        let mut right_y = TOP + 52.0;
        for (label, value) in
            [("From", iso(doc.statement.from)), ("To", iso(doc.statement.to)), ("As of", iso(doc.as_of))]
        {
            page.text(LABEL, RIGHT - 160.0, right_y, label.as_bytes());
            page.text_right(BODY, RIGHT, right_y, value.as_bytes());
            right_y += 13.0;
        }
        let bottom = left_y.max(right_y) + 2.0;
        self.flow.page().rule(LEFT, RIGHT, bottom, 0.75, RULE);
        self.flow.y = bottom + 16.0;
    }

    /// Bill to (left); the balances and credit (right), the closing balance in a band.
    fn summary(&mut self) {
        let doc = self.doc;
        let col = WIDTH / 2.0 - 10.0;
        let mut y = self.flow.y + 8.0;
        self.flow.page().text(HEADING, LEFT, y, b"BILL TO");
        y += 14.0;
        for (i, line) in doc.bill_to.iter().take(8).enumerate() {
            let style = if i == 0 { BODY_BOLD } else { BODY };
            let text = fit(&win_ansi(line), style, col);
            self.flow.page().text(style, LEFT, y, &text);
            y += 12.0;
        }
        let (charges, credits) = doc.statement.charges_and_credits();
        let mut rows = vec![
            ("Opening balance", doc.statement.opening),
            ("Charges", charges),
            ("Payments and credits", Money::from_raw(-credits.raw())),
        ];
        if let Some((limit, available)) = doc.credit {
            rows.push(("Credit limit", limit));
            rows.push(("Available credit", available));
        }
        let x = RIGHT - col;
        let mut ry = self.flow.y + 8.0;
        self.flow.page().text(HEADING, x, ry, b"SUMMARY");
        ry += 14.0;
        for (label, amount) in rows {
            let value = dollars(amount).into_bytes();
            let page = self.flow.page();
            page.text(LABEL, x, ry, label.as_bytes());
            page.text_right(BODY.shrunk_to(&value, col - 110.0), RIGHT, ry, &value);
            ry += 13.0;
        }
        let band_style = Style::new(Font::Bold, 10.5, ACCENT);
        let value = dollars(doc.statement.closing).into_bytes();
        let page = self.flow.page();
        page.fill(x - PAD, ry - 4.0, col + PAD, 22.0, BAND);
        page.text(band_style, x, ry + 11.0, b"Closing balance");
        page.text_right(band_style.shrunk_to(&value, col - 110.0), RIGHT - PAD, ry + 11.0, &value);
        self.flow.y = y.max(ry + 22.0) + 10.0;
    }
}
