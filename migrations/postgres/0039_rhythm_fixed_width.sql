-- account_rhythm.recent rewritten newest first with every time in ten digits, so the order writer
-- adds a new order by prepending it and cutting the text to the latest 13 in one statement, without
-- re-reading the account's orders (store::dashboards::push; the format is domain::dashboards::
-- parse_recent's). The same statement as store::dashboards::rebuild. Keep in lock-step with
-- migrations/sqlite/0039_rhythm_fixed_width.sql.

DELETE FROM account_rhythm;

INSERT INTO account_rhythm (account_id, orders, last_at, recent)
SELECT r.account_id, c.n, MAX(r.placed_at), string_agg(lpad(r.placed_at::text, 10, '0'), ' ' ORDER BY r.placed_at DESC, r.id DESC)
  FROM (SELECT account_id, placed_at, id,
               ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY placed_at DESC, id DESC) AS rn
          FROM orders WHERE status NOT IN ('draft', 'cancelled')) r
  JOIN (SELECT account_id, COUNT(*) AS n FROM orders WHERE status NOT IN ('draft', 'cancelled') GROUP BY account_id) c
    ON c.account_id = r.account_id
 WHERE r.rn <= 13
 GROUP BY r.account_id, c.n;
