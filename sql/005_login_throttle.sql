-- Login throttling as counters that the login gate locks (SELECT ... FOR UPDATE) and counts in one
-- transaction before any password is hashed, so concurrent attempts cannot all slip under a limit.
-- Row locks only: no GET_LOCK, no LOCK TABLES, so it runs on Galera. Re-runnable.
-- scope: 'account' (a username, all addresses), 'address' (all usernames from one client
-- address), 'account_address' (one username from one address: the growing delays).
-- subject: SHA-256 of the username, the address, or username NUL address.
CREATE TABLE IF NOT EXISTS login_throttle (
  scope ENUM('account', 'address', 'account_address') NOT NULL,
  subject BINARY(32) NOT NULL,
  failures INT NOT NULL DEFAULT 0,
  window_started_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  last_failure_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  blocked_until DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  PRIMARY KEY (scope, subject),
  KEY ix_login_throttle_last_failure (last_failure_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The failure log it replaces was counted without a lock (eight concurrent attempts all passed).
DROP TABLE IF EXISTS login_failures;
