-- Commission on the paid basis (issue 18 item 6): a plan on the `paid` basis earns as its
-- invoices are paid. When such an invoice is issued nothing accrues, but the plan's rate, rule
-- and category for each of its lines are kept per rep (`commission_paid_terms`), so every later
-- payment, reversal or credit note earns at the rate that applied on the invoice's day, whatever
-- becomes of the plan. Each of those events writes, per rep and line, the difference between
-- what is earned so far (the commission on what remains invoiced × the part of it paid) and
-- what the rep's lines already add up to (rules: domain::commissions::paid_target).
CREATE TABLE commission_paid_terms (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    rep_id     TEXT NOT NULL REFERENCES users (id),
    line_no    BIGINT NOT NULL,
    plan_id    TEXT NOT NULL REFERENCES commission_plans (id),
    category   TEXT NOT NULL DEFAULT '',
    rate_ppm   BIGINT NOT NULL,
    rule       TEXT NOT NULL,
    PRIMARY KEY (invoice_id, rep_id, line_no)
) WITHOUT ROWID;

-- The payment whose application (or its reversal) wrote an entry; NULL for an invoice's own
-- entry, a credit note's, or one written when a credit note was applied or taken off.
ALTER TABLE commission_entries ADD COLUMN payment_id TEXT REFERENCES payments (id);
-- What a paid-basis invoice's lines have earned so far is read by invoice and by credited invoice.
CREATE INDEX commission_entries_credited ON commission_entries (credited_invoice_id) WHERE credited_invoice_id IS NOT NULL;

-- The view names the payment; a negative line (a payment taken back) is a clawback too.
DROP VIEW commission_accruals;
CREATE VIEW commission_accruals AS
SELECT e.id || '.' || printf('%06d', l.line_no) AS id,
       e.rep_id, e.period,
       CASE WHEN e.credited_invoice_id IS NULL AND l.amount >= 0 THEN 'accrual' ELSE 'clawback' END AS kind,
       e.plan_id, e.invoice_id, i.number AS invoice_number, l.line_no AS invoice_line_no, e.credited_invoice_id,
       i.order_id, o.number AS order_number, i.account_id, o.channel, COALESCE(il.sku, '') AS sku, l.category,
       l.base, l.rate_ppm, l.rule, l.amount, i.issued_on, e.created_at, e.payment_id, p.number AS payment_number
FROM commission_entries e
JOIN commission_entry_lines l ON l.entry_id = e.id
JOIN invoices i ON i.id = e.invoice_id
JOIN orders o ON o.id = i.order_id
LEFT JOIN invoice_lines il ON il.invoice_id = COALESCE(e.credited_invoice_id, e.invoice_id) AND il.line_no = l.line_no
LEFT JOIN payments p ON p.id = e.payment_id;
