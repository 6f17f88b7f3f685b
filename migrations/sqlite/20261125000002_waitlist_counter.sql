-- Expand only: a per-event counter that numbers waitlist entries in arrival
-- order. It is bumped in the same transaction, on the same row, as the seat
-- counter, so no second lock is needed.
ALTER TABLE events ADD COLUMN waitlist_next BIGINT NOT NULL DEFAULT 0;
