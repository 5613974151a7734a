//! Category administration: the staff page (create, rename, move, re-sort, delete over real HTTP
//! with CSRF), refusals that change nothing, paths and customer catalogs kept consistent, who may,
//! and the API (tree, idempotent create-with-ancestors, delete refusal, scopes).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::catalog::Sku;
use portico::service::Actor;
use portico::store::new_id;
use portico::store::products::{self, ProductInput};
use portico::store::{catalogs, categories};
use serde_json::{Value, json};

/// Every category as (path, name, sort, parent path), by path: what a refusal must leave alone.
async fn snapshot(app: &TestApp) -> Vec<(String, String, i64, Option<String>)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, i64, Option<String>)>(
        "SELECT c.path, c.name, c.sort, p.path FROM categories c LEFT JOIN categories p ON p.id = c.parent_id ORDER BY c.path"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

async fn paths(app: &TestApp) -> Vec<String> {
    snapshot(app).await.into_iter().map(|(p, ..)| p).collect()
}

async fn id_of(app: &TestApp, path: &str) -> String {
    categories::category_by_path(app.db(), path).await.unwrap().unwrap_or_else(|| panic!("no category {path}")).id
}

/// (audit rows, outbox events) about categories.
async fn trail(app: &TestApp) -> (i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'category'").await,
        app.count("SELECT COUNT(*) FROM outbox WHERE event_type LIKE 'category.%'").await,
    )
}

/// The id in a redirect to a category page.
fn category_id(res: &TestResponse) -> String {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let loc = res.location();
    loc.trim_start_matches("/admin/categories/").split('?').next().unwrap().to_string()
}

/// Categories and products straight through the store: (path, parent path) and (sku, category path, active).
async fn seed(app: &TestApp, cats: &[(&str, Option<&str>)], items: &[(&str, &str, bool)]) {
    let now = app.now();
    let cats: Vec<(String, Option<String>)> =
        cats.iter().map(|(p, q)| (p.to_string(), q.map(str::to_string))).collect();
    let items: Vec<(String, String, bool)> = items.iter().map(|(s, c, a)| (s.to_string(), c.to_string(), *a)).collect();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let mut ids: Vec<(String, String)> = Vec::new();
            for (path, parent) in &cats {
                let id = new_id();
                let parent_id = parent.as_ref().map(|p| ids.iter().find(|(q, _)| q == p).unwrap().1.clone());
                let name = path.rsplit(" / ").next().unwrap();
                categories::insert_category(tx, &id, parent_id.as_deref(), name, path, 0, now).await?;
                ids.push((path.clone(), id));
            }
            for (sku, cat, active) in &items {
                let category_id = ids.iter().find(|(p, _)| p == cat).map(|(_, id)| id.clone());
                let input =
                    ProductInput { category_id, active: *active, ..ProductInput::new(sku, &format!("Product {sku}")) };
                products::upsert(tx, &new_id(), &input, now).await?;
            }
            Ok(())
        })
    })
    .await;
}

