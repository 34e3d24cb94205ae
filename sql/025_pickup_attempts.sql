-- Wrong pickup codes tried for an order's handover: after 5 in a row the handover is locked for
-- 15 minutes, so that a million codes cannot be tried from a signed-in till (probe P7).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS pickup_failures INT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS pickup_locked_until DATETIME(6) NULL;
