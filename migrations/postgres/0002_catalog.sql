-- Catalog, customer-specific catalogs, pricing and inventory.
-- Keep in lock-step with migrations/sqlite/0002_catalog.sql (tests/migrations.rs checks it).
-- Dates (validity, ETAs) are TEXT 'YYYY-MM-DD'; they compare correctly as text on both backends.

CREATE TABLE account_groups (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
ALTER TABLE accounts ADD COLUMN group_id TEXT REFERENCES account_groups (id);

CREATE TABLE categories (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES categories (id),
    name       TEXT NOT NULL,
    path       TEXT NOT NULL UNIQUE,
    sort       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE products (
    id               TEXT PRIMARY KEY,
    sku              TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    category_id      TEXT REFERENCES categories (id),
    uom              TEXT NOT NULL DEFAULT 'EA',
    pack_size        BIGINT NOT NULL DEFAULT 1 CHECK (pack_size >= 1),
    min_qty          BIGINT NOT NULL DEFAULT 1 CHECK (min_qty >= 1),
    multiple_qty     BIGINT NOT NULL DEFAULT 1 CHECK (multiple_qty >= 1),
    max_qty          BIGINT,
    image_url        TEXT,
    regulated_class  TEXT,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    backorder_policy TEXT NOT NULL DEFAULT 'deny' CHECK (backorder_policy IN ('deny', 'allow')),
    external_id      TEXT UNIQUE,
    search_text      TEXT NOT NULL DEFAULT '',
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX products_name ON products (name, id);
CREATE INDEX products_category ON products (category_id, name, id);

CREATE TABLE product_attributes (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (product_id, key)
);

-- A catalog is everything (includes_all) or the included categories and products, minus the
-- excluded ones. Accounts with assigned catalogs see the union of those; others see the default.
CREATE TABLE catalogs (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    includes_all BOOLEAN NOT NULL DEFAULT FALSE,
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX catalogs_one_default ON catalogs (is_default) WHERE is_default;

CREATE TABLE catalog_rules (
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    rule       TEXT NOT NULL CHECK (rule IN ('include_category', 'exclude_category', 'include_product', 'exclude_product')),
    target_id  TEXT NOT NULL,
    PRIMARY KEY (catalog_id, rule, target_id)
);

CREATE TABLE catalog_assignments (
    id         TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    account_id TEXT REFERENCES accounts (id),
    group_id   TEXT REFERENCES account_groups (id),
    CHECK ((account_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX catalog_assignments_account ON catalog_assignments (account_id);
CREATE INDEX catalog_assignments_group ON catalog_assignments (group_id);

-- Materialised membership, rebuilt from the rules whenever they or a product's category change.
CREATE TABLE catalog_products (
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (catalog_id, product_id)
);
CREATE INDEX catalog_products_product ON catalog_products (product_id, catalog_id);

CREATE TABLE price_lists (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    is_base    BOOLEAN NOT NULL DEFAULT FALSE,
    priority   BIGINT NOT NULL DEFAULT 100,
    valid_from TEXT,
    valid_to   TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX price_lists_one_base ON price_lists (is_base) WHERE is_base;

CREATE TABLE price_list_assignments (
    id            TEXT PRIMARY KEY,
    price_list_id TEXT NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    account_id    TEXT REFERENCES accounts (id),
    group_id      TEXT REFERENCES account_groups (id),
    CHECK ((account_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX price_list_assignments_account ON price_list_assignments (account_id);
CREATE INDEX price_list_assignments_group ON price_list_assignments (group_id);

CREATE TABLE price_list_items (
    price_list_id TEXT NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    product_id    TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    min_qty       BIGINT NOT NULL CHECK (min_qty >= 1),
    unit_price    BIGINT NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (price_list_id, product_id, min_qty)
);
CREATE INDEX price_list_items_product ON price_list_items (product_id, price_list_id);

CREATE TABLE contracts (
    id         TEXT PRIMARY KEY,
    number     TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contracts_account ON contracts (account_id);

CREATE TABLE contract_prices (
    contract_id TEXT NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    min_qty     BIGINT NOT NULL CHECK (min_qty >= 1),
    unit_price  BIGINT NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (contract_id, product_id, min_qty)
);

CREATE TABLE warehouses (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    sort       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- available = on_hand - reserved, never negative (the CHECK makes over-reservation impossible).
CREATE TABLE stock_levels (
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    on_hand      BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    incoming     BIGINT NOT NULL DEFAULT 0 CHECK (incoming >= 0),
    incoming_eta TEXT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (product_id, warehouse_id)
);

CREATE TABLE stock_movements (
    id            TEXT PRIMARY KEY,
    at            BIGINT NOT NULL,
    product_id    TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id  TEXT NOT NULL REFERENCES warehouses (id),
    on_hand_delta BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    actor_user_id TEXT,
    channel       TEXT NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, at);

INSERT INTO counters (name, value) VALUES ('contract', 1000);
