//! CSV exchange with an ERP (issue 16 §4): accounts and ship-tos exported and imported back
//! unchanged (an edited row changes exactly that), bad rows named by line and column with nothing
//! changed, exports streamed page by page from the staff pages and the API with their content type
//! and permissions, and the outbox events of ship-to, account user, warehouse and group changes —
//! on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Scope, StaffRole};
use portico::service::Actor;
use portico::service::imports::Kind;
use serde_json::{Value, json};

fn body(res: &TestResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("not JSON: {} {}", res.status, res.body))
}

async fn post_csv(app: &TestApp, path: &str, token: &str, csv: &str) -> TestResponse {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    app.send(req).await
}

async fn export(app: &TestApp, token: &str, kind: &str) -> String {
    let res = app.api("GET", &format!("/api/v1/exports/{kind}"), token, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.headers["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers["content-disposition"].to_str().unwrap().contains(&format!("{kind}.csv")));
    res.body
}

async fn events(app: &TestApp, event_type: &str) -> Vec<Value> {
    portico::store::audit::pending_events(app.db(), 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == event_type)
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

/// Two accounts (one with a rep, a group and an external id, one self-service), each with ship-tos.
async fn seed(app: &TestApp, token: &str) -> String {
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    assert_eq!(app.api("PUT", "/api/v1/account-groups/Dental", token, Some(json!({}))).await.status, 201);
    let doc = json!({
        "name": "=Acme, \"Dental\"", "owner_rep": rep.email, "ownership_mode": "hybrid", "group": "Dental",
        "payment_terms": "net45", "credit_limit": "25000.50", "po_required": true, "phone": "+1 555 0100",
        "bill_to": {"line1": "1 Main St", "line2": "Suite 4", "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "us"}
    });
    let res = app.api("PUT", "/api/v1/accounts/ERP-1", token, Some(doc)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let acme = body(&res)["account"]["number"].as_str().unwrap().to_string();
    let dock = json!({"label": "Dock", "address": {"line1": "2 Dock Rd", "city": "Chicago", "postal_code": "60601", "country": "US"}});
    let res = app.api("PUT", &format!("/api/v1/accounts/{acme}/ship-tos/D-1"), token, Some(dock)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    app.account("Beta Clinic", None).await;
    acme
}

#[tokio::test]
async fn accounts_and_ship_tos_round_trip_and_an_edit_changes_exactly_that() {
    let app = TestApp::new().await;
    let token = app.api_token(&[Scope::AccountsRead, Scope::AccountsWrite]).await;
    let acme = seed(&app, &token).await;

    let accounts = export(&app, &token, "accounts").await;
    let lines: Vec<&str> = accounts.lines().collect();
    assert_eq!(
        lines[0],
        "number,external_id,name,status,ownership_mode,owner_rep,terms,credit_limit,po_required,phone,group,bill_line1,bill_line2,bill_city,bill_region,bill_postal_code,bill_country"
    );
    assert_eq!(lines.len(), 3, "{accounts}");
    assert!(accounts.contains(&format!("{acme},ERP-1,\"'=Acme, \"\"Dental\"\"\",active,hybrid,rita.rep@seller.test,net45,25000.50,true,'+1 555 0100,Dental,1 Main St,Suite 4,Springfield,IL,62701,US")), "{accounts}");
    let ship_tos = export(&app, &token, "ship-tos").await;
    assert_eq!(
        ship_tos.lines().next().unwrap(),
        "account,id,external_id,label,default,line1,line2,city,region,postal_code,country"
    );
    assert_eq!(ship_tos.lines().count(), 3, "{ship_tos}");

    // Exported files import back unchanged: nothing written, no event, no audit row.
    let (audit, outbox) =
        (app.count("SELECT COUNT(*) FROM audit_log").await, app.count("SELECT COUNT(*) FROM outbox").await);
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, &accounts).await;
    assert_eq!((res.status.as_u16(), body(&res)), (200, json!({"rows": 2, "created": 0, "updated": 0})));
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, &ship_tos).await;
    assert_eq!((res.status.as_u16(), body(&res)), (200, json!({"rows": 2, "created": 0, "updated": 0})));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox, "an unchanged file raises no event");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit + 2, "only the two imports' own audit rows");
    assert_eq!(export(&app, &token, "accounts").await, accounts);

    // One edited cell changes exactly that account.
    let edited = accounts.replace(",net45,25000.50,", ",net60,25000.50,");
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, &edited).await;
    assert_eq!(body(&res), json!({"rows": 2, "created": 0, "updated": 1}));
    assert_eq!(export(&app, &token, "accounts").await, edited);
    let updated = events(&app, "account.updated").await;
    assert_eq!(updated.last().unwrap()["terms_days"], 60);
    assert_eq!(events(&app, "accounts.imported").await.len(), 1);

    // A ship-to edited, one added by its external id, and the default moved to the new one.
    let mut rows: Vec<String> = ship_tos.lines().map(str::to_string).collect();
    let dock = rows.iter().position(|r| r.contains(",D-1,Dock,")).unwrap();
    rows[dock] = rows[dock].replace("2 Dock Rd", "4 Dock Rd");
    for r in rows.iter_mut().filter(|r| r.starts_with(&format!("{acme},")) && r.contains(",true,")) {
        *r = r.replace(",true,", ",false,");
    }
    rows.push(format!("{acme},,D-2,Yard,true,9 Yard Ln,,Chicago,IL,60602,us"));
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, &rows.join("\n")).await;
    assert_eq!(body(&res), json!({"rows": 3, "created": 1, "updated": 1}), "{}", res.body);
    let after = export(&app, &token, "ship-tos").await;
    assert!(after.contains(",D-1,Dock,false,4 Dock Rd,"), "{after}");
    assert!(after.contains(",D-2,Yard,true,9 Yard Ln,,Chicago,IL,60602,US"), "{after}");
    let created = events(&app, "ship_to.created").await;
    let yard = created.iter().find(|e| e["external_id"] == "D-2").expect("ship_to.created for the new row");
    assert_eq!((yard["default"].as_bool(), yard["address"]["country"].as_str()), (Some(true), Some("US")));
    assert!(events(&app, "ship_to.updated").await.iter().any(|e| e["address"]["line1"] == "4 Dock Rd"));
    // And the new state re-imports unchanged too.
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, &after).await;
    assert_eq!(body(&res), json!({"rows": 3, "created": 0, "updated": 0}));

    // A new account by external id, with the defaults of the columns it leaves out.
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, "external_id,name,bill_line1,bill_city,bill_postal_code,bill_country\nERP-9,Gamma Labs,5 Lab Way,Austin,73301,US\n").await;
    assert_eq!(body(&res), json!({"rows": 1, "created": 1, "updated": 0}));
    let gamma = export(&app, &token, "accounts").await;
    assert!(
        gamma.contains(",ERP-9,Gamma Labs,active,self_service,,net30,0.00,false,,,5 Lab Way,,Austin,,73301,US"),
        "{gamma}"
    );
    // A partial file keeps every column it leaves out.
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, "external_id,name\nERP-1,Acme Dental\n").await;
    assert_eq!(body(&res), json!({"rows": 1, "created": 0, "updated": 1}));
    assert!(
        export(&app, &token, "accounts").await.contains(",ERP-1,Acme Dental,active,hybrid,rita.rep@seller.test,net60,")
    );
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, &format!("number,phone\n{acme},555 0199\n")).await;
    assert_eq!(res.status, 422, "the name is required");
    let file = format!("number,name,phone\n{acme},Acme Dental,555 0199\n");
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, &file).await;
    assert_eq!(body(&res), json!({"rows": 1, "created": 0, "updated": 1}));
    let now = export(&app, &token, "accounts").await;
    assert!(now.contains(&format!("{acme},ERP-1,Acme Dental,")), "the ERP id is kept: {now}");
    let dock_id = after.lines().find(|l| l.contains(",D-1,")).unwrap().split(',').nth(1).unwrap().to_string();
    let file = format!(
        "account,id,label,line1,city,postal_code,country\n{acme},{dock_id},Dock A,4 Dock Rd,Chicago,60601,US\n"
    );
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, &file).await;
    assert_eq!(body(&res), json!({"rows": 1, "created": 0, "updated": 1}));
    let now = export(&app, &token, "ship-tos").await;
    assert!(now.contains(&format!("{acme},{dock_id},D-1,Dock A,false,")), "the ERP id is kept: {now}");
}

