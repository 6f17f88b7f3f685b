-- Expand only. Contains-search ("研修" anywhere in a title, a place, a
-- description; part of a name or an address) through an index, so a search
-- reads the rows that match rather than every event or every person.
--
-- pg_trgm indexes every three-character piece of the text; a LIKE/ILIKE
-- pattern with three or more characters between its wildcards is answered
-- from the index. pg_trgm is a trusted extension: the database's owner may
-- create it (PostgreSQL 13+).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One text per event holding everything a search looks at. The fields are
-- joined by a line break, which no search contains (control characters are
-- dropped from searches), so a match never spans two fields.
ALTER TABLE events ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    COALESCE(title_ja, '') || E'\n' || COALESCE(title_en, '') || E'\n' || place
    || E'\n' || description_ja || E'\n' || description_en
) STORED;
-- Without the fast-update list: new rows go into the index at once. With
-- it, every search also reads the list of rows added since the last
-- vacuum, and the planner, counting that cost, reads the whole table
-- instead. Events and people are added rarely; searches are frequent.
CREATE INDEX events_search_text ON events USING gin (search_text gin_trgm_ops)
    WITH (fastupdate = off);

ALTER TABLE users ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    email || E'\n' || display_name
) STORED;
CREATE INDEX users_search_text ON users USING gin (search_text gin_trgm_ops)
    WITH (fastupdate = off);
