-- Expand only. Seats and check-ins per event and department, kept by the
-- database itself on every change of a registration, so the overviews
-- across events read a few rows per event instead of counting every
-- registration of every event in their window (ten years of history hold
-- over a million).

-- Every registration now counts under the department its person had when
-- registering (before, only anonymized people's did): a later move to
-- another department does not rewrite past attendance. Empty for people
-- without a department.
UPDATE registrations
   SET department_id = (SELECT u.department_id FROM users u WHERE u.id = registrations.user_id)
 WHERE department_id IS NULL;

-- Registrations written without a department (the application writes it;
-- an older binary and fixtures may not) take their person's, when they
-- have one. The update trigger below moves what was counted as "none".
CREATE TRIGGER registrations_take_department AFTER INSERT ON registrations
WHEN NEW.department_id IS NULL
 AND (SELECT u.department_id FROM users u WHERE u.id = NEW.user_id) IS NOT NULL
BEGIN
    UPDATE registrations
       SET department_id = (SELECT u.department_id FROM users u WHERE u.id = NEW.user_id)
     WHERE id = NEW.id;
END;

-- Per event and department (`department_key` 0 for none, so the key is
-- never empty): seats held (registered or checked in) and check-ins. Always
-- equal to counting the event's registrations; the triggers below keep it.
CREATE TABLE attendance_by_department (
    event_id        INTEGER NOT NULL,
    department_key  INTEGER NOT NULL,
    registered      INTEGER NOT NULL,
    checked_in      INTEGER NOT NULL,
    PRIMARY KEY (event_id, department_key)
) WITHOUT ROWID;

INSERT INTO attendance_by_department (event_id, department_key, registered, checked_in)
SELECT event_id, COALESCE(department_id, 0), COUNT(*),
       SUM(CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END)
  FROM registrations
 WHERE status IN ('registered', 'checked_in')
 GROUP BY event_id, COALESCE(department_id, 0);

CREATE TRIGGER attendance_counts_insert AFTER INSERT ON registrations
WHEN NEW.status IN ('registered', 'checked_in')
BEGIN
    INSERT INTO attendance_by_department (event_id, department_key, registered, checked_in)
    VALUES (NEW.event_id, COALESCE(NEW.department_id, 0), 1,
            CASE WHEN NEW.status = 'checked_in' THEN 1 ELSE 0 END)
    ON CONFLICT (event_id, department_key) DO UPDATE
       SET registered = registered + excluded.registered,
           checked_in = checked_in + excluded.checked_in;
END;

CREATE TRIGGER attendance_counts_update AFTER UPDATE OF status, department_id ON registrations
WHEN OLD.status IS NOT NEW.status OR OLD.department_id IS NOT NEW.department_id
BEGIN
    INSERT INTO attendance_by_department (event_id, department_key, registered, checked_in)
    SELECT OLD.event_id, COALESCE(OLD.department_id, 0), -1,
           CASE WHEN OLD.status = 'checked_in' THEN -1 ELSE 0 END
     WHERE OLD.status IN ('registered', 'checked_in')
    ON CONFLICT (event_id, department_key) DO UPDATE
       SET registered = registered + excluded.registered,
           checked_in = checked_in + excluded.checked_in;
    INSERT INTO attendance_by_department (event_id, department_key, registered, checked_in)
    SELECT NEW.event_id, COALESCE(NEW.department_id, 0), 1,
           CASE WHEN NEW.status = 'checked_in' THEN 1 ELSE 0 END
     WHERE NEW.status IN ('registered', 'checked_in')
    ON CONFLICT (event_id, department_key) DO UPDATE
       SET registered = registered + excluded.registered,
           checked_in = checked_in + excluded.checked_in;
END;

CREATE TRIGGER attendance_counts_delete AFTER DELETE ON registrations
WHEN OLD.status IN ('registered', 'checked_in')
BEGIN
    UPDATE attendance_by_department
       SET registered = registered - 1,
           checked_in = checked_in - CASE WHEN OLD.status = 'checked_in' THEN 1 ELSE 0 END
     WHERE event_id = OLD.event_id AND department_key = COALESCE(OLD.department_id, 0);
END;