#[tokio::test]
async fn staff_create_rename_move_sort_and_delete_on_the_page() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let page = a.get("/admin/categories").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No categories yet"));
    assert!(page.body.contains("href=\"/admin/categories\""), "the staff navigation links the page");
    assert!(a.get("/admin/products").await.body.contains("href=\"/admin/categories\""), "linked from products");

    let medical =
        category_id(&a.post("/admin/categories", &[("name", " Medical "), ("parent", ""), ("sort", "")]).await);
    let res = a.post("/admin/categories", &[("name", "Gloves"), ("parent", &medical), ("sort", "0")]).await;
    let gloves = category_id(&res);
    assert_eq!(res.location(), format!("/admin/categories/{gloves}?notice=category_created"));
    let nitrile = category_id(&a.post("/admin/categories", &[("name", "Nitrile"), ("parent", &gloves)]).await);
    category_id(&a.post("/admin/categories", &[("name", "Masks"), ("parent", &medical), ("sort", "-1")]).await);
    assert_eq!(paths(&app).await, ["Medical", "Medical / Gloves", "Medical / Gloves / Nitrile", "Medical / Masks"]);
    let page = a.get("/admin/categories").await;
    // Masks (sort -1) before Gloves; the whole tree indented.
    let (m, g) = (page.body.find(">Masks<").unwrap(), page.body.find(">Gloves<").unwrap());
    assert!(m < g, "siblings by sort order");
    assert!(page.body.contains("indent-2") && page.body.contains("Medical / Gloves / Nitrile"));

    // Rename the top: every descendant's path follows, in one change.
    let res = a.post(&format!("/admin/categories/{medical}/rename"), &[("name", "Health")]).await;
    assert_eq!(res.location(), format!("/admin/categories/{medical}?notice=category_renamed"));
    assert_eq!(paths(&app).await, ["Health", "Health / Gloves", "Health / Gloves / Nitrile", "Health / Masks"]);
    let detail = a.get(&format!("/admin/categories/{nitrile}")).await;
    assert!(detail.body.contains("Health / Gloves / Nitrile"));

    // Move Nitrile to the top level, then re-sort Gloves.
    let res = a.post(&format!("/admin/categories/{nitrile}/move"), &[("parent", "")]).await;
    assert_eq!(res.location(), format!("/admin/categories/{nitrile}?notice=category_moved"));
    let res = a.post(&format!("/admin/categories/{gloves}/sort"), &[("sort", "7")]).await;
    assert_eq!(res.location(), format!("/admin/categories/{gloves}?notice=category_sorted"));
    let snap = snapshot(&app).await;
    assert!(snap.contains(&("Nitrile".into(), "Nitrile".into(), 0, None)));
    assert!(snap.contains(&("Health / Gloves".into(), "Gloves".into(), 7, Some("Health".into()))));
    // The same change again writes nothing.
    let (audits, events) = trail(&app).await;
    let res = a.post(&format!("/admin/categories/{gloves}/sort"), &[("sort", "7")]).await;
    assert_eq!(res.location(), format!("/admin/categories/{gloves}?notice=unchanged"));
    assert_eq!(trail(&app).await, (audits, events));

    let res = a.post(&format!("/admin/categories/{nitrile}/delete"), &[]).await;
    assert_eq!(res.location(), "/admin/categories?notice=category_deleted");
    assert_eq!(paths(&app).await, ["Health", "Health / Gloves", "Health / Masks"]);
    assert_eq!(a.get(&format!("/admin/categories/{nitrile}")).await.status, StatusCode::NOT_FOUND);

    // Every change left an audit row and an outbox event: 4 created, 3 updated, 1 deleted.
    assert_eq!(trail(&app).await, (8, 8));
    let kinds = portico::store::audit::pending_events(app.db(), 100).await.unwrap();
    let count = |t: &str| kinds.iter().filter(|e| e.event_type == t).count();
    assert_eq!((count("category.created"), count("category.updated"), count("category.deleted")), (4, 3, 1));
    let moved: Value = serde_json::from_str(
        &kinds.iter().find(|e| e.payload.contains("\"previous_path\":\"Health / Gloves / Nitrile\"")).unwrap().payload,
    )
    .unwrap();
    assert_eq!((moved["path"].as_str(), moved["parent_path"].as_str()), (Some("Nitrile"), None));
    let channel: String = portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>(
        "SELECT channel FROM audit_log WHERE action = 'category.deleted'"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(channel, "staff");
}

