//! Work queues: the desk lists exactly the orders in progress that need someone, each with its
//! reasons, oldest first, filtered by reason and paged by key; a rep's home lists only their own
//! book's escalations, approvals and holds (another rep's never appear; their ids answer 404);
//! the staff order list sorts by date, total, account and status and pages by key in each.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::domain::catalog::BackorderPolicy;
use portico::domain::queues::Reason;
use portico::service::orders::{
    self, Amendment, LineInput, OrderCursor, OrderFilter, OrderHeader, OrderSort, PlaceOrder, Placement, SortBy,
};
use portico::service::queues;
use portico::service::{Actor, ServiceError};
use portico::store::products::ProductInput;
use portico::store::users::UserRow;
use std::collections::BTreeMap;

const DAY: i64 = 86_400;

struct World {
    rita: UserRow,
    sam: UserRow,
    desk: UserRow,
    admin: UserRow,
    /// Rita's accounts: Alpha (active) and Cedar (on credit hold); Sam's: Birch.
    alpha: String,
    birch: String,
    cedar: String,
    /// Order numbers by what they are.
    n: BTreeMap<&'static str, String>,
}

async fn place(app: &TestApp, at: i64, user: &UserRow, account: &str, lines: &[(&str, i64)]) -> orders::OrderRow {
    let p = user.principal().unwrap();
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), at, &Actor::web(&p), &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

/// Sets a status that no service writes yet (routing's `escalated`, approvals' `pending_approval`).
async fn force_status(app: &TestApp, number: &str, status: &'static str) {
    let number = number.to_string();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE orders SET status = $1 WHERE number = $2", portico::args![status, number]).await?;
            Ok(())
        })
    })
    .await;
}

async fn world(app: &TestApp) -> World {
    let now = app.now();
    let rita = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let sam = app.staff("Sam Rep", &[StaffRole::SalesRep]).await;
    let desk = app.staff("Dora Desk", &[StaffRole::CustomerService]).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let alpha = app.account("Alpha Clinic", Some(&rita.id)).await;
    let birch = app.account("Birch Labs", Some(&sam.id)).await;
    let cedar = app.account("Cedar Care", Some(&rita.id)).await;
    common::sell(
        app.db(),
        now,
        vec![
            (ProductInput::new("GLV-1", "Gloves"), "10.00", 1000),
            (ProductInput { backorder: BackorderPolicy::Allow, ..ProductInput::new("BO-1", "Gowns") }, "4.00", 3),
        ],
    )
    .await;
    let c = cedar.clone();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE accounts SET status = 'on_hold' WHERE id = $1", portico::args![c]).await?;
            Ok(())
        })
    })
    .await;
    let buyer_a = app.buyer(&alpha, "Ann Buyer", BuyerRole::Buyer).await;
    let buyer_b = app.buyer(&birch, "Ben Buyer", BuyerRole::Buyer).await;
    let buyer_c = app.buyer(&cedar, "Cat Buyer", BuyerRole::Buyer).await;
    let mut n = BTreeMap::new();
    // Each order placed at its own time (oldest first in the queue).
    n.insert("calm", place(app, now - 20 * DAY, &buyer_a, &alpha, &[("GLV-1", 1)]).await.number);
    let amended = place(app, now - 15 * DAY, &buyer_b, &birch, &[("GLV-1", 2)]).await;
    n.insert("amended", amended.number.clone());
    let escalated = place(app, now - 10 * DAY, &buyer_b, &birch, &[("GLV-1", 3)]).await;
    force_status(app, &escalated.number, "escalated").await;
    n.insert("escalated", escalated.number);
    let pending_old = place(app, now - 5 * DAY, &buyer_a, &alpha, &[("GLV-1", 4)]).await;
    force_status(app, &pending_old.number, "pending_approval").await;
    n.insert("pending_old", pending_old.number);
    let held = place(app, now - 4 * DAY, &buyer_c, &cedar, &[("GLV-1", 5), ("BO-1", 4)]).await;
    assert_eq!(held.status, "on_hold");
    n.insert("held", held.number);
    let backordered = place(app, now - 3 * DAY, &buyer_a, &alpha, &[("BO-1", 5)]).await;
    assert!(backordered.backordered);
    n.insert("backordered", backordered.number);
    let cancelled = place(app, now - 2 * DAY, &buyer_a, &alpha, &[("BO-1", 4)]).await;
    assert!(cancelled.backordered);
    n.insert("cancelled", cancelled.number.clone());
    let pending_new = place(app, now - DAY / 2, &buyer_a, &alpha, &[("GLV-1", 6)]).await;
    force_status(app, &pending_new.number, "pending_approval").await;
    n.insert("pending_new", pending_new.number);
    // The desk amends one order (an audited revision) and cancels another (no longer anyone's).
    let dp = desk.principal().unwrap();
    let amendment = Amendment {
        expected_version: 1,
        lines: vec![LineInput::sku("GLV-1", 7)],
        header: OrderHeader::default(),
        reason: "Customer called".into(),
    };
    orders::amend_order(app.db(), now - DAY, &Actor::web(&dp), &amended.number, &amendment).await.unwrap();
    orders::cancel_order(app.db(), now, &Actor::web(&dp), &cancelled.number, None, "duplicate").await.unwrap();
    World { rita, sam, desk, admin, alpha, birch, cedar, n }
}

