//! Commission plans assigned to teams (issue 18 §1): a rep with no own assignment in force earns
//! by their team's plan; an own assignment wins from its effective date; leaving the team stops
//! the team's plan for later invoices (lines already accrued stay); bad input is refused beside
//! the field and changes nothing; reps cannot see or change teams. Runs on SQLite and, with
//! TEST_DATABASE_URL, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{Principal, Scope, StaffRole};
use portico::domain::commissions::PlanDraft;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::{Actor, ServiceError, commissions};
use portico::store::products::ProductInput;
use serde_json::{Value, json};

struct Fixture {
    account: String,
    rep: Principal,
    admin: Principal,
    cs: Principal,
    team: String,
    team_plan: String,
    own_plan: String,
}

/// Gauze at 1.00; a team plan of 5 % and an own plan of 8 %; rep Rita owns the account and is in
/// the team "North", which is assigned the team plan. Rita has no own assignment.
async fn fixture(app: &TestApp) -> Fixture {
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await.principal().unwrap();
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let account = app.account("Smile Dental", Some(&rep.user_id)).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GZ-1", "Gauze"), "1.00", 1000)]).await;
    let ad = Actor::web(&admin);
    let plan = |name: &str, rate: &str| PlanDraft {
        name: name.into(),
        effective_from: "2000-01-01".into(),
        default_rate: rate.into(),
        ..Default::default()
    };
    let team_plan = commissions::save_plan(app.db(), app.now(), &ad, None, &plan("Team", "5")).await.unwrap();
    let own_plan = commissions::save_plan(app.db(), app.now(), &ad, None, &plan("Own", "8")).await.unwrap();
    let team = commissions::create_team(app.db(), app.now(), &ad, "North").await.unwrap();
    commissions::add_team_member(app.db(), app.now(), &ad, &team, &rep.user_id).await.unwrap();
    commissions::assign_plan_to_team(app.db(), app.now(), &ad, &team, &team_plan, "2000-01-01", "").await.unwrap();
    Fixture { account, rep, admin, cs, team, team_plan, own_plan }
}

/// Places, confirms and ships (so invoices) an order of `qty` gauze.
async fn invoice(app: &TestApp, f: &Fixture, qty: i64) {
    let req = PlaceOrder {
        account_id: f.account.clone(),
        lines: vec![LineInput::sku("GZ-1", qty)],
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
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, qty)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &order.number, &input).await.unwrap();
}

/// (invoice number, plan, rate ppm) of the rep's accrual lines, oldest first.
async fn lines(app: &TestApp, f: &Fixture) -> Vec<(String, String, i64)> {
    let period = commissions::this_period(app.now());
    commissions::statement_lines(app.db(), &Actor::web(&f.admin), &f.rep.user_id, &period, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.invoice_number, l.plan_id, l.rate_ppm))
        .collect()
}

