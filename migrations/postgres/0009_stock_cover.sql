-- Stock totals per product (catalog pages, quotes, placement) read only this index: the product's
-- rows in every warehouse without visiting the table. Keep in lock-step with migrations/sqlite/0009_stock_cover.sql.
CREATE INDEX stock_levels_cover ON stock_levels (product_id, on_hand, reserved, incoming, incoming_eta);