/// The orders of a page, in page order, as they appear in the HTML (`data-order` attributes).
fn numbers_on(body: &str) -> Vec<String> {
    body.split("data-order=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

/// The `data-reasons` of an order's row or card.
fn reasons_on(body: &str, number: &str) -> String {
    let row = body.split(&format!("data-order=\"{number}\"")).nth(1).unwrap_or_else(|| panic!("{number} not shown"));
    row.split("data-reasons=\"").nth(1).unwrap().split('"').next().unwrap().trim().to_string()
}

#[tokio::test]
async fn the_desk_lists_exactly_the_orders_that_need_someone_with_their_reasons() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut desk = app.signed_in(&w.desk.email).await;
    let page = desk.get("/desk").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let shown = numbers_on(&page.body);
    let expect: Vec<String> =
        ["amended", "escalated", "pending_old", "held", "backordered"].iter().map(|k| w.n[k].clone()).collect();
    assert_eq!(shown, expect, "exactly these, oldest first");
    assert_eq!(reasons_on(&page.body, &w.n["amended"]), "amended");
    assert_eq!(reasons_on(&page.body, &w.n["escalated"]), "escalated");
    assert_eq!(reasons_on(&page.body, &w.n["pending_old"]), "pending_approval");
    assert_eq!(reasons_on(&page.body, &w.n["held"]), "on_hold backordered");
    assert_eq!(reasons_on(&page.body, &w.n["backordered"]), "backordered");
    // Age, account and owning rep are on the row.
    let row = page.body.split(&format!("data-order=\"{}\"", w.n["escalated"])).nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("10 d") && row.contains("Birch Labs") && row.contains("Sam Rep"), "{row}");
    assert!(row.contains(&format!("/accounts/{}/act", w.birch)), "act for the account from the row");
    // The counts per reason (an order with two reasons counts under both).
    assert!(page.body.contains("All <span class=\"chip-count\">5</span>"), "{}", page.body);
    assert!(page.body.contains("Backordered <span class=\"chip-count\">2</span>"));

    // Filtered by one reason.
    let only = desk.get("/desk?reason=backordered").await;
    assert_eq!(numbers_on(&only.body), vec![w.n["held"].clone(), w.n["backordered"].clone()]);
    let only = desk.get("/desk?reason=pending_approval").await;
    assert_eq!(numbers_on(&only.body), vec![w.n["pending_old"].clone()], "a fresh approval is not overdue");
    let bad = desk.get("/desk?reason=bogus").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("reason"));

    // The service says the same, with the reasons as values.
    let p = w.desk.principal().unwrap();
    let q = queues::desk_queue(app.db(), app.now(), &Actor::web(&p), None, None, 50).await.unwrap();
    let got: Vec<(String, Vec<Reason>)> = q.items.iter().map(|i| (i.row.number.clone(), i.reasons.clone())).collect();
    assert_eq!(got[3], (w.n["held"].clone(), vec![Reason::OnHold, Reason::Backordered]));
    assert_eq!(q.total, 5);
    assert_eq!(q.items[0].row.owner_rep_name.as_deref(), Some("Sam Rep"));

    // An admin sees the desk too; a rep and finance do not.
    let mut admin = app.signed_in(&w.admin.email).await;
    assert_eq!(numbers_on(&admin.get("/desk").await.body), expect);
    let mut rep = app.signed_in(&w.rita.email).await;
    assert_eq!(rep.get("/desk").await.status, StatusCode::FORBIDDEN);
    let rp = w.rita.principal().unwrap();
    assert!(matches!(
        queues::desk_queue(app.db(), app.now(), &Actor::web(&rp), None, None, 50).await,
        Err(ServiceError::Forbidden)
    ));
}

