//! The seller's dashboards (issue 18 §4): figures checked against orders placed through the real
//! pipeline on every channel (portal, rep, phone, API), a cancellation and an amendment moving the
//! rollup in the order's own transaction, the rollup equal to a rebuild from the orders (the
//! migration's backfill), reps scoped to their own book (another rep's account or book: 404),
//! buyers refused, the reorder rhythm and "stopped ordering" rule, abandoned carts valued at the
//! buyer's prices, top products, CSV exports, pages with an SVG chart, and the API. Runs on SQLite
//! and, with TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::money::Money;
use portico::service::dashboards::{self as dashboards, Filter};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError, carts};
use portico::store::products::ProductInput;
use serde_json::Value;

const DAY: i64 = 86_400;

struct Fixture {
    a1: String,
    b1: String,
    rep_a: Principal,
    rep_b: Principal,
    admin: Principal,
    manager: Principal,
    cs: Principal,
    finance: Principal,
    buyer: Principal,
}

async fn fixture(app: &TestApp) -> Fixture {
    let rep_a = app.staff("Rita Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let rep_b = app.staff("Bert Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let manager = app.staff("Morgan Manager", &[StaffRole::SalesManager]).await.principal().unwrap();
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let finance = app.staff("Finn Finance", &[StaffRole::Finance]).await.principal().unwrap();
    let a1 = app.account("Smile Dental", Some(&rep_a.user_id)).await;
    let b1 = app.account("Bright Clinic", Some(&rep_b.user_id)).await;
    let buyer = app.buyer(&a1, "Bea Buyer", BuyerRole::Buyer).await.principal().unwrap();
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 100_000),
            (ProductInput::new("GZ-1", "Gauze"), "0.0125", 1_000_000),
        ],
    )
    .await;
    Fixture { a1, b1, rep_a, rep_b, admin, manager, cs, finance, buyer }
}

async fn place_at(app: &TestApp, at: i64, who: &Principal, account: &str, lines: &[(&str, i64)]) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), at, &Actor::web(who), &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn all() -> Filter {
    Filter::default()
}

fn account(id: &str) -> Filter {
    Filter { account: Some(id.to_string()), rep: None }
}

fn rep(id: &str) -> Filter {
    Filter { account: None, rep: Some(id.to_string()) }
}

/// (channel, orders, revenue) of the window's total.
fn totals(v: &dashboards::ChannelsView) -> Vec<(String, i64, Money)> {
    v.channels.iter().zip(&v.total.cells).map(|(c, (o, r))| (c.to_string(), *o, *r)).collect()
}

