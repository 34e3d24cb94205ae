-- Orders that need the staff (a payment that came late or did not match, a refund the provider
-- refused, a trade never confirmed either way): the staff queue lists them under 需要处理, and
-- `attention` goes back to NULL when a member of staff records how it was handled.
CREATE INDEX IF NOT EXISTS ix_orders_attention ON orders (attention(1), id);
