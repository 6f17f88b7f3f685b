//! Retention: after `retention_months` past an event's end, its personal
//! data (registrations with their check-ins, who answered its survey and
//! the answers) is to be archived and removed, while the event keeps its
//! figures.
//!
//! [`plan`] says what the next run would do (`tsudoi retention --dry-run`
//! and the admin page); [`job`] archives and removes; [`archive_files`] is
//! the archive's format; [`restore`] brings an archived event back.

use std::collections::HashMap;

use chrono::{DateTime, Months, Utc};

use crate::Result;
use crate::storage::{Database, on_pool};

pub mod archive_files;
pub mod job;
pub mod restore;

/// Which events a run takes (`e`): ended before the cutoff (`$1`), not
/// archived yet, and with no survey still taking answers at `$2` (now).
macro_rules! due_events_where {
    () => {
        "e.history_archived_at IS NULL AND e.ends_at < $1
         AND NOT EXISTS (SELECT 1 FROM surveys ds WHERE ds.event_id = e.id AND ds.closes_at > $2)"
    };
}

/// The ids of the events a run at `$2` takes with cutoff `$1`, oldest first.
pub(crate) fn due_events_sql() -> &'static str {
    concat!(
        "SELECT e.id FROM events e WHERE ",
        due_events_where!(),
        " ORDER BY e.ends_at, e.id"
    )
}

/// The personal rows an event holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonalRows {
    pub registrations: i64,
    /// Of the registrations, those checked in at the door.
    pub checked_in: i64,
    pub survey_respondents: i64,
    pub survey_responses: i64,
}

impl PersonalRows {
    fn add(&mut self, other: &PersonalRows) {
        self.registrations += other.registrations;
        self.checked_in += other.checked_in;
        self.survey_respondents += other.survey_respondents;
        self.survey_responses += other.survey_responses;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredEvent {
    pub event_id: i64,
    pub title_ja: Option<String>,
    pub title_en: Option<String>,
    pub ended_at: DateTime<Utc>,
    pub rows: PersonalRows,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPlan {
    /// Events that ended before this are past the limit.
    pub cutoff: DateTime<Utc>,
    /// Oldest first.
    pub events: Vec<ExpiredEvent>,
    pub totals: PersonalRows,
}

/// An event past the limit: id, titles, end.
type EventRow = (i64, Option<String>, Option<String>, DateTime<Utc>);

/// The end of the retention period for events ending `months` before `now`
/// (calendar months: from 31 March, one month back is 28 or 29 February).
pub fn cutoff(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Which events are past `months` of retention at `now`, and what personal
/// rows each holds. Three grouped statements, whatever the number of events.
#[tracing::instrument(level = "debug", name = "db.retention_plan", skip(db, now))]
pub async fn plan(db: &Database, now: DateTime<Utc>, months: u32) -> Result<RetentionPlan> {
    let cutoff = cutoff(now, months);
    let events: Vec<EventRow> = on_pool!(db, |pool| sqlx::query_as(concat!(
        "SELECT e.id, e.title_ja, e.title_en, e.ends_at FROM events e WHERE ",
        due_events_where!(),
        " ORDER BY e.ends_at, e.id"
    ))
    .bind(cutoff)
    .bind(now)
    .fetch_all(pool)
    .await?);
    let registrations: Vec<(i64, i64, i64)> = on_pool!(db, |pool| sqlx::query_as(concat!(
        "SELECT r.event_id, COUNT(*),
                COALESCE(SUM(CASE WHEN r.status = 'checked_in' THEN 1 ELSE 0 END), 0)
           FROM registrations r JOIN events e ON e.id = r.event_id
          WHERE ",
        due_events_where!(),
        " GROUP BY r.event_id"
    ))
    .bind(cutoff)
    .bind(now)
    .fetch_all(pool)
    .await?);
    let surveys: Vec<(i64, i64, i64)> = on_pool!(db, |pool| {
        sqlx::query_as(concat!(
        "SELECT s.event_id,
                (SELECT COUNT(*) FROM survey_respondents p WHERE p.survey_id = s.id),
                (SELECT COUNT(*) FROM survey_responses a WHERE a.survey_id = s.id AND a.user_id IS NOT NULL)
           FROM surveys s JOIN events e ON e.id = s.event_id
          WHERE ",
        due_events_where!()
    ))
    .bind(cutoff)
    .bind(now)
    .fetch_all(pool)
    .await?
    });

    let registrations: HashMap<i64, (i64, i64)> = registrations
        .into_iter()
        .map(|(event, all, checked_in)| (event, (all, checked_in)))
        .collect();
    let surveys: HashMap<i64, (i64, i64)> = surveys
        .into_iter()
        .map(|(event, respondents, responses)| (event, (respondents, responses)))
        .collect();
    let mut totals = PersonalRows::default();
    let events = events
        .into_iter()
        .map(|(event_id, title_ja, title_en, ended_at)| {
            let mut rows = PersonalRows::default();
            if let Some(&(all, checked_in)) = registrations.get(&event_id) {
                rows.registrations = all;
                rows.checked_in = checked_in;
            }
            if let Some(&(respondents, responses)) = surveys.get(&event_id) {
                rows.survey_respondents = respondents;
                rows.survey_responses = responses;
            }
            totals.add(&rows);
            ExpiredEvent {
                event_id,
                title_ja,
                title_en,
                ended_at,
                rows,
            }
        })
        .collect();
    Ok(RetentionPlan {
        cutoff,
        events,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_cutoff_counts_calendar_months() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 9, 0, 0).unwrap();
        assert_eq!(
            cutoff(now, 1),
            Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff(now, 24),
            Utc.with_ymd_and_hms(2024, 3, 31, 9, 0, 0).unwrap()
        );
    }
}
