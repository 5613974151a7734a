-- The dashboards at a million orders (issue 18 §4).
--
-- account_months: per account and month, its orders and revenue and the self-service part of them
-- (channels portal and punchout: domain::commissions::SELF_SERVICE), kept by the order writer with
-- order_months (store::dashboards::record). The whole seller's adoption reads one row per account
-- and month instead of one per channel too (~300,000 rows a year at a million orders: 290–485 ms
-- on PostgreSQL).
--
-- Who buys what: the dashboards' top products read the tables below instead of a window's order
-- lines (2.1–2.4 s for the whole seller on a million orders). Rules: domain::dashboards
-- (ProductMonth, product_changes, buyers_moves). Keep in lock-step with
-- migrations/sqlite/0044_dashboards_at_scale.sql; the statements below are store::dashboards::rebuild's.
--
-- account_product_months: per account, month (UTC) and product, the quantity, revenue (line totals,
-- net of tax, ten-thousandths) and orders that bought it — a rep's book and one account read these.
-- product_months: the same per month and product over all accounts, plus buyers: the accounts whose
-- latest month of buying the product is this month (so the accounts that bought it in a window
-- ending now add up month by month) — the whole seller reads these.
-- product_rollup_queue: account-months whose orders changed (a placement, a cancellation, an
-- amendment), marked by the order writer in the order's transaction (store::dashboards::record);
-- the worker recounts each from its orders and removes the mark unless it moved meanwhile
-- (store::dashboards::refresh_products). A recount is idempotent, so a mark counted twice or a
-- worker killed mid-pass loses nothing.

CREATE TABLE account_months (
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    month        TEXT NOT NULL,
    orders       BIGINT NOT NULL,
    revenue      BIGINT NOT NULL,
    self_orders  BIGINT NOT NULL,
    self_revenue BIGINT NOT NULL,
    PRIMARY KEY (account_id, month)
);
-- (No index by month: the whole seller's window reads half the table or more, a plain scan.)

INSERT INTO account_months (account_id, month, orders, revenue, self_orders, self_revenue)
SELECT account_id, month, SUM(orders), SUM(revenue),
       SUM(CASE WHEN channel IN ('portal', 'punchout') THEN orders ELSE 0 END),
       SUM(CASE WHEN channel IN ('portal', 'punchout') THEN revenue ELSE 0 END)
  FROM order_months GROUP BY account_id, month;

CREATE TABLE account_product_months (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    month      TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity   BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, product_id)
);
-- An account's latest month of buying a product.
CREATE INDEX account_product_months_latest ON account_product_months (account_id, product_id, month);

CREATE TABLE product_months (
    month      TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity   BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    buyers     BIGINT NOT NULL,
    PRIMARY KEY (month, product_id)
);

CREATE TABLE product_rollup_queue (
    account_id TEXT NOT NULL,
    month      TEXT NOT NULL,
    -- Moves on every mark: a recount removes the mark only if it did not move meanwhile.
    seq        BIGINT NOT NULL,
    PRIMARY KEY (account_id, month)
);

INSERT INTO account_product_months (account_id, month, product_id, quantity, revenue, orders)
SELECT o.account_id, to_char(to_timestamp(o.placed_at) AT TIME ZONE 'UTC', 'YYYY-MM'), l.product_id, SUM(l.quantity), SUM(l.line_total), COUNT(DISTINCT o.id)
  FROM orders o JOIN order_lines l ON l.order_id = o.id
 WHERE o.status NOT IN ('draft', 'cancelled')
 GROUP BY o.account_id, to_char(to_timestamp(o.placed_at) AT TIME ZONE 'UTC', 'YYYY-MM'), l.product_id;

INSERT INTO product_months (month, product_id, quantity, revenue, orders, buyers)
SELECT m.month, m.product_id, SUM(m.quantity), SUM(m.revenue), SUM(m.orders),
       SUM(CASE WHEN m.month = m.latest THEN 1 ELSE 0 END)
  FROM (SELECT month, product_id, quantity, revenue, orders,
               MAX(month) OVER (PARTITION BY account_id, product_id) AS latest
          FROM account_product_months) m
 GROUP BY m.month, m.product_id;
