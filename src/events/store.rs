//! The queries behind events: creating one, the upcoming list, the event page.

use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{EventDetail, EventDraft, MAX_SEARCH_CHARS, MyRegistration, UpcomingFilter};
use crate::model::{
    Category, EventCursor, EventStatus, EventSummary, MAX_PAGE_SIZE, Page, RegistrationStatus,
};
use crate::reason::{Field, Reason};
use crate::registrations::EventWindow;
use crate::storage::dialect::fragment;
use crate::storage::{Backend, Database, SearchTerm, on_pool};
use crate::text_rules::{self, Lines};
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

/// The most seats an event can have.
pub const MAX_CAPACITY: i32 = 100_000;

/// The longest title; the event form says the same with `maxlength`.
pub const MAX_TITLE_CHARS: usize = 200;

/// The rules every event meets, however it is made: a title in one of the
/// languages, an end after the start, a sane capacity.
pub(crate) fn check_event(
    title_ja: &Option<String>,
    title_en: &Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
) -> Result<()> {
    if trimmed(title_ja).is_none() && trimmed(title_en).is_none() {
        return Err(Error::Invalid(Reason::TitleMissing));
    }
    for title in [title_ja, title_en].into_iter().flatten() {
        text_rules::check(Field::Title, title.trim(), MAX_TITLE_CHARS, Lines::One)?;
    }
    if ends_at <= starts_at {
        return Err(Error::Invalid(Reason::EndsBeforeStart));
    }
    // An event nobody can attend is a mistake in the form, not a plan.
    if !(1..=MAX_CAPACITY).contains(&capacity) {
        return Err(Error::Invalid(Reason::CapacityOutOfRange {
            max: MAX_CAPACITY as u32,
        }));
    }
    Ok(())
}

/// A title as stored: trimmed, and none when blank.
pub(crate) fn trimmed(title: &Option<String>) -> Option<String> {
    title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Event times are kept to the second so that SQLite's text timestamps sort
/// exactly like the instants they stand for.
pub(crate) fn to_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// Creates an event from its fields (the demo, imports, tests), through the
/// same checks and audit as one an organizer creates.
pub async fn create(db: &Database, event: &NewEvent) -> Result<i64> {
    let draft = EventDraft {
        title_ja: event.title_ja.clone(),
        title_en: event.title_en.clone(),
        description_ja: event.description_ja.clone(),
        description_en: event.description_en.clone(),
        category: event.category,
        place: event.place.clone(),
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        capacity: event.capacity,
        registration_opens_at: None,
        registration_closes_at: None,
    };
    super::manage::insert(db, event.organizer_id, &draft, event.status, Utc::now()).await
}

/// The columns of [`SummaryRow`], read from `events e`; the waitlist is
/// counted on its partial index.
macro_rules! summary_columns {
    () => {
        "e.id, e.title_ja, e.title_en, e.category, e.place, e.starts_at, e.ends_at,
         e.capacity, e.seats_taken,
         (SELECT COUNT(*) FROM registrations w
           WHERE w.event_id = e.id AND w.status = 'waitlisted') AS waitlisted"
    };
}
pub(crate) use summary_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
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

impl SummaryRow {
    pub(crate) fn into_summary(self, tz: Tz) -> Result<EventSummary> {
        let category = Category::parse(&self.category).ok_or_else(|| {
            tracing::error!(event = self.id, category = %self.category, "unknown category in database");
            Error::Internal
        })?;
        let utc_offset_seconds = utc_offset_at(tz, self.starts_at);
        Ok(EventSummary {
            id: self.id,
            title_ja: self.title_ja,
            title_en: self.title_en,
            category,
            place: self.place,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            utc_offset_seconds,
            capacity: self.capacity,
            seats_taken: self.seats_taken,
            waitlisted: i32::try_from(self.waitlisted).unwrap_or(i32::MAX),
        })
    }
}

pub(crate) fn parse_event_status(id: i64, code: &str) -> Result<EventStatus> {
    EventStatus::parse(code).ok_or_else(|| {
        tracing::error!(event = id, status = %code, "unknown event status in database");
        Error::Internal
    })
}

/// Bounds beyond any real event. SQLite keeps timestamps as text, which
/// sorts like time only for four-digit years, so no bound may pass this.
/// Before any event: the start of year 1, which both backends store.
pub(crate) fn earliest_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub(crate) fn latest_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The instant a calendar day begins in `tz`. Where a clock change skips
/// midnight, the day begins at the first whole hour that exists.
fn start_of_day(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=4)
        .find_map(|hours| {
            tz.from_local_datetime(&(midnight + TimeDelta::hours(hours)))
                .earliest()
        })
        .map(|local| local.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
        .min(latest_instant())
}

/// The search as typed, without control characters and surrounding space,
/// none when blank; refused when too long.
pub(crate) fn search_text(search: Option<&str>) -> Result<Option<String>> {
    // Nobody types control characters, and PostgreSQL refuses a NUL in text.
    let text: String = search
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(Error::Invalid(Reason::SearchTooLong {
            max_chars: MAX_SEARCH_CHARS as u32,
        }));
    }
    Ok(Some(text.to_owned()))
}

