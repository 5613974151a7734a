-- Buyer approvals: the rules an account's purchasing manager sets, each user's spending limits,
-- and, for each order that waits for approval, the approvals it needs and the decisions made.
-- Keep in lock-step with migrations/sqlite/0021_approvals.sql.

-- A user's own limits (money, ten-thousandths; NULL: none): per order, and per calendar month.
ALTER TABLE users ADD COLUMN order_limit BIGINT CHECK (order_limit >= 0);
ALTER TABLE users ADD COLUMN monthly_limit BIGINT CHECK (monthly_limit >= 0);

-- kind 'order_total': orders above `amount`; kind 'category': orders with a line in `category_id`
-- or below it. `approvers`: comma-separated user ids of the account's managers (empty: any
-- manager); `require_all`: every named approver must approve, otherwise one is enough.
CREATE TABLE approval_rules (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('order_total', 'category')),
    amount      BIGINT CHECK (amount >= 0),
    category_id TEXT REFERENCES categories (id),
    approvers   TEXT NOT NULL DEFAULT '',
    require_all BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CHECK ((kind = 'order_total') = (amount IS NOT NULL)),
    CHECK ((kind = 'category') = (category_id IS NOT NULL))
);
CREATE INDEX approval_rules_account ON approval_rules (account_id);

-- The approvals an order waiting for approval needs, as decided when it was submitted
-- (domain::approvals::Step); kept after the decision, for the order's history.
CREATE TABLE order_approval_steps (
    order_id    TEXT NOT NULL REFERENCES orders (id),
    seq         BIGINT NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    approvers   TEXT NOT NULL DEFAULT '',
    require_all BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (order_id, seq)
);

CREATE TABLE order_approval_decisions (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    user_name  TEXT NOT NULL,
    approved   BOOLEAN NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    decided_at BIGINT NOT NULL
);
CREATE INDEX order_approval_decisions_order ON order_approval_decisions (order_id, decided_at);

-- A user's spending this month (monthly limits, budgets), and the approvers' queue (small: only
-- the orders waiting).
CREATE INDEX orders_placer_placed ON orders (placed_by_user_id, placed_at);
CREATE INDEX orders_pending_approval ON orders (account_id, placed_at) WHERE status = 'pending_approval';
