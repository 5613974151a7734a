//! Staff product administration: who may, what it shows, stock adjustments through the form.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::store::new_id;
use portico::store::products::{self, ProductInput};

async fn setup(app: &TestApp) -> String {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            for (sku, active) in [("ACT-1", true), ("OFF-1", false)] {
                let input = ProductInput { active, ..ProductInput::new(sku, &format!("Product {sku}")) };
                products::upsert(tx, &new_id(), &input, now).await?;
            }
            portico::store::inventory::insert_warehouse(tx, &new_id(), "CHI", "Chicago DC", 0, now).await?;
            Ok(())
        })
    })
    .await;
    app.staff("Ada Admin", &[StaffRole::Admin]).await.email
}

#[tokio::test]
async fn only_catalog_admins_manage_products() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let fin = app.staff("Fin Ance", &[StaffRole::Finance]).await;
    let account = app.account("Acme", None).await;
    let buyer = app.buyer(&account, "Bo Buyer", BuyerRole::Manager).await;
    for (email, expect) in [(&rep.email, 403), (&fin.email, 403), (&buyer.email, 404)] {
        let mut c = app.signed_in(email).await;
        assert_eq!(c.get("/admin/products").await.status.as_u16(), expect, "{email}");
        assert_eq!(c.get("/admin/products/ACT-1").await.status.as_u16(), expect, "{email}");
        let res = c.post("/admin/products/ACT-1/stock", &[("warehouse", "CHI"), ("delta", "5"), ("reason", "x")]).await;
        assert_eq!(res.status.as_u16(), expect, "{email}");
    }
    let mut a = app.signed_in(&admin).await;
    let list = a.get("/admin/products").await;
    assert!(
        list.body.contains("Product ACT-1") && list.body.contains("Product OFF-1"),
        "inactive products are listed for staff"
    );
    assert!(list.body.contains("Inactive"));
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements").await, 0);
}

#[tokio::test]
async fn stock_is_adjusted_with_a_reason_and_never_below_zero() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res = a
        .post("/admin/products/act-1/stock", &[("warehouse", "CHI"), ("delta", "+25"), ("reason", "Receipt PO-7")])
        .await;
    assert_eq!(res.location(), "/admin/products/ACT-1?notice=saved");
    let page = a.get("/admin/products/ACT-1").await;
    assert!(page.body.contains(">25<"), "on hand shows 25");
    // Too much removed: refused, nothing changes.
    let res =
        a.post("/admin/products/ACT-1/stock", &[("warehouse", "CHI"), ("delta", "-26"), ("reason", "Damage")]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("Not enough stock of ACT-1 in CHI"));
    // Bad numbers and missing reasons are named.
    let res =
        a.post("/admin/products/ACT-1/stock", &[("warehouse", "CHI"), ("delta", "ten"), ("reason", "Count")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("not a whole number"));
    let res = a.post("/admin/products/ACT-1/stock", &[("warehouse", "CHI"), ("delta", "3"), ("reason", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT CAST(SUM(on_hand) AS BIGINT) FROM stock_levels").await, 25);
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements").await, 1);
    let reason: String =
        portico::on_db!(app.db(), |c| sqlx::query_scalar::<_, String>("SELECT reason FROM stock_movements")
            .fetch_one(c)
            .await)
        .unwrap();
    assert_eq!(reason, "Receipt PO-7");
}
