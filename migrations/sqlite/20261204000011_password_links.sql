-- Expand only. Links that let a person set a password without knowing one:
-- an invitation for someone an administrator imported or created, or a reset
-- after "forgot password". The link itself is never stored: its secret part
-- is a keyed hash of the row id (key in `instance_secrets`), so neither this
-- table nor the queued mail holds anything that opens an account. A link
-- stops working when it is used, when a newer one is made for the same
-- person, or at `expires_at`.
CREATE TABLE password_links (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    -- The links made by one request, so their mail is queued by one statement.
    batch       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    spent_at    TEXT
);
CREATE INDEX password_links_user ON password_links (user_id, created_at);
CREATE INDEX password_links_batch ON password_links (batch);

-- How the name is read (furigana), so Japanese lists sort as people expect
-- (井上 before 中村) rather than by code point. Optional; filled by the import.
ALTER TABLE users ADD COLUMN name_reading TEXT;
