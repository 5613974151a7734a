-- On SQLite, who buys what moves into a database file of its own (the rollup file, store::rollup;
-- migrations/sqlite/0054_rollup_file.sql drops its tables there), so that counting orders never
-- holds the one writer order placement waits for. PostgreSQL has no single writer: the tables stay
-- in this database, and this migration changes nothing.
SELECT 1;