/// A form post that must be refused: (path under /admin/categories/, fields, message shown).
type Attempt<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn refusals_name_the_field_and_change_nothing() {
    let app = TestApp::new().await;
    seed(
        &app,
        &[
            ("Medical", None),
            ("Medical / Gloves", Some("Medical")),
            ("Medical / Gloves / Nitrile", Some("Medical / Gloves")),
            ("Lab", None),
        ],
        &[("GLV-1", "Medical / Gloves / Nitrile", true), ("GLV-2", "Medical / Gloves / Nitrile", false)],
    )
    .await;
    let (medical, gloves, nitrile, lab) = (
        id_of(&app, "Medical").await,
        id_of(&app, "Medical / Gloves").await,
        id_of(&app, "Medical / Gloves / Nitrile").await,
        id_of(&app, "Lab").await,
    );
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let before = snapshot(&app).await;

    let long = "x".repeat(81);
    let creates: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("name", "   "), ("parent", "")], "Name is required"),
        (vec![("name", "Gloves / Latex"), ("parent", &medical)], "contains “ / ”"),
        (vec![("name", &long), ("parent", "")], "81 characters"),
        (vec![("name", "gloves"), ("parent", &medical)], "Name: “Gloves” already exists under “Medical”"),
        (vec![("name", "LAB"), ("parent", "")], "already exists at the top level"),
        (vec![("name", "Latex"), ("parent", "no-such-id")], "Parent: that category does not exist"),
        (vec![("name", "Latex"), ("parent", &gloves), ("sort", "first")], "Sort: “first” is not a whole number"),
    ];
    for (fields, message) in creates {
        let res = a.post("/admin/categories", &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.body.contains("Nothing was changed"), "{fields:?}");
        assert!(res.body.contains(message), "{fields:?} → {message}\n{}", res.body);
    }
    // The refused form keeps what was typed.
    let res = a.post("/admin/categories", &[("name", "gloves"), ("parent", &medical)]).await;
    assert!(res.body.contains("value=\"gloves\"") && res.body.contains(&format!("value=\"{medical}\" selected")));

    let edits: Vec<Attempt> = vec![
        (format!("{gloves}/rename"), vec![("name", "")], "Name is required"),
        (format!("{gloves}/rename"), vec![("name", "A / B")], "contains “ / ”"),
        (format!("{lab}/rename"), vec![("name", "medical")], "already exists at the top level"),
        (
            format!("{medical}/move"),
            vec![("parent", &nitrile)],
            "cannot be moved under “Medical / Gloves / Nitrile”, which is inside it",
        ),
        (format!("{gloves}/move"), vec![("parent", &gloves)], "cannot be moved under itself"),
        (format!("{gloves}/sort"), vec![("sort", "1.5")], "Sort: “1.5” is not a whole number"),
    ];
    for (path, fields, message) in &edits {
        let res = a.post(&format!("/admin/categories/{path}"), fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(res.body.contains(message), "{path} → {message}\n{}", res.body);
    }
    // A sibling with that name where it would move to.
    seed(&app, &[("Gloves", None)], &[]).await;
    let res = a.post(&format!("/admin/categories/{gloves}/move"), &[("parent", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("“Gloves” already exists at the top level"));

    // Deletes blocked by what is inside, named with counts.
    let res = a.post(&format!("/admin/categories/{nitrile}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("“Medical / Gloves / Nitrile” still has 2 products"), "{}", res.body);
    let res = a.post(&format!("/admin/categories/{medical}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("still has 1 subcategory"));
    // The page says so before anyone tries.
    assert!(a.get(&format!("/admin/categories/{gloves}")).await.body.contains("still has 1 subcategory"));

    let mut after = snapshot(&app).await;
    after.retain(|(p, ..)| p != "Gloves");
    assert_eq!(after, before, "no refusal changed anything");
    assert_eq!(trail(&app).await, (0, 0), "and nothing was audited or announced");
    // Without the CSRF token nothing happens either.
    let res = a.post_raw("/admin/categories", "name=Latex&parent=".into()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(categories::category_by_path(app.db(), "Latex").await.unwrap().is_none());
}

#[tokio::test]
async fn renaming_keeps_products_catalogs_and_search_consistent() {
    let app = TestApp::new().await;
    seed(
        &app,
        &[("Medical", None), ("Medical / Gloves", Some("Medical")), ("Lab", None)],
        &[("GLV-1", "Medical / Gloves", true), ("LAB-1", "Lab", true)],
    )
    .await;
    let account = app.account("Alpha Clinic", None).await;
    let now = app.now();
    let (medical, acct) = (id_of(&app, "Medical").await, account.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let k = new_id();
            catalogs::insert_catalog(tx, &k, "Clinic", false, false, now).await?;
            catalogs::add_catalog_rule(tx, &k, "include_category", &medical).await?;
            catalogs::assign_catalog(tx, &new_id(), &k, Some(&acct), None).await?;
            catalogs::rebuild_catalog_membership(tx).await
        })
    })
    .await;
    let glv = products::get_by_sku(app.db(), &Sku::parse("GLV-1").unwrap()).await.unwrap().unwrap().id;
    assert!(catalogs::visible_to_account(app.db(), &glv, &account).await.unwrap());

    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let medical = id_of(&app, "Medical").await;
    let res = a.post(&format!("/admin/categories/{medical}/rename"), &[("name", "Health care")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // The rule names the category by id: the renamed tree is still in the customer's catalog.
    assert!(catalogs::visible_to_account(app.db(), &glv, &account).await.unwrap());
    let detail = portico::service::catalog::staff_product(
        app.db(),
        &Actor::web(&Principal::staff(
            admin.id.clone(),
            admin.name.clone(),
            admin.email.clone(),
            vec![StaffRole::Admin],
        )),
        "GLV-1",
    )
    .await
    .unwrap();
    assert_eq!(detail.category_path.as_deref(), Some("Health care / Gloves"));
    // The staff product list of the category follows the new tree, and search still finds by name.
    let list = a.get(&format!("/admin/products?category={medical}")).await;
    assert!(list.body.contains("Product GLV-1") && !list.body.contains("Product LAB-1"), "{}", list.body);
    assert!(list.body.contains("in Health care"));
    assert!(a.get("/admin/products?q=glv").await.body.contains("Product GLV-1"));
    assert_eq!(a.get("/admin/products?category=nope").await.status, StatusCode::NOT_FOUND);
    // The tree shows its products: active / all, with subcategories, linked.
    let tree = a.get("/admin/categories").await;
    assert!(tree.body.contains(&format!("href=\"/admin/products?category={medical}\"")));
    // The link's name starts with what it shows, then says it to a screen reader.
    assert!(tree.body.contains(">1 / 1<span class=\"sr-only\"> products active, in "), "{}", tree.body);
}

#[tokio::test]
async fn moving_a_category_moves_its_products_between_customer_catalogs() {
    let app = TestApp::new().await;
    seed(
        &app,
        &[
            ("Medical", None),
            ("Lab", None),
            ("Lab / Gloves", Some("Lab")),
            ("Lab / Gloves / Nitrile", Some("Lab / Gloves")),
        ],
        &[("GLV-1", "Lab / Gloves / Nitrile", true), ("GLV-2", "Lab / Gloves", true), ("LAB-1", "Lab", true)],
    )
    .await;
    let clinic = app.account("Alpha Clinic", None).await;
    let labs = app.account("Beta Labs", None).await;
    let now = app.now();
    let mut catalogs = Vec::new();
    for (name, category, account) in [("Clinic", "Medical", &clinic), ("Labs", "Lab", &labs)] {
        catalogs.push((name, id_of(&app, category).await, account.clone()));
    }
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for (name, category, account) in &catalogs {
                let k = new_id();
                catalogs::insert_catalog(tx, &k, name, false, false, now).await?;
                catalogs::add_catalog_rule(tx, &k, "include_category", category).await?;
                catalogs::assign_catalog(tx, &new_id(), &k, Some(account), None).await?;
            }
            catalogs::rebuild_catalog_membership(tx).await
        })
    })
    .await;
    let buyer = app.buyer(&clinic, "Cleo Buyer", BuyerRole::Buyer).await;
    let mut b = app.signed_in(&buyer.email).await;
    assert_eq!(b.get("/portal/products/GLV-1").await.status, StatusCode::NOT_FOUND);
    let sees = |account: String, sku: &'static str| {
        let app = &app;
        async move {
            let id = products::get_by_sku(app.db(), &Sku::parse(sku).unwrap()).await.unwrap().unwrap().id;
            catalogs::visible_to_account(app.db(), &id, &account).await.unwrap()
        }
    };
    assert!(sees(labs.clone(), "GLV-1").await && !sees(clinic.clone(), "GLV-1").await);

    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let (gloves, medical) = (id_of(&app, "Lab / Gloves").await, id_of(&app, "Medical").await);
    let res = a.post(&format!("/admin/categories/{gloves}/move"), &[("parent", &medical)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(paths(&app).await, ["Lab", "Medical", "Medical / Gloves", "Medical / Gloves / Nitrile"]);
    // The moved subtree's products left the lab catalog and joined the clinic's; the rest stayed.
    for sku in ["GLV-1", "GLV-2"] {
        assert!(sees(clinic.clone(), sku).await, "{sku} now in the clinic catalog");
        assert!(!sees(labs.clone(), sku).await, "{sku} no longer in the lab catalog");
    }
    assert!(sees(labs.clone(), "LAB-1").await && !sees(clinic.clone(), "LAB-1").await);
    assert_eq!(b.get("/portal/products/GLV-1").await.status, StatusCode::OK, "the customer sees it now");
    assert!(b.get("/portal/catalog?q=glv").await.body.contains("Product GLV-2"));
}

#[tokio::test]
async fn category_rules_match_whole_path_levels_not_wildcards() {
    // A "_" in a category path once acted as a LIKE wildcard: "Kit_" covered "KitA / Parts".
    let app = TestApp::new().await;
    seed(
        &app,
        &[("Kit_", None), ("KitA", None), ("KitA / Parts", Some("KitA")), ("Kit_ / Parts", Some("Kit_"))],
        &[("KIT-A", "KitA / Parts", true), ("KIT-U", "Kit_ / Parts", true)],
    )
    .await;
    let account = app.account("Alpha Clinic", None).await;
    let now = app.now();
    let (kits, acct) = (id_of(&app, "Kit_").await, account.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let k = new_id();
            catalogs::insert_catalog(tx, &k, "Kits", false, false, now).await?;
            catalogs::add_catalog_rule(tx, &k, "include_category", &kits).await?;
            catalogs::assign_catalog(tx, &new_id(), &k, Some(&acct), None).await?;
            catalogs::rebuild_catalog_membership(tx).await
        })
    })
    .await;
    let id = |sku: &'static str| {
        let app = &app;
        async move { products::get_by_sku(app.db(), &Sku::parse(sku).unwrap()).await.unwrap().unwrap().id }
    };
    assert!(catalogs::visible_to_account(app.db(), &id("KIT-U").await, &account).await.unwrap());
    assert!(!catalogs::visible_to_account(app.db(), &id("KIT-A").await, &account).await.unwrap());
}

