-- search_text was superseded by product_terms (0003) and is no longer written or read.
-- Keep in lock-step with migrations/sqlite/0005_drop_search_text.sql.
ALTER TABLE products DROP COLUMN search_text;
