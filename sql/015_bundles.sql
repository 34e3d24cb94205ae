-- Gift boxes (礼盒, issue 10): a product of kind `bundle` is made of other products of several
-- villages and holds no stock of its own. Selling one writes a sale (or order) line per component
-- in its own village, tied together by the box they came in, so settlements, the village portal,
-- the journal and the stock ledger keep working per line.

ALTER TABLE products
  ADD COLUMN IF NOT EXISTS kind ENUM('item', 'bundle') NOT NULL DEFAULT 'item' AFTER sku;

-- What one box holds: `quantity` of each component, in the order the admin listed them.
CREATE TABLE IF NOT EXISTS product_components (
  bundle_id BIGINT NOT NULL,
  component_id BIGINT NOT NULL,
  position INT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (bundle_id, component_id),
  KEY ix_product_components_component (component_id),
  CONSTRAINT fk_product_components_bundle FOREIGN KEY (bundle_id) REFERENCES products (id),
  CONSTRAINT fk_product_components_component FOREIGN KEY (component_id) REFERENCES products (id),
  CONSTRAINT ck_product_components_quantity CHECK (quantity BETWEEN 1 AND 1000),
  CONSTRAINT ck_product_components_self CHECK (bundle_id <> component_id)
) ENGINE=InnoDB;

-- A component line of a box: the box's product, its name then, how many boxes, and which box of
-- the sale (the line number of the first component line) it belongs to.
ALTER TABLE sale_lines
  ADD COLUMN IF NOT EXISTS bundle_product_id BIGINT NULL,
  ADD COLUMN IF NOT EXISTS bundle_name VARCHAR(100) NULL,
  ADD COLUMN IF NOT EXISTS bundle_quantity BIGINT NULL,
  ADD COLUMN IF NOT EXISTS bundle_group INT NULL,
  ADD CONSTRAINT fk_sale_lines_bundle FOREIGN KEY (bundle_product_id)
    REFERENCES products (id),
  ADD CONSTRAINT ck_sale_lines_bundle CHECK (bundle_product_id IS NULL OR
    (bundle_quantity > 0 AND bundle_group > 0 AND bundle_name IS NOT NULL));

ALTER TABLE order_lines
  ADD COLUMN IF NOT EXISTS bundle_product_id BIGINT NULL,
  ADD COLUMN IF NOT EXISTS bundle_name VARCHAR(100) NULL,
  ADD COLUMN IF NOT EXISTS bundle_quantity BIGINT NULL,
  ADD COLUMN IF NOT EXISTS bundle_group INT NULL,
  ADD CONSTRAINT fk_order_lines_bundle FOREIGN KEY (bundle_product_id)
    REFERENCES products (id),
  ADD CONSTRAINT ck_order_lines_bundle CHECK (bundle_product_id IS NULL OR
    (bundle_quantity > 0 AND bundle_group > 0 AND bundle_name IS NOT NULL));
