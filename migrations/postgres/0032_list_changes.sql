-- Every list an ERP pulls has one paging shape (issue 16 §4): what changed since a time, by
-- keyset on (updated_at, id). Invoices (and credit notes) change when they are paid, unapplied or
-- reversed; payments when they are applied, unapplied or reversed. Rows written before this
-- migration count as changed when they were created. Products and quotes already keep updated_at.
-- Keep in lock-step with migrations/sqlite/0032_list_changes.sql.

ALTER TABLE invoices ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE invoices SET updated_at = created_at;
CREATE INDEX invoices_changed ON invoices (updated_at, id);

ALTER TABLE payments ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE payments SET updated_at = COALESCE(reversed_at, created_at);
CREATE INDEX payments_changed ON payments (updated_at, id);

CREATE INDEX products_changed ON products (updated_at, id);
CREATE INDEX quotes_changed ON quotes (updated_at, id);
