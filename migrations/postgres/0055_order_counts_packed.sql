-- What the worker counted of each order (order_product_counts) becomes one row per order, its
-- products packed as JSON ([product id, quantity, revenue], in product order:
-- domain::dashboards::pack_counts), instead of one row per product: counting a ten-line order
-- then writes one entry instead of ten (issue 18, the worker's cost on placement). On SQLite the
-- table is in the rollup file, whose schema version 2 (store::rollup) makes the same change
-- (migrations/sqlite/0055_order_counts_packed.sql changes nothing).
CREATE TABLE order_product_counts_packed (
    order_id TEXT NOT NULL PRIMARY KEY,
    products TEXT NOT NULL
);

INSERT INTO order_product_counts_packed (order_id, products)
SELECT order_id, json_agg(json_build_array(product_id, quantity, revenue) ORDER BY product_id)::text
  FROM order_product_counts
 GROUP BY order_id;

DROP TABLE order_product_counts;
ALTER TABLE order_product_counts_packed RENAME TO order_product_counts;
ALTER INDEX order_product_counts_packed_pkey RENAME TO order_product_counts_pkey;
