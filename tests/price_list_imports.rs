//! CSV import of price list prices: every bad row reported, all-or-nothing, idempotent, new lists
//! created, exports that import back unchanged; the upload page with its progress; the CLI.

mod common;

use common::TestApp;
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::service::Actor;
use portico::service::imports::ImportError;
use portico::service::price_list_imports::{PriceListImportReport, export_price_lists, import_price_lists};
use portico::store::new_id;
use portico::store::pricing::{self, NewPriceList};
use portico::store::products::{self, ProductInput};

fn admin() -> Principal {
    Principal::staff("cli-test".into(), "Test".into(), String::new(), vec![StaffRole::Admin])
}

/// Products GLV-1 and BOX-10, the base list BASE and an account list EAST (priority 50).
async fn setup(app: &TestApp) {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for sku in ["GLV-1", "BOX-10"] {
                products::upsert(tx, &new_id(), &ProductInput::new(sku, sku), now).await?;
            }
            for (code, name, is_base, priority) in
                [("BASE", "Base prices", true, 0), ("EAST", "East region", false, 50)]
            {
                let l = NewPriceList { id: &new_id(), code, name, is_base, priority, valid_from: None, valid_to: None };
                pricing::insert_price_list(tx, &l, now).await?;
            }
            Ok(())
        })
    })
    .await;
}

async fn import(app: &TestApp, csv: &str) -> Result<PriceListImportReport, ImportError> {
    let p = admin();
    let actor = Actor::cli(&p);
    import_price_lists(app.db(), app.now(), &actor, csv.as_bytes(), |_| {}).await
}

async fn list_price(app: &TestApp, code: &str, sku: &str, min_qty: i64) -> Option<i64> {
    let sql = format!(
        "SELECT i.unit_price FROM price_list_items i JOIN price_lists l ON l.id = i.price_list_id
         JOIN products p ON p.id = i.product_id WHERE l.code = '{code}' AND p.sku = '{sku}' AND i.min_qty = {min_qty}"
    );
    portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_optional(c)
        .await)
    .unwrap()
}

const GOOD: &str = "price_list,list_name,priority,valid_from,valid_to,sku,min_qty,unit_price
BASE,Base prices,0,,,GLV-1,1,9.90
BASE,Base prices,0,,,GLV-1,100,8.75
BASE,Base prices,0,,,BOX-10,,0.0125
whsl,@Wholesale 2027,20,2027-01-01,2027-12-31,glv-1,1,\"1,234.50\"
";

#[tokio::test]
async fn a_bad_file_reports_every_bad_row_and_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let csv = "price_list,list_name,priority,sku,min_qty,unit_price,valid_from,valid_to
EAST,East region,50,GLV-1,1,7.25,,
EAST,East region,50,NOPE-9,1,7.25,,
EAST,East region,50,GLV-1,ten,7.25,,
EAST,East region,50,BOX-10,1,-2,,
NEW,New list,10,GLV-1,1,abc,2027-05-01,2027-01-01
EAST,East region,50,GLV-1,1,9.99,,
EAST,Renamed,50,BOX-10,5,1,,
BASE,,,BOX-10,1,1,2027-01-01,
THIS-CODE-IS-FAR-TOO-LONG-FOR-A-LIST,,,GLV-1,1,1,,
EAST,East region,soon,GLV-1,5,1,,
";
    let before =
        (app.count("SELECT COUNT(*) FROM price_lists").await, app.count("SELECT COUNT(*) FROM price_list_items").await);
    let Err(ImportError::Invalid(errors)) = import(&app, csv).await else { panic!("expected a refused file") };
    let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    for expected in [
        (3, "sku"),         // unknown SKU
        (4, "min_qty"),     // bad number
        (5, "unit_price"),  // negative price
        (6, "unit_price"),  // not a number
        (6, "valid_to"),    // inverted date range
        (7, "sku"),         // duplicate key (same list, SKU, quantity as line 2)
        (8, "list_name"),   // differs from the list's first line
        (9, "valid_from"),  // the base list is always valid
        (10, "price_list"), // code too long
        (11, "priority"),   // not a number
    ] {
        assert!(found.contains(&expected), "missing {expected:?} in {errors:#?}");
    }
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(text.iter().any(|t| t == "line 3, column sku: unknown SKU NOPE-9"), "{text:#?}");
    assert!(text.iter().any(|t| t.contains("already on line 2")));
    assert_eq!(
        (app.count("SELECT COUNT(*) FROM price_lists").await, app.count("SELECT COUNT(*) FROM price_list_items").await),
        before,
        "nothing changed"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'import.price_lists'").await, 0);
    let Err(ImportError::Invalid(errors)) = import(&app, "list,sku,price\nx,y,z\n").await else { panic!() };
    assert!(errors.iter().all(|e| e.line == 1) && errors.len() >= 4, "{errors:#?}");
}

