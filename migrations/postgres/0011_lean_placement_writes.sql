-- A placement writes fewer pages. Keep in lock-step with migrations/sqlite/0011_lean_placement_writes.sql
-- (which also keeps stock rows in key order; PostgreSQL has no such tables, and keeps the covering
-- index of 0009 for its index-only scans).
--
-- Order lines by product served only the foreign key's check when a product is deleted, which
-- Portico never does (products are deactivated); every order paid for it with one random index
-- page per line.
DROP INDEX order_lines_product;
