//! Text for the standard fonts: WinAnsi encoding, Adobe's metrics of Helvetica and
//! Helvetica-Bold, and the measuring, wrapping and cutting that the layout relies on.

use crate::domain::money::Money;
use pdf_writer::Name;

pub(super) type Rgb = (f32, f32, f32);

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    Regular,
    Bold,
}

impl Font {
    pub(super) fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    /// Width of one WinAnsi byte in thousandths of the font size.
    fn advance(self, byte: u8) -> u16 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        byte.checked_sub(32).map_or(0, |i| table[i as usize])
    }
}

#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) font: Font,
    pub(super) size: f32,
    pub(super) color: Rgb,
}

impl Style {
    pub(super) const fn new(font: Font, size: f32, color: Rgb) -> Style {
        Style { font, size, color }
    }

    pub(super) fn width(self, text: &[u8]) -> f32 {
        text.iter().map(|b| self.font.advance(*b) as f32).sum::<f32>() * self.size / 1000.0
    }

    /// This style, set smaller if needed so that `text` fits in `width` (figures are never cut).
    pub(super) fn shrunk_to(self, text: &[u8], width: f32) -> Style {
        let natural = self.width(text);
        match natural > width {
            true => Style { size: self.size * width / natural, ..self },
            false => self,
        }
    }
}

/// "$1,234.50"; "-$12.00" for a negative amount.
pub(super) fn dollars(m: Money) -> String {
    let text = m.format();
    match text.strip_prefix('-') {
        Some(abs) => format!("-${abs}"),
        None => format!("${text}"),
    }
}

/// 1234567 → "1,234,567".
pub(super) fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `text` in WinAnsiEncoding (Windows-1252), the encoding of the standard fonts: Latin-1 and the
/// typographic characters of 0x80–0x9F keep their form; white space becomes a space; combining
/// marks, zero-width and format characters are dropped; anything else becomes "?".
pub(super) fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let byte = match ch {
            ' '..='~' => ch as u8,
            '\u{AD}' => continue, // soft hyphen: invisible unless a line breaks there
            '\u{A0}'..='\u{FF}' => ch as u32 as u8,
            '\u{0300}'..='\u{036F}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => continue,
            '\u{FE00}'..='\u{FE0F}' => continue, // variation selectors (emoji presentation)
            c if c.is_whitespace() => b' ',
            c if c.is_control() => continue,
            '\u{2010}' | '\u{2011}' | '\u{2212}' => b'-',
            c => WIN_ANSI_HIGH.iter().find(|(u, _)| *u == c).map_or(b'?', |(_, b)| *b),
        };
        out.push(byte);
    }
    out
}

/// The characters of WinAnsi 0x80–0x9F (the rest of 0xA0–0xFF is Latin-1).
const WIN_ANSI_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

pub(super) const ELLIPSIS: u8 = 0x85;

/// `text` on one line within `width`, cut with "…" if it is wider.
pub(super) fn fit(text: &[u8], style: Style, width: f32) -> Vec<u8> {
    wrap(text, style, width, 1).swap_remove(0)
}

/// `text` broken into lines of at most `width` at spaces (a word wider than a line is broken
/// anywhere), at most `max_lines` of them, the last ending in "…" if text was left over. Always at
/// least one (perhaps empty) line.
pub(super) fn wrap(text: &[u8], style: Style, width: f32, max_lines: usize) -> Vec<Vec<u8>> {
    let space = style.width(b" ");
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut current_w = 0.0;
    for word in text.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let word_w = style.width(word);
        let gap = if current.is_empty() { 0.0 } else { space };
        if current_w + gap + word_w <= width {
            if !current.is_empty() {
                current.push(b' ');
            }
            current.extend_from_slice(word);
            current_w += gap + word_w;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word starts a line; one wider than a line is broken where it reaches the edge.
        let mut rest = word;
        loop {
            let cut = prefix_within(rest, style, width);
            if cut == rest.len() {
                current = rest.to_vec();
                current_w = style.width(rest);
                break;
            }
            lines.push(rest[..cut].to_vec());
            rest = &rest[cut..];
        }
        if lines.len() > max_lines {
            break; // enough to know that the text is cut
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let ellipsis_w = style.width(&[ELLIPSIS]);
            let cut = prefix_within(last, style, (width - ellipsis_w).max(0.0));
            last.truncate(cut);
            while last.last() == Some(&b' ') {
                last.pop();
            }
            last.push(ELLIPSIS);
        }
    }
    lines
}

/// How many bytes of `text` fit in `width`; at least one, so that every line makes progress.
fn prefix_within(text: &[u8], style: Style, width: f32) -> usize {
    let mut w = 0.0;
    for (i, b) in text.iter().enumerate() {
        w += style.font.advance(*b) as f32 * style.size / 1000.0;
        if w > width {
            return i.max(1).min(text.len());
        }
    }
    text.len()
}

/// Helvetica's advance widths for WinAnsi 32–255, in thousandths of the font size (Adobe's AFM
/// metrics of the standard fonts).
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350,
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold's, likewise.
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350,
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;

    const CELL: Style = Style::new(Font::Regular, 8.5, (0.0, 0.0, 0.0));

    #[test]
    fn text_maps_to_win_ansi_or_a_question_mark() {
        assert_eq!(win_ansi("Café — 5 €"), b"Caf\xE9 \x97 5 \x80");
        assert_eq!(win_ansi("Ω👍"), b"??");
        assert_eq!(win_ansi("e\u{301}\u{FE0F}\ttab"), b"e tab");
        assert_eq!(win_ansi("“quoted” ‘x’ …"), b"\x93quoted\x94 \x91x\x92 \x85");
    }

    #[test]
    fn long_text_wraps_and_ends_in_an_ellipsis() {
        let lines = wrap(b"one two three four five six seven", CELL, 40.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| CELL.width(l) <= 40.0), "{lines:?}");
        assert_eq!(lines[1].last(), Some(&ELLIPSIS));
        let word = wrap(&[b'W'; 60], CELL, 50.0, 10);
        assert!(word.len() > 1 && word.iter().all(|l| CELL.width(l) <= 50.0));
        assert_eq!(wrap(b"", CELL, 50.0, 2), vec![Vec::<u8>::new()]);
        assert_eq!(fit(b"short", CELL, 100.0), b"short");
    }

    #[test]
    fn figures_are_set_smaller_not_cut() {
        let wide = b"922,337,203,685,477.5807";
        let style = CELL.shrunk_to(wide, 60.0);
        assert!(style.size < CELL.size && style.width(wide) <= 60.01);
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(group_thousands(-1234), "-1,234");
        assert_eq!(dollars(Money::from_cents(-1200)), "-$12.00");
    }
}
