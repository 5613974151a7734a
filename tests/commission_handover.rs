//! The hand-over split (issue 18 item 5): when an account changes owner with the seller's
//! hand-over on, orders placed during the hand-over are split between the previous rep (their
//! share) and the new owner (the rest), each at their own plan's rate, in their own periods;
//! orders placed before the change stay with the old rep, orders placed after the hand-over go to
//! the new owner alone; credit notes claw back from both in proportion; a later change of the
//! setting does not re-split a running hand-over; bad settings are refused field by field (page
//! and API) and change nothing. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::account::OwnershipMode;
use portico::domain::auth::{Principal, Scope};
use portico::domain::commissions::{HandoverDraft, PlanDraft, StatementAction, next_period};
use portico::domain::money::Money;
use portico::service::credit_notes::{CreditRequest, issue_credit_note};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, accounts, commissions};
use portico::store::new_id;
use portico::store::products::ProductInput;
use serde_json::{Value, json};

const DAY: i64 = 86_400;

struct Fixture {
    account: String,
    rep_a: Principal,
    rep_b: Principal,
    admin: Principal,
    finance: Principal,
    cs: Principal,
}

/// Gloves (Dental / Gloves) at 10.00 and gauze (no category) at 0.0125. Rep A (Rita) has the
/// Standard plan (5 %, Dental 6 %), rep B (Bert) the Senior plan (8 % on everything); the account
/// is A's.
async fn fixture(app: &TestApp) -> Fixture {
    let common::CommissionStaff { rep_a, rep_b, admin, finance, cs } = app.commission_staff().await;
    let account = app.account("Smile Dental", Some(&rep_a.user_id)).await;
    common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 1000),
            (ProductInput::new("GZ-1", "Gauze"), "0.0125", 100_000),
        ],
    )
    .await;
    common::write(app.db(), |tx| {
        Box::pin(async move {
            let (top, sub) = (new_id(), new_id());
            portico::store::categories::insert_category(tx, &top, None, "Dental", "Dental", 0, 0).await?;
            portico::store::categories::insert_category(tx, &sub, Some(&top), "Gloves", "Dental / Gloves", 0, 0)
                .await?;
            tx.execute("UPDATE products SET category_id = $1 WHERE sku = 'GLV-1'", portico::args![sub.as_str()])
                .await?;
            Ok(())
        })
    })
    .await;
    let admin_actor = Actor::web(&admin);
    let plan = |name: &str, rate: &str, categories: &str| PlanDraft {
        name: name.into(),
        effective_from: "2000-01-01".into(),
        default_rate: rate.into(),
        category_rates: categories.into(),
        ..Default::default()
    };
    for (rep, draft) in [(&rep_a, plan("Standard", "5", "Dental = 6")), (&rep_b, plan("Senior", "8", ""))] {
        let id = commissions::save_plan(app.db(), app.now(), &admin_actor, None, &draft).await.unwrap();
        commissions::assign_plan(app.db(), app.now(), &admin_actor, &rep.user_id, &id, "2000-01-01", "").await.unwrap();
    }
    Fixture { account, rep_a, rep_b, admin, finance, cs }
}

async fn set_handover(app: &TestApp, f: &Fixture, days: &str, share: &str) {
    let draft = HandoverDraft { days: days.into(), share: share.into() };
    commissions::set_handover_settings(app.db(), app.now(), &Actor::web(&f.admin), &draft).await.unwrap();
}

/// Gives the account to `rep` at `at` through the staff's account form's service.
async fn change_owner(app: &TestApp, f: &Fixture, rep: Option<&str>, at: i64) -> accounts::AccountRow {
    let admin = Actor::web(&f.admin);
    let a = accounts::get_account(app.db(), &admin, &f.account).await.unwrap();
    let mut draft = a.draft();
    draft.owner_rep_id = rep.map(str::to_string);
    // An account without a rep is self-service.
    draft.ownership_mode = if rep.is_some() { OwnershipMode::Hybrid } else { OwnershipMode::SelfService };
    accounts::update_account(app.db(), at, &admin, &a.id, a.version, &draft, a.group_id.as_deref()).await.unwrap()
}

