-- Quotes (issue 14 §2): a buyer's request for quote (from a cart, with notes and target prices) or
-- a quote a rep or the desk writes for an account; the seller prices it (margin against cost and
-- against the account's normal price), a discount past the seller's threshold waits for a sales
-- manager's sign-off, it is sent with an expiry, and the buyer accepts all or some lines (an order
-- at the quoted prices, through the one pipeline), declines it, or lets it expire. Every revision's
-- lines are kept. Keep in lock-step with migrations/sqlite/0025_quotes.sql.

CREATE TABLE quotes (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,
    account_id           TEXT NOT NULL REFERENCES accounts (id),
    status               TEXT NOT NULL CHECK (status IN ('requested', 'draft', 'awaiting_signoff', 'sent', 'accepted', 'declined', 'expired', 'withdrawn')),
    origin               TEXT NOT NULL CHECK (origin IN ('portal', 'rep', 'phone', 'api')),
    requested_by_user_id TEXT NOT NULL,
    requested_by_name    TEXT NOT NULL,
    -- The account's owning rep when the quote was written (their queue).
    owner_rep_id         TEXT,
    notes                TEXT NOT NULL DEFAULT '',
    revision             BIGINT NOT NULL DEFAULT 1 CHECK (revision >= 1),
    -- YYYY-MM-DD: the last day it can be accepted (set when sent).
    expires_on           TEXT,
    sent_at              BIGINT,
    -- Why it needs a sales manager's sign-off (empty: it does not), and who gave it.
    signoff_reasons      TEXT NOT NULL DEFAULT '',
    signed_off_by_name   TEXT,
    decided_at           BIGINT,
    decision_note        TEXT NOT NULL DEFAULT '',
    order_id             TEXT REFERENCES orders (id),
    subtotal             BIGINT NOT NULL DEFAULT 0,
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX quotes_account ON quotes (account_id, updated_at, id);
CREATE INDEX quotes_status ON quotes (status, updated_at, id);
CREATE INDEX quotes_rep ON quotes (owner_rep_id, status);
CREATE INDEX quotes_order ON quotes (order_id);

-- Lines per revision: a revision's lines never change once it is sent.
CREATE TABLE quote_lines (
    quote_id     TEXT NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
    revision     BIGINT NOT NULL,
    line_no      BIGINT NOT NULL,
    product_id   TEXT NOT NULL REFERENCES products (id),
    sku          TEXT NOT NULL,
    name         TEXT NOT NULL,
    uom          TEXT NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    -- What the buyer asked to pay (per unit), if they said.
    target_price BIGINT CHECK (target_price >= 0),
    -- The seller's quoted unit price.
    unit_price   BIGINT NOT NULL CHECK (unit_price >= 0),
    -- The account's normal unit price at this quantity, and the product's cost, when priced.
    normal_price BIGINT,
    cost         BIGINT,
    line_total   BIGINT NOT NULL,
    accepted     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (quote_id, revision, line_no)
);

CREATE TABLE quote_messages (
    id             TEXT PRIMARY KEY,
    quote_id       TEXT NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
    author_user_id TEXT NOT NULL,
    author_name    TEXT NOT NULL,
    -- Written by the seller's staff (otherwise by the customer).
    seller         BOOLEAN NOT NULL,
    body           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX quote_messages_quote ON quote_messages (quote_id, created_at, id);

-- What a unit costs the seller (margin on quotes); unknown when NULL.
ALTER TABLE products ADD COLUMN cost BIGINT CHECK (cost >= 0);

INSERT INTO counters (name, value) VALUES ('quote', 100000);