/// The search as a LIKE pattern: `%`, `_` and the escape character itself
/// stand for themselves. Case is folded in SQL (`LOWER` on both sides), so
/// each backend folds the text and the search the same way: SQLite only
/// ASCII, which suits Japanese (it has no case), PostgreSQL per its locale.
pub(crate) fn search_pattern(search: Option<&str>) -> Result<Option<String>> {
    Ok(search_text(search)?.map(|text| crate::storage::contains_pattern(&text)))
}

/// The upcoming list's statement with `$search` added to its conditions.
/// There is one statement per way of searching, so a plan cached for one is
/// never used for another (an index plan made for a long search would read
/// every event for a short one).
macro_rules! upcoming_sql {
    ($search:expr) => {
        concat!(
            "SELECT ",
            summary_columns!(),
            "  FROM events e
              WHERE e.status = 'published'
                AND e.starts_at >= $1 AND (e.starts_at > $1 OR e.id > $2)
                AND e.starts_at < $3
                AND ($4 IS NULL OR e.category = $4)
                AND (NOT $5 OR e.seats_taken < e.capacity)",
            $search,
            " ORDER BY e.starts_at, e.id
              LIMIT $6"
        )
    };
}

/// The upcoming list's statement for a search of three characters or more,
/// answered by the search index (`$7`); public for plan tests.
pub fn upcoming_search_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => upcoming_sql!(concat!(
            " AND ",
            fragment!(Sqlite, [matches_search "e", "events", "$7"])
        )),
        Backend::Postgres => upcoming_sql!(concat!(
            " AND ",
            fragment!(Postgres, [matches_search "e", "events", "$7"])
        )),
    }
}

/// Published events from the start of today (company time) on, ordered by
/// start, one keyset page at a time: the cost of a page does not grow with
/// history, and it is one statement whatever the page size
/// and the filters. `page_size` is capped at [`MAX_PAGE_SIZE`].
///
/// Dates in the filter are days in `tz`; a `from` before today means today.
#[tracing::instrument(level = "debug", name = "db.list_upcoming", skip_all)]
pub async fn list_upcoming(
    db: &Database,
    tz: Tz,
    now: DateTime<Utc>,
    filter: &UpcomingFilter,
    after: Option<EventCursor>,
    page_size: u32,
) -> Result<Page<EventSummary>> {
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let search = search_text(filter.search.as_deref())?;
    // Days past the year 9999 mean "no bound": see `latest_instant`.
    let last_day = NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or(NaiveDate::MAX);
    let today = now.with_timezone(&tz).date_naive();
    let first_day = filter
        .from
        .map_or(today, |from| from.max(today))
        .min(last_day);
    let lower = start_of_day(tz, first_day);
    let upper = match filter.to.and_then(|to| to.succ_opt()) {
        Some(day_after) if day_after <= last_day => start_of_day(tz, day_after),
        _ => latest_instant(),
    };
    let after = after
        .filter(|cursor| cursor.starts_at >= lower)
        .unwrap_or(EventCursor {
            starts_at: lower,
            id: 0,
        });
    let limit = i64::from(page_size) + 1;
    let category = filter.category.map(Category::code);
    let search = search.map(|text| SearchTerm::new(db.backend(), &text));
    let sql = match &search {
        None => upcoming_sql!(""),
        Some(SearchTerm::Indexed(_)) => upcoming_search_statement(db.backend()),
        Some(SearchTerm::Scanned(_)) => upcoming_sql!(
            " AND (LOWER(e.title_ja) LIKE LOWER($7) ESCAPE '\\'
                   OR LOWER(e.title_en) LIKE LOWER($7) ESCAPE '\\'
                   OR LOWER(e.place) LIKE LOWER($7) ESCAPE '\\'
                   OR LOWER(e.description_ja) LIKE LOWER($7) ESCAPE '\\'
                   OR LOWER(e.description_en) LIKE LOWER($7) ESCAPE '\\')"
        ),
    };
    let term = search.map(SearchTerm::into_value);
    let rows: Vec<SummaryRow> = on_pool!(db, |pool| {
        // A search is planned for its own words each time (an unnamed
        // statement): a plan kept for another search would not know
        // whether the index or the order is the cheaper way to it.
        let query = sqlx::query_as(sql)
            .persistent(term.is_none())
            .bind(after.starts_at)
            .bind(after.id)
            .bind(upper)
            .bind(category)
            .bind(filter.seats_left_only)
            .bind(limit);
        match &term {
            Some(term) => query.bind(term.as_str()),
            None => query,
        }
        .fetch_all(pool)
        .await?
    });
    let has_more = rows.len() > page_size as usize;
    let items: Vec<EventSummary> = rows
        .into_iter()
        .take(page_size as usize)
        .map(|row| row.into_summary(tz))
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

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    description_ja: String,
    description_en: String,
    organizer_id: Option<i64>,
    organizer_name: Option<String>,
    #[sqlx(flatten)]
    window: EventWindow,
    version: i32,
    updated_at: DateTime<Utc>,
    my_id: Option<i64>,
    my_status: Option<String>,
    my_position: Option<i64>,
}

