-- When the provider was last asked about an unpaid order's trade on a customer's or the staff's
-- request (issue 9: query when the notification is late): at most one question every few
-- seconds per order, claimed by a conditional update so that several processes share it.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS payment_checked_at DATETIME(6) NULL;

-- A trade closed at the provider is marked closed; one still `started` on an expired or cancelled
-- order was never confirmed either way (the provider did not answer, or its close failed) and is
-- asked about again by the sweep until it is (paid late, or closed).
CREATE INDEX IF NOT EXISTS ix_order_payments_state ON order_payments (state, order_id);
