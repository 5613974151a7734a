//! Carts (per user and account, in the database so they survive sign-out and follow the user across
//! devices and app nodes) and saved lists.

use super::{Cell, Db, StoreResult, Tx, bulk_insert_with};
use crate::{args, on_db};

/// A line of a cart or a saved list: the product id and quantity (the service prices it).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemRow {
    pub product_id: String,
    pub sku: String,
    pub quantity: i64,
}

pub async fn cart(db: &Db, user_id: &str, account_id: &str) -> StoreResult<Vec<ItemRow>> {
    on_db!(db, |c| sqlx::query_as::<_, ItemRow>(
        "SELECT c.product_id, p.sku, c.quantity FROM cart_lines c JOIN products p ON p.id = c.product_id
         WHERE c.user_id = $1 AND c.account_id = $2 ORDER BY c.added_at, p.sku"
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_all(c)
    .await)
}

/// How many lines the cart has.
pub async fn cart_count(db: &Db, user_id: &str, account_id: &str) -> StoreResult<i64> {
    on_db!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM cart_lines WHERE user_id = $1 AND account_id = $2"
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_one(c)
    .await)
}

/// Adds quantities to the cart (a product already there gets the quantities added).
pub async fn add_to_cart(
    tx: &mut Tx,
    user_id: &str,
    account_id: &str,
    items: &[(String, i64)],
    now: i64,
) -> StoreResult<()> {
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .map(|(p, q)| {
            vec![
                Cell::Text(user_id.into()),
                Cell::Text(account_id.into()),
                Cell::Text(p.clone()),
                Cell::Int(*q),
                Cell::Int(now),
            ]
        })
        .collect();
    bulk_insert_with(
        tx,
        "cart_lines",
        &["user_id", "account_id", "product_id", "quantity", "added_at"],
        &rows,
        "ON CONFLICT (user_id, account_id, product_id) DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity",
    )
    .await?;
    Ok(())
}

/// Sets one line's quantity; returns false when the product is not in the cart.
pub async fn set_cart_quantity(
    db: &Db,
    user_id: &str,
    account_id: &str,
    product_id: &str,
    qty: i64,
) -> StoreResult<bool> {
    let input = (user_id.to_string(), account_id.to_string(), product_id.to_string(), qty);
    let n = db
        .write(input, |tx, (user_id, account_id, product_id, qty)| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE cart_lines SET quantity = $4 WHERE user_id = $1 AND account_id = $2 AND product_id = $3",
                    args![user_id, account_id, product_id, *qty],
                )
                .await
            })
        })
        .await?;
    Ok(n == 1)
}

pub async fn remove_from_cart(db: &Db, user_id: &str, account_id: &str, product_id: &str) -> StoreResult<()> {
    let input = (user_id.to_string(), account_id.to_string(), product_id.to_string());
    db.write(input, |tx, (user_id, account_id, product_id)| {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM cart_lines WHERE user_id = $1 AND account_id = $2 AND product_id = $3",
                args![user_id, account_id, product_id],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

/// Empties the user's cart for the account, in the caller's transaction.
pub async fn clear_cart(tx: &mut Tx, user_id: &str, account_id: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM cart_lines WHERE user_id = $1 AND account_id = $2",
        vec![Cell::text(user_id), Cell::text(account_id)],
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ListRow {
    pub id: String,
    pub account_id: String,
    pub owner_user_id: String,
    pub owner_name: String,
    pub name: String,
    pub shared: bool,
    pub line_count: i64,
    pub updated_at: i64,
}

const LIST_SELECT: &str = "SELECT l.id, l.account_id, l.owner_user_id, u.name AS owner_name, l.name, l.shared,
    (SELECT COUNT(*) FROM saved_list_lines x WHERE x.list_id = l.id) AS line_count, l.updated_at
    FROM saved_lists l JOIN users u ON u.id = l.owner_user_id";

/// The lists a user may see in an account: their own and those shared with the account.
pub async fn lists(db: &Db, account_id: &str, user_id: &str) -> StoreResult<Vec<ListRow>> {
    let sql = format!(
        "{LIST_SELECT} WHERE l.account_id = $1 AND (l.owner_user_id = $2 OR l.shared) ORDER BY l.updated_at DESC, l.id"
    );
    on_db!(db, |c| sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id)
        .bind(user_id)
        .fetch_all(c)
        .await)
}

/// One list, if it belongs to the account and the user may see it.
pub async fn list(db: &Db, account_id: &str, user_id: &str, list_id: &str) -> StoreResult<Option<ListRow>> {
    let sql = format!("{LIST_SELECT} WHERE l.id = $1 AND l.account_id = $2 AND (l.owner_user_id = $3 OR l.shared)");
    on_db!(db, |c| sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(list_id)
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)
}

pub async fn insert_list(
    tx: &mut Tx,
    id: &str,
    account_id: &str,
    owner_user_id: &str,
    name: &str,
    shared: bool,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO saved_lists (id, account_id, owner_user_id, name, shared, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        args![id, account_id, owner_user_id, name, shared, now],
    )
    .await?;
    Ok(())
}

pub async fn update_list(tx: &mut Tx, id: &str, name: &str, shared: bool, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE saved_lists SET name = $2, shared = $3, updated_at = $4 WHERE id = $1",
        args![id, name, shared, now],
    )
    .await?;
    Ok(())
}

pub async fn delete_list(tx: &mut Tx, id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM saved_lists WHERE id = $1", args![id]).await?;
    Ok(())
}

pub async fn list_items(db: &Db, list_id: &str) -> StoreResult<Vec<ItemRow>> {
    on_db!(db, |c| sqlx::query_as::<_, ItemRow>(
        "SELECT x.product_id, p.sku, x.quantity FROM saved_list_lines x JOIN products p ON p.id = x.product_id
         WHERE x.list_id = $1 ORDER BY x.added_at, p.sku"
    )
    .bind(list_id)
    .fetch_all(c)
    .await)
}

/// Adds products to a list (quantities of products already on it are added).
pub async fn add_to_list(tx: &mut Tx, list_id: &str, items: &[(String, i64)], now: i64) -> StoreResult<()> {
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .map(|(p, q)| vec![Cell::Text(list_id.into()), Cell::Text(p.clone()), Cell::Int(*q), Cell::Int(now)])
        .collect();
    bulk_insert_with(
        tx,
        "saved_list_lines",
        &["list_id", "product_id", "quantity", "added_at"],
        &rows,
        "ON CONFLICT (list_id, product_id) DO UPDATE SET quantity = saved_list_lines.quantity + excluded.quantity",
    )
    .await?;
    tx.execute("UPDATE saved_lists SET updated_at = $2 WHERE id = $1", args![list_id, now]).await?;
    Ok(())
}

/// Sets a list line's quantity (0 removes it).
pub async fn set_list_quantity(tx: &mut Tx, list_id: &str, product_id: &str, qty: i64, now: i64) -> StoreResult<()> {
    if qty <= 0 {
        tx.execute("DELETE FROM saved_list_lines WHERE list_id = $1 AND product_id = $2", args![list_id, product_id])
            .await?;
    } else {
        tx.execute(
            "UPDATE saved_list_lines SET quantity = $3 WHERE list_id = $1 AND product_id = $2",
            args![list_id, product_id, qty],
        )
        .await?;
    }
    tx.execute("UPDATE saved_lists SET updated_at = $2 WHERE id = $1", args![list_id, now]).await?;
    Ok(())
}
