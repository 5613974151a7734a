//! Catalog visibility, account-specific prices with explanations, price isolation between
//! accounts, staff "view as", and stock that never goes negative under concurrent changes.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::domain::money::Money;
use portico::service::Actor;
use portico::store::inventory::{self, StockReason};
use portico::store::new_id;
use portico::store::pricing::{self, NewContract, NewPriceList, format_iso};
use portico::store::products::{self, ProductInput};
use portico::store::{catalogs, categories, product_search};
use time::Duration;

struct Fixture {
    a: String,
    b: String,
    rep_a: portico::store::users::UserRow,
    buyer_a: String,
    buyer_b: String,
    admin: portico::store::users::UserRow,
    contract_to: String,
}

fn product(sku: &str, name: &str, category: &str, active: bool) -> ProductInput {
    ProductInput {
        description: format!("{name} for testing"),
        category_id: Some(category.into()),
        uom: "BX".into(),
        active,
        attributes: vec![("Material".into(), "Nitrile".into())],
        ..ProductInput::new(sku, name)
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep_a = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let rep_b = app.staff("Otto Rep", &[StaffRole::SalesRep]).await;
    let a = app.account("Alpha Clinic", Some(&rep_a.id)).await;
    let b = app.account("Beta Labs", Some(&rep_b.id)).await;
    let buyer_a = app.buyer(&a, "Ann Buyer", BuyerRole::Buyer).await.email;
    let buyer_b = app.buyer(&b, "Ben Buyer", BuyerRole::Buyer).await.email;
    let now = app.now();
    let today = portico::service::catalog::today(now);
    let contract_to = format_iso(today + Duration::days(30));
    let (a2, b2, ct) = (a.clone(), b.clone(), contract_to.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let (a, b, contract_to) = (a2, b2, ct);
            let (top, gloves) = (new_id(), new_id());
            categories::insert_category(tx, &top, None, "Medical", "Medical", 0, now).await?;
            categories::insert_category(tx, &gloves, Some(&top), "Gloves", "Medical / Gloves", 0, now).await?;
            let glv1 =
                products::upsert(tx, &new_id(), &product("GLV-1", "Nitrile Gloves M", &gloves, true), now).await?;
            let glv2 =
                products::upsert(tx, &new_id(), &product("GLV-2", "Nitrile Gloves L", &gloves, true), now).await?;
            let secret =
                products::upsert(tx, &new_id(), &product("SECRET-1", "Secret Reagent", &top, true), now).await?;
            let gone =
                products::upsert(tx, &new_id(), &product("OLD-1", "Discontinued Gloves", &gloves, false), now).await?;
            let base = new_id();
            pricing::insert_price_list(
                tx,
                &NewPriceList {
                    id: &base,
                    code: "BASE",
                    name: "List",
                    is_base: true,
                    priority: 1000,
                    valid_from: None,
                    valid_to: None,
                },
                now,
            )
            .await?;
            for (pid, q, p) in [
                (&glv1, 1, "10.00"),
                (&glv1, 10, "9.00"),
                (&glv2, 1, "5.00"),
                (&secret, 1, "50.00"),
                (&gone, 1, "1.00"),
            ] {
                pricing::set_list_price(tx, &base, pid, q, Money::parse(p).unwrap()).await?;
            }
            let k = new_id();
            let number = format!("C-{}", tx.next_counter("contract").await?);
            pricing::insert_contract(
                tx,
                &NewContract {
                    id: &k,
                    number: &number,
                    account_id: &a,
                    name: "Gloves deal",
                    valid_from: None,
                    valid_to: Some(&contract_to),
                },
                now,
            )
            .await?;
            pricing::set_contract_price(tx, &k, &glv1, 1, Money::parse("7.25").unwrap()).await?;
            // An expired contract of B must never show.
            let old = new_id();
            let yesterday = format_iso(today - Duration::days(1));
            pricing::insert_contract(
                tx,
                &NewContract {
                    id: &old,
                    number: "C-OLD",
                    account_id: &b,
                    name: "Old",
                    valid_from: None,
                    valid_to: Some(&yesterday),
                },
                now,
            )
            .await?;
            pricing::set_contract_price(tx, &old, &glv1, 1, Money::parse("3.00").unwrap()).await?;
            // Catalogs: the default hides SECRET-1; B has a catalog that includes it.
            let default = new_id();
            catalogs::insert_catalog(tx, &default, "Standard", true, true, now).await?;
            catalogs::add_catalog_rule(tx, &default, "exclude_product", &secret).await?;
            let special = new_id();
            catalogs::insert_catalog(tx, &special, "Labs", false, false, now).await?;
            catalogs::add_catalog_rule(tx, &special, "include_category", &top).await?;
            catalogs::assign_catalog(tx, &new_id(), &special, Some(&b), None).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            let w = new_id();
            inventory::insert_warehouse(tx, &w, "CHI", "Chicago DC", 0, now).await?;
            let why = StockReason { reason: "count", actor_user_id: None, channel: "cli" };
            inventory::adjust_on_hand(tx, &glv1, &w, 100, &why, now).await?;
            inventory::adjust_on_hand(tx, &glv2, &w, 4, &why, now).await?;
            Ok(())
        })
    })
    .await;
    Fixture { a, b, rep_a, buyer_a, buyer_b, admin, contract_to }
}

