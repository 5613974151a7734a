//! An invoice or credit note as a PDF, drawn from its [`InvoiceDocument`] alone (DESIGN.md §3
//! "Invoice"; issue 15). Pure: no database, no network, no files; the same document always gives
//! the same bytes (no dates, ids or random bytes are written), so tests and caches can compare.
//!
//! **Why `pdf-writer`.** A low-level writer from the typst authors: a small, stable API with four
//! tiny dependencies that writes exactly the objects it is told to. An invoice is a fixed layout, so
//! the few layout rules it needs (wrapping, right alignment, page breaks that repeat the table
//! header, "Page n of m") are plain code here rather than a layout engine to work around.
//! `printpdf` changed its whole API between 0.7 and 0.8, `genpdf` brings its own layout model, and
//! `krilla` embeds TrueType fonts we do not need.
//!
//! **Fonts.** Helvetica and Helvetica-Bold, two of the 14 standard fonts every PDF reader has, in
//! WinAnsiEncoding: nothing is embedded and nothing is read from the system at run time. Text is
//! measured with the fonts' Adobe metrics (the `text` submodule), so what is right aligned or
//! wrapped here is what a reader draws. Text outside WinAnsi: typographic characters keep their
//! WinAnsi form (é, —, €, ’), accents sent as combining marks are dropped (the letter stays),
//! anything else (Ω, emoji) prints as "?".
//!
//! **Nothing overlaps.** Amounts and quantities are never cut: a figure wider than its column is set
//! smaller until it fits. SKUs, descriptions and tax labels wrap onto at most 2, 3 and 2 lines and
//! end in "…" beyond that; address and reference lines are cut to their column with "…".
//!
//! Measured (debug build, this crate unoptimised): 10 lines ≈ 0.4 ms; 1,000 lines with two-line
//! descriptions (44 pages, 83 kB) ≈ 35–55 ms. `tests/invoice_pdf.rs` prints both times.

mod flow;
mod text;
// The statement PDF (issue 15 §5) draws with the same fonts, page and primitives.
pub mod statement;
// The rep's commission statement (issue 18 §3) likewise.
pub mod commission;

use crate::domain::invoicing::{DocumentLine, InvoiceDocument};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use text::{Font, Rgb, Style, dollars, fit, group_thousands, win_ansi, wrap};

/// The most lines one PDF is drawn for (about 1,200 pages). Bounds the time and memory of one
/// request; a real invoice is far below it.
pub const MAX_LINES: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the document has {0} lines; a PDF is drawn for at most {MAX_LINES}")]
    TooManyLines(usize),
}

/// The PDF of `doc`: US Letter, the seller and the title on top, bill-to, ship-to and references,
/// the lines (flowing onto further pages with the table header repeated), the totals and the notes;
/// every page ends with "Page n of m".
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, RenderError> {
    if doc.lines.len() > MAX_LINES {
        return Err(RenderError::TooManyLines(doc.lines.len()));
    }
    let mut layout = Layout::new(doc);
    layout.header();
    layout.parties();
    layout.lines();
    layout.totals();
    layout.notes();
    Ok(write_pdf(&format!("{} {}", doc.title, doc.number), layout.finish()))
}

// ---- Page geometry (points; `y` counts down from the top of the page) ----

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_W - 50.0;
const WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = 48.0;
/// The lowest point of the body; the footer is below it.
const BOTTOM: f32 = PAGE_H - 60.0;
/// Address blocks and references show at most this many lines, so the header stays on page one.
const MAX_BLOCK_LINES: usize = 10;

const INK: Rgb = (0.12, 0.13, 0.15);
const MUTED: Rgb = (0.42, 0.44, 0.48);
const ACCENT: Rgb = (0.11, 0.25, 0.45);
const WHITE: Rgb = (1.0, 1.0, 1.0);
const RULE: Rgb = (0.80, 0.82, 0.86);
const BAND: Rgb = (0.94, 0.95, 0.97);

