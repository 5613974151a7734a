-- Licences for regulated products (domain::licences): the seller's rules ("class X needs a
-- licence of type T, everywhere or when shipping to a state"), the licences each account holds,
-- and their documents. Keep in lock-step with migrations/postgres/0022_licences.sql.

CREATE TABLE licence_rules (
    id               TEXT PRIMARY KEY,
    regulated_class  TEXT NOT NULL,
    licence_type     TEXT NOT NULL CHECK (licence_type IN ('dea', 'state_controlled', 'state_pharmacy', 'rx_device')),
    -- The ship-to state the rule is limited to; '' for every destination.
    region           TEXT NOT NULL DEFAULT '',
    -- Only a licence whose document staff verified counts.
    require_verified BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       BIGINT NOT NULL,
    UNIQUE (regulated_class, licence_type, region)
);

CREATE TABLE account_licences (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    licence_type      TEXT NOT NULL CHECK (licence_type IN ('dea', 'state_controlled', 'state_pharmacy', 'rx_device')),
    number            TEXT NOT NULL,
    -- '' for a federal registration (covers every state).
    issuing_region    TEXT NOT NULL DEFAULT '',
    valid_from        TEXT,
    -- The last valid day (YYYY-MM-DD).
    expires_on        TEXT NOT NULL,
    verified_at       BIGINT,
    verified_by       TEXT REFERENCES users (id),
    -- The expiry date for which `licence.expiring` was raised: once per licence per expiry window.
    expiry_notice_for TEXT,
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (account_id, licence_type, number)
);
CREATE INDEX account_licences_expiry ON account_licences (expires_on);

-- In the database (not on a node's disk) so every app node serves it; at most 5 MB, PDF, PNG or
-- JPEG (checked by content). A new upload replaces the old one and needs verifying again.
CREATE TABLE licence_documents (
    licence_id   TEXT PRIMARY KEY REFERENCES account_licences (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content      BLOB NOT NULL,
    uploaded_by  TEXT REFERENCES users (id),
    uploaded_at  BIGINT NOT NULL
);
