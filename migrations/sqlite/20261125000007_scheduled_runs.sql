-- Expand only. Jobs that run once a day for the whole installation (the
-- reminder batch, issue #7): a row says that day's run is done, so a restart
-- or a second instance does not run it again.
CREATE TABLE scheduled_runs (
    job          TEXT NOT NULL,
    -- The company-local day the run belongs to, YYYY-MM-DD.
    run_for      TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    -- What the run did, e.g. how many reminders it queued.
    result       INTEGER NOT NULL,
    PRIMARY KEY (job, run_for)
);
-- The admin outbox page lists one state at a time, newest first.
CREATE INDEX mail_outbox_status_id ON mail_outbox (status, id);
