-- Refunds owed to customers (应退未退). A counter refund to a 付款码 is booked when its provider
-- accepts it (PROCESSING); when the provider later ends it without paying (CLOSED, ABNORMAL) the
-- money is still with the provider and the customer is owed it: the refund stays booked (the
-- goods came back), a reversing entry puts the amount back on the provider's clearing account
-- and onto refunds_owed, and staff pay it back later from a drawer (refund_repayments).
INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en) VALUES
  ('refunds_owed', 'liability', '应退未退', 'Refunds owed to customers');

ALTER TABLE journal_entries
  MODIFY kind ENUM('sale', 'refund', 'cash_movement', 'shift_open', 'shift_close',
                   'order_payment', 'order_refund', 'adjustment', 'payout', 'refund_failed',
                   'refund_repaid') NOT NULL;

-- owed: booked, then ended by the provider without paying (refund_failed entry, document = the
-- refund); repaid: paid back since (refund_repayments). NULL: the provider paid, or still may.
ALTER TABLE code_refunds
  ADD COLUMN IF NOT EXISTS owed ENUM('owed', 'repaid') NULL AFTER refund_id,
  ADD COLUMN IF NOT EXISTS owed_at DATETIME(6) NULL AFTER owed;
CREATE INDEX IF NOT EXISTS ix_code_refunds_owed ON code_refunds (owed, owed_at);

-- A refund owed to a customer paid back, once (the unique key), from the drawer of the shift
-- that paid it (refund_repaid entry: refunds_owed → cash_drawer, document = this row).
CREATE TABLE IF NOT EXISTS refund_repayments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  refund_id BIGINT NOT NULL,
  shift_id BIGINT NOT NULL,
  cashier_id BIGINT NOT NULL,
  method ENUM('cash') NOT NULL,
  amount_fen BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_refund_repayments_refund (refund_id),
  KEY ix_refund_repayments_shift (shift_id),
  CONSTRAINT fk_refund_repayments_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT fk_refund_repayments_shift FOREIGN KEY (shift_id) REFERENCES shifts (id),
  CONSTRAINT fk_refund_repayments_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT ck_refund_repayments_amount CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Refunds ended unpaid before this migration were only in the audit log: they become owed now,
-- with their refund_failed entry dated the business day (Asia/Shanghai, UTC+8 all year) the
-- provider's answer was recorded. Each statement may run again (a migration resumed mid-way).
UPDATE code_refunds SET owed = 'owed', owed_at = updated_at
  WHERE state = 'refunded' AND owed IS NULL AND refund_id IS NOT NULL
    AND provider_state NOT IN ('', 'SUCCESS', 'PROCESSING');
INSERT INTO journal_entries (kind, document_id, business_day, memo)
  SELECT 'refund_failed', c.refund_id, DATE(c.owed_at + INTERVAL 8 HOUR),
         LEFT(CONCAT('付款码退款未退成 / code refund ended unpaid ', c.out_refund_no), 200)
  FROM code_refunds c
  WHERE c.owed = 'owed' AND NOT EXISTS (SELECT 1 FROM journal_entries e
                                        WHERE e.kind = 'refund_failed' AND e.document_id = c.refund_id);
INSERT INTO postings (entry_id, account_id, amount_fen)
  SELECT e.id, a.id, IF(a.code = 'refunds_owed', -c.amount_fen, c.amount_fen)
  FROM code_refunds c
  JOIN journal_entries e ON e.kind = 'refund_failed' AND e.document_id = c.refund_id
  JOIN ledger_accounts a ON a.code IN ('refunds_owed', CONCAT('tender_clearing:', c.provider, '_code'))
  WHERE c.owed = 'owed' AND NOT EXISTS (SELECT 1 FROM postings p WHERE p.entry_id = e.id);
