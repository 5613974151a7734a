//! What the benches share: the large dataset's accounts, ready to take orders.

use portico::store::Db;

/// The ids of the large dataset's accounts `S-<first>` … `S-<last - 1>`, with their credit limits
/// lifted (the benches place and ship orders; they do not hold them).
pub async fn accounts_without_limits(db: &Db, range: std::ops::Range<usize>) -> Vec<String> {
    let mut accounts = Vec::new();
    for i in range {
        let a = portico::store::accounts::find_by_reference(db, &format!("S-{i:05}"))
            .await
            .expect("query")
            .expect("the large dataset (accounts S-…): seed it with bench/run.sh first");
        accounts.push(a.id);
    }
    db.write(accounts.clone(), |tx, ids| {
        Box::pin(async move {
            for id in ids {
                tx.execute("UPDATE accounts SET credit_limit = 0 WHERE id = $1", portico::args![id.as_str()]).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
    })
    .await
    .expect("lift limits");
    accounts
}
