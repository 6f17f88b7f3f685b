-- Expand only. The organizer's dashboard is cached and each read checks that
-- nothing changed: the event row and the count and sum of versions of its
-- registrations (every change of a registration bumps its version). This
-- index answers that from the index alone (issue #8).
CREATE INDEX registrations_event_version ON registrations (event_id, version);
