//! The permission matrix (every role × every page and action) and tenant isolation.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use portico::domain::auth::{BuyerRole, StaffRole};

const ROLES: [&str; 8] = ["admin", "rep", "cs", "finance", "manager", "buyer", "buyer_finance", "viewer"];

struct World {
    emails: Vec<(&'static str, String)>,
    account_a: String,
    account_b: String,
    user_b: String,
    ship_to_b: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let other_rep = app.staff("Otto Rep", &[StaffRole::SalesRep]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let a = app.account("Account A", Some(&rep.id)).await;
    let b = app.account("Account B", Some(&other_rep.id)).await;
    let mgr = app.buyer(&a, "Mia Manager", BuyerRole::Manager).await;
    let buyer = app.buyer(&a, "Bo Buyer", BuyerRole::Buyer).await;
    let bfin = app.buyer(&a, "Fay Finance", BuyerRole::Finance).await;
    let viewer = app.buyer(&a, "Vic Viewer", BuyerRole::Viewer).await;
    let user_b = app.buyer(&b, "Bea Other", BuyerRole::Manager).await;
    let ship_to_b = portico::store::accounts::ship_tos(app.db(), &b).await.unwrap()[0].id.clone();
    World {
        emails: vec![
            ("admin", admin.email),
            ("rep", rep.email),
            ("cs", cs.email),
            ("finance", fin.email),
            ("manager", mgr.email),
            ("buyer", buyer.email),
            ("buyer_finance", bfin.email),
            ("viewer", viewer.email),
        ],
        account_a: a,
        account_b: b,
        user_b: user_b.id,
        ship_to_b,
    }
}

async fn client_for<'a>(app: &'a TestApp, w: &World, role: &str) -> Client<'a> {
    let email = &w.emails.iter().find(|(r, _)| *r == role).unwrap().1;
    app.signed_in(email).await
}

fn expect(row: &[u16; 8], role: &str) -> u16 {
    row[ROLES.iter().position(|r| *r == role).unwrap()]
}

#[tokio::test]
async fn every_role_reaches_exactly_its_pages() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let acct = format!("/accounts/{}", w.account_a);
    //                      admin rep  cs   fin  mgr  buyer bfin viewer
    let matrix: Vec<(&str, [u16; 8])> = vec![
        ("/portal", [403, 403, 403, 403, 200, 200, 200, 200]),
        ("/portal/account", [403, 403, 403, 403, 200, 200, 200, 200]),
        ("/portal/users", [403, 403, 403, 403, 200, 403, 403, 403]),
        ("/rep", [403, 200, 403, 403, 403, 403, 403, 403]),
        ("/desk", [200, 403, 200, 403, 403, 403, 403, 403]),
        ("/finance", [200, 403, 403, 200, 403, 403, 403, 403]),
        ("/admin/accounts", [200, 403, 403, 403, 403, 403, 403, 403]),
        ("/admin/accounts/new", [200, 403, 403, 403, 403, 403, 403, 403]),
        ("/admin/staff", [200, 403, 403, 403, 403, 403, 403, 403]),
        ("/admin/categories", [200, 403, 403, 403, 404, 404, 404, 404]),
        (&acct, [200, 200, 200, 200, 404, 404, 404, 404]),
        ("/me/password", [200, 200, 200, 200, 200, 200, 200, 200]),
    ];
    for role in ROLES {
        let mut c = client_for(&app, &w, role).await;
        for (path, row) in &matrix {
            let res = c.get(path).await;
            assert_eq!(res.status.as_u16(), expect(row, role), "{role} GET {path}");
        }
    }
    // Anonymous visitors are sent to sign in, and come back afterwards.
    let mut anon = app.client();
    for (path, _) in &matrix {
        let res = anon.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "anonymous GET {path}");
        assert!(res.location().starts_with("/login?next="), "{path} → {}", res.location());
    }
}

