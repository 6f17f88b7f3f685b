-- Expand only. Login, user lookups and the user list search and sort by
-- lower(email); the NOCASE unique index on email cannot serve that expression.
-- (PostgreSQL has had this index, users_email, from the start.)
CREATE INDEX users_email_lower ON users (lower(email));
-- "The last import", "the last login": the newest entry of one action, without
-- walking the whole log past millions of failed logins.
CREATE INDEX audit_log_action ON audit_log (action, at, id);
