-- Work queues (the desk and the rep's home) and the staff order list's sorts.
-- Keep in lock-step with the other tree's 0023_work_queues.sql.

-- Orders in progress that may need someone, oldest first. The predicate is the queue query's
-- static part (store::queues::ATTENTION, repeated there word for word so both planners can
-- prove the index applies); time-bound reasons (approval waiting too long, a recent amendment)
-- filter these few rows further. Finished orders leave the index, so it stays small.
CREATE INDEX orders_attention ON orders (placed_at, id)
 WHERE status IN ('escalated', 'pending_approval', 'on_hold')
    OR (backordered AND status IN ('placed', 'confirmed', 'partially_shipped'))
    OR (revision > 1 AND status IN ('placed', 'confirmed', 'partially_shipped'));

-- The staff order list sorted by status or by total (ties newest first, by key).
CREATE INDEX orders_status_placed ON orders (status, placed_at, id);
CREATE INDEX orders_subtotal ON orders (subtotal, placed_at, id);

-- The API's order feed narrowed to one status (`GET /api/v1/orders?status=on_hold`), by change.
CREATE INDEX orders_status_updated ON orders (status, updated_at, id);
