-- Expand only. Contains-search ("研修" anywhere in a title, a place, a
-- description; part of a name or an address) through an index, so a search
-- reads the rows that match rather than every event or every person.
--
-- FTS5's trigram tokenizer indexes every three-character piece of the text
-- (case folded), and a phrase query of three or more characters matches
-- exactly the texts that contain it, Japanese included. The tables hold a
-- copy of the searched text, kept by triggers; rowid is the event's or the
-- person's id. The fields are joined by a line break, which no search
-- contains, so a match never spans two fields.
CREATE VIRTUAL TABLE events_search USING fts5 (body, tokenize = 'trigram');
INSERT INTO events_search (rowid, body)
    SELECT id, COALESCE(title_ja, '') || char(10) || COALESCE(title_en, '') || char(10) || place
               || char(10) || description_ja || char(10) || description_en
      FROM events;
CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, body)
    VALUES (new.id, COALESCE(new.title_ja, '') || char(10) || COALESCE(new.title_en, '') || char(10) || new.place
                    || char(10) || new.description_ja || char(10) || new.description_en);
END;
CREATE TRIGGER events_search_update
    AFTER UPDATE OF title_ja, title_en, place, description_ja, description_en ON events BEGIN
    UPDATE events_search
       SET body = COALESCE(new.title_ja, '') || char(10) || COALESCE(new.title_en, '') || char(10) || new.place
                  || char(10) || new.description_ja || char(10) || new.description_en
     WHERE rowid = new.id;
END;
CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_search WHERE rowid = old.id;
END;

CREATE VIRTUAL TABLE users_search USING fts5 (body, tokenize = 'trigram');
INSERT INTO users_search (rowid, body) SELECT id, email || char(10) || display_name FROM users;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, body) VALUES (new.id, new.email || char(10) || new.display_name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, display_name ON users BEGIN
    UPDATE users_search SET body = new.email || char(10) || new.display_name WHERE rowid = new.id;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
END;