#[tokio::test]
async fn buyers_see_their_contract_price_explained() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_a).await;
    let list = c.get("/portal/catalog").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("$7.25") && list.body.contains("<s class=\"muted\">$10.00</s>"),
        "contract price with list struck through"
    );
    assert!(list.body.contains("100 in stock") && list.body.contains("Low: 4 left"));
    let page = c.get("/portal/products/glv-1").await;
    assert_eq!(page.status, StatusCode::OK);
    let to = portico::domain::pricing::format_date(pricing::parse_date(Some(&f.contract_to)).unwrap());
    assert!(
        page.body.contains(&format!("Your contract price — contract C-1001, valid to {to}")),
        "explanation in words"
    );
    assert!(page.body.contains("Chicago DC"));
    // Searching by SKU, name and attribute finds it.
    for q in ["GLV-1", "nitrile gloves m", "nitrile", "NITR glo", "glv"] {
        let res = c.get(&format!("/portal/catalog?q={}", q.replace(' ', "+"))).await;
        assert!(res.body.contains("Nitrile Gloves M"), "search “{q}”");
    }
    // Every word must match (by prefix); SKUs match whole or by part.
    let res = c.get("/portal/catalog?q=glv-2").await;
    assert!(res.body.contains("Nitrile Gloves L") && !res.body.contains("Nitrile Gloves M"));
    let res = c.get("/portal/catalog?q=nitrile+xyz").await;
    assert!(res.body.contains("Nothing in your catalog matches"));
}

#[tokio::test]
async fn another_account_never_sees_that_price() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut c = app.signed_in(&f.buyer_b).await;
    for path in ["/portal/catalog", "/portal/catalog?q=glv", "/portal/products/GLV-1"] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(!res.body.contains("7.25") && !res.body.contains("C-1001"), "A's contract leaks on {path}");
        assert!(!res.body.contains("3.00") && !res.body.contains("C-OLD"), "expired contract shows on {path}");
    }
    let page = c.get("/portal/products/GLV-1").await;
    assert!(page.body.contains("$10.00") && page.body.contains("$9.00"), "list price and volume break");
    assert!(page.body.contains("List price"));
}

