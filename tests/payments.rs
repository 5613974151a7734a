//! Payments: finance records money received and applies it to one or many invoices of the same
//! account, in part; what is not applied stays unapplied; a reversal takes it all back; the bank's
//! file is imported whole or not at all, and a second import records nothing twice. Invoices'
//! paid amounts, payments' unapplied amounts and the running exposure stay exact to the cent
//! (exposure running == exposure from the records after every step).

mod common;
mod receivables;

use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::service::payment_imports::import_payments_csv;
use portico::service::payments::{self, ApplyInput, PaymentInput};
use portico::service::{Actor, ServiceError};
use receivables::{exposure_is_exact, fixture, invoice, invoiced, m, pay};

#[tokio::test]
async fn a_partial_shipment_is_invoiced_and_paid_in_part_exact_to_the_cent() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    // 7 ordered, 3 shipped: the invoice bills 30.00; 40.00 stays uninvoiced.
    let inv = invoiced(&app, &f, &f.account, 7, 3).await;
    assert_eq!(invoice(&app, &f, &inv).await, (m("30.00"), m("0"), "open".into()));
    let e = exposure_is_exact(&app, &f.account).await;
    assert_eq!((e.uninvoiced, e.receivable, e.credits), (m("40").raw(), m("30").raw(), 0));
    // 12.34 paid against it.
    let r = payments::record_payment(
        app.db(),
        app.now(),
        &fin,
        &pay(&f, "12.34", ApplyInput::Amounts(vec![(inv.clone(), "12.34".into())])),
    )
    .await
    .unwrap();
    assert!(!r.replayed);
    assert_eq!((r.payment.row.amount, r.payment.row.unapplied), (m("12.34").raw(), 0));
    assert_eq!(r.payment.applications.len(), 1);
    assert_eq!(invoice(&app, &f, &inv).await, (m("30.00"), m("12.34"), "open".into()));
    let e = exposure_is_exact(&app, &f.account).await;
    assert_eq!((e.uninvoiced, e.receivable, e.credits), (m("40").raw(), m("17.66").raw(), 0));
    // The rest: 17.66 closes it; 0.01 more stays unapplied.
    let r =
        payments::record_payment(app.db(), app.now(), &fin, &pay(&f, "17.67", ApplyInput::OldestFirst)).await.unwrap();
    assert_eq!(r.payment.row.unapplied, m("0.01").raw());
    assert_eq!(invoice(&app, &f, &inv).await, (m("30.00"), m("30.00"), "paid".into()));
    let e = exposure_is_exact(&app, &f.account).await;
    assert_eq!((e.uninvoiced, e.receivable, e.credits), (m("40").raw(), 0, m("0.01").raw()));
    // Events and audit for each write.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.recorded'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.applied'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'payment.%'").await, 4);
}

