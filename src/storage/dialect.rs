//! Where SQLite and PostgreSQL spell the same thing differently, in one place.
//!
//! Most statements read the same on both backends and are written once. The
//! rest are written once too, as a list of SQL pieces and named fragments;
//! [`dialect_sql!`] spells the fragments for the backend at hand:
//!
//! ```text
//! let sql = dialect_sql!(db.backend(), "SELECT ", json_object, "('id', id) FROM events");
//! ```
//!
//! Every statement is still a `&'static str` assembled at compile time.
//!
//! | fragment | SQLite | PostgreSQL |
//! |---|---|---|
//! | `json_object` | `json_object` | `jsonb_build_object` |
//! | `[epoch_seconds "at"]` | `strftime('%s', at)` | `EXTRACT(EPOCH FROM at)` |
//! | `[local_day "at", "$n"]` | `date(at, '+n seconds')` | `at + n seconds, as a date` |
//! | `[local_month "at", "$n"]` | `strftime('%Y-%m', …)` | `to_char(…, 'YYYY-MM')` |
//! | `lock_rows` | nothing | ` FOR NO KEY UPDATE` |
//! | `skip_locked` | nothing | ` FOR UPDATE SKIP LOCKED` |
//! | `[matches_search "e", "events", "$n"]` | `e.id IN (SELECT rowid FROM events_search WHERE events_search MATCH $n)` | `e.search_text ILIKE $n ESCAPE '\'` |
//! | `[each_row_of "users", "u", "r.user_id"]` | `JOIN users u ON u.id = r.user_id` | the same, looked up row by row |
//! | `[json_entries "r.answers", "a"]` | `json_each(r.answers) a` | `jsonb_each(r.answers) a` |
//! | `[json_numbers_in "a"]` | the numbers of entry `a` (an array's, or the one) | the same |
//! | `[json_number "v"]` | `v.value` | `v.value` as a bigint |
//! | `[json_elements "s.questions", "q"]` | `json_each(s.questions) q` | `jsonb_array_elements(s.questions) q` |
//! | `[json_field "q", "kind"]` | `json_extract(q.value, '$.kind')` | `(q.value ->> 'kind')` |
//! | `[json_is_text "a"]`, `[json_text "a"]` | `a.type = 'text'`, `a.value` | `jsonb_typeof(a.value) = 'string'`, `a.value #>> '{}'` |
//! | `[json_strings_in "$2", "k"]` | `json_each($2) k` | `jsonb_array_elements_text($2) AS k(value)` |
//! | `[json_is_text_at "n.answers", "k.value"]` | `json_type(n.answers -> k.value) = 'text'` | `jsonb_typeof(n.answers -> k.value) = 'string'` |
//! | `[json_text_at "r.answers", "k.value"]` | `(r.answers ->> k.value)` | the same |
//! | `[first_rows_of "t", "n", "r"]` … `[first_rows_end "r"]` | `JOIN t r ON r.id IN (SELECT n.id FROM t n WHERE …)` | `CROSS JOIN LATERAL (SELECT n.* FROM t n WHERE …) r` |
//!
//! Locking: a SELECT in a write transaction that ends with `lock_rows` keeps
//! the rows it read from changing until the commit, for a check-then-write
//! that two transactions must not both pass. PostgreSQL takes the lock an
//! UPDATE of non-key columns takes, which (unlike `FOR UPDATE`) does not wait
//! for inserts that only reference the row, such as new registrations of a
//! user. SQLite needs nothing: `BEGIN IMMEDIATE` already holds the only
//! write lock. `skip_locked` lets several PostgreSQL workers claim disjoint
//! rows; on SQLite one writer at a time makes the UPDATE the whole claim.
//!
//! `matches_search` is a contains-search answered by the table's trigram
//! index (see `text_search.rs`); `$n` is a [`super::SearchTerm::Indexed`].
//!
//! `each_row_of` joins one row of a big table (by its primary key) to each
//! row of a small result, e.g. the person behind each registration of one
//! event. PostgreSQL, left to choose, often hashes the whole big table
//! instead (every user in the company for a 3,000-person event); the
//! subquery with `OFFSET 0` cannot be merged into the join, so it is looked
//! up once per row through the primary key and the cost follows the small
//! side. SQLite already starts from the filtered side and looks rows up.
//!
//! `first_rows_of` … `first_rows_end` joins to each row so far the rows of
//! `t` that the WHERE … ORDER BY … LIMIT written between them picks for it
//! (the newest five answers per question): each is read from an index and
//! stops at the limit, where ranking every row with a window function reads
//! them all. SQLite has no LATERAL; it runs the correlated `IN` once per
//! outer row and looks the ids up.
//!
//! Local days and months take the zone's offset in seconds as a parameter
//! (`$n`), so a count per day is a day in the organizer's zone, not UTC's.