#[tokio::test]
async fn bad_rows_are_named_and_nothing_changes() {
    let app = TestApp::new().await;
    let token = app.api_token(&[Scope::AccountsRead, Scope::AccountsWrite]).await;
    let acme = seed(&app, &token).await;
    let accounts = export(&app, &token, "accounts").await;
    let ship_tos = export(&app, &token, "ship-tos").await;
    let (audit, outbox) =
        (app.count("SELECT COUNT(*) FROM audit_log").await, app.count("SELECT COUNT(*) FROM outbox").await);

    let mut bad = accounts.replace(",net45,", ",net999,").replace(",hybrid,", ",rep_only,");
    bad.push_str("A-99999,,Ghost,active,self_service,,prepay,0,false,,,1 St,,City,,1,US\n");
    bad.push_str(",,No Key,active,self_service,,prepay,0,false,,Nowhere,1 St,,City,,1,US\n");
    bad.push_str(",ERP-7,\"Nul\0Co\",active,self_service,,prepay,0,false,,,1 St,,City,,1,US\n");
    bad.push_str(&format!(",ERP-6,Huge,active,self_service,,prepay,0,false,,,{},,City,,1,US\n", "x".repeat(1001)));
    bad.push_str(",ERP-8,Repless,active,rep_led,nobody@seller.test,prepay,-5,maybe,,,1 St,,City,,1,US\n");
    let res = post_csv(&app, "/api/v1/imports/accounts", &token, &bad).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(res.headers["content-type"], "application/problem+json");
    let got: Vec<(u64, String)> = body(&res)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap_or("-").to_string()))
        .collect();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1;
    let acme_line = line_of("ERP-1");
    for expected in [
        (acme_line, "ownership_mode"),
        (acme_line, "terms"),
        (line_of("A-99999"), "number"),
        (line_of("No Key"), "external_id"),
        (line_of("ERP-7"), "name"),
        (line_of("ERP-6"), "bill_line1"),
        (line_of("ERP-8"), "credit_limit"),
        (line_of("ERP-8"), "po_required"),
    ] {
        assert!(got.contains(&(expected.0, expected.1.to_string())), "{expected:?} not in {got:?}");
    }
    let all = body(&res)["errors"].to_string();
    assert!(all.contains("no account has number A-99999"), "{all}");
    assert!(all.contains("at most 1000"), "{all}");
    // The rep and group rows are read once their cells parse: another file for them.
    let res = post_csv(
        &app,
        "/api/v1/imports/accounts",
        &token,
        "external_id,name,owner_rep,group,ownership_mode\nERP-8,Repless,nobody@seller.test,Nowhere,rep_led\n",
    )
    .await;
    let all = body(&res)["errors"].to_string();
    assert!(all.contains("no active sales rep") && all.contains("no account group is named “Nowhere”"), "{all}");

    let mut bad = ship_tos.clone();
    bad.push_str(&format!("{acme},,,Nameless,false,1 St,,City,,1,US\n"));
    bad.push_str("A-424242,,X-1,Lost,false,1 St,,City,,1,US\n");
    bad.push_str(&format!("{acme},no-such-id,,Other,false,1 St,,City,,1,US\n"));
    bad.push_str(&format!("{acme},,X-2,Twice,true,1 St,,City,,1,US\n{acme},,X-3,Thrice,true,,,City,,1,US\n"));
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, &bad).await;
    assert_eq!(res.status, 422, "{}", res.body);
    let all = body(&res)["errors"].to_string();
    for needle in [
        "give the ship-to's id or its external_id",
        "unknown account “A-424242”",
        "no ship-to with id no-such-id",
        "has another default on line",
        "\"column\":\"line1\"",
    ] {
        assert!(all.contains(needle), "{needle} not in {all}");
    }
    // A header the kind does not know is refused before any row is read.
    let res = post_csv(&app, "/api/v1/imports/ship-tos", &token, "account,label,colour\n").await;
    assert!(body(&res)["errors"].to_string().contains("unknown column “colour”"));
    // Not CSV: 415.
    let res = app.api("POST", "/api/v1/imports/accounts", &token, Some(json!({}))).await;
    assert_eq!(res.status, 415);

    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit, "nothing was written");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox);
    assert_eq!(export(&app, &token, "accounts").await, accounts);
    assert_eq!(export(&app, &token, "ship-tos").await, ship_tos);
}

