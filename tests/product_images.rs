//! Product images (issue 17): the admin uploads several at once on the product page, sets the
//! primary and alt text, deletes them; the API does the same with the catalog scopes. Bad files —
//! empty, SVG, damaged, too many pixels, not an image, too many for a product — are refused next
//! to the field (422, the page kept) and change nothing. Images are served with an ETag, 304 when
//! unchanged and cached for good (private: the answer depends on who asks), only to whoever may
//! see the product: a buyer's catalog that hides a product hides its images (404). Catalog,
//! product page, cart and quick order show them, with a placeholder for a product without any.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::{Client, TempDir, TestApp, TestResponse};
use http_body_util::BodyExt;
use portico::domain::auth::{BuyerRole, Scope, StaffRole};
use portico::domain::product_images::{MAX_IMAGES_PER_PRODUCT, generated_picture};
use portico::store::catalogs;
use portico::store::new_id;
use portico::store::products::{self, ProductInput};
use serde_json::{Value, json};
use std::io::Cursor;
use std::path::PathBuf;
use tower::ServiceExt;

fn png(rgb: [u8; 3], w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg_picture(shape: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    generated_picture([29, 95, 209], shape, 300).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A PNG signature and header claiming `w`×`h` pixels, then a few bytes of nothing.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png([1, 2, 3], 4, 4);
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    // The header's checksum, recomputed, so only the size is wrong.
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

struct Fixture {
    admin: String,
    /// A buyer of the account whose catalog has GLV-1 but hides SECRET-1.
    buyer_a: String,
    /// A buyer of the account whose catalog includes SECRET-1.
    buyer_b: String,
}

/// Two accounts; GLV-1 and GLV-2 in every catalog, SECRET-1 hidden from A.
async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.email;
    let a = app.account("Alpha Clinic", None).await;
    let b = app.account("Beta Labs", None).await;
    let buyer_a = app.buyer(&a, "Ann Buyer", BuyerRole::Buyer).await.email;
    let buyer_b = app.buyer(&b, "Ben Buyer", BuyerRole::Buyer).await.email;
    let ids = common::sell(
        app.db(),
        app.now(),
        vec![
            (ProductInput::new("GLV-1", "Nitrile Gloves M"), "10.00", 100),
            (ProductInput::new("GLV-2", "Nitrile Gloves L"), "12.00", 100),
            (ProductInput::new("SECRET-1", "Secret Reagent"), "50.00", 10),
        ],
    )
    .await;
    let (secret, now) = (ids[2].clone(), app.now());
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let default: String = tx.fetch_one("SELECT id FROM catalogs WHERE is_default", Vec::new()).await?;
            catalogs::add_catalog_rule(tx, &default, "exclude_product", &secret).await?;
            let special = new_id();
            catalogs::insert_catalog(tx, &special, "Labs", true, false, now).await?;
            catalogs::assign_catalog(tx, &new_id(), &special, Some(&b), None).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            Ok(())
        })
    })
    .await;
    Fixture { admin, buyer_a, buyer_b }
}

/// Posts the upload form as the page does: multipart, the CSRF token in the action URL.
async fn upload(c: &mut Client<'_>, sku: &str, files: &[(&str, &[u8])], alt: &str) -> TestResponse {
    let files: Vec<(&str, &str, &[u8])> = files.iter().map(|(name, bytes)| ("images", *name, *bytes)).collect();
    c.post_files(&format!("/admin/products/{sku}/images"), &[("alt", alt)], &files).await
}

/// (id, primary, alt) of a product's images, primary first.
async fn images(app: &TestApp, sku: &str) -> Vec<(String, bool, String)> {
    let admin = app.staff(&format!("Reader {}", new_id()), &[StaffRole::Admin]).await;
    let p = admin.principal().unwrap();
    let list =
        portico::service::product_images::images(app.db(), &portico::service::Actor::web(&p), sku).await.unwrap();
    list.images.into_iter().map(|i| (i.id, i.is_primary, i.alt)).collect()
}

async fn product_image_id(app: &TestApp, sku: &str) -> Option<String> {
    products::get_by_sku(app.db(), &portico::domain::catalog::Sku::parse(sku).unwrap()).await.unwrap().unwrap().image_id
}

async fn audits(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'product.image%'").await
}

