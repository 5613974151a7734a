//! Throttling of sign-in, "forgot password" and the current-password check: atomic under
//! parallel attempts, per e-mail and per client address, bounded, and never locking the real user
//! out for good.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use common::{Client, PASSWORD, TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::service::auth::{
    MAX_FAILURES, MAX_FAILURES_PER_ADDRESS, MAX_PASSWORD_CHECKS, MAX_RESET_REQUESTS, MAX_RESET_REQUESTS_PER_ADDRESS,
    THROTTLE_WINDOW_SECS,
};
use std::net::SocketAddr;

/// A form post from the client address `from`, as the server sees it behind a socket (in-process
/// requests otherwise carry no peer address). Uses `c`'s cookies and `csrf` token.
async fn post_from(
    app: &TestApp,
    c: &Client<'_>,
    csrf: &str,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> TestResponse {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    let cookies = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
        .unwrap();
    let addr: SocketAddr = format!("{from}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    app.send(req).await
}

fn retry_after(res: &TestResponse) -> i64 {
    res.headers.get("retry-after").expect("Retry-After on 429").to_str().unwrap().parse().unwrap()
}

async fn attempts_for(app: &TestApp, key: &str) -> i64 {
    app.count_dyn(&format!("SELECT COUNT(*) FROM throttle_attempts WHERE key = '{key}'")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_checked_at_most_the_limit() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let user = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let mut c = app.client();
    let csrf = c.csrf().await;
    // 30 guesses at once, each from its own address: only the e-mail's limit can stop them.
    let guesses = (0..30).map(|i| {
        let (app, c, csrf, email) = (&app, &c, &csrf, &user.email);
        async move {
            let from = format!("198.51.100.{}", i + 1);
            post_from(app, c, csrf, &from, "/login", &[("email", email), ("password", "wrong guess here")]).await
        }
    });
    let results = futures_util::future::join_all(guesses).await;
    let checked = results.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count() as i64;
    let refused: Vec<&TestResponse> = results.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(checked + refused.len() as i64, 30, "every guess is answered 401 or 429");
    assert!(checked <= MAX_FAILURES, "{checked} guesses were checked; the limit is {MAX_FAILURES}");
    assert!(refused.len() as i64 >= 30 - MAX_FAILURES);
    for r in &refused {
        let wait = retry_after(r);
        assert!(wait > 0 && wait <= THROTTLE_WINDOW_SECS, "retry-after {wait}");
    }
    assert!(attempts_for(&app, &format!("sign_in:email:{}", user.email)).await <= MAX_FAILURES);
    // Even the right password now waits (the guesser cannot tell it was right).
    let res =
        post_from(&app, &c, &csrf, "192.0.2.1", "/login", &[("email", &user.email), ("password", PASSWORD)]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_address_guessing_many_emails_is_slowed() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let user = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let mut c = app.client();
    let csrf = c.csrf().await;
    let attacker = "203.0.113.7";
    // One guess at each of many e-mails: no e-mail reaches its own limit, the address does.
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let email = format!("person{i}@victim.test");
        let res =
            post_from(&app, &c, &csrf, attacker, "/login", &[("email", &email), ("password", "summer2024!")]).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let res =
        post_from(&app, &c, &csrf, attacker, "/login", &[("email", "next@victim.test"), ("password", "summer2024!")])
            .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) > 0);
    assert!(res.body.contains("Too many"));
    assert_eq!(attempts_for(&app, &format!("sign_in:address:{attacker}")).await, MAX_FAILURES_PER_ADDRESS);
    // Someone elsewhere is not affected.
    let res =
        post_from(&app, &c, &csrf, "192.0.2.50", "/login", &[("email", &user.email), ("password", PASSWORD)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // The address is free again once the window has moved on.
    app.state.clock.advance(THROTTLE_WINDOW_SECS + 1);
    let res =
        post_from(&app, &c, &csrf, attacker, "/login", &[("email", "next@victim.test"), ("password", "summer2024!")])
            .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_current_password_check_is_throttled_per_user() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut c = app.signed_in(&rep.email).await;
    let change = |current: &'static str| {
        [("current", current), ("password", "fresh new phrase"), ("confirmation", "fresh new phrase")]
    };
    for _ in 0..MAX_PASSWORD_CHECKS {
        let res = c.post("/me/password", &change("a wrong guess")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("current password is not correct"));
    }
    // The limit is reached: even the right password is not checked now, and nothing changes.
    let res = c.post("/me/password", &change(PASSWORD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) > 0);
    let stored = portico::store::users::get(app.db(), &rep.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some(common::password_hash()), "password unchanged");
    // After the window the right current password works.
    app.state.clock.advance(THROTTLE_WINDOW_SECS + 1);
    let mut c = app.signed_in(&rep.email).await;
    let res = c.post("/me/password", &change(PASSWORD)).await;
    assert_eq!(res.location(), "/me/password?notice=password_changed");
}

#[tokio::test]
async fn forgot_password_is_throttled_alike_for_known_and_unknown_addresses() {
    let app = TestApp::new().await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let mut c = app.client();
    let csrf = c.csrf().await;
    // Per e-mail (each request from its own address): the same answers whether the user exists.
    let mut n = 0;
    for email in [finance.email.as_str(), "ghost@nowhere.test"] {
        for _ in 0..MAX_RESET_REQUESTS {
            n += 1;
            let res = post_from(&app, &c, &csrf, &format!("198.51.100.{n}"), "/forgot", &[("email", email)]).await;
            assert_eq!(res.location(), "/login?notice=reset_sent", "{email}");
        }
        n += 1;
        let res = post_from(&app, &c, &csrf, &format!("198.51.100.{n}"), "/forgot", &[("email", email)]).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(retry_after(&res) > 0);
    }
    let sent = app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'user.password_reset_requested'").await;
    assert_eq!(sent, MAX_RESET_REQUESTS, "a mail per accepted request for the real user, none for the ghost");
    // Per address: many e-mails from one address.
    for i in 0..MAX_RESET_REQUESTS_PER_ADDRESS {
        let res = post_from(&app, &c, &csrf, "203.0.113.9", "/forgot", &[("email", &format!("p{i}@x.test"))]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    }
    let res = post_from(&app, &c, &csrf, "203.0.113.9", "/forgot", &[("email", "one.more@x.test")]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_trickle_of_guesses_never_locks_the_user_out() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let user = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let mut attacker = app.client();
    // One wrong guess every 90 s for an hour and a half: never refused, never reaching the limit.
    for i in 0..60 {
        let res = attacker.login(&user.email, "wrong guess here").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "guess {i}");
        app.state.clock.advance(90);
    }
    let mut real = app.client();
    assert_eq!(real.login(&user.email, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn after_a_lockout_a_valid_reset_link_lets_the_user_in() {
    let app = TestApp::new().await;
    let account = app.account("Acme Clinic", None).await;
    let user = app.buyer(&account, "Bea Buyer", BuyerRole::Buyer).await;
    let mut attacker = app.client();
    for _ in 0..MAX_FAILURES {
        attacker.login(&user.email, "wrong guess here").await;
    }
    let mut real = app.client();
    assert_eq!(real.login(&user.email, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS, "locked out");
    // The real user asks for a link, which only their mailbox gets, and sets a new password.
    assert_eq!(real.post("/forgot", &[("email", &user.email)]).await.location(), "/login?notice=reset_sent");
    let link = common::mailed_link(&app, &user.email).await.expect("reset mail queued");
    let res = real.post(&link, &[("password", "a brand new phrase"), ("confirmation", "a brand new phrase")]).await;
    assert_eq!(res.location(), "/login?notice=password_set");
    // The lockout is over for them, at once.
    let res = real.login(&user.email, "a brand new phrase").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/portal");
}
