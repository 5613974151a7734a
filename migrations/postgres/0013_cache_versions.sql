-- The version of everything a catalog page shows apart from stock: products, categories, search
-- terms, customer catalogs and their assignments, price lists, contracts and their prices, and the
-- accounts (their group decides group catalogs and lists). Every write to those tables bumps it in
-- its own transaction (triggers: no write path can forget), so an app node's in-process cache,
-- which checks it on every page, never serves a page older than the last committed change, made
-- on any node.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('catalog', 1);

-- One bump per statement (a 1M-row import bumps once per statement, not per row).
CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog';
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER categories_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER products_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER product_attributes_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_attributes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER product_terms_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_terms
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER catalogs_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalogs
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER catalog_rules_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_rules
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER catalog_assignments_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER catalog_products_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER price_lists_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON price_lists
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER price_list_assignments_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON price_list_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER price_list_items_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON price_list_items
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER contracts_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contracts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

CREATE TRIGGER contract_prices_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contract_prices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
