//! The seller's brand (issue 17): the admin sets the name, accent colour and logo on "Your
//! company", previews them and saves; every page (buyer, staff, sign-in) and every mail carries
//! them, Portico only as "Powered by Portico". Bad input — a colour too light for white text, an
//! SVG, a file that is not an image, one too large — is refused naming its field and changes
//! nothing. `/brand.css` and `/brand/logo` are public, versioned and answer 304 when unchanged.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use common::{Client, TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, Scope, StaffRole};
use portico::domain::branding::{Accent, generated_logo};
use serde_json::{Value, json};

fn png_logo(hex: &str) -> Vec<u8> {
    generated_logo(&Accent::parse(hex).unwrap()).bytes
}

/// Posts the company form as the page does: multipart, the CSRF token in the action URL, an
/// optional logo file.
async fn post_company(c: &mut Client<'_>, fields: &[(&str, &str)], logo: Option<(&str, &[u8])>) -> TestResponse {
    let files: Vec<(&str, &str, &[u8])> = logo.map(|(name, bytes)| ("logo", name, bytes)).into_iter().collect();
    c.post_files("/admin/company", fields, &files).await
}

const COMPANY: [(&str, &str); 2] = [("name", "Harbor Dental Supply"), ("address", "1 Pier Rd\nBoston, MA 02110")];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = COMPANY.to_vec();
    all.extend_from_slice(extra);
    all
}

async fn audits(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'seller.updated'").await
}

#[tokio::test]
async fn the_admin_previews_and_saves_the_brand_and_every_page_carries_it() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;

    // Nothing set: Portico's own look, named Portico, no logo.
    let before = a.get("/admin/company").await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains("<span class=\"brand-name\">Portico</span>"), "{}", before.body);
    assert!(before.body.contains("href=\"/brand.css?v=default\""));
    assert!(!before.body.contains("class=\"brand-logo\""));

    // Preview: shown with the chosen colour and logo, nothing saved.
    let logo = png_logo("#0b6e4f");
    let preview =
        post_company(&mut a, &with(&[("accent", "#0B6E4F"), ("intent", "preview")]), Some(("logo.png", &logo))).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("id=\"brand-preview\""), "{}", preview.body);
    assert!(preview.body.contains("href=\"/brand/preview.css?accent=0b6e4f\""));
    assert!(preview.body.contains("src=\"data:image/png;base64,"));
    assert!(preview.body.contains("<span class=\"brand-name\">Harbor Dental Supply</span>"));
    let logo_data = preview.attr("name=\"logo_data\" value=\"");
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(&logo_data).unwrap(), logo);
    assert_eq!(audits(&app).await, 0, "a preview saves nothing");
    assert_eq!(portico::service::branding::brand(app.db()).await.unwrap().accent, None);
    let css = app.client().get("/brand/preview.css?accent=0b6e4f").await;
    assert!(css.body.contains(".brand-preview {") && css.body.contains("--accent: #0b6e4f;"), "{}", css.body);

    // Save, with the previewed logo carried by the form.
    let saved =
        post_company(&mut a, &with(&[("accent", "#0b6e4f"), ("logo_data", &logo_data), ("intent", "save")]), None)
            .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/admin/company?notice=company_saved");
    assert_eq!(audits(&app).await, 1);

    // Read back.
    let page = a.get("/admin/company").await;
    assert!(page.body.contains("value=\"#0b6e4f\""), "{}", page.body);
    assert!(page.body.contains("id=\"current-logo\""));
    assert!(page.body.contains("96×96 px"));
    let brand = portico::service::branding::brand(app.db()).await.unwrap();
    assert_eq!(brand.accent.map(|a| a.hex()), Some("#0b6e4f".into()));
    let logo_url = brand.logo_url().unwrap();

    // The sign-in page (nobody signed in) and a buyer's home show the name and logo, with the
    // accent's stylesheet and Portico only as "powered by".
    let sign_in = app.client().get("/login").await;
    let buyer_home = {
        let account = app.account("Bayside Clinic", None).await;
        let buyer = app.buyer(&account, "Bea Buyer", BuyerRole::Manager).await;
        app.signed_in(&buyer.email).await.get("/portal").await
    };
    let forgot = app.client().get("/forgot").await;
    for page in [&sign_in, &buyer_home, &forgot, &page] {
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<span class=\"brand-name\">Harbor Dental Supply</span>"), "{}", page.body);
        assert!(page.body.contains(&format!("src=\"{logo_url}\"")), "{}", page.body);
        assert!(page.body.contains("href=\"/brand.css?v=0b6e4f\""));
        assert!(page.body.contains("Powered by Portico"));
        assert!(page.body.contains("· Harbor Dental Supply</title>"));
    }
    // An error page for someone not signed in is branded too.
    let missing = app.client().get("/set-password/nope").await;
    assert!(missing.body.contains("Harbor Dental Supply"), "{} {}", missing.status, missing.body);

    // Removing the logo and the accent: back to the name alone in Portico's colours.
    let cleared = post_company(&mut a, &with(&[("accent", ""), ("remove_logo", "1"), ("intent", "save")]), None).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    let brand = portico::service::branding::brand(app.db()).await.unwrap();
    assert_eq!((brand.accent, brand.logo_etag, brand.name.as_str()), (None, None, "Harbor Dental Supply"));
    assert_eq!(app.client().get("/brand/logo").await.status, StatusCode::NOT_FOUND);
}

