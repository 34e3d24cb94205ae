-- Exactly-once writes: the first answer to each Idempotency-Key, stored in the same transaction
-- as the work it answers, so a retry (a cashier's double tap, a phone that lost the response, a
-- commit whose outcome was unknown) gets that answer again instead of doing the work twice.
-- Written to be re-runnable: every statement may run again after a crash part-way.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  -- SHA-256 of scope and key: one fixed-size primary key whatever the client sent.
  key_hash BINARY(32) NOT NULL PRIMARY KEY,
  scope VARCHAR(200) NOT NULL,
  idempotency_key VARCHAR(200) NOT NULL,
  -- SHA-256 of what the request asked for: the same key with another request is refused.
  request_hash BINARY(32) NOT NULL,
  status SMALLINT NOT NULL DEFAULT 0,
  content_type VARCHAR(100) NOT NULL DEFAULT '',
  body MEDIUMBLOB NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  expires_at DATETIME(6) NOT NULL,
  KEY ix_idempotency_keys_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
