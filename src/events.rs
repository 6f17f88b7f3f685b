//! Events: creating them and listing the upcoming ones.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{Category, EventCursor, EventStatus, EventSummary, Page};
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// What an organizer fills in to create an event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub title_ja: Option<String>,
    pub title_en: Option<String>,
    pub description_ja: String,
    pub description_en: String,
    pub category: Category,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub status: EventStatus,
    pub organizer_id: Option<i64>,
}

impl NewEvent {
    fn validate(&self) -> Result<()> {
        let blank = |t: &Option<String>| t.as_deref().is_none_or(|t| t.trim().is_empty());
        if blank(&self.title_ja) && blank(&self.title_en) {
            return Err(Error::Invalid(
                "An event needs a title in Japanese or English.".into(),
            ));
        }
        if self.ends_at <= self.starts_at {
            return Err(Error::Invalid("An event must end after it starts.".into()));
        }
        if !(0..=100_000).contains(&self.capacity) {
            return Err(Error::Invalid(
                "Capacity must be between 0 and 100,000.".into(),
            ));
        }
        Ok(())
    }
}

/// Event times are kept to the second so that SQLite's text timestamps sort
/// exactly like the instants they stand for.
fn to_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

pub async fn create(db: &Database, event: &NewEvent) -> Result<i64> {
    event.validate()?;
    let trimmed = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let now = Utc::now();
    let id: i64 = on_pool!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO events (title_ja, title_en, description_ja, description_en, category, place,
                                 starts_at, ends_at, capacity, status, organizer_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
             RETURNING id",
        )
        .bind(trimmed(&event.title_ja))
        .bind(trimmed(&event.title_en))
        .bind(&event.description_ja)
        .bind(&event.description_en)
        .bind(event.category.code())
        .bind(event.place.trim())
        .bind(to_second(event.starts_at))
        .bind(to_second(event.ends_at))
        .bind(event.capacity)
        .bind(event.status.code())
        .bind(event.organizer_id)
        .bind(now)
        .fetch_one(pool)
        .await?
    });
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    title_ja: Option<String>,
    title_en: Option<String>,
    category: String,
    place: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    seats_taken: i32,
    waitlisted: i64,
}

/// What the public list may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct UpcomingFilter {
    pub category: Option<Category>,
}

/// Published events from the start of today (company time) on, ordered by
/// start, one keyset page at a time: the cost of a page does not grow with
/// history (review S-1, S-5), and it is one statement whatever the page size.
pub async fn list_upcoming(
    db: &Database,
    tz: Tz,
    now: DateTime<Utc>,
    filter: &UpcomingFilter,
    after: Option<EventCursor>,
    page_size: u32,
) -> Result<Page<EventSummary>> {
    let start_of_today = now
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map(|local| local.with_timezone(&Utc))
        .unwrap_or(now);
    let after = after
        .filter(|cursor| cursor.starts_at >= start_of_today)
        .unwrap_or(EventCursor {
            starts_at: start_of_today,
            id: 0,
        });
    let limit = i64::from(page_size) + 1;
    let category = filter.category.map(Category::code);
    let rows: Vec<SummaryRow> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT e.id, e.title_ja, e.title_en, e.category, e.place, e.starts_at, e.ends_at,
                    e.capacity, e.seats_taken,
                    (SELECT COUNT(*) FROM registrations r
                      WHERE r.event_id = e.id AND r.status = 'waitlisted') AS waitlisted
               FROM events e
              WHERE e.status = 'published'
                AND e.starts_at >= $1 AND (e.starts_at > $1 OR e.id > $2)
                AND ($3 IS NULL OR e.category = $3)
              ORDER BY e.starts_at, e.id
              LIMIT $4",
        )
        .bind(after.starts_at)
        .bind(after.id)
        .bind(category)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let has_more = rows.len() > page_size as usize;
    let items: Vec<EventSummary> = rows
        .into_iter()
        .take(page_size as usize)
        .map(|row| summary(row, tz))
        .collect::<Result<_>>()?;
    let next = has_more
        .then(|| {
            items.last().map(|last| EventCursor {
                starts_at: last.starts_at,
                id: last.id,
            })
        })
        .flatten();
    Ok(Page { items, next })
}

fn summary(row: SummaryRow, tz: Tz) -> Result<EventSummary> {
    let category = Category::parse(&row.category).ok_or_else(|| {
        tracing::error!(event = row.id, category = %row.category, "unknown category in database");
        Error::Internal
    })?;
    let utc_offset_seconds = tz
        .offset_from_utc_datetime(&row.starts_at.naive_utc())
        .fix()
        .local_minus_utc();
    Ok(EventSummary {
        id: row.id,
        title_ja: row.title_ja,
        title_en: row.title_en,
        category,
        place: row.place,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        utc_offset_seconds,
        capacity: row.capacity,
        seats_taken: row.seats_taken,
        waitlisted: i32::try_from(row.waitlisted).unwrap_or(i32::MAX),
    })
}
