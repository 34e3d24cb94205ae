-- Every change of a product's price, so an offline till's sale can be booked at a price the
-- product really had while the till's catalog could have been that old (README "Offline till").
-- The price in force at a moment t is the old_price_fen of the first change after t, or the
-- product's price now when nothing changed since.
CREATE TABLE product_price_changes (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT NOT NULL,
  old_price_fen BIGINT NOT NULL,
  new_price_fen BIGINT NOT NULL,
  changed_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_price_changes_product (product_id, changed_at),
  CONSTRAINT fk_price_changes_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
