//! Buyer approvals (issue 14 §1): a requester's orders, orders above a rule's total, orders with a
//! product of a rule's category, and orders past a user's own limits wait in `pending_approval`
//! — unreserved and not counted against credit — for the account's purchasing managers. On the last
//! approval the order goes on through the pipeline at that moment (prices, stock and credit
//! again); a rejection cancels it with the approver's comment. The same rules meet every channel.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::catalog::BackorderPolicy;
use portico::domain::money::Money;
use portico::domain::orders::OrderStatus;
use portico::service::approvals::{self, NewRule};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::service::{Actor, ServiceError};
use portico::store::products::ProductInput;
use serde_json::json;

struct Fixture {
    account: String,
    manager: Principal,
    manager_email: String,
    buyer: Principal,
    buyer_email: String,
    requester: Principal,
    requester_email: String,
    products: Vec<String>,
}

/// An account with a manager, a buyer and a requester; gloves at $10.00 (1,000 in stock), pumps
/// at $400.00 (5 in stock, never backordered) and beds in "Equipment / Beds" at $900.00.
async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Approval Clinic", None).await;
    let admin = app.staff("Cat Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let beds =
        portico::service::categories::ensure_path(app.db(), app.now(), &Actor::web(&admin), "Equipment / Beds", None)
            .await
            .unwrap()
            .category
            .row
            .id;
    let products = common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Gloves"), "10.00", 1000),
            (ProductInput { backorder: BackorderPolicy::Deny, ..ProductInput::new("PUMP-1", "Pump") }, "400.00", 5),
            (ProductInput { category_id: Some(beds), ..ProductInput::new("BED-1", "Hospital bed") }, "900.00", 10),
        ],
    )
    .await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Buyer).await;
    let requester = app.buyer(&account, "Rae Requester", BuyerRole::Requester).await;
    Fixture {
        account,
        manager_email: manager.email.clone(),
        manager: manager.principal().unwrap(),
        buyer_email: buyer.email.clone(),
        buyer: buyer.principal().unwrap(),
        requester_email: requester.email.clone(),
        requester: requester.principal().unwrap(),
        products,
    }
}

async fn place(
    app: &TestApp,
    who: &Principal,
    account: &str,
    lines: &[(&str, i64)],
) -> Result<orders::OrderRow, ServiceError> {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(who), &req, None, |o, _| (201, o.id.clone())).await? {
        Placement::Placed { order, .. } => Ok(order),
        Placement::Replayed { .. } => panic!("not a replay"),
    }
}

async fn total_rule(app: &TestApp, f: &Fixture, amount: &str, approvers: &[&str], all: bool) {
    let rule = NewRule {
        kind: "order_total".into(),
        amount: amount.into(),
        approvers: approvers.iter().map(|s| s.to_string()).collect(),
        require_all: all,
        ..Default::default()
    };
    approvals::add_rule(app.db(), app.now(), &Actor::web(&f.manager), &f.account, &rule).await.unwrap();
}

async fn reserved(app: &TestApp) -> i64 {
    app.count("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels").await
}

async fn exposure(app: &TestApp, account: &str) -> i64 {
    let running = portico::store::credit::get(app.db(), account).await.unwrap();
    assert_eq!(running, portico::store::credit::from_records(app.db(), account).await.unwrap());
    running.uninvoiced
}

async fn outbox(app: &TestApp, event: &str) -> i64 {
    app.count_dyn(&format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}'")).await
}

