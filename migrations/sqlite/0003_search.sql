-- Catalog search: a small inverted index of words (and SKU parts) per product, searched by prefix
-- with range scans on the primary key. The same SQL serves SQLite and PostgreSQL (see
-- domain::catalog::index_terms for what is indexed). Keep in lock-step with migrations/postgres.
CREATE TABLE product_terms (
    term       TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (term, product_id)
);
CREATE INDEX product_terms_product ON product_terms (product_id);
