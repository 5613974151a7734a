//! Quotes (issue 14 §2) end to end on the database under test: a buyer's request from the cart,
//! the rep's pricing against the account's price and cost, sign-off past the discount threshold,
//! sending with an expiry, acceptance of some lines (an order at the quoted prices through the one
//! pipeline, kept when the order is priced again), declining, expiry, revisions and the thread —
//! on the web, in the service and through the API — and nobody else's quotes reachable.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::money::Money;
use portico::domain::orders::OrderStatus;
use portico::domain::quotes::QuoteStatus;
use portico::service::orders::{self, OrderHeader, Placement, ProductRef};
use portico::service::quotes::{self, NewQuote, QuoteLineInput};
use portico::service::{Actor, ServiceError};
use portico::store::products::ProductInput;
use serde_json::json;

const DAY: i64 = 86_400;

struct Fixture {
    account: String,
    rep: Principal,
    manager: Principal,
    buyer: Principal,
    buyer_email: String,
}

/// An account of Rita Rep's with a buyer; gloves at $10.00 (cost $6.00, 1,000 in stock) and a
/// monitor at $2,000.00 (cost $1,500.00, 5 in stock); Sam the sales manager signs off.
async fn fixture(app: &TestApp) -> Fixture {
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let manager = app.staff("Sam Manager", &[StaffRole::SalesManager]).await.principal().unwrap();
    let account = app.account("Quoted Clinic", Some(&rep.id)).await;
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Gloves"), "10.00", 1000),
            (ProductInput::new("MON-1", "Monitor"), "2000.00", 5),
        ],
    )
    .await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            tx.execute("UPDATE products SET cost = 60000 WHERE sku = 'GLV-1'", vec![]).await?;
            tx.execute("UPDATE products SET cost = 15000000 WHERE sku = 'MON-1'", vec![]).await.map(|_| ())
        })
    })
    .await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Buyer).await;
    Fixture {
        account,
        rep: rep.principal().unwrap(),
        manager,
        buyer_email: buyer.email.clone(),
        buyer: buyer.principal().unwrap(),
    }
}

fn line(sku: &str, qty: i64, target: Option<&str>, price: Option<&str>) -> QuoteLineInput {
    QuoteLineInput {
        product: ProductRef::sku(sku),
        quantity: qty,
        target_price: target.map(|t| Money::parse(t).unwrap()),
        unit_price: price.map(|p| Money::parse(p).unwrap()),
    }
}

