//! Contains-search through an index: "研修" anywhere in an event's texts,
//! part of a person's name or address.
//!
//! Both backends index every three-character piece of the searched text
//! (PostgreSQL: `pg_trgm` on a `search_text` column; SQLite: an FTS5 table
//! with the trigram tokenizer, `<table>_search`). A search of three or more
//! characters is answered from that index and reads the rows that match. A
//! shorter one has no three-character piece to look up, so it is a LIKE over
//! the rows the statement reaches anyway (upcoming events, one page of
//! people in order), which is why the statements differ by length.

use super::{Backend, contains_pattern};

/// Searches this long or longer are looked up in the trigram index.
pub(crate) const INDEXED_MIN_CHARS: usize = 3;

/// A search as the statement that answers it binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchTerm {
    /// Three characters or more: the value for the `matches_search` fragment
    /// (a LIKE pattern on PostgreSQL, an FTS5 phrase on SQLite).
    Indexed(String),
    /// Shorter: a LIKE pattern (escape `\`) for the columns themselves.
    Scanned(String),
}

impl SearchTerm {
    /// `text` is the search as typed, trimmed and without control characters.
    pub(crate) fn new(backend: Backend, text: &str) -> Self {
        if text.chars().count() < INDEXED_MIN_CHARS {
            return Self::Scanned(contains_pattern(text));
        }
        Self::Indexed(match backend {
            Backend::Postgres => contains_pattern(text),
            Backend::Sqlite => fts5_phrase(text),
        })
    }
}

impl SearchTerm {
    /// The value the statement binds.
    pub(crate) fn into_value(self) -> String {
        match self {
            Self::Indexed(value) | Self::Scanned(value) => value,
        }
    }
}

/// `text` as one FTS5 phrase: with the trigram tokenizer a phrase matches
/// the texts containing it, case folded. Inside the quotes only `"` is
/// special, written twice.
fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_searches_scan_and_longer_ones_use_the_index() {
        assert_eq!(
            SearchTerm::new(Backend::Sqlite, "研修"),
            SearchTerm::Scanned("%研修%".into())
        );
        assert_eq!(
            SearchTerm::new(Backend::Sqlite, "研修会"),
            SearchTerm::Indexed("\"研修会\"".into())
        );
        assert_eq!(
            SearchTerm::new(Backend::Postgres, "50%_off"),
            SearchTerm::Indexed("%50\\%\\_off%".into())
        );
    }

    #[test]
    fn quotes_stay_inside_the_phrase() {
        assert_eq!(
            SearchTerm::new(Backend::Sqlite, "say \"hi\" OR x"),
            SearchTerm::Indexed("\"say \"\"hi\"\" OR x\"".into())
        );
    }
}
