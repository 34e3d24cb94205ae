-- The manager's reports (issue 10): a year of sales summed per village, product or day reads
-- every sale line of the period through its sale (ix_sales_day, then the line's sale_id). These
-- keys carry the columns the sums need, so the lines are read from the index alone rather than
-- from each line's row (measured in README "Reports").
CREATE INDEX IF NOT EXISTS ix_sale_lines_report
  ON sale_lines (sale_id, product_id, village_id, unit, quantity, gross_fen, fee_fen, share_fen);
CREATE INDEX IF NOT EXISTS ix_order_lines_report
  ON order_lines (order_id, product_id, village_id, unit, quantity, gross_fen, fee_fen, share_fen);
