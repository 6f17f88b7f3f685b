-- Expand only. Seats and check-ins per event and department, kept by the
-- database itself on every change of a registration, so the overviews
-- across events read a few rows per event instead of counting every
-- registration of every event in their window (ten years of history hold
-- over a million).

-- Every registration now counts under the department its person had when
-- registering (before, only anonymized people's did): a later move to
-- another department does not rewrite past attendance. Empty for people
-- without a department.
UPDATE registrations r
   SET department_id = u.department_id
  FROM users u
 WHERE u.id = r.user_id AND r.department_id IS NULL AND u.department_id IS NOT NULL;

-- Per event and department (`department_key` 0 for none, so the key is
-- never empty): seats held (registered or checked in) and check-ins. Always
-- equal to counting the event's registrations; the triggers below keep it.
CREATE TABLE attendance_by_department (
    event_id        BIGINT NOT NULL,
    department_key  BIGINT NOT NULL,
    registered      BIGINT NOT NULL,
    checked_in      BIGINT NOT NULL,
    PRIMARY KEY (event_id, department_key)
);

INSERT INTO attendance_by_department (event_id, department_key, registered, checked_in)
SELECT event_id, COALESCE(department_id, 0), COUNT(*),
       COUNT(*) FILTER (WHERE status = 'checked_in')
  FROM registrations
 WHERE status IN ('registered', 'checked_in')
 GROUP BY event_id, COALESCE(department_id, 0);

-- Once per statement, from the rows it changed: a group of 200
-- registrations is one grouped upsert, not 200. Keys in order, so two
-- statements touching the same counts lock them in the same order.
CREATE FUNCTION count_attendance_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO attendance_by_department AS a (event_id, department_key, registered, checked_in)
        SELECT event_id, COALESCE(department_id, 0), COUNT(*),
               COUNT(*) FILTER (WHERE status = 'checked_in')
          FROM changed_to
         WHERE status IN ('registered', 'checked_in')
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (event_id, department_key) DO UPDATE
           SET registered = a.registered + EXCLUDED.registered,
               checked_in = a.checked_in + EXCLUDED.checked_in;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO attendance_by_department AS a (event_id, department_key, registered, checked_in)
        SELECT event_id, department_key, SUM(registered), SUM(checked_in)
          FROM (SELECT event_id, COALESCE(department_id, 0) AS department_key,
                       CASE WHEN status IN ('registered', 'checked_in') THEN 1 ELSE 0 END AS registered,
                       CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END AS checked_in
                  FROM changed_to
                UNION ALL
                SELECT event_id, COALESCE(department_id, 0),
                       CASE WHEN status IN ('registered', 'checked_in') THEN -1 ELSE 0 END,
                       CASE WHEN status = 'checked_in' THEN -1 ELSE 0 END
                  FROM changed_from) AS change
         GROUP BY 1, 2
        HAVING SUM(registered) <> 0 OR SUM(checked_in) <> 0
         ORDER BY 1, 2
        ON CONFLICT (event_id, department_key) DO UPDATE
           SET registered = a.registered + EXCLUDED.registered,
               checked_in = a.checked_in + EXCLUDED.checked_in;
    ELSE
        UPDATE attendance_by_department a
           SET registered = a.registered - gone.registered,
               checked_in = a.checked_in - gone.checked_in
          FROM (SELECT event_id, COALESCE(department_id, 0) AS department_key, COUNT(*) AS registered,
                       COUNT(*) FILTER (WHERE status = 'checked_in') AS checked_in
                  FROM changed_from
                 WHERE status IN ('registered', 'checked_in')
                 GROUP BY 1, 2) AS gone
         WHERE a.event_id = gone.event_id AND a.department_key = gone.department_key;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_counts_insert AFTER INSERT ON registrations
    REFERENCING NEW TABLE AS changed_to
    FOR EACH STATEMENT EXECUTE FUNCTION count_attendance_changes();
CREATE TRIGGER attendance_counts_update AFTER UPDATE ON registrations
    REFERENCING OLD TABLE AS changed_from NEW TABLE AS changed_to
    FOR EACH STATEMENT EXECUTE FUNCTION count_attendance_changes();
CREATE TRIGGER attendance_counts_delete AFTER DELETE ON registrations
    REFERENCING OLD TABLE AS changed_from
    FOR EACH STATEMENT EXECUTE FUNCTION count_attendance_changes();

-- Registrations written without a department (the application writes it;
-- an older binary and fixtures may not) take their person's. The WHEN is
-- checked without entering the function, so rows that carry one cost
-- nothing; a row trigger because it sets the row before it is written, so
-- the counts see the department at once. (A grouped update from the
-- statement's rows was tried: with no statistics on the rows it planned a
-- scan of the registrations per row.)
CREATE FUNCTION registration_takes_department() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.department_id := (SELECT u.department_id FROM users u WHERE u.id = NEW.user_id);
    RETURN NEW;
END $$;
CREATE TRIGGER registrations_take_department BEFORE INSERT ON registrations
    FOR EACH ROW WHEN (NEW.department_id IS NULL)
    EXECUTE FUNCTION registration_takes_department();
