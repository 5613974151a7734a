-- Throttling of sign-in, forgot-password and current-password checks (replaces login_failures).
--
-- An attempt is reserved before the password is checked: the unit of work locks the key's row in
-- throttle_keys (FOR UPDATE on PostgreSQL; SQLite's writer already serialises writes), counts the
-- key's attempts inside the window and records one more only if the limit is not reached, so
-- parallel guesses cannot all pass the count. A successful attempt deletes its reservation.
CREATE TABLE throttle_keys (
    key TEXT PRIMARY KEY
);

CREATE TABLE throttle_attempts (
    attempt_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (attempt_id, key)
);
CREATE INDEX throttle_attempts_key_at ON throttle_attempts (key, at);
CREATE INDEX throttle_attempts_at ON throttle_attempts (at);

DROP TABLE login_failures;

-- The outbox event that carries a link's raw token to the mailer; the token is removed from that
-- event's payload as soon as the link is used, voided or expired.
ALTER TABLE user_tokens ADD COLUMN outbox_id TEXT;
CREATE INDEX user_tokens_live_mail ON user_tokens (expires_at) WHERE outbox_id IS NOT NULL;
