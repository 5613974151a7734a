-- The hand-over split (issue 18 item 5): when an account changes owner, its previous rep keeps a
-- share of the orders placed during a hand-over period (settings commissions.handover_days and
-- commissions.handover_share, the share in ppm). The account remembers the change with the terms
-- in force then — so a later change of the setting does not re-split it — and an order placed
-- before handover_until copies the previous rep and share, as it copies owner_rep_id. Rules:
-- domain::commissions (handover_after_owner_change, order_handover, split).

-- The previous owner, until when (unix seconds) and with what share (ppm); all NULL: none.
ALTER TABLE accounts ADD COLUMN handover_rep_id TEXT REFERENCES users (id);
ALTER TABLE accounts ADD COLUMN handover_until BIGINT;
ALTER TABLE accounts ADD COLUMN handover_share_ppm BIGINT;

-- The previous rep who shares this order's commission, and their share (ppm); NULL and 0: none.
ALTER TABLE orders ADD COLUMN handover_rep_id TEXT REFERENCES users (id);
ALTER TABLE orders ADD COLUMN handover_share_ppm BIGINT NOT NULL DEFAULT 0;
