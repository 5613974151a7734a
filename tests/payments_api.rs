//! Payments through the API beyond recording: the `Idempotency-Key` on recording and on the bank
//! file's import (same key and body → the first response exactly; another body → 422; still in
//! flight → 409; a refused request leaves the key free), the import itself (text/csv, all or
//! nothing, every bad row with its line and column), and taking one application of a payment or
//! credit note off its invoice. On SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

mod common;
mod receivables;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, TestResponse};
use portico::domain::auth::Scope;
use portico::service::Actor;
use receivables::{exposure_is_exact, fixture, invoice, invoiced, m};
use serde_json::{Value, json};

/// An API call with an optional `Idempotency-Key`, a body and its content type.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Option<(&str, String)>,
) -> (TestResponse, Value) {
    let mut b = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    let body = match body {
        Some((content_type, text)) => {
            b = b.header("content-type", content_type);
            Body::from(text)
        }
        None => Body::empty(),
    };
    let res = app.send(b.body(body).unwrap()).await;
    let json = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    (res, json)
}

fn json_body(v: &Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

fn csv(text: &str) -> Option<(&'static str, String)> {
    Some(("text/csv", text.to_string()))
}

/// (scope, request hash) recorded for a key.
async fn key_record(app: &TestApp, key: &str) -> Option<(String, String, String)> {
    portico::on_db!(app.db(), |c| sqlx::query_as::<_, (String, String, String)>(
        "SELECT scope, request_hash, state FROM idempotency_keys WHERE idem_key = $1"
    )
    .bind(key)
    .fetch_optional(c)
    .await)
    .unwrap()
}

#[tokio::test]
async fn recording_with_an_idempotency_key_answers_a_retry_with_the_first_response() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    let body = json!({"account": f.account_number, "amount": "25.00", "method": "wire", "reference": "W-1",
                      "applications": [{"invoice": a, "amount": "20.00"}, {"invoice": b, "amount": "5.00"}]});
    let (first, p) = call(&app, "POST", "/api/v1/payments", &t, Some("pay-1"), json_body(&body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // The key was completed in the payment's own transaction, with its response.
    let (_, _, state) = key_record(&app, "pay-1").await.expect("the key is recorded");
    assert_eq!(state, "done");
    // The same body again (its keys in another order): the first response exactly, nothing recorded.
    let reordered = format!(
        r#"{{"applications": [{{"amount": "20.00", "invoice": "{a}"}}, {{"amount": "5.00", "invoice": "{b}"}}], "reference": "W-1", "method": "wire", "amount": "25.00", "account": "{}"}}"#,
        f.account_number
    );
    let (again, _) =
        call(&app, "POST", "/api/v1/payments", &t, Some("pay-1"), Some(("application/json", reordered))).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::CREATED, first.body.as_str()));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(invoice(&app, &f, &b).await.1, m("5"));
    // Another body under the key: 422, nothing recorded.
    let other = json!({"account": f.account_number, "amount": "26.00", "method": "wire"});
    let (refused, problem) = call(&app, "POST", "/api/v1/payments", &t, Some("pay-1"), json_body(&other)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(problem["title"], "Idempotency key reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    // A key is the token's own: another token's request under the same key runs.
    let t2 = app.api_token(&[Scope::PaymentsWrite]).await;
    let small = json!({"account": f.account_number, "amount": "1.00", "method": "ach"});
    let (theirs, _) = call(&app, "POST", "/api/v1/payments", &t2, Some("pay-1"), json_body(&small)).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    // A request still in flight under a key (another request holds its claim): 409, nothing recorded;
    // once the holder lets go, the retry records.
    let (scope, hash, _) = key_record(&app, "pay-1").await.unwrap();
    let claimed = portico::store::idempotency::claim(app.db(), &scope, "pay-2", &hash, "another-request", app.now())
        .await
        .unwrap();
    assert!(matches!(claimed, portico::store::idempotency::Claim::Claimed));
    let (busy, problem) = call(&app, "POST", "/api/v1/payments", &t, Some("pay-2"), json_body(&body)).await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.body);
    assert_eq!(problem["title"], "Request in progress");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    portico::store::idempotency::release(app.db(), &scope, "pay-2", "another-request").await.unwrap();
    // (A over-application now, since the first payment paid A: refused, and the key left free.)
    let (over, _) = call(&app, "POST", "/api/v1/payments", &t, Some("pay-2"), json_body(&body)).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.body);
    assert!(key_record(&app, "pay-2").await.is_none(), "a refused request leaves no record of its key");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    // Take the first payment's application to A off (the API's unapply), and the same request
    // under the same key now records.
    let to_a = p["applications"].as_array().unwrap().iter().find(|x| x["invoice_number"] == a.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let number = p["number"].as_str().unwrap();
    let (off, after) =
        call(&app, "DELETE", &format!("/api/v1/payments/{number}/applications/{to_a}"), &t, None, None).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(after["unapplied"], "20.00");
    let taken = after["applications"].as_array().unwrap().iter().find(|x| x["id"] == to_a.as_str()).unwrap().clone();
    assert_eq!((taken["taken_off"].as_str(), taken["reversed_at"].is_i64()), (Some("unapplied"), true));
    let (now_ok, _) = call(&app, "POST", "/api/v1/payments", &t, Some("pay-2"), json_body(&body)).await;
    assert_eq!(now_ok.status, StatusCode::CREATED, "{}", now_ok.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 3);
    assert_eq!(invoice(&app, &f, &a).await.2, "paid");
    exposure_is_exact(&app, &f.account).await;
    // A key that is not one: 422 naming the header.
    let (bad, problem) = call(&app, "POST", "/api/v1/payments", &t, Some(" "), json_body(&small)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn the_api_takes_one_application_off_and_refuses_what_cannot_be() {
    use portico::service::credit_notes::{CreditRequest, issue_credit_note};
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    let body = json!({"account": f.account_number, "amount": "30.00", "method": "check", "apply_oldest_first": true});
    let (res, p) = call(&app, "POST", "/api/v1/payments", &t, None, json_body(&body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let number = p["number"].as_str().unwrap().to_string();
    let id = p["applications"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(p["applications"][0]["source_kind"], "payment");
    let path = format!("/api/v1/payments/{number}/applications/{id}");
    // A read token may not; an unknown application is 404.
    let reader = app.api_token(&[Scope::PaymentsRead]).await;
    assert_eq!(call(&app, "DELETE", &path, &reader, None, None).await.0.status, StatusCode::FORBIDDEN);
    let unknown = format!("/api/v1/payments/{number}/applications/nope");
    assert_eq!(call(&app, "DELETE", &unknown, &t, None, None).await.0.status, StatusCode::NOT_FOUND);
    assert_eq!(invoice(&app, &f, &a).await.1, m("30"));
    let (off, _) = call(&app, "DELETE", &path, &t, None, None).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(invoice(&app, &f, &a).await, (m("50"), m("0"), "open".into()));
    let (twice, _) = call(&app, "DELETE", &path, &t, None, None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    // A reversed payment's applications cannot be taken off: 409.
    let (res, _) = call(
        &app,
        "POST",
        &format!("/api/v1/payments/{number}/applications"),
        &t,
        None,
        json_body(&json!({"oldest_first": true})),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let (res, p) = call(
        &app,
        "POST",
        &format!("/api/v1/payments/{number}/reversal"),
        &t,
        None,
        json_body(&json!({"reason": "bounced"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let reapplied = p["applications"].as_array().unwrap().iter().find(|x| x["taken_off"] == "reversal").unwrap();
    let path = format!("/api/v1/payments/{number}/applications/{}", reapplied["id"].as_str().unwrap());
    let (refused, problem) = call(&app, "DELETE", &path, &t, None, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(problem["detail"].as_str().unwrap().contains("reversed"), "{}", refused.body);
    exposure_is_exact(&app, &f.account).await;
    // A credit note's application: read on the invoice, taken off with credit:write.
    let req = CreditRequest { lines: vec![(1, 1)], reason: "Returned".into() };
    let note = issue_credit_note(app.db(), app.now(), &Actor::web(&f.finance), &a, &req).await.unwrap();
    let invoices = app.api_token(&[Scope::InvoicesRead]).await;
    let (res, inv) = call(&app, "GET", &format!("/api/v1/invoices/{a}"), &invoices, None, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let from_note = inv["applications"].as_array().unwrap().iter().find(|x| x["source_kind"] == "credit_note").unwrap();
    assert_eq!(from_note["source_number"], note.number.as_str());
    let path = format!("/api/v1/credit-notes/{}/applications/{}", note.number, from_note["id"].as_str().unwrap());
    assert_eq!(
        call(&app, "DELETE", &path, &t, None, None).await.0.status,
        StatusCode::FORBIDDEN,
        "payments:write is not enough"
    );
    let credit = app.api_token(&[Scope::CreditWrite]).await;
    let (res, out) = call(&app, "DELETE", &path, &credit, None, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!((out["kind"].as_str(), out["balance"].as_str()), (Some("credit_note"), Some("10.00")));
    assert_eq!(out["applications"][0]["taken_off"], "unapplied");
    assert_eq!(invoice(&app, &f, &a).await, (m("50"), m("0"), "open".into()));
    assert_eq!(call(&app, "DELETE", &path, &credit, None, None).await.0.status, StatusCode::CONFLICT);
    exposure_is_exact(&app, &f.account).await;
}

#[tokio::test]
async fn the_bank_file_is_imported_through_the_api_whole_or_not_at_all() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let n = &f.account_number;
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    let path = "/api/v1/payments/import";
    // Every bad row named with its line and column; nothing recorded.
    let bad = format!(
        "account,amount,received_on,method,invoices,external_id\n\
         {n},20.00,2026-01-05,wire,{a},BANK-1\n\
         {n},abc,2026-01-05,wire,,BANK-2\n\
         {n},5.00,2026-01-05,pigeon,,BANK-3\n"
    );
    let (res, problem) = call(&app, "POST", path, &t, None, csv(&bad)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.headers["content-type"], "application/problem+json");
    let errors = problem["errors"].as_array().unwrap();
    let at: Vec<(u64, &str)> =
        errors.iter().map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap())).collect();
    assert_eq!(at, vec![(3, "amount"), (4, "method")], "{}", res.body);
    assert!(errors[0]["message"].as_str().unwrap().starts_with("Line 3, amount"), "{}", res.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    // An invoice not open for the row's account: refused in the import's transaction, nothing recorded.
    let foreign = format!("account,amount,received_on,method,invoices\n{n},5,2026-01-05,ach,INV-999999\n");
    let (res, problem) = call(&app, "POST", path, &t, None, csv(&foreign)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(
        (problem["errors"][0]["line"].as_u64(), problem["errors"][0]["column"].as_str()),
        (Some(2), Some("invoices"))
    );
    // Not CSV: 415. A token without payments:write: 403.
    let (res, _) = call(&app, "POST", path, &t, None, json_body(&json!({"rows": []}))).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", res.body);
    let reader = app.api_token(&[Scope::PaymentsRead]).await;
    assert_eq!(call(&app, "POST", path, &reader, None, csv(&bad)).await.0.status, StatusCode::FORBIDDEN);
    // A clean file: recorded, applied; the same file again skips every row (external ids).
    let good = format!(
        "account,amount,received_on,method,reference,invoices,external_id\n\
         {n},20.00,2026-01-05,wire,W-1,{a},BANK-1\n\
         {n},7.50,2026-01-06,check,CHK-7,,BANK-2\n"
    );
    let (res, report) =
        call(&app, "POST", path, &t, Some("file-1"), Some(("text/csv; charset=utf-8", good.clone()))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(report["recorded"], json!(["PAY-100001", "PAY-100002"]));
    assert_eq!(report["total"], "27.50");
    assert_eq!(invoice(&app, &f, &a).await.2, "paid");
    exposure_is_exact(&app, &f.account).await;
    // The same key and file: the first report exactly, marked replayed.
    let (again, _) = call(&app, "POST", path, &t, Some("file-1"), csv(&good)).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::OK, res.body.as_str()));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // The same file without the key: imported again, every row skipped.
    let (fresh, report) = call(&app, "POST", path, &t, None, csv(&good)).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!((report["recorded"].as_array().unwrap().len(), report["skipped"].as_array().unwrap().len()), (0, 2));
    assert_eq!(report["skipped"][0], json!({"line": 2, "external_id": "BANK-1", "payment": "PAY-100001"}));
    // Another file under the key: 422.
    let other = format!("account,amount,received_on,method\n{n},1.00,2026-01-07,ach\n");
    let (res, problem) = call(&app, "POST", path, &t, Some("file-1"), csv(&other)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(problem["title"], "Idempotency key reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    // The document describes it: text/csv in, the key's header, 415 and 422.
    let (_, doc) = call(&app, "GET", "/api/v1/openapi.json", &t, None, None).await;
    let op = &doc["paths"]["/api/v1/payments/import"]["post"];
    assert!(op["requestBody"]["content"]["text/csv"].is_object(), "{op}");
    assert!(op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key"), "{op}");
    for status in ["200", "409", "413", "415", "422"] {
        assert!(op["responses"][status].is_object(), "{status}: {op}");
    }
    let create = &doc["paths"]["/api/v1/payments"]["post"];
    assert!(create["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key"), "{create}");
}

#[tokio::test]
async fn racing_retries_record_once_and_a_dropped_request_frees_its_key() {
    use portico::service::idempotency::{IdemKey, Keyed};
    use portico::service::payments::{ApplyInput, record_payment_once};
    use std::future::Future;
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    // Eight clients send the same request under one key at once: one payment; every answer is
    // that payment (first or replayed) or "still in progress".
    let body = json!({"account": f.account_number, "amount": "12.00", "method": "ach"}).to_string();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (router, t, body) = (app.router.clone(), t.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let r = Request::post("/api/v1/payments")
                .header("authorization", format!("Bearer {t}"))
                .header("idempotency-key", "race-1")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            router.oneshot(r).await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);

    // A request dropped while it claims its key (its client hung up) releases the claim: the
    // retry records, and is not told the first is still in progress.
    let fin = Actor::web(&f.finance);
    let input = receivables::pay(&f, "3.00", ApplyInput::Nothing);
    let key = IdemKey::hashed("test:dropped".into(), "drop-1", b"the same request");
    let mut first =
        Box::pin(record_payment_once(app.db(), app.now(), &fin, &input, Some(&key), |_| (201, String::new())));
    // Polled once: its claim is sent (and cannot have been answered yet on this one-thread
    // runtime); then dropped, as axum drops the handler of a client that hung up.
    let waker = std::task::Waker::noop();
    assert!(first.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_pending());
    drop(first);
    let mut retried = None;
    for _ in 0..250 {
        match record_payment_once(app.db(), app.now(), &fin, &input, Some(&key), |_| (201, String::new())).await {
            Err(portico::service::ServiceError::InFlight) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            other => {
                retried = Some(other);
                break;
            }
        }
    }
    assert!(matches!(retried, Some(Ok(Keyed::Ran(_)))), "{retried:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    exposure_is_exact(&app, &f.account).await;
}
