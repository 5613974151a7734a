-- An import job's progress through its file in bytes, so the upload page shows how far it is.
-- Keep in lock-step with migrations/sqlite/0008_import_progress.sql.
ALTER TABLE import_jobs ADD COLUMN bytes_read BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN bytes_total BIGINT NOT NULL DEFAULT 0;