#[tokio::test]
async fn only_catalog_admins_manage_categories() {
    let app = TestApp::new().await;
    seed(&app, &[("Medical", None)], &[]).await;
    let medical = id_of(&app, "Medical").await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let account = app.account("Acme", None).await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Manager).await;
    for (email, expect) in [(&rep.email, 403), (&cs.email, 403), (&fin.email, 403), (&buyer.email, 404)] {
        let mut c = app.signed_in(email).await;
        assert_eq!(c.get("/admin/categories").await.status.as_u16(), expect, "{email}");
        assert_eq!(c.get(&format!("/admin/categories/{medical}")).await.status.as_u16(), expect, "{email}");
        let res = c.post("/admin/categories", &[("name", "Dental"), ("parent", "")]).await;
        assert_eq!(res.status.as_u16(), expect, "{email} create");
        for (action, fields) in [
            ("rename", vec![("name", "X")]),
            ("move", vec![("parent", "")]),
            ("sort", vec![("sort", "3")]),
            ("delete", vec![]),
        ] {
            let res = c.post(&format!("/admin/categories/{medical}/{action}"), &fields).await;
            assert_eq!(res.status.as_u16(), expect, "{email} {action}");
        }
        assert!(!c.get("/me/password").await.body.contains("href=\"/admin/categories\""), "{email} has no link to it");
    }
    assert_eq!(paths(&app).await, ["Medical"]);
    assert_eq!(trail(&app).await, (0, 0));
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value, String) {
    let mut b = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let res = app.send(b.body(Body::from(body.map(|v| v.to_string()).unwrap_or_default())).unwrap()).await;
    let ctype = res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (res.status, serde_json::from_str(&res.body).unwrap_or(Value::Null), ctype)
}

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    let admin = app.staff(&format!("Admin {}", &new_id()[30..]), &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP sync", scopes).await.unwrap().1
}

