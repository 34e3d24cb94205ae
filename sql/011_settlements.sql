-- Settlements and payouts (issue 10): a village's statement for a period of business days,
-- `draft` (its lines copied from the village's unsettled lines, which it does not hold), then
-- `confirmed` (frozen: its lines and totals never change again, and each line is settled), then
-- `paid` (one payout, posted against the village payable in the same transaction). Manual
-- adjustments (e.g. packaging charged back) are journal entries of their own that the next
-- statement picks up as lines.

CREATE TABLE IF NOT EXISTS village_adjustments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  village_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,        -- > 0: the station owes the village more; < 0: charged back
  reason VARCHAR(200) NOT NULL,
  business_day DATE NOT NULL,
  created_by BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_village_adjustments_village (village_id, business_day),
  CONSTRAINT fk_village_adjustments_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_village_adjustments_user FOREIGN KEY (created_by) REFERENCES users (id),
  CONSTRAINT ck_village_adjustments_amount CHECK (amount_fen <> 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The totals are the sums of the frozen lines by kind (yizhan check proves it): sales are sale and
-- order lines, refunds the (negative) refund lines, adjustments the adjustment lines; total_fen,
-- what the station owes the village for the period, is the sum of every line's share.
CREATE TABLE IF NOT EXISTS settlements (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  village_id BIGINT NOT NULL,
  period_from DATE NOT NULL,
  period_to DATE NOT NULL,
  state ENUM('draft', 'confirmed', 'paid') NOT NULL DEFAULT 'draft',
  line_count INT NOT NULL,
  sales_gross_fen BIGINT NOT NULL,
  sales_fee_fen BIGINT NOT NULL,
  sales_share_fen BIGINT NOT NULL,
  refund_gross_fen BIGINT NOT NULL,
  refund_fee_fen BIGINT NOT NULL,
  refund_share_fen BIGINT NOT NULL,
  adjustments_fen BIGINT NOT NULL,
  total_fen BIGINT NOT NULL,
  created_by BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  confirmed_by BIGINT NULL,
  confirmed_at DATETIME(6) NULL,
  KEY ix_settlements_village (village_id, period_to),
  KEY ix_settlements_state (state, id),
  CONSTRAINT fk_settlements_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_settlements_created_by FOREIGN KEY (created_by) REFERENCES users (id),
  CONSTRAINT fk_settlements_confirmed_by FOREIGN KEY (confirmed_by) REFERENCES users (id),
  CONSTRAINT ck_settlements_period CHECK (period_from <= period_to),
  CONSTRAINT ck_settlements_total CHECK (total_fen = sales_share_fen + refund_share_fen
                                                     + adjustments_fen),
  CONSTRAINT ck_settlements_confirmed CHECK (state = 'draft' OR confirmed_at IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A statement line: a copy of the source line as it was frozen at sale, refund or adjustment
-- (refund lines negative). `settled` is 1 exactly when its settlement is confirmed (or paid); the
-- unique key sees only settled lines (NULLs never collide), so a line can be in any number of
-- drafts but in one confirmed settlement at most, whatever two confirmations race.
CREATE TABLE IF NOT EXISTS settlement_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  settlement_id BIGINT NOT NULL,
  line_kind ENUM('sale', 'refund', 'order', 'adjustment') NOT NULL,
  line_id BIGINT NOT NULL,           -- sale_lines.id, refund_lines.id, order_lines.id, village_adjustments.id
  business_day DATE NOT NULL,
  document VARCHAR(64) NOT NULL,     -- sale number, refund, order number, adjustment
  description VARCHAR(200) NOT NULL, -- product name or the adjustment's reason
  unit ENUM('piece', 'g') NULL,
  quantity BIGINT NOT NULL,          -- negative for refunds, 0 for adjustments
  gross_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  settled TINYINT NULL,
  UNIQUE KEY uq_settlement_lines_line (settlement_id, line_kind, line_id),
  UNIQUE KEY uq_settlement_lines_settled (line_kind, line_id, settled),
  CONSTRAINT fk_settlement_lines_settlement FOREIGN KEY (settlement_id) REFERENCES settlements (id),
  CONSTRAINT ck_settlement_lines_split CHECK (fee_fen + share_fen = gross_fen),
  CONSTRAINT ck_settlement_lines_settled CHECK (settled IS NULL OR settled = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One payout per settlement, of exactly its total.
CREATE TABLE IF NOT EXISTS settlement_payouts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  settlement_id BIGINT NOT NULL,
  village_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  method ENUM('bank', 'cash') NOT NULL,
  reference VARCHAR(100) NOT NULL DEFAULT '',
  paid_on DATE NOT NULL,
  created_by BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_settlement_payouts_settlement (settlement_id),
  KEY ix_settlement_payouts_village (village_id),
  CONSTRAINT fk_settlement_payouts_settlement FOREIGN KEY (settlement_id) REFERENCES settlements (id),
  CONSTRAINT fk_settlement_payouts_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_settlement_payouts_user FOREIGN KEY (created_by) REFERENCES users (id),
  CONSTRAINT ck_settlement_payouts_amount CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Payouts leave from the station's bank account or its cash; adjustments are booked against
-- an account of their own (debit: the station pays more, credit: a charge recovered).
INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en) VALUES
  ('station_bank', 'asset', '驿站银行存款', 'Station bank account'),
  ('village_adjustments', 'expense', '村集体结算调整', 'Village settlement adjustments');