/// A refused save: the field named, the form's fields, the file (name, bytes), what the error says.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, Vec<u8>)>, &'a str);

#[tokio::test]
async fn bad_colours_and_files_are_refused_naming_the_field_and_nothing_changes() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let logo = png_logo("#0b6e4f");
    let ok = post_company(&mut a, &with(&[("accent", "#0b6e4f"), ("intent", "save")]), Some(("logo.png", &logo))).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let stored = portico::service::branding::brand(app.db()).await.unwrap();
    let audited = audits(&app).await;

    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec();
    let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
    huge.resize(600 * 1024, 7);
    let cases: Vec<Case> = vec![
        ("accent", with(&[("accent", "#ffe14d"), ("intent", "save")]), None, "too light"),
        ("accent", with(&[("accent", "teal"), ("intent", "save")]), None, "six hex digits"),
        ("accent", with(&[("accent", "#fff"), ("intent", "preview")]), None, "six hex digits"),
        ("logo", with(&[("intent", "save")]), Some(("logo.svg", svg)), "SVG logos are not accepted"),
        ("logo", with(&[("intent", "save")]), Some(("logo.png", b"just some text".to_vec())), "PNG, JPEG or WebP"),
        ("logo", with(&[("intent", "save")]), Some(("logo.png", huge)), "at most 512 KB"),
        ("logo", with(&[("intent", "save")]), Some(("logo.png", logo[..100].to_vec())), "could not be read"),
        ("logo", with(&[("logo_data", "%%%not base64"), ("intent", "save")]), None, "not valid base64"),
        ("name", vec![("name", "  "), ("address", ""), ("intent", "save")], None, "Give your company"),
    ];
    for (field, fields, file, says) in cases {
        let res = post_company(&mut a, &fields, file.as_ref().map(|(n, b)| (*n, b.as_slice()))).await;
        let what = format!("{field}: {says}");
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", res.body);
        assert!(res.body.contains(says), "{what}: {}", res.body);
        let error = res.text_after(&format!("id=\"co-{field}-error\">")).unwrap_or_default();
        assert!(error.contains(says), "{what}: the message is next to its field: {error:?}");
        assert!(res.body.contains("Nothing was saved"), "{what}");
        assert!(!res.body.contains("id=\"brand-preview\""), "{what}: no preview of bad input");
        assert_eq!(portico::service::branding::brand(app.db()).await.unwrap(), stored, "{what}: nothing changed");
        assert_eq!(audits(&app).await, audited, "{what}");
    }
    // A refused form keeps what was typed, and a good logo uploaded with a bad colour.
    let res = post_company(&mut a, &with(&[("accent", "#ffe14d"), ("intent", "save")]), Some(("l.png", &logo))).await;
    assert!(res.body.contains("value=\"#ffe14d\"") && res.body.contains("id=\"pending-logo\""), "{}", res.body);
}

