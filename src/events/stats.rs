//! The organizer's numbers for one event: every figure is a SQL
//! aggregate over that event's registrations, reached through the
//! `registrations (event_id, …)` indexes — never by loading the rows into
//! the application. Four statements whatever the size of the event.

use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::{DayCount, DepartmentCount, EventStats};
use crate::model::RegistrationStatus;
use crate::storage::{Backend, Database, dialect_sql, on_pool};
use crate::{Error, Result};

#[derive(sqlx::FromRow)]
struct EventRow {
    capacity: i32,
    ends_at: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    archived: bool,
}

/// The statements [`event_stats`] runs, in order, for tests that look at
/// their plans. `$1` is the event id; the third also takes `$2`, the zone's
/// offset in seconds (a float).
pub fn statements(backend: Backend) -> [&'static str; 4] {
    let by_day = dialect_sql!(
        backend,
        "SELECT ",
        [local_day "registered_at", "$2"],
        " AS day, COUNT(*) FROM registrations WHERE event_id = $1 GROUP BY 1 ORDER BY 1"
    );
    // Seats and check-ins per department as the database keeps them for the
    // event: a few rows, however many registered.
    let by_department =
        "SELECT d.name, CAST(SUM(a.registered) AS BIGINT), CAST(SUM(a.checked_in) AS BIGINT)
         FROM attendance_by_department a
         LEFT JOIN departments d ON d.id = NULLIF(a.department_key, 0)
         WHERE a.event_id = $1 AND a.registered > 0
         GROUP BY d.name
         ORDER BY SUM(a.registered) DESC, d.name";
    [
        "SELECT capacity, starts_at, ends_at, history_archived_at IS NOT NULL AS archived
           FROM events WHERE id = $1",
        "SELECT status, COUNT(*) FROM registrations WHERE event_id = $1 GROUP BY status",
        by_day,
        by_department,
    ]
}

/// The numbers of an event whose personal rows the retention job archived:
/// as they were computed just before the rows were removed.
async fn archived_stats(db: &Database, event_id: i64) -> Result<EventStats> {
    let stats: String = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT stats FROM archived_event_figures WHERE event_id = $1"
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await?)
    .ok_or_else(|| {
        tracing::error!(event_id, "an archived event without its figures");
        Error::Internal
    })?;
    serde_json::from_str(&stats).map_err(|err| {
        tracing::error!(event_id, error = %err, "unreadable figures of an archived event");
        Error::Internal
    })
}

#[tracing::instrument(level = "debug", name = "db.event_stats", skip(db, tz, now))]
pub async fn event_stats(
    db: &Database,
    tz: Tz,
    event_id: i64,
    now: DateTime<Utc>,
) -> Result<EventStats> {
    let [event_sql, status_sql, by_day_sql, department_sql] = statements(db.backend());
    let event: EventRow = on_pool!(db, |pool| sqlx::query_as(event_sql)
        .bind(event_id)
        .fetch_optional(pool)
        .await?)
    .ok_or(Error::NotFound)?;
    if event.archived {
        return archived_stats(db, event_id).await;
    }

    let by_status: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(status_sql)
        .bind(event_id)
        .fetch_all(pool)
        .await?);
    let count = |wanted: &[RegistrationStatus]| -> i64 {
        by_status
            .iter()
            .filter(|(status, _)| {
                RegistrationStatus::parse(status).is_some_and(|s| wanted.contains(&s))
            })
            .map(|(_, n)| n)
            .sum()
    };
    let checked_in = count(&[RegistrationStatus::CheckedIn]);
    let registered = count(&[RegistrationStatus::Registered]) + checked_in;

    // The company-local day of each registration: the zone's offset at the
    // event's start stands for the whole sign-up period (a daylight-saving
    // change inside it moves at most an hour's registrations by a day).
    let offset_seconds = tz
        .offset_from_utc_datetime(&event.starts_at.naive_utc())
        .fix()
        .local_minus_utc();
    let days: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(by_day_sql)
        .bind(event_id)
        .bind(f64::from(offset_seconds))
        .fetch_all(pool)
        .await?);
    let by_day = days
        .into_iter()
        .filter_map(|(day, registrations)| {
            Some(DayCount {
                day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?,
                registrations,
            })
        })
        .collect();

    let departments: Vec<(Option<String>, i64, i64)> =
        on_pool!(db, |pool| sqlx::query_as(department_sql)
            .bind(event_id)
            .fetch_all(pool)
            .await?);

    Ok(EventStats {
        event_id,
        capacity: event.capacity,
        registered,
        checked_in,
        waitlisted: count(&[RegistrationStatus::Waitlisted]),
        cancelled: count(&[RegistrationStatus::Cancelled, RegistrationStatus::Removed]),
        no_shows: (event.ends_at <= now).then_some(registered - checked_in),
        by_day,
        by_department: departments
            .into_iter()
            .map(|(department, registered, checked_in)| DepartmentCount {
                department,
                registered,
                checked_in,
            })
            .collect(),
    })
}
