-- Initial schema (PostgreSQL).

CREATE TABLE departments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    department_id  BIGINT REFERENCES departments(id),
    role           TEXT NOT NULL DEFAULT 'employee'
                   CHECK (role IN ('employee', 'staff', 'organizer', 'admin')),
    lang           TEXT NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en')),
    password_hash  TEXT,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    anonymized_at  TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness, like COLLATE NOCASE on SQLite.
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_department ON users (department_id);

CREATE TABLE events (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title_ja                TEXT,
    title_en                TEXT,
    description_ja          TEXT NOT NULL DEFAULT '',
    description_en          TEXT NOT NULL DEFAULT '',
    category                TEXT NOT NULL
                            CHECK (category IN ('seminar', 'training', 'social', 'townhall', 'workshop')),
    place                   TEXT NOT NULL DEFAULT '',
    starts_at               TIMESTAMPTZ NOT NULL,
    ends_at                 TIMESTAMPTZ NOT NULL,
    capacity                INTEGER NOT NULL CHECK (capacity >= 0),
    -- The seat counter taken by one conditional UPDATE (review C-1); the CHECK is the last line of defence.
    seats_taken             INTEGER NOT NULL DEFAULT 0 CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    status                  TEXT NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'published', 'cancelled')),
    registration_opens_at   TIMESTAMPTZ,
    registration_closes_at  TIMESTAMPTZ,
    organizer_id            BIGINT REFERENCES users(id),
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (title_ja IS NOT NULL OR title_en IS NOT NULL),
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_status_start ON events (status, starts_at, id);
CREATE INDEX events_category_start ON events (category, starts_at, id) WHERE status = 'published';
CREATE INDEX events_organizer_start ON events (organizer_id, starts_at);

CREATE TABLE registrations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES events(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    status          TEXT NOT NULL
                    CHECK (status IN ('registered', 'waitlisted', 'checked_in', 'cancelled', 'removed')),
    waitlist_seq    BIGINT,
    version         INTEGER NOT NULL DEFAULT 1,
    ticket_code     TEXT UNIQUE,
    registered_at   TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    checked_in_at   TIMESTAMPTZ,
    checked_in_by   BIGINT REFERENCES users(id),
    cancelled_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX registrations_one_live
    ON registrations (event_id, user_id) WHERE status IN ('registered', 'waitlisted', 'checked_in');
CREATE INDEX registrations_event_status ON registrations (event_id, status) INCLUDE (checked_in_at);
CREATE INDEX registrations_user_status ON registrations (user_id, status);
CREATE INDEX registrations_waitlist ON registrations (event_id, waitlist_seq) WHERE status = 'waitlisted';

CREATE TABLE surveys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    BIGINT NOT NULL UNIQUE REFERENCES events(id),
    questions   JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE survey_responses (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id     BIGINT NOT NULL REFERENCES surveys(id),
    event_id      BIGINT NOT NULL REFERENCES events(id),
    user_id       BIGINT NOT NULL REFERENCES users(id),
    answers       JSONB NOT NULL,
    submitted_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (survey_id, user_id)
);
CREATE INDEX survey_responses_event ON survey_responses (event_id);

CREATE TABLE mail_outbox (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               TEXT NOT NULL,
    recipient_user_id  BIGINT REFERENCES users(id),
    to_address         TEXT NOT NULL,
    lang               TEXT NOT NULL DEFAULT 'ja',
    payload            JSONB NOT NULL DEFAULT '{}',
    dedupe_key         TEXT UNIQUE,
    status             TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'sending', 'sent', 'dead')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TIMESTAMPTZ NOT NULL,
    last_error         TEXT,
    message_id         TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    sent_at            TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_user_id  BIGINT REFERENCES users(id),
    action         TEXT NOT NULL,
    target         TEXT NOT NULL DEFAULT '',
    detail         JSONB NOT NULL DEFAULT '{}',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, at);