#[tokio::test]
async fn every_role_may_take_exactly_its_actions() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let a = w.account_a.clone();
    for role in ROLES {
        let mut c = client_for(&app, &w, role).await;
        let email = format!("new.{role}@example.test");
        // (path, fields, expected status for admin rep cs fin mgr buyer bfin viewer)
        type Action<'f> = (String, Vec<(&'f str, String)>, [u16; 8]);
        let actions: Vec<Action> = vec![
            (
                "/admin/staff".into(),
                vec![("name", "New Staff".into()), ("email", format!("staff.{email}")), ("role_finance", "1".into())],
                [200, 403, 403, 403, 403, 403, 403, 403],
            ),
            (
                "/admin/accounts/new".into(),
                vec![
                    ("name", format!("New Co {role}")),
                    ("status", "active".into()),
                    ("ownership_mode", "self_service".into()),
                    ("terms", "net30".into()),
                    ("credit_limit", "100".into()),
                    ("bill_line1", "1 Road".into()),
                    ("bill_city", "Town".into()),
                    ("bill_postal_code", "12345".into()),
                    ("bill_country", "US".into()),
                ],
                [303, 403, 403, 403, 403, 403, 403, 403],
            ),
            (
                format!("/accounts/{a}/credit"),
                vec![
                    ("version", "1".into()),
                    ("terms", "net45".into()),
                    ("credit_limit", "5000".into()),
                    ("status", "active".into()),
                ],
                [303, 403, 403, 303, 404, 404, 404, 404],
            ),
            (
                format!("/accounts/{a}/ship-tos"),
                vec![
                    ("label", format!("Dock {role}")),
                    ("line1", "2 Road".into()),
                    ("city", "Town".into()),
                    ("postal_code", "12345".into()),
                    ("country", "US".into()),
                ],
                [303, 403, 403, 403, 404, 404, 404, 404],
            ),
            (
                format!("/accounts/{a}/users"),
                vec![("name", "Invitee".into()), ("email", format!("acct.{email}")), ("role", "viewer".into())],
                [200, 200, 200, 403, 200, 403, 403, 403],
            ),
            (
                "/portal/users".into(),
                vec![("name", "Invitee".into()), ("email", format!("portal.{email}")), ("role", "viewer".into())],
                [403, 403, 403, 403, 200, 403, 403, 403],
            ),
        ];
        for (path, fields, row) in actions {
            // Credit edits carry the version the form showed; re-read it so earlier roles' saves don't make it stale.
            let version = portico::store::accounts::get(app.db(), &a).await.unwrap().unwrap().version.to_string();
            let fields: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, if *k == "version" { version.as_str() } else { v.as_str() })).collect();
            let res = c.post(&path, &fields).await;
            assert_eq!(
                res.status.as_u16(),
                expect(&row, role),
                "{role} POST {path}: {}",
                &res.body[..res.body.len().min(400)]
            );
        }
    }
}

#[tokio::test]
async fn buyers_get_404_for_anything_of_another_account() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let b = &w.account_b;
    for role in ["manager", "buyer", "buyer_finance", "viewer"] {
        let mut c = client_for(&app, &w, role).await;
        assert_eq!(c.get(&format!("/accounts/{b}")).await.status, StatusCode::NOT_FOUND, "{role}");
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/users/{}/deactivate", w.user_b), vec![]),
            (format!("/users/{}/reactivate", w.user_b), vec![]),
            (format!("/users/{}/role", w.user_b), vec![("role", "viewer")]),
            (format!("/users/{}/link", w.user_b), vec![]),
            (format!("/accounts/{b}/users"), vec![("name", "X"), ("email", "x@x.test"), ("role", "buyer")]),
            (
                format!("/accounts/{b}/ship-tos"),
                vec![("label", "X"), ("line1", "1"), ("city", "c"), ("postal_code", "1"), ("country", "US")],
            ),
            (format!("/accounts/{b}/ship-tos/{}/default", w.ship_to_b), vec![]),
            (format!("/accounts/{b}/ship-tos/{}/delete", w.ship_to_b), vec![]),
            (
                format!("/accounts/{b}/credit"),
                vec![("version", "1"), ("terms", "net30"), ("credit_limit", "1"), ("status", "active")],
            ),
        ];
        for (path, fields) in posts {
            let res = c.post(&path, &fields).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{role} POST {path}");
        }
    }
    // Nothing of B changed.
    let user_b = portico::store::users::get(app.db(), &w.user_b).await.unwrap().unwrap();
    assert!(user_b.active && user_b.roles == "manager");
    assert_eq!(portico::store::accounts::ship_tos(app.db(), b).await.unwrap().len(), 1);
    assert_eq!(portico::store::accounts::get(app.db(), b).await.unwrap().unwrap().version, 1);
}

#[tokio::test]
async fn a_rep_sees_only_their_book() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut rep = client_for(&app, &w, "rep").await;
    let book = rep.get("/rep").await;
    assert!(book.body.contains("Account A"));
    assert!(!book.body.contains("Account B"), "B belongs to another rep");
    let search = rep.get("/rep?q=account+b").await;
    assert!(!search.body.contains("Account B"));
    assert_eq!(rep.get(&format!("/accounts/{}", w.account_b)).await.status, StatusCode::NOT_FOUND);
    let res = rep.post(&format!("/users/{}/deactivate", w.user_b), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = rep
        .post(&format!("/accounts/{}/users", w.account_b), &[("name", "X"), ("email", "x@x.test"), ("role", "buyer")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A rep who is also finance sees every account on the finance page, but "My accounts" stays their book.
    let both = app.staff("Rex Both", &[StaffRole::SalesRep, StaffRole::Finance]).await;
    let mut c = app.signed_in(&both.email).await;
    assert!(c.get("/finance").await.body.contains("Account B"));
    assert!(!c.get("/rep").await.body.contains("Account B"));
}

#[tokio::test]
async fn a_manager_cannot_touch_staff_users() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let admin = portico::store::users::find_by_email(app.db(), &w.emails[0].1).await.unwrap().unwrap();
    let mut m = client_for(&app, &w, "manager").await;
    for action in ["deactivate", "link"] {
        let res = m.post(&format!("/users/{}/{action}", admin.id), &[]).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{action}");
    }
    // Staff without ManageStaff get 403 (they know staff exist), not the power.
    let mut rep = client_for(&app, &w, "rep").await;
    assert_eq!(rep.post(&format!("/users/{}/deactivate", admin.id), &[]).await.status, StatusCode::FORBIDDEN);
    assert!(portico::store::users::get(app.db(), &admin.id).await.unwrap().unwrap().active);
}
