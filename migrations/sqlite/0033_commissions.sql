-- Commissions, slice 1 (issue 18): the owning rep recorded on each order when it is placed,
-- commission plans assigned to reps with effective dates, house accounts, accrual lines written
-- with each invoice and credit note, and the status of each rep's monthly statement.
-- Keep in lock-step with migrations/postgres/0033_commissions.sql (tests/migrations.rs checks it).
-- Rates are parts per million (ppm, as tax rates); money is BIGINT ten-thousandths; periods are
-- TEXT 'YYYY-MM' (they compare correctly as text on both backends).

-- The rep credited with an order: the account's owning rep when it was placed (later changes of
-- owner do not move orders already placed). Orders placed before this migration: today's owner.
ALTER TABLE orders ADD COLUMN owner_rep_id TEXT;
UPDATE orders SET owner_rep_id = (SELECT a.owner_rep_id FROM accounts a WHERE a.id = orders.account_id);

-- A house account earns no commission, whoever owns it.
ALTER TABLE accounts ADD COLUMN commission_house BOOLEAN NOT NULL DEFAULT FALSE;

-- `rules` is the plan's JSON (domain::commissions::PlanRules): rates by category path, by channel,
-- tiers by period volume, a cap per period. `basis`: invoiced (accrues when invoiced) or paid.
CREATE TABLE commission_plans (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    effective_from   TEXT NOT NULL,
    effective_to     TEXT,
    default_rate_ppm BIGINT NOT NULL CHECK (default_rate_ppm >= 0 AND default_rate_ppm <= 1000000),
    basis            TEXT NOT NULL DEFAULT 'invoiced' CHECK (basis IN ('invoiced', 'paid')),
    rules            TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE commission_assignments (
    id             TEXT PRIMARY KEY,
    rep_id         TEXT NOT NULL REFERENCES users (id),
    plan_id        TEXT NOT NULL REFERENCES commission_plans (id),
    effective_from TEXT NOT NULL,
    effective_to   TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX commission_assignments_rep ON commission_assignments (rep_id, effective_from);

-- One line per invoice line (kind accrual) or credited invoice line (kind clawback, negative).
CREATE TABLE commission_accruals (
    id              TEXT PRIMARY KEY,
    rep_id          TEXT NOT NULL REFERENCES users (id),
    period          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('accrual', 'clawback')),
    plan_id         TEXT NOT NULL REFERENCES commission_plans (id),
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    invoice_number  TEXT NOT NULL,
    invoice_line_no BIGINT NOT NULL,
    credited_invoice_id TEXT REFERENCES invoices (id),
    order_id        TEXT NOT NULL REFERENCES orders (id),
    order_number    TEXT NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    channel         TEXT NOT NULL,
    sku             TEXT NOT NULL,
    category        TEXT NOT NULL DEFAULT '',
    base            BIGINT NOT NULL,
    rate_ppm        BIGINT NOT NULL,
    rule            TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    issued_on       TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX commission_accruals_statement ON commission_accruals (rep_id, period, created_at, id);
CREATE INDEX commission_accruals_invoice ON commission_accruals (invoice_id);
CREATE INDEX commission_accruals_changed ON commission_accruals (created_at, id);

-- A statement's status (no row: open). Approved and locked statements keep the totals they were
-- approved with; a locked period never changes, and nothing new lands in an approved one.
CREATE TABLE commission_statements (
    rep_id      TEXT NOT NULL REFERENCES users (id),
    period      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'approved', 'locked')),
    total       BIGINT NOT NULL DEFAULT 0,
    adjustments TEXT NOT NULL DEFAULT '[]',
    approved_by TEXT,
    approved_at BIGINT,
    locked_at   BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (rep_id, period)
);