#[tokio::test]
async fn the_admin_uploads_several_images_chooses_the_primary_and_alt_text_and_deletes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;

    let page = a.get("/admin/products/GLV-1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"images\"") && page.body.contains("No images yet"), "{}", page.body);

    let (one, two) = (jpeg_picture(0), png([200, 30, 30], 900, 600));
    let res = upload(&mut a, "GLV-1", &[("front.jpg", &one), ("side.png", &two)], "Box of gloves").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/admin/products/GLV-1?notice=images_added#images");
    let list = images(&app, "GLV-1").await;
    assert_eq!(list.len(), 2);
    // The first upload is the primary; the product row names it for lists.
    let (first, second) = (list[0].clone(), list[1].clone());
    assert!(first.1 && !second.1, "{list:?}");
    assert_eq!(first.2, "Box of gloves");
    assert_eq!(product_image_id(&app, "GLV-1").await, Some(first.0.clone()));
    assert_eq!(audits(&app).await, 1);

    let page = a.get("/admin/products/GLV-1").await;
    assert!(page.body.contains(&format!("src=\"/product-images/{}/thumb\"", first.0)), "{}", page.body);
    assert!(page.body.contains(&format!("src=\"/product-images/{}/thumb\"", second.0)));
    assert!(page.body.contains("900×600 px"), "{}", page.body);
    assert!(page.body.contains("2 of at most 12"));

    // Make the second primary, then give it alt text.
    let path = format!("/admin/products/GLV-1/images/{}", second.0);
    let res = a.post(&path, &[("intent", "primary"), ("alt", "")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = images(&app, "GLV-1").await;
    assert_eq!((list[0].0.as_str(), list[0].1, list[1].1), (second.0.as_str(), true, false));
    assert_eq!(product_image_id(&app, "GLV-1").await, Some(second.0.clone()));
    let res = a.post(&path, &[("intent", "alt"), ("alt", "  Side view of the box  ")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(images(&app, "GLV-1").await[0].2, "Side view of the box");

    // An alt text with a control character: refused next to that image's field, the page kept.
    let res = a.post(&path, &[("intent", "alt"), ("alt", "bad\u{7}text")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let error = res.text_after(&format!("id=\"alt-{}-error\">", second.0)).unwrap_or_default();
    assert!(error.contains("control characters"), "{error:?}");
    assert!(res.body.contains("Nothing was saved") && res.body.contains("class=\"topbar"), "the shell is kept");
    assert_eq!(images(&app, "GLV-1").await[0].2, "Side view of the box");

    // Deleting the primary promotes the next; deleting the last leaves none.
    let res = a.post(&path, &[("intent", "delete")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = images(&app, "GLV-1").await;
    assert_eq!(list, vec![(first.0.clone(), true, "Box of gloves".to_string())]);
    assert_eq!(product_image_id(&app, "GLV-1").await, Some(first.0.clone()));
    let res = a.post(&format!("/admin/products/GLV-1/images/{}", first.0), &[("intent", "delete")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(images(&app, "GLV-1").await.is_empty());
    assert_eq!(product_image_id(&app, "GLV-1").await, None);
    // The files went with their last image.
    assert_eq!(app.count("SELECT COUNT(*) FROM image_files").await, 0);
    assert_eq!(audits(&app).await, 5);

    // Another product's image, or an unknown one, is not found.
    upload(&mut a, "GLV-2", &[("a.png", &two)], "").await;
    let other = images(&app, "GLV-2").await[0].0.clone();
    let res = a.post(&format!("/admin/products/GLV-1/images/{other}"), &[("intent", "delete")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(images(&app, "GLV-2").await.len(), 1);
    // Identical uploads share one copy of the files.
    upload(&mut a, "GLV-1", &[("again.png", &two)], "").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM image_files").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM product_images").await, 2);
}

/// A refused upload: the field named, the files (name, bytes), the alt text, what the error says.
type Case<'a> = (&'a str, Vec<(&'a str, Vec<u8>)>, &'a str, &'a str);

#[tokio::test]
async fn bad_files_are_refused_next_to_the_field_and_nothing_changes() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    let good = png([10, 120, 40], 64, 64);
    let mut truncated = png([10, 120, 40], 200, 200);
    truncated.truncate(truncated.len() / 2);
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec();
    let mut too_big = b"\xff\xd8\xff".to_vec();
    too_big.resize(5 * 1024 * 1024 + 10, 0);
    let long_alt = "x".repeat(301);
    let cases: Vec<Case> = vec![
        ("images", vec![("empty.png", Vec::new())], "", "The file is empty"),
        ("images", vec![("logo.svg", svg.clone())], "", "SVG images are not accepted"),
        ("images", vec![("half.png", truncated.clone())], "", "damaged or incomplete"),
        ("images", vec![("bomb.png", png_claiming(100_000, 100_000))], "", "100000×100000 pixels"),
        ("images", vec![("notes.png", b"just some text".to_vec())], "", "not a PNG, JPEG or WebP"),
        ("images", vec![("huge.jpg", too_big)], "", "at most 5 MB"),
        // One bad file of several refuses them all, naming it.
        ("images", vec![("ok.png", good.clone()), ("bad.svg", svg)], "", "bad.svg: SVG images"),
        ("images", vec![], "", "Choose one or more image files"),
        ("alt", vec![("ok.png", good.clone())], &long_alt, "at most 300 characters"),
    ];
    for (field, files, alt, says) in cases {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let res = upload(&mut a, "GLV-1", &files, alt).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}: {}", res.body);
        let id = if field == "alt" { "image-alt-error" } else { "images-error" };
        let error = res.text_after(&format!("id=\"{id}\">")).unwrap_or_default();
        assert!(error.contains(says), "{says}: the message is next to its field: {error:?}");
        assert!(res.body.contains("Nothing was saved") && res.body.contains("class=\"topbar"), "{says}: the shell");
        assert_eq!(app.count("SELECT COUNT(*) FROM product_images").await, 0, "{says}: nothing changed");
        assert_eq!(audits(&app).await, 0);
    }
    // A refused upload keeps the alt text typed.
    let res = upload(&mut a, "GLV-1", &[("e.png", &[])], "Blue box").await;
    assert!(res.body.contains("value=\"Blue box\""), "{}", res.body);

    // The limit per product: 12, then a clear refusal; several at once cannot pass it either.
    let many: Vec<Vec<u8>> = (0..MAX_IMAGES_PER_PRODUCT as u8).map(|i| png([i * 20, 50, 90], 32, 32)).collect();
    let files: Vec<(&str, &[u8])> = many.iter().map(|b| ("p.png", b.as_slice())).collect();
    let res = upload(&mut a, "GLV-1", &files[..10], "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = upload(&mut a, "GLV-1", &files[10..], "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = upload(&mut a, "GLV-1", &[("one-more.png", &good)], "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = res.text_after("id=\"images-error\">").unwrap_or_default();
    assert!(error.contains("at most 12 images") && error.contains("no more"), "{error:?}");
    assert_eq!(images(&app, "GLV-2").await.len(), 0);
    let res = upload(&mut a, "GLV-2", &files, "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = upload(&mut a, "GLV-2", &[("a.png", &good), ("b.png", &good)], "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(images(&app, "GLV-2").await.len(), 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM product_images WHERE is_primary").await, 2);

    // A rep (reads the catalog, does not manage it) cannot upload.
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut r = app.signed_in(&rep.email).await;
    let res = upload(&mut r, "GLV-1", &[("ok.png", &good)], "").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}

async fn get_image(app: &TestApp, c: Option<&Client<'_>>, url: &str, etag: Option<&str>) -> TestResponse {
    let mut b = Request::builder().uri(url);
    if let Some(c) = c {
        let cookies = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        b = b.header(header::COOKIE, cookies);
    }
    if let Some(e) = etag {
        b = b.header(header::IF_NONE_MATCH, e);
    }
    app.send(b.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn images_are_served_cached_for_good_and_only_to_who_sees_the_product() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    let picture = jpeg_picture(1);
    assert_eq!(upload(&mut a, "GLV-1", &[("g.jpg", &picture)], "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        upload(&mut a, "SECRET-1", &[("s.jpg", &png([5, 5, 5], 50, 50))], "").await.status,
        StatusCode::SEE_OTHER
    );
    let glove = images(&app, "GLV-1").await[0].0.clone();
    let secret = images(&app, "SECRET-1").await[0].0.clone();
    let buyer_a = app.signed_in(&f.buyer_a).await;
    let buyer_b = app.signed_in(&f.buyer_b).await;

    for size in ["thumb", "medium", "full"] {
        let url = format!("/product-images/{glove}/{size}");
        let res = get_image(&app, Some(&buyer_a), &url, None).await;
        assert_eq!(res.status, StatusCode::OK, "{size}");
        assert_eq!(res.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(res.headers[header::CACHE_CONTROL], "private, max-age=31536000, immutable");
        assert_eq!(res.headers["x-content-type-options"], "nosniff");
        let etag = res.headers[header::ETAG].to_str().unwrap().to_string();
        assert!(etag.ends_with(&format!("-{size}\"")), "{etag}");
        let again = get_image(&app, Some(&buyer_a), &url, Some(&etag)).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{size}");
        assert!(again.body.is_empty());
        assert_eq!(get_image(&app, Some(&buyer_a), &url, Some("\"other\"")).await.status, StatusCode::OK);
        // Staff see it too.
        assert_eq!(get_image(&app, Some(&a), &url, None).await.status, StatusCode::OK);
    }
    // Re-encoded: what is served is a JPEG of the stated size, not the upload's bytes.
    let stored = portico::service::product_images::file(
        app.db(),
        None,
        Some(&portico::service::Actor::web(&app.staff("S", &[StaffRole::Admin]).await.principal().unwrap())),
        &glove,
        portico::domain::product_images::ImageSize::Thumb,
    )
    .await
    .unwrap();
    let thumb = image::load_from_memory(&stored.content).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (160, 160));

    // A product hidden from A's catalog: its image does not exist for A's buyers; B sees it.
    let url = format!("/product-images/{secret}/thumb");
    assert_eq!(get_image(&app, Some(&buyer_a), &url, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get_image(&app, Some(&buyer_b), &url, None).await.status, StatusCode::OK);
    assert_eq!(get_image(&app, Some(&buyer_a), "/portal/products/SECRET-1", None).await.status, StatusCode::NOT_FOUND);
    // Nobody signed in sees none; an unknown id or size is not found.
    assert_eq!(
        get_image(&app, None, &format!("/product-images/{glove}/thumb"), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get_image(&app, Some(&buyer_a), "/product-images/nope/thumb", None).await.status, StatusCode::NOT_FOUND);
    let res = get_image(&app, Some(&buyer_a), &format!("/product-images/{glove}/huge"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_catalog_product_page_cart_and_quick_order_show_the_images() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    let (one, two) = (jpeg_picture(2), jpeg_picture(3));
    upload(&mut a, "GLV-1", &[("a.jpg", &one), ("b.jpg", &two)], "").await;
    let list = images(&app, "GLV-1").await;
    let (primary, other) = (&list[0].0, &list[1].0);
    let mut b = app.signed_in(&f.buyer_a).await;

    let thumb = format!(
        "<img class=\"thumb\" src=\"/product-images/{primary}/thumb\" width=\"160\" height=\"160\" alt=\"Nitrile Gloves M\" loading=\"lazy\""
    );
    let catalog = b.get("/portal/catalog").await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert!(catalog.body.contains(&thumb), "{}", catalog.body);
    // GLV-2 has no image: a neutral placeholder of the same size.
    assert!(catalog.body.contains("class=\"thumb thumb-none\""), "{}", catalog.body);

    let page = b.get("/portal/products/GLV-1").await;
    assert!(
        page.body.contains(&format!(
            "<img src=\"/product-images/{primary}/medium\" width=\"480\" height=\"480\" alt=\"Nitrile Gloves M\""
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("src=\"/product-images/{other}/thumb\"")));
    assert!(page.body.contains(&format!("href=\"/product-images/{primary}/full\"")));
    let bare = b.get("/portal/products/GLV-2").await;
    assert!(bare.body.contains("class=\"gallery-none\""), "{}", bare.body);

    // The primary's alt text is used where the product is listed once it is set.
    let path = format!("/admin/products/GLV-1/images/{primary}");
    assert_eq!(
        a.post(&path, &[("intent", "alt"), ("alt", "A box of blue gloves")]).await.status,
        StatusCode::SEE_OTHER
    );
    let catalog = b.get("/portal/catalog").await;
    assert!(catalog.body.contains("alt=\"A box of blue gloves\""), "the cached page was dropped: {}", catalog.body);

    let added = b.post("/portal/cart/add", &[("sku", "GLV-1"), ("quantity", "3")]).await;
    assert!(added.status.is_success() || added.status.is_redirection(), "{}", added.body);
    let cart = b.get("/portal/cart").await;
    assert!(cart.body.contains(&format!("src=\"/product-images/{primary}/thumb\"")), "{}", cart.body);

    let check = b.post("/portal/quick-order/check", &[("lines", "GLV-1 2\nGLV-2 1")]).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    let ready = check.body.split("id=\"qo-ready\"").nth(1).unwrap_or_default();
    assert!(ready.contains(&format!("src=\"/product-images/{primary}/thumb\"")), "{}", check.body);
    assert!(ready.contains("thumb-none"), "GLV-2's placeholder: {}", check.body);
}

async fn api_upload(app: &TestApp, token: &str, sku: &str, ctype: &str, body: Vec<u8>) -> TestResponse {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/products/{sku}/images?alt=Front"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn the_api_lists_uploads_changes_and_deletes_images_with_the_catalog_scopes() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let reader = app.api_token(&[Scope::CatalogRead]).await;
    let writer = app.api_token(&[Scope::CatalogWrite]).await;
    let other = app.api_token(&[Scope::CompanyWrite]).await;

    let empty = app.api("GET", "/api/v1/products/GLV-1/images", &reader, None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(serde_json::from_str::<Value>(&empty.body).unwrap(), json!({"sku": "GLV-1", "images": []}));
    assert_eq!(app.api("GET", "/api/v1/products/GLV-1/images", &other, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api("GET", "/api/v1/products/NOPE/images", &reader, None).await.status, StatusCode::NOT_FOUND);

    let picture = jpeg_picture(0);
    assert_eq!(api_upload(&app, &reader, "GLV-1", "image/jpeg", picture.clone()).await.status, StatusCode::FORBIDDEN);
    let up = api_upload(&app, &writer, "glv-1", "image/jpeg", picture.clone()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let v: Value = serde_json::from_str(&up.body).unwrap();
    let first = v["images"][0].clone();
    assert_eq!(
        (first["primary"].as_bool(), first["alt"].as_str(), first["width"].as_i64()),
        (Some(true), Some("Front"), Some(300))
    );
    let first_id = first["id"].as_str().unwrap().to_string();
    assert_eq!(first["urls"]["thumb"], json!(format!("/product-images/{first_id}/thumb")));
    let up = api_upload(&app, &writer, "GLV-1", "image/png", png([1, 2, 3], 40, 20)).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let v: Value = serde_json::from_str(&up.body).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 2);
    let second_id = v["images"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(v["images"][1]["primary"], json!(false));

    // Bad input: nothing changes.
    let audited = audits(&app).await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec();
    for (ctype, body, status, says) in [
        ("image/svg+xml", svg.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "image/png, image/jpeg or image/webp"),
        ("text/plain", b"hello".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "image/png"),
        ("image/png", svg, StatusCode::UNPROCESSABLE_ENTITY, "SVG images are not accepted"),
        ("image/png", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "The file is empty"),
        ("image/png", png_claiming(60_000, 60_000), StatusCode::UNPROCESSABLE_ENTITY, "60000×60000"),
        ("image/jpeg", picture[..picture.len() / 3].to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "damaged"),
        ("image/jpeg", vec![0xff; 5 * 1024 * 1024 + 1], StatusCode::PAYLOAD_TOO_LARGE, "5 MB"),
    ] {
        let res = api_upload(&app, &writer, "GLV-1", ctype, body).await;
        assert_eq!(res.status, status, "{says}: {}", res.body);
        assert_eq!(res.headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(res.body.contains(says), "{says}: {}", res.body);
    }
    assert_eq!(
        api_upload(&app, &writer, "NOPE", "image/png", png([1, 1, 1], 8, 8)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(images(&app, "GLV-1").await.len(), 2);
    assert_eq!(audits(&app).await, audited);

    // Change: primary and alt; primary false is refused; another product's image is not found.
    let path = format!("/api/v1/products/GLV-1/images/{second_id}");
    let res = app.api("PATCH", &path, &writer, Some(json!({"primary": true, "alt": "Top view"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(
        (v["images"][0]["id"].as_str(), v["images"][0]["alt"].as_str()),
        (Some(second_id.as_str()), Some("Top view"))
    );
    assert_eq!(v["images"][1]["primary"], json!(false));
    let res = app.api("PATCH", &path, &writer, Some(json!({"primary": false}))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(app.api("PATCH", &path, &reader, Some(json!({"alt": "x"}))).await.status, StatusCode::FORBIDDEN);
    let res = app.api("PATCH", &path, &writer, Some(json!({"alt": "a\u{0}b"}))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let wrong = format!("/api/v1/products/GLV-2/images/{second_id}");
    assert_eq!(app.api("PATCH", &wrong, &writer, Some(json!({"alt": "x"}))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api("DELETE", &wrong, &writer, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api("DELETE", &path, &reader, None).await.status, StatusCode::FORBIDDEN);

    // Delete the primary: the other becomes primary.
    let res = app.api("DELETE", &path, &writer, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["images"], json!([v["images"][0].clone()]));
    assert_eq!(
        (v["images"][0]["id"].as_str(), v["images"][0]["primary"].as_bool()),
        (Some(first_id.as_str()), Some(true))
    );
    assert_eq!(app.api("DELETE", &path, &writer, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(audits(&app).await, audited + 2);
}

#[tokio::test]
async fn uploads_at_the_same_moment_leave_one_primary_and_keep_the_limit() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let admin = app.staff("Cai Catalog", &[StaffRole::Admin]).await.principal().unwrap();
    let actor = portico::service::Actor::web(&admin);
    let upload = |rgb: [u8; 3], n: usize| {
        let files = (0..n)
            .map(|i| portico::service::product_images::Upload {
                name: format!("{i}.png"),
                bytes: png([rgb[0], rgb[1], i as u8], 24, 24),
            })
            .collect();
        portico::service::product_images::upload(app.db(), None, app.now(), &actor, "GLV-1", files, "")
    };
    // Two first uploads at once: exactly one image is primary, and the product names it.
    let (a, b) = tokio::join!(upload([10, 20, 0], 1), upload([200, 100, 0], 1));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let list = images(&app, "GLV-1").await;
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|i| i.1).count(), 1, "{list:?}");
    assert_eq!(product_image_id(&app, "GLV-1").await, Some(list[0].0.clone()));
    // Two uploads of 6 at once onto 2: one passes the limit of 12, the other is refused whole.
    let (a, b) = tokio::join!(upload([1, 1, 0], 6), upload([2, 2, 0], 6));
    assert!(a.is_ok() != b.is_ok(), "exactly one of the two fits: {:?} / {:?}", a.as_ref().err(), b.as_ref().err());
    assert_eq!(images(&app, "GLV-1").await.len(), 8);
}

/// A test app whose images go to `dir`.
async fn app_with_image_dir(dir: &TempDir) -> TestApp {
    let path = dir.0.clone();
    TestApp::configured(move |c| c.image_dir = Some(path)).await
}

/// GET `url` on `router` as the signed-in `c`: status, headers and the body's bytes.
async fn fetch(router: &Router, c: &Client<'_>, url: &str, etag: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let cookies = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut b = Request::builder().uri(url).header(header::COOKIE, cookies);
    if let Some(e) = etag {
        b = b.header(header::IF_NONE_MATCH, e);
    }
    let res = router.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// (etag, stored_in, file_key, full_size, bytes in the three byte columns) of every image's files.
async fn image_files(app: &TestApp) -> Vec<(String, String, Option<String>, i64, i64)> {
    let sql = "SELECT etag, stored_in, file_key, CAST(full_size AS BIGINT), \
               CAST(LENGTH(full_content) + LENGTH(medium) + LENGTH(thumb) AS BIGINT) FROM image_files ORDER BY etag";
    common::write(app.db(), move |tx| Box::pin(async move { tx.fetch_all(sql, Vec::new()).await })).await
}

#[tokio::test]
async fn with_an_image_directory_the_files_go_there_are_shared_served_and_removed() {
    let dir = TempDir::create();
    let app = app_with_image_dir(&dir).await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    let picture = jpeg_picture(1);
    let res = upload(&mut a, "GLV-1", &[("g.jpg", &picture)], "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    // The row keeps the metadata and says where the files are; its byte columns are empty.
    let rows = image_files(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (etag, stored_in, key, full_size, in_db) = rows[0].clone();
    let key = key.expect("a file key");
    assert_eq!((stored_in.as_str(), in_db), ("dir", 0));
    assert!(key.starts_with(&format!("{}/{etag}-", &etag[..2])), "{key}");
    // Three files, content-addressed, and nothing else (no temporary file, no probe).
    let on_disk: Vec<PathBuf> =
        ["full", "medium", "thumb"].iter().map(|s| dir.0.join(format!("{key}-{s}.jpg"))).collect();
    assert_eq!(dir.files(), on_disk);
    let full = std::fs::read(&on_disk[0]).unwrap();
    assert_eq!(full_size, full.len() as i64);
    let decoded = image::load_from_memory(&full).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 300));
    let listed =
        app.api("GET", "/api/v1/products/GLV-1/images", &app.api_token(&[Scope::CatalogRead]).await, None).await;
    let listed: Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(listed["images"][0]["size"], json!(full.len()), "the size comes from the row, not the bytes");

    // Served from the directory with the same headers as from the database.
    let id = images(&app, "GLV-1").await[0].0.clone();
    let buyer = app.signed_in(&f.buyer_a).await;
    for (size, path) in ["full", "medium", "thumb"].iter().zip(&on_disk) {
        let url = format!("/product-images/{id}/{size}");
        let (status, headers, body) = fetch(&app.router, &buyer, &url, None).await;
        assert_eq!(status, StatusCode::OK, "{size}");
        assert_eq!(body, std::fs::read(path).unwrap(), "{size}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(headers[header::CACHE_CONTROL], "private, max-age=31536000, immutable");
        assert_eq!(headers[header::ETAG], format!("\"{etag}-{size}\"").as_str());
        let (again, _, body) = fetch(&app.router, &buyer, &url, Some(&format!("\"{etag}-{size}\""))).await;
        assert_eq!((again, body.len()), (StatusCode::NOT_MODIFIED, 0), "{size}");
    }

    // Identical uploads — on another product, twice in one upload, two at the same moment —
    // share the files: one row, three files.
    let res = upload(&mut a, "GLV-2", &[("same.jpg", &picture), ("again.jpg", &picture)], "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(dir.files(), on_disk);
    let other = jpeg_picture(2);
    let admin = app.staff("Cai Catalog", &[StaffRole::Admin]).await.principal().unwrap();
    let actor = portico::service::Actor::web(&admin);
    let at_once = |sku: &'static str| {
        let files = vec![portico::service::product_images::Upload { name: "o.jpg".into(), bytes: other.clone() }];
        portico::service::product_images::upload(
            app.db(),
            app.state.image_dir.as_ref(),
            app.now(),
            &actor,
            sku,
            files,
            "",
        )
    };
    let (one, two) = tokio::join!(at_once("GLV-1"), at_once("SECRET-1"));
    assert!(one.is_ok() && two.is_ok(), "{one:?} {two:?}");
    assert_eq!(image_files(&app).await.len(), 2);
    assert_eq!(dir.files().len(), 6, "the files written by the upload that came second are gone: {:?}", dir.files());
    assert_eq!(app.count("SELECT COUNT(*) FROM product_images").await, 5);

    // Deleting an image whose files another shows keeps them; the last one takes them along.
    let mut ids: Vec<(String, String)> = Vec::new();
    for sku in ["GLV-1", "GLV-2", "SECRET-1"] {
        ids.extend(images(&app, sku).await.into_iter().map(|i| (sku.to_string(), i.0)));
    }
    for (n, (sku, id)) in ids.iter().enumerate() {
        let res = a.post(&format!("/admin/products/{sku}/images/{id}"), &[("intent", "delete")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let left = app.count("SELECT COUNT(*) FROM image_files").await;
        assert_eq!(dir.files().len() as i64, left * 3, "after {} deletions: {:?}", n + 1, dir.files());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM image_files").await, 0);
    assert!(dir.files().is_empty(), "{:?}", dir.files());
}

#[tokio::test]
async fn images_kept_in_the_database_still_serve_once_a_directory_is_set() {
    let dir = TempDir::create();
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    let picture = jpeg_picture(3);
    assert_eq!(upload(&mut a, "GLV-1", &[("g.jpg", &picture)], "").await.status, StatusCode::SEE_OTHER);
    let old = images(&app, "GLV-1").await[0].0.clone();
    let url = format!("/product-images/{old}/medium");
    let (status, _, from_db) = fetch(&app.router, &a, &url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(image_files(&app).await[0].1, "db");

    // Another node on the same database, with the setting: the old image serves from its row, a
    // new one goes to the directory.
    let mut config = portico::Config::for_database(&app.url);
    config.image_dir = Some(dir.0.clone());
    let node = portico::open(config).await.unwrap();
    let router = portico::build_router(node.clone());
    let (status, headers, body) = fetch(&router, &a, &url, None).await;
    assert_eq!((status, body == from_db), (StatusCode::OK, true));
    assert!(headers[header::ETAG].to_str().unwrap().ends_with("-medium\""));
    let admin = app.staff("Cai Catalog", &[StaffRole::Admin]).await.principal().unwrap();
    let files = vec![portico::service::product_images::Upload { name: "n.png".into(), bytes: png([9, 99, 9], 64, 48) }];
    let actor = portico::service::Actor::web(&admin);
    portico::service::product_images::upload(&node.db, node.image_dir.as_ref(), node.now(), &actor, "GLV-1", files, "")
        .await
        .unwrap();
    let stored: Vec<String> = image_files(&app).await.into_iter().map(|r| r.1).collect();
    assert_eq!(stored.iter().filter(|s| *s == "db").count(), 1, "{stored:?}");
    assert_eq!(stored.iter().filter(|s| *s == "dir").count(), 1, "{stored:?}");
    assert_eq!(dir.files().len(), 3);
    let new = images(&app, "GLV-1").await.into_iter().find(|i| i.0 != old).unwrap().0;
    let (status, _, _) = fetch(&router, &a, &format!("/product-images/{new}/thumb"), None).await;
    assert_eq!(status, StatusCode::OK);
    // A node without the setting cannot read it: a server error, not a panic or a 404.
    let (status, _, _) = fetch(&app.router, &a, &format!("/product-images/{new}/thumb"), None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    node.db.close().await;
}

/// Log lines written while the guard lives (on this thread: the tests' runtime runs the
/// requests on it).
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_missing_file_is_a_logged_server_error() {
    let dir = TempDir::create();
    let app = app_with_image_dir(&dir).await;
    let f = fixture(&app).await;
    let mut a = app.signed_in(&f.admin).await;
    assert_eq!(upload(&mut a, "GLV-1", &[("g.jpg", &jpeg_picture(0))], "").await.status, StatusCode::SEE_OTHER);
    let id = images(&app, "GLV-1").await[0].0.clone();
    let key = image_files(&app).await[0].2.clone().unwrap();
    std::fs::remove_file(dir.0.join(format!("{key}-full.jpg"))).unwrap();

    let logged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = logged.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Logs(sink.clone()))
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let (status, _, _) = fetch(&app.router, &a, &format!("/product-images/{id}/full"), None).await;
    drop(guard);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let logged = String::from_utf8(logged.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("ERROR") && logged.contains("full file cannot be read") && logged.contains(&key),
        "{logged}"
    );
    // The other renditions are still there.
    assert_eq!(fetch(&app.router, &a, &format!("/product-images/{id}/thumb"), None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn portico_refuses_to_start_without_a_usable_image_directory() {
    let dir = TempDir::create();
    let db_file = dir.0.join("never-created.db");
    let config = |image_dir: PathBuf| {
        let mut c = portico::Config::for_database(&format!("sqlite://{}", db_file.display()));
        c.image_dir = Some(image_dir);
        c
    };
    let missing = dir.0.join("not-mounted");
    let err = portico::open(config(missing.clone())).await.err().expect("refused");
    let message = err.to_string();
    assert!(message.contains("PORTICO_IMAGE_DIR") && message.contains("no such directory"), "{message}");
    assert!(message.contains(&missing.display().to_string()), "{message}");
    let a_file = dir.0.join("a-file");
    std::fs::write(&a_file, b"x").unwrap();
    let message = portico::open(config(a_file.clone())).await.err().expect("refused").to_string();
    assert!(message.contains("not a directory"), "{message}");
    // Refused before the database was opened.
    assert!(!db_file.exists());
    // A directory that takes files: the probe leaves nothing behind.
    let usable = dir.0.join("images");
    std::fs::create_dir(&usable).unwrap();
    let dir_only = portico::store::image_dir::ImageDir::open(&usable).expect("usable");
    assert_eq!(dir_only.root(), usable.as_path());
    assert_eq!(std::fs::read_dir(&usable).unwrap().count(), 0);
}
