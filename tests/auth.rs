//! Sign-in, sessions, CSRF, throttling, passwords, invitations and resets.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::service::auth::{MAX_FAILURES, THROTTLE_WINDOW_SECS, TOKEN_TTL_SECS};

#[tokio::test]
async fn sign_in_lands_on_role_home_and_sign_out_ends_the_session() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut c = app.client();
    let res = c.login(&rep.email, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/rep");
    let cookie = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("portico_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no Secure flag on plain http: {cookie}");
    let token = c.session_cookie().unwrap();
    assert_eq!(token.len(), 32, "128-bit session id, hex");
    assert_eq!(c.get("/rep").await.status, StatusCode::OK);

    let res = c.post("/logout", &[]).await;
    assert_eq!(res.location(), "/login?notice=signed_out");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0, "sign-out deletes the server-side session");
    // Replaying the old cookie does not work.
    let mut replay = app.client();
    replay.cookies.insert("portico_session".into(), token);
    let res = replay.get("/rep").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/login"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_fail_alike() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.client();
    let wrong = c.login(&admin.email, "not the password").await;
    let unknown = c.login("nobody@nowhere.test", "whatever it is").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong e-mail or password"));
    assert!(c.session_cookie().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM throttle_attempts WHERE key LIKE 'sign_in:email:%'").await, 2);
}

