-- E-mail (issue 16 §3): the outbox worker turns events into mails, one per recipient, and sends
-- them at least once (SMTP, or the local mailbox when no SMTP server is set).
-- Keep in lock-step with migrations/sqlite/0028_mail.sql.

CREATE TABLE mails (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES outbox(id),
    -- invitation, password_reset, order_placed, approval_needed, quote_sent, shipped, invoice_issued, statement
    kind            TEXT NOT NULL,
    user_id         TEXT REFERENCES users(id),
    to_email        TEXT NOT NULL,
    to_name         TEXT NOT NULL DEFAULT '',
    -- kept: written to the local mailbox (no SMTP server is set); cancelled: nothing to send any more
    -- (a link mail whose link was used or replaced first, a recipient who opted out meanwhile).
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'kept', 'dead', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    due_ms          BIGINT NOT NULL,
    lease_until_ms  BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    last_error      TEXT,
    last_attempt_at BIGINT,
    -- What was sent (a one-time link shown only as where it led: the link itself went only to the user).
    subject         TEXT,
    text_body       TEXT,
    html_body       TEXT,
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (event_id, kind, to_email)
);
CREATE INDEX mails_due ON mails (due_ms) WHERE status = 'pending';
CREATE INDEX mails_newest ON mails (created_at, id);
CREATE INDEX mails_user ON mails (user_id);

-- The notifications a user turned off (space-separated mail kinds; invitations and password
-- resets cannot be turned off).
ALTER TABLE users ADD COLUMN mail_opt_outs TEXT NOT NULL DEFAULT '';
