-- A delivery that arrives at its first attempt (nearly all of them) keeps that attempt on its own
-- row: when, the answer's code, how long it took and the start of the answer. The worker writes no
-- webhook_attempts row for it, so a delivered event costs the database's writer one row update
-- instead of an update and an insert. Every other attempt (a failure, a retry, a replay) is a
-- webhook_attempts row, as before; the delivery log reads both.
ALTER TABLE webhook_deliveries ADD COLUMN first_at_ms BIGINT;
ALTER TABLE webhook_deliveries ADD COLUMN first_status BIGINT;
ALTER TABLE webhook_deliveries ADD COLUMN first_latency_ms BIGINT;
ALTER TABLE webhook_deliveries ADD COLUMN first_excerpt TEXT;