async fn events(app: &TestApp, kind: &str) -> i64 {
    app.count_dyn(&format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{kind}'")).await
}

#[tokio::test]
async fn a_request_goes_from_the_cart_to_an_order_at_the_quoted_prices() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (buyer, rep) = (Actor::web(&f.buyer), Actor::web(&f.rep));

    // The buyer asks from the web form their cart fills, with a target price on the gloves.
    let mut b = app.signed_in(&f.buyer_email).await;
    let r = b
        .post(
            "/portal/quotes",
            &[
                ("sku", "GLV-1"),
                ("qty", "500"),
                ("target_GLV-1", "8.50"),
                ("sku", "MON-1"),
                ("qty", "2"),
                ("notes", "Monthly for a year"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let number = r.location().trim_start_matches("/portal/quotes/").split('?').next().unwrap().to_string();
    assert!(number.starts_with("Q-"), "{number}");
    let q = quotes::quote_view(app.db(), app.now(), &buyer, &number).await.unwrap();
    assert_eq!(q.status, QuoteStatus::Requested);
    assert_eq!(q.lines.len(), 2);
    assert_eq!(q.lines[0].target(), Some(Money::parse("8.50").unwrap()));
    assert!(q.lines.iter().all(|l| l.cost().is_none() && l.margin.is_none()), "buyers never see cost or margin");
    assert_eq!(events(&app, "quote.requested").await, 1);

    // The rep sees cost, margin and the account's price, and prices within the threshold.
    let v = quotes::quote_view(app.db(), app.now(), &rep, &number).await.unwrap();
    assert_eq!(v.lines[0].cost(), Some(Money::parse("6.00").unwrap()));
    assert_eq!(v.lines[0].margin.as_deref(), Some("40 %"));
    let priced = quotes::price_quote(
        app.db(),
        app.now(),
        &rep,
        &number,
        Some(v.quote.version),
        &[line("GLV-1", 500, None, Some("9.00")), line("MON-1", 2, None, Some("1900.00"))],
    )
    .await
    .unwrap();
    assert_eq!(priced.status, "draft");
    assert_eq!(priced.total(), Money::parse("8300.00").unwrap(), "500 × 9.00 + 2 × 1,900.00");
    let v = quotes::quote_view(app.db(), app.now(), &rep, &number).await.unwrap();
    assert_eq!(v.lines[0].target(), Some(Money::parse("8.50").unwrap()), "the buyer's target is kept");
    assert_eq!(v.lines[0].discount.as_deref(), Some("10 %"));
    assert!(v.would_need_signoff.is_empty(), "{:?}", v.would_need_signoff);
    let sent = quotes::send_quote(app.db(), app.now(), &rep, &number, Some(priced.version), None).await.unwrap();
    assert_eq!(sent.status, "sent");
    assert!(sent.expires_on.is_some(), "valid for the policy's 30 days");

    // The buyer accepts the gloves only (from the web form): an order at the quoted price.
    let page = b.get(&format!("/portal/quotes/{number}")).await;
    assert!(page.body.contains("id=\"accept-form\""), "{}", page.body);
    let version = page.attr("name=\"version\" value=\"");
    let token = page.attr("name=\"form_token\" value=\"");
    let r = b
        .post(
            &format!("/portal/quotes/{number}/accept"),
            &[("version", &version), ("form_token", &token), ("line", "1"), ("po_number", "PO-77")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with("/portal/orders/SO-"), "{}", r.location());
    // A double submit of the same form finds the same order.
    let again = b
        .post(
            &format!("/portal/quotes/{number}/accept"),
            &[("version", &version), ("form_token", &token), ("line", "1"), ("po_number", "PO-77")],
        )
        .await;
    assert_eq!(again.location(), r.location());
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);

    let q = quotes::quote_view(app.db(), app.now(), &buyer, &number).await.unwrap();
    assert_eq!(q.status, QuoteStatus::Accepted);
    assert!(q.lines[0].row.accepted && !q.lines[1].row.accepted);
    let order_id = q.quote.order_id.clone().unwrap();
    let (order, lines) = orders::order_with_lines(app.db(), &buyer, &order_id).await.unwrap();
    assert_eq!(order.status(), OrderStatus::Placed);
    assert_eq!(order.po_number, "PO-77");
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].unit(), lines[0].price_source.as_str()), (Money::parse("9.00").unwrap(), "quote"));
    assert!(lines[0].price_explanation.contains(&number), "{}", lines[0].price_explanation);
    assert_eq!(order.subtotal, Money::parse("4500.00").unwrap().raw());
    assert_eq!(events(&app, "quote.accepted").await, 1);
    assert_eq!(events(&app, "order.placed").await, 1);
    let running = portico::store::credit::get(app.db(), &f.account).await.unwrap();
    assert_eq!(running, portico::store::credit::from_records(app.db(), &f.account).await.unwrap());

    // An amendment re-prices the order: the quoted price stays.
    let desk = app.staff("Dee Desk", &[StaffRole::CustomerService]).await.principal().unwrap();
    let amended = orders::amend_order(
        app.db(),
        app.now(),
        &Actor::web(&desk),
        &order.number,
        &orders::Amendment {
            expected_version: order.version,
            lines: vec![orders::LineInput::sku("GLV-1", 600)],
            header: OrderHeader { po_number: "PO-77".into(), ..Default::default() },
            reason: "Customer called".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(amended.subtotal, Money::parse("5400.00").unwrap().raw(), "600 × the quoted 9.00");

    // Accepted is over: it cannot be accepted again, revised or written to.
    let err = quotes::accept_quote(app.db(), app.now(), &buyer, &number, None, &[2], OrderHeader::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    assert!(quotes::revise_quote(app.db(), app.now(), &rep, &number, None).await.is_err());
}

#[tokio::test]
async fn a_discount_past_the_threshold_waits_for_a_sales_managers_signoff() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let rep = Actor::web(&f.rep);
    let req = NewQuote {
        account_id: f.account.clone(),
        lines: vec![line("MON-1", 3, None, Some("1600.00")), line("GLV-1", 10, None, Some("5.00"))],
        notes: String::new(),
    };
    let q = quotes::create_quote(app.db(), app.now(), &rep, &req).await.unwrap();
    assert_eq!((q.status.as_str(), q.origin.as_str()), ("draft", "rep"));
    let v = quotes::quote_view(app.db(), app.now(), &rep, &q.number).await.unwrap();
    assert_eq!(v.would_need_signoff.len(), 2, "{:?}", v.would_need_signoff);
    assert!(v.would_need_signoff[0].contains("20 % below"), "{:?}", v.would_need_signoff);
    assert!(v.would_need_signoff[1].contains("below cost"), "{:?}", v.would_need_signoff);

    let waiting = quotes::send_quote(app.db(), app.now(), &rep, &q.number, None, None).await.unwrap();
    assert_eq!(waiting.status, "awaiting_signoff");
    assert_eq!(events(&app, "quote.signoff_requested").await, 1);
    // The buyer cannot accept it yet; the rep cannot sign off their own discount.
    let buyer = Actor::web(&f.buyer);
    let err = quotes::accept_quote(app.db(), app.now(), &buyer, &q.number, None, &[1], OrderHeader::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    let err = quotes::sign_off_quote(app.db(), app.now(), &rep, &q.number, None, true, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");

    // The manager's queue has it; refusing needs a reason and sends it back to the rep.
    let manager = Actor::web(&f.manager);
    let queue = quotes::awaiting_signoff(app.db(), app.now(), &manager).await.unwrap();
    assert_eq!(queue.iter().map(|q| q.number.as_str()).collect::<Vec<_>>(), vec![q.number.as_str()]);
    assert!(quotes::sign_off_quote(app.db(), app.now(), &manager, &q.number, None, false, " ").await.is_err());
    let back =
        quotes::sign_off_quote(app.db(), app.now(), &manager, &q.number, None, false, "Not below cost").await.unwrap();
    assert_eq!(back.status, "draft");
    assert!(back.decision_note.contains("Not below cost"));

    // The rep fixes the gloves; the monitor's 20 % still needs sign-off, which the manager gives
    // from the web page.
    quotes::price_quote(
        app.db(),
        app.now(),
        &rep,
        &q.number,
        None,
        &[line("MON-1", 3, None, Some("1600.00")), line("GLV-1", 10, None, Some("8.00"))],
    )
    .await
    .unwrap();
    let waiting = quotes::send_quote(app.db(), app.now(), &rep, &q.number, None, None).await.unwrap();
    assert_eq!(waiting.status, "awaiting_signoff");
    let sam = app.staff("Sue Manager", &[StaffRole::SalesManager]).await;
    let mut m = app.signed_in(&sam.email).await;
    let queue = m.get("/quotes/signoff").await;
    assert!(queue.body.contains(&q.number), "{}", queue.body);
    let page = m.get(&format!("/quotes/{}", q.number)).await;
    assert!(page.body.contains("id=\"signoff-form\""), "{}", page.body);
    let version = page.attr("name=\"version\" value=\"");
    let r = m.post(&format!("/quotes/{}/signoff", q.number), &[("version", &version), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let v = quotes::quote_view(app.db(), app.now(), &rep, &q.number).await.unwrap();
    assert_eq!(v.status, QuoteStatus::Sent);
    assert_eq!(v.quote.signed_off_by_name.as_deref(), Some("Sue Manager"));
    // The buyer does not see the seller's sign-off.
    let bv = quotes::quote_view(app.db(), app.now(), &buyer, &q.number).await.unwrap();
    assert!(bv.quote.signoff_reasons.is_empty() && bv.quote.signed_off_by_name.is_none());

    // An admin's policy moves the threshold; a sales manager sends past it without waiting.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    quotes::set_policy(app.db(), app.now(), &Actor::web(&admin), "25", "14").await.unwrap();
    assert!(quotes::set_policy(app.db(), app.now(), &Actor::web(&admin), "101", "14").await.is_err());
    assert!(quotes::set_policy(app.db(), app.now(), &Actor::web(&admin), "10", "0").await.is_err());
    assert!(quotes::set_policy(app.db(), app.now(), &rep, "10", "10").await.is_err(), "admins only");
    let own = quotes::create_quote(
        app.db(),
        app.now(),
        &manager,
        &NewQuote {
            account_id: f.account.clone(),
            lines: vec![line("MON-1", 1, None, Some("1400.00"))],
            notes: String::new(),
        },
    )
    .await
    .unwrap();
    let sent = quotes::send_quote(app.db(), app.now(), &manager, &own.number, None, None).await.unwrap();
    assert_eq!((sent.status.as_str(), sent.signed_off_by_name.as_deref()), ("sent", Some("Sam Manager")));
}

#[tokio::test]
async fn quotes_expire_decline_revise_and_keep_their_thread() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (rep, buyer) = (Actor::web(&f.rep), Actor::web(&f.buyer));
    let now = app.now();
    let req = NewQuote {
        account_id: f.account.clone(),
        lines: vec![line("GLV-1", 100, None, Some("9.50"))],
        notes: "".into(),
    };
    let q = quotes::create_quote(app.db(), now, &rep, &req).await.unwrap();
    let today = portico::domain::pricing::format_iso_date(portico::service::catalog::today(now));
    let past = portico::domain::pricing::format_iso_date(portico::service::catalog::today(now - 2 * DAY));
    let err = quotes::send_quote(app.db(), now, &rep, &q.number, None, Some(&past)).await.unwrap_err();
    assert!(matches!(err, ServiceError::Invalid(_)), "an expiry in the past: {err:?}");
    quotes::send_quote(app.db(), now, &rep, &q.number, None, Some(&today)).await.unwrap();

    // The day after its last day it reads expired and cannot be accepted; the sweep records it.
    let later = now + DAY + 60;
    let v = quotes::quote_view(app.db(), later, &buyer, &q.number).await.unwrap();
    assert_eq!(v.status, QuoteStatus::Expired);
    let err = quotes::accept_quote(app.db(), later, &buyer, &q.number, None, &[1], OrderHeader::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(ref m) if m.contains("expired")), "{err:?}");
    assert_eq!(quotes::expire_due(app.db(), later).await.unwrap(), 1);
    assert_eq!(quotes::expire_due(app.db(), later).await.unwrap(), 0, "once");
    assert_eq!(events(&app, "quote.expired").await, 1);

    // The rep revises it: revision 2, a draft with the same lines; revision 1 is kept.
    let r2 = quotes::revise_quote(app.db(), later, &rep, &q.number, None).await.unwrap();
    assert_eq!((r2.status.as_str(), r2.revision), ("draft", 2));
    quotes::send_quote(app.db(), later, &rep, &q.number, None, None).await.unwrap();
    let v = quotes::quote_view(app.db(), later, &buyer, &q.number).await.unwrap();
    assert_eq!(v.revisions.len(), 1);
    assert_eq!(v.lines.len(), 1);

    // Both sides write in the thread; the buyer declines with a reason the rep reads.
    quotes::post_message(app.db(), later, &buyer, &q.number, "Can you do 9.00?").await.unwrap();
    quotes::post_message(app.db(), later, &rep, &q.number, "Best is 9.50 at this volume.").await.unwrap();
    assert!(quotes::post_message(app.db(), later, &buyer, &q.number, "  ").await.is_err());
    quotes::decline_quote(app.db(), later, &buyer, &q.number, None, "Found it cheaper").await.unwrap();
    let v = quotes::quote_view(app.db(), later, &rep, &q.number).await.unwrap();
    assert_eq!(v.status, QuoteStatus::Declined);
    let thread: Vec<(bool, &str)> = v.messages.iter().map(|m| (m.seller, m.body.as_str())).collect();
    assert_eq!(
        thread,
        vec![
            (false, "Can you do 9.00?"),
            (true, "Best is 9.50 at this volume."),
            (false, "Declined: Found it cheaper")
        ]
    );
    assert_eq!(events(&app, "quote.message").await, 2);
    // A customer cannot price or send; a viewer cannot decline or ask.
    assert!(matches!(
        quotes::revise_quote(app.db(), later, &buyer, &q.number, None).await.unwrap_err(),
        ServiceError::Forbidden
    ));
    let viewer = app.buyer(&f.account, "Vi Viewer", BuyerRole::Viewer).await.principal().unwrap();
    let err = quotes::create_quote(app.db(), later, &Actor::web(&viewer), &req).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
}

#[tokio::test]
async fn nobody_reaches_another_accounts_quotes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let rep = Actor::web(&f.rep);
    let req = NewQuote { account_id: f.account.clone(), lines: vec![line("GLV-1", 10, None, None)], notes: "".into() };
    let q = quotes::create_quote(app.db(), app.now(), &rep, &req).await.unwrap();
    quotes::send_quote(app.db(), app.now(), &rep, &q.number, None, None).await.unwrap();

    let other_rep = app.staff("Otto Rep", &[StaffRole::SalesRep]).await;
    let other = app.account("Other Clinic", Some(&other_rep.id)).await;
    let stranger = app.buyer(&other, "Stan Stranger", BuyerRole::Manager).await;
    for who in [stranger.principal().unwrap(), other_rep.principal().unwrap()] {
        let a = Actor::web(&who);
        let err = quotes::quote_view(app.db(), app.now(), &a, &q.number).await.unwrap_err();
        assert!(matches!(err, ServiceError::NotFound), "{err:?}");
        let err = quotes::accept_quote(app.db(), app.now(), &a, &q.id, None, &[1], OrderHeader::default(), None)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::NotFound), "{err:?}");
        let list = quotes::list_quotes(app.db(), app.now(), &a, None, &[], Default::default(), 50).await.unwrap();
        assert!(list.quotes.is_empty(), "no quote of another account is listed");
    }
    let mut s = app.signed_in(&stranger.email).await;
    assert_eq!(s.get(&format!("/portal/quotes/{}", q.number)).await.status, StatusCode::NOT_FOUND);
    let err =
        quotes::create_quote(app.db(), app.now(), &Actor::web(&stranger.principal().unwrap()), &req).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "asking for another account's quote: {err:?}");
    // The buyer's own list has it, the other account's does not; a control character names nothing.
    let mut b = app.signed_in(&f.buyer_email).await;
    assert!(b.get("/portal/quotes").await.body.contains(&q.number));
    assert_eq!(b.get("/portal/quotes/Q-1%00").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_creates_prices_sends_and_accepts_once_under_a_key() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    // A rep-led account: a customer's order would go to the rep, but an accepted quote is the
    // rep's own work and is placed directly.
    let account = f.account.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET ownership_mode = 'rep_led' WHERE id = $1", portico::args![account])
                .await
                .map(|_| ())
        })
    })
    .await;
    let token = app.api_token(&[Scope::QuotesWrite]).await;
    let body = json!({ "account": f.account, "lines": [{ "sku": "GLV-1", "quantity": 200, "unit_price": "9.25" }, { "sku": "MON-1", "quantity": 1 }], "notes": "Annual" });
    let r = app.api("POST", "/api/v1/quotes", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!((v["status"].as_str(), v["origin"].as_str()), (Some("draft"), Some("api")));
    assert_eq!(v["lines"][0]["unit_price"], "9.25");
    assert_eq!(v["lines"][0]["normal_price"], "10.00");
    assert_eq!(v["lines"][0]["discount_bp"], 750);
    assert_eq!(v["subtotal"], "3850.00");

    // Bad input names the field and changes nothing.
    let bad = json!({ "account": f.account, "lines": [{ "sku": "NOPE", "quantity": 1 }] });
    let r = app.api("POST", "/api/v1/quotes", &token, Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("unknown_sku"), "{}", r.body);
    let neg = json!({ "account": f.account, "lines": [{ "sku": "GLV-1", "quantity": 1, "unit_price": "-1" }] });
    assert_eq!(app.api("POST", "/api/v1/quotes", &token, Some(neg)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);

    let r = app
        .api(
            "PUT",
            &format!("/api/v1/quotes/{id}/lines"),
            &token,
            Some(json!({ "expected_version": 99, "lines": [{ "sku": "GLV-1", "quantity": 200 }] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale version: {}", r.body);
    let r = app
        .api("POST", &format!("/api/v1/quotes/{id}/send"), &token, Some(json!({ "expires_on": "2020-01-01" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app.api("POST", &format!("/api/v1/quotes/{id}/send"), &token, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sent: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(sent["status"], "sent");

    // Accepting under a key twice places one order, directly (not routed back to the rep).
    let accept = json!({ "expected_version": sent["version"], "lines": [1, 2], "po_number": "ERP-1" });
    let mut answers = Vec::new();
    for _ in 0..2 {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(format!("/api/v1/quotes/{id}/accept"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "accept-1")
            .body(axum::body::Body::from(accept.to_string()))
            .unwrap();
        answers.push(app.send(req).await);
    }
    assert_eq!(answers[0].status, StatusCode::CREATED, "{}", answers[0].body);
    assert_eq!(answers[1].status, StatusCode::CREATED, "{}", answers[1].body);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    let done: serde_json::Value = serde_json::from_str(&answers[0].body).unwrap();
    assert_eq!(done["status"], "accepted");
    let order = orders::get_order(app.db(), &Actor::web(&f.rep), done["order_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(order.status(), OrderStatus::Placed, "{}", order.reasons);
    assert_eq!(order.channel, "api");
    assert_eq!(order.subtotal, Money::parse("3850.00").unwrap().raw());

    // Scopes: reading needs quotes:read (granted by quotes:write); orders:write reaches no quote.
    let read = app.api_token(&[Scope::QuotesRead]).await;
    let r = app.api("GET", "/api/v1/quotes?status=accepted", &read, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(page["quotes"].as_array().unwrap().len(), 1);
    assert_eq!(app.api("POST", "/api/v1/quotes", &read, Some(json!({}))).await.status, StatusCode::FORBIDDEN);
    let orders_token = app.api_token(&[Scope::OrdersWrite]).await;
    assert_eq!(
        app.api("GET", &format!("/api/v1/quotes/{id}"), &orders_token, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.api("GET", "/api/v1/quotes/Q-999999", &read, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.api("GET", "/api/v1/quotes?status=bogus", &read, None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_buyers_approval_rules_still_apply_to_an_accepted_quote() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let rep = Actor::web(&f.rep);
    let requester = app.buyer(&f.account, "Rae Requester", BuyerRole::Requester).await.principal().unwrap();
    let _manager = app.buyer(&f.account, "Meg Manager", BuyerRole::Manager).await;
    let req = NewQuote {
        account_id: f.account.clone(),
        lines: vec![line("MON-1", 1, None, Some("1950.00"))],
        notes: "".into(),
    };
    let q = quotes::create_quote(app.db(), app.now(), &rep, &req).await.unwrap();
    quotes::send_quote(app.db(), app.now(), &rep, &q.number, None, None).await.unwrap();
    let placed = quotes::accept_quote(
        app.db(),
        app.now(),
        &Actor::web(&requester),
        &q.number,
        None,
        &[1],
        OrderHeader::default(),
        None,
    )
    .await
    .unwrap();
    let Placement::Placed { order, .. } = placed else { panic!("placed once") };
    assert_eq!(order.status(), OrderStatus::PendingApproval, "a requester's order waits for the manager");
    assert_eq!(order.subtotal, Money::parse("1950.00").unwrap().raw());
    // Approval prices it again — at the quoted price.
    let v = orders::approval_view(app.db(), app.now(), &Actor::web(&requester), &order).await.unwrap();
    assert!(v.is_some());
    let stock = app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await;
    assert_eq!(stock, 0, "nothing reserved while it waits");
}

#[tokio::test]
async fn creating_a_quote_twice_under_one_key_or_form_token_writes_one() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let token = app.api_token(&[Scope::QuotesWrite]).await;
    let send = |body: serde_json::Value, key: &'static str| {
        axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/quotes")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let body = json!({ "account": f.account, "lines": [{ "sku": "GLV-1", "quantity": 10 }] });
    let first = app.send(send(body.clone(), "q-1")).await;
    let again = app.send(send(body.clone(), "q-1")).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::CREATED), "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&first.body).unwrap(), serde_json::from_str(&again.body).unwrap());
    assert_eq!(a["id"], b["id"]);
    let other = json!({ "account": f.account, "lines": [{ "sku": "GLV-1", "quantity": 11 }] });
    assert_eq!(app.send(send(other, "q-1")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A refused request leaves its key free: the corrected request runs.
    let bad = json!({ "account": f.account, "lines": [{ "sku": "NOPE", "quantity": 1 }] });
    assert_eq!(app.send(send(bad, "q-2")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.send(send(body, "q-2")).await.status, StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 2);

    // The buyer's request form, submitted twice, asks once.
    let mut b = app.signed_in(&f.buyer_email).await;
    let page = b.get("/portal/quotes/new").await;
    assert_eq!(page.status, StatusCode::OK);
    let form_token = page.attr("name=\"form_token\" value=\"");
    let fields = [("form_token", form_token.as_str()), ("sku", "GLV-1"), ("qty", "5"), ("notes", "Twice")];
    let r1 = b.post("/portal/quotes", &fields).await;
    let r2 = b.post("/portal/quotes", &fields).await;
    assert_eq!((r1.status, r2.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{}", r2.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 3);
    let second = b.get(r2.location()).await;
    assert_eq!(second.status, StatusCode::OK, "the repeat lands on the first request");
}

/// A price the rep mistypes comes back on the quote page as typed — every row's quantity and
/// price and the pasted lines — with the reason; nothing is saved until it is fixed.
#[tokio::test]
async fn a_mistyped_price_comes_back_on_the_quote_as_typed() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut b = app.signed_in(&f.buyer_email).await;
    let r = b.post("/portal/quotes", &[("sku", "GLV-1"), ("qty", "500"), ("sku", "MON-1"), ("qty", "2")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let number = r.location().trim_start_matches("/portal/quotes/").split('?').next().unwrap().to_string();
    let rep = Actor::web(&f.rep);
    let v = quotes::quote_view(app.db(), app.now(), &rep, &number).await.unwrap();
    let version = v.quote.version.to_string();

    let rep_email = f.rep.email.clone();
    let mut r = app.signed_in(&rep_email).await;
    let path = format!("/quotes/{number}/price");
    let typed = [
        ("version", version.as_str()),
        ("sku", "GLV-1"),
        ("qty", "450"),
        ("price", "9.10"),
        ("sku", "MON-1"),
        ("qty", "3"),
        ("price", "19OO.00"),
        ("lines", "GLV-1 20 8.95"),
    ];
    let res = r.post(&path, &typed).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("Line 2: “19OO.00” is not a price"), "{}", res.body);
    assert!(res.body.contains("<nav"), "inside the page shell");
    assert!(res.body.contains("name=\"qty\" value=\"450\""), "the first row's quantity is kept");
    assert!(res.body.contains("name=\"price\" value=\"9.10\""), "the first row's price is kept");
    assert!(res.body.contains("name=\"qty\" value=\"3\""), "the second row's quantity is kept");
    assert!(res.body.contains("name=\"price\" value=\"19OO.00\""), "the bad price is kept to fix");
    assert!(res.body.contains(">GLV-1 20 8.95</textarea>"), "the pasted lines are kept");
    let after = quotes::quote_view(app.db(), app.now(), &rep, &number).await.unwrap();
    assert_eq!(after.quote.version, v.quote.version, "nothing saved");

    // Fixed, it is saved; the page then shows the stored prices.
    let fixed = [typed[0], typed[1], typed[2], typed[3], typed[4], typed[5], ("price", "1900.00")];
    let res = r.post(&path, &fixed).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let saved = quotes::quote_view(app.db(), app.now(), &rep, &number).await.unwrap();
    assert_eq!(saved.total(), Money::parse("9795.00").unwrap(), "450 × 9.10 + 3 × 1,900.00");
}
