//! Pages that flow: sections, notes and tables set one under another, a table's row that does not
//! fit starting a new page (with the document's running title on top and the table's header
//! repeated), and "Page n of m" on every page. The account statement and the rep's commission
//! statement are drawn with it, after their own header and summary.

use super::ACCENT;
use super::text::{fit, win_ansi};
use super::{
    BAND, BODY_BOLD, BOTTOM, CELL, CELL_HEAD, Canvas, FOOTER, HEADING, LABEL, LEFT, PAGE_H, RIGHT, RULE, TOP, WIDTH,
};
use pdf_writer::Content;

pub(super) const ROW_H: f32 = 16.0;
pub(super) const HEAD_H: f32 = 18.0;
pub(super) const PAD: f32 = 4.0;

/// A column: title, width, right aligned (figures, set smaller to fit) or left (cut with "…").
pub(super) type Col = (&'static str, f32, bool);

/// The width of a table's columns (each table's must be the page's [`WIDTH`]).
pub(super) const fn span(cols: &[Col]) -> f32 {
    let (mut s, mut i) = (0.0, 0);
    while i < cols.len() {
        s += cols[i].1;
        i += 1;
    }
    s
}

pub(super) struct Flow {
    pub pages: Vec<Canvas>,
    /// Where the next thing goes, from the top of the page.
    pub y: f32,
    /// The title repeated on top of further pages and in the footer (WinAnsi bytes).
    pub running: Vec<u8>,
}

impl Flow {
    pub fn new(running: Vec<u8>) -> Flow {
        Flow { pages: vec![Canvas(Content::new())], y: TOP, running }
    }

    pub fn page(&mut self) -> &mut Canvas {
        self.pages.last_mut().expect("a flow starts with a page")
    }

    /// Starts a new page when `height` does not fit on this one; says whether it did.
    pub fn make_room(&mut self, height: f32) -> bool {
        let full = self.y + height > BOTTOM;
        if full {
            self.pages.push(Canvas(Content::new()));
            let running = fit(&self.running, BODY_BOLD, WIDTH);
            let page = self.page();
            page.text(BODY_BOLD, LEFT, TOP + 10.0, &running);
            page.rule(LEFT, RIGHT, TOP + 18.0, 0.75, RULE);
            self.y = TOP + 30.0;
        }
        full
    }

    pub fn section(&mut self, title: String) {
        self.y += 10.0;
        self.make_room(14.0 + HEAD_H + ROW_H);
        let y = self.y;
        self.page().text(HEADING, LEFT, y + 8.0, win_ansi(&title).as_slice());
        self.y += 14.0;
    }

    pub fn note(&mut self, text: &str) {
        self.make_room(ROW_H);
        let y = self.y;
        self.page().text(LABEL, LEFT + PAD, y + 11.0, win_ansi(text).as_slice());
        self.y += ROW_H;
    }

    fn table_header(&mut self, cols: &[Col]) {
        let y = self.y;
        let page = self.page();
        page.fill(LEFT, y, WIDTH, HEAD_H, ACCENT);
        let mut x = LEFT;
        for (title, width, right) in cols {
            if *right {
                page.text_right(CELL_HEAD, x + width - PAD, y + 12.0, title.as_bytes());
            } else {
                page.text(CELL_HEAD, x + PAD, y + 12.0, title.as_bytes());
            }
            x += width;
        }
        self.y += HEAD_H;
    }

    /// A table; a row that does not fit starts a new page, which repeats the header.
    pub fn table(&mut self, cols: &[Col], rows: &[Vec<String>]) {
        self.make_room(HEAD_H + ROW_H);
        self.table_header(cols);
        for (i, row) in rows.iter().enumerate() {
            if self.make_room(ROW_H) {
                self.table_header(cols);
            }
            let y = self.y;
            let page = self.page();
            if i % 2 == 1 {
                page.fill(LEFT, y, WIDTH, ROW_H, BAND);
            }
            let mut x = LEFT;
            for ((_, width, right), text) in cols.iter().zip(row) {
                let inner = width - 2.0 * PAD;
                let text = win_ansi(text);
                if *right {
                    page.text_right(CELL.shrunk_to(&text, inner), x + width - PAD, y + 11.0, &text);
                } else {
                    page.text(CELL, x + PAD, y + 11.0, &fit(&text, CELL, inner));
                }
                x += width;
            }
            page.rule(LEFT, RIGHT, y + ROW_H, 0.5, RULE);
            self.y += ROW_H;
        }
    }

    /// The PDF: every page footed with the running title and "Page n of m".
    pub fn write(mut self) -> Vec<u8> {
        let count = self.pages.len();
        let running = fit(&self.running, FOOTER, WIDTH / 2.0 + 60.0);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let baseline = PAGE_H - 32.0;
            page.rule(LEFT, RIGHT, baseline - 12.0, 0.5, RULE);
            page.text(FOOTER, LEFT, baseline, &running);
            page.text_right(FOOTER, RIGHT, baseline, format!("Page {} of {count}", i + 1).as_bytes());
        }
        let title: String = self.running.iter().map(|b| if b.is_ascii() { *b as char } else { '-' }).collect();
        super::write_pdf(&title, self.pages)
    }
}
