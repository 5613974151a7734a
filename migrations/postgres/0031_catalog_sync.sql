-- Customer catalogs kept by the admin and by an ERP (issue 16 §4, §5): upserted by the ERP's own
-- id, listed by keyset on (updated_at, id) from an `updated_since` time like every list an ERP
-- pulls. A catalog is assigned to an account or a group at most once. Catalogs written before this
-- migration count as changed when they were created.
-- Keep in lock-step with migrations/sqlite/0031_catalog_sync.sql.

ALTER TABLE catalogs ADD COLUMN external_id TEXT;
ALTER TABLE catalogs ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE catalogs SET updated_at = created_at;
CREATE UNIQUE INDEX catalogs_external ON catalogs (external_id);
CREATE INDEX catalogs_changed ON catalogs (updated_at, id);

CREATE UNIQUE INDEX catalog_assignments_one_account ON catalog_assignments (catalog_id, account_id) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX catalog_assignments_one_group ON catalog_assignments (catalog_id, group_id) WHERE group_id IS NOT NULL;