#[tokio::test]
async fn exports_stream_every_page_and_need_their_scope_or_permission() {
    let app = TestApp::new().await;
    // 2,345 products: three pages of the export, read by key.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let p = admin.principal().unwrap();
    let mut csv = String::from("sku,name,description\n");
    for i in 0..2345 {
        csv.push_str(&format!("SKU-{i:05},Product {i},\"=cmd|' /C calc'!A0\"\n"));
    }
    let r = portico::service::product_imports::import_products(
        app.db(),
        app.now(),
        &Actor::cli(&p),
        csv.as_bytes(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(r.created, 2345);

    let token = app.api_token(&[Scope::CatalogRead]).await;
    let file = export(&app, &token, "products").await;
    let skus: Vec<&str> = file.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(skus.len(), 2345);
    assert!(skus.windows(2).all(|w| w[0] < w[1]), "in SKU order, no row twice");
    assert!(file.lines().nth(1).unwrap().contains(",'=cmd|"), "formulas are neutralised");
    // The same bytes as the command line's export (one implementation).
    let mut out = Vec::new();
    portico::service::imports::export_file(app.db(), &Actor::cli(&p), Kind::Products, &mut out).await.unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), file);

    // Streamed: the body arrives as one frame per page (header + 1,000 rows, …), not one string.
    let req = Request::builder()
        .uri("/api/v1/exports/products")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    let mut body = res.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        frames.push(frame.unwrap().into_data().unwrap().len());
    }
    assert!(frames.len() >= 3, "one frame per page: {frames:?}");
    assert_eq!(frames.iter().sum::<usize>(), file.len());

    // A token without the export's scope: 403 naming it.
    let res = app.api("GET", "/api/v1/exports/accounts", &token, None).await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("accounts:read"), "{}", res.body);
    let orders = app.api_token(&[Scope::OrdersRead]).await;
    let res = app.api("GET", "/api/v1/exports/orders", &orders, None).await;
    assert_eq!(
        (res.status.as_u16(), res.body.lines().next()),
        (
            200,
            Some(
                "order_number,account,account_name,status,channel,placed_at,po_number,requested_date,ship_to,placed_by,order_subtotal,line_no,sku,name,uom,quantity,unit_price,line_total"
            )
        )
    );

    // The staff pages: the button for those allowed, the download streamed.
    let mut web = app.signed_in(&admin.email).await;
    let page = web.get("/admin/products").await;
    assert!(page.body.contains("href=\"/admin/exports/products.csv\""), "{}", page.body);
    assert!(page.body.contains("href=\"/admin/exports/stock.csv\""));
    assert!(web.get("/admin/pricing").await.body.contains("/admin/exports/contract-prices.csv"));
    assert!(web.get("/admin/accounts").await.body.contains("/admin/exports/ship-tos.csv"));
    let res = web.get("/admin/exports/products.csv").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(res.body, file);
    assert_eq!(web.get("/admin/exports/nothing.csv").await.status, 404);

    // A rep sees no account export (their book only) and is refused it; a buyer gets 404.
    let rep = app.staff("Rick Rep", &[StaffRole::SalesRep]).await;
    let mut web = app.signed_in(&rep.email).await;
    assert_eq!(web.get("/admin/exports/accounts.csv").await.status, 403);
    let account = app.account("Delta Dental", None).await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Manager).await;
    let mut web = app.signed_in(&buyer.email).await;
    for kind in ["products", "accounts", "orders"] {
        assert_eq!(web.get(&format!("/admin/exports/{kind}.csv")).await.status, 404, "{kind}");
    }
    assert!(!web.get("/portal/orders").await.body.contains("/admin/exports/"));
}

