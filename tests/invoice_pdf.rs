//! The invoice PDF (issue 15): rendered from an `InvoiceDocument` and read back with a text
//! extractor, as a person or an accounting system would read it. Pure: no database.

use portico::domain::invoicing::{DocumentLine, InvoiceDocument};
use portico::domain::money::Money;
use portico::service::invoice_pdf::{MAX_LINES, RenderError, render};
use std::time::Instant;

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn line(sku: &str, description: &str, quantity: i64, unit_price: &str, tax_label: &str, tax: &str) -> DocumentLine {
    let unit_price = m(unit_price);
    DocumentLine {
        sku: sku.into(),
        description: description.into(),
        quantity,
        unit_price,
        net: unit_price.checked_mul_qty(quantity).unwrap(),
        tax_label: tax_label.into(),
        tax: m(tax),
    }
}

fn document(lines: Vec<DocumentLine>) -> InvoiceDocument {
    let subtotal = Money::sum(lines.iter().map(|l| l.net)).unwrap();
    let tax = Money::sum(lines.iter().map(|l| l.tax)).unwrap();
    let total = subtotal.checked_add(tax).unwrap();
    InvoiceDocument {
        title: "Invoice".into(),
        number: "INV-100042".into(),
        issued_on: "2026-03-02".into(),
        due_on: "2026-04-01".into(),
        seller: vec!["Northwind Medical Supply".into(), "400 Harbor Way".into(), "Chicago, IL 60601".into()],
        bill_to: vec!["Lakeside Clinic".into(), "12 Elm Street".into(), "Madison, WI 53703".into()],
        ship_to: vec!["Lakeside Clinic — Receiving".into(), "Dock 3, 14 Elm Street".into()],
        references: vec![
            ("Account".into(), "AC-2041".into()),
            ("Order".into(), "SO-77310".into()),
            ("PO number".into(), "PO-5521".into()),
            ("Terms".into(), "Net 30".into()),
        ],
        lines,
        subtotal,
        tax,
        total,
        amount_due: total,
        notes: vec![
            "Please pay by bank transfer to account 0042-118, quoting the invoice number.".into(),
            "Thank you for your business.".into(),
        ],
    }
}

fn three_lines() -> InvoiceDocument {
    document(vec![
        line("GLV-NIT-M", "Nitrile examination gloves, medium, box of 100", 10, "12.3450", "10.25%", "12.65"),
        line("MSK-3PLY", "Three-ply surgical masks", 1, "1,234.50", "10.25%", "126.54"),
        line("SAN-500", "Hand sanitizer 500 ml", 3, "4.99", "exempt", "0.00"),
    ])
}

/// The text of each page, as an extractor reads it.
fn pages_of(pdf: &[u8]) -> Vec<String> {
    assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
    pdf_extract::extract_text_from_mem_by_pages(pdf).expect("the PDF can be read back")
}

/// Text with runs of white space collapsed, so a phrase can be found whatever the layout's gaps.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_pdf_shows_every_field_of_the_document() {
    let doc = three_lines();
    let pdf = render(&doc).unwrap();
    let pages = pages_of(&pdf);
    assert_eq!(pages.len(), 1, "three lines fit on one page");
    let text = squeezed(&pages[0]);
    for expected in [
        "Invoice",
        "INV-100042",
        "2026-03-02",
        "2026-04-01",
        "Northwind Medical Supply",
        "Chicago, IL 60601",
        "Lakeside Clinic",
        "Madison, WI 53703",
        "Lakeside Clinic — Receiving",
        "Dock 3, 14 Elm Street",
        "AC-2041",
        "SO-77310",
        "PO-5521",
        "Net 30",
        "GLV-NIT-M",
        "MSK-3PLY",
        "SAN-500",
        "Three-ply surgical masks",
        "Hand sanitizer 500 ml",
        "exempt",
        "10.25%",
        // unit prices keep their sub-cent digits; amounts are grouped
        "12.345",
        "123.45",
        "1,234.50",
        "14.97",
        "126.54",
        "Subtotal",
        "$1,372.92",
        "$139.19",
        "$1,512.11",
        "Amount due",
        "Please pay by bank transfer to account 0042-118, quoting the invoice number.",
        "Thank you for your business.",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert_eq!(render(&doc).unwrap(), pdf, "the same document gives the same bytes");
}

#[test]
fn a_credit_note_says_what_it_credits() {
    let mut doc = three_lines();
    doc.title = "Credit note".into();
    doc.number = "CN-100007".into();
    doc.due_on = String::new();
    doc.amount_due = m("-1,512.11");
    let text = squeezed(&pages_of(&render(&doc).unwrap())[0]);
    assert!(text.contains("Credit note") && text.contains("CN-100007"), "{text}");
    assert!(text.contains("Amount credited -$1,512.11"), "{text}");
    assert!(!text.contains("Due"), "no due date on a credit note without one: {text}");
}

