-- Expand only: how many seats the last grouped registration statement took.
-- SET expressions see the row before the update, so one conditional UPDATE can
-- take up to k seats and report through RETURNING how many it got.
ALTER TABLE events ADD COLUMN last_group_seats INTEGER NOT NULL DEFAULT 0;
