//! Account administration: create, validate, edit with stale-edit refusal, credit, ship-tos,
//! account users, audit and outbox written with the change, keyset pagination.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::store::{accounts, audit, users};

fn account_form<'a>(name: &'a str, rep: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("status", "active"),
        ("ownership_mode", "rep_led"),
        ("owner_rep_id", rep),
        ("terms", "net45"),
        ("credit_limit", "12,500.50"),
        ("po_required", "1"),
        ("external_id", "ERP-777"),
        ("bill_line1", "10 Harbor Rd"),
        ("bill_city", "Duluth"),
        ("bill_region", "MN"),
        ("bill_postal_code", "55802"),
        ("bill_country", "us"),
        ("ship_same_as_billing", "1"),
    ]
}

#[tokio::test]
async fn admin_creates_an_account_with_number_ship_to_audit_and_event() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut c = app.signed_in(&admin.email).await;
    let res = c.post("/admin/accounts/new", &account_form("Bluewater Marine", &rep.id)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = res.location().trim_start_matches("/accounts/").split('?').next().unwrap().to_string();
    let a = accounts::get(app.db(), &id).await.unwrap().unwrap();
    assert_eq!(a.number, "A-10001");
    assert_eq!(a.credit_limit, 125_005_000, "12,500.50 stored exactly in ten-thousandths");
    assert_eq!(a.terms_days, 45);
    assert!(a.po_required);
    assert_eq!(a.bill_country, "US");
    assert_eq!(a.owner_rep_id.as_deref(), Some(rep.id.as_str()));
    let ship = accounts::ship_tos(app.db(), &id).await.unwrap();
    assert_eq!(ship.len(), 1);
    assert!(ship[0].is_default);
    let history = audit::for_object(app.db(), "account", &id, 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "account.created");
    assert_eq!(history[0].actor_user_id.as_deref(), Some(admin.id.as_str()));
    assert_eq!(history[0].channel, "staff");
    let events = audit::pending_events(app.db(), 10).await.unwrap();
    assert!(events.iter().any(|e| e.event_type == "account.created" && e.payload.contains("Bluewater Marine")));
    // The page shows it, and the next account gets the next number.
    let page = c.get(&format!("/accounts/{id}")).await;
    assert!(
        page.body.contains("Bluewater Marine") && page.body.contains("$12,500.50") && page.body.contains("Net 45 days")
    );
    let mut form = account_form("Second Co", &rep.id);
    form.retain(|(k, _)| *k != "external_id");
    let res = c.post("/admin/accounts/new", &form).await;
    let id2 = res.location().trim_start_matches("/accounts/").split('?').next().unwrap().to_string();
    assert_eq!(accounts::get(app.db(), &id2).await.unwrap().unwrap().number, "A-10002");
}

