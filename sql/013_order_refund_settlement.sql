-- Online-order refunds land on the villages' statements (issue 10): a refund line needs an id of
-- its own to be a settlement line, and settlement lines a kind for it. A refund gives back its
-- shares on the business day it succeeded; one already settled falls in the next settlement.

ALTER TABLE order_refund_lines
  ADD COLUMN IF NOT EXISTS id BIGINT NOT NULL AUTO_INCREMENT FIRST,
  ADD UNIQUE KEY IF NOT EXISTS uq_order_refund_lines_id (id);

ALTER TABLE settlement_lines
  MODIFY line_kind ENUM('sale', 'refund', 'order', 'adjustment', 'order_refund') NOT NULL;