/// One fragment spelled for one backend; literals pass through unchanged.
macro_rules! fragment {
    (Sqlite, json_object) => {
        "json_object"
    };
    (Postgres, json_object) => {
        "jsonb_build_object"
    };
    (Sqlite, lock_rows) => {
        ""
    };
    (Postgres, lock_rows) => {
        " FOR NO KEY UPDATE"
    };
    (Sqlite, skip_locked) => {
        ""
    };
    (Postgres, skip_locked) => {
        " FOR UPDATE SKIP LOCKED"
    };
    (Sqlite, [epoch_seconds $at:literal]) => {
        concat!("CAST(strftime('%s', ", $at, ") AS INTEGER)")
    };
    (Postgres, [epoch_seconds $at:literal]) => {
        concat!("CAST(EXTRACT(EPOCH FROM ", $at, ") AS BIGINT)")
    };
    (Sqlite, [local_day $at:literal, $offset:literal]) => {
        concat!("date(", $at, ", printf('%+d seconds', ", $offset, "))")
    };
    (Postgres, [local_day $at:literal, $offset:literal]) => {
        concat!(
            "CAST(CAST(",
            $at,
            " + make_interval(secs => ",
            $offset,
            ") AS DATE) AS TEXT)"
        )
    };
    (Sqlite, [local_month $at:literal, $offset:literal]) => {
        concat!(
            "strftime('%Y-%m', ",
            $at,
            ", printf('%+d seconds', ",
            $offset,
            "))"
        )
    };
    (Postgres, [local_month $at:literal, $offset:literal]) => {
        concat!(
            "to_char(",
            $at,
            " + make_interval(secs => ",
            $offset,
            "), 'YYYY-MM')"
        )
    };
    (Sqlite, [matches_search $alias:literal, $table:literal, $param:literal]) => {
        concat!(
            $alias,
            ".id IN (SELECT rowid FROM ",
            $table,
            "_search WHERE ",
            $table,
            "_search MATCH ",
            $param,
            ")"
        )
    };
    (Postgres, [matches_search $alias:literal, $table:literal, $param:literal]) => {
        concat!($alias, ".search_text ILIKE ", $param, " ESCAPE '\\'")
    };
    (Sqlite, [each_row_of $table:literal, $alias:literal, $key:literal]) => {
        concat!("JOIN ", $table, " ", $alias, " ON ", $alias, ".id = ", $key)
    };
    (Postgres, [each_row_of $table:literal, $alias:literal, $key:literal]) => {
        concat!(
            "CROSS JOIN LATERAL (SELECT * FROM ",
            $table,
            " one WHERE one.id = ",
            $key,
            " OFFSET 0) ",
            $alias
        )
    };
    (Sqlite, [json_entries $json:literal, $alias:literal]) => {
        concat!("json_each(", $json, ") ", $alias)
    };
    (Postgres, [json_entries $json:literal, $alias:literal]) => {
        concat!("jsonb_each(", $json, ") ", $alias)
    };
    (Sqlite, [json_numbers_in $entry:literal]) => {
        concat!(
            "json_each(CASE ",
            $entry,
            ".type WHEN 'array' THEN ",
            $entry,
            ".value WHEN 'integer' THEN json_array(",
            $entry,
            ".value) ELSE '[]' END)"
        )
    };
    (Postgres, [json_numbers_in $entry:literal]) => {
        concat!(
            "jsonb_array_elements(CASE jsonb_typeof(",
            $entry,
            ".value) WHEN 'array' THEN ",
            $entry,
            ".value WHEN 'number' THEN jsonb_build_array(",
            $entry,
            ".value) ELSE '[]'::jsonb END)"
        )
    };
    (Sqlite, [json_number $element:literal]) => {
        concat!($element, ".value")
    };
    (Postgres, [json_number $element:literal]) => {
        concat!("CAST(", $element, ".value #>> '{}' AS BIGINT)")
    };
    (Sqlite, [json_elements $json:literal, $alias:literal]) => {
        concat!("json_each(", $json, ") ", $alias)
    };
    (Postgres, [json_elements $json:literal, $alias:literal]) => {
        concat!("jsonb_array_elements(", $json, ") ", $alias)
    };
    (Sqlite, [json_field $entry:literal, $field:literal]) => {
        concat!("json_extract(", $entry, ".value, '$.", $field, "')")
    };
    (Postgres, [json_field $entry:literal, $field:literal]) => {
        concat!("(", $entry, ".value ->> '", $field, "')")
    };
    (Sqlite, [json_is_text $entry:literal]) => {
        concat!($entry, ".type = 'text'")
    };
    (Postgres, [json_is_text $entry:literal]) => {
        concat!("jsonb_typeof(", $entry, ".value) = 'string'")
    };
    (Sqlite, [json_text $entry:literal]) => {
        concat!($entry, ".value")
    };
    (Postgres, [json_text $entry:literal]) => {
        concat!("(", $entry, ".value #>> '{}')")
    };
    (Sqlite, [json_strings_in $json:literal, $alias:literal]) => {
        concat!("json_each(", $json, ") ", $alias)
    };
    (Postgres, [json_strings_in $json:literal, $alias:literal]) => {
        concat!(
            "jsonb_array_elements_text(",
            $json,
            ") AS ",
            $alias,
            "(value)"
        )
    };
    (Sqlite, [json_is_text_at $json:literal, $key:literal]) => {
        concat!("json_type(", $json, " -> ", $key, ") = 'text'")
    };
    (Postgres, [json_is_text_at $json:literal, $key:literal]) => {
        concat!("jsonb_typeof(", $json, " -> ", $key, ") = 'string'")
    };
    ($backend:ident, [json_text_at $json:literal, $key:literal]) => {
        concat!("(", $json, " ->> ", $key, ")")
    };
    (Sqlite, [first_rows_of $table:literal, $inner:literal, $alias:literal]) => {
        concat!(
            "JOIN ",
            $table,
            " ",
            $alias,
            " ON ",
            $alias,
            ".id IN (SELECT ",
            $inner,
            ".id FROM ",
            $table,
            " ",
            $inner,
            " WHERE "
        )
    };
    (Postgres, [first_rows_of $table:literal, $inner:literal, $alias:literal]) => {
        concat!(
            "CROSS JOIN LATERAL (SELECT ",
            $inner,
            ".* FROM ",
            $table,
            " ",
            $inner,
            " WHERE "
        )
    };
    (Sqlite, [first_rows_end $alias:literal]) => {
        ")"
    };
    (Postgres, [first_rows_end $alias:literal]) => {
        concat!(") ", $alias)
    };
    ($backend:ident, $sql:literal) => {
        $sql
    };
}
pub(crate) use fragment;

