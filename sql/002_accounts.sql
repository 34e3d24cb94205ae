-- Member villages (the catalog issue adds their stories and products), staff and village
-- accounts, server-side sessions, login throttling and the audit log.
CREATE TABLE villages (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(32) NOT NULL,
  name VARCHAR(100) NOT NULL,
  description TEXT NOT NULL,
  commission_bps INT NOT NULL DEFAULT 1500,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_villages_code (code),
  CONSTRAINT ck_villages_commission CHECK (commission_bps BETWEEN 0 AND 10000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  role ENUM('admin', 'cashier', 'village') NOT NULL,
  village_id BIGINT NULL,
  status ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
  -- argon2id PHC string; it carries its own parameters so they can be raised later.
  password_hash VARCHAR(255) NOT NULL,
  password_changed_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  UNIQUE KEY uq_users_username (username),
  CONSTRAINT fk_users_village FOREIGN KEY (village_id) REFERENCES villages (id),
  CONSTRAINT ck_users_village_role CHECK ((role = 'village') = (village_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Only the SHA-256 of a session token is stored: a copy of this table logs nobody in.
CREATE TABLE sessions (
  token_hash BINARY(32) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  last_seen_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  expires_at DATETIME(6) NOT NULL,
  client_address VARCHAR(64) NOT NULL DEFAULT '',
  KEY ix_sessions_user (user_id),
  KEY ix_sessions_expires (expires_at),
  CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE login_failures (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  client_address VARCHAR(64) NOT NULL,
  failed_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  KEY ix_login_failures_username (username, failed_at),
  KEY ix_login_failures_address (client_address, failed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  occurred_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6),
  user_id BIGINT NULL,
  actor VARCHAR(64) NOT NULL,
  action VARCHAR(200) NOT NULL,
  entity_type VARCHAR(64) NOT NULL DEFAULT '',
  entity_id VARCHAR(64) NOT NULL DEFAULT '',
  before_state LONGTEXT NULL,
  after_state LONGTEXT NULL,
  client_address VARCHAR(64) NOT NULL DEFAULT '',
  KEY ix_audit_occurred (occurred_at),
  KEY ix_audit_entity (entity_type, entity_id),
  CONSTRAINT ck_audit_before_json CHECK (before_state IS NULL OR JSON_VALID(before_state)),
  CONSTRAINT ck_audit_after_json CHECK (after_state IS NULL OR JSON_VALID(after_state))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
