//! Times in the reader's zone (issue 17): the seller sets a default zone (page and API), each user
//! may choose their own, pages show every time in the reader's zone with its abbreviation, and a
//! zone Portico does not know is refused beside its field, changing nothing.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{Scope, StaffRole};
use portico::domain::time_zone::Zone;
use serde_json::json;

/// The created time of the one API token on the tokens page, as the page shows it.
async fn token_created_at(app: &TestApp) -> i64 {
    let at: String = app
        .db()
        .read_text("SELECT CAST(MAX(created_at) AS TEXT) FROM api_tokens", &[])
        .await
        .unwrap()
        .expect("a token");
    at.parse().unwrap()
}

#[tokio::test]
async fn pages_show_times_in_the_users_zone_else_the_sellers_else_utc() {
    let app = TestApp::new().await;
    let token = app.api_token(&[Scope::CompanyRead, Scope::CompanyWrite]).await;
    let created = token_created_at(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;

    // Nobody chose a zone: UTC.
    let page = a.get("/admin/api-tokens").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&Zone::default().datetime(created)), "{}", page.body);
    assert!(page.body.contains(" UTC"), "the zone is named");

    // The seller's zone, set over the API, applies to everyone who chose none.
    let res = app.api("GET", "/api/v1/company/branding", &token, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["time_zone"], "UTC");
    let body = json!({ "name": "Meridian Supply", "time_zone": "America/Chicago" });
    let res = app.api("PUT", "/api/v1/company/branding", &token, Some(body)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["time_zone"], "America/Chicago");
    // A null zone keeps it.
    let body = json!({ "name": "Meridian Supply", "time_zone": null });
    let res = app.api("PUT", "/api/v1/company/branding", &token, Some(body)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["time_zone"], "America/Chicago");
    let chicago = Zone::parse("America/Chicago").unwrap();
    let page = a.get("/admin/api-tokens").await;
    assert!(page.body.contains(&chicago.datetime(created)), "{}", page.body);

    // A zone of the user's own wins over the seller's; the page says which is in use.
    let res = a.post("/me/time-zone", &[("time_zone", "europe/berlin")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let berlin = Zone::parse("Europe/Berlin").unwrap();
    let page = a.get("/admin/api-tokens").await;
    assert!(page.body.contains(&berlin.datetime(created)), "{}", page.body);
    let settings = a.get("/me/notifications").await;
    assert!(settings.body.contains("<option selected>Europe/Berlin</option>"), "{}", settings.body);
    assert!(settings.body.contains("Default: America/Chicago"), "{}", settings.body);

    // Another user still sees the seller's zone.
    let other = app.staff("Otto Other", &[StaffRole::Admin]).await;
    let mut o = app.signed_in(&other.email).await;
    assert!(o.get("/admin/api-tokens").await.body.contains(&chicago.datetime(created)));

    // Back to the default.
    let res = a.post("/me/time-zone", &[("time_zone", "")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(a.get("/admin/api-tokens").await.body.contains(&chicago.datetime(created)));
    let audited = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.time_zone_changed'").await;
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_zone_portico_does_not_know_is_refused_beside_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    a.post("/me/time-zone", &[("time_zone", "Asia/Tokyo")]).await;

    for bad in ["Mars/Olympus_Mons", "America/Chicago\u{0}", "../../etc/localtime"] {
        let res = a.post("/me/time-zone", &[("time_zone", bad)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(res.body.contains("time zone"), "the reason is given: {}", res.body);
        assert!(res.body.contains("aria-invalid=\"true\""), "beside the field");
        assert!(res.body.contains("<nav"), "inside the page shell");
    }
    let stored = app.db().read_text("SELECT time_zone FROM users WHERE id = $1", &[admin.id.as_str()]).await.unwrap();
    assert_eq!(stored.as_deref(), Some("Asia/Tokyo"), "unchanged");

    // The seller's zone, on the company page and over the API.
    let res = a.post("/admin/company", &[("name", "Meridian Supply"), ("time_zone", "Atlantis/Capital")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("Atlantis/Capital"), "{}", res.body);
    let token = app.api_token(&[Scope::CompanyWrite]).await;
    let body = json!({ "name": "Meridian Supply", "time_zone": "Atlantis/Capital" });
    let res = app.api("PUT", "/api/v1/company/branding", &token, Some(body)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("time_zone"), "{}", res.body);
    let seller = app.db().read_text("SELECT value FROM settings WHERE key = 'seller.time_zone'", &[]).await.unwrap();
    assert_eq!(seller, None, "nothing saved");

    // A good one on the company page is saved, spelt as the zone database spells it.
    let res = a.post("/admin/company", &[("name", "Meridian Supply"), ("time_zone", "america/new_york")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let seller = app.db().read_text("SELECT value FROM settings WHERE key = 'seller.time_zone'", &[]).await.unwrap();
    assert_eq!(seller.as_deref(), Some("America/New_York"));
}
