//! E-mail end to end: the outbox worker sends through a real SMTP server started by the test (a
//! small sink speaking SMTP on 127.0.0.1), and the mails are read back from it: invitation links
//! that work, order confirmations to the buyer and the owning rep, the seller's name and address in
//! the footer, opt-outs, a link replaced before it was sent, an address the server refuses, and
//! the local mailbox ("Sent mail") when no SMTP server is set.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::jobs::WorkerConfig;
use portico::service::Actor;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
use portico::store::products::ProductInput;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A mail the sink accepted: envelope and raw message.
#[derive(Clone, Debug)]
struct Received {
    rcpt: Vec<String>,
    data: String,
}

/// An SMTP server that accepts everything except recipients whose address starts with `bounce`.
struct Sink {
    port: u16,
    mails: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    async fn start() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Received>>> = Arc::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, store.clone()));
            }
        });
        Sink { port, mails }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn to(&self, address: &str) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.rcpt.iter().any(|r| r == address))
            .map(|m| Mail::parse(&m.data))
            .collect()
    }
}

async fn session(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut rcpt = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            rcpt.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO") {
            let address = line[8..].trim().trim_start_matches('<').trim_end_matches('>').to_string();
            if address.starts_with("bounce") {
                b"550 5.1.1 no such mailbox\r\n"
            } else {
                rcpt.push(address);
                b"250 ok\r\n"
            }
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut data = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                data.push('\n');
            }
            store.lock().unwrap().push(Received { rcpt: std::mem::take(&mut rcpt), data });
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 ok\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// A received mail, decoded: its subject and its text and HTML parts.
#[derive(Debug)]
struct Mail {
    subject: String,
    text: String,
    html: String,
    raw: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let subject = raw.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or("").to_string();
        let mut text = String::new();
        let mut html = String::new();
        // Each MIME part: headers, a blank line, the body in its transfer encoding.
        for part in raw.split("\n--") {
            let Some((head, body)) = part.split_once("\n\n") else { continue };
            let head = head.to_lowercase();
            let body = body.split("\n--").next().unwrap_or(body);
            let decoded = if head.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body)
            } else if head.contains("content-transfer-encoding: base64") {
                use base64::Engine;
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).unwrap_or_default())
                    .unwrap_or_default()
            } else {
                body.to_string()
            };
            if head.contains("content-type: text/plain") {
                text = decoded;
            } else if head.contains("content-type: text/html") {
                html = decoded;
            }
        }
        Mail { subject, text, html, raw: raw.to_string() }
    }
}

