//! Every list an ERP pulls pages the same way (issue 16 §4): `updated_since`, `cursor`, `limit`,
//! oldest change first, `{"<items>": [...], "next_cursor": ...}`. Here the lists that paged their
//! own way before — invoices (and credit notes), payments, quotes, products: a walk a row at a
//! time sees every row once, and a later pull from a time sees exactly what changed since
//! (a payment applied, unapplied by a reversal; a product edited), and nothing else.

mod common;
mod receivables;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::Scope;
use portico::service::Actor;
use portico::service::payments::{self, ApplyInput};
use receivables::{fixture, invoiced, pay};
use serde_json::{Value, json};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.api("GET", path, token, None).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
    serde_json::from_str(&res.body).unwrap()
}

/// Walks a list a row at a time from `query` (which ends in `?` or `&`): the `key` of every row,
/// in the order served, and each page's `updated_at` never going back.
async fn walk(app: &TestApp, token: &str, list: &str, items: &str, key: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{list}limit=1&cursor={c}"),
            None => format!("{list}limit=1"),
        };
        let page = get(app, token, &path).await;
        let rows = page[items].as_array().unwrap_or_else(|| panic!("{path}: {page}"));
        assert!(rows.len() <= 1, "{path}");
        seen.extend(rows.iter().map(|r| r[key].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(seen.len() < 100, "the walk ends");
    }
    seen
}

#[tokio::test]
async fn invoices_payments_quotes_and_products_page_by_change_like_every_erp_list() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let other = invoiced(&app, &f, &f.other, 1, 1).await;
    let t = app.api_token(&[Scope::InvoicesRead, Scope::PaymentsRead, Scope::CatalogRead, Scope::CatalogWrite]).await;

    // A walk a row at a time: every invoice once, in the order issued (one second, ids by time).
    assert_eq!(walk(&app, &t, "/api/v1/invoices?", "invoices", "number").await, vec![a.clone(), b.clone(), other]);
    let acct = format!("/api/v1/invoices?account={}&", f.account_number);
    assert_eq!(walk(&app, &t, &acct, "invoices", "number").await, vec![a.clone(), b.clone()]);

    // Later: a payment closes `a`. Pulled from then, only `a` (now paid) and the payment.
    app.state.clock.advance(60);
    let since = app.now();
    let p = payments::record_payment(
        app.db(),
        app.now(),
        &fin,
        &pay(&f, "25.00", ApplyInput::Amounts(vec![(a.clone(), "20.00".into())])),
    )
    .await
    .unwrap()
    .payment
    .row;
    let changed = get(&app, &t, &format!("/api/v1/invoices?updated_since={since}")).await;
    let invoices = changed["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{changed}");
    assert_eq!((&invoices[0]["number"], &invoices[0]["status"]), (&json!(a), &json!("paid")));
    assert_eq!(invoices[0]["updated_at"], since);
    assert!(changed["next_cursor"].is_null());
    let pays = get(&app, &t, &format!("/api/v1/payments?updated_since={since}")).await;
    assert_eq!(pays["payments"].as_array().unwrap().len(), 1, "{pays}");
    assert_eq!((&pays["payments"][0]["number"], &pays["payments"][0]["unapplied"]), (&json!(p.number), &json!("5.00")));

    // Later still: the payment is reversed. Both come again, as they are now.
    app.state.clock.advance(60);
    let since = app.now();
    payments::reverse_payment(app.db(), app.now(), &fin, &p.number, "bounced").await.unwrap();
    let changed = get(&app, &t, &format!("/api/v1/invoices?updated_since={since}")).await;
    assert_eq!(changed["invoices"].as_array().unwrap().len(), 1, "{changed}");
    assert_eq!((&changed["invoices"][0]["number"], &changed["invoices"][0]["status"]), (&json!(a), &json!("open")));
    let pays = get(&app, &t, &format!("/api/v1/payments?updated_since={since}")).await;
    assert_eq!(pays["payments"][0]["status"], "reversed", "{pays}");
    assert_eq!(walk(&app, &t, "/api/v1/payments?", "payments", "number").await, vec![p.number.clone()]);
    // Nothing changed after that: an empty page, no cursor.
    let later = app.now() + 1;
    for list in ["invoices", "payments", "products"] {
        let page = get(&app, &t, &format!("/api/v1/{list}?updated_since={later}")).await;
        assert_eq!(page[list].as_array().unwrap().len(), 0, "{list}: {page}");
        assert!(page["next_cursor"].is_null());
    }

    // Products: every SKU once; an edit brings back that one only.
    let res = app.api("PUT", "/api/v1/products/BOX-9", &t, Some(json!({"name": "Boxes"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let mut skus = walk(&app, &t, "/api/v1/products?", "products", "sku").await;
    skus.sort();
    assert_eq!(skus, vec!["BOX-9", "GLV-1"]);
    app.state.clock.advance(60);
    let since = app.now();
    let res = app.api("PUT", "/api/v1/products/GLV-1", &t, Some(json!({"name": "Nitrile Gloves, blue"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let changed = get(&app, &t, &format!("/api/v1/products?updated_since={since}")).await;
    assert_eq!(changed["products"].as_array().unwrap().len(), 1, "{changed}");
    assert_eq!(changed["products"][0]["name"], "Nitrile Gloves, blue");

    // The same bounds and refusals on every one of them.
    for list in ["invoices", "payments", "products"] {
        for (bad, field) in [
            ("updated_since=-1", "updated_since"),
            ("cursor=2026-12-05.INV-100001", "cursor"),
            ("cursor=12.zz", "cursor"),
            ("limit=501", "limit"),
            ("limit=0", "limit"),
        ] {
            let res = app.api("GET", &format!("/api/v1/{list}?{bad}"), &t, None).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{list}?{bad}: {}", res.body);
            assert!(res.body.contains(field), "{list}?{bad}: {}", res.body);
        }
    }
    // Another account's invoices are not a filter a buyer's token can name (scoped tokens are
    // seller tokens here; a foreign account that does not exist answers 404).
    let res = app.api("GET", "/api/v1/invoices?account=NO-SUCH", &t, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
}

#[tokio::test]
async fn quotes_page_by_change_and_a_revision_comes_again() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let t = app.api_token(&[Scope::QuotesRead, Scope::QuotesWrite]).await;
    let mut numbers = Vec::new();
    for qty in [3, 4] {
        let body = json!({"account": f.account, "lines": [{"sku": "GLV-1", "quantity": qty}]});
        let res = app.api("POST", "/api/v1/quotes", &t, Some(body)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let q: Value = serde_json::from_str(&res.body).unwrap();
        numbers.push(q["number"].as_str().unwrap().to_string());
    }
    assert_eq!(walk(&app, &t, "/api/v1/quotes?", "quotes", "number").await, numbers);
    assert_eq!(walk(&app, &t, "/api/v1/quotes?status=draft&", "quotes", "number").await, numbers);
    app.state.clock.advance(60);
    let since = app.now();
    let first = &numbers[0];
    let res = app.api("POST", &format!("/api/v1/quotes/{first}/send"), &t, Some(json!({}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let changed = get(&app, &t, &format!("/api/v1/quotes?updated_since={since}")).await;
    assert_eq!(changed["quotes"].as_array().unwrap().len(), 1, "{changed}");
    assert_eq!((&changed["quotes"][0]["number"], &changed["quotes"][0]["status"]), (&json!(first), &json!("sent")));
    for bad in ["updated_since=-1", "cursor=x", "limit=201"] {
        let res = app.api("GET", &format!("/api/v1/quotes?{bad}"), &t, None).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", res.body);
    }
}
