//! Customer catalogs over the ERP API (issue 16 §4): upserted whole by the ERP's id — header,
//! rules and assignments — with membership rebuilt in the same unit, audited and announced; the
//! same document again changes nothing; lists paged by cursor from `updated_since`; bad input
//! refused naming the field and changing nothing; only `catalogs:*` tokens reach them — on SQLite,
//! and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use common::{TestApp, TestResponse};
use portico::domain::auth::Scope;
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

/// Two categories with a product each (GLV-1 in Medical / Gloves, BUR-1 in Dental), through the
/// API; and an account (A-10001).
async fn seller(app: &TestApp) -> String {
    let t = app.api_token(&[Scope::CatalogWrite]).await;
    for (sku, category) in [("GLV-1", "Medical / Gloves"), ("BUR-1", "Dental")] {
        let res = app.api("PUT", "/api/v1/categories", &t, Some(json!({"path": category}))).await;
        assert!(res.status.is_success(), "{}", res.body);
        let doc = json!({"name": format!("Product {sku}"), "category": category});
        let res = app.api("PUT", &format!("/api/v1/products/{sku}"), &t, Some(doc)).await;
        assert!(res.status.is_success(), "{}", res.body);
    }
    app.account("Alpha Clinic", None).await
}

async fn members(app: &TestApp, catalog_id: &str) -> Vec<String> {
    let sql = format!(
        "SELECT COALESCE({}, '') FROM catalog_products cp JOIN products p ON p.id = cp.product_id WHERE cp.catalog_id = '{catalog_id}'",
        if app.url.starts_with("postgres") {
            "string_agg(p.sku, ',' ORDER BY p.sku)"
        } else {
            "group_concat(p.sku, ',')"
        }
    );
    let text: String = portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_one(c)
        .await)
    .unwrap();
    let mut v: Vec<String> = text.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    v.sort();
    v
}

