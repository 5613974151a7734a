-- A marked account-month is recounted once its mark is due (store::dashboards::record sets due_at
-- a minute after the first uncounted change; later changes leave it): a busy account's month is
-- recounted at most once a minute instead of on every worker pass, which under steady placement
-- took two-thirds of order placement's throughput. Keep in lock-step with
-- migrations/postgres/0049_product_rollup_due.sql.

ALTER TABLE product_rollup_queue ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX product_rollup_queue_due ON product_rollup_queue (due_at);
