//! Invoices: a shipment bills what it shipped, a prepay order is billed whole when placed; numbers
//! run without gaps; due dates follow the terms; tax by the ship-to's region and the product's tax
//! class, exact to the cent; exempt accounts pay none; buyers with billing rights read their own
//! account's invoices as a page and a PDF, nobody else's.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::domain::catalog::BackorderPolicy;
use portico::domain::invoicing::TaxRate;
use portico::domain::money::Money;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, invoices};
use portico::store::new_id;
use portico::store::products::ProductInput;

struct Fixture {
    account: String,
    manager: String,
    buyer: String,
    cs: Principal,
    other_manager: String,
}

/// Gloves at 10.00 and gauze at 0.0125 a piece (tax class "medical"); Illinois taxes standard goods
/// at 10.25 % and medical at 1 %; the US elsewhere at 5 %.
async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Bill Clinic", None).await;
    let other = app.account("Other Labs", None).await;
    let gauze = ProductInput { backorder: BackorderPolicy::Allow, ..ProductInput::new("GZ-1", "Gauze") };
    common::sell(
        app.db(),
        app.now(),
        vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 100), (gauze, "0.0125", 1000)],
    )
    .await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            tx.execute("UPDATE products SET tax_class = 'medical' WHERE sku = 'GZ-1'", vec![]).await?;
            let rate = |country: &str, region: &str, class: &str, ppm| TaxRate {
                country: country.into(),
                region: region.into(),
                tax_class: class.into(),
                rate_ppm: ppm,
                label: String::new(),
            };
            for r in [
                rate("US", "IL", "standard", 102_500),
                rate("US", "IL", "medical", 10_000),
                rate("US", "", "standard", 50_000),
            ] {
                portico::store::invoices::put_tax_rate(tx, &new_id(), &r).await?;
            }
            Ok(())
        })
    })
    .await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await.email;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Buyer).await.email;
    let other_manager = app.buyer(&other, "Otto Other", BuyerRole::Manager).await.email;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    Fixture { account, manager, buyer, cs, other_manager }
}

async fn place(app: &TestApp, f: &Fixture, lines: &[(&str, i64)]) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader { po_number: "PO-77".into(), ..Default::default() },
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(&f.cs), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap()
    {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

async fn ship(app: &TestApp, f: &Fixture, o: &orders::OrderRow, lines: &[(i64, i64)]) {
    let cs = Actor::web(&f.cs);
    if o.status() == portico::domain::orders::OrderStatus::Placed {
        let _ = orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await;
    }
    let input = ShipmentInput { warehouse: "CHI".into(), lines: lines.to_vec(), ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

#[tokio::test]
async fn each_shipment_bills_what_it_shipped_taxed_by_region_and_class_exact_to_the_cent() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let cs = Actor::web(&f.cs);
    let o = place(&app, &f, &[("GLV-1", 3), ("GZ-1", 333)]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 0, "net 30: nothing billed at placement");
    ship(&app, &f, &o, &[(1, 2), (2, 333)]).await;
    let list = invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 10).await.unwrap();
    assert_eq!(list.len(), 1);
    let (inv, lines) = invoices::get_invoice(app.db(), &cs, &list[0].number).await.unwrap();
    assert_eq!(inv.number, "INV-100001");
    // 2 × 10.00 at 10.25 % = 2.05; 333 × 0.0125 = 4.1625 → 4.16 net, at 1 % = 0.0416 → 0.04.
    let got: Vec<(&str, i64, Money, Money)> =
        lines.iter().map(|l| (l.sku.as_str(), l.quantity, Money::from_raw(l.net), Money::from_raw(l.tax))).collect();
    assert_eq!(got, vec![("GLV-1", 2, m("20.00"), m("2.05")), ("GZ-1", 333, m("4.16"), m("0.04"))]);
    assert_eq!(
        (Money::from_raw(inv.subtotal), Money::from_raw(inv.tax), Money::from_raw(inv.total)),
        (m("24.16"), m("2.09"), m("26.25"))
    );
    // Net 30 from the day it was issued.
    let issued = portico::store::pricing::parse_date(Some(&inv.issued_on)).unwrap();
    assert_eq!(inv.due_on, portico::store::pricing::format_iso(issued + time::Duration::days(30)));
    assert_eq!(inv.po_number, "PO-77");
    assert!(inv.bill_to.starts_with("Bill Clinic\n1 Test Way"), "{}", inv.bill_to);

    // The rest ships: a second invoice for the last pair of gloves only, the next number.
    ship(&app, &f, &o, &[(1, 1)]).await;
    let list = invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 10).await.unwrap();
    let numbers: Vec<&str> = list.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(numbers, vec!["INV-100002", "INV-100001"]);
    assert_eq!(Money::from_raw(list[0].total), m("11.03"), "10.00 + 1.025 → 1.03");
    // Everything ordered is invoiced exactly once.
    assert_eq!(app.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM invoice_lines").await, 336);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'invoice.issued'").await, 2);
}

