-- account_product_months is keyed (account, product, month), not (account, month, product): an
-- account's months of one product sit side by side, so the worker finds the latest month the
-- account bought a product (the buyers it moves) next to the row it upserts, and the secondary
-- index account_product_months_latest, a second b-tree entry written for every product an account
-- buys in a month, goes. A book's or an account's top products (store::dashboards::product_sales)
-- read the account's rows of every month and keep the window's. Keep in lock-step with
-- migrations/postgres/0053_account_product_months_by_product.sql.
CREATE TABLE account_product_months_by_product (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    month      TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity   BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    PRIMARY KEY (account_id, product_id, month)
) WITHOUT ROWID;
INSERT INTO account_product_months_by_product (account_id, month, product_id, quantity, revenue, orders)
SELECT account_id, month, product_id, quantity, revenue, orders FROM account_product_months
 ORDER BY account_id, product_id, month;
DROP TABLE account_product_months;
ALTER TABLE account_product_months_by_product RENAME TO account_product_months;
