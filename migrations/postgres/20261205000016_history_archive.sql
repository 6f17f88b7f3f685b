-- Expand only. The retention job archives an event's personal rows and then
-- removes them (src/retention). What stays with the event: its figures as
-- the dashboard showed them, and per department how many had a seat and how
-- many came, for the overviews across events.

-- When the event's personal rows were archived and removed, and the archive
-- run (a folder under `archive_folder`) that holds them.
ALTER TABLE events ADD COLUMN history_archived_at TIMESTAMPTZ;
ALTER TABLE events ADD COLUMN history_archive TEXT;

-- The dashboard's numbers of an archived event (EventStats as JSON).
CREATE TABLE archived_event_figures (
    event_id     BIGINT PRIMARY KEY REFERENCES events(id),
    stats        TEXT NOT NULL,
    archived_at  TIMESTAMPTZ NOT NULL
);

-- Per department of an archived event: seats held (registered or checked
-- in) and check-ins. `department_id` is empty for people without one.
CREATE TABLE archived_department_figures (
    event_id       BIGINT NOT NULL REFERENCES events(id),
    department_id  BIGINT REFERENCES departments(id),
    registered     BIGINT NOT NULL,
    checked_in     BIGINT NOT NULL
);
CREATE INDEX archived_department_figures_event ON archived_department_figures (event_id);

-- One row per company-local day the retention job ran (or is running: no
-- `finished_at` yet). Inserting the day's row is how one instance claims the
-- run; a failed run deletes it so the next attempt can go.
CREATE TABLE retention_runs (
    run_for           TEXT PRIMARY KEY,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    archive           TEXT,
    events            BIGINT NOT NULL DEFAULT 0,
    registrations     BIGINT NOT NULL DEFAULT 0,
    survey_answers    BIGINT NOT NULL DEFAULT 0,
    mail              BIGINT NOT NULL DEFAULT 0,
    audit_entries     BIGINT NOT NULL DEFAULT 0
);

-- Events past retention that still hold their rows, oldest first.
CREATE INDEX events_to_archive ON events (ends_at) WHERE history_archived_at IS NULL;
-- Sent and failed mail by age, for the outbox's own retention.
CREATE INDEX mail_outbox_created ON mail_outbox (created_at, id);