const BODY: Style = Style::new(Font::Regular, 9.0, INK);
const BODY_BOLD: Style = Style::new(Font::Bold, 9.0, INK);
const LABEL: Style = Style::new(Font::Regular, 8.5, MUTED);
const HEADING: Style = Style::new(Font::Bold, 7.5, MUTED);
const CELL: Style = Style::new(Font::Regular, 8.5, INK);
const CELL_HEAD: Style = Style::new(Font::Bold, 7.5, WHITE);
const FOOTER: Style = Style::new(Font::Regular, 7.5, MUTED);

/// One page's drawing operations.
struct Canvas(Content);

impl Canvas {
    /// `text` from `x`, its baseline `y` points below the top of the page.
    fn text(&mut self, style: Style, x: f32, y: f32, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let c = &mut self.0;
        c.set_fill_rgb(style.color.0, style.color.1, style.color.2);
        c.begin_text();
        c.set_font(style.font.resource(), style.size);
        c.next_line(x, PAGE_H - y);
        c.show(Str(text));
        c.end_text();
    }

    /// `text` ending at `right`.
    fn text_right(&mut self, style: Style, right: f32, y: f32, text: &[u8]) {
        self.text(style, right - style.width(text), y, text);
    }

    /// A filled rectangle whose top edge is `y` points below the top of the page.
    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let c = &mut self.0;
        c.set_fill_rgb(color.0, color.1, color.2);
        c.rect(x, PAGE_H - y - h, w, h);
        c.fill_nonzero();
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        let c = &mut self.0;
        c.set_stroke_rgb(color.0, color.1, color.2);
        c.set_line_width(width);
        c.move_to(x1, PAGE_H - y);
        c.line_to(x2, PAGE_H - y);
        c.stroke();
    }
}

// ---- The lines table ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    title: &'static [u8],
    width: f32,
    align: Align,
    /// Text wraps onto at most this many lines; figures (1) are set smaller instead of cut.
    max_lines: usize,
}

const COLUMNS: [Column; 7] = [
    Column { title: b"SKU", width: 78.0, align: Align::Left, max_lines: 2 },
    Column { title: b"Description", width: 168.0, align: Align::Left, max_lines: 3 },
    Column { title: b"Qty", width: 40.0, align: Align::Right, max_lines: 1 },
    Column { title: b"Unit price", width: 60.0, align: Align::Right, max_lines: 1 },
    Column { title: b"Net", width: 66.0, align: Align::Right, max_lines: 1 },
    Column { title: b"Tax rate", width: 48.0, align: Align::Left, max_lines: 2 },
    Column { title: b"Tax", width: 52.0, align: Align::Right, max_lines: 1 },
];
const _: () = {
    let (mut sum, mut i) = (0.0, 0);
    while i < COLUMNS.len() {
        sum += COLUMNS[i].width;
        i += 1;
    }
    assert!(sum == WIDTH, "the columns span the page's width");
};
const CELL_PAD: f32 = 4.0;
const CELL_LEADING: f32 = 10.5;
const HEAD_H: f32 = 18.0;

/// A row's cells, wrapped and ready to draw.
struct Row {
    cells: Vec<Vec<Vec<u8>>>,
    height: f32,
}

impl Row {
    fn of(line: &DocumentLine) -> Row {
        let texts = [
            win_ansi(&line.sku),
            win_ansi(&line.description),
            group_thousands(line.quantity).into_bytes(),
            line.unit_price.format().into_bytes(),
            line.net.format().into_bytes(),
            win_ansi(&line.tax_label),
            line.tax.format().into_bytes(),
        ];
        let cells: Vec<Vec<Vec<u8>>> = COLUMNS
            .iter()
            .zip(texts)
            .map(|(col, text)| match col.max_lines {
                1 => vec![text],
                n => wrap(&text, CELL, col.width - 2.0 * CELL_PAD, n),
            })
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        Row { cells, height: 17.0 + (lines - 1) as f32 * CELL_LEADING }
    }
}

// ---- Layout: what goes where, page by page ----

struct Layout<'a> {
    doc: &'a InvoiceDocument,
    pages: Vec<Canvas>,
    /// Where the next thing goes on the current page, in points from its top.
    y: f32,
    /// "Invoice INV-100001", atop continuation pages and in every footer.
    running: Vec<u8>,
}

