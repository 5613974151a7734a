-- Who buys what moves out of this file into the rollup file beside it (store::rollup): its own
-- writer keeps it, so counting orders into it never holds this file's writer, which every order
-- placement waits for. The rollup is derived from the orders: its tables are dropped here, and the
-- rollup file is created and filled from the orders when the migrations have run
-- (store::Db::migrate). The orders' marks (product_rollup_orders) stay here: the order writer
-- sets them. PostgreSQL keeps the tables in its database
-- (migrations/postgres/0054_rollup_file.sql changes nothing).
DROP TABLE account_product_months;
DROP TABLE product_months;
DROP TABLE product_windows;
DROP TABLE product_window_month;
DROP TABLE order_product_counts;
