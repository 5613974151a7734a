//! The ERP sync API (issue 16 §4): upserts by the ERP's ids (create, update, and the same document
//! again changing nothing), lists paged by cursor from `updated_since`, and bad input refused
//! naming the field and changing nothing — on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestApp, TestResponse};
use portico::domain::auth::{Scope, StaffRole};
use portico::store::{accounts, new_id};
use serde_json::{Value, json};

fn body(res: &TestResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("not JSON: {} {}", res.status, res.body))
}

fn fields(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(res.headers["content-type"], "application/problem+json");
    body(res)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn group(app: &TestApp, name: &str) {
    let (name, now) = (name.to_string(), app.now());
    common::write(app.db(), move |tx| Box::pin(async move { accounts::insert_group(tx, &new_id(), &name, now).await }))
        .await;
}

fn account_doc(name: &str) -> Value {
    json!({
        "name": name,
        "payment_terms": "net45",
        "credit_limit": "25000.50",
        "bill_to": {"line1": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "us"}
    })
}

/// Every item of a list, page by page (`limit` each), from `since`; and how many pages it took.
async fn pull(app: &TestApp, token: &str, path: &str, items: &str, since: i64, limit: i64) -> (Vec<Value>, usize) {
    let (mut all, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}updated_since={since}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = app.api("GET", &url, token, None).await;
        assert_eq!(res.status, 200, "{url}: {}", res.body);
        let page = body(&res);
        let got = page[items].as_array().unwrap_or_else(|| panic!("{items} in {page}"));
        assert!(got.len() as i64 <= limit);
        all.extend(got.iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (all, pages),
        }
    }
}

