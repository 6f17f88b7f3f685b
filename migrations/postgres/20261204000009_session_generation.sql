-- Expand only. Every session remembers the generation of its person's
-- credentials when it began; changing the password moves the generation on,
-- which ends every other session of that person at its next request, on every
-- instance and in either session store. Older binaries ignore the column.
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
