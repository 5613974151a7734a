-- Routing (issue 14 §3): which customer orders go to the owning rep first. Rep-led accounts send
-- every portal and API order; hybrid accounts those these seller-wide rules catch; self-service
-- accounts none. Keep in lock-step with migrations/sqlite/0024_routing.sql.

-- kind 'order_total': orders above `amount`; 'line_quantity': a line above `quantity` units;
-- 'consult_product': a line of a product flagged "consult a specialist"; 'first_orders': the
-- account's first `quantity` orders; 'has_notes': orders with delivery notes for the seller.
CREATE TABLE routing_rules (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('order_total', 'line_quantity', 'consult_product', 'first_orders', 'has_notes')),
    amount     BIGINT CHECK (amount >= 0),
    quantity   BIGINT CHECK (quantity >= 0),
    created_at BIGINT NOT NULL,
    CHECK ((kind = 'order_total') = (amount IS NOT NULL)),
    CHECK ((kind IN ('line_quantity', 'first_orders')) = (quantity IS NOT NULL))
);

-- Products a specialist should look at before they are sold (hybrid accounts' orders go to the rep).
ALTER TABLE products ADD COLUMN consult_specialist BOOLEAN NOT NULL DEFAULT FALSE;