#[tokio::test]
async fn a_rep_without_an_own_assignment_earns_by_the_teams_plan_until_an_own_one_or_leaving() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let ad = Actor::web(&f.admin);
    invoice(&app, &f, 10).await;
    assert_eq!(lines(&app, &f).await, vec![("INV-100001".to_string(), f.team_plan.clone(), 50_000)]);

    // An own assignment that starts later does not apply yet; the team's still does…
    commissions::assign_plan(app.db(), app.now(), &ad, &f.rep.user_id, &f.own_plan, "2999-01-01", "").await.unwrap();
    invoice(&app, &f, 10).await;
    assert_eq!(lines(&app, &f).await[1], ("INV-100002".to_string(), f.team_plan.clone(), 50_000));
    // …one in force wins over the team's.
    let own = commissions::assign_plan(app.db(), app.now(), &ad, &f.rep.user_id, &f.own_plan, "2000-01-01", "")
        .await
        .unwrap();
    invoice(&app, &f, 10).await;
    assert_eq!(lines(&app, &f).await[2], ("INV-100003".to_string(), f.own_plan.clone(), 80_000));

    // Without the own assignment, and out of the team, later invoices earn nothing; earlier lines stay.
    commissions::unassign_plan(app.db(), app.now(), &ad, &own).await.unwrap();
    commissions::remove_team_member(app.db(), app.now(), &ad, &f.team, &f.rep.user_id).await.unwrap();
    invoice(&app, &f, 10).await;
    let got = lines(&app, &f).await;
    assert_eq!(got.len(), 3, "no plan after leaving the team: {got:?}");
    assert_eq!(got[0], ("INV-100001".to_string(), f.team_plan.clone(), 50_000), "earlier accruals unchanged");
    assert!(commissions::teams(app.db(), &ad).await.unwrap()[0].members.is_empty());

    // Audited and published like the other commission admin actions.
    for (event, n) in [
        ("commission_team.created", 1),
        ("commission_team.member_added", 1),
        ("commission_team.member_removed", 1),
        ("commission_plan.assigned", 3),
    ] {
        let sql = format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}'");
        assert_eq!(app.count_dyn(&sql).await, n, "{event}");
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{event}'");
        assert_eq!(app.count_dyn(&sql).await, n, "{event} audited");
    }
}

