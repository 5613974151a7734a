//! A seller from an empty database (issue 16 §5): the admin creates warehouses, categories,
//! products with stock, customer catalogs (rules, assignments to accounts and groups), account
//! groups, price lists and contracts, accounts and invites a buyer — all through the pages, each
//! list page saying what to do next while it is empty. Bad input comes back next to its field
//! with the input kept and changes nothing; other roles cannot reach these pages.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::service::Actor;

fn assert_redirect(res: &TestResponse, prefix: &str) -> String {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(res.location().starts_with(prefix), "{} does not start with {prefix}", res.location());
    res.location().to_string()
}

async fn admin(app: &TestApp) -> Client<'_> {
    admin_user(app).await.1
}

async fn admin_user(app: &TestApp) -> (Principal, Client<'_>) {
    let a = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let c = app.signed_in(&a.email).await;
    (Principal::staff(a.id, a.name, a.email, vec![StaffRole::Admin]), c)
}

async fn id_of(app: &TestApp, sql: &str, value: &str) -> String {
    portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(value)
        .fetch_one(c)
        .await)
    .unwrap()
}

#[tokio::test]
async fn an_admin_sets_up_a_seller_from_an_empty_database_in_the_pages() {
    let app = TestApp::new().await;
    let (p, mut a) = admin_user(&app).await;

    // Empty states say what to do next.
    let home = a.get("/admin/accounts").await;
    assert!(home.body.contains("Getting started") && home.body.contains("/admin/warehouses"), "{}", home.body);
    for (path, marker) in [
        ("/admin/warehouses", "data-empty=\"warehouses\""),
        ("/admin/catalogs", "data-empty=\"catalogs\""),
        ("/admin/account-groups", "data-empty=\"groups\""),
        ("/admin/products", "data-empty=\"products\""),
        ("/admin/pricing", "data-empty=\"price-lists\""),
    ] {
        let page = a.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(marker), "{path}: {}", page.body);
    }

    // The company first: its name and address head invoices and sign mails.
    assert!(a.get("/admin/accounts").await.body.contains("data-step=\"/admin/company\""));
    assert_redirect(
        &a.post(
            "/admin/company",
            &[("name", " Acme Supply "), ("address", "1 Dock Rd\r\n\r\nSpringfield, IL 62701\n")],
        )
        .await,
        "/admin/company?notice=company_saved",
    );
    let company = a.get("/admin/company").await;
    assert!(company.body.contains("value=\"Acme Supply\""), "{}", company.body);
    assert!(
        company.body.contains("1 Dock Rd\nSpringfield, IL 62701</textarea>"),
        "blank lines dropped: {}",
        company.body
    );
    let from = portico::service::mail::sender(app.db(), "https://portal.example.com").await.unwrap();
    assert_eq!(
        (from.seller_name.as_str(), from.seller_address.as_str()),
        ("Acme Supply", "1 Dock Rd\nSpringfield, IL 62701")
    );

    assert_redirect(
        &a.post("/admin/warehouses", &[("code", "MAIN"), ("name", "Main warehouse"), ("sort", "")]).await,
        "/admin/warehouses?notice=",
    );
    assert_redirect(
        &a.post("/admin/categories", &[("name", "Safety"), ("parent", ""), ("sort", "")]).await,
        "/admin/categories/",
    );
    assert_redirect(
        &a.post("/admin/categories", &[("name", "Tools"), ("parent", ""), ("sort", "")]).await,
        "/admin/categories/",
    );
    for (sku, category) in [("HAT-1", "Safety"), ("HAM-1", "Tools")] {
        let res = a
            .post(
                "/admin/products/new",
                &[
                    ("sku", sku),
                    ("name", &format!("Product {sku}")),
                    ("category", category),
                    ("uom", "EA"),
                    ("pack_size", "1"),
                    ("min_qty", "1"),
                    ("multiple_qty", "1"),
                    ("max_qty", ""),
                    ("backorder", "deny"),
                    ("active", "1"),
                ],
            )
            .await;
        assert_redirect(&res, &format!("/admin/products/{sku}?notice=product_created"));
        let res = a
            .post(
                &format!("/admin/products/{sku}/stock"),
                &[("warehouse", "MAIN"), ("delta", "50"), ("reason", "Opening count")],
            )
            .await;
        assert_redirect(&res, &format!("/admin/products/{sku}"));
    }

    // A catalog of the Safety category, for the Contractors group.
    let to = assert_redirect(&a.post("/admin/catalogs", &[("name", "Contractor range")]).await, "/admin/catalogs/");
    let catalog = to.trim_start_matches("/admin/catalogs/").split('?').next().unwrap().to_string();
    let page = a.get(&to).await;
    assert!(page.body.contains("data-hint=\"empty-catalog\""), "a catalog with nothing in it says so");
    let safety_id = id_of(&app, "SELECT id FROM categories WHERE name = $1", "Safety").await;
    let res = a
        .post(
            &format!("/admin/catalogs/{catalog}/rules"),
            &[("form", "category"), ("kind", "include_category"), ("target", &safety_id)],
        )
        .await;
    assert_redirect(&res, &format!("/admin/catalogs/{catalog}?notice=catalog_rule_added"));
    assert_eq!(
        app.count_dyn(&format!("SELECT COUNT(*) FROM catalog_products WHERE catalog_id = '{catalog}'")).await,
        1
    );
    assert_redirect(
        &a.post("/admin/account-groups", &[("name", "Contractors")]).await,
        "/admin/account-groups?notice=",
    );
    let group = id_of(&app, "SELECT id FROM account_groups WHERE name = $1", "Contractors").await;
    let res = a.post(&format!("/admin/catalogs/{catalog}/assignments"), &[("form", "group"), ("group", &group)]).await;
    assert_redirect(&res, &format!("/admin/catalogs/{catalog}?notice=catalog_assigned"));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type LIKE 'catalog.%'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'catalog'").await, 3);

    // A base price list with prices, and an account in the group with a contract.
    let res = a
        .post("/admin/pricing/lists", &[("code", "base"), ("name", "List prices"), ("priority", "100"), ("base", "1")])
        .await;
    assert_redirect(&res, "/admin/pricing/lists/BASE?notice=price_list_created");
    let res = a
        .post("/admin/pricing/lists/BASE/prices", &[("lines", "HAT-1, 1, 12.50\nHAM-1, 1, 20.00"), ("action", "set")])
        .await;
    assert_redirect(&res, "/admin/pricing/lists/BASE");
    // A list for the group: assigned, and an assignment taken off again.
    let res =
        a.post("/admin/pricing/lists", &[("code", "contractors"), ("name", "Contractors"), ("priority", "10")]).await;
    assert_redirect(&res, "/admin/pricing/lists/CONTRACTORS");
    let group_id = id_of(&app, "SELECT id FROM account_groups WHERE name = $1", "Contractors").await;
    let res = a.post("/admin/pricing/lists/CONTRACTORS/assignments", &[("account", ""), ("group", &group_id)]).await;
    assert_redirect(&res, "/admin/pricing/lists/CONTRACTORS?notice=saved");
    let res = a.post("/admin/pricing/lists/CONTRACTORS/assignments", &[("account", "A-404"), ("group", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"A-404\"") && res.body.contains("pa-account-error\">No account"), "{}", res.body);
    let page = a.get("/admin/pricing/lists/CONTRACTORS").await;
    assert!(page.body.contains("Group: Contractors"), "{}", page.body);
    let aid = id_of(
        &app,
        "SELECT a.id FROM price_list_assignments a JOIN price_lists l ON l.id = a.price_list_id WHERE l.code = $1",
        "CONTRACTORS",
    )
    .await;
    let res = a.post(&format!("/admin/pricing/lists/CONTRACTORS/assignments/{aid}/delete"), &[]).await;
    assert_redirect(&res, "/admin/pricing/lists/CONTRACTORS?notice=saved");
    assert_eq!(app.count("SELECT COUNT(*) FROM price_list_assignments").await, 0);
    let res = a.post(&format!("/admin/pricing/lists/CONTRACTORS/assignments/{aid}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    let fields = [
        ("version", "0"),
        ("name", "Acme Builders"),
        ("status", "active"),
        ("ownership_mode", "self_service"),
        ("owner_rep_id", ""),
        ("terms", "net30"),
        ("credit_limit", "5000"),
        ("group", group.as_str()),
        ("bill_line1", "1 Main St"),
        ("bill_city", "Springfield"),
        ("bill_region", "IL"),
        ("bill_postal_code", "62701"),
        ("bill_country", "US"),
        ("ship_same_as_billing", "1"),
    ];
    let to = assert_redirect(&a.post("/admin/accounts/new", &fields).await, "/accounts/");
    let account = to.trim_start_matches("/accounts/").split('?').next().unwrap().to_string();
    let row = portico::store::accounts::get(app.db(), &account).await.unwrap().unwrap();
    assert_eq!(row.group_id.as_deref(), Some(group.as_str()));
    let res = a.post("/admin/pricing", &[("number", "C-1"), ("account", &row.number)]).await;
    assert_redirect(&res, "/admin/pricing/contracts/C-1");
    let res = a
        .post(
            "/admin/pricing/contracts/C-1",
            &[("name", "Acme deal"), ("valid_from", ""), ("valid_to", ""), ("lines", "HAT-1, 1, 11.00")],
        )
        .await;
    assert_redirect(&res, "/admin/pricing/contracts/C-1");

    // The account sees the group's catalog (Safety only) at its contract price.
    let ids = vec![
        id_of(&app, "SELECT id FROM products WHERE sku = $1", "HAT-1").await,
        id_of(&app, "SELECT id FROM products WHERE sku = $1", "HAM-1").await,
    ];
    let visible = portico::store::catalogs::visible_subset(app.db(), &account, &ids).await.unwrap();
    assert_eq!(visible.into_iter().collect::<Vec<_>>(), vec![ids[0].clone()]);
    let q = portico::service::catalog::quote(
        app.db(),
        app.now(),
        &Actor::web(&p),
        &account,
        &[("HAT-1".to_string(), 2), ("HAM-1".to_string(), 1)],
    )
    .await
    .unwrap();
    match &q[0].outcome {
        portico::service::catalog::QuoteOutcome::Priced { line_total, .. } => {
            assert_eq!(line_total.to_plain(), "22.00")
        }
        other => panic!("HAT-1 priced at the contract: {other:?}"),
    }
    assert!(
        matches!(q[1].outcome, portico::service::catalog::QuoteOutcome::Refused { .. }),
        "HAM-1 is not in the catalog"
    );

    // A buyer is invited; then the checklist is done and goes away.
    let res = a
        .post(
            &format!("/accounts/{account}/users"),
            &[("email", "bo@acme.test"), ("name", "Bo Buyer"), ("role", "manager")],
        )
        .await;
    assert!(res.status.is_success() || res.status == StatusCode::SEE_OTHER, "{}", res.body);
    let home = a.get("/admin/accounts").await;
    assert!(!home.body.contains("Getting started"), "every step done: {}", home.body);
}

#[tokio::test]
async fn refused_forms_keep_the_input_and_name_the_field_and_change_nothing() {
    let app = TestApp::new().await;
    let mut a = admin(&app).await;
    assert_redirect(
        &a.post("/admin/warehouses", &[("code", "MAIN"), ("name", "Main"), ("sort", "")]).await,
        "/admin/warehouses",
    );
    let audit = app.count("SELECT COUNT(*) FROM audit_log").await;

    let res = a.post("/admin/warehouses", &[("code", "main"), ("name", "Second main"), ("sort", "x1")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"Second main\"") && res.body.contains("value=\"x1\""), "input kept");
    assert!(res.body.contains("is not a whole number"), "{}", res.body);
    let res = a.post("/admin/warehouses", &[("code", "main"), ("name", "Second main"), ("sort", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("already exists") && res.body.contains("nw-code-error\">A warehouse"), "{}", res.body);
    let res = a.post("/admin/warehouses/MAIN", &[("name", ""), ("sort", "0")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("w-name-error\">A warehouse name is 1 to 100 characters."), "{}", res.body);

    let res = a
        .post(
            "/admin/products/new",
            &[
                ("sku", "BAD SKU!"),
                ("name", "Thing"),
                ("pack_size", "0"),
                ("min_qty", "1"),
                ("multiple_qty", "1"),
                ("max_qty", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"BAD SKU!\"") && res.body.contains("id=\"sku-error\">SKU"), "{}", res.body);
    assert!(res.body.contains("pack size must be at least 1"), "{}", res.body);

    let to = assert_redirect(&a.post("/admin/catalogs", &[("name", "Range")]).await, "/admin/catalogs/");
    let catalog = to.trim_start_matches("/admin/catalogs/").split('?').next().unwrap().to_string();
    let audit_after_catalog = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(audit_after_catalog, audit + 1);
    let res = a.post("/admin/catalogs", &[("name", "Range")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Another catalog is already named"), "{}", res.body);
    let res = a
        .post(
            &format!("/admin/catalogs/{catalog}/rules"),
            &[("form", "product"), ("kind", "include_product"), ("target", "nope-1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("value=\"nope-1\"") && res.body.contains("rp-target-error\">No product has the SKU"),
        "{}",
        res.body
    );
    let res =
        a.post(&format!("/admin/catalogs/{catalog}/assignments"), &[("form", "account"), ("account", "A-404")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"A-404\"") && res.body.contains("as-account-error\">No account"), "{}", res.body);
    let res = a.post("/admin/account-groups", &[("name", " ")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = a.post("/admin/pricing/lists", &[("code", ""), ("name", "Lists"), ("priority", "abc")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"Lists\"") && res.body.contains("nl-priority-error\">Priority"), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_after_catalog, "nothing changed");
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 0);

    // Unknown ids are 404.
    assert_eq!(a.get("/admin/catalogs/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get("/admin/warehouses/NOPE").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        a.post("/admin/catalogs/nope/rules", &[("form", "product"), ("kind", "include_product"), ("target", "x")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(a.post("/admin/catalogs/nope", &[("name", "x")]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_admins_reach_the_setup_pages() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let account = app.account("Acme", None).await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Manager).await;
    for (email, expect) in [(&rep.email, 403), (&buyer.email, 404)] {
        let mut c = app.signed_in(email).await;
        for path in ["/admin/warehouses", "/admin/catalogs", "/admin/account-groups", "/admin/products/new"] {
            assert_eq!(c.get(path).await.status.as_u16(), expect, "{email} {path}");
        }
        for (path, fields) in [
            ("/admin/warehouses", vec![("code", "X"), ("name", "X")]),
            ("/admin/catalogs", vec![("name", "X")]),
            ("/admin/account-groups", vec![("name", "X")]),
            ("/admin/pricing/lists", vec![("code", "X"), ("name", "X")]),
        ] {
            assert_eq!(c.post(path, &fields).await.status.as_u16(), expect, "{email} POST {path}");
        }
    }
    for (email, expect) in [(&rep.email, 403), (&buyer.email, 404)] {
        let mut c = app.signed_in(email).await;
        assert_eq!(c.get("/admin/company").await.status.as_u16(), expect, "{email}");
        assert_eq!(c.post("/admin/company", &[("name", "Mine")]).await.status.as_u16(), expect, "{email}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM settings WHERE key = 'seller.name'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM warehouses").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_groups").await, 0);
}

#[tokio::test]
async fn a_bad_company_name_or_address_is_refused_next_to_its_field_and_kept() {
    let app = TestApp::new().await;
    let mut a = admin(&app).await;
    let long = "x".repeat(201);
    for (name, address, field, why) in [
        ("", "1 Dock Rd", "co-name-error", "Give your company"),
        ("   ", "", "co-name-error", "Give your company"),
        (long.as_str(), "", "co-name-error", "at most 200 characters"),
        ("Acme", "1\n2\n3\n4\n5\n6\n7", "co-address-error", "at most 6 lines"),
        ("Acme\u{0}", "", "co-name-error", ""),
    ] {
        let res = a.post("/admin/company", &[("name", name), ("address", address)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {}", res.body);
        let shown = res.text_after(&format!("id=\"{field}\">")).unwrap_or_default();
        assert!(!shown.is_empty() && shown.contains(why), "{name:?} {field}: {shown}");
        if !address.is_empty() {
            assert!(res.body.contains(&format!("{address}</textarea>")), "address kept");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM settings WHERE key LIKE 'seller.%'").await, 0, "nothing saved");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'seller.updated'").await, 0);
}

#[tokio::test]
async fn an_admin_renames_and_deletes_a_group_and_deletes_a_catalog_in_the_pages() {
    let app = TestApp::new().await;
    let mut a = admin(&app).await;
    for name in ["Contractors", "Clinics"] {
        assert_redirect(&a.post("/admin/account-groups", &[("name", name)]).await, "/admin/account-groups?notice=");
    }
    let group = id_of(&app, "SELECT id FROM account_groups WHERE name = $1", "Contractors").await;
    let account = app.account("Acme", None).await;
    let (g, acc) = (group.clone(), account.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move { portico::store::accounts::set_group(tx, &acc, Some(&g)).await })
    })
    .await;
    let to = assert_redirect(&a.post("/admin/catalogs", &[("name", "Trade range")]).await, "/admin/catalogs/");
    let catalog = to.trim_start_matches("/admin/catalogs/").split('?').next().unwrap().to_string();
    let res = a.post(&format!("/admin/catalogs/{catalog}/assignments"), &[("form", "group"), ("group", &group)]).await;
    assert_redirect(&res, &format!("/admin/catalogs/{catalog}?notice=catalog_assigned"));

    // The account's page names its group and the catalog it sees through it.
    let page = a.get(&format!("/accounts/{account}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<dt>Group</dt><dd>Contractors"), "{}", page.body);
    let start = page.body.find("data-kv=\"catalogs\">").unwrap();
    let seen = &page.body[start..start + page.body[start..].find("</dd>").unwrap()];
    assert!(
        seen.contains(&format!("/admin/catalogs/{catalog}\">Trade range</a>")) && seen.contains("(group)"),
        "{seen}"
    );

    // The list links each group to its page, which says what it holds.
    let list = a.get("/admin/account-groups").await;
    assert!(list.body.contains(&format!("href=\"/admin/account-groups/{group}\"")), "{}", list.body);
    let page = a.get(&format!("/admin/account-groups/{group}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("1 account(s) in this group"), "{}", page.body);

    // Rename: another group's name is refused beside the field, the input kept.
    let res = a.post(&format!("/admin/account-groups/{group}"), &[("name", "Clinics")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text_after("id=\"g-name-error\">").unwrap().contains("already exists"), "{}", res.body);
    assert!(res.body.contains("value=\"Clinics\""), "input kept");
    let res = a.post(&format!("/admin/account-groups/{group}"), &[("name", " Builders ")]).await;
    assert_redirect(&res, &format!("/admin/account-groups/{group}?notice=group_renamed"));
    assert_eq!(id_of(&app, "SELECT name FROM account_groups WHERE id = $1", &group).await, "Builders");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'account_group.renamed'").await, 1);

    // Delete: not without the box ticked; then its account leaves it and its assignment goes.
    let res = a.post(&format!("/admin/account-groups/{group}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text_after("id=\"g-confirm-error\">").unwrap().contains("Tick the box"), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_groups").await, 2, "nothing deleted");
    let res = a.post(&format!("/admin/account-groups/{group}/delete"), &[("confirm", "1")]).await;
    assert_redirect(&res, "/admin/account-groups?notice=group_deleted");
    assert_eq!(app.count("SELECT COUNT(*) FROM account_groups").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts WHERE group_id IS NOT NULL").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalog_assignments").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account_group.deleted'").await, 1);
    assert_eq!(a.get(&format!("/admin/account-groups/{group}")).await.status, StatusCode::NOT_FOUND);

    // A catalog: not without the box; then gone with its rules and membership.
    let res = a.post(&format!("/admin/catalogs/{catalog}/delete"), &[("form", "delete")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text_after("id=\"del-confirm-error\">").unwrap().contains("Tick the box"), "{}", res.body);
    let res = a.post(&format!("/admin/catalogs/{catalog}/delete"), &[("form", "delete"), ("confirm", "1")]).await;
    assert_redirect(&res, "/admin/catalogs?notice=catalog_deleted");
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'catalog.deleted'").await, 1);
    // The default catalog cannot go: the page says why and keeps it.
    let to = assert_redirect(&a.post("/admin/catalogs", &[("name", "Everything")]).await, "/admin/catalogs/");
    let default = to.trim_start_matches("/admin/catalogs/").split('?').next().unwrap().to_string();
    let res = a
        .post(
            &format!("/admin/catalogs/{default}"),
            &[("form", "header"), ("name", "Everything"), ("includes_all", "1"), ("is_default", "1")],
        )
        .await;
    assert_redirect(&res, &format!("/admin/catalogs/{default}"));
    assert!(a.get(&format!("/admin/catalogs/{default}")).await.body.contains("The default catalog cannot be deleted"));
    let res = a.post(&format!("/admin/catalogs/{default}/delete"), &[("form", "delete"), ("confirm", "1")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("is the default catalog"), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalogs").await, 1);

    // Other roles: a rep is refused, a buyer does not see these pages exist.
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Manager).await;
    let other = id_of(&app, "SELECT id FROM account_groups WHERE name = $1", "Clinics").await;
    for (email, expect) in [(&rep.email, 403), (&buyer.email, 404)] {
        let mut c = app.signed_in(email).await;
        assert_eq!(c.get(&format!("/admin/account-groups/{other}")).await.status.as_u16(), expect);
        let res = c.post(&format!("/admin/account-groups/{other}/delete"), &[("confirm", "1")]).await;
        assert_eq!(res.status.as_u16(), expect);
        let res = c.post(&format!("/admin/catalogs/{default}/delete"), &[("confirm", "1")]).await;
        assert_eq!(res.status.as_u16(), expect);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM account_groups").await, 1);
}
