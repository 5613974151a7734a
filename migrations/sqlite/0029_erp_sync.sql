-- The ERP sync API (issue 16 §4): every list an ERP pulls is read by keyset on (updated_at, id)
-- from an `updated_since` time, and ship-tos are upserted by the ERP's own id, unique within
-- their account. Rows written before this migration count as changed when they were created.
-- Keep in lock-step with migrations/postgres/0029_erp_sync.sql.

CREATE INDEX accounts_changed ON accounts (updated_at, id);

ALTER TABLE ship_tos ADD COLUMN external_id TEXT;
ALTER TABLE ship_tos ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE ship_tos SET updated_at = created_at;
CREATE UNIQUE INDEX ship_tos_external ON ship_tos (account_id, external_id);
CREATE INDEX ship_tos_changed ON ship_tos (account_id, updated_at, id);

CREATE INDEX users_account_changed ON users (account_id, updated_at, id);

ALTER TABLE warehouses ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE warehouses SET updated_at = created_at;
CREATE INDEX warehouses_changed ON warehouses (updated_at, id);

ALTER TABLE account_groups ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE account_groups SET updated_at = created_at;
CREATE INDEX account_groups_changed ON account_groups (updated_at, id);

CREATE INDEX price_lists_changed ON price_lists (updated_at, id);
