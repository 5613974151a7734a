//! Licences for regulated products, end to end: the same refusal (code and message naming the
//! licence) in the portal cart and checkout, quick order, a rep's order for the account, the API
//! and an amendment; a valid licence passes, an expired or unverified one does not, a rule limited
//! to a state applies there only; documents are checked (type, size), verified with an audit row
//! and an event, and hidden from other accounts; `licence.expiring` is raised once.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::pricing::format_iso_date;
use portico::service::licences::{self, LicenceDraft, RuleDraft};
use portico::service::orders::{self, Amendment, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError};
use portico::store::products::ProductInput;
use portico::store::users::UserRow;
use serde_json::json;
use time::Duration;

struct Fixture {
    /// Holds an expired DEA registration.
    expired: String,
    /// Holds a valid, verified one.
    licensed: String,
    buyer_expired: UserRow,
    buyer_licensed: UserRow,
    rep: UserRow,
    admin: UserRow,
    reagent_id: String,
}

fn admin_of(u: &UserRow) -> Principal {
    Principal::staff(u.id.clone(), u.name.clone(), u.email.clone(), vec![StaffRole::Admin])
}

fn day(app: &TestApp, days: i64) -> String {
    format_iso_date(portico::service::catalog::today(app.now()) + Duration::days(days))
}

async fn add_licence(
    app: &TestApp,
    f_admin: &UserRow,
    account: &str,
    number: &str,
    region: &str,
    expires: i64,
) -> String {
    let p = admin_of(f_admin);
    let d = LicenceDraft {
        licence_type: "dea".into(),
        number: number.into(),
        issuing_region: region.into(),
        valid_from: String::new(),
        expires_on: day(app, expires),
    };
    licences::add_licence(app.db(), app.now(), &Actor::web(&p), account, &d).await.unwrap().id
}

async fn upload_and_verify(app: &TestApp, f_admin: &UserRow, licence: &str) {
    let p = admin_of(f_admin);
    licences::upload_document(app.db(), app.now(), &Actor::web(&p), licence, "dea.pdf", b"%PDF-1.4 test".to_vec())
        .await
        .unwrap();
    licences::verify_licence(app.db(), app.now(), &Actor::web(&p), licence).await.unwrap();
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let expired = app.account("Metro Dialysis", Some(&rep.id)).await;
    let licensed = app.account("St. Agnes Surgical", Some(&rep.id)).await;
    let buyer_expired = app.buyer(&expired, "Eve Expired", BuyerRole::Manager).await;
    let buyer_licensed = app.buyer(&licensed, "Lou Licensed", BuyerRole::Buyer).await;
    let reagent = ProductInput {
        regulated_class: Some("controlled_substance".into()),
        ..ProductInput::new("CS-1", "Opiate test reagent")
    };
    let ids = common::sell(
        app.db(),
        app.now(),
        vec![(ProductInput::new("GLV-1", "Gloves"), "10.00", 100), (reagent, "150.00", 50)],
    )
    .await;
    let p = admin_of(&admin);
    let rule = RuleDraft {
        regulated_class: "controlled_substance".into(),
        licence_type: "dea".into(),
        region: String::new(),
        require_verified: true,
    };
    licences::add_rule(app.db(), app.now(), &Actor::web(&p), &rule).await.unwrap();
    // The test ship-tos are in IL.
    let old = add_licence(app, &admin, &expired, "BM1234563", "IL", -10).await;
    upload_and_verify(app, &admin, &old).await;
    let good = add_licence(app, &admin, &licensed, "BS7654321", "IL", 200).await;
    upload_and_verify(app, &admin, &good).await;
    Fixture { expired, licensed, buyer_expired, buyer_licensed, rep, admin, reagent_id: ids[1].clone() }
}

