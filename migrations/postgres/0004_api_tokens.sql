-- API tokens for integrations (ERP, CRM): bearer tokens with scopes, hashed at rest, shown once,
-- revocable, with the time of last use. Keep in lock-step with migrations/sqlite/0004_api_tokens.sql.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
