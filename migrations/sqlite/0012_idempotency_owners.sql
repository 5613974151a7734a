-- Who holds an in-flight Idempotency-Key: the claim (one per request) and the app process that
-- made it. A process writes its heartbeat to app_instances; a claim whose process stopped beating
-- is abandoned and can be taken over at once (instead of after a fixed 120 s).
CREATE TABLE app_instances (
    id         TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);

ALTER TABLE idempotency_keys ADD COLUMN claim_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN owner_instance TEXT;