fn place(account: &str, lines: &[(&str, i64)]) -> PlaceOrder {
    PlaceOrder {
        account_id: account.into(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    }
}

fn expired_message(app: &TestApp) -> String {
    let on = portico::domain::pricing::format_date(portico::service::catalog::today(app.now()) - Duration::days(10));
    format!(
        "CS-1: Controlled substances need a verified DEA registration for shipping to IL; licence BM1234563 expired on {on}."
    )
}

#[tokio::test]
async fn a_regulated_product_is_refused_for_the_unlicensed_account_in_every_channel() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let message = expired_message(&app);
    let orders_before = app.count("SELECT COUNT(*) FROM orders").await;

    // Portal: adding it to the cart adds nothing (quick order below shows the reason).
    let mut c = app.signed_in(&f.buyer_expired.email).await;
    c.post("/portal/cart/add", &[("sku", "CS-1"), ("quantity", "2")]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM cart_lines").await, 0);
    // A line already in the cart (added while the licence was valid) shows why; checkout refuses it.
    let (user, account, product, now) =
        (f.buyer_expired.id.clone(), f.expired.clone(), f.reagent_id.clone(), app.now());
    common::write(app.db(), move |tx| {
        Box::pin(async move { portico::store::carts::add_to_cart(tx, &user, &account, &[(product, 2)], now).await })
    })
    .await;
    let cart = c.get("/portal/cart").await.body;
    assert!(cart.contains(&message), "{cart}");
    let page = c.get("/portal/checkout").await;
    if page.status == StatusCode::OK && page.body.contains("form_token") {
        let token = page.attr("name=\"form_token\" value=\"");
        let r = c.post("/portal/checkout", &[("form_token", &token)]).await;
        assert_ne!(r.status, StatusCode::SEE_OTHER, "checkout must not place it: {}", r.body);
        assert!(r.body.contains(&message), "{}", r.body);
    } else {
        assert!(page.body.contains(&message), "{}", page.body);
    }
    // Quick order keeps the line out, with the reason.
    let r = c.post("/portal/quick-order", &[("lines", "CS-1 1")]).await;
    assert!(r.body.contains(&message), "{}", r.body);

    // A rep ordering for the account (the service the "order for" pages call).
    let rep = Principal::staff(f.rep.id.clone(), f.rep.name.clone(), f.rep.email.clone(), vec![StaffRole::SalesRep]);
    let actor = Actor { on_behalf_of: Some(&f.expired), ..Actor::web(&rep) };
    let refused = orders::place_order(app.db(), app.now(), &actor, &place(&f.expired, &[("CS-1", 1)]), None, |o, _| {
        (201, o.id.clone())
    })
    .await;
    let Err(ServiceError::Blocked(issues)) = refused else { panic!("rep order placed: {refused:?}") };
    assert_eq!((issues[0].code, issues[0].message.as_str()), ("licence_expired", message.as_str()));

    // The API answers with the same reason code.
    let p = admin_of(&f.admin);
    let token =
        portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", &[Scope::OrdersWrite])
            .await
            .unwrap()
            .1;
    let body = json!({ "account": f.expired, "lines": [{ "sku": "CS-1", "quantity": 1 }] });
    let r = app.api("POST", "/api/v1/orders", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("licence_expired") && r.body.contains("BM1234563"), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, orders_before, "nothing placed");

    // An amendment adding the regulated line to an ordinary order is refused too.
    let buyer = Principal::buyer(
        f.buyer_expired.id.clone(),
        f.buyer_expired.name.clone(),
        f.buyer_expired.email.clone(),
        f.expired.clone(),
        BuyerRole::Manager,
    );
    let Placement::Placed { order, .. } = orders::place_order(
        app.db(),
        app.now(),
        &Actor::web(&buyer),
        &place(&f.expired, &[("GLV-1", 1)]),
        None,
        |o, _| (201, o.id.clone()),
    )
    .await
    .unwrap() else {
        panic!()
    };
    let amendment = Amendment {
        expected_version: order.version,
        lines: vec![LineInput::sku("GLV-1", 1), LineInput::sku("CS-1", 1)],
        header: OrderHeader::default(),
        reason: "Customer called".into(),
    };
    let r = orders::amend_order(app.db(), app.now(), &Actor::web(&p), &order.id, &amendment).await;
    let Err(ServiceError::Blocked(issues)) = r else { panic!("amended: {r:?}") };
    assert_eq!(issues[0].code, "licence_expired");

    // The licensed account orders it through the same pipeline, portal and API alike.
    let lic = Principal::buyer(
        f.buyer_licensed.id.clone(),
        f.buyer_licensed.name.clone(),
        f.buyer_licensed.email.clone(),
        f.licensed.clone(),
        BuyerRole::Buyer,
    );
    let placed = orders::place_order(
        app.db(),
        app.now(),
        &Actor::web(&lic),
        &place(&f.licensed, &[("CS-1", 1)]),
        None,
        |o, _| (201, o.id.clone()),
    )
    .await;
    assert!(matches!(placed, Ok(Placement::Placed { .. })), "{placed:?}");
    let body = json!({ "account": f.licensed, "lines": [{ "sku": "CS-1", "quantity": 1 }] });
    assert_eq!(app.api("POST", "/api/v1/orders", &token, Some(body)).await.status, StatusCode::CREATED);
    // Licences through the API: listed, and recorded by type and number (an upsert).
    let lt = portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", &[Scope::LicencesWrite])
        .await
        .unwrap()
        .1;
    let listed = app.api("GET", &format!("/api/v1/accounts/{}/licences", f.expired), &lt, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(
        listed.body.contains("\"number\":\"BM1234563\"") && listed.body.contains("\"status\":\"expired\""),
        "{}",
        listed.body
    );
    let renewal =
        json!({ "licence_type": "dea", "number": "BM7777777", "issuing_region": "il", "expires_on": day(&app, 700) });
    let path = format!("/api/v1/accounts/{}/licences", f.expired);
    assert_eq!(app.api("PUT", &path, &lt, Some(renewal.clone())).await.status, StatusCode::CREATED);
    let again = app.api("PUT", &path, &lt, Some(renewal)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("\"status\":\"unverified\""), "{}", again.body);
    let bad = app.api("PUT", &path, &lt, Some(json!({ "licence_type": "dea", "number": "", "expires_on": "x" }))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("expires_on"), "{}", bad.body);
    assert_eq!(app.api("GET", &path, &token, None).await.status, StatusCode::FORBIDDEN, "orders:write is not enough");
    let r = app
        .api(
            "POST",
            "/api/v1/orders",
            &token,
            Some(json!({ "account": f.expired, "lines": [{ "sku": "CS-1", "quantity": 1 }] })),
        )
        .await;
    assert!(
        r.body.contains("licence_unverified") && r.body.contains("BM7777777"),
        "the new one waits for staff: {}",
        r.body
    );
    // Its buyers see their licence, read-only.
    let mut l = app.signed_in(&f.buyer_licensed.email).await;
    let page = l.get("/portal/account").await.body;
    assert!(page.contains("BS7654321") && page.contains("Valid") && !page.contains("Add a licence"), "{page}");
}

#[tokio::test]
async fn unverified_and_state_limited_rules() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let p = admin_of(&f.admin);
    // A renewed licence is added but its document is not verified yet: still refused, by name.
    let renewed = add_licence(&app, &f.admin, &f.expired, "BM9999999", "IL", 365).await;
    let check = |account: String| {
        let db = app.db().clone();
        let now = app.now();
        async move {
            portico::service::evaluation::evaluate(&db, now, &account, &[LineInput::sku("CS-1", 1)])
                .await
                .unwrap()
                .issues
        }
    };
    let issues = check(f.expired.clone()).await;
    assert_eq!(issues[0].code, "licence_unverified");
    assert!(issues[0].message.contains("BM9999999 is waiting for staff to verify"), "{}", issues[0].message);
    upload_and_verify(&app, &f.admin, &renewed).await;
    assert!(check(f.expired.clone()).await.is_empty(), "verified: orderable");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'licence.verified'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'licence.verified'").await, 3);

    // A rule for TX only does not touch IL ship-tos; one for IL does.
    let state_rule = |region: &str| RuleDraft {
        regulated_class: "controlled_substance".into(),
        licence_type: "state_controlled".into(),
        region: region.into(),
        require_verified: false,
    };
    licences::add_rule(app.db(), app.now(), &Actor::web(&p), &state_rule("TX")).await.unwrap();
    assert!(check(f.licensed.clone()).await.is_empty());
    licences::add_rule(app.db(), app.now(), &Actor::web(&p), &state_rule("il")).await.unwrap();
    let issues = check(f.licensed.clone()).await;
    assert_eq!(issues[0].code, "licence_required");
    assert_eq!(
        issues[0].message,
        "CS-1: Controlled substances need a valid state controlled substance registration for shipping to IL; the account has none on file."
    );
    // A licence issued by another state does not cover IL; one issued by IL does.
    let d = |region: &str, number: &str| LicenceDraft {
        licence_type: "state_controlled".into(),
        number: number.into(),
        issuing_region: region.into(),
        valid_from: String::new(),
        expires_on: day(&app, 90),
    };
    licences::add_licence(app.db(), app.now(), &Actor::web(&p), &f.licensed, &d("WI", "WI-1")).await.unwrap();
    assert_eq!(check(f.licensed.clone()).await[0].code, "licence_required");
    licences::add_licence(app.db(), app.now(), &Actor::web(&p), &f.licensed, &d("IL", "IL-1")).await.unwrap();
    assert!(check(f.licensed.clone()).await.is_empty(), "the unverified state licence counts: the rule trusts it");
    // Bad input: a 422 naming the field, nothing written.
    let before = app.count("SELECT COUNT(*) FROM account_licences").await;
    let bad = LicenceDraft { licence_type: "fishing".into(), expires_on: "soon".into(), ..d("IL", "") };
    let Err(ServiceError::Invalid(errors)) =
        licences::add_licence(app.db(), app.now(), &Actor::web(&p), &f.licensed, &bad).await
    else {
        panic!()
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["licence_type", "number", "expires_on"]);
    let nul = LicenceDraft { number: "A\0B".into(), ..d("IL", "") };
    assert!(matches!(
        licences::add_licence(app.db(), app.now(), &Actor::web(&p), &f.licensed, &nul).await,
        Err(ServiceError::Invalid(_))
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM account_licences").await, before);
}

#[tokio::test]
async fn documents_are_checked_verified_with_an_audit_row_and_hidden_from_other_accounts() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let lid = add_licence(&app, &f.admin, &f.expired, "BM5555555", "IL", 300).await;
    let mut admin = app.signed_in(&f.admin.email).await;
    // The staff account page lists the licences with their status.
    let page = admin.get(&format!("/accounts/{}", f.expired)).await.body;
    assert!(page.contains("BM1234563") && page.contains("Expired") && page.contains("Not verified"), "{page}");
    let path = format!("/licences/{lid}/document");
    let r = admin.upload(&path, &[], ("document", "notes.txt", "just text")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("PDF, PNG or JPEG"), "{}", r.body);
    let big = format!("%PDF-1.4\n{}", "x".repeat(licences::MAX_DOCUMENT_BYTES));
    let r = admin.upload(&path, &[], ("document", "big.pdf", &big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("SELECT COUNT(*) FROM licence_documents").await, 2, "the fixture's two only");
    // Verifying needs a document.
    let r = admin.post(&format!("/licences/{lid}/verify"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = admin.upload(&path, &[], ("document", "dea.pdf", "%PDF-1.4 registration")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = admin.post(&format!("/licences/{lid}/verify"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let audited = app
        .count_dyn(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'licence.verified' AND object_id = '{lid}' AND actor_user_id = '{}'",
            f.admin.id
        ))
        .await;
    assert_eq!(audited, 1);
    // Staff and the account's manager download it; another account's users get 404, like an
    // unknown id; a rep outside the book too.
    let got = admin.get(&path).await;
    assert_eq!((got.status, got.body.as_str()), (StatusCode::OK, "%PDF-1.4 registration"));
    assert_eq!(got.headers.get("content-type").unwrap(), "application/pdf");
    let mut manager = app.signed_in(&f.buyer_expired.email).await;
    assert_eq!(manager.get(&path).await.status, StatusCode::OK);
    let mut other = app.signed_in(&f.buyer_licensed.email).await;
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/licences/no-such-licence/document").await.status, StatusCode::NOT_FOUND);
    let other_rep = app.staff("Otto Rep", &[StaffRole::SalesRep]).await;
    let mut o = app.signed_in(&other_rep.email).await;
    assert_eq!(o.get(&path).await.status, StatusCode::NOT_FOUND);
    // Buyers and reps cannot add or verify licences.
    assert_ne!(manager.post(&format!("/licences/{lid}/verify"), &[]).await.status, StatusCode::SEE_OTHER);
    let add = [("licence_type", "dea"), ("number", "X1"), ("expires_on", "2030-01-01")];
    assert_eq!(manager.post(&format!("/accounts/{}/licences", f.expired), &add).await.status, StatusCode::NOT_FOUND);
    let mut rep = app.signed_in(&f.rep.email).await;
    assert_eq!(rep.post(&format!("/accounts/{}/licences", f.expired), &add).await.status, StatusCode::FORBIDDEN);
    let r = admin.post(&format!("/accounts/{}/licences", f.expired), &add).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The admin makes gloves a controlled substance on the product page: the rule applies at once
    // (to an account without licences).
    let unlicensed = app.account("Gamma Clinic", None).await;
    let gloves = [LineInput::sku("GLV-1", 1)];
    let glv = portico::service::evaluation::evaluate(app.db(), app.now(), &unlicensed, &gloves);
    assert!(glv.await.unwrap().issues.is_empty());
    let class = [("regulated_class", "Controlled substance")];
    assert_eq!(rep.post("/admin/products/GLV-1/regulated-class", &class).await.status, StatusCode::FORBIDDEN);
    let r = admin.post("/admin/products/GLV-1/regulated-class", &class).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(admin.get("/admin/products/GLV-1").await.body.contains("value=\"controlled_substance\""));
    let glv = portico::service::evaluation::evaluate(app.db(), app.now(), &unlicensed, &gloves);
    assert_eq!(glv.await.unwrap().issues[0].code, "licence_required");
    let bad = admin.post("/admin/products/GLV-1/regulated-class", &[("regulated_class", "a/b")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'product.regulated_class_changed'").await, 1);
}

#[tokio::test]
async fn an_expiring_licence_raises_one_event_and_a_staff_badge() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let soon = add_licence(&app, &f.admin, &f.licensed, "BS1111111", "IL", 20).await;
    upload_and_verify(&app, &f.admin, &soon).await;
    let later = add_licence(&app, &f.admin, &f.licensed, "BS2222222", "IL", 45).await;
    upload_and_verify(&app, &f.admin, &later).await;
    assert_eq!(licences::raise_expiry_notices(app.db(), app.now()).await.unwrap(), 1);
    assert_eq!(licences::raise_expiry_notices(app.db(), app.now()).await.unwrap(), 0, "once per window");
    let mut admin = app.signed_in(&f.admin.email).await;
    let list = admin.get("/licences").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("BS1111111") && list.body.contains("Expires in 20 days"), "{}", list.body);
    assert!(!list.body.contains("BS2222222"), "45 days out needs nothing yet");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'licence.expiring'").await,
        1,
        "the page raised nothing more"
    );
    assert!(admin.get("/licences/badge").await.body.contains("1 licence expires within 30 days"));
    // Renewed (a new expiry date), it gets a new window later, not now.
    let p = admin_of(&f.admin);
    let row = licences::get_licence(app.db(), &Actor::web(&p), &soon).await.unwrap();
    let d = LicenceDraft {
        licence_type: "dea".into(),
        number: "BS1111111".into(),
        issuing_region: "IL".into(),
        valid_from: String::new(),
        expires_on: day(&app, 25),
    };
    licences::update_licence(app.db(), app.now(), &Actor::web(&p), &soon, row.version, &d).await.unwrap();
    assert_eq!(licences::raise_expiry_notices(app.db(), app.now()).await.unwrap(), 1, "a new expiry date");
    // Other accounts' buyers never see this page.
    let mut b = app.signed_in(&f.buyer_expired.email).await;
    assert_eq!(b.get("/licences").await.status, StatusCode::NOT_FOUND);
    let _ = Method::GET;
}
