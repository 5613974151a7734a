-- Who buys what over the dashboards' windows (the last 12 and 24 months), summed per product and
-- kept by the worker with product_months (store::dashboards::refresh_products): a recount's change
-- to a month inside a window is added to the window's row, and when the month turns the windows
-- are summed anew from product_months (store::dashboards::roll_windows). The whole seller's top
-- products then read the first rows of an index instead of summing a row per product and month
-- (~400,000 rows a year for a catalog of 100,000 products). product_window_month says which month
-- the windows end with; until the worker has rolled them into the current month the dashboard
-- sums product_months itself. Keep in lock-step with migrations/postgres/0047_product_windows.sql.

CREATE TABLE product_windows (
    months     BIGINT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity   BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    buyers     BIGINT NOT NULL,
    PRIMARY KEY (months, product_id)
) WITHOUT ROWID;
CREATE INDEX product_windows_top ON product_windows (months, revenue);

CREATE TABLE product_window_month (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    month TEXT NOT NULL
);
-- Never summed yet: the worker's first pass sums them.
INSERT INTO product_window_month (id, month) VALUES (1, '');