#[tokio::test]
async fn accounts_are_upserted_by_external_id_and_the_same_document_changes_nothing() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    group(&app, "Dental").await;
    let t = app.api_token(&[Scope::AccountsWrite]).await;
    let audit = || app.count("SELECT COUNT(*) FROM audit_log");
    let events = || app.count("SELECT COUNT(*) FROM outbox");

    let mut doc = account_doc("Alpha Clinic");
    doc["ownership_mode"] = json!("hybrid");
    doc["owner_rep"] = json!("Rita.Rep@seller.test");
    doc["group"] = json!("Dental");
    let res = app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(doc.clone())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let out = body(&res);
    assert_eq!((out["created"].as_bool(), out["changed"].as_bool()), (Some(true), Some(true)));
    let a = &out["account"];
    assert_eq!(a["external_id"], "ERP-1");
    assert_eq!(a["credit_limit"], "25000.50");
    assert_eq!(a["payment_terms"], "net45");
    assert_eq!(a["owner_rep_id"], rep.id.as_str());
    assert_eq!(a["owner_rep_email"], "rita.rep@seller.test");
    assert_eq!(a["group"], "Dental");
    assert_eq!(a["bill_to"]["country"], "US");
    assert!(a["number"].as_str().unwrap().starts_with("A-"));
    let id = a["id"].as_str().unwrap().to_string();
    let created_at = a["updated_at"].as_i64().unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'account.created'").await, 1);

    // The same document again, later: nothing written.
    app.state.clock.advance(60);
    let (audit_before, events_before) = (audit().await, events().await);
    let res = app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(doc.clone())).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let out = body(&res);
    assert_eq!((out["created"].as_bool(), out["changed"].as_bool()), (Some(false), Some(false)));
    assert_eq!(out["account"]["updated_at"].as_i64(), Some(created_at));
    assert_eq!((audit().await, events().await), (audit_before, events_before), "a no-op writes nothing");

    // A change: one audit row, one `account.updated` event, a new updated_at.
    doc["credit_limit"] = json!("30000");
    doc["group"] = json!("");
    let before = app.state.clock.now();
    let res = app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(doc.clone())).await;
    let after = app.state.clock.now();
    assert_eq!(res.status, 200, "{}", res.body);
    let out = body(&res);
    assert_eq!((out["created"].as_bool(), out["changed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(out["account"]["id"], id.as_str());
    assert_eq!(out["account"]["credit_limit"], "30000.00");
    assert_eq!(out["account"]["group"], Value::Null);
    // The clock is real time plus the advance, so a second may tick during the request.
    let updated_at = out["account"]["updated_at"].as_i64().unwrap();
    assert!(updated_at >= created_at + 60 && (before..=after).contains(&updated_at), "{updated_at}");
    assert_eq!(audit().await, audit_before + 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'account.updated'").await, 1);

    // Read back by id, number and external id.
    for r in [id.as_str(), out["account"]["number"].as_str().unwrap(), "ERP-1"] {
        let res = app.api("GET", &format!("/api/v1/accounts/{r}"), &t, None).await;
        assert_eq!(res.status, 200, "{r}: {}", res.body);
        assert_eq!(body(&res)["id"], id.as_str());
    }
    let res = app.api("GET", "/api/v1/accounts/nope", &t, None).await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn bad_account_documents_are_refused_naming_every_field_and_change_nothing() {
    let app = TestApp::new().await;
    app.staff("Cora Desk", &[StaffRole::CustomerService]).await;
    let t = app.api_token(&[Scope::AccountsWrite]).await;
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"name": "", "status": "closed", "ownership_mode": "x", "payment_terms": "net0", "credit_limit": "1,000",
                   "bill_to": {"line1": "", "city": "C", "postal_code": "1", "country": "USA"}}),
            vec![
                "name",
                "status",
                "ownership_mode",
                "payment_terms",
                "credit_limit",
                "bill_to.line1",
                "bill_to.country",
            ],
        ),
        (
            json!({"name": "A", "credit_limit": "9999999999999", "bill_to": account_doc("x")["bill_to"]}),
            vec!["credit_limit"],
        ),
        (json!({"name": "A", "ownership_mode": "rep_led", "bill_to": account_doc("x")["bill_to"]}), vec!["owner_rep"]),
        (
            json!({"name": "A", "owner_rep": "nobody@seller.test", "bill_to": account_doc("x")["bill_to"]}),
            vec!["owner_rep"],
        ),
        // A staff user who is not a sales rep.
        (
            json!({"name": "A", "ownership_mode": "hybrid", "owner_rep": "cora.desk@seller.test", "bill_to": account_doc("x")["bill_to"]}),
            vec!["owner_rep"],
        ),
        (json!({"name": "A", "group": "Nope", "bill_to": account_doc("x")["bill_to"]}), vec!["group"]),
        (json!({"name": "A\u{0}", "bill_to": account_doc("x")["bill_to"]}), vec!["name"]),
        (json!({"name": "A", "bill_to": account_doc("x")["bill_to"], "extra": 1}), vec!["extra"]),
    ];
    for (doc, expected) in cases {
        let res = app.api("PUT", "/api/v1/accounts/ERP-9", &t, Some(doc.clone())).await;
        let got = fields(&res);
        for f in &expected {
            assert!(got.contains(&f.to_string()), "{doc}: {f} not in {got:?}");
        }
    }
    let long = "x".repeat(101);
    assert_eq!(
        fields(&app.api("PUT", &format!("/api/v1/accounts/{long}"), &t, Some(account_doc("A"))).await),
        vec!["external_id"]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before, "nothing changed");
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, 0);
    // Reading needs accounts:read (which accounts:write includes); bad list parameters are 422.
    let reader = app.api_token(&[Scope::AccountsRead]).await;
    let res = app.api("PUT", "/api/v1/accounts/ERP-9", &reader, Some(account_doc("A"))).await;
    assert_eq!(res.status, 403);
    for (q, field) in
        [("limit=0", "limit"), ("limit=501", "limit"), ("updated_since=-1", "updated_since"), ("cursor=zz", "cursor")]
    {
        assert_eq!(fields(&app.api("GET", &format!("/api/v1/accounts?{q}"), &reader, None).await), vec![field], "{q}");
    }
    // A cursor's id is printable: one hiding a NUL is refused like any other bad cursor, on every
    // list of this shape; a printable one is a place in the list, whether or not a row has it.
    for list in ["/api/v1/accounts", "/api/v1/account-groups", "/api/v1/warehouses", "/api/v1/orders"] {
        let token = app.api_token(&[Scope::AccountsRead, Scope::CatalogRead, Scope::OrdersRead]).await;
        assert_eq!(
            fields(&app.api("GET", &format!("{list}?cursor=0.00"), &token, None).await),
            vec!["cursor"],
            "{list}"
        );
        assert_eq!(app.api("GET", &format!("{list}?cursor=0.41"), &token, None).await.status, 200, "{list}");
    }
}

