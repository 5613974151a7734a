-- A window (product_windows) now keeps its closed months only; the current month is read with it
-- from product_months (store::dashboards::product_sales), so counting an order of the current
-- month no longer moves each of its products' two window rows. The kept windows, summed to the
-- current month included, are cleared here; the worker sums them anew on its next pass (until
-- then the dashboard reads product_months). Keep in lock-step with
-- migrations/sqlite/0052_product_windows_closed.sql.
DELETE FROM product_windows;
UPDATE product_window_month SET month = '';
