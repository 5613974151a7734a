-- Delivering the outbox by webhook (issue 16). The worker fans each event out into one delivery
-- per subscribed endpoint, then delivers those at least once, under a lease, retrying with backoff.
-- Keep in lock-step with migrations/postgres/0027_webhooks.sql.

-- When the worker fanned the event out (NULL: not yet). Events written before an endpoint existed
-- never go to it.
ALTER TABLE outbox ADD COLUMN dispatched_at BIGINT;
CREATE INDEX outbox_undispatched ON outbox (id) WHERE dispatched_at IS NULL;
-- One node fans out at a time (it locks this row), so an aggregate's deliveries are created in
-- the order of its events.
INSERT INTO counters (name, value) VALUES ('outbox_dispatch', 0);

CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- Space-separated event types and families (order.*), or '*'.
    event_types     TEXT NOT NULL,
    -- whsec_<base64>; the previous one keeps signing too until previous_until (a rotation's overlap).
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  BIGINT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT,
    -- Who added it: a user id, or api-token:<id> for an integration.
    created_by      TEXT
);

-- Times that schedule retries are milliseconds (a retry can be due in less than a second).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES outbox(id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
    ordering_key    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    due_ms          BIGINT NOT NULL,
    lease_until_ms  BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    last_status     BIGINT,
    last_error      TEXT,
    last_attempt_at BIGINT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_sequence ON webhook_deliveries (endpoint_id, ordering_key, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (endpoint_id) WHERE status = 'dead';

-- The delivery log: every attempt, with what the endpoint answered.
CREATE TABLE webhook_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries(id),
    at_ms            BIGINT NOT NULL,
    status_code      BIGINT,
    latency_ms       BIGINT NOT NULL,
    response_excerpt TEXT NOT NULL DEFAULT '',
    error            TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at_ms);