#[tokio::test]
async fn ship_to_user_warehouse_and_group_changes_write_their_events() {
    let app = TestApp::new().await;
    let token = app.api_token(&[Scope::AccountsRead, Scope::AccountsWrite, Scope::StockWrite]).await;
    let acme = seed(&app, &token).await;

    let g = events(&app, "account_group.created").await;
    assert_eq!((g.len(), g[0]["name"].as_str()), (1, Some("Dental")));
    assert!(g[0]["id"].as_str().is_some());
    // The same group again writes nothing.
    assert_eq!(app.api("PUT", "/api/v1/account-groups/Dental", &token, Some(json!({}))).await.status, 200);
    assert_eq!(events(&app, "account_group.created").await.len(), 1);

    let created = events(&app, "ship_to.created").await;
    let dock = created.iter().find(|e| e["external_id"] == "D-1").unwrap();
    assert_eq!((dock["label"].as_str(), dock["address"]["city"].as_str()), (Some("Dock"), Some("Chicago")));
    let doc = json!({"label": "Dock 2", "default": true, "address": {"line1": "2 Dock Rd", "city": "Chicago", "postal_code": "60601", "country": "US"}});
    assert_eq!(
        app.api("PUT", &format!("/api/v1/accounts/{acme}/ship-tos/D-1"), &token, Some(doc.clone())).await.status,
        200
    );
    let updated = events(&app, "ship_to.updated").await;
    assert_eq!(
        (updated.len(), updated[0]["label"].as_str(), updated[0]["default"].as_bool()),
        (1, Some("Dock 2"), Some(true))
    );
    // Unchanged: no event.
    app.api("PUT", &format!("/api/v1/accounts/{acme}/ship-tos/D-1"), &token, Some(doc)).await;
    assert_eq!(events(&app, "ship_to.updated").await.len(), 1);

    let user = json!({"name": "Bea Buyer", "role": "manager"});
    let res = app.api("PUT", &format!("/api/v1/accounts/{acme}/users/bea@acme.test"), &token, Some(user)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let u = events(&app, "account_user.created").await;
    assert_eq!(
        (u[0]["email"].as_str(), u[0]["role"].as_str(), u[0]["active"].as_bool()),
        (Some("bea@acme.test"), Some("manager"), Some(true))
    );
    assert!(u[0].get("set_password_path").is_none() && !u[0].to_string().contains("password"));
    let second = json!({"name": "Bob Buyer", "role": "buyer"});
    app.api("PUT", &format!("/api/v1/accounts/{acme}/users/bob@acme.test"), &token, Some(second)).await;
    let res = app
        .api(
            "PUT",
            &format!("/api/v1/accounts/{acme}/users/bob@acme.test"),
            &token,
            Some(json!({"name": "Bob B", "role": "viewer"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let u = events(&app, "account_user.updated").await;
    assert_eq!((u.len(), u[0]["name"].as_str(), u[0]["role"].as_str()), (1, Some("Bob B"), Some("viewer")));

    let res = app.api("PUT", "/api/v1/warehouses/EAST", &token, Some(json!({"name": "East", "sort": 2}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    app.api("PUT", "/api/v1/warehouses/EAST", &token, Some(json!({"name": "East coast", "sort": 2}))).await;
    let w = (events(&app, "warehouse.created").await, events(&app, "warehouse.updated").await);
    assert_eq!(
        (w.0[0]["code"].as_str(), w.1[0]["name"].as_str(), w.1[0]["sort"].as_i64()),
        (Some("EAST"), Some("East coast"), Some(2))
    );

    // Every new type is one an endpoint can subscribe to, by name and by family.
    for t in
        ["ship_to.created", "account_user.updated", "warehouse.created", "account_group.created", "accounts.imported"]
    {
        let s = portico::domain::webhooks::Subscription::parse(t).unwrap();
        assert!(s.matches(t), "{t}");
    }
    assert!(portico::domain::webhooks::Subscription::parse("ship_to.*").unwrap().matches("ship_to.removed"));
}

#[tokio::test]
async fn staff_and_the_command_line_import_and_export_accounts_and_ship_tos() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let page = c.get("/admin/imports").await.body;
    assert!(page.contains("<option value=\"accounts\">Accounts</option>"), "{page}");
    assert!(page.contains("<option value=\"ship-tos\">Ship-to locations</option>"));
    assert!(!page.contains("<option value=\"orders\""), "orders are exported, not imported");

    let accounts = "external_id,name,terms,bill_line1,bill_city,bill_postal_code,bill_country\n\
                    ERP-1,Acme Dental,net15,1 Main St,Chicago,60601,US\nERP-2,Beta Clinic,prepay,2 Main St,Chicago,60601,US\n";
    let r = c.upload("/admin/imports", &[("kind", "accounts")], ("file", "accounts.csv", accounts)).await;
    let job = r.headers.get("hx-redirect").expect("sent to the job").to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("Imported. 2 accounts read; 2 created, 0 updated."), "{status}");
    let ship_tos = "account,external_id,label,default,line1,city,postal_code,country\n\
                    ERP-1,D-1,Dock,true,2 Dock Rd,Chicago,60601,US\nERP-2,,Nowhere,,1 St,Chicago,60601,US\n";
    let r = c.upload("/admin/imports", &[("kind", "ship-tos")], ("file", "ship-tos.csv", ship_tos)).await;
    let job = r.headers.get("hx-redirect").unwrap().to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("1 problem(s); nothing was imported"), "{status}");
    assert_eq!(app.count("SELECT COUNT(*) FROM ship_tos").await, 0);
    // An uploaded "orders" file is refused by name.
    let r = c.upload("/admin/imports", &[("kind", "orders")], ("file", "o.csv", "order_number\nSO-1\n")).await;
    assert_eq!(r.status, 422, "{}", r.body);

    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(args)
            .env("DATABASE_URL", &app.url)
            .env("PORTICO_LOG", "error")
            .output()
            .unwrap()
    };
    let file = std::env::temp_dir().join(format!("portico-accounts-{}.csv", portico::store::new_id()));
    let out = run(&["export", "accounts", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 2 rows of accounts"));
    let exported = std::fs::read_to_string(&file).unwrap();
    assert!(exported.contains(",ERP-1,Acme Dental,active,self_service,,net15,"), "{exported}");
    let out = run(&["import", "accounts", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 accounts read; 0 created, 0 updated."));
    let out = run(&["export", "orders"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("order_number,account,"));
    let out = run(&["import", "orders", file.to_str().unwrap()]);
    assert!(!out.status.success(), "orders are not importable");
    let _ = std::fs::remove_file(file);
}
