-- Station-wide settings read by every process: the station's name for receipts and pages, and
-- the time zone of its business day. Later migrations add accounts, catalog, stock and money.
CREATE TABLE station_settings (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  value VARCHAR(1000) NOT NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO station_settings (name, value) VALUES
  ('station_name', '安海镇乡村联盟驿站'),
  ('station_name_en', 'Anhai Rural Alliance Station'),
  ('business_time_zone', 'Asia/Shanghai');