#[tokio::test]
async fn accounts_are_pulled_page_by_page_from_updated_since() {
    let app = TestApp::new().await;
    let t = app.api_token(&[Scope::AccountsWrite]).await;
    for i in 0..5 {
        let res =
            app.api("PUT", &format!("/api/v1/accounts/ERP-{i}"), &t, Some(account_doc(&format!("Clinic {i}")))).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let (all, pages) = pull(&app, &t, "/api/v1/accounts", "accounts", 0, 2).await;
    assert_eq!((all.len(), pages), (5, 3));
    // Later, two change: a pull from then sees exactly those, oldest change first.
    app.state.clock.advance(100);
    let since = app.now();
    for i in [3, 1] {
        let mut doc = account_doc(&format!("Clinic {i}"));
        doc["po_required"] = json!(true);
        assert_eq!(app.api("PUT", &format!("/api/v1/accounts/ERP-{i}"), &t, Some(doc)).await.status, 200);
        app.state.clock.advance(1);
    }
    let (changed, _) = pull(&app, &t, "/api/v1/accounts", "accounts", since, 1).await;
    let ids: Vec<&str> = changed.iter().map(|a| a["external_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["ERP-3", "ERP-1"]);
    let (none, pages) = pull(&app, &t, "/api/v1/accounts", "accounts", app.now() + 1, 2).await;
    assert_eq!((none.len(), pages), (0, 1));
}

fn ship_to_doc(label: &str) -> Value {
    json!({"label": label, "address": {"line1": "2 Dock Rd", "city": "Chicago", "region": "IL", "postal_code": "60601", "country": "US"}})
}

#[tokio::test]
async fn ship_tos_are_upserted_by_external_id_and_pulled_by_cursor() {
    let app = TestApp::new().await;
    let t = app.api_token(&[Scope::AccountsWrite]).await;
    assert_eq!(app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(account_doc("Alpha"))).await.status, 201);
    let audit = || app.count("SELECT COUNT(*) FROM audit_log");

    // The first ship-to is the account's default.
    let res = app.api("PUT", "/api/v1/accounts/ERP-1/ship-tos/DOCK-1", &t, Some(ship_to_doc("Dock 1"))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let first = body(&res)["ship_to"].clone();
    assert_eq!((first["default"].as_bool(), first["external_id"].as_str()), (Some(true), Some("DOCK-1")));
    for i in 2..=4 {
        let res = app
            .api(
                "PUT",
                &format!("/api/v1/accounts/ERP-1/ship-tos/DOCK-{i}"),
                &t,
                Some(ship_to_doc(&format!("Dock {i}"))),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(body(&res)["ship_to"]["default"], false);
    }
    // The same document: nothing written.
    app.state.clock.advance(10);
    let before = audit().await;
    let res = app.api("PUT", "/api/v1/accounts/ERP-1/ship-tos/DOCK-2", &t, Some(ship_to_doc("Dock 2"))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!((body(&res)["changed"].as_bool(), audit().await), (Some(false), before));
    // Made the default: the old default changed too (an ERP pulling them sees both).
    let since = app.now();
    let mut doc = ship_to_doc("Dock 2 (main)");
    doc["default"] = json!(true);
    let res = app.api("PUT", "/api/v1/accounts/ERP-1/ship-tos/DOCK-2", &t, Some(doc)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!((body(&res)["changed"].as_bool(), audit().await), (Some(true), before + 1));
    let (changed, _) = pull(&app, &t, "/api/v1/accounts/ERP-1/ship-tos", "ship_tos", since, 1).await;
    let mut got: Vec<(String, bool)> = changed
        .iter()
        .map(|s| (s["external_id"].as_str().unwrap().to_string(), s["default"].as_bool().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, vec![("DOCK-1".to_string(), false), ("DOCK-2".to_string(), true)]);
    let (all, pages) = pull(&app, &t, "/api/v1/accounts/ERP-1/ship-tos", "ship_tos", 0, 3).await;
    assert_eq!((all.len(), pages), (4, 2));

    // Bad input names the field; an unknown account is 404; nothing changed.
    let before = audit().await;
    let bad = json!({"label": "", "address": {"line1": "", "city": "C", "postal_code": "1", "country": "USA"}});
    let got = fields(&app.api("PUT", "/api/v1/accounts/ERP-1/ship-tos/DOCK-9", &t, Some(bad)).await);
    for f in ["label", "address.line1", "address.country"] {
        assert!(got.contains(&f.to_string()), "{f} not in {got:?}");
    }
    let blank = json!({"label": " ", "address": {"line1": "1", "city": "C", "postal_code": "1", "country": "US"}});
    assert_eq!(fields(&app.api("PUT", "/api/v1/accounts/ERP-1/ship-tos/DOCK-9", &t, Some(blank)).await), vec!["label"]);
    let res = app.api("PUT", "/api/v1/accounts/NOPE/ship-tos/DOCK-1", &t, Some(ship_to_doc("X"))).await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert_eq!(app.api("GET", "/api/v1/accounts/NOPE/ship-tos", &t, None).await.status, 404);
    assert_eq!(audit().await, before);
}

#[tokio::test]
async fn account_users_are_invited_and_updated_by_email() {
    let app = TestApp::new().await;
    let t = app.api_token(&[Scope::AccountsWrite]).await;
    assert_eq!(app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(account_doc("Alpha"))).await.status, 201);
    let invitations = || app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'user.invited'");

    let manager = json!({"name": "Mia Manager", "role": "manager"});
    let res = app.api("PUT", "/api/v1/accounts/ERP-1/users/Mia@Alpha.test", &t, Some(manager.clone())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let user = body(&res)["user"].clone();
    assert_eq!((user["email"].as_str(), user["role"].as_str()), (Some("mia@alpha.test"), Some("manager")));
    assert_eq!(user["accepted_invitation"], false);
    assert!(!res.body.contains("set-password"), "the API never shows a link");
    assert_eq!(invitations().await, 1, "invited through the invitation path");
    assert!(common::mailed_link(&app, "mia@alpha.test").await.is_some());

    // Again: nothing written.
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let res = app.api("PUT", "/api/v1/accounts/ERP-1/users/mia@alpha.test", &t, Some(manager)).await;
    assert_eq!((res.status.as_u16(), body(&res)["changed"].as_bool()), (200, Some(false)));
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before);
    assert_eq!(invitations().await, 1);

    // The last active manager cannot be demoted or deactivated.
    for doc in [json!({"name": "Mia", "role": "buyer"}), json!({"name": "Mia", "role": "manager", "active": false})] {
        let res = app.api("PUT", "/api/v1/accounts/ERP-1/users/mia@alpha.test", &t, Some(doc)).await;
        assert_eq!(res.status, 422, "{}", res.body);
    }
    // A second user; then the first may step down.
    let res = app
        .api("PUT", "/api/v1/accounts/ERP-1/users/max@alpha.test", &t, Some(json!({"name": "Max", "role": "manager"})))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    app.state.clock.advance(5);
    let since = app.now();
    let res = app
        .api(
            "PUT",
            "/api/v1/accounts/ERP-1/users/mia@alpha.test",
            &t,
            Some(json!({"name": "Mia M.", "role": "viewer", "active": false})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let u = body(&res)["user"].clone();
    assert_eq!(
        (u["name"].as_str(), u["role"].as_str(), u["active"].as_bool()),
        (Some("Mia M."), Some("viewer"), Some(false))
    );
    let (changed, _) = pull(&app, &t, "/api/v1/accounts/ERP-1/users", "users", since, 1).await;
    assert_eq!(changed.iter().map(|u| u["email"].as_str().unwrap()).collect::<Vec<_>>(), vec!["mia@alpha.test"]);
    let (all, pages) = pull(&app, &t, "/api/v1/accounts/ERP-1/users", "users", 0, 1).await;
    assert_eq!((all.len(), pages), (2, 2));

    // Bad input; an address of another account's user; an inactive stranger is not created.
    assert_eq!(app.api("PUT", "/api/v1/accounts/ERP-2", &t, Some(account_doc("Beta"))).await.status, 201);
    let cases = [
        ("/api/v1/accounts/ERP-1/users/not-an-email", json!({"name": "X", "role": "buyer"}), "email"),
        ("/api/v1/accounts/ERP-1/users/x@alpha.test", json!({"name": "", "role": "buyer"}), "name"),
        ("/api/v1/accounts/ERP-1/users/x@alpha.test", json!({"name": "X", "role": "boss"}), "role"),
        ("/api/v1/accounts/ERP-2/users/max@alpha.test", json!({"name": "Max", "role": "buyer"}), "email"),
        (
            "/api/v1/accounts/ERP-1/users/new@alpha.test",
            json!({"name": "New", "role": "buyer", "active": false}),
            "active",
        ),
    ];
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    for (path, doc, field) in cases {
        assert_eq!(fields(&app.api("PUT", path, &t, Some(doc)).await), vec![field], "{path}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, before);
    assert_eq!(app.api("GET", "/api/v1/accounts/NOPE/users", &t, None).await.status, 404);
}

#[tokio::test]
async fn warehouses_groups_and_price_lists_are_upserted_and_pulled_in_the_same_shape() {
    let app = TestApp::new().await;
    let t = app
        .api_token(&[
            Scope::AccountsWrite,
            Scope::StockWrite,
            Scope::CatalogRead,
            Scope::PricingRead,
            Scope::PricingWrite,
        ])
        .await;
    common::sell(
        app.db(),
        app.now(),
        vec![(portico::store::products::ProductInput::new("GLV-1", "Gloves"), "5.00", 10)],
    )
    .await;
    let audit = || app.count("SELECT COUNT(*) FROM audit_log");

    // Warehouses: create, the same again, a change.
    let res = app.api("PUT", "/api/v1/warehouses/EAST", &t, Some(json!({"name": "East", "sort": 2}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(body(&res)["warehouse"]["code"], "EAST");
    let before = audit().await;
    let res = app.api("PUT", "/api/v1/warehouses/EAST", &t, Some(json!({"name": "East", "sort": 2}))).await;
    assert_eq!((res.status.as_u16(), body(&res)["changed"].as_bool(), audit().await), (200, Some(false), before));
    app.state.clock.advance(10);
    let since = app.now();
    let res = app.api("PUT", "/api/v1/warehouses/EAST", &t, Some(json!({"name": "East coast"}))).await;
    assert_eq!((res.status.as_u16(), body(&res)["changed"].as_bool(), audit().await), (200, Some(true), before + 1));
    let (all, pages) = pull(&app, &t, "/api/v1/warehouses", "warehouses", 0, 1).await;
    assert_eq!((all.len(), pages), (2, 2), "CHI (seeded) and EAST");
    let (changed, _) = pull(&app, &t, "/api/v1/warehouses", "warehouses", since, 10).await;
    assert_eq!(changed.iter().map(|w| w["name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["East coast"]);
    for (doc, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "sort": -1}), "sort"),
        (json!({"name": "X", "sort": 1_000_001}), "sort"),
    ] {
        assert_eq!(fields(&app.api("PUT", "/api/v1/warehouses/WEST", &t, Some(doc)).await), vec![field]);
    }
    assert_eq!(
        fields(
            &app.api("PUT", &format!("/api/v1/warehouses/{}", "W".repeat(33)), &t, Some(json!({"name": "W"}))).await
        ),
        vec!["code"]
    );

    // Account groups: created once; an account joins one by name; a price list names it.
    for (status, changed) in [(201, true), (200, false)] {
        let res = app.api("PUT", "/api/v1/account-groups/Dental", &t, Some(json!({}))).await;
        assert_eq!((res.status.as_u16(), body(&res)["changed"].as_bool()), (status, Some(changed)), "{}", res.body);
    }
    assert_eq!(app.api("PUT", "/api/v1/account-groups/Vet", &t, Some(json!({}))).await.status, 201);
    let (groups, pages) = pull(&app, &t, "/api/v1/account-groups", "account_groups", 0, 1).await;
    assert_eq!((groups.len(), pages), (2, 2));
    assert_eq!(fields(&app.api("PUT", "/api/v1/account-groups/Vet", &t, Some(json!({"x": 1}))).await), vec!["x"]);
    let mut doc = account_doc("Alpha");
    doc["group"] = json!("Dental");
    let res = app.api("PUT", "/api/v1/accounts/ERP-1", &t, Some(doc)).await;
    assert_eq!(body(&res)["account"]["group"], "Dental");

    // Price lists: PUT creates as well as updates; the list shows header, prices and assignments,
    // and a change of prices alone is a change.
    let list = json!({"name": "Dental", "groups": ["Dental"], "accounts": ["ERP-1"], "prices": [{"sku": "GLV-1", "unit_price": "4.00"}]});
    let res = app.api("PUT", "/api/v1/price-lists/DENT", &t, Some(list.clone())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    app.state.clock.advance(10);
    let since = app.now();
    let (none, _) = pull(&app, &t, "/api/v1/price-lists", "price_lists", since, 10).await;
    assert!(none.is_empty());
    let mut cheaper = list.clone();
    cheaper["prices"] = json!([{"sku": "GLV-1", "unit_price": "3.90"}]);
    assert_eq!(app.api("PUT", "/api/v1/price-lists/DENT", &t, Some(cheaper)).await.status, 200);
    let (changed, _) = pull(&app, &t, "/api/v1/price-lists", "price_lists", since, 10).await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    let l = &changed[0];
    assert_eq!(
        (l["code"].as_str(), l["prices"].as_i64(), l["is_base"].as_bool()),
        (Some("DENT"), Some(1), Some(false))
    );
    assert_eq!(l["groups"], json!(["Dental"]));
    assert_eq!(l["accounts"].as_array().unwrap().len(), 1);
    let (all, pages) = pull(&app, &t, "/api/v1/price-lists", "price_lists", 0, 1).await;
    assert_eq!((all.len(), pages), (2, 2), "the base list and DENT");
}
