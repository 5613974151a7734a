//! Money stays exact in SQL on both backends: BIGINT ten-thousandths, summed as BIGINT.

mod common;

use common::TestApp;
use portico::domain::money::Money;

#[tokio::test]
async fn sql_sums_of_money_are_exact() {
    let app = TestApp::new().await;
    let amounts = ["0.10", "0.20", "0.0001", "1234567.8912", "0.0125", "99999999.9999"];
    for (i, a) in amounts.iter().enumerate() {
        let id = app.account(&format!("Co {i}"), None).await;
        let raw = Money::parse(a).unwrap().raw();
        let changed = common::write(app.db(), move |tx| {
            Box::pin(async move {
                tx.execute("UPDATE accounts SET credit_limit = $1 WHERE id = $2", portico::args![raw, id]).await
            })
        })
        .await;
        assert_eq!(changed, 1);
    }
    let in_sql = Money::from_raw(app.count("SELECT CAST(SUM(credit_limit) AS BIGINT) FROM accounts").await);
    let in_rust = Money::sum(amounts.iter().map(|a| Money::parse(a).unwrap())).unwrap();
    assert_eq!(in_sql, in_rust);
    assert_eq!(in_sql.format(), "101,234,568.2037");
    // The classic float trap: 0.1 + 0.2 is exactly 0.3 here.
    let small = Money::from_raw(
        app.count("SELECT CAST(SUM(credit_limit) AS BIGINT) FROM accounts WHERE credit_limit IN (1000, 2000)").await,
    );
    assert_eq!(small, Money::parse("0.30").unwrap());
}
