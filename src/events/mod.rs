//! Events: creating them, the public list and the event page.
//!
//! The shapes here travel to the browser, so they compile without the
//! `server` feature; the queries behind them are in `store`.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Category, EventStatus, EventSummary, RegistrationStatus};

#[cfg(feature = "server")]
pub mod attendees;
#[cfg(feature = "server")]
pub mod list_cache;
#[cfg(feature = "server")]
pub mod manage;
#[cfg(feature = "server")]
pub mod overview;
#[cfg(feature = "server")]
mod stats;
#[cfg(feature = "server")]
pub mod stats_cache;
#[cfg(feature = "server")]
mod store;

#[cfg(feature = "server")]
pub use stats::{event_stats, statements as stats_statements};
#[cfg(feature = "server")]
pub use store::{MAX_CAPACITY, NewEvent, create, detail, list_upcoming, upcoming_search_statement};
#[cfg(feature = "server")]
pub(crate) use store::{
    SummaryRow, check_event, earliest_instant, latest_instant, parse_event_status, search_pattern,
    search_text, summary_columns, to_second, trimmed, utc_offset_at,
};

/// Longest keyword search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;

/// What the public list may be narrowed to. Every filter is optional and
/// they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpcomingFilter {
    pub category: Option<Category>,
    /// Events starting on or after this day, in the company time zone.
    pub from: Option<NaiveDate>,
    /// Events starting on or before this day (inclusive), in the company time zone.
    pub to: Option<NaiveDate>,
    /// Only events with a free seat (a full event only offers its waitlist).
    pub seats_left_only: bool,
    /// Case-insensitive substring of a title, the place or a description.
    /// `%` and `_` are literal characters, not wildcards.
    pub search: Option<String>,
}

/// Whether someone can register for an event now, and if not, why.
///
/// Decided by the same rule that `registrations::register` enforces, so the
/// page never offers a button the server then refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationWindow {
    /// Opens later; the time is in the company time zone, ready to show.
    NotYetOpen {
        opens_at: DateTime<FixedOffset>,
    },
    Open,
    /// The registration deadline has passed, or the event is a draft
    /// (only organizers see those; [`EventDetail::status`] tells which).
    Closed,
    /// The event has begun (or is over) and registration has closed with it.
    Started,
    Cancelled,
}

/// The viewer's own live registration for the event on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRegistration {
    pub id: i64,
    pub status: RegistrationStatus,
    /// 1 for the first in line; only while waitlisted.
    pub waitlist_position: Option<i64>,
}

/// Everything the event page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    /// Titles, time, place and seats, as in the list.
    pub event: EventSummary,
    pub description_ja: String,
    pub description_en: String,
    pub organizer_id: Option<i64>,
    pub organizer_name: Option<String>,
    pub registration_opens_at: Option<DateTime<Utc>>,
    /// When unset, registration closes when the event starts.
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub status: EventStatus,
    pub window: RegistrationWindow,
    pub mine: Option<MyRegistration>,
    /// Raised by every change to the event; calendar files use it as SEQUENCE.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// An organizer's numbers for one event, each a SQL aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventStats {
    pub event_id: i64,
    pub capacity: i32,
    /// Seats held: registered or checked in.
    pub registered: i64,
    pub checked_in: i64,
    pub waitlisted: i64,
    /// Cancelled by the person or removed by the organizer.
    pub cancelled: i64,
    /// Once the event has ended: seat holders who never checked in.
    pub no_shows: Option<i64>,
    /// Registrations made per company-local day, oldest first (cancelled
    /// ones included: this is when people signed up).
    pub by_day: Vec<DayCount>,
    /// Seat holders per department, largest first; `None` for people
    /// without a department.
    pub by_department: Vec<DepartmentCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub registrations: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentCount {
    pub department: Option<String>,
    pub registered: i64,
    pub checked_in: i64,
}

/// An event as its organizer edits it: every field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    pub title_ja: Option<String>,
    pub title_en: Option<String>,
    pub description_ja: String,
    pub description_en: String,
    pub category: Category,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    /// Registration opens at publication when unset.
    pub registration_opens_at: Option<DateTime<Utc>>,
    /// Registration closes when the event starts when unset.
    pub registration_closes_at: Option<DateTime<Utc>>,
}

/// One of an organizer's events, with what the edit form needs besides the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedEvent {
    pub id: i64,
    pub status: EventStatus,
    pub organizer_id: Option<i64>,
    pub seats_taken: i32,
    /// Sent back with an edit, so a concurrent edit is not overwritten.
    pub version: i32,
    pub draft: EventDraft,
    /// The company zone's offset at the start, so the browser shows the
    /// local day and time without a time zone database.
    pub utc_offset_seconds: i32,
}

impl EventDraft {
    /// The title in the wanted language, falling back to the other one.
    pub fn title(&self, lang: crate::model::Lang) -> &str {
        lang.pick(self.title_ja.as_deref(), self.title_en.as_deref())
    }
}

impl ManagedEvent {
    pub fn local_start(&self) -> DateTime<FixedOffset> {
        crate::model::to_local(self.draft.starts_at, self.utc_offset_seconds)
    }
}

/// A page of an organizer's events, latest start first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPage {
    pub items: Vec<ManagedEvent>,
    pub next: Option<crate::model::EventCursor>,
}

/// Which of an event's people the organizer's list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeeFilter {
    pub status: Option<RegistrationStatus>,
    /// Part of a name or e-mail address, case-insensitive; `%` and `_` literal.
    pub search: Option<String>,
}

/// One person registered for an event (in any state), for its organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub registration_id: i64,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub department: Option<String>,
    pub status: RegistrationStatus,
    pub registered_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub ticket_code: Option<String>,
}

/// Position after the last row of a page of attendees, ordered by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeeCursor {
    pub name: String,
    pub registration_id: i64,
}

impl AttendeeCursor {
    /// For URLs: `"<registration id>_<name>"`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.registration_id, self.name)
    }

    pub fn decode(text: &str) -> Option<AttendeeCursor> {
        let (id, name) = text.split_once('_')?;
        Some(AttendeeCursor {
            name: name.to_string(),
            registration_id: id.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeePage {
    pub items: Vec<Attendee>,
    pub next: Option<AttendeeCursor>,
}

/// Across events, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub months: Vec<MonthCount>,
    /// Over the events that have ended, largest departments first.
    pub attendance: Vec<DepartmentAttendance>,
}

/// Published events starting in one company-local month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub events: i64,
    pub capacity: i64,
    pub seats_taken: i64,
}

/// Seat holders of ended events from one department, and how many came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentAttendance {
    pub department: Option<String>,
    pub registered: i64,
    pub checked_in: i64,
}
