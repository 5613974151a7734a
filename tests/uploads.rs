//! The staff upload page: permission is checked before any of the body is read, the file goes to
//! a temporary file as it arrives, and a file above the documented limit is refused with 413.

mod common;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use common::{Client, TestApp, TestResponse};
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::service::import_jobs::MAX_UPLOAD_BYTES;
use portico::store::products::ProductInput;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const BOUNDARY: &str = "portico-upload-test";
static FILLER: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// A multipart upload of a `size`-byte file, generated as it is read; `pulled` counts the bytes
/// the server has taken from it. `announce` sends a Content-Length (a browser does); without it
/// the body is chunked.
fn big_upload(c: &Client<'_>, csrf: &str, size: u64, announce: bool, pulled: Arc<AtomicU64>) -> Request<Body> {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nstock\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\nsku,warehouse,on_hand\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let total = head.len() as u64 + size + tail.len() as u64;
    let chunks = size.div_ceil(FILLER.len() as u64);
    let filler = (0..chunks).map(move |i| {
        let n = (size - i * FILLER.len() as u64).min(FILLER.len() as u64) as usize;
        Bytes::from_static(&FILLER[..n])
    });
    let parts = std::iter::once(Bytes::from(head)).chain(filler).chain(std::iter::once(Bytes::from(tail)));
    let stream = futures_util::stream::iter(parts.map(move |b| {
        pulled.fetch_add(b.len() as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(b)
    }));
    let cookies = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/admin/imports")
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("x-csrf-token", csrf)
        .header("hx-request", "true");
    if announce {
        req = req.header(header::CONTENT_LENGTH, total);
    }
    req.body(Body::from_stream(stream)).unwrap()
}

async fn send(app: &TestApp, req: Request<Body>) -> TestResponse {
    app.send(req).await
}

const MB: u64 = 1024 * 1024;

#[tokio::test]
async fn an_upload_by_someone_who_may_not_import_is_refused_before_its_body_is_read() {
    let app = TestApp::new().await;
    let account = app.account("Alpha Clinic", None).await;
    let viewer = app.buyer(&account, "Vic Viewer", BuyerRole::Viewer).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    for (email, status) in [(&viewer.email, StatusCode::NOT_FOUND), (&rep.email, StatusCode::FORBIDDEN)] {
        let mut c = app.signed_in(email).await;
        let csrf = c.csrf().await;
        // 100 MB, above the upload limit too: the answer is the permission's, not 413, and comes
        // without the body being read (the old page read all of it into memory first).
        for announce in [true, false] {
            let pulled = Arc::new(AtomicU64::new(0));
            let r = send(&app, big_upload(&c, &csrf, 100 * MB, announce, pulled.clone())).await;
            assert_eq!(r.status, status, "{email}: {}", r.body);
            assert!(pulled.load(Ordering::SeqCst) < MB, "{email} read {} bytes", pulled.load(Ordering::SeqCst));
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM import_jobs").await, 0);
}

#[tokio::test]
async fn an_upload_above_the_limit_is_refused_with_413_and_a_normal_one_still_imports() {
    let app = TestApp::new().await;
    let glv = ProductInput::new("GLV-1", "Nitrile gloves");
    common::sell(app.db(), app.now(), vec![(glv, "10.00", 5)]).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let csrf = c.csrf().await;

    // Announced too large: refused at once, nothing read.
    let pulled = Arc::new(AtomicU64::new(0));
    let r = send(&app, big_upload(&c, &csrf, 100 * MB, true, pulled.clone())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("larger than the upload limit of 64 MB"), "{}", r.body);
    assert!(pulled.load(Ordering::SeqCst) < MB);
    // Not announced (chunked): refused once the limit is passed, having read no more than that.
    let pulled = Arc::new(AtomicU64::new(0));
    let r = send(&app, big_upload(&c, &csrf, MAX_UPLOAD_BYTES + MB, false, pulled.clone())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("larger than the upload limit of 64 MB"), "{}", r.body);
    let read = pulled.load(Ordering::SeqCst);
    assert!((MAX_UPLOAD_BYTES..=MAX_UPLOAD_BYTES + MB).contains(&read), "read {read} bytes");
    assert_eq!(app.count("SELECT COUNT(*) FROM import_jobs").await, 0, "no job for a refused upload");

    // A normal upload goes through the temporary file and imports.
    let r = c
        .upload("/admin/imports", &[("kind", "stock")], ("file", "count.csv", "sku,warehouse,on_hand\nGLV-1,CHI,42\n"))
        .await;
    let job = r.headers.get("hx-redirect").expect("sent to the job").to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("1 stock rows read; 1 changed."), "{status}");
    assert_eq!(app.count("SELECT CAST(SUM(on_hand) AS BIGINT) FROM stock_levels").await, 42);
    // An empty file is a form error, not a job.
    let r = c.upload("/admin/imports", &[("kind", "stock")], ("file", "empty.csv", "")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn an_ordinary_form_above_one_megabyte_is_413() {
    let app = TestApp::new().await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let big = "x".repeat(2 * MB as usize);
    let r = c.post("/admin/accounts/new", &[("name", &big)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.body[..r.body.len().min(500)]);
    assert!(r.body.contains("larger than 1024 KB"), "{}", r.body);
}
