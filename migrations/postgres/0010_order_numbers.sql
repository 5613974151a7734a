-- Order numbers come from a sequence on PostgreSQL: the counter row's lock made every placement
-- wait for the one before it to commit. A placement that rolls back leaves a gap in the numbers,
-- never a duplicate. SQLite keeps the counter row (its write lane serialises writers anyway).
-- Keep in lock-step with migrations/sqlite/0010_order_numbers.sql.
CREATE SEQUENCE order_numbers;
SELECT setval('order_numbers', (SELECT value FROM counters WHERE name = 'order'));
