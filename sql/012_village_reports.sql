-- The village portal (issue 10): a village's online sales are counted from the day their order
-- was paid, i.e. its order_payment journal entry. This index finds a period's payments without
-- reading the day's other entries (sales, refunds, cash movements).
CREATE INDEX IF NOT EXISTS ix_journal_entries_kind_day
  ON journal_entries (kind, business_day, document_id);