fn quoted_printable(body: &str) -> String {
    let mut bytes = Vec::new();
    let joined = body.replace("=\n", "");
    let b = joined.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
        {
            bytes.push(v);
            i += 3;
            continue;
        }
        bytes.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn worker(app: &TestApp) -> WorkerConfig {
    app.state.config.webhooks.clone()
}

/// Runs worker passes until nothing is due.
async fn drain(app: &TestApp) {
    let cfg = worker(app);
    let sender = portico::jobs::webhooks::Sender::new(cfg.allow.clone(), cfg.timeout);
    let mailer = portico::jobs::mail::Mailer::new(&cfg.mail).unwrap();
    let metrics = portico::ops::Metrics::default();
    let mut idle = 0;
    while idle < 5 {
        match portico::jobs::run_once(app.db(), &cfg, &sender, &mailer, &metrics).await.unwrap() {
            0 => {
                idle += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => idle = 0,
        }
    }
}

async fn app_with_smtp(sink: &Sink) -> TestApp {
    let url = sink.url();
    let app = TestApp::configured(move |c| {
        c.public_url = "https://portal.example.com".into();
        c.webhooks.public_url = c.public_url.clone();
        c.webhooks.mail.smtp_url = Some(url);
        c.webhooks.mail.from_address = "orders@meridian.example".into();
        c.webhooks.retry.base_ms = 1;
    })
    .await;
    seller(&app).await;
    app
}

async fn seller(app: &TestApp) {
    common::write(app.db(), |tx| {
        Box::pin(async move {
            for (k, v) in [("seller.name", "Meridian Supply"), ("seller.address", "1 Harbor Way\nPortland, OR 97201")] {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    portico::args![k, v],
                )
                .await?;
            }
            Ok(())
        })
    })
    .await;
}

async fn place(app: &TestApp, who: &Principal, account: &str) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: vec![LineInput::sku("GLV-1", 3)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), app.now(), &Actor::web(who), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap()
    {
        Placement::Placed { order, .. } => order,
        Placement::Replayed { .. } => panic!("not a replay"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invitations_and_order_mails_go_out_by_smtp_and_their_links_work() {
    let sink = Sink::start().await;
    let app = app_with_smtp(&sink).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "10.00", 100)]).await;
    let rep = app.staff("Rosa Rep", &[StaffRole::SalesRep]).await;
    let account = app.account("Lakeside Clinic", Some(&rep.id)).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;

    // An invitation: mailed to the invitee only, with a link that opens the set-password page.
    let mut m = app.signed_in(&manager.email).await;
    let res = m.post("/portal/users", &[("name", "Nia New"), ("email", "nia@lakeside.test"), ("role", "buyer")]).await;
    assert!(res.body.contains("Invitation sent") && !res.body.contains("/set-password/"), "{}", res.body);
    drain(&app).await;
    let mails = sink.to("nia@lakeside.test");
    assert_eq!(mails.len(), 1, "{:?}", sink.mails.lock().unwrap());
    let invite = &mails[0];
    assert_eq!(invite.subject, "You are invited to Meridian Supply's ordering portal");
    assert!(invite.raw.contains("From: \"Meridian Supply\" <orders@meridian.example>"), "{}", invite.raw);
    let link = invite.text.lines().find_map(|l| l.strip_prefix("Set your password: ")).expect("the link").to_string();
    assert!(link.starts_with("https://portal.example.com/set-password/"), "{link}");
    assert!(invite.html.contains(&format!("href=\"{link}\"")), "{}", invite.html);
    assert!(invite.text.contains("— Meridian Supply\n1 Harbor Way\nPortland, OR 97201"), "{}", invite.text);
    let path = link.trim_start_matches("https://portal.example.com");
    assert_eq!(app.client().get(path).await.status, StatusCode::OK, "the mailed link opens the page");

    // An order placed by the manager: a confirmation to them, a note to the owning rep.
    let order = place(&app, &manager.principal().unwrap(), &account).await;
    drain(&app).await;
    let to_buyer = sink.to(&manager.email);
    assert_eq!(to_buyer.len(), 1);
    assert_eq!(to_buyer[0].subject, format!("Order {} received", order.number));
    assert!(to_buyer[0].text.contains(&format!("https://portal.example.com/portal/orders/{}", order.number)));
    assert!(to_buyer[0].text.contains("Subtotal: $30.00"), "{}", to_buyer[0].text);
    assert!(to_buyer[0].text.contains("https://portal.example.com/me/notifications"), "how to turn it off");
    let to_rep = sink.to(&rep.email);
    assert_eq!(to_rep.len(), 1);
    assert!(
        to_rep[0].text.contains(&format!("https://portal.example.com/orders/{}", order.number)),
        "{}",
        to_rep[0].text
    );

    // The manager turns order mails off: the next order mails only the rep.
    let res = m.post("/me/notifications", &[("on", "shipped"), ("on", "invoice_issued")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = m.get("/me/notifications").await;
    assert!(
        page.body.contains("value=\"shipped\" checked") && !page.body.contains("value=\"order_placed\" checked"),
        "{}",
        page.body
    );
    place(&app, &manager.principal().unwrap(), &account).await;
    drain(&app).await;
    assert_eq!(sink.to(&manager.email).len(), 1, "no second confirmation");
    assert_eq!(sink.to(&rep.email).len(), 2);

    // The admin's Sent mail lists every mail; the invitation's link is not shown there.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let list = a.get("/admin/mail").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("You are invited to Meridian Supply") && list.body.contains("nia@lakeside.test"),
        "{}",
        list.body
    );
    let id: String =
        portico::on_db!(app.db(), |p| sqlx::query_scalar("SELECT id FROM mails WHERE kind = 'invitation'")
            .fetch_one(p)
            .await)
        .unwrap();
    let shown = a.get(&format!("/admin/mail/{id}")).await;
    assert!(shown.body.contains("one-time link, sent only to the user"), "{}", shown.body);
    assert!(!shown.body.contains(path), "staff never see the link");
    // Buyers and other staff do not reach it.
    assert_eq!(m.get("/admin/mail").await.status, StatusCode::NOT_FOUND);
    let status: String =
        portico::on_db!(app.db(), |p| sqlx::query_scalar("SELECT status FROM mails WHERE kind = 'invitation'")
            .fetch_one(p)
            .await)
        .unwrap();
    assert_eq!(status, "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replaced_link_is_not_mailed_and_a_refused_address_is_given_up() {
    let sink = Sink::start().await;
    let app = app_with_smtp(&sink).await;
    let account = app.account("Acme Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let mut m = app.signed_in(&manager.email).await;
    m.post("/portal/users", &[("name", "New Person"), ("email", "new@acme.test"), ("role", "buyer")]).await;
    let user = portico::store::users::find_by_email(app.db(), "new@acme.test").await.unwrap().unwrap();
    // Re-sent before the first went out: only the second link is mailed.
    m.post(&format!("/users/{}/link", user.id), &[("back", "/portal/users")]).await;
    m.post("/portal/users", &[("name", "Bounce"), ("email", "bounce@acme.test"), ("role", "buyer")]).await;
    drain(&app).await;
    assert_eq!(sink.to("new@acme.test").len(), 1);
    let statuses: Vec<(String, String, Option<String>)> =
        portico::on_db!(app.db(), |p| sqlx::query_as("SELECT to_email, status, last_error FROM mails ORDER BY id")
            .fetch_all(p)
            .await)
        .unwrap();
    assert_eq!(statuses[0].1, "cancelled", "{statuses:?}");
    assert!(statuses[0].2.as_deref().unwrap().contains("used or replaced"));
    assert_eq!(statuses[1].1, "sent");
    assert_eq!(statuses[2].0, "bounce@acme.test");
    assert_eq!(statuses[2].1, "dead", "a permanent refusal is not retried: {statuses:?}");
    assert!(statuses[2].2.as_deref().unwrap().contains("no such mailbox"), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_smtp_mail_is_kept_in_the_local_mailbox() {
    let app = TestApp::configured(|c| {
        c.webhooks.public_url = "http://127.0.0.1:8080".into();
    })
    .await;
    let account = app.account("Acme Clinic", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let mut m = app.signed_in(&manager.email).await;
    m.post("/portal/users", &[("name", "New Person"), ("email", "new@acme.test"), ("role", "buyer")]).await;
    drain(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let list = a.get("/admin/mail").await;
    assert!(list.body.contains("No SMTP server is set"), "{}", list.body);
    assert!(list.body.contains("kept"), "{}", list.body);
    let id: String =
        portico::on_db!(app.db(), |p| sqlx::query_scalar("SELECT id FROM mails").fetch_one(p).await).unwrap();
    let shown = a.get(&format!("/admin/mail/{id}")).await;
    assert!(shown.body.contains("Hello New Person,"), "{}", shown.body);
    assert!(shown.body.contains("one-time link, sent only to the user"), "{}", shown.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finance_sends_a_statement_by_mail_from_the_page_and_the_api() {
    use portico::domain::auth::Scope;
    let sink = Sink::start().await;
    let app = app_with_smtp(&sink).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Gloves"), "10.00", 100)]).await;
    let account = app.account("Lakeside Clinic", None).await;
    let number: String = portico::on_db!(app.db(), |p| sqlx::query_scalar("SELECT number FROM accounts WHERE id = $1")
        .bind(&account)
        .fetch_one(p)
        .await)
    .unwrap();
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let order = place(&app, &manager.principal().unwrap(), &account).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let staff = admin.principal().unwrap();
    orders::confirm_order(app.db(), app.now(), &Actor::web(&staff), &order.id, None).await.unwrap();
    for (warehouse, lines) in portico::store::orders::holdings(app.db(), &order.id).await.unwrap() {
        let input = orders::ShipmentInput { warehouse, lines, ..Default::default() };
        orders::record_shipment(app.db(), app.now(), &Actor::web(&staff), &order.id, &input).await.unwrap();
    }
    drain(&app).await;
    let before = sink.mails.lock().unwrap().len();

    // Customer service sees the statement but may not send it.
    let desk = app.staff("Carla Desk", &[StaffRole::CustomerService]).await;
    let mut d = app.signed_in(&desk.email).await;
    let page = d.get(&format!("/accounts/{account}/statement")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("statement-send"), "no button for customer service");
    let refused = d.post(&format!("/accounts/{account}/statement/send"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Finance sends it: with no finance contact at the account, it goes to the manager.
    let finance = app.staff("Fiona Finance", &[StaffRole::Finance]).await;
    let mut f = app.signed_in(&finance.email).await;
    let page = f.get(&format!("/accounts/{account}/statement")).await;
    assert!(page.body.contains("id=\"statement-send\""), "{}", page.body);
    let sent = f.post(&format!("/accounts/{account}/statement/send"), &[]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let back = f.get(sent.location()).await;
    assert!(back.body.contains("Statement sent"), "{}", back.body);
    drain(&app).await;
    let mails = sink.to(&manager.email);
    let statement =
        mails.iter().find(|m| m.subject.starts_with("Your statement from Meridian Supply")).expect("mailed");
    assert!(statement.text.contains(&format!("Account: {number}")), "{}", statement.text);
    assert!(statement.text.contains("Balance at the end of the period: $30.00"), "{}", statement.text);
    assert!(statement.text.contains("Overdue today: $0.00"), "{}", statement.text);
    let link = statement
        .text
        .lines()
        .find_map(|l| l.strip_prefix("View your statement: "))
        .expect("a link to the statement")
        .to_string();
    assert!(link.starts_with("https://portal.example.com/portal/statement?from="), "{link}");
    assert_eq!(sink.mails.lock().unwrap().len(), before + 1, "one mail, to the manager only");

    // With a finance contact, the API sends it to them alone; the event is audited and published.
    let contact = app.buyer(&account, "Finn Finance", BuyerRole::Finance).await;
    let token = app.api_token(&[Scope::PaymentsWrite]).await;
    let path = format!("/api/v1/accounts/{number}/statement/send");
    let res = app.api("POST", &path, &token, Some(serde_json::json!({}))).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(body["recipients"], serde_json::json!([contact.email]));
    assert_eq!(body["closing_balance"], "30.00");
    drain(&app).await;
    assert_eq!(sink.to(&contact.email).len(), 1);
    assert_eq!(sink.to(&manager.email).len(), mails.len(), "the manager got nothing more");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'statement.sent'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'statement.sent'").await, 2);

    // Bad input and the wrong scope change nothing.
    let bad = app.api("POST", &path, &token, Some(serde_json::json!({"from": "2026-13-01"}))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("from"), "{}", bad.body);
    for (field, body) in
        [("from", serde_json::json!({"from": "", "to": "2026-01-01"})), ("to", serde_json::json!({"to": " "}))]
    {
        let bad = app.api("POST", &path, &token, Some(body)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(bad.body.contains(field), "{}", bad.body);
    }
    let reader = app.api_token(&[Scope::InvoicesRead]).await;
    assert_eq!(app.api("POST", &path, &reader, Some(serde_json::json!({}))).await.status, StatusCode::FORBIDDEN);
    let nobody = app.account("Empty Clinic", None).await;
    let empty = format!("/api/v1/accounts/{nobody}/statement/send");
    let res = app.api("POST", &empty, &token, Some(serde_json::json!({}))).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("no finance contact"), "{}", res.body);
    let unknown = app.api("POST", "/api/v1/accounts/A-99999/statement/send", &token, Some(serde_json::json!({}))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'statement.sent'").await, 2);
}
