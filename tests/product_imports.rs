//! Product CSV: every bad row reported with line, column and reason, all-or-nothing, idempotent,
//! exports that import back unchanged; the command line.

mod common;

use common::TestApp;
use portico::domain::auth::{Principal, StaffRole};
use portico::domain::catalog::Sku;
use portico::service::Actor;
use portico::service::imports::ImportError;
use portico::service::product_imports::{export_products, import_products};
use portico::store::new_id;
use portico::store::products::{self, ProductInput};
use portico::store::{catalogs, categories};

fn admin() -> Principal {
    Principal::staff("cli-test".into(), "Test".into(), String::new(), vec![StaffRole::Admin])
}

async fn setup(app: &TestApp) {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            let (top, gloves) = (new_id(), new_id());
            categories::insert_category(tx, &top, None, "Medical", "Medical", 0, now).await?;
            categories::insert_category(tx, &gloves, Some(&top), "Gloves", "Medical / Gloves", 0, now).await?;
            let taken =
                ProductInput { external_id: Some("ERP-TAKEN".into()), ..ProductInput::new("OLD-1", "Old product") };
            products::upsert(tx, &new_id(), &taken, now).await?;
            catalogs::insert_catalog(tx, &new_id(), "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            Ok(())
        })
    })
    .await;
}

async fn import(
    app: &TestApp,
    csv: &str,
) -> Result<portico::service::product_imports::ProductImportReport, ImportError> {
    let p = admin();
    import_products(app.db(), app.now(), &Actor::cli(&p), csv.as_bytes(), |_| {}).await
}

const GOOD: &str = "sku,name,description,category,uom,pack_size,min_qty,multiple_qty,max_qty,active,backorder_policy,external_id,attributes
glv-100,Nitrile gloves M,Powder-free,Medical / Gloves,bx,100,1,1,,true,deny,ERP-100,Material=Nitrile; Size=M
BOX-10,Sample boxes,,Medical,CS,10,10,10,100,yes,allow,,
";

#[tokio::test]
async fn a_bad_product_file_reports_every_bad_row_and_changes_nothing() {
    let app = TestApp::new().await;
    setup(&app).await;
    let csv = "sku,name,category,pack_size,min_qty,multiple_qty,active,backorder_policy,external_id,attributes
GLV 1,Bad sku,,,,,,,,
A-2,,,,,,,,,
A-3,Unknown category,Medical / Nope,,,,,,,
A-4,Bad numbers,,x,0,,,,,
A-5,Bad flags,,,,,maybe,sometimes,,
A-6,Taken external id,,,,,,,ERP-TAKEN,
A-7,Bad attributes,,,,,,,,Material
A-8,Fine,,,,,,,,
A-8,Twice,,,,,,,,
";
    let Err(ImportError::Invalid(errors)) = import(&app, csv).await else { panic!("accepted a bad file") };
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, "sku"),
            (3, "name"),
            (4, "category"),
            (5, "min_qty"),
            (5, "pack_size"),
            (6, "active"),
            (6, "backorder_policy"),
            (7, "external_id"),
            (8, "attributes"),
            (10, "sku"),
        ],
        "{errors:?}"
    );
    assert!(errors[2].reason.contains("no category “Medical / Nope”"));
    assert!(errors[7].reason.contains("belongs to OLD-1"));
    assert!(errors[9].reason.contains("appears more than once"));
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 1, "nothing was written");
}

#[tokio::test]
async fn a_good_product_file_imports_once_and_round_trips() {
    let app = TestApp::new().await;
    setup(&app).await;
    let r = import(&app, GOOD).await.unwrap();
    assert_eq!((r.rows, r.created, r.updated), (2, 2, 0));
    let glv = products::get_by_sku(app.db(), &Sku::parse("GLV-100").unwrap()).await.unwrap().unwrap();
    assert_eq!((glv.uom.as_str(), glv.pack_size, glv.external_id.as_deref()), ("BX", 100, Some("ERP-100")));
    let attrs = products::attributes(app.db(), &glv.id).await.unwrap();
    assert_eq!(attrs, vec![("Material".to_string(), "Nitrile".to_string()), ("Size".to_string(), "M".to_string())]);
    assert_eq!(app.count("SELECT COUNT(*) FROM catalog_products").await, 3, "new products join the default catalog");
    let again = import(&app, GOOD).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 0), "re-importing changes nothing");
    let changed = import(&app, &GOOD.replace("Sample boxes", "Sample boxes (blue)")).await.unwrap();
    assert_eq!(changed.updated, 1);
    let p = admin();
    let mut out = Vec::new();
    let n = export_products(app.db(), &Actor::cli(&p), &mut out).await.unwrap();
    assert_eq!(n, 3);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("GLV-100,Nitrile gloves M,Powder-free,Medical / Gloves,BX,100,1,1,,,,true,deny,ERP-100,Material=Nitrile; Size=M"), "{text}");
    let back = import(&app, &text).await.unwrap();
    assert_eq!((back.created, back.updated), (0, 0), "an export imports back unchanged");
}

#[tokio::test]
async fn the_command_line_imports_and_exports_products() {
    let app = TestApp::new().await;
    setup(&app).await;
    let file = std::env::temp_dir().join(format!("portico-products-{}.csv", new_id()));
    std::fs::write(&file, GOOD).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(args)
            .env("DATABASE_URL", &app.url)
            .env("PORTICO_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&["import", "products", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 products read; 2 created, 0 updated."));
    let out = run(&["export", "products"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sku,name,description,category"));
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn staff_upload_a_file_and_follow_the_import_to_its_report() {
    let app = TestApp::new().await;
    setup(&app).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let mut c = app.signed_in(&admin.email).await;
    assert!(c.get("/admin/imports").await.body.contains("Upload a CSV file"));
    // A bad file: the job reports every bad row and nothing is imported.
    let r = c.upload("/admin/imports", &[("kind", "products")], ("file", "bad.csv", "sku,name\nA 1,x\nB-2,\n")).await;
    let job = r.headers.get("hx-redirect").expect("sent to the job").to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("2 problem(s); nothing was imported"), "{status}");
    assert!(status.contains("<td class=\"mono\">sku</td>") && status.contains("<td class=\"mono\">name</td>"));
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 1);
    // A good file: imported, with its report; the list shows both jobs.
    let r = c.upload("/admin/imports", &[("kind", "products")], ("file", "good.csv", GOOD)).await;
    let job = r.headers.get("hx-redirect").unwrap().to_str().unwrap().to_string();
    let status = c.wait_for_import(&job).await;
    assert!(status.contains("Imported. 2 products read; 2 created, 0 updated."), "{status}");
    assert!(c.get(&job).await.body.contains("good.csv"));
    assert_eq!(c.get("/admin/imports").await.body.matches("/admin/imports/").count(), 2);
    // Only catalog managers: a rep gets nothing.
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let mut r = app.signed_in(&rep.email).await;
    assert_eq!(r.get(&job).await.status, axum::http::StatusCode::NOT_FOUND);
    assert_eq!(r.get("/admin/imports").await.status, axum::http::StatusCode::FORBIDDEN);
}
