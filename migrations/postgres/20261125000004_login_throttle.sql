-- Expand only: failed sign-ins per e-mail address ('account:<email>') and per
-- client address ('address:<ip>'), kept in the database so that every server
-- instance counts the same attempts. One row per key, changed by one upsert.
CREATE TABLE login_throttle (
    key                TEXT PRIMARY KEY,
    failures           INTEGER NOT NULL,
    window_started_at  TIMESTAMPTZ NOT NULL,
    blocked_until      TIMESTAMPTZ
);
-- Pruning forgets rows whose window has passed.
CREATE INDEX login_throttle_window ON login_throttle (window_started_at);
