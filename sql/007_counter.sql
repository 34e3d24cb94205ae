-- The counter and the money ledger: registers (tills), shifts, sales with their lines, lots and
-- tenders, refunds, held carts (挂单), and the double-entry journal every money movement posts to.

-- A till: its own cash drawer, receipt printer and a per-day sale sequence (readable numbers
-- without a station-wide counter row: only this register's sales touch it).
CREATE TABLE registers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(32) NOT NULL,
  printer_host VARCHAR(100) NULL,
  printer_port INT NULL,
  receipt_columns INT NOT NULL DEFAULT 32,
  sale_day DATE NULL,
  sale_seq INT NOT NULL DEFAULT 0,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  UNIQUE KEY uq_registers_name (name),
  CONSTRAINT ck_registers_columns CHECK (receipt_columns BETWEEN 24 AND 64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO registers (name, receipt_columns) VALUES ('柜台1', 32), ('柜台2', 48);

CREATE TABLE shifts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  register_id BIGINT NOT NULL,
  cashier_id BIGINT NOT NULL,
  state ENUM('open', 'closed') NOT NULL DEFAULT 'open',
  float_fen BIGINT NOT NULL,
  opened_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  closed_at DATETIME(6) NULL,
  expected_cash_fen BIGINT NULL,
  counted_cash_fen BIGINT NULL,
  -- One open shift per register and per cashier: the unique keys see only open shifts.
  open_register_id BIGINT AS (IF(state = 'open', register_id, NULL)) PERSISTENT,
  open_cashier_id BIGINT AS (IF(state = 'open', cashier_id, NULL)) PERSISTENT,
  UNIQUE KEY uq_shifts_open_register (open_register_id),
  UNIQUE KEY uq_shifts_open_cashier (open_cashier_id),
  KEY ix_shifts_cashier (cashier_id, opened_at),
  KEY ix_shifts_register (register_id, opened_at),
  CONSTRAINT fk_shifts_register FOREIGN KEY (register_id) REFERENCES registers (id),
  CONSTRAINT fk_shifts_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT ck_shifts_float CHECK (float_fen BETWEEN 0 AND 100000000)
) ENGINE=InnoDB;

-- Cash put into (positive) or taken out of (negative) a drawer during a shift, with a reason.
CREATE TABLE cash_movements (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  shift_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  reason VARCHAR(200) NOT NULL,
  created_by BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_cash_movements_shift (shift_id),
  CONSTRAINT fk_cash_movements_shift FOREIGN KEY (shift_id) REFERENCES shifts (id),
  CONSTRAINT ck_cash_movements_amount CHECK (amount_fen <> 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sales (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(32) NOT NULL,
  shift_id BIGINT NOT NULL,
  register_id BIGINT NOT NULL,
  cashier_id BIGINT NOT NULL,
  business_day DATE NOT NULL,
  subtotal_fen BIGINT NOT NULL,      -- list price × quantity, before any discount
  discount_fen BIGINT NOT NULL,      -- line + sale discounts + rounding (抹零), all lines
  rounding_fen BIGINT NOT NULL,      -- of which 抹零
  total_fen BIGINT NOT NULL,         -- what the customer pays = sum of lines' gross
  change_fen BIGINT NOT NULL,
  offline BOOLEAN NOT NULL DEFAULT FALSE,
  rung_at DATETIME(6) NULL,          -- when an offline till rang it up
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_sales_number (number),
  KEY ix_sales_shift (shift_id),
  KEY ix_sales_day (business_day, id),
  KEY ix_sales_cashier (cashier_id, business_day),
  CONSTRAINT fk_sales_shift FOREIGN KEY (shift_id) REFERENCES shifts (id),
  CONSTRAINT fk_sales_register FOREIGN KEY (register_id) REFERENCES registers (id),
  CONSTRAINT fk_sales_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT ck_sales_amounts CHECK (total_fen >= 0 AND change_fen >= 0 AND discount_fen >= 0
                                     AND total_fen = subtotal_fen - discount_fen)
) ENGINE=InnoDB;

-- A line freezes, at the moment of sale, its village, price, discounts, the commission rate in
-- force and the split of its gross: fee_fen + share_fen = gross_fen.
CREATE TABLE sale_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sale_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  product_id BIGINT NOT NULL,
  village_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  unit ENUM('piece', 'g') NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price_fen BIGINT NOT NULL,
  list_fen BIGINT NOT NULL,
  line_discount_fen BIGINT NOT NULL,
  sale_discount_fen BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  commission_bps INT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  refunded_quantity BIGINT NOT NULL DEFAULT 0,
  code VARCHAR(32) NULL,             -- the scanned code (EAN-13 or scale label), if any
  UNIQUE KEY uq_sale_lines_no (sale_id, line_no),
  KEY ix_sale_lines_product (product_id),
  KEY ix_sale_lines_village (village_id, sale_id),
  CONSTRAINT fk_sale_lines_sale FOREIGN KEY (sale_id) REFERENCES sales (id),
  CONSTRAINT fk_sale_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_sale_lines_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT ck_sale_lines_split CHECK (fee_fen + share_fen = gross_fen),
  CONSTRAINT ck_sale_lines_gross CHECK (gross_fen = list_fen - line_discount_fen - sale_discount_fen
                                        AND gross_fen >= 0),
  CONSTRAINT ck_sale_lines_quantity CHECK (quantity > 0),
  CONSTRAINT ck_sale_lines_refunded CHECK (refunded_quantity BETWEEN 0 AND quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which lots a line took (FEFO).
CREATE TABLE sale_line_lots (
  sale_line_id BIGINT NOT NULL,
  lot_id BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (sale_line_id, lot_id),
  CONSTRAINT fk_sale_line_lots_line FOREIGN KEY (sale_line_id) REFERENCES sale_lines (id),
  CONSTRAINT fk_sale_line_lots_lot FOREIGN KEY (lot_id) REFERENCES stock_lots (id),
  CONSTRAINT ck_sale_line_lots_quantity CHECK (quantity > 0)
) ENGINE=InnoDB;

-- How a sale was paid. amount_fen is what the tender pays of the total (cash: tendered − change).
CREATE TABLE sale_tenders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sale_id BIGINT NOT NULL,
  method ENUM('cash', 'wechat', 'alipay', 'card', 'other', 'wechat_code', 'alipay_code') NOT NULL,
  amount_fen BIGINT NOT NULL,
  tendered_fen BIGINT NULL,
  reference VARCHAR(100) NOT NULL DEFAULT '',
  KEY ix_sale_tenders_sale (sale_id),
  CONSTRAINT fk_sale_tenders_sale FOREIGN KEY (sale_id) REFERENCES sales (id),
  CONSTRAINT ck_sale_tenders_amount CHECK (amount_fen >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refunds (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sale_id BIGINT NOT NULL,
  shift_id BIGINT NULL,
  cashier_id BIGINT NOT NULL,
  method ENUM('cash', 'wechat', 'alipay', 'card', 'other', 'wechat_code', 'alipay_code') NOT NULL,
  total_fen BIGINT NOT NULL,
  business_day DATE NOT NULL,
  reason VARCHAR(200) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_refunds_sale (sale_id),
  KEY ix_refunds_shift (shift_id),
  KEY ix_refunds_day (business_day, id),
  CONSTRAINT fk_refunds_sale FOREIGN KEY (sale_id) REFERENCES sales (id),
  CONSTRAINT fk_refunds_shift FOREIGN KEY (shift_id) REFERENCES shifts (id),
  CONSTRAINT fk_refunds_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT ck_refunds_total CHECK (total_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each refund line reverses exactly gross, fee and share of what it returns.
CREATE TABLE refund_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  refund_id BIGINT NOT NULL,
  sale_line_id BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  restock BOOLEAN NOT NULL,
  KEY ix_refund_lines_refund (refund_id),
  KEY ix_refund_lines_sale_line (sale_line_id),
  CONSTRAINT fk_refund_lines_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT fk_refund_lines_sale_line FOREIGN KEY (sale_line_id) REFERENCES sale_lines (id),
  CONSTRAINT ck_refund_lines_split CHECK (fee_fen + share_fen = gross_fen AND gross_fen >= 0),
  CONSTRAINT ck_refund_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB;

-- 挂单: a cart put aside at a register and resumed later.
CREATE TABLE held_carts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  register_id BIGINT NOT NULL,
  cashier_id BIGINT NOT NULL,
  label VARCHAR(100) NOT NULL DEFAULT '',
  cart LONGTEXT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_held_carts_register (register_id, created_at),
  CONSTRAINT fk_held_carts_register FOREIGN KEY (register_id) REFERENCES registers (id),
  CONSTRAINT fk_held_carts_cashier FOREIGN KEY (cashier_id) REFERENCES users (id),
  CONSTRAINT ck_held_carts_json CHECK (JSON_VALID(cart))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The chart of accounts. Debits are positive, credits negative; an account's balance is the sum
-- of its postings (no running-balance row). Codes: cash_drawer:<register>, tender_clearing:<method>,
-- village_payable:<village>, commission_income, cash_over_short, station_cash.
CREATE TABLE ledger_accounts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(64) NOT NULL,
  kind ENUM('asset', 'liability', 'income', 'expense', 'equity') NOT NULL,
  name VARCHAR(100) NOT NULL,
  name_en VARCHAR(100) NOT NULL,
  village_id BIGINT NULL,
  register_id BIGINT NULL,
  UNIQUE KEY uq_ledger_accounts_code (code),
  KEY ix_ledger_accounts_village (village_id),
  CONSTRAINT fk_ledger_accounts_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_ledger_accounts_register FOREIGN KEY (register_id) REFERENCES registers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO ledger_accounts (code, kind, name, name_en) VALUES
  ('commission_income', 'income', '佣金收入', 'Commission income'),
  ('cash_over_short', 'expense', '现金长短款', 'Cash over/short'),
  ('station_cash', 'asset', '驿站备用金', 'Station cash (safe)'),
  ('tender_clearing:wechat', 'asset', '微信待清算', 'WeChat Pay clearing'),
  ('tender_clearing:alipay', 'asset', '支付宝待清算', 'Alipay clearing'),
  ('tender_clearing:card', 'asset', '银行卡待清算', 'Card clearing'),
  ('tender_clearing:other', 'asset', '其他收款待清算', 'Other tender clearing'),
  ('tender_clearing:wechat_code', 'asset', '微信付款码待清算', 'WeChat code clearing'),
  ('tender_clearing:alipay_code', 'asset', '支付宝付款码待清算', 'Alipay code clearing');
INSERT INTO ledger_accounts (code, kind, name, name_en, register_id)
  SELECT CONCAT('cash_drawer:', id), 'asset', CONCAT(name, '钱箱'), CONCAT('Cash drawer ', id), id
  FROM registers;
INSERT INTO ledger_accounts (code, kind, name, name_en, village_id)
  SELECT CONCAT('village_payable:', id), 'liability', CONCAT('应付', name), CONCAT('Payable to ', code), id
  FROM villages;

CREATE TABLE journal_entries (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind ENUM('sale', 'refund', 'cash_movement', 'shift_open', 'shift_close', 'order_payment',
            'order_refund', 'adjustment', 'payout') NOT NULL,
  document_id BIGINT NOT NULL,
  business_day DATE NOT NULL,
  memo VARCHAR(200) NOT NULL DEFAULT '',
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_journal_entries_document (kind, document_id),
  KEY ix_journal_entries_day (business_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE postings (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  entry_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  KEY ix_postings_entry (entry_id),
  KEY ix_postings_account (account_id, entry_id),
  CONSTRAINT fk_postings_entry FOREIGN KEY (entry_id) REFERENCES journal_entries (id),
  CONSTRAINT fk_postings_account FOREIGN KEY (account_id) REFERENCES ledger_accounts (id),
  CONSTRAINT ck_postings_amount CHECK (amount_fen <> 0)
) ENGINE=InnoDB;