#[tokio::test]
async fn the_stylesheet_and_logo_are_public_versioned_and_revalidated() {
    let app = TestApp::new().await;
    let mut anon = app.client();
    // Nothing set: an empty stylesheet (app.css's colours), and no logo.
    let css = anon.get("/brand.css?v=default").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(!css.body.contains("--accent"), "{}", css.body);
    assert_eq!(anon.get("/brand/logo").await.status, StatusCode::NOT_FOUND);

    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let logo = png_logo("#7a1f5c");
    let saved = post_company(&mut a, &with(&[("accent", "#7a1f5c"), ("intent", "save")]), Some(("l.png", &logo))).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let brand = portico::service::branding::brand(app.db()).await.unwrap();

    let get = |path: String, etag: Option<String>| {
        let app = &app;
        async move {
            let mut b = Request::builder().uri(path);
            if let Some(e) = etag {
                b = b.header(header::IF_NONE_MATCH, e);
            }
            app.send(b.body(Body::empty()).unwrap()).await
        }
    };
    let css = get(brand.css_url(), None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(css.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(css.body.contains(":root {") && css.body.contains("--accent: #7a1f5c;"), "{}", css.body);
    let etag = css.headers[header::ETAG].to_str().unwrap().to_string();
    let again = get(brand.css_url(), Some(etag.clone())).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    // An old version's URL is revalidated rather than cached for good.
    let old = get("/brand.css?v=default".into(), None).await;
    assert_eq!(old.headers[header::CACHE_CONTROL], "public, no-cache");
    assert_eq!(old.headers[header::ETAG].to_str().unwrap(), etag);

    let url = brand.logo_url().unwrap();
    let img = app.send(Request::get(&url).body(Body::empty()).unwrap()).await;
    assert_eq!(img.status, StatusCode::OK);
    assert_eq!(img.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(img.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(img.headers["x-content-type-options"], "nosniff");
    let etag = img.headers[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", brand.logo_etag.clone().unwrap()));
    assert_eq!(get(url.clone(), Some(etag)).await.status, StatusCode::NOT_MODIFIED);
    assert_eq!(get("/brand/logo".into(), Some("\"other\"".into())).await.status, StatusCode::OK);
}

#[tokio::test]
async fn mail_carries_the_sellers_name_logo_and_colour_and_portico_only_as_powered_by() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut a = app.signed_in(&admin.email).await;
    let logo = png_logo("#0b6e4f");
    post_company(&mut a, &with(&[("accent", "#0b6e4f"), ("intent", "save")]), Some(("l.png", &logo))).await;
    let from = portico::service::mail::sender(app.db(), "https://portal.example.com/").await.unwrap();
    let content = portico::domain::mail::Content {
        kind: portico::domain::mail::MailKind::OrderPlaced,
        to_name: "Bea",
        subject: "Order SO-100001 received".into(),
        paragraphs: vec!["Thank you for your order.".into()],
        facts: vec![("Order", "SO-100001".into())],
        action: Some(("View your order", "/portal/orders/SO-100001".into())),
    };
    let mail = portico::domain::mail::compose(&from, &content);
    assert!(mail.html.contains("Harbor Dental Supply"), "{}", mail.html);
    assert!(mail.html.contains("background:#0b6e4f"), "{}", mail.html);
    assert!(mail.html.contains("src=\"https://portal.example.com/brand/logo?v="), "{}", mail.html);
    assert!(mail.html.contains("Powered by Portico"));
    assert!(mail.text.contains("— Harbor Dental Supply") && mail.text.contains("Powered by Portico"), "{}", mail.text);
}

#[tokio::test]
async fn the_api_reads_and_changes_the_brand_with_the_company_scopes() {
    let app = TestApp::new().await;
    let reader = app.api_token(&[Scope::CompanyRead]).await;
    let writer = app.api_token(&[Scope::CompanyWrite]).await;
    let other = app.api_token(&[Scope::CatalogWrite]).await;

    let empty = app.api("GET", "/api/v1/company/branding", &reader, None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    let v: Value = serde_json::from_str(&empty.body).unwrap();
    assert_eq!((v["accent"].clone(), v["logo"].clone()), (Value::Null, Value::Null));
    assert_eq!(app.api("GET", "/api/v1/company/branding", &other, None).await.status, StatusCode::FORBIDDEN);
    let body = json!({"name": "Harbor Dental Supply", "accent": "#0b6e4f"});
    assert_eq!(
        app.api("PUT", "/api/v1/company/branding", &reader, Some(body.clone())).await.status,
        StatusCode::FORBIDDEN
    );

    let put = app.api("PUT", "/api/v1/company/branding", &writer, Some(body)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let v: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!((v["name"].as_str(), v["accent"].as_str()), (Some("Harbor Dental Supply"), Some("#0b6e4f")));

    // Bad input: 422 naming the field, nothing changed.
    let audited = audits(&app).await;
    for (path, body, field) in [
        ("/api/v1/company/branding", json!({"name": "Harbor", "accent": "#fafafa"}), "accent"),
        ("/api/v1/company/branding", json!({"name": "Harbor", "accent": "teal"}), "accent"),
        ("/api/v1/company/branding", json!({"name": "Harbor", "accent": ""}), "accent"),
        ("/api/v1/company/branding", json!({"name": "Harbor", "accent": " #0b6e4f"}), "accent"),
        (
            "/api/v1/company/logo",
            json!({"image_base64": base64::engine::general_purpose::STANDARD.encode(b"<svg/>")}),
            "logo",
        ),
        ("/api/v1/company/logo", json!({"image_base64": "***"}), "image_base64"),
    ] {
        let res = app.api("PUT", path, &writer, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert_eq!(res.headers[header::CONTENT_TYPE], "application/problem+json");
        let p: Value = serde_json::from_str(&res.body).unwrap();
        assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body}: {}", res.body);
    }
    assert_eq!(audits(&app).await, audited);
    let v: Value = serde_json::from_str(&app.api("GET", "/api/v1/company/branding", &writer, None).await.body).unwrap();
    assert_eq!((v["name"].as_str(), v["accent"].as_str()), (Some("Harbor Dental Supply"), Some("#0b6e4f")));

    let b64 = base64::engine::general_purpose::STANDARD.encode(png_logo("#0b6e4f"));
    let up = app.api("PUT", "/api/v1/company/logo", &writer, Some(json!({"image_base64": b64}))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    let v: Value = serde_json::from_str(&up.body).unwrap();
    assert_eq!((v["logo"]["content_type"].as_str(), v["logo"]["width"].as_i64()), (Some("image/png"), Some(96)));
    let url = v["logo"]["url"].as_str().unwrap().to_string();
    assert_eq!(app.client().get(&url).await.status, StatusCode::OK);

    let gone = app.api("DELETE", "/api/v1/company/logo", &writer, None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(serde_json::from_str::<Value>(&gone.body).unwrap()["logo"], Value::Null);
    assert_eq!(audits(&app).await, audited + 2);
}
