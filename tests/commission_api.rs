//! Commission plans, assignments, teams and house accounts over the API (issue 18): each endpoint
//! does what the admin page does — read back through the API and, where it matters, by the next
//! invoice's accrual; bad input is refused with a 422 naming the field (a list item by its index)
//! and changes nothing; unknown ids are 404; a token without `commissions:write` cannot change
//! anything, one without a commissions scope cannot read either. Also the admin page's team
//! rename. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::{TestApp, TestResponse};
use portico::domain::auth::{Principal, Scope, StaffRole};
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, commissions};
use portico::store::products::ProductInput;
use serde_json::{Value, json};

struct Fixture {
    account: String,
    account_number: String,
    rep: Principal,
    cs: Principal,
    write: String,
    read: String,
}

/// Gauze at 1.00; rep Rita owns Smile Dental; no plans, teams or assignments yet. Tokens with
/// `commissions:write` and with `commissions:read`.
async fn fixture(app: &TestApp) -> Fixture {
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let account = app.account("Smile Dental", Some(&rep.user_id)).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GZ-1", "Gauze"), "1.00", 1000)]).await;
    let account_number = portico::store::accounts::get(app.db(), &account).await.unwrap().unwrap().number;
    Fixture {
        account,
        account_number,
        rep,
        cs,
        write: app.api_token(&[Scope::CommissionsWrite]).await,
        read: app.api_token(&[Scope::CommissionsRead]).await,
    }
}

/// Places, confirms and ships (so invoices) an order of 10 gauze (a net of 10.00).
async fn invoice(app: &TestApp, f: &Fixture) {
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: vec![LineInput::sku("GZ-1", 10)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let cs = Actor::web(&f.cs);
    let order =
        match orders::place_order(app.db(), app.now(), &cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
            Placement::Placed { order, .. } => order,
            _ => panic!("not placed"),
        };
    let _ = orders::confirm_order(app.db(), app.now(), &cs, &order.number, None).await;
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, 10)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &order.number, &input).await.unwrap();
}

fn json_of(res: &TestResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("{e}: {}", res.body))
}

