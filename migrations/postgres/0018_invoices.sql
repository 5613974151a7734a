-- Invoices and tax: an invoice for what each shipment shipped (prepay accounts: for the whole order
-- at placement), numbered without gaps in one series, due by the account's terms, taxed per line
-- by the ship-to region and the product's tax class. Keep in lock-step with
-- migrations/sqlite/0018_invoices.sql.

ALTER TABLE products ADD COLUMN tax_class TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE accounts ADD COLUMN terms_from_month_end BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN tax_exempt_certificate TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN tax_exempt_until TEXT;
ALTER TABLE order_lines ADD COLUMN invoiced_qty BIGINT NOT NULL DEFAULT 0 CHECK (invoiced_qty >= 0);

-- The seller's own details (name, address) as invoices print them.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A rate in millionths (8.875 % = 88750) for a country, optionally one region of it, and a
-- product tax class. The region's rate wins over the country's; no rate means untaxed.
CREATE TABLE tax_rates (
    id        TEXT PRIMARY KEY,
    country   TEXT NOT NULL,
    region    TEXT NOT NULL DEFAULT '',
    tax_class TEXT NOT NULL DEFAULT 'standard',
    rate_ppm  BIGINT NOT NULL CHECK (rate_ppm >= 0 AND rate_ppm <= 1000000),
    label     TEXT NOT NULL DEFAULT '',
    UNIQUE (country, region, tax_class)
);

INSERT INTO counters (name, value) VALUES ('invoice', 100000);

CREATE TABLE invoices (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    order_id    TEXT NOT NULL REFERENCES orders (id),
    shipment_id TEXT REFERENCES shipments (id),
    issued_on   TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    terms       TEXT NOT NULL,
    bill_to     TEXT NOT NULL,
    ship_to     TEXT NOT NULL,
    po_number   TEXT NOT NULL DEFAULT '',
    subtotal    BIGINT NOT NULL,
    tax         BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    paid        BIGINT NOT NULL DEFAULT 0,
    tax_note    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
    created_at  BIGINT NOT NULL
);
CREATE INDEX invoices_account ON invoices (account_id, issued_on, number);
CREATE INDEX invoices_order ON invoices (order_id);
CREATE INDEX invoices_open_due ON invoices (status, due_on);

CREATE TABLE invoice_lines (
    invoice_id    TEXT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no       BIGINT NOT NULL,
    order_line_no BIGINT NOT NULL,
    sku           TEXT NOT NULL,
    name          TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    unit_price    BIGINT NOT NULL,
    net           BIGINT NOT NULL,
    tax_rate_ppm  BIGINT NOT NULL DEFAULT 0,
    tax_label     TEXT NOT NULL DEFAULT '',
    tax           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (invoice_id, line_no)
);
