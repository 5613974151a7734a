-- The outbox's `delivered_at` was never set: delivery is per endpoint and per recipient
-- (webhook_deliveries, mails), and `dispatched_at` says whether the worker has fanned an event out.
-- Its partial index therefore held every event, and every change that wrote an event (each order
-- placed, each stock change) paid one more index insert for nothing. The column stays, unused.
DROP INDEX outbox_pending;
