//! Times in `<time datetime>`: HTML allows at most three digits of a
//! fraction of a second there, and chrono's `to_rfc3339` writes up to nine
//! (audit entries and mail carry microseconds). Whole seconds say enough.

use chrono::{DateTime, SecondsFormat, TimeZone};

/// `at` as a valid global date and time string, to the second.
pub fn datetime_attribute<Tz: TimeZone>(at: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn whole_seconds_with_the_offset() {
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T03:04:05.123456789Z")
            .unwrap()
            .with_timezone(&tokyo);
        assert_eq!(datetime_attribute(&at), "2026-12-05T12:04:05+09:00");
        let utc = at.with_timezone(&chrono::Utc);
        assert_eq!(datetime_attribute(&utc), "2026-12-05T03:04:05+00:00");
    }
}
