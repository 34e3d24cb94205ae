-- A note written by the staff for the staff (how a 需要处理 was handled) is not shown to the
-- customer who holds the order's link: the tracking view leaves internal events out.
ALTER TABLE order_events ADD COLUMN IF NOT EXISTS internal BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE order_events SET internal = TRUE WHERE by_kind = 'staff' AND note LIKE '已处理 / handled:%';