#[tokio::test]
async fn prepay_orders_are_billed_when_placed_and_exempt_accounts_pay_no_tax() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let account = f.account.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE accounts SET terms_days = 0, tax_exempt_certificate = 'IL-EX-42', tax_exempt_until = '2099-12-31' WHERE id = $1",
                portico::args![account],
            )
            .await?;
            Ok(())
        })
    })
    .await;
    let cs = Actor::web(&f.cs);
    let o = place(&app, &f, &[("GLV-1", 4)]).await;
    let list = invoices::list_invoices(app.db(), &cs, Some(&f.account), None, 10).await.unwrap();
    assert_eq!(list.len(), 1, "billed at placement");
    let inv = &list[0];
    assert_eq!((Money::from_raw(inv.tax), Money::from_raw(inv.total)), (Money::ZERO, m("40.00")));
    assert_eq!(inv.due_on, inv.issued_on, "prepay is due at once");
    assert_eq!(inv.terms, "Prepay");
    assert!(inv.tax_note.contains("IL-EX-42"), "{}", inv.tax_note);
    // Billed whole: its lines can no longer change, and shipping bills nothing more.
    let a = orders::Amendment {
        expected_version: o.version,
        lines: vec![LineInput::sku("GLV-1", 1)],
        header: OrderHeader::default(),
        reason: "less".into(),
    };
    assert!(matches!(
        orders::amend_order(app.db(), app.now(), &cs, &o.number, &a).await,
        Err(ServiceError::Conflict(_))
    ));
    ship(&app, &f, &o, &[(1, 4)]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 1);
}

/// Many shipments at once: the invoice numbers still run without a gap or a repeat.
#[tokio::test]
async fn invoice_numbers_run_without_gaps_under_concurrency() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut placed = Vec::new();
    for _ in 0..12 {
        let o = place(&app, &f, &[("GLV-1", 2)]).await;
        orders::confirm_order(app.db(), app.now(), &Actor::web(&f.cs), &o.number, None).await.unwrap();
        placed.push(o);
    }
    let tasks: Vec<_> = placed
        .iter()
        .map(|o| {
            let (db, now, cs, number) = (app.db().clone(), app.now(), f.cs.clone(), o.number.clone());
            tokio::spawn(async move {
                let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 2)], ..Default::default() };
                orders::record_shipment(&db, now, &Actor::web(&cs), &number, &input).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut numbers: Vec<i64> = invoices::list_invoices(app.db(), &Actor::web(&f.cs), Some(&f.account), None, 100)
        .await
        .unwrap()
        .iter()
        .map(|i| i.number.trim_start_matches("INV-").parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (100_001..=100_012).collect::<Vec<i64>>());
}

#[tokio::test]
async fn buyers_with_billing_rights_read_their_invoices_as_a_page_and_a_pdf_and_nobody_elses() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &[("GLV-1", 3)]).await;
    ship(&app, &f, &o, &[(1, 3)]).await;
    let mut manager = app.signed_in(&f.manager).await;
    let list = manager.get("/portal/invoices").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("INV-100001") && list.body.contains("$33.08"), "{}", list.body);
    let page = manager.get("/portal/invoices/INV-100001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("10.25%") && page.body.contains("$3.08"), "{}", page.body);
    // The order page links its invoice.
    assert!(manager.get(&format!("/portal/orders/{}", o.number)).await.body.contains("/portal/invoices/INV-100001"));
    let pdf = manager.get("/portal/invoices/INV-100001/pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    // A buyer without billing rights, another account's manager, a sales rep outside the book:
    // the invoice does not exist for them.
    let mut buyer = app.signed_in(&f.buyer).await;
    assert_eq!(buyer.get("/portal/invoices/INV-100001").await.status, StatusCode::NOT_FOUND);
    assert_eq!(buyer.get("/portal/invoices/INV-100001/pdf").await.status, StatusCode::NOT_FOUND);
    assert!(!buyer.get(&format!("/portal/orders/{}", o.number)).await.body.contains("INV-100001"));
    let mut other = app.signed_in(&f.other_manager).await;
    assert_eq!(other.get("/portal/invoices/INV-100001").await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/portal/invoices/INV-100001/pdf").await.status, StatusCode::NOT_FOUND);
    assert!(!other.get("/portal/invoices").await.body.contains("INV-100001"));
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut rep = app.signed_in(&rep.email).await;
    assert_eq!(rep.get("/invoices/INV-100001").await.status, StatusCode::NOT_FOUND);
    // Finance sees every account's.
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let mut fin = app.signed_in(&fin.email).await;
    assert!(fin.get("/invoices").await.body.contains("INV-100001"));
    assert_eq!(fin.get("/invoices/INV-100001").await.status, StatusCode::OK);
}

/// The PDF carries what the page shows (text read back from the file).
#[tokio::test]
async fn the_invoice_pdf_says_what_the_invoice_says() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            portico::store::invoices::put_setting(tx, "seller.name", "Meridian Supply").await?;
            portico::store::invoices::put_setting(tx, "seller.address", "200 Lake St\nChicago IL 60601").await
        })
    })
    .await;
    let o = place(&app, &f, &[("GLV-1", 3), ("GZ-1", 10)]).await;
    ship(&app, &f, &o, &[(1, 3), (2, 10)]).await;
    let (name, bytes) = invoices::invoice_pdf(app.db(), &Actor::web(&f.cs), "INV-100001").await.unwrap();
    assert_eq!(name, "INV-100001.pdf");
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for wanted in
        ["INV-100001", "Meridian Supply", "Bill Clinic", "GLV-1", "GZ-1", "PO-77", "30.00", "$33.21", "Springfield"]
    {
        assert!(text.contains(wanted), "{wanted} in {text}");
    }
}