#[tokio::test]
async fn a_bad_account_form_names_every_problem_and_changes_nothing() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let before = (app.count("SELECT COUNT(*) FROM accounts").await, app.count("SELECT COUNT(*) FROM audit_log").await);
    let res = c
        .post(
            "/admin/accounts/new",
            &[
                ("name", " "),
                ("status", "active"),
                ("ownership_mode", "rep_led"),
                ("owner_rep_id", ""),
                ("terms", "net 999"),
                ("credit_limit", "-5"),
                ("bill_line1", ""),
                ("bill_city", ""),
                ("bill_postal_code", ""),
                ("bill_country", "USA"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "Name is required",
        "net with 1–365 days",
        "must not be negative",
        "need an owning rep",
        "Street address is required",
        "City is required",
        "Postal code is required",
        "two-letter ISO code",
    ] {
        assert!(res.body.contains(msg), "missing “{msg}”");
    }
    assert!(res.body.contains("value=\"net 999\""), "the form comes back with what was typed");
    assert_eq!(
        (app.count("SELECT COUNT(*) FROM accounts").await, app.count("SELECT COUNT(*) FROM audit_log").await),
        before
    );
    // A non-rep as owning rep is refused too.
    let res = c.post("/admin/accounts/new", &account_form("X Co", &admin.id)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("active sales rep"));
}

#[tokio::test]
async fn a_stale_edit_is_refused_not_merged() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let admin2 = app.staff("Bob Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let id = app.account("Old Name", Some(&rep.id)).await;
    let mut c1 = app.signed_in(&admin.email).await;
    let mut c2 = app.signed_in(&admin2.email).await;
    let form1 = c1.get(&format!("/admin/accounts/{id}/edit")).await;
    assert!(form1.body.contains("name=\"version\" value=\"1\""));
    let mut f = account_form("First Edit", &rep.id);
    f.push(("version", "1"));
    let res = c1.post(&format!("/admin/accounts/{id}/edit"), &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let mut f2 = account_form("Second Edit", &rep.id);
    f2.retain(|(k, _)| *k != "external_id");
    f2.push(("version", "1"));
    let res = c2.post(&format!("/admin/accounts/{id}/edit"), &f2).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("Someone else changed this account"));
    let a = accounts::get(app.db(), &id).await.unwrap().unwrap();
    assert_eq!((a.name.as_str(), a.version), ("First Edit", 2));
    let history = audit::for_object(app.db(), "account", &id, 10).await.unwrap();
    assert_eq!(history.len(), 1);
    let before: serde_json::Value = serde_json::from_str(history[0].before_json.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(history[0].after_json.as_deref().unwrap()).unwrap();
    assert_eq!((before["name"].as_str(), after["name"].as_str()), (Some("Old Name"), Some("First Edit")));
}

#[tokio::test]
async fn external_ids_are_unique() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut c = app.signed_in(&admin.email).await;
    assert_eq!(c.post("/admin/accounts/new", &account_form("One", &rep.id)).await.status, StatusCode::SEE_OTHER);
    let res = c.post("/admin/accounts/new", &account_form("Two", &rep.id)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("already has this external id"));
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, 1);
}

