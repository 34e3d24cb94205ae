-- Effective-dated commission terms (issue 10): a village's default rate and each product's
-- override are kept as a history of terms, each in force from a business day (Asia/Shanghai)
-- until a later term of the same scope. A sale line takes the rate in force on its business day
-- (looked up by date in the sale's product query), so a change dated tomorrow takes effect
-- tomorrow with no job running, and the lines already sold keep the rate they froze.
-- villages.commission_bps and products.commission_bps stay, as the rates stored before terms
-- were dated: the lookup falls back to them only where no term exists.
CREATE TABLE commission_terms (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  -- The village the term was set for (for a product: its village at the time).
  village_id BIGINT NOT NULL,
  -- NULL: the village's default rate; else that product's override.
  product_id BIGINT NULL,
  -- NULL only for a product: the override ends and the village's default applies again.
  bps INT NULL,
  effective_from DATE NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  created_by BIGINT NULL,
  created_by_name VARCHAR(64) NOT NULL DEFAULT '',
  note VARCHAR(500) NOT NULL DEFAULT '',
  -- The village default in force on a day: village_id, product_id IS NULL, effective_from <= day.
  KEY ix_commission_terms_village (village_id, product_id, effective_from, id),
  -- A product's override in force on a day.
  KEY ix_commission_terms_product (product_id, effective_from, id),
  CONSTRAINT fk_commission_terms_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT fk_commission_terms_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_commission_terms_user FOREIGN KEY (created_by) REFERENCES users (id),
  CONSTRAINT ck_commission_terms_bps CHECK (bps IS NULL OR bps BETWEEN 0 AND 10000),
  CONSTRAINT ck_commission_terms_default CHECK (product_id IS NOT NULL OR bps IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Today's rates become terms in force since long before any sale, so nothing changes.
INSERT INTO commission_terms (village_id, product_id, bps, effective_from, created_by_name, note)
SELECT id, NULL, commission_bps, '2000-01-01', 'migration',
       '启用分期费率前的费率 / rate before dated terms'
FROM villages;

INSERT INTO commission_terms (village_id, product_id, bps, effective_from, created_by_name, note)
SELECT village_id, id, commission_bps, '2000-01-01', 'migration',
       '启用分期费率前的费率 / rate before dated terms'
FROM products
WHERE commission_bps IS NOT NULL;
