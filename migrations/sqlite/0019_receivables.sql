-- Receivables: each account's credit exposure kept current in the units of work that change it,
-- payments and what they (and credit notes) are applied to, and the account's credit settings.
-- Keep in lock-step with migrations/postgres/0019_receivables.sql.

-- What happens when an order would take the account over its credit limit: 'hold' places it
-- on_hold for finance; 'tell' refuses it before it is placed, naming the figures.
ALTER TABLE accounts ADD COLUMN credit_over_limit TEXT NOT NULL DEFAULT 'hold'
    CHECK (credit_over_limit IN ('hold', 'tell'));
-- Orders are held while an invoice is overdue by more than this many days (NULL: never).
ALTER TABLE accounts ADD COLUMN overdue_hold_days BIGINT CHECK (overdue_hold_days >= 0);

-- Why a credit note was issued, and which invoice it credits (if one).
ALTER TABLE invoices ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN credited_invoice_id TEXT REFERENCES invoices (id);
CREATE INDEX invoices_account_open ON invoices (account_id, status, due_on);
-- How much of an invoice line credit notes have credited (never more than the line's quantity).
ALTER TABLE invoice_lines ADD COLUMN credited_qty BIGINT NOT NULL DEFAULT 0 CHECK (credited_qty >= 0);

-- exposure = uninvoiced + receivable - credits (domain::credit). Kept apart from `accounts`, whose
-- writes move the catalog cache's version.
--   uninvoiced: open orders' value not yet invoiced (net of tax; every status but draft,
--               cancelled and closed);
--   receivable: invoices' totals less what has been applied to them;
--   credits:    payments not yet applied plus credit notes not yet applied.
-- The WMS's or ERP's own id of a shipment: a retried report of the same shipment is recognised
-- and answered with the shipment it made, never shipped twice.
ALTER TABLE shipments ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX shipments_external ON shipments (external_id);

-- What each order adds to `uninvoiced` now: every unit that changes an order's lines, status or
-- invoiced quantities brings it up to date and moves the account's figure by the difference.
ALTER TABLE orders ADD COLUMN uninvoiced BIGINT NOT NULL DEFAULT 0;

CREATE TABLE account_exposure (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    uninvoiced BIGINT NOT NULL DEFAULT 0,
    receivable BIGINT NOT NULL DEFAULT 0,
    credits    BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);

INSERT INTO counters (name, value) VALUES ('payment', 100000);
INSERT INTO counters (name, value) VALUES ('credit_note', 100000);

-- Money received from a customer: recorded by finance, imported from the bank's file, or
-- confirmed by a payment provider. What is not applied to invoices is the account's credit.
CREATE TABLE payments (
    id                 TEXT PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    amount             BIGINT NOT NULL CHECK (amount > 0),
    unapplied          BIGINT NOT NULL CHECK (unapplied >= 0),
    received_on        TEXT NOT NULL,
    method             TEXT NOT NULL,
    reference          TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL DEFAULT 'manual',
    -- The bank's or provider's id: a second import of the same payment is recognised.
    external_id        TEXT UNIQUE,
    status             TEXT NOT NULL DEFAULT 'posted' CHECK (status IN ('posted', 'reversed')),
    reversed_at        BIGINT,
    reversal_reason    TEXT NOT NULL DEFAULT '',
    created_by_user_id TEXT NOT NULL,
    created_by_name    TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX payments_account ON payments (account_id, received_on);

-- A payment's (or a credit note's) amount applied to an invoice. A reversal marks the
-- application reversed and gives the amount back to the invoice's balance.
CREATE TABLE payment_applications (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    source_kind TEXT NOT NULL CHECK (source_kind IN ('payment', 'credit_note')),
    source_id   TEXT NOT NULL,
    invoice_id  TEXT NOT NULL REFERENCES invoices (id),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    applied_on  TEXT NOT NULL,
    reversed_at BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX payment_applications_source ON payment_applications (source_id);
CREATE INDEX payment_applications_invoice ON payment_applications (invoice_id);

-- The exposure of what exists already (see domain::credit and store::credit for the rules).
UPDATE orders SET uninvoiced = COALESCE((SELECT SUM(((l.quantity - l.invoiced_qty) * l.unit_price + 50) / 100 * 100)
                                            FROM order_lines l WHERE l.order_id = orders.id AND l.quantity > l.invoiced_qty), 0)
 WHERE status NOT IN ('draft', 'cancelled', 'closed');
INSERT INTO account_exposure (account_id, uninvoiced, receivable, credits, updated_at)
SELECT a.id,
       COALESCE((SELECT SUM(o.uninvoiced) FROM orders o WHERE o.account_id = a.id), 0),
       COALESCE((SELECT SUM(i.total - i.paid) FROM invoices i
                  WHERE i.account_id = a.id AND i.kind = 'invoice' AND i.status = 'open'), 0),
       COALESCE((SELECT SUM(i.total - i.paid) FROM invoices i
                  WHERE i.account_id = a.id AND i.kind = 'credit_note' AND i.status = 'open'), 0),
       0
  FROM accounts a;
