-- When the provider was last asked about an unpaid order's trade on a customer's or the staff's
-- request (issue 9: query when the notification is late): at most one question every few
-- seconds per order, claimed by a conditional update so that several processes share it.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS payment_checked_at DATETIME(6) NULL;
