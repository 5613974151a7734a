-- The windows' top products (store::dashboards::product_sales) are read by sorting a window's
-- rows — about 100,000 for the large demo's catalog, ~22 ms on SQLite — instead of from an index
-- on revenue: the worker's every count moved each counted product's two entries in that index,
-- which took 40 % of its writes to the windows. Keep in lock-step with
-- migrations/sqlite/0051_product_windows_unindexed.sql.
DROP INDEX product_windows_top;
