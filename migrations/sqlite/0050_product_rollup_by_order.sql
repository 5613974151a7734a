-- Who buys what is counted order by order (issue 18; store::dashboards::refresh_products): the
-- order writer marks the order it changed (product_rollup_orders, one new row per placement, so
-- an account's concurrent placements share no marked row), and the worker adds to
-- account_product_months the difference between the order's lines now and what it counted of the
-- order before (order_product_counts). A pass then costs what changed, where recounting a marked
-- account-month re-read all of its orders — for a busy account, thousands every minute.
-- Keep in lock-step with migrations/postgres/0050_product_rollup_by_order.sql.

-- What the worker counted of each order: per product, the quantity and revenue (line totals, net
-- of tax, ten-thousandths) of its lines. No row: nothing counted (a draft, a cancelled order).
CREATE TABLE order_product_counts (
    order_id   TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;

-- Orders whose counting may have changed (a placement, a cancellation, an amendment), each due
-- for the worker a few seconds after its first uncounted change (store::dashboards::RECOUNT_DELAY).
CREATE TABLE product_rollup_orders (
    order_id   TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL,
    month      TEXT NOT NULL,
    -- Moves on every mark: a pass removes the mark only if it did not move meanwhile.
    seq        BIGINT NOT NULL,
    due_at     BIGINT NOT NULL
);
CREATE INDEX product_rollup_orders_due ON product_rollup_orders (due_at);

INSERT INTO order_product_counts (order_id, product_id, quantity, revenue)
SELECT l.order_id, l.product_id, SUM(l.quantity), SUM(l.line_total)
  FROM orders o JOIN order_lines l ON l.order_id = o.id
 WHERE o.status NOT IN ('draft', 'cancelled')
 GROUP BY l.order_id, l.product_id;

-- The account-months still marked under the old scheme are counted anew from their orders, and
-- the months over all accounts summed again from the accounts' (migration 0044's statements);
-- the worker sums the windows again on its next pass.
DELETE FROM account_product_months
 WHERE EXISTS (SELECT 1 FROM product_rollup_queue q
                WHERE q.account_id = account_product_months.account_id AND q.month = account_product_months.month);

INSERT INTO account_product_months (account_id, month, product_id, quantity, revenue, orders)
SELECT o.account_id, strftime('%Y-%m', o.placed_at, 'unixepoch'), l.product_id, SUM(l.quantity), SUM(l.line_total), COUNT(DISTINCT o.id)
  FROM orders o JOIN order_lines l ON l.order_id = o.id
 WHERE o.status NOT IN ('draft', 'cancelled')
   AND EXISTS (SELECT 1 FROM product_rollup_queue q WHERE q.account_id = o.account_id AND q.month = strftime('%Y-%m', o.placed_at, 'unixepoch'))
 GROUP BY o.account_id, strftime('%Y-%m', o.placed_at, 'unixepoch'), l.product_id;

DELETE FROM product_months;
INSERT INTO product_months (month, product_id, quantity, revenue, orders, buyers)
SELECT m.month, m.product_id, SUM(m.quantity), SUM(m.revenue), SUM(m.orders),
       SUM(CASE WHEN m.month = m.latest THEN 1 ELSE 0 END)
  FROM (SELECT month, product_id, quantity, revenue, orders,
               MAX(month) OVER (PARTITION BY account_id, product_id) AS latest
          FROM account_product_months) m
 GROUP BY m.month, m.product_id;

DELETE FROM product_windows;
UPDATE product_window_month SET month = '' WHERE id = 1;

DROP TABLE product_rollup_queue;
