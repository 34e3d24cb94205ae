-- The catalog: villages' public profile, categories, products, and a version number that every
-- catalog change bumps so that each process can drop its cached pages within a second.
ALTER TABLE villages
  ADD COLUMN name_en VARCHAR(100) NOT NULL DEFAULT '' AFTER name,
  ADD COLUMN contact VARCHAR(200) NOT NULL DEFAULT '' AFTER description;

CREATE TABLE categories (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(32) NOT NULL,
  name VARCHAR(50) NOT NULL,
  name_en VARCHAR(50) NOT NULL,
  sort_order INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_categories_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO categories (code, name, name_en, sort_order) VALUES
  ('tea', '茶叶', 'Tea', 10),
  ('seafood', '海味干货', 'Dried seafood', 20),
  ('snacks', '花生与小吃', 'Peanuts and snacks', 30),
  ('preserved-fruit', '蜜饯果脯', 'Preserved fruit', 40),
  ('handicrafts', '手工艺品', 'Handicrafts', 50),
  ('red-culture', '红色文创', 'Red-culture souvenirs', 60),
  ('gift-boxes', '礼盒', 'Gift boxes', 70);

CREATE TABLE products (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku VARCHAR(32) NOT NULL,
  barcode CHAR(13) NULL,
  name VARCHAR(100) NOT NULL,
  name_en VARCHAR(100) NOT NULL DEFAULT '',
  description TEXT NOT NULL,
  origin TEXT NOT NULL,
  village_id BIGINT NOT NULL,
  category_id BIGINT NOT NULL,
  unit ENUM('piece', 'g') NOT NULL,
  price_fen BIGINT NOT NULL,
  commission_bps INT NULL,
  shelf_life_days INT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  online BOOLEAN NOT NULL DEFAULT TRUE,
  featured BOOLEAN NOT NULL DEFAULT FALSE,
  image_path VARCHAR(200) NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_products_sku (sku),
  UNIQUE KEY uq_products_barcode (barcode),
  KEY ix_products_village (village_id),
  KEY ix_products_category (category_id),
  CONSTRAINT fk_products_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id),
  CONSTRAINT ck_products_price CHECK (price_fen BETWEEN 1 AND 10000000),
  CONSTRAINT ck_products_commission CHECK (commission_bps IS NULL OR commission_bps BETWEEN 0 AND 10000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE catalog_state (
  id TINYINT NOT NULL PRIMARY KEY,
  version BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO catalog_state (id, version) VALUES (1, 1);
