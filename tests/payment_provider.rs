//! Paying invoices online, end to end through the real HTTP server: the buyer ticks open invoices
//! and pays online, Portico redirects to the local test provider, the provider's page says
//! "Pay $X", and paying makes the provider POST a signed callback to Portico over TCP, which
//! records the payment (the provider's id as its external id) applied to those invoices. Callbacks
//! with a missing, wrong or stale signature are refused with 400 and record nothing; a payment
//! reported again is acknowledged (200) and records nothing.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::domain::money::Money;
use portico::service::Actor;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::payment_provider::{Checkout, LocalTestProvider, ProviderEvent, http_request};
use portico::store::products::ProductInput;

const SECRET: &str = "test-provider-secret";

/// A refused callback: what is wrong, its headers, its body.
type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a [u8]);

async fn invoiced(app: &TestApp, cs: &Actor<'_>, account: &str, qty: i64) -> String {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: vec![LineInput::sku("GLV-1", qty)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let o = match orders::place_order(app.db(), app.now(), cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    };
    orders::confirm_order(app.db(), app.now(), cs, &o.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, qty)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), cs, &o.number, &input).await.unwrap();
    let list = portico::service::invoices::list_invoices(app.db(), cs, Some(account), None, 100).await.unwrap();
    list.into_iter().find(|i| i.order_number == o.number).unwrap().number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_pays_open_invoices_online_through_the_test_provider_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public = base.clone();
    let app = TestApp::configured(move |c| {
        c.public_url = public;
        c.test_provider_secret = Some(SECRET.into());
    })
    .await;
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());

    let account = app.account("Online Clinic", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 1000)]).await;
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let cs = Actor::web(&cs);
    let a = invoiced(&app, &cs, &account, 2).await; // 20.00
    let b = invoiced(&app, &cs, &account, 5).await; // 50.00
    let c = invoiced(&app, &cs, &account, 1).await; // 10.00, not chosen
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;

    // The buyer's invoices offer "Pay online"; choosing two sends the buyer to the provider.
    let mut buyer = app.signed_in(&manager.email).await;
    let list = buyer.get("/portal/invoices").await;
    assert!(list.body.contains("id=\"pay-online\"") && list.body.contains(&format!("value=\"{a}\"")), "{}", list.body);
    let res = buyer.post("/portal/invoices/pay", &[("invoice", &a), ("invoice", &b)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let checkout = res.location().to_string();
    assert!(checkout.starts_with(&format!("{base}/test-provider/checkout?s=")), "{checkout}");

    // The provider's hosted page, over HTTP.
    let (status, page) = http_request("GET", &checkout, &[], b"").await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Pay $70.00"), "{page}");
    // A tampered session is refused.
    let (status, _) = http_request("GET", &checkout.replace("sig=", "sig=00"), &[], b"").await.unwrap();
    assert_eq!(status, 400);

    // Pay: the provider calls Portico back (signed) and returns the buyer to their payments.
    let query = checkout.split_once('?').unwrap().1;
    let (status, body) = http_request(
        "POST",
        &format!("{base}/test-provider/checkout/pay"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        query.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(status, 303, "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments WHERE method = 'online' AND source = 'provider'").await, 1);
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await.principal().unwrap();
    let fin = Actor::web(&fin);
    let paid = portico::service::payments::list_payments(app.db(), &fin, Some(&account), None, 10).await.unwrap();
    let p = &paid[0];
    assert_eq!((Money::from_raw(p.amount), p.unapplied), (Money::parse("70.00").unwrap(), 0));
    let external_id = p.external_id.clone().unwrap();
    assert!(external_id.starts_with("tp_"), "{external_id}");
    for (n, status) in [(&a, "paid"), (&b, "paid"), (&c, "open")] {
        let (i, _) = portico::service::invoices::get_invoice(app.db(), &fin, n).await.unwrap();
        assert_eq!(i.status, status, "{n}");
    }
    let running = portico::store::credit::get(app.db(), &account).await.unwrap();
    assert_eq!(running, portico::store::credit::from_records(app.db(), &account).await.unwrap());
    // The buyer sees it.
    assert!(buyer.get("/portal/payments").await.body.contains(&p.number));

    // Callbacks Portico refuses (400), recording nothing.
    let provider = LocalTestProvider::new(&base, SECRET);
    let now = app.now();
    let user = manager.id.clone();
    let event = |id: &str| ProviderEvent {
        kind: "payment.succeeded".into(),
        id: id.into(),
        checkout: Checkout {
            reference: "r".into(),
            account_id: account.clone(),
            user_id: user.clone(),
            description: format!("Invoices {c}"),
            amount: "10.00".into(),
            invoices: vec![c.clone()],
            callback_url: format!("{base}/payments/callback"),
            return_url: format!("{base}/portal/payments"),
            created: now,
        },
        created: now,
    };
    let callback = format!("{base}/payments/callback");
    let fresh = serde_json::to_vec(&event("tp_fresh")).unwrap();
    let replayed = serde_json::to_vec(&event(&external_id)).unwrap();
    let forged = LocalTestProvider::new(&base, "a guess").signature_header(now, &fresh);
    let cases: Vec<Case> = vec![
        ("missing", vec![], &fresh),
        ("forged", vec![("Provider-Signature", forged)], &fresh),
        ("stale", vec![("Provider-Signature", provider.signature_header(now - 3600, &fresh))], &fresh),
    ];
    for (what, headers, body) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, answer) = http_request("POST", &callback, &headers, body).await.unwrap();
        assert_eq!(status, 400, "{what}: {answer}");
    }
    // The payment above reported again (its first answer may have been lost): acknowledged, and
    // nothing recorded.
    let signature = provider.signature_header(now, &replayed);
    let (status, answer) =
        http_request("POST", &callback, &[("Provider-Signature", signature.as_str())], &replayed).await.unwrap();
    assert_eq!((status, answer.as_str()), (200, "this payment was reported before"));
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1, "nothing recorded");
    // A good signature records once.
    let (status, answer) =
        http_request("POST", &callback, &[("Provider-Signature", &provider.signature_header(now, &fresh))], &fresh)
            .await
            .unwrap();
    assert_eq!(status, 200, "{answer}");
    let (status, _) =
        http_request("POST", &callback, &[("Provider-Signature", &provider.signature_header(now, &fresh))], &fresh)
            .await
            .unwrap();
    assert_eq!(status, 200, "the same event again is acknowledged (its first answer may have been lost)");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    let (i, _) = portico::service::invoices::get_invoice(app.db(), &fin, &c).await.unwrap();
    assert_eq!(i.status, "paid");
    server.abort();
}

#[tokio::test]
async fn without_a_configured_provider_there_is_no_test_provider_nor_pay_online() {
    let app = TestApp::new().await;
    let res = app
        .send(axum::http::Request::get("/test-provider/checkout?s=00&sig=00").body(axum::body::Body::empty()).unwrap())
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res =
        app.send(axum::http::Request::post("/payments/callback").body(axum::body::Body::from("{}")).unwrap()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
