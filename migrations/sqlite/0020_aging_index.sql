-- The receivables aging reads every open invoice's account, kind, due date, total and paid amount:
-- from this index alone, without touching the invoices' wide rows (addresses, notes). Keep in
-- lock-step with migrations/postgres/0020_aging_index.sql.
CREATE INDEX invoices_open_aging ON invoices (status, account_id, kind, due_on, total, paid);
