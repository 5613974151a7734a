//! The demo company: realistic, complete for every role, deterministic.

mod common;

use axum::http::StatusCode;
use common::{TempDir, TestApp};
use portico::demo::{DEMO_PASSWORD, seed};

async fn snapshot(app: &TestApp) -> Vec<(String, String, String, Option<String>, i64)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, String, Option<String>, i64)>(
        "SELECT id, number, name, owner_rep_id, credit_limit FROM accounts ORDER BY number"
    )
    .fetch_all(c)
    .await)
    .unwrap()
}

/// An account with a hand-over: id, owning rep's name, previous rep's name, until, share.
type Handed = (String, String, Option<String>, Option<i64>, Option<i64>);

#[tokio::test]
async fn demo_is_realistic_and_every_login_works() {
    let app = TestApp::new().await;
    let logins = seed(app.db(), None, app.now()).await.unwrap();
    assert!(app.count("SELECT COUNT(*) FROM accounts").await >= 30);
    assert!(app.count("SELECT COUNT(*) FROM users WHERE kind = 'staff' AND roles LIKE '%sales_rep%'").await >= 3);
    for role in ["customer_service", "finance", "admin"] {
        let sql: &'static str = match role {
            "customer_service" => "SELECT COUNT(*) FROM users WHERE roles LIKE '%customer_service%'",
            "finance" => "SELECT COUNT(*) FROM users WHERE kind = 'staff' AND roles LIKE '%finance%'",
            _ => "SELECT COUNT(*) FROM users WHERE roles LIKE '%admin%'",
        };
        assert!(app.count(sql).await >= 1, "{role}");
    }
    assert_eq!(app.count("SELECT COUNT(DISTINCT ownership_mode) FROM accounts").await, 3);
    assert!(app.count("SELECT COUNT(DISTINCT terms_days) FROM accounts").await >= 4);
    assert_eq!(app.count("SELECT COUNT(DISTINCT status) FROM accounts").await, 3);
    assert!(
        app.count("SELECT COUNT(DISTINCT account_id) FROM users WHERE roles = 'viewer'").await >= 3,
        "every buyer role in several accounts"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM ship_tos s WHERE s.account_id = a.id AND s.is_default)").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM accounts WHERE ownership_mode <> 'self_service' AND owner_rep_id IS NULL")
            .await,
        0
    );
    assert_eq!(logins.len(), 10, "one login per role");
    // Quotes can be seen in every state a person acts on, and one became an order.
    for status in ["requested", "sent", "awaiting_signoff", "accepted"] {
        let sql = format!("SELECT COUNT(*) FROM quotes WHERE status = '{status}'");
        assert_eq!(app.count_dyn(&sql).await, 1, "one {status} quote");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM order_lines WHERE price_source = 'quote'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE cost IS NULL").await, 0, "every product has a cost");
    // Buyer approvals can be seen at work: the requester's order waits for the manager.
    assert!(logins.iter().any(|l| l.email.starts_with("requester@")));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending_approval'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM approval_rules").await, 2);
    // Routing: rep-led accounts' recent requests wait for their rep; older ones were completed.
    assert!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'escalated'").await >= 1);
    assert!(app.count("SELECT COUNT(*) FROM order_events WHERE note LIKE 'Completed by %'").await >= 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM routing_rules").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM products WHERE consult_specialist").await, 2);
    // Commissions follow from the history's invoices: every channel's orders earn their rep, the
    // customers' own portal orders included; months before last are approved and locked.
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_plans").await, 1);
    assert!(app.count("SELECT COUNT(*) FROM commission_accruals WHERE kind = 'accrual'").await >= 100);
    assert!(app.count("SELECT COUNT(*) FROM commission_accruals WHERE channel = 'portal'").await >= 10);
    assert!(app.count("SELECT COUNT(DISTINCT rep_id) FROM commission_accruals").await >= 3);
    assert!(app.count("SELECT COUNT(*) FROM commission_statements WHERE status = 'locked'").await >= 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.owner_rep_id IS DISTINCT FROM a.owner_rep_id AND o.owner_rep_id IS DISTINCT FROM a.handover_rep_id").await,
        0,
        "each order records its account's rep (or, placed before it changed hands, the previous one)"
    );
    // A hand-over is running (60 days, 50 %): Keystone Fabrication went from Daniel Okafor to Tom
    // Becker; the orders placed since are split and invoiced, Daniel's statement shows his share.
    let now = app.now();
    let handed: Vec<Handed> = portico::on_db!(app.db(), |c| sqlx::query_as(
        "SELECT a.id, o.name, p.name, a.handover_until, a.handover_share_ppm FROM accounts a \
             JOIN users o ON o.id = a.owner_rep_id LEFT JOIN users p ON p.id = a.handover_rep_id \
             WHERE a.handover_rep_id IS NOT NULL"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    assert_eq!(handed.len(), 1, "{handed:?}");
    let (account, owner, previous, until, share) = handed[0].clone();
    assert_eq!((owner.as_str(), previous.as_deref(), share), ("Tom Becker", Some("Daniel Okafor"), Some(500_000)));
    let until = until.unwrap();
    assert!(until > now && until < now + 60 * 86_400, "running: {until} vs {now}");
    let split_orders = app
        .count_dyn(&format!(
            "SELECT COUNT(*) FROM orders WHERE account_id = '{account}' AND handover_rep_id IS NOT NULL"
        ))
        .await;
    assert!(split_orders >= 2, "{split_orders}");
    assert_eq!(
        app.count_dyn(&format!(
            "SELECT COUNT(*) FROM orders WHERE account_id = '{account}' AND handover_rep_id IS NULL AND placed_at >= {}",
            until - 60 * 86_400
        ))
        .await,
        0,
        "every order since the change is split"
    );
    let previous_lines = app
        .count("SELECT COUNT(*) FROM commission_accruals c JOIN users u ON u.id = c.rep_id WHERE u.name = 'Daniel Okafor' AND c.rule LIKE '%hand-over 50% to previous rep'")
        .await;
    let kept_lines = app
        .count("SELECT COUNT(*) FROM commission_accruals c JOIN users u ON u.id = c.rep_id WHERE u.name = 'Tom Becker' AND c.rule LIKE '%hand-over 50% kept'")
        .await;
    assert!(previous_lines >= 1 && previous_lines == kept_lines, "{previous_lines} {kept_lines}");
    assert_eq!(app.count("SELECT COUNT(*) FROM settings WHERE key LIKE 'commissions.handover_%'").await, 2);
    for l in &logins {
        let mut c = app.client();
        let res = c.login(&l.email, DEMO_PASSWORD).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{} ({})", l.email, l.role);
        let home = c.get(res.location()).await;
        assert_eq!(home.status, StatusCode::OK, "{} lands on {}", l.role, res.location());
    }
}

#[tokio::test]
async fn demo_is_deterministic() {
    let a = TestApp::new().await;
    // The same demo with its pictures in an image directory.
    let dir = TempDir::create();
    let path = dir.0.clone();
    let b = TestApp::configured(move |c| c.image_dir = Some(path)).await;
    seed(a.db(), None, a.now()).await.unwrap();
    let logins = seed(b.db(), b.state.image_dir.as_ref(), b.now()).await.unwrap();
    let (sa, sb) = (snapshot(&a).await, snapshot(&b).await);
    assert_eq!(sa, sb);
    assert_eq!(sa[0].1, "A-10001");
    let pictures = a.count("SELECT COUNT(*) FROM image_files WHERE stored_in = 'db'").await;
    assert!(pictures > 0);
    assert_eq!(b.count("SELECT COUNT(*) FROM image_files WHERE stored_in = 'dir'").await, pictures);
    assert_eq!(dir.files().len() as i64, pictures * 3);
    let admin = logins.iter().find(|l| l.role == "Administrator").expect("an administrator");
    let mut c = b.client();
    assert_eq!(c.login(&admin.email, DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let image: String = portico::on_db!(b.db(), |c| sqlx::query_scalar::<_, String>(
        "SELECT image_id FROM products WHERE image_id IS NOT NULL ORDER BY sku LIMIT 1"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    let res = c.get(&format!("/product-images/{image}/thumb")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers[axum::http::header::CONTENT_TYPE], "image/jpeg");
}
