-- Limits on anonymous cash-on-pickup orders (probe 2, P1): they reserve goods for days without
-- any payment, so the open ones are counted per mobile number and per client address.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS client_address VARCHAR(64) NOT NULL DEFAULT ''
  AFTER contact_phone;
CREATE INDEX IF NOT EXISTS ix_orders_phone_open ON orders (contact_phone, payment_method, state);
CREATE INDEX IF NOT EXISTS ix_orders_client_open ON orders (client_address, payment_method, state);

-- One row per mobile number or client address that placed a cash-on-pickup order. Checkout
-- locks it before counting, so that parallel checkouts of one number are counted one after
-- the other (under READ COMMITTED a count alone would let them all through).
CREATE TABLE IF NOT EXISTS checkout_guards (
  guard VARCHAR(80) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