#[tokio::test]
async fn the_api_creates_paths_with_their_ancestors_idempotently() {
    let app = TestApp::new().await;
    let t = token(&app, &[Scope::CatalogWrite]).await;
    let body = json!({ "path": "Medical / Gloves / Nitrile", "sort": 10 });
    let (s, b, _) = call(&app, Method::PUT, "/api/v1/categories", &t, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!((b["created"].as_bool(), b["changed"].as_bool()), (Some(true), Some(true)));
    assert_eq!(b["created_paths"], json!(["Medical", "Medical / Gloves", "Medical / Gloves / Nitrile"]));
    assert_eq!(
        (b["category"]["parent"].as_str(), b["category"]["sort"].as_i64()),
        (Some("Medical / Gloves"), Some(10))
    );
    let before = (snapshot(&app).await, trail(&app).await);
    assert_eq!(before.1, (3, 3));
    // The same body again: nothing changes.
    let (s, b, _) = call(&app, Method::PUT, "/api/v1/categories", &t, Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!((b["created"].as_bool(), b["changed"].as_bool()), (Some(false), Some(false)));
    assert_eq!(b["created_paths"], json!([]));
    assert_eq!((snapshot(&app).await, trail(&app).await), before);
    // Existing levels match ignoring case and keep their stored names; only what is missing is made.
    let (s, b, _) =
        call(&app, Method::PUT, "/api/v1/categories", &t, Some(json!({ "path": " medical / GLOVES / Latex" }))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["created_paths"], json!(["Medical / Gloves / Latex"]));
    // A new sort for an existing category is a change.
    let (s, b, _) = call(
        &app,
        Method::PUT,
        "/api/v1/categories",
        &t,
        Some(json!({ "path": "Medical / Gloves / Nitrile", "sort": 20 })),
    )
    .await;
    assert_eq!((s, b["created"].as_bool(), b["changed"].as_bool()), (StatusCode::OK, Some(false), Some(true)));
    // Bad paths name the level and change nothing.
    let before = snapshot(&app).await;
    for bad in ["Medical /  / Nitrile", "", &format!("Medical / {}", "x".repeat(81))] {
        let (s, b, ctype) = call(&app, Method::PUT, "/api/v1/categories", &t, Some(json!({ "path": bad }))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {b}");
        assert_eq!(ctype, "application/problem+json");
        assert_eq!(b["errors"][0]["field"], "path");
    }
    let (s, b, _) =
        call(&app, Method::PUT, "/api/v1/categories", &t, Some(json!({ "path": "Medical / Gloves / Nitrile / x" })))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(snapshot(&app).await.len(), before.len() + 1);

    // Products put in a category count in it and its ancestors.
    let (s, b, _) = call(
        &app,
        Method::PUT,
        "/api/v1/products/GLV-1",
        &t,
        Some(json!({ "name": "Nitrile M", "category": "Medical / Gloves / Nitrile" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    call(
        &app,
        Method::PUT,
        "/api/v1/products/GLV-2",
        &t,
        Some(json!({ "name": "Latex M", "category": "Medical / Gloves / Latex", "active": false })),
    )
    .await;
    let (s, list, _) = call(&app, Method::GET, "/api/v1/categories", &t, None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    let order: Vec<&str> = items.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [
            "Medical",
            "Medical / Gloves",
            "Medical / Gloves / Latex",
            "Medical / Gloves / Nitrile",
            "Medical / Gloves / Nitrile / x"
        ],
        "parents first, siblings by sort"
    );
    let item = |p: &str| items.iter().find(|i| i["path"] == p).unwrap().clone();
    assert_eq!(
        (item("Medical")["product_count"].as_i64(), item("Medical")["active_product_count"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(item("Medical / Gloves / Nitrile")["product_count"], 1);
    assert_eq!(item("Medical / Gloves / Nitrile")["name"], "Nitrile");
    assert!(item("Medical")["parent"].is_null() && item("Medical")["id"].is_string());

    // Deletes: refused while something is inside, named; fine once empty; unknown is 404.
    let before = (snapshot(&app).await, trail(&app).await);
    for (path, reason) in [
        ("Medical / Gloves / Latex", "still has 1 product"),
        ("Medical / Gloves / Nitrile", "1 product and 1 subcategory"),
        ("Medical", "1 subcategory"),
    ] {
        let (s, b, ctype) =
            call(&app, Method::DELETE, &format!("/api/v1/categories?path={}", urlenc(path)), &t, None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{path}: {b}");
        assert_eq!(ctype, "application/problem+json");
        assert!(b["detail"].as_str().unwrap().contains(reason), "{path}: {b}");
    }
    assert_eq!((snapshot(&app).await, trail(&app).await), before);
    let (s, b, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/categories?path={}", urlenc("medical / gloves / nitrile / X")),
        &t,
        None,
    )
    .await;
    assert_eq!((s, b["path"].as_str()), (StatusCode::OK, Some("Medical / Gloves / Nitrile / x")), "{b}");
    let (s, _, _) =
        call(&app, Method::DELETE, &format!("/api/v1/categories?path={}", urlenc("Medical / Nope")), &t, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b, _) = call(&app, Method::DELETE, "/api/v1/categories", &t, None).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("path")));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'category.deleted'").await, 1);
}

fn urlenc(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn the_api_enforces_scopes_and_documents_the_endpoints() {
    let app = TestApp::new().await;
    seed(&app, &[("Medical", None)], &[]).await;
    let read = token(&app, &[Scope::CatalogRead]).await;
    let pricing = token(&app, &[Scope::PricingWrite]).await;
    let (s, b, _) = call(&app, Method::GET, "/api/v1/categories", &read, None).await;
    assert_eq!((s, b["items"][0]["path"].as_str()), (StatusCode::OK, Some("Medical")));
    let (s, _, _) = call(&app, Method::PUT, "/api/v1/categories", &read, Some(json!({ "path": "Dental" }))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(&app, Method::DELETE, "/api/v1/categories?path=Medical", &read, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(&app, Method::GET, "/api/v1/categories", &pricing, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(&app, Method::GET, "/api/v1/categories", "not-a-token", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(paths(&app).await, ["Medical"]);

    let res = app.send(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    let doc: Value = serde_json::from_str(&res.body).unwrap();
    let ops = &doc["paths"]["/api/v1/categories"];
    assert!(ops["get"].is_object() && ops["put"].is_object() && ops["delete"].is_object(), "{ops}");
    assert_eq!(ops["delete"]["parameters"][0]["in"], "query", "the path is a query parameter");
    for schema in ["CategoryOut", "CategoryList", "CategoryIn", "CategoryUpsertOut"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_leave_one_category() {
    // Sibling names differ ignoring case, which no unique index checks: the tree lock makes two
    // concurrent creates (PostgreSQL: two connections) check one after the other.
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let p = Principal::staff(admin.id, admin.name, admin.email, vec![StaffRole::Admin]);
    let actor = Actor::web(&p);
    let create = portico::service::categories::create_category;
    for round in 0..10 {
        let (upper, lower) = (format!("Gloves {round}"), format!("GLOVES {round}"));
        let (a, b) = tokio::join!(
            create(app.db(), app.now(), &actor, &upper, None, 0),
            create(app.db(), app.now(), &actor, &lower, None, 0)
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "round {round}: exactly one of the two is created");
    }
    assert_eq!(paths(&app).await.len(), 10);
}
