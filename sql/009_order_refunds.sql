-- Refunds of online orders (issue 9): whole or partial, through the provider the order was paid
-- with or in cash at the counter. A provider refund is recorded `processing` before the provider
-- is asked (never inside a transaction) and finished by a conditional update, so a crash between
-- the steps neither loses nor doubles it: the sweep asks again with the same out_refund_no.
-- Stock and journal move only when the refund is certain (`succeeded`).

-- A payment that came after the order was given up and whose goods could not be reserved again:
-- the money is held for refund (account order_refunds_due), owed to no village.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS unsold_payment TINYINT(1) NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS order_refunds (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  seq INT NOT NULL,                   -- the order's n-th refund
  out_refund_no VARCHAR(64) NOT NULL, -- <order number>-R<seq>: a retry asks the provider again
  method ENUM('wechat', 'alipay', 'cash') NOT NULL,
  state ENUM('processing', 'succeeded', 'failed') NOT NULL,
  origin ENUM('staff', 'cancel', 'late_payment') NOT NULL,
  goods_fen BIGINT NOT NULL,
  delivery_fee_fen BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  unsold TINYINT(1) NOT NULL DEFAULT 0,  -- pays back an unsold payment (no goods, no village)
  reason VARCHAR(200) NOT NULL DEFAULT '',
  shift_id BIGINT NULL,               -- cash: the shift whose drawer paid it
  register_id BIGINT NULL,
  created_by BIGINT NULL,             -- NULL: the server (a late payment sent back)
  provider_refund_id VARCHAR(64) NULL,
  provider_state VARCHAR(64) NULL,
  failure VARCHAR(300) NULL,
  attempts INT NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  finished_at DATETIME(6) NULL,
  UNIQUE KEY uq_order_refunds_no (out_refund_no),
  UNIQUE KEY uq_order_refunds_seq (order_id, seq),
  KEY ix_order_refunds_state (state, updated_at),
  CONSTRAINT fk_order_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_order_refunds_shift FOREIGN KEY (shift_id) REFERENCES shifts (id),
  CONSTRAINT ck_order_refunds_amounts CHECK (goods_fen >= 0 AND delivery_fee_fen >= 0
                                             AND amount_fen > 0
                                             AND (unsold = 1
                                                  OR amount_fen = goods_fen + delivery_fee_fen))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The parts of the order's lines a refund gives back, each split as the line was (refund_part),
-- and what it does to the stock: `release` (not yet handed over: the reservation is given back),
-- `return` (handed over and brought back: into the line's lot), `none` (kept by the customer).
CREATE TABLE IF NOT EXISTS order_refund_lines (
  refund_id BIGINT NOT NULL,
  order_line_id BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  stock ENUM('release', 'return', 'none') NOT NULL,
  PRIMARY KEY (refund_id, order_line_id, stock),
  KEY ix_order_refund_lines_line (order_line_id),
  CONSTRAINT fk_order_refund_lines_refund FOREIGN KEY (refund_id) REFERENCES order_refunds (id),
  CONSTRAINT fk_order_refund_lines_line FOREIGN KEY (order_line_id) REFERENCES order_lines (id),
  CONSTRAINT ck_order_refund_lines_split CHECK (fee_fen + share_fen = gross_fen AND quantity > 0)
) ENGINE=InnoDB;

INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en) VALUES
  ('order_refunds_due', 'liability', '待退订单款', 'Order payments held for refund');
