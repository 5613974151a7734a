-- account_product_months is keyed (account, product, month), not (account, month, product): an
-- account's months of one product sit side by side, so the worker finds the latest month the
-- account bought a product (the buyers it moves) next to the row it upserts, and the secondary
-- index account_product_months_latest, a second b-tree entry written for every product an account
-- buys in a month, goes. A book's or an account's top products (store::dashboards::product_sales)
-- read the account's rows of every month and keep the window's. Keep in lock-step with
-- migrations/sqlite/0053_account_product_months_by_product.sql.
ALTER TABLE account_product_months DROP CONSTRAINT account_product_months_pkey;
DROP INDEX account_product_months_latest;
ALTER TABLE account_product_months ADD PRIMARY KEY (account_id, product_id, month);
