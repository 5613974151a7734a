-- Foundation: users, accounts, sessions, tokens, throttling, audit log, outbox.
-- Keep in lock-step with migrations/postgres/0001_foundation.sql (tests/migrations.rs checks it).
-- Times are BIGINT unix seconds; money is BIGINT ten-thousandths (DESIGN.md invariant 3).

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('account', 10000);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    phone               TEXT NOT NULL DEFAULT '',
    kind                TEXT NOT NULL CHECK (kind IN ('staff', 'buyer')),
    roles               TEXT NOT NULL,
    account_id          TEXT REFERENCES accounts (id),
    password_hash       TEXT,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    password_changed_at BIGINT,
    last_sign_in_at     BIGINT,
    CHECK ((kind = 'buyer') = (account_id IS NOT NULL))
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'on_hold', 'onboarding')),
    ownership_mode   TEXT NOT NULL CHECK (ownership_mode IN ('rep_led', 'self_service', 'hybrid')),
    owner_rep_id     TEXT REFERENCES users (id),
    terms_days       BIGINT NOT NULL DEFAULT 30,
    credit_limit     BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    po_required      BOOLEAN NOT NULL DEFAULT FALSE,
    external_id      TEXT UNIQUE,
    phone            TEXT NOT NULL DEFAULT '',
    bill_line1       TEXT NOT NULL DEFAULT '',
    bill_line2       TEXT NOT NULL DEFAULT '',
    bill_city        TEXT NOT NULL DEFAULT '',
    bill_region      TEXT NOT NULL DEFAULT '',
    bill_postal_code TEXT NOT NULL DEFAULT '',
    bill_country     TEXT NOT NULL DEFAULT '',
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX accounts_owner ON accounts (owner_rep_id);
CREATE INDEX accounts_name ON accounts (name);

CREATE TABLE ship_tos (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    line1       TEXT NOT NULL,
    line2       TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL,
    region      TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL,
    country     TEXT NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ship_tos_account ON ship_tos (account_id);
CREATE UNIQUE INDEX ship_tos_one_default ON ship_tos (account_id) WHERE is_default;

CREATE TABLE sessions (
    id_hash           TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_seen_at      BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    acting_account_id TEXT REFERENCES accounts (id),
    ip                TEXT NOT NULL DEFAULT '',
    user_agent        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

CREATE TABLE login_failures (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL DEFAULT '',
    at    BIGINT NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures (email, at);

CREATE TABLE audit_log (
    id                      TEXT PRIMARY KEY,
    at                      BIGINT NOT NULL,
    actor_user_id           TEXT,
    on_behalf_of_account_id TEXT,
    channel                 TEXT NOT NULL,
    action                  TEXT NOT NULL,
    object_type             TEXT NOT NULL,
    object_id               TEXT NOT NULL,
    before_json             TEXT,
    after_json              TEXT
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    event_type   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_pending ON outbox (created_at) WHERE delivered_at IS NULL;
