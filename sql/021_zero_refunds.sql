-- A refund may come to 0 fen: a line sold for 0 (a 100 % discount, 抹零 of a few grams, a gift
-- box's component worth less than a fen) still comes back into stock or is written off, while no
-- money moves (such a refund, like a sale of 0, has no journal entry).
ALTER TABLE refunds DROP CONSTRAINT IF EXISTS ck_refunds_total;
ALTER TABLE refunds ADD CONSTRAINT ck_refunds_total CHECK (total_fen >= 0);
