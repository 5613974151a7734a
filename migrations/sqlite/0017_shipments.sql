-- Fulfilment: shipments (partial allowed; from one warehouse each, with carrier and tracking) and
-- what each order line has shipped. Keep in lock-step with migrations/postgres/0017_shipments.sql.

ALTER TABLE order_lines ADD COLUMN shipped_qty BIGINT NOT NULL DEFAULT 0 CHECK (shipped_qty >= 0);

-- Orders shipped before shipments were recorded (all at once, consuming their reservation).
UPDATE order_lines SET shipped_qty = reserved_qty, reserved_qty = 0
 WHERE order_id IN (SELECT id FROM orders WHERE status IN ('shipped', 'closed'));

INSERT INTO counters (name, value) VALUES ('shipment', 100000);

CREATE TABLE shipments (
    id                 TEXT PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    warehouse_id       TEXT NOT NULL REFERENCES warehouses (id),
    carrier            TEXT NOT NULL DEFAULT '',
    tracking_number    TEXT NOT NULL DEFAULT '',
    shipped_on         TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    created_by_name    TEXT NOT NULL,
    channel            TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX shipments_order ON shipments (order_id, created_at);
CREATE INDEX shipments_account ON shipments (account_id, created_at);

CREATE TABLE shipment_lines (
    shipment_id TEXT NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    line_no     BIGINT NOT NULL,
    product_id  TEXT NOT NULL REFERENCES products (id),
    quantity    BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, line_no)
);

-- Backordered lines waiting for stock, oldest order first.
CREATE INDEX order_lines_backordered ON order_lines (product_id) WHERE backordered_qty > 0;