#[tokio::test]
async fn the_queue_pages_by_key_and_leaves_orders_that_no_longer_need_anyone() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let p = w.desk.principal().unwrap();
    let actor = Actor::web(&p);
    let now = app.now();
    let all = queues::desk_queue(app.db(), now, &actor, None, None, 50).await.unwrap();
    assert!(all.next.is_none());
    let mut paged = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = queues::desk_queue(app.db(), now, &actor, None, after.as_ref().map(|(a, i)| (*a, i.as_str())), 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items.iter().map(|i| i.row.number.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let whole: Vec<String> = all.items.iter().map(|i| i.row.number.clone()).collect();
    assert_eq!(paged, whole, "pages by key cover the queue once, in order");

    // The web page's next link carries the key, never an offset.
    let mut desk = app.signed_in(&w.desk.email).await;
    for i in 0..22 {
        let buyer = app.buyer(&w.alpha, &format!("Extra {i}"), BuyerRole::Buyer).await;
        place(&app, now - 2 * DAY - i, &buyer, &w.alpha, &[("BO-1", 1)]).await;
    }
    let first = desk.get("/desk").await;
    let shown = numbers_on(&first.body);
    assert_eq!(shown.len(), 25);
    let next = first.body.split("id=\"desk-next\"").next().unwrap().rsplit("href=\"/desk?").next().unwrap();
    let next = next.split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&");
    assert!(next.contains("after_at=") && next.contains("after_order=") && !next.contains("offset"), "{next}");
    let second = desk.get(&format!("/desk?{next}")).await;
    let rest = numbers_on(&second.body);
    assert_eq!(rest.len(), 27 - 25);
    assert!(rest.iter().all(|n| !shown.contains(n)));
    assert!(!second.body.contains("id=\"desk-next\""));

    // Once the backorder is cancelled and the escalation confirmed, they leave the queue.
    let ap = w.admin.principal().unwrap();
    orders::cancel_order(app.db(), now, &Actor::web(&ap), &w.n["backordered"], None, "customer").await.unwrap();
    force_status(&app, &w.n["escalated"], "confirmed").await;
    let after = queues::desk_queue(app.db(), now, &actor, None, None, 50).await.unwrap();
    let left: Vec<&str> = after.items.iter().map(|i| i.row.number.as_str()).collect();
    assert!(!left.contains(&w.n["backordered"].as_str()) && !left.contains(&w.n["escalated"].as_str()));
    assert!(left.contains(&w.n["amended"].as_str()), "a confirmed amended order stays for the week");
    // A week after the amendment it is no longer news.
    let later = queues::desk_queue(app.db(), now + 7 * DAY, &actor, Some(Reason::Amended), None, 50).await.unwrap();
    assert!(later.items.is_empty());
}

#[tokio::test]
async fn a_rep_sees_only_their_books_queue_and_reorders_in_one_tap() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut rita = app.signed_in(&w.rita.email).await;
    let home = rita.get("/rep").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let queue = home.body.split("id=\"rep-quotes\"").next().unwrap();
    // Rita's book: Alpha's approvals (fresh ones too: they wait on her customer) and Cedar's hold.
    assert_eq!(numbers_on(queue), vec![w.n["pending_old"].clone(), w.n["held"].clone(), w.n["pending_new"].clone()]);
    assert_eq!(reasons_on(queue, &w.n["held"]), "on_hold");
    for other in ["escalated", "amended"] {
        assert!(!home.body.contains(&w.n[other]), "{other}: Sam's account's order never appears");
    }
    assert!(!home.body.contains("Birch Labs"));
    // Quotes have their place, with nothing made up in it.
    assert!(home.body.contains("Open quotes") && home.body.contains("id=\"quotes-empty\""));
    // The book: each account with its last order, days since, and one-tap reorder / quick order.
    let alpha_card = home.body.split(&format!("data-account=\"{}\"", w.alpha)).nth(1).unwrap();
    let alpha_card = alpha_card.split("</li>").next().unwrap();
    assert!(alpha_card.contains(&w.n["pending_new"]) && alpha_card.contains("today"), "{alpha_card}");
    assert!(alpha_card.contains(&format!("value=\"/portal/reorder/order/{}\"", w.n["pending_new"])));
    assert!(alpha_card.contains("value=\"/portal/quick-order\""));
    assert!(home.body.contains(&format!("data-account=\"{}\"", w.cedar)));

    // Sam sees his escalation and nothing of Rita's.
    let mut sam = app.signed_in(&w.sam.email).await;
    let home = sam.get("/rep").await;
    let queue = home.body.split("id=\"rep-quotes\"").next().unwrap();
    assert_eq!(numbers_on(queue), vec![w.n["escalated"].clone()]);
    assert_eq!(reasons_on(queue, &w.n["escalated"]), "escalated");
    assert!(!home.body.contains(&w.n["held"]) && !home.body.contains("Alpha Clinic"));
    let sp = w.sam.principal().unwrap();
    let q = queues::rep_queue(app.db(), app.now(), &Actor::web(&sp), None, None, 50).await.unwrap();
    assert!(q.items.iter().all(|i| i.row.account_id == w.birch));
    // Customer service has no rep home; a rep cannot ask for the desk's reasons.
    let dp = w.desk.principal().unwrap();
    assert!(queues::rep_queue(app.db(), app.now(), &Actor::web(&dp), None, None, 50).await.is_err());
    assert_eq!(sam.get("/rep?reason=backordered").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Foreign ids answer 404: Rita can neither open Sam's order nor act for his account.
    assert_eq!(rita.get(&format!("/orders/{}", w.n["escalated"])).await.status, StatusCode::NOT_FOUND);
    let r = rita.post(&format!("/accounts/{}/act", w.birch), &[("next", "/portal/quick-order")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // One tap acts for the account and opens the reorder of its last order; a second places it.
    let reorder = format!("/portal/reorder/order/{}", w.n["calm"]);
    let r = rita.post(&format!("/accounts/{}/act", w.alpha), &[("next", &reorder)]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, reorder.as_str()));
    let page = rita.get(&reorder).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = page.attr("name=\"form_token\" value=\"");
    let source = format!("order:{}", w.n["calm"]);
    let placed = rita.post("/portal/reorder", &[("form_token", &token), ("source", &source)]).await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.body);
    let number = placed.location().trim_start_matches("/portal/orders/").split('?').next().unwrap().to_string();
    let order = orders::get_order(app.db(), &Actor::web(&w.admin.principal().unwrap()), &number).await.unwrap();
    assert_eq!((order.account_id.as_str(), order.placed_by_user_id.as_str()), (w.alpha.as_str(), w.rita.id.as_str()));
    // Somewhere off-site or outside the portal is never followed.
    for next in ["https://evil.example/portal/x", "//evil.example/portal/", "/admin/staff"] {
        let r = rita.post(&format!("/accounts/{}/act", w.alpha), &[("next", next)]).await;
        assert_eq!(r.location(), "/portal/catalog", "{next}");
    }
}

#[tokio::test]
async fn the_staff_order_list_sorts_by_each_column_and_pages_by_key() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let ap = w.admin.principal().unwrap();
    let actor = Actor::web(&ap);
    let everything =
        orders::list_orders_sorted(app.db(), &actor, OrderFilter::default(), OrderSort::default(), None, 100)
            .await
            .unwrap();
    assert_eq!(everything.len(), 8);
    for by in SortBy::ALL {
        for descending in [false, true] {
            let sort = OrderSort { by, descending };
            let mut expected = everything.clone();
            expected.sort_by(|a, b| {
                let key = |o: &orders::ListedOrder| {
                    let primary = match by {
                        SortBy::Placed => String::new(),
                        SortBy::Total => format!("{:020}", o.order.subtotal),
                        SortBy::Account => o.account_name.clone(),
                        SortBy::Status => o.order.status.clone(),
                    };
                    (primary, o.order.placed_at, o.order.id.clone())
                };
                if descending { key(b).cmp(&key(a)) } else { key(a).cmp(&key(b)) }
            });
            let mut paged: Vec<String> = Vec::new();
            let mut after: Option<OrderCursor> = None;
            loop {
                let page =
                    orders::list_orders_sorted(app.db(), &actor, OrderFilter::default(), sort, after.as_ref(), 3)
                        .await
                        .unwrap();
                paged.extend(page.iter().map(|o| o.order.number.clone()));
                if page.len() < 3 {
                    break;
                }
                after = page.last().map(|o| o.cursor(by));
            }
            let want: Vec<String> = expected.iter().map(|o| o.order.number.clone()).collect();
            assert_eq!(paged, want, "{by:?} descending={descending}");
        }
    }

    // A rep's list is their book only, in any sort.
    let rp = w.rita.principal().unwrap();
    let sort = OrderSort { by: SortBy::Account, descending: false };
    let mine =
        orders::list_orders_sorted(app.db(), &Actor::web(&rp), OrderFilter::default(), sort, None, 100).await.unwrap();
    assert!(!mine.is_empty() && mine.iter().all(|o| o.order.account_id == w.alpha || o.order.account_id == w.cedar));

    // The page: an Account column, sortable headings, and the sort kept in the next page's link.
    let mut desk = app.signed_in(&w.desk.email).await;
    let page = desk.get("/orders?sort=account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-sort=\"account\">Account ↑"), "{}", page.body);
    let shown = numbers_on(&page.body);
    let by_account: Vec<String> = {
        let mut e = everything.clone();
        e.sort_by(|a, b| {
            (&a.account_name, a.order.placed_at, &a.order.id).cmp(&(&b.account_name, b.order.placed_at, &b.order.id))
        });
        e.iter().map(|o| o.order.number.clone()).collect()
    };
    assert_eq!(shown, by_account);
    assert!(page.body.contains("<td class=\"account card-wide\" data-label=\"Account\"><a href=\"/accounts/"));
    let page = desk.get("/orders?sort=total&dir=asc").await;
    assert!(page.body.contains("data-sort=\"total\">Subtotal ↑"));
    assert_eq!(desk.get("/orders?sort=colour").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        desk.get("/orders?sort=total&after_at=1&after_id=x&after_v=abc").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // More than a page: the next link carries the sort and its key.
    let now = app.now();
    for i in 0..20 {
        let buyer = app.buyer(&w.birch, &format!("More {i}"), BuyerRole::Buyer).await;
        place(&app, now - 30 * DAY + i, &buyer, &w.birch, &[("GLV-1", 1 + i)]).await;
    }
    let first = desk.get("/orders?sort=total").await;
    let link = first.body.split("id=\"next-page\" href=\"/orders?").nth(1).unwrap().split('"').next().unwrap();
    let link = link.replace("&#38;", "&").replace("&amp;", "&");
    assert!(link.contains("sort=total") && link.contains("after_v=") && link.contains("after_id="), "{link}");
    let second = desk.get(&format!("/orders?{link}")).await;
    let (a, b) = (numbers_on(&first.body), numbers_on(&second.body));
    assert_eq!((a.len(), b.len()), (25, 3));
    assert!(b.iter().all(|n| !a.contains(n)));
}

#[tokio::test]
async fn the_api_order_feed_narrows_to_a_status() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let token = app.api_token(&[portico::domain::auth::Scope::OrdersRead]).await;
    let numbers = |v: &serde_json::Value| -> Vec<String> {
        v["orders"].as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap().to_string()).collect()
    };
    let res = app.api("GET", "/api/v1/orders?status=on_hold", &token, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(numbers(&body), vec![w.n["held"].clone()]);
    let res = app.api("GET", "/api/v1/orders?status=pending_approval&limit=1", &token, None).await;
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let first = numbers(&body);
    let cursor = body["next_cursor"].as_str().expect("a second page").to_string();
    let res =
        app.api("GET", &format!("/api/v1/orders?status=pending_approval&limit=1&cursor={cursor}"), &token, None).await;
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let mut both = [first, numbers(&body)].concat();
    both.sort();
    let mut want = vec![w.n["pending_old"].clone(), w.n["pending_new"].clone()];
    want.sort();
    assert_eq!(both, want, "paged by key within the status");
    let res = app.api("GET", "/api/v1/orders?status=lost", &token, None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("status"));
}