async fn place_at(app: &TestApp, f: &Fixture, at: i64, lines: &[(&str, i64)]) -> orders::OrderRow {
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: lines.iter().map(|(s, q)| LineInput::sku(s, *q)).collect(),
        header: OrderHeader::default(),
        clear_cart: false,
    };
    match orders::place_order(app.db(), at, &Actor::web(&f.cs), &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    }
}

async fn ship(app: &TestApp, f: &Fixture, number: &str, lines: &[(i64, i64)]) {
    let cs = Actor::web(&f.cs);
    let _ = orders::confirm_order(app.db(), app.now(), &cs, number, None).await;
    let input = ShipmentInput { warehouse: "CHI".into(), lines: lines.to_vec(), ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, number, &input).await.unwrap();
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

type Line = (String, String, Money, i64, String, Money);

/// (invoice, sku, base, rate ppm, rule, amount) of a rep's lines of a period, by invoice and SKU.
async fn lines_of(app: &TestApp, rep: &Principal, period: &str) -> Vec<Line> {
    let mut lines: Vec<Line> =
        commissions::statement_lines(app.db(), &Actor::web(rep), &rep.user_id, period, None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.invoice_number, l.sku, Money::from_raw(l.base), l.rate_ppm, l.rule, Money::from_raw(l.amount)))
            .collect();
    lines.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    lines
}

fn view(lines: &[Line]) -> Vec<(&str, &str, Money, &str, Money)> {
    lines.iter().map(|l| (l.0.as_str(), l.1.as_str(), l.2, l.4.as_str(), l.5)).collect()
}

async fn earned(app: &TestApp, f: &Fixture, rep: &Principal, period: &str) -> Money {
    commissions::statement(app.db(), &Actor::web(&f.finance), &rep.user_id, period).await.unwrap().earned
}

