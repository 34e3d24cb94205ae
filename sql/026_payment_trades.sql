-- An order may start several trades at its provider: each channel asked gets its own
-- out_trade_no (WeChat refuses a number reused for another trade type), and a channel asked
-- again after its trade was closed a new one. Each trade is its own row, so (order, channel) is
-- no longer unique; the order's rows are found by (order_id, channel, id).
ALTER TABLE order_payments ADD KEY IF NOT EXISTS ix_order_payments_order (order_id, channel, id);
ALTER TABLE order_payments DROP INDEX IF EXISTS uq_order_payments_channel;
