-- How an application stopped applying (NULL while it applies): with its whole payment
-- ('reversal', a bounced check) or on its own ('unapplied': finance took it off its invoice, the
-- amount back on the payment or credit note). `reversed_at` is when, for both.
-- Keep in lock-step with migrations/postgres/0026_payment_unapply.sql.
ALTER TABLE payment_applications ADD COLUMN taken_off TEXT CHECK (taken_off IN ('reversal', 'unapplied'));
UPDATE payment_applications SET taken_off = 'reversal' WHERE reversed_at IS NOT NULL;
