-- Imports started from the staff upload page run as jobs: any app node can show their progress
-- and result, because both live here. Keep in lock-step with migrations/sqlite/0007_import_jobs.sql.
CREATE TABLE import_jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    rows_read   BIGINT NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '',
    errors_json TEXT NOT NULL DEFAULT '[]',
    error_count BIGINT NOT NULL DEFAULT 0,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX import_jobs_created ON import_jobs (created_at);