#[tokio::test]
async fn an_order_placed_during_the_hand_over_is_split_between_the_old_and_the_new_rep() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    set_handover(&app, &f, "30", "30").await;
    let now = app.now();

    // Placed while A owns the account: A's alone.
    let before = place_at(&app, &f, now, &[("GLV-1", 2)]).await;
    // The account changes hands: A keeps 30 % of what is ordered in the next 30 days.
    let account = change_owner(&app, &f, Some(&f.rep_b.user_id), now).await;
    assert_eq!(account.handover_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()));
    assert_eq!((account.handover_until, account.handover_share_ppm), (Some(now + 30 * DAY), Some(300_000)));
    // A later change of the setting does not re-split the running hand-over.
    set_handover(&app, &f, "90", "50").await;
    let during = place_at(&app, &f, now + 29 * DAY, &[("GLV-1", 3), ("GZ-1", 333)]).await;
    let after = place_at(&app, &f, now + 30 * DAY, &[("GZ-1", 1000)]).await;
    assert_eq!(before.owner_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()));
    assert_eq!((before.handover_rep_id.as_deref(), before.handover_share_ppm), (None, 0));
    assert_eq!(during.owner_rep_id.as_deref(), Some(f.rep_b.user_id.as_str()));
    assert_eq!(
        (during.handover_rep_id.as_deref(), during.handover_share_ppm),
        (Some(f.rep_a.user_id.as_str()), 300_000)
    );
    assert_eq!((after.handover_rep_id.as_deref(), after.handover_share_ppm), (None, 0), "placed when it ended");

    ship(&app, &f, &before.number, &[(1, 2)]).await; // INV-100001
    ship(&app, &f, &during.number, &[(1, 3), (2, 333)]).await; // INV-100002
    ship(&app, &f, &after.number, &[(1, 1000)]).await; // INV-100003
    let a = lines_of(&app, &f.rep_a, &period).await;
    assert_eq!(
        view(&a),
        vec![
            // 2 × 10.00 at Dental's 6 %.
            ("INV-100001", "GLV-1", m("20.00"), "category:Dental", m("1.20")),
            // 30 % of 30.00 = 9.00 at A's 6 % = 0.54.
            ("INV-100002", "GLV-1", m("9.00"), "category:Dental; hand-over 30% to previous rep", m("0.54")),
            // 30 % of 4.16 = 1.248 → 1.25 at A's 5 % = 0.0625 → 0.06.
            ("INV-100002", "GZ-1", m("1.25"), "default; hand-over 30% to previous rep", m("0.06")),
        ]
    );
    let b = lines_of(&app, &f.rep_b, &period).await;
    assert_eq!(
        view(&b),
        vec![
            // The rest, 21.00, at B's own 8 % = 1.68.
            ("INV-100002", "GLV-1", m("21.00"), "default; hand-over 70% kept", m("1.68")),
            // 4.16 − 1.25 = 2.91 at 8 % = 0.2328 → 0.23.
            ("INV-100002", "GZ-1", m("2.91"), "default; hand-over 70% kept", m("0.23")),
            // After the hand-over: B's alone, 12.50 at 8 %.
            ("INV-100003", "GZ-1", m("12.50"), "default", m("1.00")),
        ]
    );
    // The two bases of each split line add up to the line's net exactly.
    for sku in ["GLV-1", "GZ-1"] {
        let part = |lines: &[Line]| lines.iter().find(|l| l.0 == "INV-100002" && l.1 == sku).unwrap().2;
        let net = if sku == "GLV-1" { m("30.00") } else { m("4.16") };
        assert_eq!(part(&a).checked_add(part(&b)), Some(net), "{sku}");
    }
    // What a statement page shows of a line: the rule, explained.
    let res = {
        let mut rep = app.signed_in(&f.rep_a.email).await;
        rep.get("/commissions").await
    };
    assert!(res.body.contains("Category Dental; hand-over 30% to previous rep"), "{}", res.body);

    // A credit note for one glove of the split invoice claws back from both, in proportion:
    // 20.00 remains: A 6.00 (0.36, was 0.54), B 14.00 (1.12, was 1.68).
    let fin = Actor::web(&f.finance);
    let one = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    let cn = issue_credit_note(app.db(), app.now(), &fin, "INV-100002", &one).await.unwrap();
    let claws = |lines: &[Line]| -> Vec<(Money, Money)> {
        lines.iter().filter(|l| l.0.starts_with("CN-")).map(|l| (l.2, l.5)).collect()
    };
    let (a, b) = (lines_of(&app, &f.rep_a, &period).await, lines_of(&app, &f.rep_b, &period).await);
    assert_eq!(claws(&a), vec![(m("-3.00"), m("-0.18"))], "{}", cn.number);
    assert_eq!(claws(&b), vec![(m("-7.00"), m("-0.56"))]);
    assert!(a.iter().chain(&b).filter(|l| l.0.starts_with("CN-")).all(|l| l.4.contains("; hand-over")));
    // The other two gloves: each rep's glove line nets to exactly zero.
    let two = CreditRequest { lines: vec![(1, 2)], reason: "Returned".into() };
    issue_credit_note(app.db(), app.now(), &fin, "INV-100002", &two).await.unwrap();
    for rep in [&f.rep_a, &f.rep_b] {
        let lines = lines_of(&app, rep, &period).await;
        let glove = Money::sum(
            lines.iter().filter(|l| l.1 == "GLV-1" && (l.0 == "INV-100002" || l.0.starts_with("CN-"))).map(|l| l.5),
        )
        .unwrap();
        assert_eq!(glove, Money::ZERO, "{}: fully credited, nothing earned on it", rep.name);
    }
    // The statements: A 1.20 + 0.06 (gauze); B 0.23 + 1.00.
    assert_eq!(earned(&app, &f, &f.rep_a, &period).await, m("1.26"));
    assert_eq!(earned(&app, &f, &f.rep_b, &period).await, m("1.23"));

    // Each rep still sees only their own statement.
    let err = commissions::statement(app.db(), &Actor::web(&f.rep_b), &f.rep_a.user_id, &period).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden), "{err:?}");
    let mut rep_b = app.signed_in(&f.rep_b.email).await;
    assert_eq!(rep_b.get(&format!("/commissions?rep={}", f.rep_a.user_id)).await.status, StatusCode::FORBIDDEN);
    let csv = rep_b.get(&format!("/commissions/statement.csv?rep={}&period={period}", f.rep_a.user_id)).await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_account_page_shows_a_running_hand_over_and_every_path_that_changes_the_owner_records_it() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    set_handover(&app, &f, "14", "12.5").await;
    change_owner(&app, &f, Some(&f.rep_b.user_id), app.now()).await;
    let mut admin = app.signed_in(&f.admin.email).await;
    let page = admin.get(&format!("/accounts/{}", f.account)).await;
    assert_eq!(page.status, StatusCode::OK);
    let until = portico::domain::time_zone::Zone::default().date(app.now() + 14 * DAY);
    assert!(
        page.body.contains(&format!("id=\"account-handover\">Hand-over from Rita Rep until {until} (12.5%)")),
        "{}",
        page.body
    );
    // To no rep: cleared (and nothing shown).
    let a = change_owner(&app, &f, None, app.now()).await;
    assert_eq!((a.handover_rep_id, a.handover_until, a.handover_share_ppm), (None, None, None));
    assert!(!admin.get(&format!("/accounts/{}", f.account)).await.body.contains("account-handover"));
    // From no rep: none.
    let a = change_owner(&app, &f, Some(&f.rep_a.user_id), app.now()).await;
    assert_eq!(a.handover_rep_id, None);
    // A save that keeps the owner keeps the hand-over.
    let a = change_owner(&app, &f, Some(&f.rep_b.user_id), app.now()).await;
    assert_eq!(a.handover_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()));
    let again = change_owner(&app, &f, Some(&f.rep_b.user_id), app.now() + DAY).await;
    assert_eq!((&again.handover_rep_id, again.handover_until), (&a.handover_rep_id, a.handover_until));
    // A hand-over that ended is not shown.
    let ended = accounts::running_handover(app.db(), app.now() + 15 * DAY, &Actor::web(&f.admin), &again).await;
    assert!(ended.unwrap().is_none());

    // The ERP's account sync (PUT /accounts/{external_id}) and a CSV import record it too.
    let token = app.api_token(&[Scope::AccountsWrite]).await;
    let doc = |rep: &str| {
        json!({"name": "Sync Dental", "owner_rep": rep, "ownership_mode": "hybrid",
               "bill_to": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"}})
    };
    let res = app.api("PUT", "/api/v1/accounts/ERP-7", &token, Some(doc(&f.rep_a.email))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let res = app.api("PUT", "/api/v1/accounts/ERP-7", &token, Some(doc(&f.rep_b.email))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let id: Value = serde_json::from_str(&res.body).unwrap();
    let id = id["account"]["id"].as_str().unwrap().to_string();
    let synced = portico::store::accounts::get(app.db(), &id).await.unwrap().unwrap();
    assert_eq!(synced.handover_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()), "ERP sync");
    assert_eq!(synced.handover_share_ppm, Some(125_000));
    let csv = format!("number,name,owner_rep\n{},Sync Dental,{}\n", synced.number, f.rep_a.email);
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/imports/accounts")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let imported = portico::store::accounts::get(app.db(), &id).await.unwrap().unwrap();
    assert_eq!(imported.owner_rep_id.as_deref(), Some(f.rep_a.user_id.as_str()));
    assert_eq!(imported.handover_rep_id.as_deref(), Some(f.rep_b.user_id.as_str()), "CSV import: handed back");
}

#[tokio::test]
async fn a_locked_month_of_one_rep_sends_his_clawback_to_his_next_open_month() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    set_handover(&app, &f, "30", "30").await;
    change_owner(&app, &f, Some(&f.rep_b.user_id), app.now()).await;
    let o = place_at(&app, &f, app.now(), &[("GLV-1", 2)]).await;
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    // A: 6.00 at 6 % = 0.36; B: 14.00 at 8 % = 1.12.
    let fin = Actor::web(&f.finance);
    for action in [StatementAction::Approve, StatementAction::Lock] {
        commissions::act_on_statement(app.db(), app.now(), &fin, &f.rep_a.user_id, &period, action).await.unwrap();
    }
    let one = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    issue_credit_note(app.db(), app.now(), &fin, "INV-100001", &one).await.unwrap();
    // 10.00 remains: A 3.00 (0.18), B 7.00 (0.56).
    assert_eq!(earned(&app, &f, &f.rep_a, &period).await, m("0.36"), "A's locked month never changes");
    assert_eq!(earned(&app, &f, &f.rep_a, &next_period(&period)).await, m("-0.18"), "A's clawback: his next month");
    assert_eq!(earned(&app, &f, &f.rep_b, &period).await, m("0.56"), "B's month is open: 1.12 − 0.56");
    assert_eq!(lines_of(&app, &f.rep_b, &next_period(&period)).await.len(), 0);
}

#[tokio::test]
async fn with_the_setting_off_nothing_is_split() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let period = commissions::this_period(app.now());
    // Days 0 (the default): off, whatever the share.
    set_handover(&app, &f, "0", "40").await;
    let a = change_owner(&app, &f, Some(&f.rep_b.user_id), app.now()).await;
    assert_eq!(a.handover_rep_id, None);
    let o = place_at(&app, &f, app.now(), &[("GLV-1", 2)]).await;
    assert_eq!((o.handover_rep_id.as_deref(), o.handover_share_ppm), (None, 0));
    ship(&app, &f, &o.number, &[(1, 2)]).await;
    assert!(lines_of(&app, &f.rep_a, &period).await.is_empty());
    assert_eq!(
        view(&lines_of(&app, &f.rep_b, &period).await),
        vec![("INV-100001", "GLV-1", m("20.00"), "default", m("1.60"))]
    );
}

