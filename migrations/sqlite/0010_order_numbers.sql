-- Order numbers stay on the counter row on SQLite (the write lane serialises writers anyway);
-- PostgreSQL moves them to a sequence. Keep in lock-step with migrations/postgres/0010_order_numbers.sql.
SELECT 1;