impl<'a> Layout<'a> {
    fn new(doc: &'a InvoiceDocument) -> Layout<'a> {
        let running = win_ansi(&format!("{} {}", doc.title, doc.number));
        Layout { doc, pages: vec![Canvas(Content::new())], y: TOP, running }
    }

    fn page(&mut self) -> &mut Canvas {
        self.pages.last_mut().expect("the first page is made in Layout::new")
    }

    /// A continuation page: the title and number, the seller's name, a rule.
    fn new_page(&mut self) {
        self.pages.push(Canvas(Content::new()));
        let running = fit(&self.running, BODY_BOLD, WIDTH / 2.0);
        let seller = fit(&win_ansi(first(&self.doc.seller)), LABEL, WIDTH / 2.0 - 10.0);
        let page = self.page();
        page.text(BODY_BOLD, LEFT, TOP + 10.0, &running);
        page.text_right(LABEL, RIGHT, TOP + 10.0, &seller);
        page.rule(LEFT, RIGHT, TOP + 18.0, 0.75, RULE);
        self.y = TOP + 30.0;
    }

    /// Starts a new page unless `height` more points fit on this one; true if it did.
    fn make_room(&mut self, height: f32) -> bool {
        let full = self.y + height > BOTTOM;
        if full {
            self.new_page();
        }
        full
    }

    /// The seller (top left); the title, number and dates (top right).
    fn header(&mut self) {
        let doc = self.doc;
        let half = WIDTH / 2.0 - 10.0;
        let (name_style, address_style) = (Style::new(Font::Bold, 14.0, INK), Style::new(Font::Regular, 9.0, MUTED));
        let mut left_y = TOP + 14.0;
        for (i, line) in doc.seller.iter().take(MAX_BLOCK_LINES).enumerate() {
            let style = if i == 0 { name_style } else { address_style };
            let text = fit(&win_ansi(line), style, half);
            left_y += if i == 1 { 4.0 } else { 0.0 };
            self.page().text(style, LEFT, left_y, &text);
            left_y += 12.0;
        }

        let title = win_ansi(&doc.title);
        let title_style = Style::new(Font::Bold, 22.0, ACCENT).shrunk_to(&title, half);
        let number = win_ansi(&doc.number);
        let number_style = Style::new(Font::Bold, 11.0, INK).shrunk_to(&number, half);
        let page = self.page();
        page.text_right(title_style, RIGHT, TOP + 16.0, &title);
        page.text_right(number_style, RIGHT, TOP + 33.0, &number);
        let mut right_y = TOP + 52.0;
        let dates = [("Issued", &doc.issued_on), ("Due", &doc.due_on)];
        for (label, value) in dates.into_iter().filter(|(_, v)| !v.trim().is_empty()) {
            let value = fit(&win_ansi(value), BODY, 110.0);
            page.text(LABEL, RIGHT - 160.0, right_y, label.as_bytes());
            page.text_right(BODY, RIGHT, right_y, &value);
            right_y += 13.0;
        }

        let bottom = left_y.max(right_y) + 2.0;
        self.page().rule(LEFT, RIGHT, bottom, 0.75, RULE);
        self.y = bottom + 16.0;
    }

    /// Bill to, ship to and the references, side by side.
    fn parties(&mut self) {
        let doc = self.doc;
        let top = self.y;
        let col = (WIDTH - 2.0 * 12.0) / 3.0;
        let bill_bottom = self.block(b"BILL TO", &doc.bill_to, LEFT, col);
        let ship_bottom = self.block(b"SHIP TO", &doc.ship_to, LEFT + col + 12.0, col);

        let x = RIGHT - col;
        let mut y = top + 8.0;
        if !doc.references.is_empty() {
            self.page().text(HEADING, x, y, b"DETAILS");
            y += 14.0;
        }
        for (label, value) in doc.references.iter().take(MAX_BLOCK_LINES) {
            let label = fit(&win_ansi(label), LABEL, col / 2.0);
            let value = fit(&win_ansi(value), BODY, col - LABEL.width(&label) - 8.0);
            let page = self.page();
            page.text(LABEL, x, y, &label);
            page.text_right(BODY, RIGHT, y, &value);
            y += 12.0;
        }
        self.y = bill_bottom.max(ship_bottom).max(y) + 12.0;
    }

    /// A titled block of lines at `x`, the first in bold; returns where it ends.
    fn block(&mut self, title: &[u8], lines: &[String], x: f32, width: f32) -> f32 {
        let mut y = self.y + 8.0;
        if lines.is_empty() {
            return y;
        }
        self.page().text(HEADING, x, y, title);
        y += 14.0;
        for (i, line) in lines.iter().take(MAX_BLOCK_LINES).enumerate() {
            let style = if i == 0 { BODY_BOLD } else { BODY };
            let text = fit(&win_ansi(line), style, width);
            self.page().text(style, x, y, &text);
            y += 12.0;
        }
        y
    }

    fn table_header(&mut self) {
        let y = self.y;
        let page = self.pages.last_mut().expect("a page");
        page.fill(LEFT, y, WIDTH, HEAD_H, ACCENT);
        let mut x = LEFT;
        for col in &COLUMNS {
            match col.align {
                Align::Left => page.text(CELL_HEAD, x + CELL_PAD, y + 12.0, col.title),
                Align::Right => page.text_right(CELL_HEAD, x + col.width - CELL_PAD, y + 12.0, col.title),
            }
            x += col.width;
        }
        self.y += HEAD_H;
    }

    /// The lines table; a row that does not fit starts a new page, which repeats the header.
    fn lines(&mut self) {
        self.make_room(HEAD_H + 17.0);
        self.table_header();
        if self.doc.lines.is_empty() {
            let y = self.y;
            self.page().text(LABEL, LEFT + CELL_PAD, y + 12.0, b"No lines.");
            self.y += 17.0;
        }
        for (i, line) in self.doc.lines.iter().enumerate() {
            let row = Row::of(line);
            if self.make_room(row.height) {
                self.table_header();
            }
            let y = self.y;
            let page = self.page();
            if i % 2 == 1 {
                page.fill(LEFT, y, WIDTH, row.height, BAND);
            }
            let mut x = LEFT;
            for (col, cell) in COLUMNS.iter().zip(&row.cells) {
                let inner = col.width - 2.0 * CELL_PAD;
                for (n, text) in cell.iter().enumerate() {
                    let baseline = y + 12.0 + n as f32 * CELL_LEADING;
                    match col.align {
                        Align::Left => page.text(CELL, x + CELL_PAD, baseline, text),
                        Align::Right => {
                            page.text_right(CELL.shrunk_to(text, inner), x + col.width - CELL_PAD, baseline, text)
                        }
                    }
                }
                x += col.width;
            }
            page.rule(LEFT, RIGHT, y + row.height, 0.5, RULE);
            self.y += row.height;
        }
    }

    /// Subtotal, tax and total, then the amount due in a band, at the right.
    fn totals(&mut self) {
        let doc = self.doc;
        self.y += 12.0;
        self.make_room(3.0 * 15.0 + 30.0);
        let (width, y) = (230.0, self.y);
        let (x, value_right) = (RIGHT - width, RIGHT - CELL_PAD);
        let label_x = x + CELL_PAD;
        let rows = [("Subtotal", doc.subtotal, BODY), ("Tax", doc.tax, BODY), ("Total", doc.total, BODY_BOLD)];
        let value_width = width - 90.0;
        let page = self.page();
        for (i, (label, amount, style)) in rows.into_iter().enumerate() {
            let baseline = y + 11.0 + i as f32 * 15.0;
            if label == "Total" {
                page.rule(x, RIGHT, baseline - 10.5, 0.75, RULE);
            }
            let value = dollars(amount).into_bytes();
            page.text(style, label_x, baseline, label.as_bytes());
            page.text_right(style.shrunk_to(&value, value_width), value_right, baseline, &value);
        }
        // A credit note's "amount due" is what it credits (InvoiceDocument::amount_due).
        let due_label: &[u8] =
            if doc.title.trim().eq_ignore_ascii_case("credit note") { b"Amount credited" } else { b"Amount due" };
        let band_y = y + 3.0 * 15.0 + 2.0;
        let due_style = Style::new(Font::Bold, 10.5, ACCENT);
        let value = dollars(doc.amount_due).into_bytes();
        page.fill(x, band_y, width, 24.0, BAND);
        page.text(due_style, label_x, band_y + 16.0, due_label);
        page.text_right(due_style.shrunk_to(&value, value_width), value_right, band_y + 16.0, &value);
        self.y = band_y + 24.0;
    }

    /// The notes, one paragraph each, wrapped to the page width and flowing onto further pages.
    fn notes(&mut self) {
        let paragraphs: Vec<&str> = self.doc.notes.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
        if paragraphs.is_empty() {
            return;
        }
        self.y += 20.0;
        self.make_room(14.0 + 11.0);
        let y = self.y;
        self.page().text(HEADING, LEFT, y + 8.0, b"NOTES");
        self.y += 14.0;
        for paragraph in paragraphs {
            for text_line in paragraph.lines() {
                for line in wrap(&win_ansi(text_line), BODY, WIDTH, usize::MAX) {
                    self.make_room(12.0);
                    let y = self.y;
                    self.page().text(BODY, LEFT, y + 9.0, &line);
                    self.y += 12.0;
                }
            }
            self.y += 5.0;
        }
    }

    /// The pages, each with its footer: the title and number, "Page n of m".
    fn finish(mut self) -> Vec<Canvas> {
        let count = self.pages.len();
        let running = fit(&self.running, FOOTER, WIDTH / 2.0);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let baseline = PAGE_H - 32.0;
            page.rule(LEFT, RIGHT, baseline - 12.0, 0.5, RULE);
            page.text(FOOTER, LEFT, baseline, &running);
            page.text_right(FOOTER, RIGHT, baseline, format!("Page {} of {count}", i + 1).as_bytes());
        }
        self.pages
    }
}

