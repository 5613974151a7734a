-- Ordering: carts, saved lists, orders (one table for every channel), their lines, stock
-- allocations, status timeline and revisions; idempotency records for placement.
-- Keep in lock-step with migrations/sqlite/0006_orders.sql (tests/migrations.rs checks it).

INSERT INTO counters (name, value) VALUES ('order', 100000);

-- A cart per user and account (a rep acting for several customers has one cart for each).
CREATE TABLE cart_lines (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, account_id, product_id)
);

CREATE TABLE saved_lists (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    owner_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    shared        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX saved_lists_account ON saved_lists (account_id, updated_at);

CREATE TABLE saved_list_lines (
    list_id    TEXT NOT NULL REFERENCES saved_lists (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (list_id, product_id)
);

-- placed_by_user_id is a user id or `api-token:<id>` (no foreign key for that reason);
-- on_behalf_of_account_id is set when staff placed the order for the customer.
CREATE TABLE orders (
    id                      TEXT PRIMARY KEY,
    number                  TEXT NOT NULL UNIQUE,
    account_id              TEXT NOT NULL REFERENCES accounts (id),
    status                  TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'placed', 'escalated', 'confirmed', 'partially_shipped', 'shipped', 'closed', 'cancelled', 'on_hold')),
    channel                 TEXT NOT NULL CHECK (channel IN ('portal', 'rep', 'phone', 'api', 'edi', 'punchout')),
    placed_by_user_id       TEXT NOT NULL,
    placed_by_name          TEXT NOT NULL,
    on_behalf_of_account_id TEXT REFERENCES accounts (id),
    ship_to_id              TEXT REFERENCES ship_tos (id),
    ship_to_text            TEXT NOT NULL,
    po_number               TEXT NOT NULL DEFAULT '',
    requested_date          TEXT,
    notes                   TEXT NOT NULL DEFAULT '',
    terms_days              BIGINT NOT NULL,
    subtotal                BIGINT NOT NULL,
    line_count              BIGINT NOT NULL,
    backordered             BOOLEAN NOT NULL DEFAULT FALSE,
    reasons                 TEXT NOT NULL DEFAULT '',
    revision                BIGINT NOT NULL DEFAULT 1,
    version                 BIGINT NOT NULL DEFAULT 1,
    placed_at               BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX orders_account_placed ON orders (account_id, placed_at, id);
CREATE INDEX orders_updated ON orders (updated_at, id);
CREATE INDEX orders_placed ON orders (placed_at, id);

CREATE TABLE order_lines (
    order_id          TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no           BIGINT NOT NULL,
    product_id        TEXT NOT NULL REFERENCES products (id),
    sku               TEXT NOT NULL,
    name              TEXT NOT NULL,
    uom               TEXT NOT NULL,
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    unit_price        BIGINT NOT NULL CHECK (unit_price >= 0),
    list_price        BIGINT,
    line_total        BIGINT NOT NULL,
    price_source      TEXT NOT NULL,
    price_explanation TEXT NOT NULL,
    reserved_qty      BIGINT NOT NULL DEFAULT 0 CHECK (reserved_qty >= 0),
    backordered_qty   BIGINT NOT NULL DEFAULT 0 CHECK (backordered_qty >= 0),
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_product ON order_lines (product_id);

-- Which warehouse holds how much of an order's reservation (released on cancel / amendment).
CREATE TABLE order_allocations (
    order_id     TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id   TEXT NOT NULL REFERENCES products (id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id, warehouse_id)
);

-- The status timeline.
CREATE TABLE order_events (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    status        TEXT NOT NULL,
    actor_user_id TEXT,
    actor_name    TEXT NOT NULL,
    channel       TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (order_id, at);

-- Every amendment: who, when, why, and what changed (JSON diff).
CREATE TABLE order_revisions (
    order_id      TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    revision      BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    actor_user_id TEXT,
    actor_name    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    diff_json     TEXT NOT NULL,
    PRIMARY KEY (order_id, revision)
);

-- Idempotency of placement: API `Idempotency-Key`s (scope = the token) and one-time form tokens
-- (scope = the user). A row is claimed `in_flight` in its own transaction and completed in the
-- transaction that writes the order, so an acknowledged order and its record commit together.
CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status BIGINT,
    response_body   TEXT,
    order_id        TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