/// One event as its page shows it, with the viewer's own live registration.
///
/// Drafts are [`Error::NotFound`] unless `can_see_drafts`; a draft's window
/// is [`super::RegistrationWindow::Closed`]. One statement.
#[tracing::instrument(level = "debug", name = "db.event_detail", skip_all)]
pub async fn detail(
    db: &Database,
    tz: Tz,
    event_id: i64,
    viewer: Option<i64>,
    can_see_drafts: bool,
    now: DateTime<Utc>,
) -> Result<EventDetail> {
    const SELECT: &str = concat!(
        "SELECT ",
        summary_columns!(),
        ", e.description_ja, e.description_en, e.organizer_id, o.display_name AS organizer_name,
           e.status, e.registration_opens_at, e.registration_closes_at, e.version, e.updated_at,
           r.id AS my_id, r.status AS my_status,
           CASE WHEN r.status = 'waitlisted' THEN
             (SELECT COUNT(*) FROM registrations w
               WHERE w.event_id = e.id AND w.status = 'waitlisted' AND w.waitlist_seq <= r.waitlist_seq)
           END AS my_position
      FROM events e
      LEFT JOIN users o ON o.id = e.organizer_id
      LEFT JOIN registrations r
        ON r.event_id = e.id AND r.user_id = $2 AND r.status IN ('registered', 'waitlisted', 'checked_in')
     WHERE e.id = $1"
    );
    let row: DetailRow = on_pool!(db, |pool| {
        sqlx::query_as(SELECT)
            .bind(event_id)
            .bind(viewer)
            .fetch_optional(pool)
            .await?
    })
    .ok_or(Error::NotFound)?;
    let status = parse_event_status(event_id, &row.window.status)?;
    if status == EventStatus::Draft && !can_see_drafts {
        return Err(Error::NotFound);
    }
    let window = row
        .window
        .window(now, tz)
        .unwrap_or(super::RegistrationWindow::Closed);
    let mine = match (row.my_id, row.my_status) {
        (Some(id), Some(code)) => Some(MyRegistration {
            id,
            status: RegistrationStatus::parse(&code).ok_or_else(|| {
                tracing::error!(registration = id, status = %code, "unknown registration status");
                Error::Internal
            })?,
            waitlist_position: row.my_position,
        }),
        _ => None,
    };
    Ok(EventDetail {
        event: row.summary.into_summary(tz)?,
        description_ja: row.description_ja,
        description_en: row.description_en,
        organizer_id: row.organizer_id,
        organizer_name: row.organizer_name,
        registration_opens_at: row.window.registration_opens_at,
        registration_closes_at: row.window.registration_closes_at,
        status,
        window,
        mine,
        version: row.version,
        updated_at: row.updated_at,
    })
}

/// The company zone's offset from UTC at `at`, in seconds: what the browser,
/// which has no time zone database, adds to show local wall-clock time.
pub(crate) fn utc_offset_at(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}