/// The file: catalog, page tree, the two standard fonts, the pages (content compressed) and an
/// information dictionary with the title only (no dates, so the bytes are deterministic). Shared
/// by invoices and statements.
fn write_pdf(title: &str, pages: Vec<Canvas>) -> Vec<u8> {
    let (catalog, tree, regular, bold, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(6 + 2 * i), Ref::new(7 + 2 * i))).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(page, _)| *page)).count(ids.len() as i32);
    for ((page_id, content_id), canvas) in ids.into_iter().zip(pages) {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(Font::Regular.resource(), regular).pair(Font::Bold.resource(), bold);
        page.finish();
        let data = miniz_oxide::deflate::compress_to_vec_zlib(&canvas.0.finish(), 6);
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
    }
    for (id, base) in [(regular, Name(b"Helvetica")), (bold, Name(b"Helvetica-Bold"))] {
        pdf.type1_font(id).base_font(base).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info).title(TextStr(title)).creator(TextStr("Portico"));
    pdf.finish()
}

fn first(lines: &[String]) -> &str {
    lines.first().map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Money;

    #[test]
    fn no_cell_overflows_its_column() {
        let long = "a description far too long for its column, ".repeat(20);
        let line = DocumentLine {
            sku: "W".repeat(200),
            description: long.clone(),
            quantity: i64::MAX,
            unit_price: Money::from_raw(i64::MIN),
            net: Money::from_raw(i64::MAX),
            tax_label: long,
            tax: Money::from_raw(i64::MIN),
        };
        let row = Row::of(&line);
        for (col, cell) in COLUMNS.iter().zip(&row.cells) {
            let inner = col.width - 2.0 * CELL_PAD;
            assert!(cell.len() <= col.max_lines, "{:?}", std::str::from_utf8(col.title));
            for text in cell {
                assert!(
                    CELL.shrunk_to(text, inner).width(text) <= inner + 0.01,
                    "{:?}",
                    std::str::from_utf8(col.title)
                );
            }
        }
        assert_eq!(row.height, 17.0 + 2.0 * CELL_LEADING, "three lines of description");
    }
}
