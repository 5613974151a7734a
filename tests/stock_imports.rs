//! Stock CSV (the ERP's count): every bad row reported, all-or-nothing, never below what is
//! reserved, idempotent, exports that import back unchanged; and setting on-hand over the API.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, Scope, StaffRole};
use portico::domain::money::Money;
use portico::service::Actor;
use portico::service::imports::ImportError;
use portico::service::stock_imports::{export_stock, import_stock};
use portico::store::products::{self, ProductInput};
use portico::store::{catalogs, inventory, new_id, pricing};

fn admin() -> Principal {
    Principal::staff("cli-test".into(), "Test".into(), String::new(), vec![StaffRole::Admin])
}

/// GLV-1 and BOX-10, warehouses CHI and IND; 10 GLV-1 in CHI, 4 of them reserved by an order.
async fn setup(app: &TestApp) {
    let now = app.now();
    let a = app.account("Alpha", None).await;
    let buyer = app.buyer(&a, "Ann", BuyerRole::Buyer).await;
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let mut ids = Vec::new();
            for sku in ["GLV-1", "BOX-10"] {
                ids.push(products::upsert(tx, &new_id(), &ProductInput::new(sku, sku), now).await?);
            }
            let base = new_id();
            let list = pricing::NewPriceList {
                id: &base,
                code: "BASE",
                name: "List",
                is_base: true,
                priority: 1000,
                valid_from: None,
                valid_to: None,
            };
            pricing::insert_price_list(tx, &list, now).await?;
            pricing::set_list_price(tx, &base, &ids[0], 1, Money::parse("1.00").unwrap()).await?;
            catalogs::insert_catalog(tx, &new_id(), "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            let chi = new_id();
            inventory::insert_warehouse(tx, &chi, "CHI", "Chicago", 0, now).await?;
            inventory::insert_warehouse(tx, &new_id(), "IND", "Indianapolis", 1, now).await?;
            let why = inventory::StockReason { reason: "count", actor_user_id: None, channel: "cli" };
            inventory::adjust_on_hand(tx, &ids[0], &chi, 10, &why, now).await?;
            Ok(())
        })
    })
    .await;
    let p = Principal::buyer(buyer.id, buyer.name, buyer.email, a.clone(), BuyerRole::Buyer);
    let req = portico::service::orders::PlaceOrder {
        account_id: a,
        lines: vec![portico::service::orders::LineInput::sku("GLV-1", 4)],
        header: Default::default(),
        clear_cart: false,
    };
    portico::service::orders::place_order(app.db(), now, &Actor::web(&p), &req, None, |o, _| (201, o.id.clone()))
        .await
        .unwrap();
}

async fn import(app: &TestApp, csv: &str) -> Result<portico::service::stock_imports::StockImportReport, ImportError> {
    let p = admin();
    import_stock(app.db(), app.now(), &Actor::cli(&p), csv.as_bytes(), |_| {}).await
}

async fn on_hand(app: &TestApp, sku: &str, wh: &str) -> i64 {
    app.count_dyn(&format!(
        "SELECT COALESCE(CAST(SUM(s.on_hand) AS BIGINT), 0) FROM stock_levels s JOIN products p ON p.id = s.product_id
         JOIN warehouses w ON w.id = s.warehouse_id WHERE p.sku = '{sku}' AND w.code = '{wh}'"
    ))
    .await
}

#[tokio::test]
async fn a_bad_stock_file_reports_every_bad_row_and_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let csv = "sku,warehouse,on_hand,incoming,incoming_eta
GLV-1,CHI,3,,
NOPE-1,CHI,5,,
BOX-10,MARS,5,,
BOX-10,IND,-1,,
BOX-10,IND,x,,
GLV-1,IND,5,2,tomorrow
GLV-1,CHI,12,,
";
    let Err(ImportError::Invalid(errors)) = import(&app, csv).await else { panic!("accepted a bad file") };
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, "on_hand"),
            (3, "sku"),
            (4, "warehouse"),
            (5, "on_hand"),
            (6, "on_hand"),
            (7, "incoming_eta"),
            (8, "sku")
        ],
        "{errors:?}"
    );
    assert!(errors[0].reason.contains("below the 4 units reserved"));
    assert!(errors[1].reason.contains("unknown SKU NOPE-1"));
    assert!(errors[6].reason.contains("appears more than once"));
    assert_eq!(on_hand(&app, "GLV-1", "CHI").await, 10, "nothing changed");
    let Err(ImportError::Invalid(errors)) = import(&app, "sku,warehouse,qty\nGLV-1,CHI,1\n").await else { panic!() };
    assert!(errors.iter().any(|e| e.reason.contains("required column “on_hand” is missing")));
    assert!(errors.iter().any(|e| e.reason.contains("unknown column “qty”")));
}

#[tokio::test]
async fn a_good_stock_file_sets_counts_once_and_exports_back_unchanged() {
    let app = TestApp::new().await;
    setup(&app).await;
    let csv = "sku,warehouse,on_hand,incoming,incoming_eta\nglv-1,chi,25,,\nBOX-10,IND,7,30,2027-03-01\n";
    let r = import(&app, csv).await.unwrap();
    assert_eq!((r.rows, r.changed), (2, 2));
    assert_eq!(on_hand(&app, "GLV-1", "CHI").await, 25);
    assert_eq!(on_hand(&app, "BOX-10", "IND").await, 7);
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements WHERE reason = 'stock import'").await, 2);
    assert_eq!(app.count("SELECT reserved FROM stock_levels WHERE reserved > 0").await, 4, "reservations untouched");
    let again = import(&app, csv).await.unwrap();
    assert_eq!(again.changed, 0, "re-importing changes nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements WHERE reason = 'stock import'").await, 2);
    let p = admin();
    let mut out = Vec::new();
    let n = export_stock(app.db(), &Actor::cli(&p), &mut out).await.unwrap();
    assert_eq!(n, 2);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, "sku,warehouse,on_hand,incoming,incoming_eta\nBOX-10,IND,7,30,2027-03-01\nGLV-1,CHI,25,0,\n");
    assert_eq!(import(&app, &text).await.unwrap().changed, 0, "an export imports back unchanged");
}

#[tokio::test]
async fn the_api_sets_on_hand_but_never_below_reserved() {
    let app = TestApp::new().await;
    setup(&app).await;
    let a = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let p = Principal::staff(a.id, a.name, a.email, vec![StaffRole::Admin]);
    let token = portico::service::api_tokens::create(app.db(), app.now(), &Actor::web(&p), "ERP", &[Scope::StockWrite])
        .await
        .unwrap()
        .1;
    let put = |on_hand: i64| {
        Request::put("/api/v1/stock/levels/glv-1/chi")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(format!(r#"{{"on_hand": {on_hand}, "reason": "ERP sync"}}"#)))
            .unwrap()
    };
    let r = app.send(put(12)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("\"on_hand\":12"));
    assert_eq!(on_hand(&app, "GLV-1", "CHI").await, 12);
    let r = app.send(put(3)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(on_hand(&app, "GLV-1", "CHI").await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'stock.set'").await, 1);
}
