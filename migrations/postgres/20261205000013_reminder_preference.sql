-- Expand only. Whether a person wants the day-before reminders: set on
-- *My account* or with the one-click link in every reminder (RFC 8058).
-- Mails about one's own registrations and changes to an event are not
-- affected: those are always sent.
ALTER TABLE users ADD COLUMN wants_reminders BOOLEAN NOT NULL DEFAULT TRUE;