#[tokio::test]
async fn a_good_file_imports_once_creates_new_lists_and_again_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let r = import(&app, GOOD).await.unwrap();
    assert_eq!((r.rows, r.lists_created, r.lists_updated, r.prices_changed), (4, 1, 0, 4));
    assert_eq!(list_price(&app, "BASE", "BOX-10", 1).await, Some(125), "0.0125 exactly");
    assert_eq!(list_price(&app, "WHSL", "GLV-1", 1).await, Some(12_345_000), "1,234.50 exactly");
    let whsl = pricing::price_list_by_code(app.db(), "WHSL").await.unwrap().expect("list created");
    assert_eq!(
        (whsl.name.as_str(), whsl.priority, whsl.valid_from.as_deref(), whsl.valid_to.as_deref(), whsl.is_base),
        ("@Wholesale 2027", 20, Some("2027-01-01"), Some("2027-12-31"), false)
    );
    let again = import(&app, GOOD).await.unwrap();
    assert_eq!((again.lists_created, again.lists_updated, again.prices_changed), (0, 0, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'prices.imported'").await, 1);
    // One changed price is one changed row; prices not in the file stay.
    let r = import(&app, "price_list,sku,min_qty,unit_price\nBASE,GLV-1,100,8.50\n").await.unwrap();
    assert_eq!((r.prices_changed, r.lists_updated), (1, 0), "no header columns: the list's header is kept");
    assert_eq!(list_price(&app, "BASE", "GLV-1", 100).await, Some(85_000));
    assert_eq!(list_price(&app, "BASE", "GLV-1", 1).await, Some(99_000));
    // Header cells change a list's header; empty validity cells clear its dates.
    let r = import(&app, "price_list,priority,valid_from,valid_to,sku,unit_price\nWHSL,30,,,GLV-1,1234.50\n")
        .await
        .unwrap();
    assert_eq!((r.lists_updated, r.prices_changed), (1, 0));
    let whsl = pricing::price_list_by_code(app.db(), "WHSL").await.unwrap().unwrap();
    assert_eq!((whsl.name.as_str(), whsl.priority, whsl.valid_to), ("@Wholesale 2027", 30, None));
}

#[tokio::test]
async fn exports_are_spreadsheet_safe_and_import_back_unchanged() {
    let app = TestApp::new().await;
    setup(&app).await;
    import(&app, GOOD).await.unwrap();
    let p = admin();
    let mut out = Vec::new();
    assert_eq!(export_price_lists(app.db(), &Actor::web(&p), &mut out).await.unwrap(), 4);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("price_list,list_name,priority,valid_from,valid_to,sku,min_qty,unit_price\n"));
    assert!(text.contains(",'@Wholesale 2027,"), "formula neutralised: {text}");
    assert!(text.contains("0.0125") && text.contains("1234.50"));
    let r = import(&app, &text).await.unwrap();
    assert_eq!((r.rows, r.lists_created, r.lists_updated, r.prices_changed), (4, 0, 0, 0), "{text}");
    // Buyers cannot export price lists.
    let buyer = Principal::buyer("b".into(), "B".into(), String::new(), "acc".into(), BuyerRole::Manager);
    assert!(export_price_lists(app.db(), &Actor::web(&buyer), Vec::new()).await.is_err());
}

#[tokio::test]
async fn the_command_line_shows_progress_and_imports_and_exports() {
    let app = TestApp::new().await;
    setup(&app).await;
    let file = std::env::temp_dir().join(format!("portico-price-lists-{}.csv", new_id()));
    std::fs::write(&file, GOOD).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(args)
            .env("DATABASE_URL", &app.url)
            .env("PORTICO_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&["import", "price-lists", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("100%  4 rows") && stderr.contains("checked; writing"), "progress: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("4 rows read; 1 price lists created, 0 updated; 4 prices inserted or changed."),
        "{stdout}"
    );
    let out = run(&["export", "price-lists"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("price_list,list_name,priority"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 4 rows of price list prices"));
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn staff_upload_a_price_list_file_and_see_its_report() {
    let app = TestApp::new().await;
    setup(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    let page = c.get("/admin/imports").await.body;
    assert!(page.contains("<option value=\"price-lists\">Price list prices</option>"), "{page}");
    let r = c.upload("/admin/imports", &[("kind", "price-lists")], ("file", "lists.csv", GOOD)).await;
    let job = r.headers.get("hx-redirect").expect("sent to the job").to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("Imported. 4 rows read; 1 price lists created"), "{status}");
    assert_eq!(list_price(&app, "WHSL", "GLV-1", 1).await, Some(12_345_000));
    let job_row =
        portico::store::import_jobs::get(app.db(), job.trim_start_matches("/admin/imports/")).await.unwrap().unwrap();
    assert_eq!((job_row.bytes_read, job_row.bytes_total), (GOOD.len() as i64, GOOD.len() as i64));
    assert!(c.get("/admin/imports").await.body.contains("Price list prices"));
}