#[tokio::test]
async fn catalogs_are_upserted_whole_by_external_id_and_the_same_document_changes_nothing() {
    let app = TestApp::new().await;
    let account = seller(&app).await;
    let number = accounts::get(app.db(), &account).await.unwrap().unwrap().number;
    group(&app, "Dental practices").await;
    let t = app.api_token(&[Scope::CatalogsWrite]).await;
    let audit = || app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'catalog'");
    let app_ref = &app;
    let events = move |kind: &'static str| {
        let sql = format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{kind}'");
        async move { app_ref.count_dyn(&sql).await }
    };

    let doc = json!({
        "name": "Clinics",
        "rules": [{"rule": "include_category", "target": "Medical"}],
        "accounts": [number],
        "groups": ["Dental practices"]
    });
    let res = app.api("PUT", "/api/v1/catalogs/ERP-K1", &t, Some(doc.clone())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let out = body(&res);
    assert_eq!((out["created"].as_bool(), out["changed"].as_bool()), (Some(true), Some(true)));
    let k = &out["catalog"];
    assert_eq!(k["external_id"], "ERP-K1");
    assert_eq!(k["default"], false);
    assert_eq!(k["rules"], json!([{"rule": "include_category", "target": "Medical"}]));
    assert_eq!(k["accounts"][0]["number"], number.as_str());
    assert_eq!(k["groups"], json!(["Dental practices"]));
    let id = k["id"].as_str().unwrap().to_string();
    // Membership follows in the same unit: the subcategory's product, not the other one.
    assert_eq!(members(&app, &id).await, vec!["GLV-1"]);
    assert_eq!((audit().await, events("catalog.created").await), (1, 1));

    // The same document again writes nothing.
    let res = app.api("PUT", "/api/v1/catalogs/ERP-K1", &t, Some(doc.clone())).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["changed"], false);
    assert_eq!((audit().await, events("catalog.updated").await), (1, 0));

    // Rules are replaced whole; assignments left out are kept.
    let doc2 = json!({
        "name": "Clinics",
        "includes_all": true,
        "rules": [{"rule": "exclude_product", "target": "glv-1"}]
    });
    let res = app.api("PUT", "/api/v1/catalogs/ERP-K1", &t, Some(doc2)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let k = body(&res)["catalog"].clone();
    assert_eq!(k["rules"], json!([{"rule": "exclude_product", "target": "GLV-1"}]));
    assert_eq!(k["groups"], json!(["Dental practices"]));
    assert_eq!(k["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(members(&app, &id).await, vec!["BUR-1"]);
    assert_eq!((audit().await, events("catalog.updated").await), (2, 1));

    // Empty lists take every assignment off; `default` makes it the one default catalog.
    let doc3 = json!({"name": "Clinics", "includes_all": true, "default": true, "accounts": [], "groups": []});
    let res = app.api("PUT", "/api/v1/catalogs/ERP-K1", &t, Some(doc3)).await;
    let k = body(&res)["catalog"].clone();
    assert_eq!((k["default"].as_bool(), k["accounts"].as_array().unwrap().len()), (Some(true), 0));
    assert_eq!(members(&app, &id).await, vec!["BUR-1", "GLV-1"]);
    // (K1 as if changed long ago, to see the next change mark it.)
    common::write(app.db(), |tx| {
        Box::pin(async move {
            tx.execute("UPDATE catalogs SET updated_at = 1 WHERE external_id = 'ERP-K1'", Vec::new()).await.map(|_| ())
        })
    })
    .await;
    let res = app.api("PUT", "/api/v1/catalogs/ERP-K2", &t, Some(json!({"name": "Other", "default": true}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs WHERE is_default = TRUE").await, 1);
    // The catalog that stopped being default counts as changed for an ERP pulling the list.
    let reader = app.api_token(&[Scope::CatalogsRead]).await;
    let res = app.api("GET", "/api/v1/catalogs?updated_since=2", &reader, None).await;
    let listed = body(&res)["catalogs"].clone();
    let k1 = listed.as_array().unwrap().iter().find(|k| k["external_id"] == "ERP-K1").expect("K1 changed");
    assert_eq!(k1["default"], false);
}

#[tokio::test]
async fn catalogs_are_listed_by_what_changed_since_a_time_a_page_at_a_time() {
    let app = TestApp::new().await;
    seller(&app).await;
    let t = app.api_token(&[Scope::CatalogsWrite]).await;
    for i in 1..=5 {
        let doc = json!({"name": format!("Catalog {i}"), "includes_all": i % 2 == 0});
        let res = app.api("PUT", &format!("/api/v1/catalogs/K-{i}"), &t, Some(doc)).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let reader = app.api_token(&[Scope::CatalogsRead]).await;
    let (mut all, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let mut url = "/api/v1/catalogs?updated_since=0&limit=2".to_string();
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = app.api("GET", &url, &reader, None).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let page = body(&res);
        all.extend(page["catalogs"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((all.len(), pages), (5, 3));
    let names: Vec<&str> = all.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Catalog 1") && names.contains(&"Catalog 5"));
    // Nothing changed after the future.
    let res = app.api("GET", "/api/v1/catalogs?updated_since=253402300799", &reader, None).await;
    assert_eq!(body(&res)["catalogs"], json!([]));
    // A bad cursor or limit is the caller's mistake, named.
    assert_eq!(fields(&app.api("GET", "/api/v1/catalogs?cursor=zz", &reader, None).await), vec!["cursor"]);
    assert_eq!(fields(&app.api("GET", "/api/v1/catalogs?limit=0", &reader, None).await), vec!["limit"]);
}

#[tokio::test]
async fn bad_documents_are_refused_naming_every_field_and_change_nothing() {
    let app = TestApp::new().await;
    seller(&app).await;
    let t = app.api_token(&[Scope::CatalogsWrite]).await;
    let res = app.api("PUT", "/api/v1/catalogs/K-1", &t, Some(json!({"name": "Taken"}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let before = (
        app.count("SELECT COUNT(*) FROM catalogs").await,
        app.count("SELECT COUNT(*) FROM catalog_rules").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
        app.count("SELECT COUNT(*) FROM outbox").await,
    );
    let bad = json!({
        "name": "New",
        "rules": [
            {"rule": "include_everything", "target": "Medical"},
            {"rule": "include_category", "target": "Nowhere"},
            {"rule": "include_product", "target": "NO-SUCH"},
            {"rule": "include_product", "target": "GLV-1"},
            {"rule": "include_product", "target": "glv-1"}
        ],
        "accounts": ["A-99999"],
        "groups": ["No such group"]
    });
    let got = fields(&app.api("PUT", "/api/v1/catalogs/K-2", &t, Some(bad)).await);
    for f in ["rules[0].rule", "rules[1].target", "rules[2].target", "rules", "accounts[0]", "groups[0]"] {
        assert!(got.contains(&f.to_string()), "{f} in {got:?}");
    }
    // A name another catalog has; an empty name; a NUL; an unknown field; a body that is not an object.
    let taken = fields(&app.api("PUT", "/api/v1/catalogs/K-3", &t, Some(json!({"name": "Taken"}))).await);
    assert_eq!(taken, vec!["name"]);
    assert_eq!(fields(&app.api("PUT", "/api/v1/catalogs/K-3", &t, Some(json!({"name": ""}))).await), vec!["name"]);
    assert_eq!(
        fields(&app.api("PUT", "/api/v1/catalogs/K-3", &t, Some(json!({"name": "a\u{0}b"}))).await),
        vec!["name"]
    );
    let unknown = app.api("PUT", "/api/v1/catalogs/K-3", &t, Some(json!({"name": "x", "colour": "red"}))).await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let array = app.api("PUT", "/api/v1/catalogs/K-3", &t, Some(json!([1]))).await;
    assert_eq!(array.status, 422, "{}", array.body);
    let long = "x".repeat(65);
    let res = app.api("PUT", &format!("/api/v1/catalogs/{long}"), &t, Some(json!({"name": "x"}))).await;
    assert_eq!(fields(&res), vec!["external_id"]);
    let after = (
        app.count("SELECT COUNT(*) FROM catalogs").await,
        app.count("SELECT COUNT(*) FROM catalog_rules").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
        app.count("SELECT COUNT(*) FROM outbox").await,
    );
    assert_eq!(before, after, "refused: nothing changed");
}

#[tokio::test]
async fn only_tokens_with_a_catalogs_scope_reach_catalogs() {
    let app = TestApp::new().await;
    seller(&app).await;
    let doc = json!({"name": "Clinics", "includes_all": true});
    // catalog:write manages products and categories, not who sees what.
    for scopes in [vec![Scope::CatalogWrite], vec![Scope::AccountsWrite], vec![Scope::CatalogsRead]] {
        let t = app.api_token(&scopes).await;
        let res = app.api("PUT", "/api/v1/catalogs/K-1", &t, Some(doc.clone())).await;
        assert_eq!(res.status, 403, "{scopes:?}: {}", res.body);
        assert!(body(&res)["detail"].as_str().unwrap().contains("catalogs:write"));
    }
    for scopes in [vec![Scope::CatalogRead], vec![Scope::AccountsRead]] {
        let t = app.api_token(&scopes).await;
        let res = app.api("GET", "/api/v1/catalogs", &t, None).await;
        assert_eq!(res.status, 403, "{scopes:?}: {}", res.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs").await, 0);
    let no_token = app.api("GET", "/api/v1/catalogs", "nope", None).await;
    assert_eq!(no_token.status, 401);
    // catalogs:write includes catalogs:read.
    let t = app.api_token(&[Scope::CatalogsWrite]).await;
    assert_eq!(app.api("PUT", "/api/v1/catalogs/K-1", &t, Some(doc)).await.status, 201);
    assert_eq!(app.api("GET", "/api/v1/catalogs", &t, None).await.status, 200);
}

#[tokio::test]
async fn deleting_a_catalog_or_a_group_takes_its_assignments_and_the_erp_sees_what_changed() {
    let app = TestApp::new().await;
    let account = seller(&app).await;
    group(&app, "Contractors").await;
    let t = app.api_token(&[Scope::CatalogsWrite, Scope::AccountsWrite]).await;
    let gid = portico::store::accounts::group_by_name(app.db(), "Contractors").await.unwrap().unwrap();
    let acc = account.clone();
    common::write(app.db(), move |tx| Box::pin(async move { accounts::set_group(tx, &acc, Some(&gid)).await })).await;
    for (x, doc) in [
        ("K-1", json!({"name": "Clinics", "includes_all": true, "accounts": [account]})),
        ("K-2", json!({"name": "Trade", "includes_all": true, "groups": ["Contractors"]})),
        ("K-D", json!({"name": "Everything", "includes_all": true, "default": true})),
    ] {
        let res = app.api("PUT", &format!("/api/v1/catalogs/{x}"), &t, Some(doc)).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    assert_eq!(app.api("DELETE", "/api/v1/catalogs/NOPE", &t, None).await.status, 404);
    let res = app.api("DELETE", "/api/v1/catalogs/K-D", &t, None).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("default catalog"), "{}", res.body);
    let res = app.api("DELETE", "/api/v1/catalogs/K-1", &t, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["name"], "Clinics");
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalog_assignments WHERE account_id IS NOT NULL").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'catalog.deleted'").await, 1);
    assert_eq!(app.api("DELETE", "/api/v1/catalogs/K-1", &t, None).await.status, 404, "gone");

    // The group: its account leaves it, K-2's assignment goes; both come again in the lists.
    app.state.clock.advance(60);
    let since = app.now();
    assert_eq!(app.api("DELETE", "/api/v1/account-groups/Nobody", &t, None).await.status, 404);
    let res = app.api("DELETE", "/api/v1/account-groups/Contractors", &t, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = body(&res);
    assert_eq!(
        (b["accounts"].as_u64(), b["catalogs"].as_u64(), b["price_lists"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    let accounts = body(&app.api("GET", &format!("/api/v1/accounts?updated_since={since}"), &t, None).await);
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 1, "{accounts}");
    assert!(accounts["accounts"][0]["group"].is_null(), "{accounts}");
    let catalogs = body(&app.api("GET", &format!("/api/v1/catalogs?updated_since={since}"), &t, None).await);
    assert_eq!(catalogs["catalogs"].as_array().unwrap().len(), 1, "{catalogs}");
    assert_eq!(catalogs["catalogs"][0]["groups"], json!([]));
    assert_eq!(app.count("SELECT COUNT(*) FROM account_groups").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'account_group.deleted'").await, 1);
    // Read scopes cannot delete.
    let read = app.api_token(&[Scope::CatalogsRead, Scope::AccountsRead]).await;
    assert_eq!(app.api("DELETE", "/api/v1/catalogs/K-2", &read, None).await.status, 403);
}