/// The ERP reads invoices through the API: by account, page by page, one with its lines and tax,
/// and its PDF.
#[tokio::test]
async fn the_api_lists_and_reads_invoices_and_their_pdfs() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let o = place(&app, &f, &[("GLV-1", 3)]).await;
    ship(&app, &f, &o, &[(1, 1)]).await;
    ship(&app, &f, &o, &[(1, 2)]).await;
    let token = app.api_token(&[portico::domain::auth::Scope::InvoicesRead]).await;
    let get = |path: String| {
        let token = token.clone();
        let app = &app;
        async move { app.api("GET", &path, &token, None).await }
    };
    let page: serde_json::Value =
        serde_json::from_str(&get(format!("/api/v1/invoices?account={}&limit=1", f.account)).await.body).unwrap();
    assert_eq!(page["invoices"][0]["number"], "INV-100001", "oldest change first");
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let next: serde_json::Value = serde_json::from_str(
        &get(format!("/api/v1/invoices?account={}&limit=1&cursor={cursor}", f.account)).await.body,
    )
    .unwrap();
    assert_eq!(next["invoices"][0]["number"], "INV-100002");
    assert!(next["next_cursor"].is_null());
    let one: serde_json::Value = serde_json::from_str(&get("/api/v1/invoices/INV-100002".into()).await.body).unwrap();
    assert_eq!(
        (one["subtotal"].clone(), one["tax"].clone(), one["total"].clone()),
        ("20.00".into(), "2.05".into(), "22.05".into())
    );
    assert_eq!(one["lines"][0]["tax_rate"], "10.25%");
    assert_eq!(one["balance"], "22.05");
    let pdf = get("/api/v1/invoices/INV-100002/pdf".into()).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF-"));
    assert_eq!(get("/api/v1/invoices/INV-999999".into()).await.status, StatusCode::NOT_FOUND);
    for bad in ["0.5", "2026-12-05", "2026-12-05.inv-1", "x.INV-1"] {
        assert_eq!(
            get(format!("/api/v1/invoices?cursor={bad}")).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}

/// Staff who manage prices set and remove sales-tax rates on the pricing page; bad rates are
/// refused naming the field; invoices charge what is set; nobody else may touch them.
#[tokio::test]
async fn tax_rates_are_set_on_the_pricing_page_and_invoices_charge_them() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    // Illinois standard goods at 8.875 % from now on.
    let r = c
        .post(
            "/admin/pricing/tax-rates",
            &[("country", "us"), ("region", "il"), ("tax_class", ""), ("rate", "8.875"), ("label", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/admin/pricing").await;
    assert!(page.body.contains("data-rate=\"US/IL/standard\"") && page.body.contains("8.875%"), "{}", page.body);
    for (field, value, why) in [
        ("rate", "100.5", "over 100 %"),
        ("rate", "8.87501", "5 decimals"),
        ("country", "USA", "3 letters"),
        ("region", "I L", "space"),
    ] {
        let mut form =
            vec![("country", "US"), ("region", "IL"), ("tax_class", "standard"), ("rate", "5"), ("label", "")];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = c.post("/admin/pricing/tax-rates", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    let o = place(&app, &f, &[("GLV-1", 2)]).await;
    ship(&app, &f, &o, &[(1, 2)]).await;
    let (inv, _) = invoices::get_invoice(app.db(), &Actor::web(&f.cs), "INV-100001").await.unwrap();
    assert_eq!(Money::from_raw(inv.tax), m("1.78"), "20.00 at 8.875 % = 1.775 → 1.78");
    // Removed: the country's 5 % applies again.
    let r = c
        .post(
            "/admin/pricing/tax-rates/remove",
            &[("country", "US"), ("region", "IL"), ("tax_class", "standard"), ("rate", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    ship(&app, &f, &place(&app, &f, &[("GLV-1", 2)]).await, &[(1, 2)]).await;
    let (inv, _) = invoices::get_invoice(app.db(), &Actor::web(&f.cs), "INV-100002").await.unwrap();
    assert_eq!(Money::from_raw(inv.tax), m("1.00"));
    // Customer service and buyers may not.
    let mut cs = app.signed_in(&app.staff("Dee Desk", &[StaffRole::CustomerService]).await.email).await;
    let form = [("country", "US"), ("rate", "0")];
    assert_eq!(cs.post("/admin/pricing/tax-rates", &form).await.status, StatusCode::FORBIDDEN);
    let mut buyer = app.signed_in(&f.manager).await;
    assert_eq!(buyer.post("/admin/pricing/tax-rates", &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'tax_rate.%'").await, 2);
}
