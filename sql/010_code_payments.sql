-- Counter 付款码 payments (issue 9): the cashier scans the customer's payment code and the
-- provider charges it before the sale is written. The charge happens outside any transaction,
-- so each one is recorded here first (state 'charging'), in its own small transaction: a crash
-- between charge and sale leaves a row that a retry or the sweep finds and completes or reverses.
-- Written to be re-runnable: every statement may run again after a crash part-way.
CREATE TABLE IF NOT EXISTS code_payments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  -- Derived from the sale's Idempotency-Key, tender index and attempt: a retry of the same sale
  -- asks the provider about the same payment instead of charging again.
  out_trade_no VARCHAR(32) NOT NULL,
  key_hash BINARY(32) NOT NULL,       -- idempotency_keys.key_hash of the sale
  tender_index INT NOT NULL,
  attempt INT NOT NULL,               -- a new attempt only after the last one moved no money
  provider ENUM('wechat', 'alipay') NOT NULL,
  cashier_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  code_masked VARCHAR(30) NOT NULL,   -- never the whole code
  -- charging: asked, outcome not known yet; paid: the provider took the money, no sale yet;
  -- sold: the sale is written; reversed: cancelled or given back; failed: declined, no money moved.
  state ENUM('charging', 'paid', 'sold', 'reversed', 'failed') NOT NULL DEFAULT 'charging',
  transaction_id VARCHAR(64) NULL,
  provider_code VARCHAR(64) NOT NULL DEFAULT '',
  sale_id BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_code_payments_trade (out_trade_no),
  UNIQUE KEY uq_code_payments_attempt (key_hash, tender_index, attempt),
  KEY ix_code_payments_open (state, updated_at),
  CONSTRAINT fk_code_payments_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT fk_code_payments_sale FOREIGN KEY (sale_id) REFERENCES sales (id),
  CONSTRAINT ck_code_payments_amount CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A sale that charges a code holds its Idempotency-Key across several transactions: the key's
-- row is committed with status 0 and a lease; a retry meanwhile waits, and one that comes after
-- the lease ran out (the first request died) takes the key over.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS lease_until DATETIME(6) NULL;
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS lease_holder CHAR(32) NULL;

-- The shift report finds cash-on-pickup orders paid into a drawer by entry kind and time.
CREATE INDEX IF NOT EXISTS ix_journal_entries_kind_time ON journal_entries (kind, created_at);
