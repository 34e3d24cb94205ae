-- A second trade of an order paid after the first one was (two devices, or a close that came
-- too late): the goods are paid once, so that payment is surplus. It is booked as money held
-- for refund (order_refunds_due, journal kind surplus_payment) and sent back at once through
-- its own trade (out_refund_no `<out_trade_no>-D`); returned when the provider confirms it
-- (surplus_return). Until then the sweep asks again. return_failure: the provider refused and
-- its lookup found no such refund; the staff send it back by hand (the order asks them to).
ALTER TABLE order_payments
  MODIFY state ENUM('started', 'paid', 'closed', 'refunded', 'surplus', 'returned')
    NOT NULL DEFAULT 'started',
  ADD COLUMN IF NOT EXISTS return_attempts INT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS return_state VARCHAR(32) NULL,
  ADD COLUMN IF NOT EXISTS return_failure VARCHAR(250) NULL,
  ADD COLUMN IF NOT EXISTS return_asked_at DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS returned_at DATETIME(6) NULL;
CREATE INDEX IF NOT EXISTS ix_order_payments_surplus ON order_payments (state, return_asked_at);

ALTER TABLE journal_entries
  MODIFY kind ENUM('sale', 'refund', 'cash_movement', 'shift_open', 'shift_close',
                   'order_payment', 'order_refund', 'adjustment', 'payout', 'refund_failed',
                   'refund_repaid', 'surplus_payment', 'surplus_return') NOT NULL;