#[tokio::test]
async fn bad_settings_are_refused_beside_their_fields_and_change_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    set_handover(&app, &f, "30", "30").await;
    let mut admin = app.signed_in(&f.admin.email).await;
    let mut fin = app.signed_in(&f.finance.email).await;
    let write = app.api_token(&[Scope::CommissionsWrite]).await;
    let read = app.api_token(&[Scope::CommissionsRead]).await;
    let audit = app.count("SELECT COUNT(*) FROM audit_log").await;
    let page = admin.get("/admin/commissions").await;
    assert!(page.body.contains("name=\"handover_days\" value=\"30\""), "{}", page.body);
    for (days, share, bad_days, bad_share) in [
        ("-1", "30", true, false),
        ("366", "30", true, false),
        ("thirty", "30", true, false),
        ("30", "-5", false, true),
        ("30", "100.5", false, true),
        ("30", "12.345", false, true),
        ("30", "ten", false, true),
        ("3\0", "30", true, false),
        ("30", "3\u{0}0", false, true),
        ("999", "101", true, true),
    ] {
        let res =
            admin.post("/admin/commissions/handover", &[("handover_days", days), ("handover_share", share)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{days:?} {share:?}: {}", res.body);
        assert_eq!(!res.body.contains("id=\"ho-days-error\"></span>"), bad_days, "{days:?}: {}", res.body);
        assert_eq!(!res.body.contains("id=\"ho-share-error\"></span>"), bad_share, "{share:?}: {}", res.body);
        if !days.contains('\0') && !share.contains('\0') {
            assert!(res.body.contains(&format!("name=\"handover_days\" value=\"{days}\"")), "input kept");
        }
    }
    let res = admin.post("/admin/commissions/handover", &[("handover_days", "366"), ("handover_share", "30")]).await;
    assert!(res.body.contains("id=\"ho-days-error\">Hand-over days: a whole number from 0 to 365"), "{}", res.body);
    // Finance may not change them.
    let res = fin.post("/admin/commissions/handover", &[("handover_days", "1"), ("handover_share", "1")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // The API: the same bounds, 422 naming the field.
    for (body, field) in [
        (json!({"handover_days": -1, "handover_share": "30"}), "handover_days"),
        (json!({"handover_days": 366, "handover_share": "30"}), "handover_days"),
        (json!({"handover_days": "thirty", "handover_share": "30"}), "handover_days"),
        (json!({"handover_days": 1.5, "handover_share": "30"}), "handover_days"),
        (json!({"handover_days": 30, "handover_share": "100.01"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": "12.345"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": "-5"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": "030"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": " 30"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": "30%"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": "3\u{0}0"}), "handover_share"),
        (json!({"handover_days": 30, "handover_share": 30}), "handover_share"),
        (json!({"handover_days": 30}), "handover_share"),
    ] {
        let res = app.api("PUT", "/api/v1/commissions/settings", &write, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert!(res.body.contains(field), "{body}: {}", res.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit, "nothing changed");
    let res = app.api("GET", "/api/v1/commissions/settings", &read, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(got, json!({"handover_days": 30, "handover_share": "30", "handover_share_ppm": 300_000}));
    // Reading does not write; writing needs commissions:write.
    let ok = json!({"handover_days": 365, "handover_share": "33.33"});
    assert_eq!(
        app.api("PUT", "/api/v1/commissions/settings", &read, Some(ok.clone())).await.status,
        StatusCode::FORBIDDEN
    );
    let res = app.api("PUT", "/api/v1/commissions/settings", &write, Some(ok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(got, json!({"handover_days": 365, "handover_share": "33.33", "handover_share_ppm": 333_300}));
    for edge in
        [json!({"handover_days": 0, "handover_share": "100.00"}), json!({"handover_days": 1, "handover_share": "0"})]
    {
        let res = app.api("PUT", "/api/v1/commissions/settings", &write, Some(edge.clone())).await;
        assert_eq!(res.status, StatusCode::OK, "{edge}: {}", res.body);
    }
    // The document says exactly that: the bounds and pattern the handler holds to, every status.
    let doc = app.send(axum::http::Request::get("/api/v1/openapi.json").body(axum::body::Body::empty()).unwrap()).await;
    let doc: Value = serde_json::from_str(&doc.body).unwrap();
    let schema = &doc["components"]["schemas"]["CommissionSettingsIn"];
    assert_eq!(
        (&schema["properties"]["handover_days"]["minimum"], &schema["properties"]["handover_days"]["maximum"]),
        (&json!(0), &json!(365))
    );
    assert_eq!(schema["properties"]["handover_share"]["pattern"], r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$");
    assert_eq!(schema["required"], json!(["handover_days", "handover_share"]));
    let op = &doc["paths"]["/api/v1/commissions/settings"];
    let statuses =
        |method: &str| -> Vec<String> { op[method]["responses"].as_object().unwrap().keys().cloned().collect() };
    assert_eq!(statuses("get"), ["200", "401", "403", "422"]);
    assert_eq!(statuses("put"), ["200", "401", "403", "413", "422"]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'commission_settings.updated'").await,
        4,
        "the first save and the three through the API"
    );
}

#[tokio::test]
async fn the_api_account_shows_a_running_hand_over_to_staff_integrations_and_never_to_buyers() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let read = app.api_token(&[Scope::AccountsRead]).await;
    let settings = app.api_token(&[Scope::CommissionsRead]).await;
    let get = async |path: &str, token: &str| -> Value {
        let res = app.api("GET", path, token, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
        serde_json::from_str(&res.body).unwrap()
    };
    let account = format!("/api/v1/accounts/{}", f.account);
    // No change of owner yet: null (present, so a client can rely on the key).
    let a = get(&account, &read).await;
    assert_eq!(a["handover"], Value::Null, "{a}");

    set_handover(&app, &f, "14", "12.5").await;
    let now = app.now();
    change_owner(&app, &f, Some(&f.rep_b.user_id), now).await;
    let a = get(&account, &read).await;
    assert_eq!(a["owner_rep_id"], f.rep_b.user_id.as_str());
    assert_eq!(
        a["handover"],
        json!({
            "previous_rep_id": f.rep_a.user_id, "previous_rep_name": "Rita Rep",
            "previous_rep_email": f.rep_a.email, "until": now + 14 * DAY,
            "share": "12.5", "share_ppm": 125_000
        })
    );
    // The share is written as the settings write it.
    let s = get("/api/v1/commissions/settings", &settings).await;
    assert_eq!(
        (&s["handover_share"], &s["handover_share_ppm"]),
        (&a["handover"]["share"], &a["handover"]["share_ppm"])
    );
    // The list an ERP pulls has it too, and null on an account without one.
    let other = app.account("Plain Dental", Some(&f.rep_a.user_id)).await;
    let page = get("/api/v1/accounts?updated_since=0&limit=100", &read).await;
    let of = |id: &str| page["accounts"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone();
    assert_eq!(of(&f.account)["handover"], a["handover"]);
    assert_eq!(of(&other)["handover"], Value::Null);
    // A later change of the setting does not change a running hand-over.
    set_handover(&app, &f, "90", "50").await;
    assert_eq!(get(&account, &read).await["handover"]["share_ppm"], 125_000);
    // The ERP's upsert answers with it as well (the document keeps the owner: the hand-over stays).
    let write = app.api_token(&[Scope::AccountsWrite]).await;
    let doc = json!({"name": "Smile Dental", "owner_rep": f.rep_b.email, "ownership_mode": "hybrid",
                     "bill_to": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"}});
    let number = a["number"].as_str().unwrap().to_string();
    common::write(app.db(), {
        let id = f.account.clone();
        move |tx| {
            Box::pin(async move {
                tx.execute("UPDATE accounts SET external_id = 'ERP-HO' WHERE id = $1", portico::args![id.as_str()])
                    .await?;
                Ok(())
            })
        }
    })
    .await;
    let res = app.api("PUT", "/api/v1/accounts/ERP-HO", &write, Some(doc)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let up: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!((&up["account"]["number"], &up["account"]["handover"]), (&json!(number), &a["handover"]));

    // Once it ended: null. A change of owner 15 days ago with 14 days of hand-over.
    set_handover(&app, &f, "14", "30").await;
    change_owner(&app, &f, Some(&f.rep_a.user_id), now - 15 * DAY).await;
    let stored = portico::store::accounts::get(app.db(), &f.account).await.unwrap().unwrap();
    assert_eq!(stored.handover_rep_id.as_deref(), Some(f.rep_b.user_id.as_str()), "recorded, but over");
    assert_eq!(get(&account, &read).await["handover"], Value::Null);

    // Buyers: an API token is an integration an administrator makes (seller staff), so no buyer
    // calls the API — a buyer's session opens none of it.
    change_owner(&app, &f, Some(&f.rep_b.user_id), now).await;
    let buyer = app.buyer(&f.account, "Bea Buyer", portico::domain::auth::BuyerRole::Manager).await;
    let mut b = app.signed_in(&buyer.email).await;
    assert_eq!(b.get(&account).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(b.get("/api/v1/accounts?updated_since=0").await.status, StatusCode::UNAUTHORIZED);
    // And the service the API reads through, asked by the account's own buyer, leaves the
    // commission terms out (staff see them).
    let bp = buyer.principal().unwrap();
    let seen = portico::service::account_sync::synced_account(app.db(), app.now(), &Actor::web(&bp), &f.account)
        .await
        .unwrap();
    assert_eq!(seen.account.id, f.account);
    assert!(seen.handover.is_none(), "{:?}", seen.handover);
    let staff = portico::service::account_sync::synced_account(app.db(), app.now(), &Actor::web(&f.cs), &f.account)
        .await
        .unwrap();
    assert_eq!(staff.handover.map(|h| (h.rep_id, h.share_ppm)), Some((f.rep_a.user_id.clone(), 300_000)));
}
