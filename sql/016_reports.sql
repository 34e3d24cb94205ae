-- The manager's reports (issue 10). A year of sales summed through the sales and their lines
-- costs every line of the year (measured: ~0.6 s of server CPU per part for 145 000 lines), so
-- closed business days are summed once into the report_day_* tables below and read from there;
-- today (and any day not yet summed) is read live. A day's summary is trusted while its
-- fingerprint holds: how many sales, refunds and online payment/refund entries the day has, and
-- their largest ids. Anything booked on that day later (an offline sale rung up then) changes
-- the fingerprint and the day is summed again. These tables are a cache: deleting their rows
-- loses nothing.
CREATE TABLE IF NOT EXISTS report_days (
  business_day DATE NOT NULL PRIMARY KEY,
  fingerprint VARCHAR(300) NOT NULL,
  built_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A day's lines per channel, kind (sale or refund), product and village, as frozen at sale time.
CREATE TABLE IF NOT EXISTS report_day_lines (
  business_day DATE NOT NULL,
  channel ENUM('counter', 'online') NOT NULL,
  refund TINYINT(1) NOT NULL,
  product_id BIGINT NOT NULL,
  village_id BIGINT NOT NULL,
  category_id BIGINT NOT NULL,
  gross_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  share_fen BIGINT NOT NULL,
  pieces BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  PRIMARY KEY (business_day, channel, refund, product_id, village_id)
) ENGINE=InnoDB;

-- How many distinct sales (paid orders, refunds) a day had in all, and per village, product and
-- category: a sale of two villages' goods counts once in all and once for each village.
CREATE TABLE IF NOT EXISTS report_day_counts (
  business_day DATE NOT NULL,
  channel ENUM('counter', 'online') NOT NULL,
  refund TINYINT(1) NOT NULL,
  scope ENUM('all', 'village', 'product', 'category') NOT NULL,
  scope_id BIGINT NOT NULL,
  documents BIGINT NOT NULL,
  PRIMARY KEY (scope, business_day, channel, refund, scope_id)
) ENGINE=InnoDB;

-- The goods' money of a day per payment method (counter tenders, orders' payment methods).
CREATE TABLE IF NOT EXISTS report_day_methods (
  business_day DATE NOT NULL,
  channel ENUM('counter', 'online') NOT NULL,
  refund TINYINT(1) NOT NULL,
  method VARCHAR(20) NOT NULL,
  amount_fen BIGINT NOT NULL,
  documents BIGINT NOT NULL,
  PRIMARY KEY (business_day, channel, refund, method)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
