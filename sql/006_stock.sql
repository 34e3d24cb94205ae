-- Stock: levels per product (on hand, reserved), lots with expiry, the documents that move goods
-- (receipts from villages, counts, write-offs, returns to villages, shortfalls found by offline
-- sales) and the append-only stock ledger. on_hand = the sum of a product's on-hand moves;
-- reserved = the sum of its reserve and release moves; on_hand = the sum of its lots' remaining.
ALTER TABLE products
  ADD COLUMN plu INT NULL AFTER barcode,
  ADD COLUMN low_stock BIGINT NULL AFTER shelf_life_days,
  ADD UNIQUE KEY uq_products_plu (plu),
  ADD CONSTRAINT ck_products_plu CHECK (plu IS NULL OR plu BETWEEN 0 AND 99999),
  ADD CONSTRAINT ck_products_low_stock CHECK (low_stock IS NULL OR low_stock >= 0);

-- One row per product, created with the product; the only rows a sale contends on.
CREATE TABLE stock_levels (
  product_id BIGINT NOT NULL PRIMARY KEY,
  on_hand BIGINT NOT NULL DEFAULT 0,
  reserved BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  CONSTRAINT fk_stock_levels_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT ck_stock_levels_on_hand CHECK (on_hand >= 0),
  CONSTRAINT ck_stock_levels_reserved CHECK (reserved >= 0 AND reserved <= on_hand)
) ENGINE=InnoDB;

INSERT INTO stock_levels (product_id) SELECT id FROM products;

-- A document that moves goods other than a sale, refund or order: who, when, why.
CREATE TABLE stock_documents (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind ENUM('receipt', 'count', 'write_off', 'return', 'shortfall') NOT NULL,
  village_id BIGINT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  created_by BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_stock_documents_kind (kind, created_at),
  KEY ix_stock_documents_village (village_id, kind, created_at),
  CONSTRAINT fk_stock_documents_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_stock_documents_user FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A lot is what one receipt line brought in; `remaining` is what of it is still on the shelf.
CREATE TABLE stock_lots (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT NOT NULL,
  receipt_id BIGINT NULL,
  lot VARCHAR(64) NOT NULL,
  produced_on DATE NULL,
  expires_on DATE NULL,
  certificate VARCHAR(100) NOT NULL DEFAULT '',
  received BIGINT NOT NULL,
  remaining BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  -- FEFO: a product's lots in the order they are sold. `remaining` stays out of the key: a
  -- sale changes it, and an index entry that moves made sales of neighbouring products lock
  -- each other's entries and deadlock (found by tests/bench/pos_sale).
  KEY ix_stock_lots_fefo (product_id, expires_on),
  KEY ix_stock_lots_expiry (expires_on),
  CONSTRAINT fk_stock_lots_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_stock_lots_receipt FOREIGN KEY (receipt_id) REFERENCES stock_documents (id),
  CONSTRAINT ck_stock_lots_remaining CHECK (remaining >= 0),
  CONSTRAINT ck_stock_lots_received CHECK (received >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The lines of a count, write-off or return (receipt lines are its lots).
CREATE TABLE stock_document_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  document_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  lot_id BIGINT NULL,
  quantity BIGINT NOT NULL,
  expected BIGINT NULL,
  counted BIGINT NULL,
  reason ENUM('spoiled', 'damaged', 'sample', 'other') NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  KEY ix_stock_document_lines_document (document_id),
  KEY ix_stock_document_lines_product (product_id),
  CONSTRAINT fk_stock_document_lines_document FOREIGN KEY (document_id) REFERENCES stock_documents (id),
  CONSTRAINT fk_stock_document_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_stock_document_lines_lot FOREIGN KEY (lot_id) REFERENCES stock_lots (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The stock ledger: append-only (the serving account may insert, and store code never updates or
-- deletes). `quantity` is signed, in the product's base unit. reserve/release moves change
-- `reserved`; every other kind changes `on_hand`. `document_kind` + `document_id` name the
-- document: a stock_documents row, a sale, a refund or (issue 9) an order.
CREATE TABLE stock_moves (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT NOT NULL,
  lot_id BIGINT NULL,
  kind ENUM('receipt', 'sale', 'refund', 'return', 'adjustment', 'write_off', 'shortfall',
            'reserve', 'release') NOT NULL,
  quantity BIGINT NOT NULL,
  document_kind ENUM('stock', 'sale', 'refund', 'order') NOT NULL,
  document_id BIGINT NOT NULL,
  created_by BIGINT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_stock_moves_product (product_id, id),
  KEY ix_stock_moves_document (document_kind, document_id),
  CONSTRAINT fk_stock_moves_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_stock_moves_lot FOREIGN KEY (lot_id) REFERENCES stock_lots (id),
  CONSTRAINT ck_stock_moves_quantity CHECK (quantity <> 0)
) ENGINE=InnoDB;
