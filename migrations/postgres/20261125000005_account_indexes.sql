-- Expand only. "The last import", "the last login": the newest entry of one
-- action, without walking the whole log past millions of failed logins.
-- (SQLite also gets an index on lower(email) here; PostgreSQL has users_email.)
CREATE INDEX audit_log_action ON audit_log (action, at, id);