fn field_of(err: ServiceError) -> Vec<String> {
    match err {
        ServiceError::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_is_refused_beside_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let ad = Actor::web(&f.admin);
    let before = (
        app.count("SELECT COUNT(*) FROM commission_teams").await,
        app.count("SELECT COUNT(*) FROM commission_team_members").await,
        app.count("SELECT COUNT(*) FROM commission_assignments").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    );
    let err = commissions::create_team(app.db(), app.now(), &ad, "  ").await.unwrap_err();
    assert_eq!(field_of(err), ["name"]);
    let err = commissions::create_team(app.db(), app.now(), &ad, "north").await.unwrap_err();
    assert_eq!(field_of(err), ["name"], "names are unique regardless of case");
    // Not a sales rep; already in a team (one team at a time).
    let err = commissions::add_team_member(app.db(), app.now(), &ad, &f.team, &f.cs.user_id).await.unwrap_err();
    assert_eq!(field_of(err), ["rep"]);
    let south = "no-such-team";
    let err = commissions::add_team_member(app.db(), app.now(), &ad, south, &f.rep.user_id).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    let err =
        commissions::assign_plan_to_team(app.db(), app.now(), &ad, south, "nope", "2026-13-01", "x").await.unwrap_err();
    assert_eq!(field_of(err), ["team", "plan", "effective_from", "effective_to"]);
    let err =
        commissions::assign_plan_to_team(app.db(), app.now(), &ad, &f.team, &f.team_plan, "2026-02-01", "2026-01-01")
            .await
            .unwrap_err();
    assert_eq!(field_of(err), ["effective_to"]);
    let after = (
        app.count("SELECT COUNT(*) FROM commission_teams").await,
        app.count("SELECT COUNT(*) FROM commission_team_members").await,
        app.count("SELECT COUNT(*) FROM commission_assignments").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    );
    assert_eq!(before, after, "nothing changed");
}

#[tokio::test]
async fn a_rep_cannot_see_or_change_teams() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let rep = Actor::web(&f.rep);
    let forbidden = |r: Result<(), ServiceError>| assert!(matches!(r, Err(ServiceError::Forbidden)), "{r:?}");
    forbidden(commissions::teams(app.db(), &rep).await.map(|_| ()));
    forbidden(commissions::team_assignments(app.db(), &rep).await.map(|_| ()));
    forbidden(commissions::create_team(app.db(), app.now(), &rep, "Mine").await.map(|_| ()));
    forbidden(commissions::add_team_member(app.db(), app.now(), &rep, &f.team, &f.rep.user_id).await);
    forbidden(commissions::delete_team(app.db(), app.now(), &rep, &f.team).await);
    forbidden(commissions::remove_team_member(app.db(), app.now(), &rep, &f.team, &f.rep.user_id).await);
    forbidden(
        commissions::assign_plan_to_team(app.db(), app.now(), &rep, &f.team, &f.own_plan, "2000-01-01", "")
            .await
            .map(|_| ()),
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_teams").await, 1);
}

#[tokio::test]
async fn the_admin_page_makes_teams_and_keeps_refused_input_beside_the_field() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut admin = app.signed_in(&f.admin.email).await;
    let page = admin.get("/admin/commissions").await;
    assert!(
        page.body.contains("data-team=\"North\"") && page.body.contains("data-member=\"Rita Rep\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-team-assignment="), "the team's plan is listed");
    let res = admin.post("/admin/commissions/teams", &[("name", "NORTH")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"tm-name-error\">A team named"), "{}", res.body);
    assert!(res.body.contains("name=\"name\" value=\"NORTH\""), "input kept");
    let res = admin
        .post(
            "/admin/commissions/teams/assignments",
            &[("team", &f.team), ("plan", &f.own_plan), ("effective_from", "someday"), ("effective_to", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"ta-from-error\">Effective from"), "{}", res.body);
    assert!(res.body.contains("id=\"ta-to-error\"></span>"));
    let res = admin.post("/admin/commissions/teams/members", &[("team", "nope"), ("rep", &f.rep.user_id)]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"mb-team-error\">Choose a team."), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_teams").await, 1, "nothing changed");
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_assignments").await, 1);
    // A team is created; the rep leaves North.
    let res = admin.post("/admin/commissions/teams", &[("name", "South")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = admin.post(&format!("/admin/commissions/teams/{}/members/{}/delete", f.team, f.rep.user_id), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_team_members").await, 0);
    // North still has its plan assignment: deleting it is refused, said beside the teams; South goes.
    let res = admin.post(&format!("/admin/commissions/teams/{}/delete", f.team), &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"team-delete-error\">The team “North” still has"), "{}", res.body);
    let south = commissions::teams(app.db(), &Actor::web(&f.admin)).await.unwrap()[1].id.clone();
    let res = admin.post(&format!("/admin/commissions/teams/{south}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_teams").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'commission_team.deleted'").await, 1);
    // A rep may not use the page.
    let mut rep = app.signed_in(&f.rep.email).await;
    assert_eq!(rep.post("/admin/commissions/teams", &[("name", "Mine")]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_lists_and_creates_teams_refusing_bad_names_naming_the_field() {
    let app = TestApp::new().await;
    let _f = fixture(&app).await;
    let write = app.api_token(&[Scope::CommissionsWrite]).await;
    let read = app.api_token(&[Scope::CommissionsRead]).await;
    let audit = app.count("SELECT COUNT(*) FROM audit_log").await;
    let long = "x".repeat(121);
    let padded = format!("  {}", "y".repeat(119));
    for body in [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "north"}),
        json!({"name": long}),
        json!({"name": padded}),
        json!({"name": "a\u{1}b"}),
        json!({"name": 5}),
        json!({}),
    ] {
        let res = app.api("POST", "/api/v1/commissions/teams", &write, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert!(res.body.contains("name"), "{body}: {}", res.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit, "nothing changed");
    let res = app.api("POST", "/api/v1/commissions/teams", &read, Some(json!({"name": "South"}))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.api("POST", "/api/v1/commissions/teams", &write, Some(json!({"name": "South"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let got: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!((got["name"].as_str(), got["members"].as_array().map(Vec::len)), (Some("South"), Some(0)));
    let res = app.api("GET", "/api/v1/commissions/teams", &read, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got: Value = serde_json::from_str(&res.body).unwrap();
    let names: Vec<&str> = got["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["North", "South"]);
    assert_eq!(got["teams"][0]["members"][0]["rep_name"], "Rita Rep");
}