async fn checkout<'a>(app: &'a TestApp, email: &str, sku: &str, qty: &str) -> (common::Client<'a>, String, String) {
    let mut c = app.signed_in(email).await;
    let r = c.post("/portal/cart/add", &[("sku", sku), ("quantity", qty)]).await;
    assert!(r.status.is_success() || r.status.is_redirection(), "{}", r.body);
    let page = c.get("/portal/checkout").await;
    let token = page.attr("name=\"form_token\" value=\"");
    let r = c.post("/portal/checkout", &[("form_token", &token)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let number = r.location().trim_start_matches("/portal/orders/").split('?').next().unwrap().to_string();
    (c, number, page.body)
}

#[tokio::test]
async fn a_requesters_order_waits_unreserved_and_the_manager_approves_it_from_home() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (mut rq, number, before) = checkout(&app, &f.requester_email, "GLV-1", "30").await;
    assert!(before.contains("id=\"needs-approval\"") && before.contains("Submit for approval"), "{before}");
    let page = rq.get(&format!("/portal/orders/{number}?placed=1")).await;
    assert!(page.body.contains("waits for approval"), "{}", page.body);
    assert!(page.body.contains("Orders you submit are approved by a purchasing manager."), "{}", page.body);
    let order = orders::get_order(app.db(), &Actor::web(&f.manager), &number).await.unwrap();
    assert_eq!(order.status(), OrderStatus::PendingApproval);
    assert_eq!(reserved(&app).await, 0, "nothing reserved while it waits");
    assert_eq!(exposure(&app, &f.account).await, 0, "nor counted against credit");
    assert_eq!(outbox(&app, "order.approval_requested").await, 1);
    assert_eq!(outbox(&app, "order.placed").await, 0);
    // The requester cannot approve their own order.
    let r = rq.post(&format!("/portal/orders/{number}/approve"), &[("version", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Home → review → approve: two clicks.
    let mut m = app.signed_in(&f.manager_email).await;
    let home = m.get("/portal").await;
    assert!(home.body.contains("Waiting for your approval (1)") && home.body.contains(&number), "{}", home.body);
    let review = m.get(&format!("/portal/orders/{number}")).await;
    assert!(
        review.body.contains("If you approve now") && review.body.contains("id=\"approve-form\""),
        "{}",
        review.body
    );
    let version = review.attr("name=\"version\" value=\"");
    let r = m.post(&format!("/portal/orders/{number}/approve"), &[("version", &version), ("comment", "ok")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().ends_with("notice=approved"), "{}", r.location());
    let order = orders::get_order(app.db(), &Actor::web(&f.manager), &number).await.unwrap();
    assert_eq!(order.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 30, "approval reserves the stock");
    assert_eq!(exposure(&app, &f.account).await, Money::parse("300").unwrap().raw());
    assert_eq!(outbox(&app, "order.approved").await, 1);
    assert_eq!(outbox(&app, "order.placed").await, 1);
    assert!(!m.get("/portal").await.body.contains("Waiting for your approval"), "the queue is empty");
    // Approving again is a conflict, not a second placement.
    let r = m.post(&format!("/portal/orders/{number}/approve"), &[("version", &version)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(reserved(&app).await, 30);
}

#[tokio::test]
async fn another_accounts_manager_and_staff_cannot_decide() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let order = place(&app, &f.requester, &f.account, &[("GLV-1", 1)]).await.unwrap();
    let other = app.account("Other Clinic", None).await;
    let stranger = app.buyer(&other, "Sam Stranger", BuyerRole::Manager).await.principal().unwrap();
    let err =
        orders::approve_order(app.db(), app.now(), &Actor::web(&stranger), &order.number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let err =
        orders::reject_approval(app.db(), app.now(), &Actor::web(&stranger), &order.id, None, "no").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService, StaffRole::Admin]).await.principal().unwrap();
    let err = orders::approve_order(app.db(), app.now(), &Actor::web(&cs), &order.number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "staff do not approve for the customer: {err:?}");
    // A plain buyer of the account may not either.
    let err =
        orders::approve_order(app.db(), app.now(), &Actor::web(&f.buyer), &order.number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    // Another account's manager cannot read or change the rules.
    let err = approvals::list_rules(app.db(), &Actor::web(&stranger), &f.account).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let rule = NewRule { kind: "order_total".into(), amount: "1".into(), ..Default::default() };
    let err = approvals::add_rule(app.db(), app.now(), &Actor::web(&stranger), &f.account, &rule).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let err = approvals::set_limits(app.db(), app.now(), &Actor::web(&stranger), &f.buyer.user_id, "1", "")
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    // A rule of another account cannot be deleted from this one (nor from the other's manager).
    approvals::add_rule(app.db(), app.now(), &Actor::web(&f.manager), &f.account, &rule).await.unwrap();
    let rule_id: String =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT id FROM approval_rules")
            .fetch_one(c)
            .await)
        .unwrap();
    let err =
        approvals::delete_rule(app.db(), app.now(), &Actor::web(&stranger), &f.account, &rule_id).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let err = approvals::delete_rule(app.db(), app.now(), &Actor::web(&stranger), &other, &rule_id).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden | ServiceError::NotFound), "{err:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM approval_rules").await, 1, "still there");
    // A comment with a NUL byte is refused, naming the field; nothing is decided.
    match orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &order.number, None, "ok\u{0}").await {
        Err(ServiceError::Invalid(e)) => assert_eq!(e[0].field, "comment"),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM order_approval_decisions").await, 0);
    let err = approvals::add_rule(app.db(), app.now(), &Actor::web(&f.buyer), &f.account, &rule).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "a buyer does not set rules: {err:?}");
}

#[tokio::test]
async fn an_order_total_rule_diverts_the_same_order_identically_in_every_channel() {
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let f = fixture(&app).await;
    common::write(app.db(), {
        let (a, r) = (f.account.clone(), rep.id.clone());
        move |tx| {
            Box::pin(async move {
                tx.execute("UPDATE accounts SET owner_rep_id = $2 WHERE id = $1", portico::args![a, r])
                    .await
                    .map(|_| ())
            })
        }
    })
    .await;
    total_rule(&app, &f, "500", &[], false).await;
    let reason = "Orders over $500.00 need approval (this one is $800.00).";
    // Portal.
    let portal = place(&app, &f.buyer, &f.account, &[("PUMP-1", 2)]).await.unwrap();
    assert_eq!((portal.status(), portal.reasons.as_str()), (OrderStatus::PendingApproval, reason));
    // The rep ordering for the customer.
    let rep = rep.principal().unwrap();
    let by_rep = place(&app, &rep, &f.account, &[("PUMP-1", 2)]).await.unwrap();
    assert_eq!((by_rep.status(), by_rep.reasons.as_str()), (OrderStatus::PendingApproval, reason));
    // The API says so too.
    let token = app.api_token(&[Scope::OrdersWrite, Scope::OrdersRead]).await;
    let body = json!({ "account": f.account, "lines": [{ "sku": "PUMP-1", "quantity": 2 }] });
    let r = app.api("POST", "/api/v1/orders", &token, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((v["status"].as_str(), v["reasons"].as_str()), (Some("pending_approval"), Some(reason)), "{v}");
    // Below the amount, straight through; a manager's own order is approved by placing it.
    assert_eq!(place(&app, &f.buyer, &f.account, &[("PUMP-1", 1)]).await.unwrap().status(), OrderStatus::Placed);
    assert_eq!(place(&app, &f.manager, &f.account, &[("PUMP-1", 2)]).await.unwrap().status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 3, "only the placed orders hold stock");
    // Three waiting orders and two pumps left: the first approved is placed; the next is refused
    // with the stock step's own reason and keeps waiting, unchanged.
    let o =
        orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &portal.number, None, "").await.unwrap();
    assert_eq!(o.status(), OrderStatus::Placed);
    let err = orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &by_rep.number, None, "")
        .await
        .unwrap_err();
    match err {
        ServiceError::Blocked(issues) => assert_eq!(issues[0].code, "out_of_stock", "{issues:?}"),
        e => panic!("{e:?}"),
    }
    let still = orders::get_order(app.db(), &Actor::web(&f.manager), &by_rep.number).await.unwrap();
    assert_eq!(still.status(), OrderStatus::PendingApproval, "a refused approval changes nothing");
    assert_eq!(reserved(&app).await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM order_approval_decisions WHERE approved").await, 1);
}

#[tokio::test]
async fn a_category_rule_covers_its_subcategories() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let equipment = portico::store::categories::category_by_path(app.db(), "Equipment").await.unwrap().unwrap();
    let rule = NewRule { kind: "category".into(), category_id: equipment.id, ..Default::default() };
    approvals::add_rule(app.db(), app.now(), &Actor::web(&f.manager), &f.account, &rule).await.unwrap();
    let bed = place(&app, &f.buyer, &f.account, &[("GLV-1", 1), ("BED-1", 1)]).await.unwrap();
    assert_eq!(bed.status(), OrderStatus::PendingApproval);
    assert_eq!(bed.reasons, "Orders with Equipment need approval.");
    let gloves = place(&app, &f.buyer, &f.account, &[("GLV-1", 1)]).await.unwrap();
    assert_eq!(gloves.status(), OrderStatus::Placed);
    // Bad rules are refused, naming the field; nothing is written.
    for (rule, field) in [
        (NewRule { kind: "category".into(), category_id: "nope".into(), ..Default::default() }, "category"),
        (NewRule { kind: "order_total".into(), amount: "-5".into(), ..Default::default() }, "amount"),
        (NewRule { kind: "order_total".into(), amount: "ten".into(), ..Default::default() }, "amount"),
        (NewRule { kind: "order_total".into(), amount: "1\0".into(), ..Default::default() }, "amount"),
        (NewRule { kind: "weekday".into(), ..Default::default() }, "kind"),
        (
            NewRule {
                kind: "order_total".into(),
                amount: "5".into(),
                approvers: vec![f.buyer.user_id.clone()],
                ..Default::default()
            },
            "approvers",
        ),
    ] {
        match approvals::add_rule(app.db(), app.now(), &Actor::web(&f.manager), &f.account, &rule).await {
            Err(ServiceError::Invalid(e)) => assert_eq!(e[0].field, field, "{e:?}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM approval_rules").await, 1);
}

#[tokio::test]
async fn per_user_limits_and_the_monthly_budget() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut m = app.signed_in(&f.manager_email).await;
    let page = m.get("/portal/users").await;
    assert!(page.body.contains("Spending limits") && page.body.contains("Bo Buyer"), "{}", page.body);
    let r = m
        .post(&format!("/users/{}/limits", f.buyer.user_id), &[("order_limit", "200"), ("monthly_limit", "250")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Bad input names the field and changes nothing; a manager does not set their own.
    let r = m.post(&format!("/users/{}/limits", f.buyer.user_id), &[("order_limit", "lots")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("lots"), "{}", r.body);
    let r = m.post(&format!("/users/{}/limits", f.manager.user_id), &[("order_limit", "1")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for bad in ["-5", "99999999999999999999", "1e3", "12\u{0}", "1.23456"] {
        let r = m
            .post(&format!("/users/{}/limits", f.buyer.user_id), &[("order_limit", "1"), ("monthly_limit", bad)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {}", r.body);
    }
    let r = m.post("/users/no-such-user/limits", &[("order_limit", "1")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let limits = approvals::account_budgets(app.db(), app.now(), &Actor::web(&f.manager), &f.account).await.unwrap();
    let b = &limits[&f.buyer.user_id].limits;
    assert_eq!(
        (b.per_order, b.per_month),
        (Some(Money::from_cents(20_000)), Some(Money::from_cents(25_000))),
        "bad input changed nothing"
    );

    let over_order = place(&app, &f.buyer, &f.account, &[("GLV-1", 21)]).await.unwrap();
    assert_eq!(over_order.status(), OrderStatus::PendingApproval);
    assert_eq!(over_order.reasons, "$210.00 is above your limit of $200.00 per order.");
    let first = place(&app, &f.buyer, &f.account, &[("GLV-1", 5)]).await.unwrap();
    assert_eq!(first.status(), OrderStatus::PendingApproval, "the waiting $210 counts this month: $260 passes $250");
    assert!(first.reasons.contains("takes you to $260.00 this month"), "{}", first.reasons);
    assert!(first.reasons.contains("($40.00 left before it)"), "{}", first.reasons);
    orders::reject_approval(app.db(), app.now(), &Actor::web(&f.manager), &over_order.number, None, "Too many")
        .await
        .unwrap();
    let second = place(&app, &f.buyer, &f.account, &[("GLV-1", 5)]).await.unwrap();
    assert_eq!(second.status(), OrderStatus::Placed, "after the rejection: $50 waiting + $50 of $250");
    let exactly = place(&app, &f.buyer, &f.account, &[("GLV-1", 15)]).await.unwrap();
    assert_eq!(exactly.status(), OrderStatus::Placed, "reaching the limit exactly is within it");
    let mut b = app.signed_in(&f.buyer_email).await;
    let home = b.get("/portal").await;
    assert!(home.body.contains("<strong>$0.00</strong> of $250.00 left this month"), "{}", home.body);
    // The per-user limits do not apply to staff ordering for the account.
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    assert_eq!(place(&app, &cs, &f.account, &[("GLV-1", 100)]).await.unwrap().status(), OrderStatus::Placed);
}

#[tokio::test]
async fn all_of_several_approvers_must_approve_and_a_managers_own_order_waits_for_the_others() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let second = app.buyer(&f.account, "Max Manager", BuyerRole::Manager).await.principal().unwrap();
    total_rule(&app, &f, "100", &[&f.manager.user_id, &second.user_id], true).await;
    let order = place(&app, &f.buyer, &f.account, &[("GLV-1", 20)]).await.unwrap();
    assert_eq!(order.status(), OrderStatus::PendingApproval);
    let once =
        orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &order.number, None, "fine").await.unwrap();
    assert_eq!(once.status(), OrderStatus::PendingApproval, "one of two");
    assert_eq!(reserved(&app).await, 0);
    let err =
        orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &order.number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    let done = orders::approve_order(app.db(), app.now(), &Actor::web(&second), &order.number, None, "").await.unwrap();
    assert_eq!(done.status(), OrderStatus::Placed);
    assert_eq!(reserved(&app).await, 20);
    // A named approver placing an order approves their part by placing it: it waits for the other.
    let own = place(&app, &f.manager, &f.account, &[("GLV-1", 20)]).await.unwrap();
    assert_eq!(own.status(), OrderStatus::PendingApproval);
    let view = orders::approval_view(app.db(), app.now(), &Actor::web(&second), &own).await.unwrap().unwrap();
    assert!(view.can_decide && view.decisions.len() == 1 && view.decisions[0].user_name == "Mia Manager");
    let mine = orders::approval_view(app.db(), app.now(), &Actor::web(&f.manager), &own).await.unwrap().unwrap();
    assert!(!mine.can_decide, "already approved by placing it");
    assert_eq!(
        orders::approve_order(app.db(), app.now(), &Actor::web(&second), &own.number, None, "").await.unwrap().status(),
        OrderStatus::Placed
    );
}

#[tokio::test]
async fn a_rejection_cancels_with_the_comment_the_buyer_reads() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let (mut rq, number, _) = checkout(&app, &f.requester_email, "GLV-1", "3").await;
    let mut m = app.signed_in(&f.manager_email).await;
    let version = m.get(&format!("/portal/orders/{number}")).await.attr("name=\"version\" value=\"");
    let r = m.post(&format!("/portal/orders/{number}/decline"), &[("version", &version), ("comment", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let r = m
        .post(
            &format!("/portal/orders/{number}/decline"),
            &[("version", &version), ("comment", "Use the framework contract")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = rq.get(&format!("/portal/orders/{number}")).await;
    assert!(page.body.contains("Rejected by Mia Manager: Use the framework contract"), "{}", page.body);
    assert_eq!(outbox(&app, "order.approval_rejected").await, 1);
    let err = orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &number, None, "").await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    assert_eq!(exposure(&app, &f.account).await, 0);
}

#[tokio::test]
async fn approval_prices_the_order_again_and_takes_the_credit_step() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let order = place(&app, &f.requester, &f.account, &[("GLV-1", 100)]).await.unwrap();
    assert_eq!(order.subtotal, Money::parse("1000").unwrap().raw());
    // The list price rises to $12.00 and the credit limit drops to $1,100 while it waits.
    let (glove, account) = (f.products[0].clone(), f.account.clone());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            tx.execute("UPDATE price_list_items SET unit_price = 120000 WHERE product_id = $1", portico::args![glove])
                .await?;
            tx.execute("UPDATE accounts SET credit_limit = 11000000 WHERE id = $1", portico::args![account])
                .await
                .map(|_| ())
        })
    })
    .await;
    let view = orders::approval_view(app.db(), app.now(), &Actor::web(&f.manager), &order).await.unwrap().unwrap();
    let preview = view.preview.unwrap();
    assert_eq!(preview.price_changes(), 1);
    assert_eq!(preview.now, Some(Money::parse("1200").unwrap()));
    assert!(preview.credit.as_deref().unwrap_or_default().contains("$1,100.00"), "{:?}", preview.credit);
    let approved =
        orders::approve_order(app.db(), app.now(), &Actor::web(&f.manager), &order.number, None, "").await.unwrap();
    assert_eq!(approved.status(), OrderStatus::OnHold, "past the limit once approved: held for finance");
    assert_eq!(approved.subtotal, Money::parse("1200").unwrap().raw());
    assert!(approved.reasons.contains("$1,200.00"), "{}", approved.reasons);
    assert_eq!(exposure(&app, &f.account).await, Money::parse("1200").unwrap().raw());
    let lines = portico::store::orders::lines(app.db(), &approved.id).await.unwrap();
    assert_eq!(lines[0].unit_price, 120000);
    let events = portico::store::orders::events(app.db(), &approved.id).await.unwrap();
    assert!(events.iter().any(|e| e.note.contains("GLV-1 $10.00 → $12.00")), "{events:?}");
}

#[tokio::test]
async fn two_managers_approving_at_once_place_the_order_once() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let second = app.buyer(&f.account, "Max Manager", BuyerRole::Manager).await.principal().unwrap();
    let order = place(&app, &f.requester, &f.account, &[("GLV-1", 7)]).await.unwrap();
    let (a, b) = (Actor::web(&f.manager), Actor::web(&second));
    let (ra, rb) = tokio::join!(
        orders::approve_order(app.db(), app.now(), &a, &order.number, None, ""),
        orders::approve_order(app.db(), app.now(), &b, &order.number, None, "")
    );
    let ok = [ra.is_ok(), rb.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(ok, 1, "{ra:?} {rb:?}");
    assert!(matches!(ra.err().or(rb.err()), Some(ServiceError::Conflict(_))));
    assert_eq!(reserved(&app).await, 7);
    assert_eq!(exposure(&app, &f.account).await, Money::parse("70").unwrap().raw());
}

#[tokio::test]
async fn the_rules_page_shows_and_keeps_what_was_typed() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut m = app.signed_in(&f.manager_email).await;
    let r = m.post("/portal/approvals", &[("kind", "order_total"), ("amount", "12x"), ("require_all", "one")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"rule-error\"") && r.body.contains("value=\"12x\""), "{}", r.body);
    let r = m
        .post("/portal/approvals", &[("kind", "order_total"), ("amount", "2,500"), ("approver", &f.manager.user_id)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = m.get("/portal/approvals").await;
    assert!(page.body.contains("Orders over $2,500.00 — approved by Mia Manager"), "{}", page.body);
    // Everyone in the account can read the rules; only managers change them.
    let mut b = app.signed_in(&f.buyer_email).await;
    let page = b.get("/portal/approvals").await;
    assert!(page.body.contains("Orders over $2,500.00") && !page.body.contains("Add a rule"), "{}", page.body);
    let r = b.post("/portal/approvals", &[("kind", "order_total"), ("amount", "1")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM approval_rules").await, 1);
}