#[tokio::test]
async fn products_outside_a_catalog_do_not_exist_for_the_account() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.buyer_a).await;
    assert!(!a.get("/portal/catalog").await.body.contains("Secret Reagent"));
    assert!(!a.get("/portal/catalog?q=secret").await.body.contains("Secret Reagent"));
    assert_eq!(a.get("/portal/products/SECRET-1").await.status, StatusCode::NOT_FOUND);
    // Inactive products disappear too; unknown SKUs are plain 404s.
    assert!(!a.get("/portal/catalog?q=discontinued").await.body.contains("Discontinued"));
    assert_eq!(a.get("/portal/products/OLD-1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get("/portal/products/NOPE").await.status, StatusCode::NOT_FOUND);
    // B's catalog includes it (and only the Medical tree: everything here).
    let mut b = app.signed_in(&f.buyer_b).await;
    assert!(b.get("/portal/catalog?q=secret").await.body.contains("Secret Reagent"));
    assert_eq!(b.get("/portal/products/SECRET-1").await.status, StatusCode::OK);
    // Staff viewing as A get the same 404.
    let mut admin = app.signed_in(&f.admin.email).await;
    assert_eq!(admin.get(&format!("/accounts/{}/products/SECRET-1", f.a)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.get(&format!("/accounts/{}/products/SECRET-1", f.b)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn outside_the_catalog_answers_exactly_as_an_unknown_sku() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.buyer_a).await;
    // Quick order: the same reason as for a SKU nobody has, word for word.
    for (sku, status) in [("SECRET-1", "exists for B only"), ("NOPE-77", "exists for nobody")] {
        let r = a.post("/portal/quick-order", &[("lines", &format!("{sku} 2"))]).await;
        assert_eq!(r.status, StatusCode::OK, "{status}");
        assert!(r.body.contains(&format!("There is no product with SKU {sku}.")), "{status}: {}", r.body);
        assert!(!r.body.contains("not available"), "{status}");
    }
    // Setting a cart quantity (to remove, to a legal and to an illegal quantity): the same 404.
    for qty in ["0", "5", "-1", "999999999"] {
        let secret = a.post("/portal/cart/set", &[("sku", "SECRET-1"), ("quantity", qty)]).await;
        let nope = a.post("/portal/cart/set", &[("sku", "NOPE-77"), ("quantity", qty)]).await;
        assert_eq!(nope.status, StatusCode::NOT_FOUND, "quantity {qty}");
        assert_eq!(secret.status, nope.status, "quantity {qty}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0, "nothing was put in a cart");
}

/// The part of a page that shows the catalog, with the account-specific link prefix normalised and
/// the ordering controls (only for those who may order, between `<!--order-->` markers) left out.
fn main_content(body: &str, base: &str) -> String {
    let start = body.find("<div class=\"page-head\">").expect("page head");
    let end = body.rfind("</main>").expect("main");
    let mut s = body[start..end].replace(base, "BASE");
    while let (Some(a), Some(b)) = (s.find("<!--order-->"), s.find("<!--/order-->")) {
        s.replace_range(a..b + "<!--/order-->".len(), "");
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn staff_view_as_matches_the_buyers_view_exactly() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut buyer = app.signed_in(&f.buyer_a).await;
    let mut rep = app.signed_in(&f.rep_a.email).await;
    for (buyer_path, staff_path) in [
        ("/portal/catalog".to_string(), format!("/accounts/{}/catalog", f.a)),
        ("/portal/catalog?q=gloves".to_string(), format!("/accounts/{}/catalog?q=gloves", f.a)),
        ("/portal/products/GLV-1".to_string(), format!("/accounts/{}/products/GLV-1", f.a)),
    ] {
        let b = buyer.get(&buyer_path).await;
        let s = rep.get(&staff_path).await;
        assert_eq!(s.status, StatusCode::OK);
        assert!(s.body.contains("Viewing the catalog as <strong>Alpha Clinic</strong>"));
        // Staff read the account's price as "Their price"; everything else is what the buyer sees.
        assert!(s.body.contains("Their price") && !s.body.contains(">Your price<"), "{staff_path}");
        assert_eq!(
            main_content(&b.body, "/portal"),
            main_content(&s.body, &format!("/accounts/{}", f.a)).replace("Their price", "Your price"),
            "{staff_path}"
        );
    }
    // A rep cannot view as an account outside their book; a buyer cannot use staff views at all.
    assert_eq!(rep.get(&format!("/accounts/{}/catalog", f.b)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(buyer.get(&format!("/accounts/{}/catalog", f.a)).await.status, StatusCode::NOT_FOUND);
    // Staff have no portal catalog of their own: they are asked to pick an account to act for.
    let r = rep.get("/portal/catalog").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().contains("choose_account"));
}

#[tokio::test]
async fn catalog_pages_by_key() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let cat = categories::categories(app.db()).await.unwrap()[0].id.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for i in 0..60 {
                products::upsert(
                    tx,
                    &new_id(),
                    &product(&format!("BULK-{i:03}"), &format!("Bulk item {i:03}"), &cat, true),
                    now,
                )
                .await?;
            }
            catalogs::rebuild_catalog_membership(tx).await
        })
    })
    .await;
    let mut c = app.signed_in(&f.buyer_a).await;
    let first = c.get("/portal/catalog?q=bulk").await;
    assert!(first.body.contains("Bulk item 049") && !first.body.contains("Bulk item 050"));
    let pagination = &first.body[first.body.find("class=\"pagination\"").expect("a next page")..];
    let next =
        pagination.split("href=\"/portal/catalog?").nth(1).unwrap().split('"').next().unwrap().replace("&#38;", "&");
    let second = c.get(&format!("/portal/catalog?{next}")).await;
    assert!(
        second.body.contains("Bulk item 050")
            && second.body.contains("Bulk item 059")
            && !second.body.contains("Bulk item 049")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stock_never_goes_negative_under_concurrent_adjustments() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let principal =
        Principal::staff(f.admin.id.clone(), f.admin.name.clone(), f.admin.email.clone(), vec![StaffRole::Admin]);
    // GLV-2 has 4 on hand; 12 concurrent removals of one unit: exactly 4 succeed.
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let db = app.db().clone();
        let p = principal.clone();
        let now = app.now();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::web(&p);
            portico::service::inventory::adjust_stock(&db, now, &actor, "GLV-2", "chi", -1, "picked").await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(after) => {
                assert!(after >= 0);
                ok += 1;
            }
            Err(portico::service::ServiceError::Conflict(msg)) => assert!(msg.contains("Not enough stock")),
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 4);
    assert_eq!(app.count("SELECT CAST(SUM(on_hand) AS BIGINT) FROM stock_levels WHERE product_id = (SELECT id FROM products WHERE sku = 'GLV-2')").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stock_movements WHERE reason = 'picked'").await,
        4,
        "every change journaled, no more"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'stock.adjusted'").await, 4);
    // Bad input changes nothing.
    let actor = Actor::web(&principal);
    let err = portico::service::inventory::adjust_stock(app.db(), app.now(), &actor, "GLV-1", "NOWHERE", 5, "count")
        .await
        .unwrap_err();
    assert!(matches!(err, portico::service::ServiceError::Invalid(_)));
    let err = portico::service::inventory::adjust_stock(app.db(), app.now(), &actor, "GLV-1", "CHI", 5, " ")
        .await
        .unwrap_err();
    assert!(matches!(err, portico::service::ServiceError::Invalid(_)));
}

/// Every search word must match, whichever plan the store picks: on SQLite the words' products
/// are intersected when every word is common, and a rare word's few products are checked for the
/// other words one by one.
#[tokio::test]
async fn search_matches_every_word_whether_the_words_are_common_or_rare() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let now = app.now();
    let cat = categories::categories(app.db()).await.unwrap()[0].id.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            // 320 bins (more than the 300 entries that make a word common); every fourth is teal.
            for i in 0..320 {
                let color = if i % 4 == 0 { "Teal" } else { "Grey" };
                let p = product(&format!("MASS-{i:04}"), &format!("Mass bin {color} {i:04}"), &cat, true);
                products::upsert(tx, &new_id(), &p, now).await?;
            }
            Ok(())
        })
    })
    .await;
    let db = app.db();
    let search = |term: &'static str| async move {
        let filter = product_search::ListFilter { term: term.into(), ..Default::default() };
        let found = product_search::list(db, product_search::Visibility::All, &filter, None, 500).await.unwrap();
        found.into_iter().map(|l| l.product.sku).collect::<Vec<_>>()
    };
    assert_eq!(search("mass bin").await.len(), 320, "two common words");
    let teal = search("bin teal").await;
    assert_eq!(teal.len(), 80, "a common and a rarer word");
    assert!(teal.iter().all(|s| s[5..].parse::<u32>().unwrap() % 4 == 0));
    // "000" prefixes 0000–0009; of those, the grey ones.
    assert_eq!(
        search("grey mass 000").await,
        ["0001", "0002", "0003", "0005", "0006", "0007", "0009"].map(|n| format!("MASS-{n}")),
        "a rare word with two common ones"
    );
    assert!(search("mass bin nothing").await.is_empty(), "a word nothing has");
}
