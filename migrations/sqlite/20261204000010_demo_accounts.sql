-- Expand only. The accounts `tsudoi seed-demo` creates, one per role, with
-- their shared password in plain text: the login page shows them so that a
-- trial install can be entered at once. Only seed-demo writes this table, so
-- a real installation never shows anything.
CREATE TABLE demo_accounts (
    email TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password TEXT NOT NULL
);
