//! CSV import of contract prices: every bad row reported, all-or-nothing, idempotent; exports that
//! import back unchanged and are safe to open in a spreadsheet; the CLI.

mod common;

use common::TestApp;
use portico::domain::auth::{Principal, StaffRole};
use portico::service::Actor;
use portico::service::imports::{ImportError, export_contract_prices, import_contract_prices};
use portico::store::new_id;
use portico::store::products::{self, ProductInput};

fn admin() -> Principal {
    Principal::staff("cli-test".into(), "Test".into(), String::new(), vec![StaffRole::Admin])
}

/// Two products, accounts A-10001 and A-10002 (ERP id ERP-B), and contract C-OLD of A-10002.
async fn setup(app: &TestApp) {
    let now = app.now();
    app.account("Alpha", None).await;
    let b = app.account("Beta", None).await;
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for sku in ["GLV-1", "BOX-10"] {
                let input = ProductInput::new(sku, sku);
                products::upsert(tx, &new_id(), &input, now).await?;
            }
            portico::store::pricing::insert_contract(
                tx,
                &portico::store::pricing::NewContract {
                    id: &new_id(),
                    number: "C-OLD",
                    account_id: &b,
                    name: "Old",
                    valid_from: None,
                    valid_to: None,
                },
                now,
            )
            .await?;
            tx.execute("UPDATE accounts SET external_id = 'ERP-B' WHERE id = $1", portico::args![&b]).await?;
            Ok(())
        })
    })
    .await;
}

async fn import(app: &TestApp, csv: &str) -> Result<portico::service::imports::ImportReport, ImportError> {
    let p = admin();
    import_contract_prices(app.db(), app.now(), &Actor::cli(&p), csv.as_bytes(), |_| {}).await
}

const GOOD: &str = "contract_number,account,contract_name,valid_from,valid_to,sku,min_qty,unit_price
C-100,A-10001,=cmd|' /C calc,2026-01-01,2027-12-31,GLV-1,1,7.25
C-100,A-10001,=cmd|' /C calc,2026-01-01,2027-12-31,GLV-1,100,6.50
C-100,A-10001,=cmd|' /C calc,2026-01-01,2027-12-31,BOX-10,,0.0125
C-200,ERP-B,Beta deal,,,glv-1,1,\"1,234.50\"
";

#[tokio::test]
async fn a_bad_file_reports_every_bad_row_and_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let csv = "contract_number,account,sku,min_qty,unit_price,valid_from,valid_to
C-1,A-10001,GLV-1,1,7.25,,
C-1,A-10001,NOPE-9,1,7.25,,
C-1,A-10001,GLV-1,ten,7.25,,
C-1,A-10001,BOX-10,1,-2,,
C-2,A-10001,GLV-1,1,abc,2027-05-01,2027-01-01
C-1,A-10001,GLV-1,1,9.99,,
C-3,A-99999,GLV-1,1,1,,
C-OLD,A-10001,GLV-1,1,1,,
C-1,A-10002,BOX-10,5,1,,
";
    let before =
        (app.count("SELECT COUNT(*) FROM contracts").await, app.count("SELECT COUNT(*) FROM contract_prices").await);
    let Err(ImportError::Invalid(errors)) = import(&app, csv).await else { panic!("expected a refused file") };
    let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    for expected in [
        (3, "sku"),        // unknown SKU
        (4, "min_qty"),    // bad number
        (5, "unit_price"), // negative price
        (6, "unit_price"), // not a number
        (6, "valid_to"),   // inverted date range
        (7, "sku"),        // duplicate key (same contract, SKU, quantity as line 2)
        (8, "account"),    // unknown account
        (9, "account"),    // contract belongs to another account
        (10, "account"),   // differs from the contract's first line
    ] {
        assert!(found.contains(&expected), "missing {expected:?} in {errors:#?}");
    }
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(text.iter().any(|t| t == "line 3, column sku: unknown SKU NOPE-9"), "{text:#?}");
    assert!(text.iter().any(|t| t.contains("already on line 2")));
    assert!(text.iter().any(|t| t.contains("inverted")));
    assert_eq!(
        (app.count("SELECT COUNT(*) FROM contracts").await, app.count("SELECT COUNT(*) FROM contract_prices").await),
        before
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'import.contract_prices'").await, 0);
    // A bad header is reported before any row.
    let Err(ImportError::Invalid(errors)) = import(&app, "contract,sku,price\nx,y,z\n").await else { panic!() };
    assert!(errors.iter().all(|e| e.line == 1) && errors.len() >= 4, "{errors:#?}");
}

#[tokio::test]
async fn a_good_file_imports_once_and_again_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let r = import(&app, GOOD).await.unwrap();
    assert_eq!((r.rows, r.contracts_created, r.prices_changed), (4, 2, 4));
    let price: i64 = app.count("SELECT cp.unit_price FROM contract_prices cp JOIN products p ON p.id = cp.product_id JOIN contracts k ON k.id = cp.contract_id WHERE k.number = 'C-200'").await;
    assert_eq!(price, 12_345_000, "1,234.50 exactly");
    let again = import(&app, GOOD).await.unwrap();
    assert_eq!((again.contracts_created, again.contracts_updated, again.prices_changed), (0, 0, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM contract_prices").await, 4);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'prices.imported'").await,
        1,
        "no event when nothing changed"
    );
    // A changed price is an update of that one row.
    let changed = GOOD.replace("GLV-1,100,6.50", "GLV-1,100,6.40");
    assert_eq!(import(&app, &changed).await.unwrap().prices_changed, 1);
}

#[tokio::test]
async fn exports_are_spreadsheet_safe_and_import_back_unchanged() {
    let app = TestApp::new().await;
    setup(&app).await;
    import(&app, GOOD).await.unwrap();
    let p = admin();
    let mut out = Vec::new();
    let n = export_contract_prices(app.db(), &Actor::web(&p), &mut out).await.unwrap();
    assert_eq!(n, 4);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("contract_number,account,contract_name,valid_from,valid_to,sku,min_qty,unit_price\n"));
    assert!(text.contains("'=cmd"), "formula neutralised: {text}");
    assert!(!text.contains(",=cmd"));
    assert!(text.contains("0.0125") && text.contains("1234.50"));
    let r = import(&app, &text).await.unwrap();
    assert_eq!(
        (r.rows, r.contracts_created, r.contracts_updated, r.prices_changed),
        (4, 0, 0, 0),
        "the export imports back unchanged"
    );
}

#[tokio::test]
async fn the_command_line_imports_and_reports() {
    let app = TestApp::new().await;
    setup(&app).await;
    let dir = std::env::temp_dir();
    let good = dir.join(format!("portico-import-{}.csv", new_id()));
    let bad = dir.join(format!("portico-import-{}.csv", new_id()));
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, GOOD.replace("0.0125", "-1")).unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(["import", "contract-prices", file.to_str().unwrap()])
            .env("DATABASE_URL", &app.url)
            .env("PORTICO_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&bad);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4, column unit_price: price -1 is negative") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    let out = run(&good);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(": 4 rows read; 2 contracts created, 0 updated; 4 prices inserted or changed."),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_file(good);
    let _ = std::fs::remove_file(bad);
}