/// The rollup's rows, sorted: what the order writer kept.
async fn rollup(app: &TestApp) -> Vec<(String, String, String, i64, i64)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, String, i64, i64)>(
        "SELECT account_id, month, channel, orders, revenue FROM order_months ORDER BY account_id, month, channel"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

/// (account, month, orders, revenue, self-service orders, self-service revenue), sorted.
async fn account_month_rows(app: &TestApp) -> Vec<(String, String, i64, i64, i64, i64)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, i64, i64, i64, i64)>(
        "SELECT account_id, month, orders, revenue, self_orders, self_revenue FROM account_months ORDER BY account_id, month"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

async fn rhythm_rows(app: &TestApp) -> Vec<(String, i64, i64, String)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, i64, i64, String)>(
        "SELECT account_id, orders, last_at, recent FROM account_rhythm ORDER BY account_id"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

#[tokio::test]
async fn figures_follow_the_orders_of_every_channel_and_reps_see_their_book_only() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let db = app.db();
    // Smile Dental (rep A): two portal orders by the buyer, one by the rep, one by the desk (phone).
    place_at(&app, now, &f.buyer, &f.a1, &[("GLV-1", 2)]).await; // 20.00 portal
    place_at(&app, now, &f.buyer, &f.a1, &[("GZ-1", 3)]).await; // 0.0375 → line total as priced
    place_at(&app, now, &f.rep_a, &f.a1, &[("GLV-1", 5)]).await; // 50.00 rep
    let phone = place_at(&app, now, &f.cs, &f.a1, &[("GLV-1", 1)]).await; // 10.00 phone
    // Bright Clinic (rep B): an API order.
    let token = app.api_token(&[Scope::OrdersWrite, Scope::DashboardsRead]).await;
    let res = app
        .api(
            "POST",
            "/api/v1/orders",
            &token,
            Some(serde_json::json!({"account": f.b1, "lines": [{"sku": "GLV-1", "quantity": 7}]})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // A cancelled order leaves the figures.
    let cancelled = place_at(&app, now, &f.buyer, &f.a1, &[("GLV-1", 100)]).await;
    orders::cancel_order(db, now, &Actor::web(&f.cs), &cancelled.number, None, "customer changed their mind")
        .await
        .unwrap();

    let v = dashboards::channels(db, now, &Actor::web(&f.admin), &all(), 12).await.unwrap();
    assert_eq!(v.rows.len(), 12);
    let t = totals(&v);
    let portal = t.iter().find(|(c, ..)| c == "portal").unwrap();
    assert_eq!(portal.1, 2);
    let placed_portal = app
        .count("SELECT CAST(SUM(subtotal) AS BIGINT) FROM orders WHERE channel = 'portal' AND status <> 'cancelled'")
        .await;
    assert_eq!(portal.2, Money::from_raw(placed_portal));
    assert!(portal.2 > m("20.00") && portal.2 < m("20.10"), "gloves and gauze: {}", portal.2);
    assert_eq!(t.iter().find(|(c, ..)| c == "rep").map(|x| (x.1, x.2)), Some((1, m("50.00"))));
    assert_eq!(t.iter().find(|(c, ..)| c == "phone").map(|x| (x.1, x.2)), Some((1, m("10.00"))));
    assert_eq!(t.iter().find(|(c, ..)| c == "api").map(|x| (x.1, x.2)), Some((1, m("70.00"))));
    assert_eq!(v.total.orders, 5);
    assert_eq!(v.rows.last().unwrap().orders, 5, "this month is the last row");

    // An amendment moves the revenue in the same transaction.
    let amended = orders::amend_order(
        db,
        now,
        &Actor::web(&f.cs),
        &phone.number,
        &orders::Amendment {
            expected_version: phone.version,
            lines: vec![LineInput::sku("GLV-1", 4)],
            header: OrderHeader::default(),
            reason: "customer called back".into(),
        },
    )
    .await;
    assert!(amended.is_ok(), "{amended:?}");
    let v = dashboards::channels(db, now, &Actor::web(&f.admin), &all(), 24).await.unwrap();
    assert_eq!(v.rows.len(), 24);
    assert_eq!(totals(&v).iter().find(|(c, ..)| c == "phone").map(|x| (x.1, x.2)), Some((1, m("40.00"))));

    // Adoption: Smile Dental placed 2 of its 4 counted orders itself.
    let a = dashboards::adoption(db, now, &Actor::web(&f.manager), &all(), 12).await.unwrap();
    let smile = a.by_account.iter().find(|r| r.id == f.a1).unwrap();
    assert_eq!((smile.adoption.orders, smile.adoption.self_orders), (4, 2));
    assert_eq!(smile.adoption.order_share().percent(), "50.0%");
    let bright = a.by_account.iter().find(|r| r.id == f.b1).unwrap();
    assert_eq!(bright.adoption.order_share().percent(), "0.0%");
    let by_rep_a = a.by_rep.iter().find(|r| r.id == f.rep_a.user_id).unwrap();
    assert_eq!(by_rep_a.adoption.orders, 4);
    assert_eq!(a.total.orders, 5);
    assert_eq!(a.total.self_orders, 2);

    // The rollup equals a rebuild from the orders (what the migration's backfill writes).
    let kept = rollup(&app).await;
    let kept_rhythm = rhythm_rows(&app).await;
    let kept_months = account_month_rows(&app).await;
    assert_eq!(kept_months.len(), 2, "one row per account and month");
    portico::store::dashboards::rebuild(db).await.unwrap();
    assert_eq!(rollup(&app).await, kept);
    assert_eq!(rhythm_rows(&app).await, kept_rhythm);
    assert_eq!(account_month_rows(&app).await, kept_months);

    // Rep A sees their book only; B's account and B's book are 404; buyers 404, finance and the desk 403.
    let mine = dashboards::channels(db, now, &Actor::web(&f.rep_a), &all(), 12).await.unwrap();
    assert_eq!(mine.total.orders, 4);
    assert!(totals(&mine).iter().all(|(c, ..)| c != "api"));
    let scoped = dashboards::adoption(db, now, &Actor::web(&f.rep_a), &all(), 12).await.unwrap();
    assert!(scoped.by_account.iter().all(|r| r.id == f.a1));
    assert!(matches!(
        dashboards::channels(db, now, &Actor::web(&f.rep_a), &account(&f.b1), 12).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        dashboards::adoption(db, now, &Actor::web(&f.rep_a), &rep(&f.rep_b.user_id), 12).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        dashboards::rhythms(db, now, &Actor::web(&f.rep_b), &account(&f.a1)).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        dashboards::channels(db, now, &Actor::web(&f.buyer), &all(), 12).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        dashboards::channels(db, now, &Actor::web(&f.finance), &all(), 12).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        dashboards::channels(db, now, &Actor::web(&f.cs), &all(), 12).await,
        Err(ServiceError::Forbidden)
    ));
    // The manager narrows to rep B's book, or one account.
    let b = dashboards::channels(db, now, &Actor::web(&f.manager), &rep(&f.rep_b.user_id), 12).await.unwrap();
    assert_eq!((b.total.orders, b.total.revenue), (1, m("70.00")));
    let one = dashboards::channels(db, now, &Actor::web(&f.admin), &account(&f.a1), 12).await.unwrap();
    assert_eq!(one.total.orders, 4);

    // Pages: the adoption dashboard with its chart and tables; a rep's view of B's account is 404,
    // a buyer's 404, finance 403.
    let mut admin = app.signed_in("ada.admin@seller.test").await;
    let page = admin.get("/dashboards/adoption").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg role=\"img\""), "an inline SVG chart");
    assert!(!page.body.contains(" style=\""), "no inline style (CSP)");
    assert!(page.body.contains("id=\"table-adoption-accounts\"") && page.body.contains("Smile Dental"));
    assert!(page.body.contains("href=\"/dashboards\""), "Dashboards in the menu");
    for path in ["/dashboards", "/dashboards/reorders", "/dashboards/carts", "/dashboards/products?months=24"] {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
    }
    let mut rita = app.signed_in("rita.rep@seller.test").await;
    let page = rita.get("/dashboards/adoption").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Smile Dental") && !page.body.contains("Bright Clinic"));
    assert_eq!(rita.get(&format!("/dashboards/adoption?account={}", f.b1)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        rita.get(&format!("/dashboards/channels.csv?rep={}", f.rep_b.user_id)).await.status,
        StatusCode::NOT_FOUND
    );
    let buyer_email = format!("bea.buyer.{}@buyer.test", &f.a1[f.a1.len() - 6..]);
    let mut bea = app.signed_in(&buyer_email).await;
    assert_eq!(bea.get("/dashboards/adoption").await.status, StatusCode::NOT_FOUND);
    assert!(!bea.get("/portal").await.body.contains("href=\"/dashboards\""));
    let mut finn = app.signed_in("finn.finance@seller.test").await;
    assert_eq!(finn.get("/dashboards").await.status, StatusCode::FORBIDDEN);

    // CSV: the table behind the chart, exact money.
    let csv = admin.get("/dashboards/channels.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    let this_month = portico::domain::dashboards::month_of(now);
    assert!(csv.body.starts_with("month,channel,orders,revenue\n"), "{}", csv.body);
    assert!(csv.body.contains(&format!("{this_month},rep,1,50.00\n")), "{}", csv.body);
    assert!(csv.body.contains(&format!("{this_month},phone,1,40.00\n")), "{}", csv.body);
    assert!(csv.body.contains(&format!("{this_month},api,1,70.00\n")), "{}", csv.body);
    let csv = rita.get("/dashboards/adoption.csv").await;
    assert!(csv.body.contains("Smile Dental") && !csv.body.contains("Bright Clinic"), "{}", csv.body);

    // The API: the whole seller's figures with dashboards:read; another scope is 403.
    let res = app.api("GET", "/api/v1/dashboards/adoption?months=24", &token, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["total"]["orders"], 5);
    assert_eq!(v["total"]["self_service_orders"], 2);
    assert_eq!(v["total"]["order_share"], "40.0");
    assert_eq!(v["months"], 24);
    let res = app.api("GET", &format!("/api/v1/dashboards/channels?account={}", f.a1), &token, None).await;
    let v: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["total"]["orders"], 4, "{v}");
    assert_eq!(v["scope"]["kind"], "account");
    let res = app.api("GET", "/api/v1/dashboards/channels?account=nope", &token, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.api("GET", "/api/v1/dashboards/channels?months=6", &token, None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.api_token(&[Scope::OrdersRead]).await;
    assert_eq!(app.api("GET", "/api/v1/dashboards/reorders", &other, None).await.status, StatusCode::FORBIDDEN);
    for path in ["/api/v1/dashboards/reorders", "/api/v1/dashboards/carts", "/api/v1/dashboards/products"] {
        assert_eq!(app.api("GET", path, &token, None).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn reorder_rhythm_flags_accounts_that_stopped_and_carts_left_behind() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let db = app.db();
    // Smile Dental ordered weekly, then went quiet five weeks ago; Bright Clinic orders every 30 days
    // and last ordered 10 days ago.
    for weeks in [8, 7, 6, 5] {
        place_at(&app, now - weeks * 7 * DAY, &f.buyer, &f.a1, &[("GLV-1", 1)]).await;
    }
    for days in [70, 40, 10] {
        place_at(&app, now - days * DAY, &f.rep_b, &f.b1, &[("GLV-1", 2)]).await;
    }
    let (_, lines) = dashboards::rhythms(db, now, &Actor::web(&f.admin), &all()).await.unwrap();
    assert_eq!(lines.len(), 2);
    let smile = &lines[0];
    assert_eq!(smile.account_id, f.a1, "the worst first");
    assert_eq!((smile.rhythm.orders, smile.usual_days, smile.since_days), (4, Some(7), 35));
    assert!(smile.stopped);
    assert_eq!(smile.overdue(), "5.0×");
    let bright = &lines[1];
    assert_eq!((bright.usual_days, bright.since_days, bright.stopped), (Some(30), 10, false));
    // The rep sees their own account only.
    let (_, mine) = dashboards::rhythms(db, now, &Actor::web(&f.rep_b), &all()).await.unwrap();
    assert_eq!(mine.iter().map(|l| l.account_id.as_str()).collect::<Vec<_>>(), [f.b1.as_str()]);

    // Carts: the buyer's cart from two days ago is abandoned (valued at their prices); the rep's
    // cart for Bright Clinic from an hour ago is not.
    carts::add_to_cart(
        db,
        now - 2 * DAY,
        &Actor::web(&f.buyer),
        &f.a1,
        &[LineInput::sku("GLV-1", 3), LineInput::sku("GZ-1", 8)],
    )
    .await
    .unwrap();
    carts::add_to_cart(db, now - 3600, &Actor::web(&f.rep_b), &f.b1, &[LineInput::sku("GLV-1", 1)]).await.unwrap();
    let (_, carts) = dashboards::abandoned_carts(db, now, &Actor::web(&f.admin), &all()).await.unwrap();
    assert_eq!(carts.len(), 1);
    assert_eq!(carts[0].account_id, f.a1);
    assert_eq!(carts[0].lines, 2);
    assert_eq!(carts[0].value, Some(m("30.10")), "3 × 10.00 + 8 × 0.0125 = 30.10");
    assert_eq!(carts[0].age_days, 2);
    let (_, none) = dashboards::abandoned_carts(db, now, &Actor::web(&f.rep_b), &all()).await.unwrap();
    assert!(none.is_empty(), "rep B sees no cart of rep A's book");
    let mut admin = app.signed_in("ada.admin@seller.test").await;
    let page = admin.get("/dashboards/carts").await;
    assert!(page.body.contains(&format!("href=\"/accounts/{}\"", f.a1)), "a link to act on the cart");
    let csv = admin.get("/dashboards/reorders.csv").await;
    let first = csv.body.lines().nth(1).unwrap();
    assert!(first.contains("Smile Dental") && first.ends_with(",7,5.0,yes"), "{}", csv.body);

    // Who buys what: counted by the worker's step; gloves lead; per account.
    let waiting = dashboards::products(db, now, &Actor::web(&f.manager), &all(), 12).await.unwrap();
    assert!(waiting.uncounted > 0 && waiting.top.is_empty(), "not counted before the worker's step");
    assert!(admin.get("/dashboards/products").await.body.contains("id=\"products-uncounted\""));
    assert!(dashboards::count_products_due_by(db, now, i64::MAX, 1_000).await.unwrap() > 0);
    assert_eq!(dashboards::count_products_due_by(db, now, i64::MAX, 1_000).await.unwrap(), 0, "nothing left to count");
    let p = dashboards::products(db, now, &Actor::web(&f.manager), &all(), 12).await.unwrap();
    assert_eq!(p.uncounted, 0);
    assert_eq!(p.top[0].sku, "GLV-1");
    assert_eq!((p.top[0].quantity, p.top[0].accounts, p.top[0].revenue), (10, 2, m("100.00")));
    let one = dashboards::products(db, now, &Actor::web(&f.rep_a), &account(&f.a1), 12).await.unwrap();
    assert_eq!((one.top[0].quantity, one.top[0].accounts), (4, 1));
    let csv = admin.get(&format!("/dashboards/products.csv?account={}", f.a1)).await;
    assert!(csv.body.contains(",GLV-1,Nitrile Gloves,4,40.00,4,1"), "{}", csv.body);
}

/// A placement adds its time to the account's rhythm in one statement (prepend and cut, no read of
/// the account's orders); an older order or a cancellation re-reads. After any mix, the rows equal
/// a rebuild from the orders, character for character, and keep the latest 13 times.
#[tokio::test]
async fn the_rhythm_keeps_the_latest_orders_whatever_the_order_of_changes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let db = app.db();
    let mut newest = None;
    for days in (1..=16).rev() {
        newest = Some(place_at(&app, now - days * DAY, &f.buyer, &f.a1, &[("GLV-1", 1)]).await);
    }
    let rows = rhythm_rows(&app).await;
    let recent = portico::domain::dashboards::parse_recent(&rows[0].3);
    assert_eq!(rows[0].1, 16, "every order counted");
    assert_eq!(recent.len(), 13, "the latest 13 kept");
    assert_eq!((recent[0], recent[12]), (now - DAY, now - 13 * DAY), "newest first");
    // An order older than the account's last one (a back-dated phone order) and a cancellation of
    // the newest: both re-read the orders.
    place_at(&app, now - 30 * DAY, &f.cs, &f.a1, &[("GLV-1", 1)]).await;
    place_at(&app, now - 2 * DAY, &f.cs, &f.a1, &[("GLV-1", 1)]).await;
    orders::cancel_order(db, now, &Actor::web(&f.cs), &newest.unwrap().number, None, "duplicate").await.unwrap();
    place_at(&app, now, &f.rep_b, &f.b1, &[("GLV-1", 1)]).await;
    let kept = rhythm_rows(&app).await;
    portico::store::dashboards::rebuild(db).await.unwrap();
    assert_eq!(rhythm_rows(&app).await, kept, "what the writer kept is what a rebuild computes");
    let a1 = kept.iter().find(|r| r.0 == f.a1).unwrap();
    assert_eq!((a1.1, a1.2), (17, now - 2 * DAY));
}

/// Who buys what, as the worker counts it: (account, month, product, quantity, revenue, orders),
/// (month, product, quantity, revenue, orders, buyers) and what it counted of each order (order,
/// product, quantity, revenue), sorted.
type ProductRollup = (
    Vec<(String, String, String, i64, i64, i64)>,
    Vec<(String, String, i64, i64, i64, i64)>,
    Vec<(String, String, i64, i64)>,
);

async fn product_rollup(app: &TestApp) -> ProductRollup {
    let accounts = portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, String, i64, i64, i64)>(
        "SELECT account_id, month, product_id, quantity, revenue, orders FROM account_product_months
          ORDER BY account_id, month, product_id"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    let months = portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, i64, i64, i64, i64)>(
        "SELECT month, product_id, quantity, revenue, orders, buyers FROM product_months ORDER BY month, product_id"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    // One row per order, its products packed (as the worker writes them, or the rebuild's SQL).
    let packed = portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String)>(
        "SELECT order_id, products FROM order_product_counts ORDER BY order_id"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    let mut counts = Vec::new();
    for (order_id, products) in packed {
        let rows = portico::domain::dashboards::unpack_counts(&order_id, &products).unwrap();
        assert!(!rows.is_empty(), "order {order_id}: a row is kept only of an order that counts");
        counts.extend(rows.into_iter().map(|c| (c.order_id, c.product_id, c.quantity, c.revenue)));
    }
    (accounts, months, counts)
}

/// Counts every marked order, in several worker steps at once, each taking a few marks (on
/// PostgreSQL they race for the accounts).
async fn count_all(db: &portico::store::Db, now: i64) {
    loop {
        let (a, b, c) = tokio::join!(
            dashboards::count_products_due_by(db, now, i64::MAX, 2),
            dashboards::count_products_due_by(db, now, i64::MAX, 2),
            dashboards::count_products_due_by(db, now, i64::MAX, 2)
        );
        if a.unwrap() + b.unwrap() + c.unwrap() == 0 {
            break;
        }
    }
}

/// The windows the worker keeps: (months, product, quantity, revenue, orders, buyers), sorted.
async fn windows(app: &TestApp) -> Vec<(i64, String, i64, i64, i64, i64)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (i64, String, i64, i64, i64, i64)>(
        "SELECT months, product_id, quantity, revenue, orders, buyers FROM product_windows ORDER BY months, product_id"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

/// The same summed from `product_months` for the windows ending with the month of `now`: their
/// closed months (the current month is read with them from `product_months`).
async fn windows_summed(app: &TestApp, now: i64) -> Vec<(i64, String, i64, i64, i64, i64)> {
    let month = portico::domain::dashboards::month_of(now);
    let mut out = Vec::new();
    for n in portico::domain::dashboards::WINDOWS {
        let first = portico::domain::dashboards::window_start(&month, n);
        let sql = format!(
            "SELECT CAST({n} AS BIGINT), product_id, CAST(SUM(quantity) AS BIGINT), CAST(SUM(revenue) AS BIGINT),
                    CAST(SUM(orders) AS BIGINT), CAST(SUM(buyers) AS BIGINT)
               FROM product_months WHERE month >= '{first}' AND month < '{month}'
              GROUP BY product_id HAVING SUM(orders) > 0 ORDER BY product_id"
        );
        let rows = portico::on_db!(app.db(), |c| sqlx::query_as::<_, (i64, String, i64, i64, i64, i64)>(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .fetch_all(c)
        .await)
        .unwrap();
        out.extend(rows);
    }
    out
}

/// Placements over several months, a back-dated order, a cancellation and an amendment that swaps
/// a product — each of the last two both before and after the worker counted the order: once the
/// worker's steps have counted them — several at once, racing for the marks (on PostgreSQL, for
/// the accounts) — the rollup equals a rebuild from the orders, row for row, and the window's
/// accounts per product are the distinct accounts that bought it.
#[tokio::test]
async fn who_buys_what_recounts_equal_a_rebuild_whatever_changed() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let now = app.now();
    let db = app.db();
    let amend = |number: String, version: i64, lines: Vec<LineInput>| {
        let cs = f.cs.clone();
        async move {
            let amendment = orders::Amendment {
                expected_version: version,
                lines,
                header: OrderHeader::default(),
                reason: "gloves, not gauze".into(),
            };
            let res = orders::amend_order(db, now, &Actor::web(&cs), &number, &amendment).await;
            assert!(res.is_ok(), "{res:?}");
        }
    };
    for (i, days) in [400, 200, 95, 60, 31, 3, 1].into_iter().enumerate() {
        place_at(&app, now - days * DAY, &f.buyer, &f.a1, &[("GLV-1", 1 + i as i64), ("GZ-1", 10)]).await;
        place_at(&app, now - days * DAY, &f.rep_b, &f.b1, &[("GLV-1", 2)]).await;
    }
    // Changed before the worker counted them.
    let back_dated = place_at(&app, now - 500 * DAY, &f.cs, &f.b1, &[("GZ-1", 40)]).await;
    let amended = place_at(&app, now - 2 * DAY, &f.cs, &f.a1, &[("GZ-1", 5)]).await;
    orders::cancel_order(db, now, &Actor::web(&f.cs), &back_dated.number, None, "duplicate").await.unwrap();
    amend(amended.number.clone(), amended.version, vec![LineInput::sku("GLV-1", 3)]).await;
    // Changed after: a cancellation, and an amendment that adds a product and drops another.
    let late_cancel = place_at(&app, now - 95 * DAY, &f.cs, &f.b1, &[("GZ-1", 9), ("GLV-1", 1)]).await;
    let late_amend = place_at(&app, now - 31 * DAY, &f.cs, &f.b1, &[("GZ-1", 4)]).await;
    count_all(db, now).await;
    orders::cancel_order(db, now, &Actor::web(&f.cs), &late_cancel.number, None, "duplicate").await.unwrap();
    amend(late_amend.number.clone(), late_amend.version, vec![LineInput::sku("GLV-1", 6)]).await;
    let again = orders::get_order(db, &Actor::web(&f.cs), &late_amend.number).await.unwrap();
    amend(late_amend.number.clone(), again.version, vec![LineInput::sku("GLV-1", 6), LineInput::sku("GZ-1", 1)]).await;
    let again = orders::get_order(db, &Actor::web(&f.cs), &late_amend.number).await.unwrap();
    amend(late_amend.number.clone(), again.version, vec![LineInput::sku("GLV-1", 6)]).await;
    count_all(db, now).await;
    let kept = product_rollup(&app).await;
    assert!(!kept.0.is_empty() && !kept.1.is_empty());
    // The count commits before the marks are removed (on SQLite they are in two files): a worker
    // stopped between the two leaves every order marked, and counting them all again changes
    // nothing.
    common::write(db, |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO product_rollup_orders (order_id, account_id, month, seq, due_at)
                 SELECT id, account_id, '2000-01', 1, 0 FROM orders",
                Vec::new(),
            )
            .await
        })
    })
    .await;
    assert!(app.count("SELECT COUNT(*) FROM product_rollup_orders").await > 10);
    count_all(db, now).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM product_rollup_orders").await, 0);
    assert_eq!(product_rollup(&app).await, kept, "counted again, nothing moved");
    // The windows kept per product are the sums of their months, this month and after it turned.
    assert_eq!(windows(&app).await, windows_summed(&app, now).await);
    let month = portico::domain::dashboards::month_of(now);
    assert_eq!(portico::store::dashboards::windows_month(db).await.unwrap(), month, "the windows are kept");
    let mut from_windows = Vec::new();
    for n in portico::domain::dashboards::WINDOWS {
        from_windows.push(dashboards::products(db, now, &Actor::web(&f.admin), &all(), n).await.unwrap().top);
        // The top few only: the window's own top plus this month's products are the candidates.
        let first = portico::domain::dashboards::last_months(now, n).remove(0);
        for limit in 1..=2 {
            let sales = |window| {
                portico::store::dashboards::product_sales(
                    db,
                    portico::store::dashboards::Scope::All,
                    &first,
                    window,
                    limit,
                )
            };
            let summed = sales(None).await.unwrap();
            assert_eq!(summed.len() as i64, limit);
            assert_eq!(sales(Some((n, month.as_str()))).await.unwrap(), summed, "top {limit} of {n} months");
        }
    }
    let kept = product_rollup(&app).await;
    portico::store::dashboards::rebuild(db).await.unwrap();
    assert_eq!(product_rollup(&app).await, kept, "what the worker counted is what a rebuild computes");
    // The windows with the current month added say what the months say (the rebuild cleared the
    // windows, so the dashboard now sums product_months).
    assert_eq!(portico::store::dashboards::windows_month(db).await.unwrap(), "");
    for (n, top) in portico::domain::dashboards::WINDOWS.into_iter().zip(from_windows) {
        let months = dashboards::products(db, now, &Actor::web(&f.admin), &all(), n).await.unwrap().top;
        assert!(!months.is_empty());
        assert_eq!(top, months, "the {n}-month window");
    }

    // The last 12 months: gloves from both accounts, gauze from Smile Dental only (Bright
    // Clinic's gauze was cancelled; the amended order's gauze became gloves).
    let p = dashboards::products(db, now, &Actor::web(&f.admin), &all(), 12).await.unwrap();
    let glv = p.top.iter().find(|l| l.sku == "GLV-1").unwrap();
    let gz = p.top.iter().find(|l| l.sku == "GZ-1").unwrap();
    // Smile Dental's gloves from 200 days ago on: 2..=7 and the amended 3; Bright Clinic's 2 × 6
    // and the amended 6.
    assert_eq!((glv.quantity, glv.orders, glv.accounts), ((2..=7).sum::<i64>() + 3 + 12 + 6, 6 + 1 + 6 + 1, 2));
    assert_eq!((gz.quantity, gz.orders, gz.accounts), (60, 6, 1));
    let whole = app
        .count_dyn(&format!(
            "SELECT CAST(SUM(l.quantity) AS BIGINT) FROM orders o JOIN order_lines l ON l.order_id = o.id
              WHERE o.status <> 'cancelled' AND o.placed_at >= {} AND l.sku = 'GLV-1'",
            portico::domain::dashboards::month_bounds(&portico::domain::dashboards::last_months(now, 12)[0]).unwrap().0
        ))
        .await;
    assert_eq!(glv.quantity, whole, "the rollup agrees with the order lines");
    // A rep's book: their account only, one buyer.
    let mine = dashboards::products(db, now, &Actor::web(&f.rep_b), &all(), 24).await.unwrap();
    let glv_b = mine.top.iter().find(|l| l.sku == "GLV-1").unwrap();
    assert_eq!((glv_b.quantity, glv_b.accounts), (20, 1));
    assert!(mine.top.iter().all(|l| l.sku != "GZ-1"), "the cancelled gauze is gone");

    // The month turns: the worker sums the windows anew (the rebuild above cleared them).
    let later = now + 40 * DAY;
    place_at(&app, later, &f.buyer, &f.a1, &[("GZ-1", 1)]).await;
    // The worker's step counts an order a few seconds after the change, not at once (it sums the
    // windows anew at once).
    assert_eq!(dashboards::count_products(db, later, 100).await.unwrap(), 0, "not due yet");
    let due = later + portico::store::dashboards::RECOUNT_DELAY;
    assert_eq!(dashboards::count_products(db, due, 100).await.unwrap(), 0, "one due: waits for more");
    assert_eq!(dashboards::count_products(db, due + dashboards::COUNT_WAIT, 100).await.unwrap(), 1);
    assert_eq!(windows(&app).await, windows_summed(&app, later).await, "summed anew when the month turned");
    let at_turn = dashboards::products(db, later, &Actor::web(&f.admin), &all(), 24).await.unwrap();
    assert_eq!(at_turn.top.iter().find(|l| l.sku == "GZ-1").map(|l| (l.quantity, l.accounts)), Some((71, 1)));

    // Within the month, the worker's step counts once a transaction's worth of orders is due, or
    // once one has been due for COUNT_WAIT seconds: under load a pass takes a full transaction.
    let (delay, wait) = (portico::store::dashboards::RECOUNT_DELAY, dashboards::COUNT_WAIT);
    let t = later + 60;
    for k in 0..3 {
        place_at(&app, t + k, &f.buyer, &f.a1, &[("GLV-1", 1)]).await;
    }
    let all_due = t + 2 + delay;
    assert_eq!(dashboards::count_products(db, all_due, 5).await.unwrap(), 0, "three due: fewer than five");
    assert_eq!(app.count("SELECT COUNT(*) FROM product_rollup_orders").await, 3, "still marked");
    assert_eq!(dashboards::count_products(db, all_due, 3).await.unwrap(), 3, "a transaction's worth");
    let t = t + 100;
    for k in 0..2 {
        place_at(&app, t + k, &f.buyer, &f.a1, &[("GZ-1", 2)]).await;
    }
    let first_due = t + delay;
    assert_eq!(dashboards::count_products(db, first_due + wait - 1, 5).await.unwrap(), 0, "waiting for more");
    assert_eq!(dashboards::count_products(db, first_due + wait, 5).await.unwrap(), 2, "the first waited long enough");
    assert_eq!(app.count("SELECT COUNT(*) FROM product_rollup_orders").await, 0);
    let counted = product_rollup(&app).await;
    portico::store::dashboards::rebuild(db).await.unwrap();
    assert_eq!(product_rollup(&app).await, counted, "counted in passes of any size: what a rebuild sums");
}

/// On SQLite who buys what is in the rollup file, whose schema the code keeps: a rollup file that
/// is empty, of another version or another database's is created anew when the database is
/// migrated, and filled from the orders — the same figures as counted order by order, and no
/// order left marked.
#[tokio::test]
async fn a_rollup_file_that_is_not_this_databases_is_filled_again_from_the_orders() {
    let app = TestApp::new().await;
    if app.db().backend() != "sqlite" {
        return;
    }
    let f = fixture(&app).await;
    let (now, db) = (app.now(), app.db());
    for (i, days) in [200, 31, 1].into_iter().enumerate() {
        place_at(&app, now - days * DAY, &f.buyer, &f.a1, &[("GLV-1", 1 + i as i64), ("GZ-1", 10)]).await;
        place_at(&app, now - days * DAY, &f.rep_b, &f.b1, &[("GLV-1", 2)]).await;
    }
    count_all(db, now).await;
    let kept = product_rollup(&app).await;
    assert!(!kept.0.is_empty() && !kept.2.is_empty());
    // Another database's rollup: its origin differs.
    db.write_rollup((), |tx, _| {
        Box::pin(async move {
            tx.execute("UPDATE rollup_state SET origin = 'another database'", Vec::new()).await?;
            tx.execute("DELETE FROM order_product_counts", Vec::new()).await
        })
    })
    .await
    .unwrap();
    // An order placed meanwhile is marked; filling counts it too.
    place_at(&app, now, &f.buyer, &f.a1, &[("GZ-1", 3)]).await;
    db.migrate().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM product_rollup_orders").await, 0, "filled: nothing left marked");
    let filled = product_rollup(&app).await;
    assert_ne!(filled, kept, "the new order is in");
    // A rollup file emptied (as if deleted): created and filled again, to the same figures.
    db.write_rollup((), |tx, _| Box::pin(async move { tx.execute("DROP TABLE rollup_state", Vec::new()).await }))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    assert_eq!(product_rollup(&app).await, filled);
    // And order by order from here on.
    place_at(&app, now, &f.rep_b, &f.b1, &[("GZ-1", 4)]).await;
    count_all(db, now).await;
    let counted = product_rollup(&app).await;
    // A unit of the rollup's writer runs alone in its transaction, without a savepoint: one that
    // fails after writing takes back everything it wrote, and the writer goes on.
    let failed = db
        .write_rollup((), |tx, _| {
            Box::pin(async move {
                tx.execute("DELETE FROM account_product_months", Vec::new()).await?;
                tx.execute("DELETE FROM order_product_counts", Vec::new()).await?;
                Err::<u64, _>(sqlx::Error::Protocol("refused on purpose".into()))
            })
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(product_rollup(&app).await, counted, "a failed unit's writes are taken back");
    portico::store::dashboards::rebuild(db).await.unwrap();
    assert_eq!(product_rollup(&app).await, counted, "what the worker counted is what a rebuild computes");
}
