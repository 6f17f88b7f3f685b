-- Initial schema (SQLite). Timestamps are UTC, stored as text by sqlx.

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name   TEXT NOT NULL,
    department_id  INTEGER REFERENCES departments(id),
    role           TEXT NOT NULL DEFAULT 'employee'
                   CHECK (role IN ('employee', 'staff', 'organizer', 'admin')),
    lang           TEXT NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en')),
    password_hash  TEXT,
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    anonymized_at  TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX users_department ON users (department_id);

CREATE TABLE events (
    id                      INTEGER PRIMARY KEY,
    title_ja                TEXT,
    title_en                TEXT,
    description_ja          TEXT NOT NULL DEFAULT '',
    description_en          TEXT NOT NULL DEFAULT '',
    category                TEXT NOT NULL
                            CHECK (category IN ('seminar', 'training', 'social', 'townhall', 'workshop')),
    place                   TEXT NOT NULL DEFAULT '',
    starts_at               TEXT NOT NULL,
    ends_at                 TEXT NOT NULL,
    capacity                INTEGER NOT NULL CHECK (capacity >= 0),
    -- The seat counter taken by one conditional UPDATE (review C-1); the CHECK is the last line of defence.
    seats_taken             INTEGER NOT NULL DEFAULT 0 CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    status                  TEXT NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'published', 'cancelled')),
    registration_opens_at   TEXT,
    registration_closes_at  TEXT,
    organizer_id            INTEGER REFERENCES users(id),
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (title_ja IS NOT NULL OR title_en IS NOT NULL),
    CHECK (ends_at > starts_at)
);
-- Upcoming list, keyset by (starts_at, id), filtered by status and category (S-1, S-2).
CREATE INDEX events_status_start ON events (status, starts_at, id);
CREATE INDEX events_category_start ON events (category, starts_at, id) WHERE status = 'published';
CREATE INDEX events_organizer_start ON events (organizer_id, starts_at);

CREATE TABLE registrations (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    status          TEXT NOT NULL
                    CHECK (status IN ('registered', 'waitlisted', 'checked_in', 'cancelled', 'removed')),
    -- Arrival order on the waitlist; promotion takes the smallest.
    waitlist_seq    INTEGER,
    version         INTEGER NOT NULL DEFAULT 1,
    ticket_code     TEXT UNIQUE,
    registered_at   TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    checked_in_at   TEXT,
    checked_in_by   INTEGER REFERENCES users(id),
    cancelled_at    TEXT
);
-- One live registration per person and event.
CREATE UNIQUE INDEX registrations_one_live
    ON registrations (event_id, user_id) WHERE status IN ('registered', 'waitlisted', 'checked_in');
CREATE INDEX registrations_event_status ON registrations (event_id, status, checked_in_at);
CREATE INDEX registrations_user_status ON registrations (user_id, status);
CREATE INDEX registrations_waitlist ON registrations (event_id, waitlist_seq) WHERE status = 'waitlisted';

CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL UNIQUE REFERENCES events(id),
    questions   TEXT NOT NULL CHECK (json_valid(questions)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE survey_responses (
    id            INTEGER PRIMARY KEY,
    survey_id     INTEGER NOT NULL REFERENCES surveys(id),
    event_id      INTEGER NOT NULL REFERENCES events(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    answers       TEXT NOT NULL CHECK (json_valid(answers)),
    submitted_at  TEXT NOT NULL,
    UNIQUE (survey_id, user_id)
);
CREATE INDEX survey_responses_event ON survey_responses (event_id);

CREATE TABLE mail_outbox (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL,
    recipient_user_id  INTEGER REFERENCES users(id),
    to_address         TEXT NOT NULL,
    lang               TEXT NOT NULL DEFAULT 'ja',
    payload            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    -- Makes enqueueing idempotent, e.g. one reminder per registration and event start.
    dedupe_key         TEXT UNIQUE,
    status             TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'sending', 'sent', 'dead')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    last_error         TEXT,
    message_id         TEXT,
    created_at         TEXT NOT NULL,
    sent_at            TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    actor_user_id  INTEGER REFERENCES users(id),
    action         TEXT NOT NULL,
    target         TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    at             TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, at);