#[tokio::test]
async fn one_payment_applies_to_many_invoices_and_the_rest_stays_unapplied_until_applied() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let r = payments::record_payment(
        app.db(),
        app.now(),
        &fin,
        &pay(&f, "100.00", ApplyInput::Amounts(vec![(a.clone(), "20.00".into()), (b.clone(), "30.00".into())])),
    )
    .await
    .unwrap();
    let p = r.payment.row;
    assert_eq!(p.unapplied, m("50").raw());
    assert_eq!(invoice(&app, &f, &a).await.2, "paid");
    assert_eq!(invoice(&app, &f, &b).await.1, m("30"));
    exposure_is_exact(&app, &f.account).await;
    // More than a balance, or than what is left, is refused and changes nothing.
    let too_much = ApplyInput::Amounts(vec![(b.clone(), "20.01".into())]);
    match payments::apply_payment(app.db(), app.now(), &fin, &p.number, &too_much).await {
        Err(ServiceError::Invalid(e)) => assert!(e[0].message.contains("more than its balance of 20"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    let c = invoiced(&app, &f, &f.account, 4, 4).await; // 40.00
    let over = ApplyInput::Amounts(vec![(b.clone(), "20".into()), (c.clone(), "30.01".into())]);
    match payments::apply_payment(app.db(), app.now(), &fin, &p.number, &over).await {
        Err(ServiceError::Invalid(e)) => assert!(e[0].message.contains("more than the 50"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(invoice(&app, &f, &b).await.1, m("30"));
    // Another account's invoice is refused.
    let foreign = invoiced(&app, &f, &f.other, 1, 1).await;
    let wrong = ApplyInput::Amounts(vec![(foreign.clone(), "1".into())]);
    match payments::apply_payment(app.db(), app.now(), &fin, &p.number, &wrong).await {
        Err(ServiceError::Invalid(e)) => assert!(e[0].message.contains("not an open invoice of this account"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    // Apply the rest oldest first: B's 20.00, then 30.00 of C.
    let p2 = payments::apply_payment(app.db(), app.now(), &fin, &p.number, &ApplyInput::OldestFirst).await.unwrap();
    assert_eq!(p2.row.unapplied, 0);
    assert_eq!(p2.applications.len(), 4);
    assert_eq!(invoice(&app, &f, &b).await.2, "paid");
    assert_eq!(invoice(&app, &f, &c).await.1, m("30"));
    exposure_is_exact(&app, &f.account).await;
    // Nothing left to apply.
    assert!(matches!(
        payments::apply_payment(app.db(), app.now(), &fin, &p.number, &ApplyInput::OldestFirst).await,
        Err(ServiceError::Conflict(_))
    ));
    // The invoice's page lists what was applied to it.
    let applied = payments::invoice_applications(app.db(), &fin, &b).await.unwrap();
    assert_eq!(applied.iter().map(|a| a.amount).sum::<i64>(), m("50").raw());
}

#[tokio::test]
async fn a_reversal_takes_back_every_application_and_the_credit() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 2, 2).await;
    let b = invoiced(&app, &f, &f.account, 5, 5).await;
    let before = exposure_is_exact(&app, &f.account).await;
    let r =
        payments::record_payment(app.db(), app.now(), &fin, &pay(&f, "60.00", ApplyInput::OldestFirst)).await.unwrap();
    assert_eq!(invoice(&app, &f, &a).await.2, "paid");
    assert_eq!(invoice(&app, &f, &b).await.1, m("40"));
    assert!(matches!(
        payments::reverse_payment(app.db(), app.now(), &fin, &r.payment.row.number, "  ").await,
        Err(ServiceError::Invalid(_))
    ));
    let p = payments::reverse_payment(app.db(), app.now(), &fin, &r.payment.row.number, "Check bounced").await.unwrap();
    assert_eq!(
        (p.row.status.as_str(), p.row.reversal_reason.as_str(), p.row.unapplied),
        ("reversed", "Check bounced", 0)
    );
    assert!(p.applications.iter().all(|a| a.reversed_at.is_some()));
    assert_eq!(invoice(&app, &f, &a).await, (m("20"), m("0"), "open".into()));
    assert_eq!(invoice(&app, &f, &b).await, (m("50"), m("0"), "open".into()));
    assert_eq!(exposure_is_exact(&app, &f.account).await, before);
    assert!(matches!(
        payments::reverse_payment(app.db(), app.now(), &fin, &r.payment.row.number, "again").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        payments::apply_payment(app.db(), app.now(), &fin, &r.payment.row.number, &ApplyInput::OldestFirst).await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.reversed'").await, 1);
}

#[tokio::test]
async fn bad_payments_are_refused_naming_the_field_and_customer_service_may_not_record() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let bad = PaymentInput {
        account: "A-NOPE".into(),
        amount: "-1".into(),
        received_on: "2999-01-01".into(),
        method: "cash".into(),
        ..Default::default()
    };
    match payments::record_payment(app.db(), app.now(), &fin, &bad).await {
        Err(ServiceError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|p| p.field.as_str()).collect();
            for want in ["amount", "received_on", "method", "account"] {
                assert!(fields.contains(&want), "{want} in {fields:?}");
            }
        }
        other => panic!("{other:?}"),
    }
    let ok = pay(&f, "5", ApplyInput::Nothing);
    assert!(matches!(
        payments::record_payment(app.db(), app.now(), &Actor::web(&f.cs), &ok).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        payments::record_payment(app.db(), app.now(), &Actor::web(&f.manager), &ok).await,
        Err(ServiceError::NotFound)
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    // An external id records once.
    let with_ext = PaymentInput { external_id: Some("BANK-9".into()), ..ok.clone() };
    let first = payments::record_payment(app.db(), app.now(), &fin, &with_ext).await.unwrap();
    let again = payments::record_payment(app.db(), app.now(), &fin, &with_ext).await.unwrap();
    assert!(again.replayed && again.payment.row.id == first.payment.row.id);
    let other_amount = PaymentInput { amount: "6".into(), ..with_ext };
    assert!(matches!(
        payments::record_payment(app.db(), app.now(), &fin, &other_amount).await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    exposure_is_exact(&app, &f.account).await;
}

#[tokio::test]
async fn buyers_see_their_own_accounts_payments_only() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let r = payments::record_payment(app.db(), app.now(), &fin, &pay(&f, "5", ApplyInput::Nothing)).await.unwrap();
    let number = r.payment.row.number;
    let mine = payments::list_payments(app.db(), &Actor::web(&f.manager), None, None, 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(payments::get_payment(app.db(), &Actor::web(&f.manager), &number).await.is_ok());
    let theirs = payments::list_payments(app.db(), &Actor::web(&f.other_manager), None, None, 10).await.unwrap();
    assert!(theirs.is_empty());
    assert!(matches!(
        payments::get_payment(app.db(), &Actor::web(&f.other_manager), &number).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        payments::list_payments(app.db(), &Actor::web(&f.other_manager), Some(&f.account), None, 10).await,
        Err(ServiceError::NotFound)
    ));
    // A buyer without billing rights sees none.
    let buyer = app.buyer(&f.account, "Bo Buyer", BuyerRole::Buyer).await.principal().unwrap();
    assert!(matches!(payments::get_payment(app.db(), &Actor::web(&buyer), &number).await, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn a_bank_file_is_imported_whole_or_not_at_all_and_once() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let other_number = portico::store::accounts::get(app.db(), &f.other).await.unwrap().unwrap().number;
    let n = &f.account_number;
    let bad = format!(
        "account,amount,received_on,method,reference,invoices,external_id\n\
         {n},25.00,2026-01-05,wire,W-1,{a};{b},BANK-1\n\
         {n},abc,2026-01-05,wire,W-2,,BANK-2\n\
         A-NONE,5,2026-01-05,ach,,,BANK-3\n"
    );
    match import_payments_csv(app.db(), app.now(), &fin, bad.as_bytes()).await {
        Err(ServiceError::Invalid(e)) => {
            assert_eq!(e.len(), 1, "row errors before accounts: {e:?}");
            assert!(e[0].field == "line 3, amount", "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    let unknown = format!(
        "account,amount,received_on,method,invoices\nA-NONE,5,2026-01-05,ach,\n{n},5,2026-01-05,ach,{a}\n{other_number},5,2026-01-05,ach,{a}\n"
    );
    match import_payments_csv(app.db(), app.now(), &fin, unknown.as_bytes()).await {
        Err(ServiceError::Invalid(e)) => assert_eq!(e[0].field, "line 2, account", "{e:?}"),
        other => panic!("{other:?}"),
    }
    let foreign = format!(
        "account,amount,received_on,method,invoices\n{n},5,2026-01-05,ach,{a}\n{other_number},5,2026-01-05,ach,{a}\n"
    );
    match import_payments_csv(app.db(), app.now(), &fin, foreign.as_bytes()).await {
        Err(ServiceError::Invalid(e)) => {
            assert_eq!(e.len(), 1);
            assert!(e[0].field == "line 3, invoices" && e[0].message.contains("not an open invoice"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0, "nothing changes");
    let good = format!(
        "account,amount,received_on,method,reference,invoices,external_id\n\
         {n},25.00,2026-01-05,wire,W-1,{b} {a},BANK-1\n\
         {n},7.50,2026-01-06,check,CHK-7,,BANK-2\n"
    );
    let report = import_payments_csv(app.db(), app.now(), &fin, good.as_bytes()).await.unwrap();
    assert_eq!((report.recorded.len(), report.skipped.len(), report.total), (2, 0, m("32.50")));
    // Oldest due first among the listed invoices: A (20.00) in full, 5.00 of B.
    assert_eq!(invoice(&app, &f, &a).await.2, "paid");
    assert_eq!(invoice(&app, &f, &b).await.1, m("5"));
    exposure_is_exact(&app, &f.account).await;
    let again = import_payments_csv(app.db(), app.now(), &fin, good.as_bytes()).await.unwrap();
    assert_eq!((again.recorded.len(), again.skipped.len()), (0, 2));
    assert!(again.summary().contains("already recorded"), "{}", again.summary());
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    assert!(matches!(
        import_payments_csv(app.db(), app.now(), &Actor::web(&f.cs), good.as_bytes()).await,
        Err(ServiceError::Forbidden)
    ));
}

#[tokio::test]
async fn the_api_records_applies_pages_and_reverses_payments() {
    use portico::domain::auth::Scope;
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let t = app.api_token(&[Scope::PaymentsWrite]).await;
    let body = serde_json::json!({
        "account": f.account_number, "amount": "45.00", "method": "wire", "reference": "W-77",
        "external_id": "ERP-PAY-1", "applications": [{"invoice": a, "amount": "20.00"}, {"invoice": b, "amount": "5.00"}]
    });
    let res = app.api("POST", "/api/v1/payments", &t, Some(body.clone())).await;
    assert_eq!(res.status, axum::http::StatusCode::CREATED, "{}", res.body);
    let p: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!((p["amount"].as_str(), p["unapplied"].as_str()), (Some("45.00"), Some("20.00")));
    assert_eq!(p["applications"].as_array().unwrap().len(), 2);
    // The same payment again: the first answer, nothing recorded.
    let again = app.api("POST", "/api/v1/payments", &t, Some(body)).await;
    assert_eq!(again.status, axum::http::StatusCode::OK, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    let number = p["number"].as_str().unwrap().to_string();
    // Bad input: every field named, nothing recorded.
    let bad = app
        .api(
            "POST",
            "/api/v1/payments",
            &t,
            Some(serde_json::json!({"account": f.account_number, "amount": "0", "method": "cash"})),
        )
        .await;
    assert_eq!(bad.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("\"amount\"") && bad.body.contains("\"method\""), "{}", bad.body);
    // Apply the rest oldest first: B's remaining 45.00 takes the 20.00.
    let res = app
        .api(
            "POST",
            &format!("/api/v1/payments/{number}/applications"),
            &t,
            Some(serde_json::json!({"oldest_first": true})),
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::OK, "{}", res.body);
    assert_eq!(invoice(&app, &f, &b).await.1, m("25"));
    // A second payment, then the list pages by cursor, newest first.
    let res = app
        .api(
            "POST",
            "/api/v1/payments",
            &t,
            Some(serde_json::json!({"account": f.account, "amount": "1", "method": "ach"})),
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::CREATED, "{}", res.body);
    let page = app.api("GET", "/api/v1/payments?limit=1", &t, None).await;
    let page: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(page["payments"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let next = app.api("GET", &format!("/api/v1/payments?limit=1&cursor={cursor}"), &t, None).await;
    let next: serde_json::Value = serde_json::from_str(&next.body).unwrap();
    assert_ne!(next["payments"][0]["number"], page["payments"][0]["number"]);
    assert!(next["next_cursor"].is_null());
    // Reverse it.
    let res = app
        .api(
            "POST",
            &format!("/api/v1/payments/{number}/reversal"),
            &t,
            Some(serde_json::json!({"reason": "returned by the bank"})),
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::OK, "{}", res.body);
    assert_eq!(invoice(&app, &f, &a).await, (m("20"), m("0"), "open".into()));
    exposure_is_exact(&app, &f.account).await;
    // A read token reads; it cannot write.
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await.principal().unwrap();
    let r = portico::service::api_tokens::create(
        app.db(),
        app.now(),
        &Actor::web(&admin),
        "Reader",
        &[Scope::PaymentsRead],
    )
    .await
    .unwrap()
    .1;
    let got = app.api("GET", &format!("/api/v1/payments/{number}"), &r, None).await;
    assert!(got.body.contains("\"reversed\""), "{}", got.body);
    let refused = app
        .api("POST", &format!("/api/v1/payments/{number}/reversal"), &r, Some(serde_json::json!({"reason": "x"})))
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(app.api("GET", "/api/v1/payments/PAY-999", &r, None).await.status, axum::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn finance_records_on_the_web_with_errors_beside_fields_and_buyers_read_their_own() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let mut fin = app.signed_in(&f.finance.email).await;
    // The form lists the open invoices, pre-filled oldest first as far as the amount goes.
    let form = fin.get(&format!("/finance/payments/new?account={}&amount=30", f.account_number)).await;
    assert_eq!(form.status, axum::http::StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(&format!("name=\"apply_{a}\" inputmode=\"decimal\" value=\"20.00\"")), "{}", form.body);
    assert!(form.body.contains(&format!("name=\"apply_{b}\" inputmode=\"decimal\" value=\"10.00\"")));
    // Too much for B: the error is beside it, the input kept, nothing recorded.
    let apply_a = format!("apply_{a}");
    let apply_b = format!("apply_{b}");
    let token = form.attr("name=\"form_token\" value=\"");
    let res = fin
        .post(
            "/finance/payments",
            &[
                ("account", &f.account_number),
                ("amount", "80"),
                ("method", "wire"),
                ("reference", "W-5"),
                ("form_token", &token),
                (&apply_a, "20"),
                (&apply_b, "60"),
            ],
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::OK);
    assert!(res.body.contains("more than its balance of 50"), "{}", res.body);
    assert!(
        res.body.contains("value=\"W-5\"")
            && res.body.contains(&format!("name=\"apply_{b}\" inputmode=\"decimal\" value=\"60\""))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    let res = fin
        .post(
            "/finance/payments",
            &[
                ("account", &f.account_number),
                ("amount", "80"),
                ("method", "wire"),
                ("reference", "W-5"),
                ("form_token", &token),
                (&apply_a, "20"),
                (&apply_b, "50"),
            ],
        )
        .await;
    assert_eq!(res.status, axum::http::StatusCode::SEE_OTHER, "{}", res.body);
    let page = fin.get(res.location()).await;
    assert!(page.body.contains("id=\"payment-unapplied\">$10.00"), "{}", page.body);
    assert!(page.body.contains("Reverse payment"));
    // The invoice's page lists the payment.
    let inv = fin.get(&format!("/invoices/{b}")).await;
    assert!(inv.body.contains("id=\"invoice-payments\"") && inv.body.contains("PAY-100001"), "{}", inv.body);
    // Reversal needs a reason.
    let res = fin.post("/finance/payments/PAY-100001/reverse", &[("reason", "")]).await;
    assert!(res.body.contains("Say why"), "{}", res.body);
    // The bank file: customer service may not upload it; finance may.
    let mut cs = app.signed_in(&f.cs.email).await;
    let file = format!("account,amount,received_on,method,external_id\n{},5.00,2026-01-02,ach,B-1\n", f.account_number);
    let refused = cs.upload("/finance/payments/import", &[], ("file", "bank.csv", &file)).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    let token = bank_file_token(&mut fin).await;
    let done = fin.upload("/finance/payments/import", &[("form_token", &token)], ("file", "bank.csv", &file)).await;
    assert!(done.body.contains("1 payment recorded"), "{}", done.body);
    let token = bank_file_token(&mut fin).await;
    let again = fin.upload("/finance/payments/import", &[("form_token", &token)], ("file", "bank.csv", &file)).await;
    assert!(again.body.contains("already recorded"), "{}", again.body);
    let token = bank_file_token(&mut fin).await;
    let bad = fin
        .upload(
            "/finance/payments/import",
            &[("form_token", &token)],
            ("file", "bank.csv", "account,amount,received_on,method\nA-1,x,2026-01-02,ach\n"),
        )
        .await;
    assert!(bad.body.contains("Line 2, amount"), "{}", bad.body);
    // Buyers: their own payments, read-only; another account's is 404; customer service sees no list.
    let mut manager = app.signed_in(&f.manager.email).await;
    let list = manager.get("/portal/payments").await;
    assert!(list.body.contains("PAY-100001") && !list.body.contains("Record a payment"), "{}", list.body);
    assert_eq!(manager.get("/portal/payments/PAY-100001").await.status, axum::http::StatusCode::OK);
    let mut other = app.signed_in(&f.other_manager.email).await;
    assert_eq!(other.get("/portal/payments/PAY-100001").await.status, axum::http::StatusCode::NOT_FOUND);
    assert!(!other.get("/portal/payments").await.body.contains("PAY-100001"));
    assert_eq!(cs.get("/finance/payments").await.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(cs.get("/finance/payments/new").await.status, axum::http::StatusCode::FORBIDDEN);
}

/// The one-time token of the bank file's form on the payments page.
async fn bank_file_token(c: &mut common::Client<'_>) -> String {
    c.get("/finance/payments").await.attr("name=\"form_token\" value=\"")
}

#[tokio::test]
async fn one_application_is_taken_off_its_invoice_and_the_cash_applied_elsewhere() {
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let r = payments::record_payment(
        app.db(),
        app.now(),
        &fin,
        &pay(&f, "60.00", ApplyInput::Amounts(vec![(a.clone(), "20.00".into()), (b.clone(), "40.00".into())])),
    )
    .await
    .unwrap();
    let p = r.payment;
    assert_eq!(invoice(&app, &f, &a).await, (m("20"), m("20"), "paid".into()));
    let before = exposure_is_exact(&app, &f.account).await;
    let to_a = p.applications.iter().find(|x| x.invoice_number == a).unwrap().id.clone();
    // Customer service may not; a buyer finds nothing; nothing changes.
    assert!(matches!(
        payments::unapply_payment(app.db(), app.now(), &Actor::web(&f.cs), &p.row.number, &to_a).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        payments::unapply_payment(app.db(), app.now(), &Actor::web(&f.manager), &p.row.number, &to_a).await,
        Err(ServiceError::NotFound)
    ));
    assert_eq!(exposure_is_exact(&app, &f.account).await, before);
    // Finance takes A's 20.00 off: A is open again for 20.00, the payment has 20.00 to apply.
    let after = payments::unapply_payment(app.db(), app.now(), &fin, &p.row.number, &to_a).await.unwrap();
    assert_eq!(after.row.unapplied, m("20").raw());
    let taken = after.applications.iter().find(|x| x.id == to_a).unwrap();
    assert_eq!((taken.is_live(), taken.taken_off.as_deref()), (false, Some("unapplied")));
    assert!(after.applications.iter().find(|x| x.invoice_number == b).unwrap().is_live(), "B's stays");
    assert_eq!(invoice(&app, &f, &a).await, (m("20"), m("0"), "open".into()));
    assert_eq!(invoice(&app, &f, &b).await, (m("50"), m("40"), "open".into()));
    let e = exposure_is_exact(&app, &f.account).await;
    assert_eq!((e.receivable, e.credits), (before.receivable + m("20").raw(), before.credits + m("20").raw()));
    assert_eq!(e.total(), before.total(), "what the account owes is unchanged: the money is still there");
    // Audited, with its event.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.unapplied'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'payment.unapplied'").await, 1);
    // Taken off already: a conflict, nothing moves.
    assert!(matches!(
        payments::unapply_payment(app.db(), app.now(), &fin, &p.row.number, &to_a).await,
        Err(ServiceError::Conflict(_))
    ));
    // Another payment's application, or none at all, is not this payment's.
    let other =
        payments::record_payment(app.db(), app.now(), &fin, &pay(&f, "1", ApplyInput::OldestFirst)).await.unwrap();
    let theirs = other.payment.applications[0].id.clone();
    for wrong in [theirs.as_str(), "no-such-application", "bad\0id"] {
        assert!(
            matches!(
                payments::unapply_payment(app.db(), app.now(), &fin, &p.row.number, wrong).await,
                Err(ServiceError::NotFound)
            ),
            "{wrong:?}"
        );
    }
    exposure_is_exact(&app, &f.account).await;
    // The freed cash goes to B: it is paid.
    let applied = payments::apply_payment(
        app.db(),
        app.now(),
        &fin,
        &p.row.number,
        &ApplyInput::Amounts(vec![(b.clone(), "10.00".into())]),
    )
    .await
    .unwrap();
    assert_eq!(applied.row.unapplied, m("10").raw());
    assert_eq!(invoice(&app, &f, &b).await, (m("50"), m("50"), "paid".into()));
    exposure_is_exact(&app, &f.account).await;
    // A reversed payment cannot be unapplied: its applications were all taken back with it.
    let live = applied.applications.iter().find(|x| x.is_live()).unwrap().id.clone();
    let reversed = payments::reverse_payment(app.db(), app.now(), &fin, &p.row.number, "bounced").await.unwrap();
    let back = reversed.applications.iter().find(|x| x.id == live).unwrap();
    assert_eq!(back.taken_off.as_deref(), Some("reversal"));
    match payments::unapply_payment(app.db(), app.now(), &fin, &p.row.number, &live).await {
        Err(ServiceError::Conflict(msg)) => assert!(msg.contains("reversed"), "{msg}"),
        other => panic!("{other:?}"),
    }
    exposure_is_exact(&app, &f.account).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.unapplied'").await, 1);
}

#[tokio::test]
async fn a_credit_notes_application_is_taken_off_and_stays_the_accounts_credit() {
    use portico::service::credit_notes::{CreditRequest, issue_credit_note, unapply_credit_note};
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let fin = Actor::web(&f.finance);
    let a = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    // 2 of 5 returned: a 20.00 credit note, applied at once to A.
    let req = CreditRequest { lines: vec![(1, 2)], reason: "Returned".into() };
    let note = issue_credit_note(app.db(), app.now(), &fin, &a, &req).await.unwrap();
    assert_eq!(invoice(&app, &f, &a).await, (m("50"), m("20"), "open".into()));
    let before = exposure_is_exact(&app, &f.account).await;
    let applied = payments::invoice_applications(app.db(), &fin, &note.number).await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!((applied[0].source_kind.as_str(), applied[0].invoice_number.as_str()), ("credit_note", a.as_str()));
    // The invoice's page lists it too.
    let on_invoice = payments::invoice_applications(app.db(), &fin, &a).await.unwrap();
    assert_eq!(on_invoice[0].source_number, note.number);
    // A payment's way does not reach it; customer service may not.
    assert!(matches!(
        unapply_credit_note(app.db(), app.now(), &Actor::web(&f.cs), &note.number, &applied[0].id).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        unapply_credit_note(app.db(), app.now(), &fin, &a, &applied[0].id).await,
        Err(ServiceError::NotFound)
    ));
    let after = unapply_credit_note(app.db(), app.now(), &fin, &note.number, &applied[0].id).await.unwrap();
    assert_eq!((after.paid, after.status.as_str()), (0, "open"), "the credit note has all of it left to apply");
    assert_eq!(invoice(&app, &f, &a).await, (m("50"), m("0"), "open".into()));
    let e = exposure_is_exact(&app, &f.account).await;
    assert_eq!((e.receivable, e.credits), (before.receivable + m("20").raw(), before.credits + m("20").raw()));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'credit_note.unapplied'").await, 1);
    assert!(matches!(
        unapply_credit_note(app.db(), app.now(), &fin, &note.number, &applied[0].id).await,
        Err(ServiceError::Conflict(_))
    ));
}

#[tokio::test]
async fn finance_unapplies_from_the_payment_and_invoice_pages_and_a_double_submit_records_once() {
    use portico::service::credit_notes::{CreditRequest, issue_credit_note};
    let app = TestApp::new().await;
    let f = fixture(&app).await;
    let a = invoiced(&app, &f, &f.account, 2, 2).await; // 20.00
    let b = invoiced(&app, &f, &f.account, 5, 5).await; // 50.00
    let mut fin = app.signed_in(&f.finance.email).await;
    let form = fin.get(&format!("/finance/payments/new?account={}&amount=30", f.account_number)).await;
    let token = form.attr("name=\"form_token\" value=\"");
    let fields =
        [("account", f.account_number.as_str()), ("amount", "30"), ("method", "check"), ("form_token", &token)];
    let (apply_a, apply_b) = (format!("apply_{a}"), format!("apply_{b}"));
    let mut sent = fields.to_vec();
    sent.extend([(apply_a.as_str(), "20"), (apply_b.as_str(), "10")]);
    // A double click: the second submit shows the first payment; one is recorded.
    let first = fin.post("/finance/payments", &sent).await;
    let second = fin.post("/finance/payments", &sent).await;
    assert_eq!(first.status, axum::http::StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.location(), first.location());
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    // The payment's page: a button per application; taking A's off reopens A.
    let page = fin.get(first.location()).await;
    let action = page.attr(&format!("data-invoice=\"{a}\" data-application=\""));
    let button = format!("/finance/payments/PAY-100001/applications/{action}/unapply");
    assert!(page.body.contains(&button), "{}", page.body);
    let done = fin.post(&button, &[]).await;
    assert_eq!(done.status, axum::http::StatusCode::SEE_OTHER, "{}", done.body);
    let page = fin.get(done.location()).await;
    assert!(page.body.contains("id=\"payment-unapplied\">$20.00"), "{}", page.body);
    assert!(page.body.contains("badge-reversed\">unapplied"), "{}", page.body);
    assert_eq!(invoice(&app, &f, &a).await.2, "open");
    // Again: refused on the page, nothing changes.
    let again = fin.post(&button, &[]).await;
    assert!(again.body.contains("taken off its invoice already"), "{}", again.body);
    exposure_is_exact(&app, &f.account).await;
    // The invoice's page: a credit note's application taken off there.
    let req = CreditRequest { lines: vec![(1, 1)], reason: "Damaged".into() };
    issue_credit_note(app.db(), app.now(), &Actor::web(&f.finance), &b, &req).await.unwrap();
    let page = fin.get(&format!("/invoices/{b}")).await;
    let id = page.attr("data-payment=\"CN-100001\" data-application=\"");
    let done = fin.post(&format!("/invoices/{b}/applications/{id}/unapply"), &[]).await;
    assert_eq!(done.status, axum::http::StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/invoices/{b}?done=unapplied"));
    assert_eq!(invoice(&app, &f, &b).await, (m("50"), m("10"), "open".into()));
    exposure_is_exact(&app, &f.account).await;
    // Buyers read the same page without any button; customer service may not press one.
    let mut manager = app.signed_in(&f.manager.email).await;
    let theirs = manager.get("/portal/payments/PAY-100001").await;
    assert!(theirs.status.is_success() && !theirs.body.contains("/unapply"), "{}", theirs.body);
    let mut cs = app.signed_in(&f.cs.email).await;
    let live = fin.get("/finance/payments/PAY-100001").await.attr(&format!("data-invoice=\"{b}\" data-application=\""));
    let refused = cs.post(&format!("/finance/payments/PAY-100001/applications/{live}/unapply"), &[]).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(invoice(&app, &f, &b).await.1, m("10"));
    // The bank file's form: the same upload twice under one token imports once.
    let file = format!("account,amount,received_on,method\n{},5.00,2026-01-02,ach\n", f.account_number);
    let token = bank_file_token(&mut fin).await;
    let one = fin.upload("/finance/payments/import", &[("form_token", &token)], ("file", "bank.csv", &file)).await;
    let two = fin.upload("/finance/payments/import", &[("form_token", &token)], ("file", "bank.csv", &file)).await;
    assert!(one.body.contains("1 payment recorded") && two.body.contains("1 payment recorded"), "{}", two.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    let no_token = fin.upload("/finance/payments/import", &[], ("file", "bank.csv", &file)).await;
    assert_eq!(no_token.status, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
}