#[tokio::test]
async fn each_sign_in_gets_a_new_session_id() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.client();
    c.login(&admin.email, PASSWORD).await;
    let first = c.session_cookie().unwrap();
    // Signing in again from the same browser rotates the id and ends the old session.
    c.login(&admin.email, PASSWORD).await;
    let second = c.session_cookie().unwrap();
    assert_ne!(first, second);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    // The session id is stored hashed, never as the cookie value.
    let raw: i64 = portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM sessions WHERE id_hash = $1 OR csrf_token = $1"
    )
    .bind(&second)
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(raw, 0);
    let hash = portico::service::auth::token_hash(&second);
    let found: i64 =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
            .bind(&hash)
            .fetch_one(c)
            .await)
        .unwrap();
    assert_eq!(found, 1);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let idle = app.state.config.session_idle_secs;
    let mut c = app.signed_in(&admin.email).await;
    // Activity inside the idle window keeps the session alive...
    app.state.clock.advance(idle - 120);
    assert_eq!(c.get("/admin/accounts").await.status, StatusCode::OK);
    app.state.clock.advance(idle - 120);
    assert_eq!(c.get("/admin/accounts").await.status, StatusCode::OK);
    // ...idleness past it ends it.
    app.state.clock.advance(idle + 1);
    let res = c.get("/admin/accounts").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // A session nobody returns to is swept away at the next sign-in.
    let _abandoned = app.signed_in(&admin.email).await;
    app.state.clock.advance(idle + 1);
    let _fresh = app.signed_in(&admin.email).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1, "only the fresh session remains");

    // Absolute time-out: even a session used every few minutes ends.
    let mut c = app.signed_in(&admin.email).await;
    let absolute = app.state.config.session_absolute_secs;
    let mut elapsed = 0;
    while elapsed + 600 < absolute {
        app.state.clock.advance(600);
        elapsed += 600;
        assert_eq!(c.get("/admin/accounts").await.status, StatusCode::OK);
    }
    app.state.clock.advance(absolute - elapsed);
    assert_eq!(c.get("/admin/accounts").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn state_changes_without_a_valid_csrf_token_are_refused() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let before = app.count("SELECT COUNT(*) FROM users").await;
    let form = "name=Eve&email=eve%40seller.test&role_finance=1";
    // No token.
    let res = c.post_raw("/admin/staff", form.to_string()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("Form expired"));
    // A wrong token.
    let res = c.post_raw("/admin/staff", format!("_csrf=deadbeefdeadbeefdeadbeefdeadbeef&{form}")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The pre-sign-in token of another browser is not this session's token.
    let mut other = app.client();
    let foreign = other.csrf().await;
    let res = c.post_raw("/admin/staff", format!("_csrf={foreign}&{form}")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // A valid token from a cross-site request is refused by Sec-Fetch-Site and by Origin.
    let token = c.csrf().await;
    c.extra_headers = vec![("sec-fetch-site".into(), "cross-site".into())];
    let res = c.post_raw("/admin/staff", format!("_csrf={token}&{form}")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    c.extra_headers = vec![("origin".into(), "https://evil.example".into()), ("host".into(), "localhost:8080".into())];
    let res = c.post_raw("/admin/staff", format!("_csrf={token}&{form}")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, before, "nothing was created");
    // Same-origin with the token works (header form, as htmx sends it, too).
    c.extra_headers = vec![
        ("origin".into(), "http://localhost:8080".into()),
        ("host".into(), "localhost:8080".into()),
        ("x-csrf-token".into(), token.clone()),
    ];
    let res = c.post_raw("/admin/staff", form.to_string()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, before + 1);
}

#[tokio::test]
async fn sign_in_form_needs_its_pre_session_token() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.client();
    let body = serde_urlencoded::to_string([("email", admin.email.as_str()), ("password", PASSWORD)]).unwrap();
    let res = c.post_raw("/login", body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "login CSRF: no token, no sign-in");
    assert!(c.session_cookie().is_none());
}

#[tokio::test]
async fn get_requests_change_nothing() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    for path in ["/logout", "/admin/staff", "/admin/accounts", "/me/password", "/"] {
        c.get(path).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1, "GET /logout does not sign out");
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_released() {
    let app = TestApp::new().await;
    let buyer_account = app.account("Acme Clinic", None).await;
    let user = app.buyer(&buyer_account, "Bea Buyer", BuyerRole::Buyer).await;
    let mut attacker = app.client();
    for _ in 0..MAX_FAILURES {
        assert_eq!(attacker.login(&user.email, "guess guess guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let res = attacker.login(&user.email, "guess guess guess").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = res.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= THROTTLE_WINDOW_SECS, "retry-after {retry}");
    // Even the right password waits while throttled (the attacker cannot tell it is right)...
    let mut real = app.client();
    assert_eq!(real.login(&user.email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // ...but never for good: after the window the real user gets in from another device.
    app.state.clock.advance(THROTTLE_WINDOW_SECS + 1);
    let res = real.login(&user.email, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // Other e-mails were never affected.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM throttle_attempts WHERE key LIKE 'sign_in:email:%'").await,
        0,
        "success clears the e-mail's record"
    );
}

async fn invite_buyer<'a>(app: &'a TestApp, manager: &mut common::Client<'a>, email: &str) -> String {
    let res = manager.post("/portal/users", &[("name", "New Person"), ("email", email), ("role", "buyer")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("Invitation sent"), "{}", res.body);
    assert!(!res.body.contains("/set-password/"), "the inviter never sees the link");
    let path = common::mailed_link(app, email).await.expect("the invitation is queued for the invitee's mailbox");
    assert!(path.starts_with("/set-password/"));
    path
}

#[tokio::test]
async fn invitation_link_sets_a_password_once() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let mut m = app.signed_in(&manager.email).await;
    let path = invite_buyer(&app, &mut m, "new.person@acme.test").await;
    let events = portico::store::audit::pending_events(app.db(), 10).await.unwrap();
    assert!(
        events.iter().any(|e| e.event_type == "user.invited" && e.payload.contains("new.person@acme.test")),
        "user.invited queued"
    );

    let mut newbie = app.client();
    let page = newbie.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("new.person@acme.test"));
    // Password rules: too short, too common, mismatched — each refused, link still usable.
    for (pw, confirm, msg) in [
        ("short", "short", "at least 8"),
        ("password1", "password1", "most commonly used"),
        ("long enough phrase", "long enough phrasx", "do not match"),
    ] {
        let res = newbie.post(&path, &[("password", pw), ("confirmation", confirm)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains(msg), "expected “{msg}” in {}", res.body);
    }
    let too_long = "x".repeat(129);
    let res = newbie.post(&path, &[("password", &too_long), ("confirmation", &too_long)]).await;
    assert!(res.body.contains("at most 128"));
    let res =
        newbie.post(&path, &[("password", "blue tangerine orbit"), ("confirmation", "blue tangerine orbit")]).await;
    assert_eq!(res.location(), "/login?notice=password_set");
    // One-time: the link is spent.
    assert_eq!(newbie.get(&path).await.status, StatusCode::NOT_FOUND);
    let res = newbie.post(&path, &[("password", "another good phrase"), ("confirmation", "another good phrase")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // And the new password works.
    assert_eq!(newbie.login("new.person@acme.test", "blue tangerine orbit").await.location(), "/portal");
}

#[tokio::test]
async fn invitation_links_expire_after_72_hours() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let mut m = app.signed_in(&manager.email).await;
    let path = invite_buyer(&app, &mut m, "late@acme.test").await;
    app.state.clock.advance(TOKEN_TTL_SECS + 1);
    let mut late = app.client();
    let res = late.get(&path).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("expired"));
    let res = late.post(&path, &[("password", "blue tangerine orbit"), ("confirmation", "blue tangerine orbit")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forgot_password_queues_a_reset_and_reveals_nothing() {
    let app = TestApp::new().await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let mut c = app.client();
    let known = c.post("/forgot", &[("email", &finance.email)]).await;
    let unknown = c.post("/forgot", &[("email", "ghost@nowhere.test")]).await;
    assert_eq!(known.location(), unknown.location(), "same answer either way");
    let events = portico::store::audit::pending_events(app.db(), 10).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event_type == "user.password_reset_requested").count(), 1);
    let path = common::mailed_link(&app, &finance.email).await.unwrap();
    // Resetting ends every existing session of the user.
    let mut session = app.signed_in(&finance.email).await;
    let res = c.post(&path, &[("password", "a brand new phrase"), ("confirmation", "a brand new phrase")]).await;
    assert_eq!(res.location(), "/login?notice=password_set");
    assert!(session.get("/finance").await.location().starts_with("/login"));
    assert_eq!(c.login(&finance.email, PASSWORD).await.status, StatusCode::UNAUTHORIZED, "old password is gone");
    assert_eq!(c.login(&finance.email, "a brand new phrase").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn deactivation_ends_sessions_and_blocks_sign_in() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await;
    let mut victim = app.signed_in(&cs.email).await;
    let mut other_device = app.signed_in(&cs.email).await;
    assert_eq!(victim.get("/desk").await.status, StatusCode::OK);
    let mut a = app.signed_in(&admin.email).await;
    let res = a.post(&format!("/users/{}/deactivate", cs.id), &[("back", "/admin/staff")]).await;
    assert_eq!(res.location(), "/admin/staff?notice=deactivated");
    assert!(victim.get("/desk").await.location().starts_with("/login"));
    assert!(other_device.get("/desk").await.location().starts_with("/login"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE user_id IN (SELECT id FROM users WHERE active = FALSE)").await,
        0
    );
    assert_eq!(victim.login(&cs.email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // Reactivated, they can sign in again.
    a.post(&format!("/users/{}/reactivate", cs.id), &[("back", "/admin/staff")]).await;
    assert_eq!(victim.login(&cs.email, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn changing_password_ends_other_sessions_only() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut here = app.signed_in(&rep.email).await;
    let mut elsewhere = app.signed_in(&rep.email).await;
    let res = here
        .post(
            "/me/password",
            &[("current", "wrong current pw"), ("password", "fresh new phrase"), ("confirmation", "fresh new phrase")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = here
        .post(
            "/me/password",
            &[("current", PASSWORD), ("password", "fresh new phrase"), ("confirmation", "fresh new phrase")],
        )
        .await;
    assert_eq!(res.location(), "/me/password?notice=password_changed");
    assert_eq!(here.get("/rep").await.status, StatusCode::OK, "this session stays");
    assert!(elsewhere.get("/rep").await.location().starts_with("/login"), "the other one ends");
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for path in ["/login", "/nonexistent", "/healthz"] {
        let res = c.get(path).await;
        let csp = res.headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(res.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(res.headers.contains_key("referrer-policy"));
        assert!(!res.headers.contains_key("strict-transport-security"), "no HSTS on http");
    }
    let login = c.get("/login").await;
    assert!(!login.body.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn https_public_url_turns_on_secure_cookies_and_hsts() {
    let mut app = TestApp::new().await;
    let mut cfg = (*app.state.config).clone();
    cfg.public_url = "https://portal.example.com".into();
    app.state.config = std::sync::Arc::new(cfg);
    app.router = portico::build_router(app.state.clone());
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.client();
    c.extra_headers = vec![("origin".into(), "https://portal.example.com".into())];
    let res = c.login(&admin.email, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let cookie = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("portico_session="))
        .unwrap();
    assert!(cookie.contains("Secure"));
    assert!(res.headers.contains_key("strict-transport-security"));
}