/// (plan id, rate ppm, amount) of the rep's accrual lines, oldest first, read over the API.
async fn accruals(app: &TestApp, f: &Fixture) -> Vec<(String, i64, String)> {
    let res = app.api("GET", &format!("/api/v1/commissions/accruals?rep={}", f.rep.user_id), &f.read, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    json_of(&res)["accruals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["plan_id"].as_str().unwrap().to_string(), a["rate_ppm"].as_i64().unwrap(), a["amount"].to_string()))
        .collect()
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> TestResponse {
    app.api(method, &format!("/api/v1/commissions{path}"), token, body).await
}

/// What every test below checks did not change.
async fn counts(app: &TestApp) -> [i64; 6] {
    [
        app.count("SELECT COUNT(*) FROM commission_plans").await,
        app.count("SELECT COUNT(*) FROM commission_assignments").await,
        app.count("SELECT COUNT(*) FROM commission_teams").await,
        app.count("SELECT COUNT(*) FROM commission_team_members").await,
        app.count("SELECT COUNT(*) FROM accounts WHERE commission_house = TRUE").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    ]
}

fn standard_plan() -> Value {
    json!({
        "name": "Standard 2027",
        "effective_from": "2000-01-01",
        "default_rate": "7",
        "basis": "invoiced",
        "category_rates": [{"path": "Dental", "rate": "6"}, {"path": "Dental / Burs", "rate": "8.125"}],
        "channel_rates": [{"channel": "punchout", "rate": "4"}],
        "tiers": [{"threshold": "100000", "bonus_rate": "2"}, {"threshold": "50000.50", "bonus_rate": "1"}],
        "cap": "2000"
    })
}

async fn create_plan(app: &TestApp, f: &Fixture, body: Value) -> Value {
    let res = call(app, "POST", "/plans", &f.write, Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    json_of(&res)
}

async fn create_team(app: &TestApp, f: &Fixture, name: &str) -> String {
    let res = call(app, "POST", "/teams", &f.write, Some(json!({ "name": name }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    json_of(&res)["id"].as_str().unwrap().to_string()
}

fn fields(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    json_of(res)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_plan_made_and_assigned_to_a_team_over_the_api_makes_its_rep_earn_at_its_rate() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;

    let plan = create_plan(&app, &f, standard_plan()).await;
    let id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(plan["name"], "Standard 2027");
    assert_eq!((plan["default_rate"].as_str(), plan["default_rate_ppm"].as_i64()), (Some("7"), Some(70_000)));
    assert_eq!(plan["effective_to"], Value::Null);
    assert_eq!(plan["basis"], "invoiced");
    assert_eq!(
        plan["category_rates"],
        json!([{"path": "Dental", "rate": "6", "rate_ppm": 60000}, {"path": "Dental / Burs", "rate": "8.125", "rate_ppm": 81250}])
    );
    assert_eq!(plan["channel_rates"], json!([{"channel": "punchout", "rate": "4", "rate_ppm": 40000}]));
    assert_eq!(
        plan["tiers"],
        json!([
            {"threshold": "50000.50", "bonus_rate": "1", "bonus_rate_ppm": 10000},
            {"threshold": "100000.00", "bonus_rate": "2", "bonus_rate_ppm": 20000}
        ]),
        "lowest threshold first, amounts as exact strings"
    );
    assert_eq!(plan["cap"], "2000.00");
    // Read back, one and all.
    let res = call(&app, "GET", &format!("/plans/{id}"), &f.read, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(json_of(&res), plan);
    let res = call(&app, "GET", "/plans", &f.read, None).await;
    assert_eq!(json_of(&res)["plans"], json!([plan.clone()]));
    // The admin form reads the same plan.
    let row = portico::store::commissions::plan(app.db(), &id).await.unwrap().unwrap();
    let form = commissions::plan_draft(&row);
    assert_eq!((form.default_rate.as_str(), form.cap.as_str()), ("7", "2000.00"));
    assert_eq!(form.category_rates, "Dental = 6\nDental / Burs = 8.125");

    // A team with Rita, assigned the plan.
    let team = create_team(&app, &f, "North").await;
    let res = call(&app, "PUT", &format!("/teams/{team}/members/{}", f.rep.user_id), &f.write, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(json_of(&res)["members"], json!([{"rep_id": f.rep.user_id, "rep_name": "Rita Rep"}]));
    let again = call(&app, "PUT", &format!("/teams/{team}/members/{}", f.rep.user_id), &f.write, None).await;
    assert_eq!(again.status, StatusCode::OK, "putting a member again changes nothing: {}", again.body);
    let body = json!({"plan_id": id, "team_id": team, "effective_from": "2000-01-01"});
    let res = call(&app, "POST", "/assignments", &f.write, Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let assignment = json_of(&res);
    assert_eq!(
        (&assignment["team_id"], &assignment["rep_id"], &assignment["assignee_name"], &assignment["effective_to"]),
        (&json!(team), &Value::Null, &json!("North"), &Value::Null)
    );
    let res = call(&app, "GET", "/assignments", &f.read, None).await;
    assert_eq!(json_of(&res)["assignments"], json!([assignment]));

    // The next invoice earns by the team's plan, at its default rate (no category or channel fits).
    invoice(&app, &f).await;
    assert_eq!(accruals(&app, &f).await, vec![(id.clone(), 70_000, json!("0.70").to_string())]);

    // A changed plan: later invoices earn at the new rate, earlier lines stay.
    let mut changed = standard_plan();
    changed["default_rate"] = json!("9.5");
    changed["effective_to"] = json!("2999-12-31");
    changed["cap"] = Value::Null;
    let res = call(&app, "PUT", &format!("/plans/{id}"), &f.write, Some(changed)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got = json_of(&res);
    assert_eq!(
        (&got["default_rate"], &got["effective_to"], &got["cap"]),
        (&json!("9.5"), &json!("2999-12-31"), &Value::Null)
    );
    assert_eq!(got["created_at"], plan["created_at"]);
    invoice(&app, &f).await;
    let lines = accruals(&app, &f).await;
    assert_eq!(lines[0].1, 70_000, "earlier lines stay");
    assert_eq!(lines[1], (id.clone(), 95_000, json!("0.95").to_string()));

    // Audited and published like the admin page's changes.
    for (event, n) in [
        ("commission_plan.created", 1),
        ("commission_plan.updated", 1),
        ("commission_team.created", 1),
        ("commission_team.member_added", 1),
        ("commission_plan.assigned", 1),
    ] {
        let sql = format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}'");
        assert_eq!(app.count_dyn(&sql).await, n, "{event}");
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{event}'");
        assert_eq!(app.count_dyn(&sql).await, n, "{event} audited");
    }
}

#[tokio::test]
async fn a_reps_own_assignment_over_the_api_applies_until_it_is_removed() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let plan = create_plan(&app, &f, json!({"name": "Own", "effective_from": "2000-01-01", "default_rate": "8"})).await;
    let plan = plan["id"].as_str().unwrap().to_string();
    let body = json!({"plan_id": plan, "rep_id": f.rep.user_id, "effective_from": "2000-01-01", "effective_to": null});
    let res = call(&app, "POST", "/assignments", &f.write, Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let got = json_of(&res);
    assert_eq!(
        (&got["rep_id"], &got["team_id"], &got["assignee_name"]),
        (&json!(f.rep.user_id), &Value::Null, &json!("Rita Rep"))
    );
    let id = got["id"].as_str().unwrap().to_string();
    invoice(&app, &f).await;
    assert_eq!(accruals(&app, &f).await, vec![(plan.clone(), 80_000, json!("0.80").to_string())]);

    let res = call(&app, "DELETE", &format!("/assignments/{id}"), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let res = call(&app, "DELETE", &format!("/assignments/{id}"), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "gone: {}", res.body);
    assert_eq!(json_of(&call(&app, "GET", "/assignments", &f.read, None).await)["assignments"], json!([]));
    invoice(&app, &f).await;
    assert_eq!(accruals(&app, &f).await.len(), 1, "no plan, nothing earned; the earlier line stays");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_plan.unassigned'").await, 1);
}

#[tokio::test]
async fn teams_are_renamed_emptied_and_deleted_and_house_accounts_earn_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let plan =
        create_plan(&app, &f, json!({"name": "Team", "effective_from": "2000-01-01", "default_rate": "5"})).await;
    let team = create_team(&app, &f, "North").await;
    let _south = create_team(&app, &f, "South").await;
    call(&app, "PUT", &format!("/teams/{team}/members/{}", f.rep.user_id), &f.write, None).await;
    let body = json!({"plan_id": plan["id"], "team_id": team, "effective_from": "2000-01-01"});
    let assignment = json_of(&call(&app, "POST", "/assignments", &f.write, Some(body)).await)["id"].clone();

    // Renamed (a change of case of its own name is fine); its members and plan stay.
    let res = call(&app, "PATCH", &format!("/teams/{team}"), &f.write, Some(json!({"name": "North-East"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(json_of(&res)["name"], "North-East");
    assert_eq!(json_of(&res)["members"][0]["rep_id"], json!(f.rep.user_id));
    let res = call(&app, "PATCH", &format!("/teams/{team}"), &f.write, Some(json!({"name": "NORTH-EAST"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let teams = json_of(&call(&app, "GET", "/teams", &f.read, None).await);
    let names: Vec<&str> = teams["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["NORTH-EAST", "South"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_team.renamed'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'commission_team.renamed'").await, 2);
    assert_eq!(
        json_of(&call(&app, "GET", "/assignments", &f.read, None).await)["assignments"][0]["assignee_name"],
        "NORTH-EAST"
    );

    // A rep is in one team at a time.
    let south = teams["teams"][1]["id"].as_str().unwrap().to_string();
    let res = call(&app, "PUT", &format!("/teams/{south}/members/{}", f.rep.user_id), &f.write, None).await;
    assert_eq!(fields(&res), ["rep_id"]);

    // A house account earns nothing; made a regular one again, it earns.
    let res = call(&app, "PUT", &format!("/house-accounts/{}", f.account_number), &f.write, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let house = json!({"account_id": f.account, "account_number": f.account_number, "account_name": "Smile Dental"});
    assert_eq!(json_of(&res), house);
    let res = call(&app, "GET", "/house-accounts", &f.read, None).await;
    assert_eq!(json_of(&res)["house_accounts"], json!([house]));
    invoice(&app, &f).await;
    assert!(accruals(&app, &f).await.is_empty(), "a house account earns nothing");
    let res = call(&app, "DELETE", &format!("/house-accounts/{}", f.account), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "by id too: {}", res.body);
    assert_eq!(json_of(&call(&app, "GET", "/house-accounts", &f.read, None).await)["house_accounts"], json!([]));
    invoice(&app, &f).await;
    assert_eq!(accruals(&app, &f).await.len(), 1, "earns again");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'commission_house.changed'").await, 2);

    // Deleting is refused while the team has a member or an assignment.
    let res = call(&app, "DELETE", &format!("/teams/{team}"), &f.write, None).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    let res = call(&app, "DELETE", &format!("/teams/{team}/members/{}", f.rep.user_id), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let res = call(&app, "DELETE", &format!("/teams/{team}/members/{}", f.rep.user_id), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "no longer a member: {}", res.body);
    let res = call(&app, "DELETE", &format!("/teams/{team}"), &f.write, None).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "still assigned a plan: {}", res.body);
    let res = call(&app, "DELETE", &format!("/assignments/{}", assignment.as_str().unwrap()), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let res = call(&app, "DELETE", &format!("/teams/{team}"), &f.write, None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let res = call(&app, "PATCH", &format!("/teams/{team}"), &f.write, Some(json!({"name": "Back"}))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_teams").await, 1);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let plan = create_plan(&app, &f, standard_plan()).await;
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let team = create_team(&app, &f, "North").await;
    create_team(&app, &f, "South").await;
    let before = counts(&app).await;

    let with = |changes: Value| {
        let mut body = standard_plan();
        body["name"] = json!("Other");
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() && k.starts_with('-') {
                body.as_object_mut().unwrap().remove(&k[1..]);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            with(
                json!({"category_rates": [{"path": "A", "rate": "1"}, {"path": "B", "rate": "2"}, {"path": "C", "rate": "101"}]}),
            ),
            vec!["category_rates[2].rate"],
        ),
        (
            with(json!({"category_rates": [{"path": "A", "rate": "1"}, {"path": "a", "rate": "2"}]})),
            vec!["category_rates[1].path"],
        ),
        (
            with(json!({"category_rates": [{"path": "  ", "rate": "5%"}]})),
            vec!["category_rates[0].path", "category_rates[0].rate"],
        ),
        (with(json!({"channel_rates": [{"channel": "fax", "rate": "1"}]})), vec!["channel_rates[0].channel"]),
        (
            with(json!({"channel_rates": [{"channel": "portal", "rate": "1"}, {"channel": "portal", "rate": "2"}]})),
            vec!["channel_rates[1].channel"],
        ),
        (
            with(json!({"tiers": [{"threshold": "1", "bonus_rate": "1"}, {"threshold": "$5", "bonus_rate": "1"}]})),
            vec!["tiers[1].threshold"],
        ),
        (
            with(json!({"tiers": [{"threshold": "1000000000000", "bonus_rate": "1.00001"}]})),
            vec!["tiers[0].threshold", "tiers[0].bonus_rate"],
        ),
        (with(json!({"default_rate": "5%"})), vec!["default_rate"]),
        (with(json!({"default_rate": "100.0001"})), vec!["default_rate"]),
        (with(json!({"default_rate": 5})), vec!["default_rate"]),
        (with(json!({"effective_to": "1999-12-31"})), vec!["effective_to"]),
        (with(json!({"effective_from": " 2000-01-01"})), vec!["effective_from"]),
        (with(json!({"effective_to": ""})), vec!["effective_to"]),
        (with(json!({"cap": ""})), vec!["cap"]),
        (with(json!({"cap": "1,000"})), vec!["cap"]),
        (with(json!({"basis": "monthly"})), vec!["basis"]),
        (with(json!({"basis": ""})), vec!["basis"]),
        (with(json!({"name": "standard 2027"})), vec!["name"]),
        (with(json!({"name": "   "})), vec!["name"]),
        (with(json!({"name": "x".repeat(101)})), vec!["name"]),
        (with(json!({"name": format!("  {}", "y".repeat(99))})), vec!["name"]),
        (with(json!({"name": "a\u{1}b"})), vec!["name"]),
        (with(json!({"-name": null})), vec!["name"]),
        (with(json!({"rules": {}})), vec!["rules"]),
        (with(json!({"tiers": [{"threshold": "1", "bonus_rate": "1", "extra": 1}]})), vec!["tiers[0].extra"]),
    ];
    for (body, want) in &cases {
        let res = call(&app, "POST", "/plans", &f.write, Some(body.clone())).await;
        let got = fields(&res);
        for w in want {
            // A missing or unknown field is named in the message of the body's problem.
            let named = got.iter().any(|g| g == w) || (got == ["body"] && res.body.contains(w));
            assert!(named, "{body}: wanted {w}, got {got:?}: {}", res.body);
        }
        if body["name"] == "standard 2027" {
            continue; // the plan's own name, in another case: a change of it would be fine
        }
        // The same refused as a change of the plan; the plan stays as it was.
        let res = call(&app, "PUT", &format!("/plans/{plan_id}"), &f.write, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
    }
    let res = call(&app, "GET", &format!("/plans/{plan_id}"), &f.read, None).await;
    let mut now = json_of(&res);
    now["updated_at"] = plan["updated_at"].clone();
    assert_eq!(now, plan, "unchanged");

    let rep = f.rep.user_id.as_str();
    let assignments: Vec<(Value, &str)> = vec![
        (json!({"plan_id": plan_id, "effective_from": "2000-01-01"}), "rep_id"),
        (json!({"plan_id": plan_id, "rep_id": rep, "team_id": team, "effective_from": "2000-01-01"}), "team_id"),
        (json!({"plan_id": "nope", "rep_id": rep, "effective_from": "2000-01-01"}), "plan_id"),
        (json!({"plan_id": plan_id, "rep_id": f.cs.user_id, "effective_from": "2000-01-01"}), "rep_id"),
        (json!({"plan_id": plan_id, "team_id": "nope", "effective_from": "2000-01-01"}), "team_id"),
        (json!({"plan_id": plan_id, "rep_id": rep, "effective_from": "2000-02-30"}), "effective_from"),
        (json!({"plan_id": plan_id, "rep_id": rep, "effective_from": " 2000-01-01"}), "effective_from"),
        (
            json!({"plan_id": plan_id, "rep_id": rep, "effective_from": "2000-01-01", "effective_to": ""}),
            "effective_to",
        ),
        (
            json!({"plan_id": plan_id, "rep_id": rep, "effective_from": "2000-01-02", "effective_to": "2000-01-01"}),
            "effective_to",
        ),
        (json!({"plan_id": plan_id, "rep_id": rep, "effective_from": "2000-01-01", "why": "x"}), "why"),
    ];
    for (body, want) in &assignments {
        let res = call(&app, "POST", "/assignments", &f.write, Some(body.clone())).await;
        let got = fields(&res);
        assert!(got.iter().any(|g| g == want), "{body}: wanted {want}, got {got:?}: {}", res.body);
    }

    for (body, why) in [
        (json!({"name": ""}), "empty"),
        (json!({"name": "  "}), "spaces"),
        (json!({"name": "south"}), "another team's"),
        (json!({"name": "x".repeat(121)}), "too long"),
        (json!({"name": format!("  {}", "y".repeat(119))}), "too long as sent"),
        (json!({}), "missing"),
        (json!({"name": "East", "members": []}), "unknown field"),
    ] {
        let res = call(&app, "PATCH", &format!("/teams/{team}"), &f.write, Some(body.clone())).await;
        let got = fields(&res);
        let named = got == ["name"] || got == ["members"] || (got == ["body"] && res.body.contains("name"));
        assert!(named, "{why}: {got:?}: {}", res.body);
    }
    // A user who is not a sales rep cannot join a team.
    let res = call(&app, "PUT", &format!("/teams/{team}/members/{}", f.cs.user_id), &f.write, None).await;
    assert_eq!(fields(&res), ["rep_id"]);

    assert_eq!(counts(&app).await, before, "nothing changed");
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let team = create_team(&app, &f, "North").await;
    let plan = create_plan(&app, &f, standard_plan()).await;
    let before = counts(&app).await;
    let rep = f.rep.user_id.as_str();
    for (method, path, body) in [
        ("GET", "/plans/nope".to_string(), None),
        ("PUT", "/plans/nope".to_string(), Some(standard_plan())),
        ("DELETE", "/assignments/nope".to_string(), None),
        ("PATCH", "/teams/nope".to_string(), Some(json!({"name": "East"}))),
        ("DELETE", "/teams/nope".to_string(), None),
        ("PUT", format!("/teams/nope/members/{rep}"), None),
        ("PUT", format!("/teams/{team}/members/nope"), None),
        ("DELETE", format!("/teams/{team}/members/{rep}"), None),
        ("DELETE", format!("/teams/nope/members/{rep}"), None),
        ("PUT", "/house-accounts/A-99999".to_string(), None),
        ("DELETE", "/house-accounts/nope".to_string(), None),
        ("GET", "/plans/a%00b".to_string(), None),
    ] {
        let res = call(&app, method, &path, &f.write, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}: {}", res.body);
    }
    assert_eq!(counts(&app).await, before, "nothing changed");
    assert!(plan["id"].is_string());
}

#[tokio::test]
async fn a_read_token_only_reads_and_one_without_a_commissions_scope_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let team = create_team(&app, &f, "North").await;
    let plan = create_plan(&app, &f, standard_plan()).await;
    let plan = plan["id"].as_str().unwrap().to_string();
    let other = app.api_token(&[Scope::OrdersWrite, Scope::AccountsWrite, Scope::DashboardsRead]).await;
    let before = counts(&app).await;
    let rep = f.rep.user_id.as_str();
    let reads = [
        "/plans".to_string(),
        format!("/plans/{plan}"),
        "/assignments".into(),
        "/teams".into(),
        "/house-accounts".into(),
    ];
    for path in &reads {
        let res = call(&app, "GET", path, &f.read, None).await;
        assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", res.body);
        let res = call(&app, "GET", path, &other, None).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "GET {path} without a commissions scope: {}", res.body);
    }
    let assignment = json!({"plan_id": plan, "rep_id": rep, "effective_from": "2000-01-01"});
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/plans".into(), Some(json!({"name": "New", "effective_from": "2000-01-01", "default_rate": "1"}))),
        ("PUT", format!("/plans/{plan}"), Some(standard_plan())),
        ("POST", "/assignments".into(), Some(assignment)),
        ("DELETE", "/assignments/nope".into(), None),
        ("POST", "/teams".into(), Some(json!({"name": "South"}))),
        ("PATCH", format!("/teams/{team}"), Some(json!({"name": "East"}))),
        ("DELETE", format!("/teams/{team}"), None),
        ("PUT", format!("/teams/{team}/members/{rep}"), None),
        ("DELETE", format!("/teams/{team}/members/{rep}"), None),
        ("PUT", format!("/house-accounts/{}", f.account_number), None),
        ("DELETE", format!("/house-accounts/{}", f.account_number), None),
    ];
    for (method, path, body) in writes {
        for (token, who) in [(&f.read, "commissions:read"), (&other, "no commissions scope")] {
            let res = call(&app, method, &path, token, body.clone()).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path} with {who}: {}", res.body);
        }
    }
    let res = app.api("GET", "/api/v1/commissions/plans", "not-a-token", None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(counts(&app).await, before, "nothing changed");
    // API tokens are the seller's (an administrator makes them; none is scoped to a customer's
    // account), so no buyer-side token exists to try; a buyer's session does not authenticate
    // the API.
}

#[tokio::test]
async fn the_admin_page_renames_a_team_keeping_a_refused_name_beside_it() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let north = create_team(&app, &f, "North").await;
    create_team(&app, &f, "South").await;
    let mut page = app.signed_in(&admin.email).await;
    let res = page.get("/admin/commissions").await;
    assert!(res.body.contains(&format!("action=\"/admin/commissions/teams/{north}/rename\"")), "{}", res.body);
    let res = page.post(&format!("/admin/commissions/teams/{north}/rename"), &[("name", "SOUTH")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains(&format!("id=\"rn-{north}-error\">A team named")), "{}", res.body);
    assert!(res.body.contains(&format!("id=\"rn-{north}\" name=\"name\" value=\"SOUTH\"")), "input kept: {}", res.body);
    let res = page.post(&format!("/admin/commissions/teams/{north}/rename"), &[("name", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains(&format!("id=\"rn-{north}-error\">Name the team.")), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'commission_team.renamed'").await, 0);
    let res = page.post(&format!("/admin/commissions/teams/{north}/rename"), &[("name", "North-East")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = page.get("/admin/commissions").await;
    assert!(res.body.contains("data-team=\"North-East\""), "{}", res.body);
    let res = page.post("/admin/commissions/teams/nope/rename", &[("name", "West")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A rep may not.
    let mut rep = app.signed_in(&f.rep.email).await;
    let res = rep.post(&format!("/admin/commissions/teams/{north}/rename"), &[("name", "Mine")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
