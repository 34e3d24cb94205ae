-- Online orders (issue 9): the order and its lines (each freezing its village split as a counter
-- sale line does), its state history, the payments asked of WeChat Pay and Alipay, every payment
-- notification received (accepted or not), and refunds. Stock is reserved at checkout
-- (stock_levels.reserved with reserve moves, document_kind 'order') and sold when the goods leave
-- (handover or shipping), from the lots that expire first.
CREATE TABLE IF NOT EXISTS orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(32) NULL,            -- W<business day>-<id>, set in the checkout transaction
  token_hash BINARY(32) NOT NULL,     -- SHA-256 of the customer's tracking token (128 random bits)
  state ENUM('pending_payment', 'confirmed', 'paid', 'picking', 'ready', 'shipped', 'completed',
             'cancelled', 'expired', 'refunded') NOT NULL,
  fulfilment ENUM('pickup', 'delivery') NOT NULL,
  payment_method ENUM('wechat', 'alipay', 'cash_on_pickup') NOT NULL,
  contact_name VARCHAR(50) NOT NULL,
  contact_phone CHAR(11) NOT NULL,
  address_area VARCHAR(50) NULL,
  address_detail VARCHAR(200) NULL,
  note VARCHAR(200) NOT NULL DEFAULT '',
  business_day DATE NOT NULL,
  subtotal_fen BIGINT NOT NULL,
  delivery_fee_fen BIGINT NOT NULL,
  total_fen BIGINT NOT NULL,
  paid_fen BIGINT NOT NULL DEFAULT 0,
  refunded_fen BIGINT NOT NULL DEFAULT 0,
  pickup_code CHAR(6) NOT NULL,       -- checked at handover
  carrier VARCHAR(50) NULL,
  waybill VARCHAR(50) NULL,
  expires_at DATETIME(6) NULL,        -- unpaid (online) or uncollected (cash on pickup) by then
  attention VARCHAR(200) NULL,        -- for the staff: e.g. a payment that came after expiry
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_orders_number (number),
  KEY ix_orders_state (state, id),
  KEY ix_orders_expiry (state, expires_at),
  CONSTRAINT ck_orders_amounts CHECK (subtotal_fen >= 0 AND delivery_fee_fen >= 0
                                      AND total_fen = subtotal_fen + delivery_fee_fen
                                      AND paid_fen >= 0 AND refunded_fen BETWEEN 0 AND paid_fen)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  product_id BIGINT NOT NULL,
  village_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  unit ENUM('piece', 'g') NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price_fen BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  commission_bps INT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  UNIQUE KEY uq_order_lines_no (order_id, line_no),
  KEY ix_order_lines_product (product_id),
  KEY ix_order_lines_village (village_id, order_id),
  CONSTRAINT fk_order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_order_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_order_lines_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT ck_order_lines_split CHECK (fee_fen + share_fen = gross_fen AND gross_fen >= 0),
  CONSTRAINT ck_order_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which lots the goods came from, written when they leave (handover or shipping).
CREATE TABLE IF NOT EXISTS order_line_lots (
  order_line_id BIGINT NOT NULL,
  lot_id BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (order_line_id, lot_id),
  CONSTRAINT fk_order_line_lots_line FOREIGN KEY (order_line_id) REFERENCES order_lines (id),
  CONSTRAINT fk_order_line_lots_lot FOREIGN KEY (lot_id) REFERENCES stock_lots (id),
  CONSTRAINT ck_order_line_lots_quantity CHECK (quantity > 0)
) ENGINE=InnoDB;

-- The order's history: every state it entered, when, and who moved it (NULL: the customer, a
-- provider's notification or the expiry sweep, named in `by_kind`).
CREATE TABLE IF NOT EXISTS order_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  state VARCHAR(20) NOT NULL,
  by_kind ENUM('customer', 'staff', 'provider', 'sweep') NOT NULL,
  by_user BIGINT NULL,
  note VARCHAR(200) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_order_events_order (order_id, id),
  CONSTRAINT fk_order_events_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A payment asked of a provider for an order (one per order and channel, and the out_trade_no is
-- the order number, so a retry never makes a second charge).
CREATE TABLE IF NOT EXISTS order_payments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  provider ENUM('wechat', 'alipay') NOT NULL,
  channel VARCHAR(20) NOT NULL,
  out_trade_no VARCHAR(32) NOT NULL,
  amount_fen BIGINT NOT NULL,
  state ENUM('started', 'paid', 'closed', 'refunded') NOT NULL DEFAULT 'started',
  transaction_id VARCHAR(64) NULL,
  qr_content VARCHAR(500) NULL,
  redirect_url VARCHAR(2000) NULL,
  jsapi TEXT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  paid_at DATETIME(6) NULL,
  UNIQUE KEY uq_order_payments_channel (order_id, channel),
  KEY ix_order_payments_trade (provider, out_trade_no),
  CONSTRAINT fk_order_payments_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every payment notification that reached us, whatever became of it: the audit trail of the
-- providers' side. `verdict`: accepted (the order is paid), duplicate (already recorded),
-- rejected (failed verification: nothing changed), mismatch (verified, but the amount or
-- merchant is not the order's: recorded and flagged, never paid), late (came after expiry).
CREATE TABLE IF NOT EXISTS payment_notifications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  provider ENUM('wechat', 'alipay') NOT NULL,
  verdict ENUM('accepted', 'duplicate', 'rejected', 'mismatch', 'late', 'ignored') NOT NULL,
  out_trade_no VARCHAR(64) NULL,
  transaction_id VARCHAR(64) NULL,
  amount_fen BIGINT NULL,
  reason VARCHAR(300) NOT NULL DEFAULT '',
  received_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_payment_notifications_trade (out_trade_no),
  KEY ix_payment_notifications_time (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Delivery fees are the station's income.
INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en) VALUES
  ('delivery_income', 'income', '配送费收入', 'Delivery fee income');
