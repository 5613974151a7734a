-- Dashboards (issue 18 §4): orders and revenue per account, month and channel, and each account's
-- recent order times, kept by the order writer (store::dashboards::record, called by
-- store::orders' insert and header/status updates) in the transaction that writes the order, so the
-- dashboards read a few thousand rows instead of every order. What counts: every order but drafts
-- and cancelled ones (domain::dashboards). Keep in lock-step with migrations/sqlite/0035_dashboards.sql
-- (tests/migrations.rs checks it). Money is BIGINT ten-thousandths; months are TEXT 'YYYY-MM' (UTC).

CREATE TABLE order_months (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    month      TEXT NOT NULL,
    channel    TEXT NOT NULL,
    orders     BIGINT NOT NULL,
    revenue    BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, channel)
);
-- The whole seller's months (admins, sales managers) without touching each account's rows.
CREATE INDEX order_months_month ON order_months (month, channel, orders, revenue);

-- `recent`: the placed_at (unix seconds) of the account's latest orders (at most 13), space-separated;
-- the usual interval between orders is their median gap (domain::dashboards::Rhythm).
CREATE TABLE account_rhythm (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    orders     BIGINT NOT NULL,
    last_at    BIGINT NOT NULL,
    recent     TEXT NOT NULL
);

INSERT INTO order_months (account_id, month, channel, orders, revenue)
SELECT account_id, to_char(to_timestamp(placed_at) AT TIME ZONE 'UTC', 'YYYY-MM'), channel, COUNT(*), SUM(subtotal)
  FROM orders WHERE status NOT IN ('draft', 'cancelled')
 GROUP BY account_id, to_char(to_timestamp(placed_at) AT TIME ZONE 'UTC', 'YYYY-MM'), channel;

INSERT INTO account_rhythm (account_id, orders, last_at, recent)
SELECT r.account_id, c.n, MAX(r.placed_at), string_agg(r.placed_at::text, ' ' ORDER BY r.placed_at DESC)
  FROM (SELECT account_id, placed_at,
               ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY placed_at DESC, id DESC) AS rn
          FROM orders WHERE status NOT IN ('draft', 'cancelled')) r
  JOIN (SELECT account_id, COUNT(*) AS n FROM orders WHERE status NOT IN ('draft', 'cancelled') GROUP BY account_id) c
    ON c.account_id = r.account_id
 WHERE r.rn <= 13
 GROUP BY r.account_id, c.n;