/// The statement made of `parts` for `backend`, as a `&'static str`.
macro_rules! dialect_sql {
    ($backend:expr, $($part:tt),+ $(,)?) => {
        match $backend {
            $crate::storage::Backend::Sqlite => {
                concat!($($crate::storage::dialect::fragment!(Sqlite, $part)),+)
            }
            $crate::storage::Backend::Postgres => {
                concat!($($crate::storage::dialect::fragment!(Postgres, $part)),+)
            }
        }
    };
}
pub(crate) use dialect_sql;

#[cfg(test)]
mod tests {
    use crate::storage::Backend;

    #[test]
    fn fragments_are_spelled_per_backend_and_literals_pass_through() {
        let sql = |backend| {
            dialect_sql!(
                backend,
                "SELECT ",
                json_object,
                "('at', ",
                [epoch_seconds "e.at"],
                ") FROM e",
                lock_rows
            )
        };
        assert_eq!(
            sql(Backend::Sqlite),
            "SELECT json_object('at', CAST(strftime('%s', e.at) AS INTEGER)) FROM e"
        );
        assert_eq!(
            sql(Backend::Postgres),
            "SELECT jsonb_build_object('at', CAST(EXTRACT(EPOCH FROM e.at) AS BIGINT)) FROM e FOR NO KEY UPDATE"
        );
    }
}
