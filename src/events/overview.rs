//! The administrators' view across events: events, seats and
//! fill rate per month, and attendance (no-show rate) per department — each
//! one grouped statement over the published events in a window of months,
//! found through the events' (status, start) index.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::{DepartmentAttendance, MonthCount, Overview};
use crate::Result;
use crate::storage::{Backend, Database, dialect_sql, on_pool};

/// The statements [`overview`] runs. `$1`/`$2` bound the event start; `$3`
/// is the zone's offset in seconds in the first, now in the second.
pub fn statements(backend: Backend) -> [&'static str; 2] {
    let per_month = dialect_sql!(
        backend,
        "SELECT ",
        [local_month "starts_at", "$3"],
        " AS month, COUNT(*), SUM(capacity), SUM(seats_taken)
         FROM events WHERE status = 'published' AND starts_at >= $1 AND starts_at < $2
         GROUP BY 1 ORDER BY 1"
    );
    [
        per_month,
        // Each event's seats and check-ins per department as the database
        // keeps them (a few rows an event, however many registered);
        // archived events from the figures they kept.
        "SELECT d.name, CAST(SUM(x.registered) AS BIGINT), CAST(SUM(x.checked_in) AS BIGINT)
         FROM (SELECT NULLIF(a.department_key, 0) AS department_id, a.registered, a.checked_in
                 FROM events e JOIN attendance_by_department a ON a.event_id = e.id
                WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2 AND e.ends_at <= $3
                  AND a.registered > 0
               UNION ALL
               SELECT a.department_id, a.registered, a.checked_in
                 FROM events e JOIN archived_department_figures a ON a.event_id = e.id
                WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2 AND e.ends_at <= $3) x
         LEFT JOIN departments d ON d.id = x.department_id
         GROUP BY d.name
         ORDER BY SUM(x.registered) DESC, d.name",
    ]
}

/// The zone's offset in seconds at the start of a window, as the
/// statements' `local_month` takes it: one offset for the window, as for
/// the dashboard's days.
pub(crate) fn window_offset(tz: Tz, from: DateTime<Utc>) -> f64 {
    f64::from(
        tz.offset_from_utc_datetime(&from.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// Published events starting in `[from, until)`: per company-local month,
/// and the attendance of those that are over, per department.
pub async fn overview(
    db: &Database,
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Overview> {
    let [per_month, attendance] = statements(db.backend());
    let offset = window_offset(tz, from);
    let months: Vec<(String, i64, Option<i64>, Option<i64>)> =
        on_pool!(db, |pool| sqlx::query_as(per_month)
            .bind(from)
            .bind(until)
            .bind(offset)
            .fetch_all(pool)
            .await?);
    let departments: Vec<(Option<String>, i64, i64)> =
        on_pool!(db, |pool| sqlx::query_as(attendance)
            .bind(from)
            .bind(until)
            .bind(now)
            .fetch_all(pool)
            .await?);
    Ok(Overview {
        months: months
            .into_iter()
            .map(|(month, events, capacity, seats_taken)| MonthCount {
                month,
                events,
                capacity: capacity.unwrap_or(0),
                seats_taken: seats_taken.unwrap_or(0),
            })
            .collect(),
        attendance: departments
            .into_iter()
            .map(
                |(department, registered, checked_in)| DepartmentAttendance {
                    department,
                    registered,
                    checked_in,
                },
            )
            .collect(),
    })
}
