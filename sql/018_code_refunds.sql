-- Refunds of counter 付款码 payments back to the payer's WeChat or Alipay (issue 9). The provider
-- is asked outside any transaction, so each ask is recorded first (refunding), with the lines it
-- will give back, and the refund enters the books (refunds, stock, journal) only once the
-- provider accepted it. While one is refunding, no other refund of that sale is taken.
CREATE TABLE IF NOT EXISTS code_refunds (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  -- Derived from the refund's Idempotency-Key and attempt: a retry asks about the same refund.
  out_refund_no VARCHAR(32) NOT NULL,
  key_hash BINARY(32) NOT NULL,        -- idempotency_keys.key_hash of the refund request
  attempt INT NOT NULL,                -- a new attempt only after the provider refused the last
  sale_id BIGINT NOT NULL,
  code_payment_id BIGINT NOT NULL,     -- the charge it gives money back from
  provider ENUM('wechat', 'alipay') NOT NULL,
  cashier_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  reason VARCHAR(200) NOT NULL DEFAULT '',
  -- refunding: asked (or about to be), not in the books; refunded: accepted and booked as
  -- refunds.id = refund_id; failed: the provider refused it, nothing moved.
  state ENUM('refunding', 'refunded', 'failed') NOT NULL DEFAULT 'refunding',
  -- The provider's word: PROCESSING until it says SUCCESS (or ABNORMAL / CLOSED: staff act).
  provider_state VARCHAR(32) NOT NULL DEFAULT '',
  provider_refund_id VARCHAR(64) NULL,
  provider_code VARCHAR(64) NOT NULL DEFAULT '',
  refund_id BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_code_refunds_no (out_refund_no),
  UNIQUE KEY uq_code_refunds_attempt (key_hash, attempt),
  KEY ix_code_refunds_sale (sale_id, state),
  KEY ix_code_refunds_charge (code_payment_id, state),
  KEY ix_code_refunds_open (state, updated_at),
  CONSTRAINT fk_code_refunds_sale FOREIGN KEY (sale_id) REFERENCES sales (id),
  CONSTRAINT fk_code_refunds_charge FOREIGN KEY (code_payment_id) REFERENCES code_payments (id),
  CONSTRAINT fk_code_refunds_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT fk_code_refunds_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT ck_code_refunds_amount CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What an ask gives back, worked out when it was recorded: booked as these refund lines.
CREATE TABLE IF NOT EXISTS code_refund_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code_refund_id BIGINT NOT NULL,
  sale_line_id BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  restock BOOLEAN NOT NULL,
  KEY ix_code_refund_lines_refund (code_refund_id),
  CONSTRAINT fk_code_refund_lines_refund FOREIGN KEY (code_refund_id) REFERENCES code_refunds (id),
  CONSTRAINT fk_code_refund_lines_sale_line FOREIGN KEY (sale_line_id) REFERENCES sale_lines (id),
  CONSTRAINT ck_code_refund_lines_split CHECK (fee_fen + share_fen = gross_fen AND gross_fen >= 0),
  CONSTRAINT ck_code_refund_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB;
