-- Partial payouts (issue 10): a confirmed settlement is paid in one payout or several, each
-- positive and never more than what remains; it becomes `paid` when its payouts cover its total.
-- The one-payout-per-settlement key goes; a plain index keeps the foreign key and the lookups.
-- (Concurrent payouts are serialised on the settlement's row, which each locks FOR UPDATE.)

ALTER TABLE settlement_payouts
  ADD KEY IF NOT EXISTS ix_settlement_payouts_settlement (settlement_id, id);

ALTER TABLE settlement_payouts
  DROP KEY IF EXISTS uq_settlement_payouts_settlement;