#[test]
fn a_thousand_lines_flow_onto_pages_that_repeat_the_table_header() {
    let lines: Vec<DocumentLine> = (1..=1000)
        .map(|i| {
            let description = format!("Item {i}: sterile gauze pads, 4 x 4 in, 12-ply, box of 200");
            line(&format!("SKU-{i:05}"), &description, i, "2.50", "8.875%", "0.22")
        })
        .collect();
    let doc = document(lines);
    let started = Instant::now();
    let pdf = render(&doc).unwrap();
    let elapsed = started.elapsed();
    let pages = pages_of(&pdf);
    println!("1,000-line invoice: {} pages, {} bytes, rendered in {elapsed:?}", pages.len(), pdf.len());
    let ten = document(doc.lines[..10].to_vec());
    let started = Instant::now();
    let small = render(&ten).unwrap();
    println!("10-line invoice: {} bytes, rendered in {:?}", small.len(), started.elapsed());

    assert!(pages.len() >= 10, "{} pages", pages.len());
    let all = pages.iter().map(|p| squeezed(p)).collect::<Vec<_>>();
    for (n, page) in all.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {}", n + 1, pages.len())), "page {}: {page}", n + 1);
        assert!(page.contains("INV-100042"), "every page names the invoice");
        if n + 1 < pages.len() {
            assert!(page.contains("SKU Description Qty Unit price Net Tax rate Tax"), "page {}: {page}", n + 1);
        }
    }
    let text = all.join("\n");
    for i in 1..=1000 {
        assert!(text.contains(&format!("SKU-{i:05}")), "SKU-{i:05} missing");
    }
    // 1+…+1000 = 500,500 units at 2.50
    assert!(text.contains("$1,251,250.00"), "the subtotal");
    assert!(text.contains("1,000"), "quantities are grouped");
    let last = all.last().unwrap();
    assert!(last.contains("Amount due") && last.contains("Thank you for your business."), "{last}");
}

#[test]
fn awkward_text_neither_panics_nor_corrupts_the_file() {
    let long_word = "X".repeat(400);
    let long_text = "a very long description that goes on and on ".repeat(30);
    let mut doc = document(vec![
        line("ÉTÉ-01", "Café crème — naïve façade, 5 €, “quoted” ‘single’…", 1, "1.00", "", "0.00"),
        line("Ω-SKU", "Ωmega 👍🏽 emoji \u{1F600}, e\u{301}tude, CJK 漢字, tab\there", 2, "1.00", "Ω", "0.00"),
        line("PAREN(1)", "Back\\slash (unbalanced ( paren", 1, "0.0125", "8.875%", "0.00"),
    ]);
    // a line too large to be real (its totals are set below): nothing is cut, figures are set smaller
    doc.lines.insert(
        2,
        DocumentLine {
            quantity: 1_000_000,
            net: Money::from_raw(i64::MAX),
            ..line(&long_word, &long_text, 1, "999,999,999,999.99", &long_text, "999,999,999.99")
        },
    );
    doc.seller[0] = "Ünïcödé Séller — 株式会社".into();
    doc.bill_to.push(long_text.clone());
    doc.references.push(("Ref 👍".into(), long_word.clone()));
    doc.notes.push(format!("{long_text}\nsecond line of the same note {long_word}"));
    doc.subtotal = Money::from_raw(i64::MAX);
    doc.total = Money::from_raw(i64::MIN + 1);

    let pdf = render(&doc).unwrap();
    let text = squeezed(&pages_of(&pdf).join("\n"));
    for expected in [
        "ÉTÉ-01",
        "Café crème — naïve façade, 5 €,",
        "“quoted” ‘single’…",
        "?-SKU",
        "?mega ?? emoji ?, etude, CJK ??, tab here",
        "Ünïcödé Séller — ????",
        "PAREN(1)",
        "Back\\slash (unbalanced ( paren",
        "0.0125",
        "1,000,000",
        "999,999,999,999.99",
        "$922,337,203,685,477.5807",
        "-$922,337,203,685,477.5807",
        "second line of the same note",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(text.contains('…'), "cut text ends in an ellipsis");
}

#[test]
fn an_empty_document_still_renders() {
    let doc = InvoiceDocument {
        title: String::new(),
        number: String::new(),
        issued_on: String::new(),
        due_on: String::new(),
        seller: vec![],
        bill_to: vec![],
        ship_to: vec![],
        references: vec![],
        lines: vec![],
        subtotal: Money::ZERO,
        tax: Money::ZERO,
        total: Money::ZERO,
        amount_due: Money::ZERO,
        notes: vec![],
    };
    let text = squeezed(&pages_of(&render(&doc).unwrap())[0]);
    assert!(text.contains("No lines.") && text.contains("$0.00") && text.contains("Page 1 of 1"), "{text}");
}

#[test]
fn a_document_beyond_the_limit_is_refused() {
    let one = line("A", "a", 1, "1.00", "", "0.00");
    let doc = document(vec![one; MAX_LINES + 1]);
    assert_eq!(render(&doc), Err(RenderError::TooManyLines(MAX_LINES + 1)));
}
