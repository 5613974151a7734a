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

CREATE TRIGGER accounts_insert_catalog_version AFTER INSERT ON accounts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER accounts_update_catalog_version AFTER UPDATE ON accounts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER accounts_delete_catalog_version AFTER DELETE ON accounts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER categories_insert_catalog_version AFTER INSERT ON categories
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER categories_update_catalog_version AFTER UPDATE ON categories
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER categories_delete_catalog_version AFTER DELETE ON categories
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER products_insert_catalog_version AFTER INSERT ON products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER products_update_catalog_version AFTER UPDATE ON products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER products_delete_catalog_version AFTER DELETE ON products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_attributes_insert_catalog_version AFTER INSERT ON product_attributes
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_attributes_update_catalog_version AFTER UPDATE ON product_attributes
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_attributes_delete_catalog_version AFTER DELETE ON product_attributes
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_terms_insert_catalog_version AFTER INSERT ON product_terms
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_terms_update_catalog_version AFTER UPDATE ON product_terms
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER product_terms_delete_catalog_version AFTER DELETE ON product_terms
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalogs_insert_catalog_version AFTER INSERT ON catalogs
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalogs_update_catalog_version AFTER UPDATE ON catalogs
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalogs_delete_catalog_version AFTER DELETE ON catalogs
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_rules_insert_catalog_version AFTER INSERT ON catalog_rules
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_rules_update_catalog_version AFTER UPDATE ON catalog_rules
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_rules_delete_catalog_version AFTER DELETE ON catalog_rules
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_assignments_insert_catalog_version AFTER INSERT ON catalog_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_assignments_update_catalog_version AFTER UPDATE ON catalog_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_assignments_delete_catalog_version AFTER DELETE ON catalog_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_products_insert_catalog_version AFTER INSERT ON catalog_products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_products_update_catalog_version AFTER UPDATE ON catalog_products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER catalog_products_delete_catalog_version AFTER DELETE ON catalog_products
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_lists_insert_catalog_version AFTER INSERT ON price_lists
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_lists_update_catalog_version AFTER UPDATE ON price_lists
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_lists_delete_catalog_version AFTER DELETE ON price_lists
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_assignments_insert_catalog_version AFTER INSERT ON price_list_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_assignments_update_catalog_version AFTER UPDATE ON price_list_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_assignments_delete_catalog_version AFTER DELETE ON price_list_assignments
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_items_insert_catalog_version AFTER INSERT ON price_list_items
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_items_update_catalog_version AFTER UPDATE ON price_list_items
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER price_list_items_delete_catalog_version AFTER DELETE ON price_list_items
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contracts_insert_catalog_version AFTER INSERT ON contracts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contracts_update_catalog_version AFTER UPDATE ON contracts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contracts_delete_catalog_version AFTER DELETE ON contracts
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contract_prices_insert_catalog_version AFTER INSERT ON contract_prices
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contract_prices_update_catalog_version AFTER UPDATE ON contract_prices
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;

CREATE TRIGGER contract_prices_delete_catalog_version AFTER DELETE ON contract_prices
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'catalog'; END;
