-- Expand only. People who left are anonymized some days after their account
-- was deactivated (src/users/anonymize.rs).

-- When the account was deactivated; the anonymization counts from here.
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;
UPDATE users SET deactivated_at = updated_at WHERE NOT active;
CREATE INDEX users_to_anonymize ON users (deactivated_at) WHERE anonymized_at IS NULL;

-- The department a registration counts under once its person is
-- anonymized (their own department is then removed): past figures by
-- department stay as they were. Empty for everyone else, whose registrations
-- count under their current department.
ALTER TABLE registrations ADD COLUMN department_id BIGINT REFERENCES departments(id);

ALTER TABLE retention_runs ADD COLUMN people_anonymized BIGINT NOT NULL DEFAULT 0;
