//! "My events": a person's registrations, upcoming and past.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{MyEventRow, MyEvents};
use crate::events::{SummaryRow, parse_event_status, summary_columns, to_second};
use crate::model::{EventStatus, RegistrationStatus};
use crate::storage::{Backend, Database, on_pool};
use crate::{Error, Result};

/// Most upcoming registrations listed; nobody attends more than this many
/// events ahead, and a list must have a bound.
pub const UPCOMING_LIMIT: i64 = 100;
/// Most past events listed, the most recent ones.
pub const PAST_LIMIT: i64 = 50;

#[derive(sqlx::FromRow)]
struct MineRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    event_status: String,
    registration_id: i64,
    status: String,
    waitlist_position: Option<i64>,
    ticket_code: Option<String>,
}

/// The columns of [`MineRow`] from `events e` and registrations `r`.
macro_rules! mine_columns {
    () => {
        concat!(
            summary_columns!(),
            ", e.status AS event_status, r.id AS registration_id, r.status,
               CASE WHEN r.status = 'waitlisted' THEN
                 (SELECT COUNT(*) FROM registrations w
                   WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
                     AND w.waitlist_seq <= r.waitlist_seq)
               END AS waitlist_position,
               CASE WHEN r.status IN ('registered', 'checked_in') THEN r.ticket_code END AS ticket_code"
        )
    };
}

/// Each of the person's rows looks its event up by id: PostgreSQL, left to
/// choose, hashes the whole events table while it holds a few thousand
/// (ten years of past events), and the page then costs the company's events
/// instead of the person's.
macro_rules! upcoming_sql {
    ($dialect:ident) => {
        concat!(
    "SELECT ",
    mine_columns!(),
    "  FROM registrations r ",
    crate::storage::dialect::fragment!($dialect, [each_row_of "events", "e", "r.event_id"]),
    " WHERE r.user_id = $1
        AND r.status IN ('registered', 'waitlisted', 'checked_in')
        AND e.status IN ('published', 'cancelled')
        AND e.ends_at > $2
      ORDER BY e.starts_at, e.id
      LIMIT $3"
        )
    };
}

fn upcoming_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => upcoming_sql!(Sqlite),
        Backend::Postgres => upcoming_sql!(Postgres),
    }
}

/// The person's live registrations of events not over yet, soonest first,
/// at most [`UPCOMING_LIMIT`]: "My events" above the line, and the marks on
/// the event list. One statement.
pub async fn upcoming(
    db: &Database,
    user_id: i64,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<MyEventRow>> {
    let now = to_second(now);
    let rows: Vec<MineRow> = on_pool!(db, |pool| sqlx::query_as(upcoming_sql(db.backend()))
        .bind(user_id)
        .bind(now)
        .bind(UPCOMING_LIMIT)
        .fetch_all(pool)
        .await?);
    rows.into_iter()
        .map(|row| row.into_my_row(tz, now))
        .collect()
}

/// The statements behind [`mine`] (past, then upcoming) with their parameters
/// `$1` user, `$2` now, `$3` limit, for tests that read their plans.
pub fn statements(backend: Backend) -> [&'static str; 2] {
    [PAST, upcoming_sql(backend)]
}

// Someone who cancelled and registered again has several rows for one
// event; the latest tells how it ended. The window runs over this
// person's rows only, found by the (user_id, status) index.
const PAST: &str = concat!(
    "SELECT ",
    mine_columns!(),
    "  FROM (SELECT id, event_id, status, waitlist_seq, ticket_code,
                    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY id DESC) AS nth
               FROM registrations
              WHERE user_id = $1) r
       JOIN events e ON e.id = r.event_id
      WHERE r.nth = 1
        AND e.status IN ('published', 'cancelled')
        AND e.ends_at <= $2
      ORDER BY e.starts_at DESC, e.id DESC
      LIMIT $3"
);

/// The person's registrations in two statements, whatever their history.
///
/// Upcoming: events not over yet (published or cancelled) with a live
/// registration, soonest first, at most [`UPCOMING_LIMIT`]. Past: events
/// that are over, most recent first, at most [`PAST_LIMIT`], each with the
/// person's latest registration for it, cancelled ones included.
#[tracing::instrument(level = "debug", name = "db.my_events", skip(db, tz, now))]
pub async fn mine(db: &Database, user_id: i64, tz: Tz, now: DateTime<Utc>) -> Result<MyEvents> {
    let now = to_second(now);
    let past: Vec<MineRow> = on_pool!(db, |pool| sqlx::query_as(PAST)
        .bind(user_id)
        .bind(now)
        .bind(PAST_LIMIT)
        .fetch_all(pool)
        .await?);
    Ok(MyEvents {
        upcoming: upcoming(db, user_id, tz, now).await?,
        past: past
            .into_iter()
            .map(|row| row.into_my_row(tz, now))
            .collect::<Result<_>>()?,
    })
}

impl MineRow {
    fn into_my_row(self, tz: Tz, now: DateTime<Utc>) -> Result<MyEventRow> {
        let event = self.summary.into_summary(tz)?;
        let status = RegistrationStatus::parse(&self.status).ok_or_else(|| {
            tracing::error!(registration = self.registration_id, status = %self.status, "unknown registration status");
            Error::Internal
        })?;
        let event_status = parse_event_status(event.id, &self.event_status)?;
        // The rule `end` enforces: until the start, and only what is live.
        let can_cancel = now < event.starts_at
            && event_status != EventStatus::Cancelled
            && matches!(
                status,
                RegistrationStatus::Registered | RegistrationStatus::Waitlisted
            );
        Ok(MyEventRow {
            event_status,
            can_cancel,
            event,
            registration_id: self.registration_id,
            status,
            waitlist_position: self.waitlist_position,
            ticket_code: self.ticket_code,
        })
    }
}
