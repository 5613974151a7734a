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

/// The scale loaders (`portico demo --scale large`, the aging benchmark) write their orders, lines
/// and invoices through one store writer; a small run of each writes what it always wrote.
#[tokio::test]
async fn the_scale_loaders_write_orders_lines_and_invoices() {
    use portico::demo::{history_scale, receivables_scale};
    let app = TestApp::new().await;
    let rep = app.staff("Rita Rep", &[portico::domain::auth::StaffRole::SalesRep]).await;
    for i in 0..3 {
        app.account(&format!("Scale {i}"), (i % 2 == 0).then_some(rep.id.as_str())).await;
    }
    common::sell(
        app.db(),
        app.now(),
        vec![
            (portico::store::products::ProductInput::new("SC-1", "One"), "1.00", 10),
            (portico::store::products::ProductInput::new("SC-2", "Two"), "2.00", 10),
        ],
    )
    .await;
    let (customers, items) = history_scale::parties(app.db()).await.unwrap();
    let size = history_scale::HistorySize { orders: 40, days: 60, max_lines: 3 };
    history_scale::seed(app.db(), app.now(), &size, &customers, &items).await.unwrap();
    let size = receivables_scale::ReceivablesSize { accounts: 4, invoices_per_account: 3 };
    receivables_scale::seed(app.db(), app.now(), &size).await.unwrap();
    let fingerprint = async |sql: &'static str| app.count(sql).await;
    let got = vec![
        fingerprint("SELECT COUNT(*) FROM orders WHERE number LIKE 'H-%'").await,
        fingerprint("SELECT CAST(SUM(subtotal) AS BIGINT) FROM orders WHERE number LIKE 'H-%'").await,
        fingerprint("SELECT CAST(SUM(line_count) AS BIGINT) FROM orders WHERE number LIKE 'H-%'").await,
        fingerprint("SELECT COUNT(*) FROM orders WHERE number LIKE 'H-%' AND owner_rep_id IS NOT NULL").await,
        fingerprint("SELECT COUNT(*) FROM orders WHERE number LIKE 'H-%' AND status = 'cancelled'").await,
        fingerprint("SELECT CAST(SUM(LENGTH(po_number)) AS BIGINT) FROM orders").await,
        fingerprint("SELECT COUNT(*) FROM orders WHERE placed_at <> updated_at OR uninvoiced <> 0 OR ship_to_text <> ''").await,
        fingerprint("SELECT COUNT(*) FROM order_lines").await,
        fingerprint("SELECT CAST(SUM(line_total) AS BIGINT) FROM order_lines").await,
        fingerprint("SELECT CAST(SUM(quantity * line_no) AS BIGINT) FROM order_lines").await,
        fingerprint("SELECT COUNT(*) FROM order_lines WHERE line_total <> quantity * unit_price OR uom <> 'each' OR price_source <> 'history'").await,
        fingerprint("SELECT COUNT(*) FROM orders WHERE number LIKE 'AR-%' AND status = 'shipped' AND owner_rep_id IS NULL AND po_number = ''").await,
        fingerprint("SELECT COUNT(*) FROM invoices WHERE number LIKE 'AR-%'").await,
        fingerprint("SELECT CAST(SUM(total) AS BIGINT) FROM invoices WHERE number LIKE 'AR-%'").await,
        fingerprint("SELECT COUNT(*) FROM payments WHERE number LIKE 'ARP-%'").await,
        fingerprint("SELECT COUNT(*) FROM accounts").await,
    ];
    // What the loaders wrote before they shared the writer (the same on both databases).
    assert_eq!(got, [40, 269_920_000, 80, 37, 2, 88, 0, 80, 269_920_000, 1303, 0, 4, 12, 302_612_800, 1, 4]);
}
