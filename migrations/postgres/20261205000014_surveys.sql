-- Post-event surveys. The two survey tables of the first schema were never
-- written by any version of Tsudoi, so they are replaced rather than
-- altered, the same way as on SQLite.
DROP TABLE survey_responses;
DROP TABLE surveys;

-- One survey per event. `questions` is the list the organizer built (JSON,
-- see src/surveys/mod.rs); each question keeps its `key` for life, and the
-- answers are stored under those keys.
CREATE TABLE surveys (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id              BIGINT NOT NULL UNIQUE REFERENCES events(id),
    questions             JSONB NOT NULL,
    anonymous             BOOLEAN NOT NULL DEFAULT FALSE,
    -- The survey opens when the event ends unless the organizer chose a time;
    -- then `opens_at` moves with the event.
    opens_with_event_end  BOOLEAN NOT NULL DEFAULT TRUE,
    opens_at              TIMESTAMPTZ NOT NULL,
    open_days             INTEGER NOT NULL CHECK (open_days BETWEEN 1 AND 90),
    closes_at             TIMESTAMPTZ NOT NULL,
    -- One reminder to those who have not answered, this many days before closing.
    reminder_days_before  INTEGER CHECK (reminder_days_before BETWEEN 1 AND 89),
    remind_at             TIMESTAMPTZ,
    -- Set by the invitation batch once it queued the invitations (and the
    -- reminder), so the batch never looks at this survey for them again.
    invited_at            TIMESTAMPTZ,
    reminded_at           TIMESTAMPTZ,
    -- Set when the organizer closes the survey before its time.
    closed_early_at       TIMESTAMPTZ,
    version               INTEGER NOT NULL DEFAULT 1,
    -- Raised by every answer given or changed: the results cache's fingerprint.
    answers_version       INTEGER NOT NULL DEFAULT 0,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX surveys_to_invite ON surveys (opens_at) WHERE invited_at IS NULL;
CREATE INDEX surveys_to_remind ON surveys (remind_at) WHERE reminded_at IS NULL;

-- Who answered: one row per person, for the one-answer rule and the
-- response rate. For an anonymous survey this is the only place the
-- person appears; nothing links it to the answers.
CREATE TABLE survey_respondents (
    survey_id    BIGINT NOT NULL REFERENCES surveys(id),
    user_id      BIGINT NOT NULL REFERENCES users(id),
    answered_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survey_id, user_id)
);

-- The answers, one row per respondent. `user_id` is empty for an anonymous
-- survey; the department is kept for the results by department.
CREATE TABLE survey_responses (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id      BIGINT NOT NULL REFERENCES surveys(id),
    user_id        BIGINT REFERENCES users(id),
    department_id  BIGINT REFERENCES departments(id),
    answers        JSONB NOT NULL,
    submitted_at   TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (survey_id, user_id)
);
CREATE INDEX survey_responses_department ON survey_responses (survey_id, department_id);
CREATE INDEX survey_responses_submitted ON survey_responses (survey_id, submitted_at);