#[tokio::test]
async fn finance_sets_credit_and_terms_with_an_audited_before_and_after() {
    let app = TestApp::new().await;
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let id = app.account("Acme", None).await;
    let mut c = app.signed_in(&fin.email).await;
    let res = c
        .post(
            &format!("/accounts/{id}/credit"),
            &[("version", "1"), ("terms", "net 60"), ("credit_limit", "-1"), ("status", "on_hold")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .post(
            &format!("/accounts/{id}/credit"),
            &[("version", "1"), ("terms", "prepay"), ("credit_limit", "0.0125"), ("status", "on_hold")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let a = accounts::get(app.db(), &id).await.unwrap().unwrap();
    assert_eq!((a.terms_days, a.credit_limit, a.status.as_str()), (0, 125, "on_hold"));
    let h = &audit::for_object(app.db(), "account", &id, 5).await.unwrap()[0];
    assert_eq!(h.action, "account.credit_changed");
    assert!(h.before_json.as_deref().unwrap().contains("\"credit_limit\":250000000"));
    assert!(h.after_json.as_deref().unwrap().contains("\"status\":\"on_hold\""));
}

#[tokio::test]
async fn one_default_ship_to_per_account() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let id = app.account("Acme", None).await;
    let mut c = app.signed_in(&admin.email).await;
    let add = |label: &'static str, default: bool| {
        let mut f = vec![
            ("label", label),
            ("line1", "5 Dock St"),
            ("city", "Gary"),
            ("postal_code", "46401"),
            ("country", "US"),
        ];
        if default {
            f.push(("make_default", "1"));
        }
        f
    };
    assert_eq!(c.post(&format!("/accounts/{id}/ship-tos"), &add("Dock", true)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.post(&format!("/accounts/{id}/ship-tos"), &add("Annex", false)).await.status, StatusCode::SEE_OTHER);
    let bad = c
        .post(
            &format!("/accounts/{id}/ship-tos"),
            &[("label", ""), ("line1", ""), ("city", "x"), ("postal_code", "1"), ("country", "US")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let list = accounts::ship_tos(app.db(), &id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|s| s.is_default).map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["Dock"]);
    // Removing the default promotes the oldest remaining location.
    let dock = list.iter().find(|s| s.label == "Dock").unwrap().id.clone();
    c.post(&format!("/accounts/{id}/ship-tos/{dock}/delete"), &[]).await;
    let list = accounts::ship_tos(app.db(), &id).await.unwrap();
    assert_eq!(list.iter().filter(|s| s.is_default).map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["Main"]);
    let annex = list.iter().find(|s| s.label == "Annex").unwrap().id.clone();
    c.post(&format!("/accounts/{id}/ship-tos/{annex}/default"), &[]).await;
    let list = accounts::ship_tos(app.db(), &id).await.unwrap();
    assert_eq!(list.iter().filter(|s| s.is_default).map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["Annex"]);
}

#[tokio::test]
async fn a_manager_runs_their_users_but_never_leaves_the_account_without_a_manager() {
    let app = TestApp::new().await;
    let id = app.account("Acme", None).await;
    let mgr = app.buyer(&id, "Mia Manager", BuyerRole::Manager).await;
    let buyer = app.buyer(&id, "Bo Buyer", BuyerRole::Buyer).await;
    let mut m = app.signed_in(&mgr.email).await;
    let page = m.get("/portal/users").await;
    assert!(page.body.contains("Bo Buyer") && page.body.contains("Mia Manager"));
    // Cannot deactivate themselves; a second manager is needed before the first steps down.
    assert_eq!(m.post(&format!("/users/{}/deactivate", mgr.id), &[]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = m.post(&format!("/users/{}/role", buyer.id), &[("role", "manager"), ("back", "/portal/users")]).await;
    assert_eq!(res.location(), "/portal/users?notice=role_changed");
    let mut b = app.signed_in(&buyer.email).await;
    let res = b.post(&format!("/users/{}/role", mgr.id), &[("role", "viewer"), ("back", "/portal/users")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // Now Bo is the only manager: stepping down is refused until someone else manages.
    let res = b.post(&format!("/users/{}/role", buyer.id), &[("role", "buyer")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("at least one active purchasing manager"));
    // Mia, now a viewer, has no user management at all.
    let res = m.post(&format!("/users/{}/role", buyer.id), &[("role", "buyer")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(users::get(app.db(), &buyer.id).await.unwrap().unwrap().roles, "manager");
    let actions: Vec<String> = portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>(
        "SELECT action FROM audit_log WHERE object_type = 'user' ORDER BY id"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    assert!(actions.iter().filter(|a| *a == "user.role_changed").count() == 2, "{actions:?}");
    // Invite duplicates are refused with the field named.
    let res = b.post("/portal/users", &[("name", "Dup"), ("email", &mgr.email), ("role", "buyer")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("already exists"));
}

#[tokio::test]
async fn account_lists_page_by_key() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    for i in 0..30 {
        app.account(&format!("Clinic {i:02}"), Some(&rep.id)).await;
    }
    let mut c = app.signed_in(&rep.email).await;
    let first = c.get("/rep").await;
    assert!(first.body.contains("30 accounts in total"));
    assert!(first.body.contains("Clinic 00") && first.body.contains("Clinic 24") && !first.body.contains("Clinic 25"));
    let next = first
        .body
        .split("id=\"book-next\" href=\"/rep?")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let second = c.get(&format!("/rep?{next}")).await;
    assert!(
        second.body.contains("Clinic 25") && second.body.contains("Clinic 29") && !second.body.contains("Clinic 24")
    );
    assert!(!second.body.contains("Next accounts"));
    let found = c.get("/rep?q=clinic+07").await;
    assert!(found.body.contains("Clinic 07") && !found.body.contains("Clinic 08"));
    // LIKE wildcards in a search are literal.
    assert!(c.get("/rep?q=%25").await.body.contains("No account matches"));
}

/// The session's account and the account's audit actions about acting, oldest first.
async fn acting_history(app: &TestApp, account: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let mut rows = audit::for_object(app.db(), "account", account, 50).await.unwrap();
    rows.retain(|a| a.action.starts_with("session."));
    rows.reverse();
    rows.into_iter().map(|a| (a.action, a.actor_user_id, a.on_behalf_of_account_id)).collect()
}

#[tokio::test]
async fn acting_for_an_account_is_audited_and_a_rep_acts_only_within_their_book() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let own = app.account("Alpha Clinic", Some(&rep.id)).await;
    let other = app.account("Beta Labs", None).await;
    let buyer = app.buyer(&own, "Ann Buyer", BuyerRole::Manager).await;
    let acting_sessions = "SELECT COUNT(*) FROM sessions WHERE acting_account_id IS NOT NULL";
    let acting_audits = "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'session.acting%'";

    // Outside the rep's book, the account does not exist for them: 404, and nothing is written.
    let mut c = app.signed_in(&rep.email).await;
    assert_eq!(c.post(&format!("/accounts/{other}/act"), &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.post("/accounts/no-such-account/act", &[]).await.status, StatusCode::NOT_FOUND);
    // A buyer acts for no one; finance sees every account but may not order for it.
    let mut b = app.signed_in(&buyer.email).await;
    assert_eq!(b.post(&format!("/accounts/{own}/act"), &[]).await.status, StatusCode::NOT_FOUND);
    let mut f = app.signed_in(&finance.email).await;
    assert_eq!(f.post(&format!("/accounts/{own}/act"), &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count(acting_sessions).await, 0);
    assert_eq!(app.count(acting_audits).await, 0);

    // Within the book: the session acts for the account, and the account's history says who.
    let r = c.post(&format!("/accounts/{own}/act"), &[]).await;
    assert_eq!(r.location(), "/portal/catalog");
    assert!(c.get("/portal/catalog").await.body.contains("Acting for <strong>Alpha Clinic</strong>"));
    assert_eq!(app.count(acting_sessions).await, 1);
    let started = ("session.acting_started".to_string(), Some(rep.id.clone()), Some(own.clone()));
    assert_eq!(acting_history(&app, &own).await, vec![started.clone()]);
    let row = &audit::for_object(app.db(), "account", &own, 1).await.unwrap()[0];
    assert!(row.after_json.as_deref().unwrap_or("").contains(&own), "{row:?}");
    // Acting again for the same account changes nothing.
    c.post(&format!("/accounts/{own}/act"), &[]).await;
    assert_eq!(app.count(acting_audits).await, 1);

    // Leaving goes back to the account, audited; leaving again writes nothing.
    let r = c.post("/act/exit", &[]).await;
    assert_eq!(r.location(), format!("/accounts/{own}?notice=acting_ended"));
    let ended = ("session.acting_ended".to_string(), Some(rep.id.clone()), Some(own.clone()));
    assert_eq!(acting_history(&app, &own).await, vec![started, ended]);
    assert_eq!(app.count(acting_sessions).await, 0);
    assert_eq!(c.post("/act/exit", &[]).await.location(), "/");
    assert_eq!(app.count(acting_audits).await, 2);

    // Switching straight to another account ends the first one, each on its own account.
    let mut a = app.signed_in(&admin.email).await;
    a.post(&format!("/accounts/{own}/act"), &[]).await;
    a.post(&format!("/accounts/{other}/act"), &[]).await;
    let own_actions: Vec<String> = acting_history(&app, &own).await.into_iter().map(|h| h.0).collect();
    assert_eq!(own_actions[2..], ["session.acting_started", "session.acting_ended"]);
    let other_history = acting_history(&app, &other).await;
    assert_eq!(other_history, vec![("session.acting_started".into(), Some(admin.id.clone()), Some(other.clone()))]);
    // The account page shows it in the history.
    assert!(a.get(&format!("/accounts/{other}")).await.body.contains("session.acting_started"));
    // Signing out while acting ends the acting too, audited.
    let r = a.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let other_actions: Vec<String> = acting_history(&app, &other).await.into_iter().map(|h| h.0).collect();
    assert_eq!(other_actions, ["session.acting_started", "session.acting_ended"]);
    assert_eq!(app.count(acting_sessions).await, 0);
}
