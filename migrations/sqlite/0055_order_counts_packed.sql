-- What the worker counted of each order (order_product_counts) becomes one row per order
-- (migrations/postgres/0055_order_counts_packed.sql). On SQLite the table is in the rollup file,
-- whose schema is kept by store::rollup: its version 2 makes the change, and the rollup is filled
-- anew from the orders. This migration changes nothing.
SELECT 1;
