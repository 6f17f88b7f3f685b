-- Expand only. Secrets of this installation, shared by all its instances.
-- The first use inserts with ON CONFLICT DO NOTHING and then reads, so
-- instances starting together still end up with one value. Holds the seed
-- of the per-event ticket signing keys ('ticket_signing_seed').
CREATE TABLE instance_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
-- Expand only: the secret part of each person's calendar feed address,
-- made on first use; calendar apps cannot log in, so it is the credential.
ALTER TABLE users ADD COLUMN calendar_token TEXT;
CREATE UNIQUE INDEX users_calendar_token ON users (calendar_token);
