//! Redirect targets after forms, set-password links (one live per purpose, voided by a password
//! change, never shown to anyone but the mailbox, gone from the outbox once spent), and
//! invitations that reveal nothing about addresses outside the account.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::service::auth::TOKEN_TTL_SECS;

const NEW: [(&str, &str); 2] = [("password", "a brand new phrase"), ("confirmation", "a brand new phrase")];

/// Every outbox payload, as text (to look for raw tokens).
async fn outbox_payloads(app: &TestApp) -> Vec<String> {
    portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT payload FROM outbox").fetch_all(c).await)
        .unwrap()
}

fn token_of(path: &str) -> &str {
    path.strip_prefix("/set-password/").unwrap()
}

#[tokio::test]
async fn sign_in_sends_only_to_same_site_paths_and_never_fails_on_next() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    for next in ["/\t/evil.example", "/%09/evil.example", "/%2F/evil.example", "//evil.example", "/\u{1}x", "/a\\b"] {
        let mut c = app.client();
        let res = c.post("/login", &[("email", &rep.email), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{next:?}: {}", res.body);
        assert_eq!(res.location(), "/rep", "{next:?} falls back to home");
        assert!(c.session_cookie().is_some(), "{next:?}: signed in");
    }
    // A plain path on this site is kept.
    let mut c = app.client();
    let res = c.post("/login", &[("email", &rep.email), ("password", PASSWORD), ("next", "/rep?q=acme")]).await;
    assert_eq!(res.location(), "/rep?q=acme");
    // The sign-in page does not carry a bad target into its form.
    let page = app.client().get("/login?next=%2F%09%2Fevil.example").await;
    assert!(!page.body.contains("evil.example"));
}

#[tokio::test]
async fn back_fields_send_only_to_same_site_paths() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    let mut a = app.signed_in(&admin.email).await;
    for back in ["/%09/evil.example", "/\t/evil.example", "//evil.example", "/\u{7}"] {
        let res = a.post(&format!("/users/{}/deactivate", cs.id), &[("back", back)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{back:?}");
        assert_eq!(res.location(), "/?notice=deactivated", "{back:?}");
        a.post(&format!("/users/{}/reactivate", cs.id), &[("back", "/admin/staff")]).await;
    }
    let res = a.post(&format!("/users/{}/link", cs.id), &[("back", "/%09/evil.example")]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.body.contains("evil.example"));
}

#[tokio::test]
async fn staff_and_managers_send_links_but_never_see_them() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    let account = app.account("Acme Clinic", Some(&rep.id)).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    for who in [&rep.email, &cs.email, &manager.email, &admin.email] {
        let mut c = app.signed_in(who).await;
        let back = if who == &manager.email { "/portal/users" } else { "/accounts/x" };
        let res = c.post(&format!("/users/{}/link", buyer.id), &[("back", back)]).await;
        assert_eq!(res.status, StatusCode::OK, "{who}: {}", res.body);
        assert!(res.body.contains("Reset link sent"), "{who}");
        let link = common::mailed_link(&app, &buyer.email).await.expect("mailed to the buyer");
        assert!(!res.body.contains("/set-password/"), "{who} is shown no link");
        assert!(!res.body.contains(token_of(&link)), "{who} is shown no token");
    }
    // Invitations of new users: the inviter is told it was sent, never shown the link.
    let mut m = app.signed_in(&manager.email).await;
    let res = m.post("/portal/users", &[("name", "New Person"), ("email", "new@acme.test"), ("role", "buyer")]).await;
    assert!(res.body.contains("Invitation sent") && !res.body.contains("/set-password/"), "{}", res.body);
    let mut r = app.signed_in(&rep.email).await;
    let res = r
        .post(
            &format!("/accounts/{account}/users"),
            &[("name", "Other Person"), ("email", "other@acme.test"), ("role", "viewer")],
        )
        .await;
    assert!(res.body.contains("Invitation sent") && !res.body.contains("/set-password/"), "{}", res.body);
    let mut a = app.signed_in(&admin.email).await;
    let res =
        a.post("/admin/staff", &[("name", "Eve Staff"), ("email", "eve@seller.test"), ("role_finance", "1")]).await;
    assert!(res.body.contains("Invitation sent") && !res.body.contains("/set-password/"), "{}", res.body);
    for email in ["new@acme.test", "other@acme.test", "eve@seller.test"] {
        assert!(common::mailed_link(&app, email).await.is_some(), "{email}'s invitation is queued");
    }
}

#[tokio::test]
async fn one_live_link_per_purpose_and_an_invitation_survives_forgot_password() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let mut m = app.signed_in(&manager.email).await;
    m.post("/portal/users", &[("name", "New Person"), ("email", "new@acme.test"), ("role", "buyer")]).await;
    let first_invite = common::mailed_link(&app, "new@acme.test").await.unwrap();
    let user = portico::store::users::find_by_email(app.db(), "new@acme.test").await.unwrap().unwrap();
    // A re-sent invitation replaces the first.
    m.post(&format!("/users/{}/link", user.id), &[("back", "/portal/users")]).await;
    let invite = common::mailed_link(&app, "new@acme.test").await.unwrap();
    assert_ne!(invite, first_invite);
    let mut anyone = app.client();
    assert_eq!(anyone.get(&first_invite).await.status, StatusCode::NOT_FOUND, "the older invitation is void");
    // An anonymous "forgot password" does not void the invitation; both links work...
    anyone.post("/forgot", &[("email", "new@acme.test")]).await;
    let reset = common::mailed_link(&app, "new@acme.test").await.unwrap();
    assert_ne!(reset, invite);
    assert_eq!(anyone.get(&invite).await.status, StatusCode::OK, "the invitation survives");
    assert_eq!(anyone.get(&reset).await.status, StatusCode::OK);
    // ...until one of them sets the password: then the other is void too.
    assert_eq!(anyone.post(&invite, &NEW).await.location(), "/login?notice=password_set");
    assert_eq!(anyone.get(&reset).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        anyone.post(&reset, &[("password", "x y z w v u"), ("confirmation", "x y z w v u")]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(anyone.login("new@acme.test", "a brand new phrase").await.location(), "/portal");
    // No raw token of any of the three links is left in the outbox.
    let payloads = outbox_payloads(&app).await;
    for link in [&first_invite, &invite, &reset] {
        assert!(!payloads.iter().any(|p| p.contains(token_of(link))), "{link} scrubbed from the outbox");
    }
}

#[tokio::test]
async fn changing_ones_password_voids_earlier_links() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut anyone = app.client();
    anyone.post("/forgot", &[("email", &rep.email)]).await;
    let link = common::mailed_link(&app, &rep.email).await.unwrap();
    let mut c = app.signed_in(&rep.email).await;
    let res = c.post("/me/password", &[("current", PASSWORD), NEW[0], NEW[1]]).await;
    assert_eq!(res.location(), "/me/password?notice=password_changed");
    assert_eq!(anyone.get(&link).await.status, StatusCode::NOT_FOUND);
    let res = anyone.post(&link, &[("password", "someone else's"), ("confirmation", "someone else's")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!outbox_payloads(&app).await.iter().any(|p| p.contains(token_of(&link))), "scrubbed");
    assert_eq!(anyone.login(&rep.email, "a brand new phrase").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn expired_links_leave_the_outbox() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let mut anyone = app.client();
    anyone.post("/forgot", &[("email", &rep.email)]).await;
    let link = common::mailed_link(&app, &rep.email).await.unwrap();
    app.state.clock.advance(TOKEN_TTL_SECS + 1);
    // The next link anyone is sent sweeps the expired ones out of their mails.
    anyone.post("/forgot", &[("email", &finance.email)]).await;
    assert!(!outbox_payloads(&app).await.iter().any(|p| p.contains(token_of(&link))));
    let events = portico::store::audit::pending_events(app.db(), 10).await.unwrap();
    let first: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(first["link"], "expired");
    assert_eq!(first["email"], rep.email.as_str(), "the rest of the event stays");
}

#[tokio::test]
async fn inviting_an_address_used_elsewhere_reveals_nothing() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let account = app.account("Acme Clinic", None).await;
    let other = app.account("Other Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let stranger = app.buyer(&other, "Sam Stranger", BuyerRole::Buyer).await;
    let mut m = app.signed_in(&manager.email).await;
    let fresh =
        m.post("/portal/users", &[("name", "Fresh Person"), ("email", "fresh@acme.test"), ("role", "buyer")]).await;
    assert_eq!(fresh.status, StatusCode::OK);
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let outbox_before = app.count("SELECT COUNT(*) FROM outbox").await;
    for (name, email) in [("Ada Admin", admin.email.as_str()), ("Sam Stranger", stranger.email.as_str())] {
        let res = m.post("/portal/users", &[("name", name), ("email", email), ("role", "buyer")]).await;
        assert_eq!(res.status, fresh.status, "{email}");
        assert!(res.body.contains("Invitation sent"), "{email}: {}", res.body);
        assert!(!res.body.contains("already exists"), "{email}");
        // The page is the fresh invitation's page, but for the name and address.
        let normalise = |body: &str, n: &str, e: &str| body.replace(n, "NAME").replace(e, "EMAIL");
        assert_eq!(
            normalise(&res.body, name, email),
            normalise(&fresh.body, "Fresh Person", "fresh@acme.test"),
            "{email}"
        );
    }
    // Nothing was created or sent, and nobody changed.
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox_before);
    let still = portico::store::users::get(app.db(), &admin.id).await.unwrap().unwrap();
    assert!(still.account_id.is_none() && still.roles == "admin");
    let still = portico::store::users::get(app.db(), &stranger.id).await.unwrap().unwrap();
    assert_eq!(still.account_id.as_deref(), Some(other.as_str()));
    // Audited on the inviting account, by the manager.
    let refused = app
        .count_dyn(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'user.invitation_refused' AND object_type = 'account'
             AND object_id = '{account}' AND actor_user_id = '{}'",
            manager.id
        ))
        .await;
    assert_eq!(refused, 2);
}
