-- The payments reconciliation report (对账, GET /api/v1/reports/payments) names the provider's
-- trade of each counter sale booked to a 付款码 clearing account: code_payments by their sale.
CREATE INDEX IF NOT EXISTS ix_code_payments_sale ON code_payments (sale_id, state);
