//! Data shapes shared by the server and the browser build.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Largest page any list returns, whatever the caller asks for.
pub const MAX_PAGE_SIZE: u32 = 100;
pub const DEFAULT_PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    /// The one we do not speak right now: for the language switch and the
    /// second title.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// The text written in this language, or else the one in the other
    /// (events may be titled in one language only).
    pub fn pick<'a>(self, ja: Option<&'a str>, en: Option<&'a str>) -> &'a str {
        let (first, second) = match self {
            Lang::Ja => (ja, en),
            Lang::En => (en, ja),
        };
        first.or(second).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Employee,
    Staff,
    Organizer,
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Staff => "staff",
            Role::Organizer => "organizer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        [Role::Employee, Role::Staff, Role::Organizer, Role::Admin]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Seminar,
    Training,
    Social,
    Townhall,
    Workshop,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Seminar,
        Category::Training,
        Category::Social,
        Category::Townhall,
        Category::Workshop,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Seminar => "seminar",
            Category::Training => "training",
            Category::Social => "social",
            Category::Townhall => "townhall",
            Category::Workshop => "workshop",
        }
    }

    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Draft,
    Published,
    Cancelled,
}

impl EventStatus {
    pub fn code(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<EventStatus> {
        [
            EventStatus::Draft,
            EventStatus::Published,
            EventStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Where a registration stands. Allowed moves (enforced in SQL, see `registrations`):
/// registered → checked_in | cancelled | removed; waitlisted → registered (promotion) |
/// cancelled (left the waitlist) | removed; checked_in → registered only to undo a door
/// mistake (`checkin::undo`). cancelled and removed are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Registered,
    Waitlisted,
    CheckedIn,
    Cancelled,
    Removed,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 5] = [
        RegistrationStatus::Registered,
        RegistrationStatus::Waitlisted,
        RegistrationStatus::CheckedIn,
        RegistrationStatus::Cancelled,
        RegistrationStatus::Removed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::CheckedIn => "checked_in",
            RegistrationStatus::Cancelled => "cancelled",
            RegistrationStatus::Removed => "removed",
        }
    }

    pub fn parse(code: &str) -> Option<RegistrationStatus> {
        RegistrationStatus::ALL
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Holds a seat: counted in `events.seats_taken`.
    pub fn holds_seat(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Registered | RegistrationStatus::CheckedIn
        )
    }
}

/// A person's registration for an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: i64,
    pub event_id: i64,
    pub user_id: i64,
    pub status: RegistrationStatus,
    /// 1 for the first in line; only while waitlisted.
    pub waitlist_position: Option<i64>,
    pub version: i32,
    pub registered_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_in_by: Option<i64>,
}

/// One line of the public event list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub id: i64,
    pub title_ja: Option<String>,
    pub title_en: Option<String>,
    pub category: Category,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The company time zone's offset at `starts_at`, so the browser shows local
    /// time without shipping a time zone database in the wasm bundle.
    pub utc_offset_seconds: i32,
    pub capacity: i32,
    pub seats_taken: i32,
    pub waitlisted: i32,
}

impl EventSummary {
    /// The title in the wanted language, falling back to the other one.
    pub fn title(&self, lang: Lang) -> &str {
        lang.pick(self.title_ja.as_deref(), self.title_en.as_deref())
    }

    pub fn seats_left(&self) -> i32 {
        (self.capacity - self.seats_taken).max(0)
    }

    pub fn local_start(&self) -> DateTime<FixedOffset> {
        to_local(self.starts_at, self.utc_offset_seconds)
    }

    pub fn local_end(&self) -> DateTime<FixedOffset> {
        to_local(self.ends_at, self.utc_offset_seconds)
    }
}

/// `at` on the clock of a zone `offset_seconds` east of UTC.
pub fn to_local(at: DateTime<Utc>, offset_seconds: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_seconds).unwrap_or(FixedOffset::east_opt(0).unwrap());
    at.with_timezone(&offset)
}

/// A page of a keyset-paginated list: the rows and where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<EventCursor>,
}

/// Position after the last row of a page of events ordered by (start, id).
///
/// Opaque to callers; in URLs it travels as `"<unix millis>_<id>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventCursor {
    pub starts_at: DateTime<Utc>,
    pub id: i64,
}

impl EventCursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.starts_at.timestamp_millis(), self.id)
    }

    pub fn decode(text: &str) -> Option<EventCursor> {
        let (millis, id) = text.split_once('_')?;
        Some(EventCursor {
            starts_at: DateTime::from_timestamp_millis(millis.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// What is needed to create a person, from the admin form or an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub department: Option<String>,
    pub role: Role,
    pub lang: Lang,
}

/// Who is logged in: what pages and rules need to know about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatedUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub lang: Lang,
    /// Moves on when the password changes; a session begun under an older
    /// generation is over.
    pub session_generation: i64,
}

/// One line of the user administration list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub department: Option<String>,
    pub role: Role,
    pub lang: Lang,
    pub active: bool,
    /// False for people imported but not yet given a password: they cannot log in.
    pub has_password: bool,
    /// Their name, e-mail and department were removed (they left, or asked).
    pub anonymized: bool,
}

/// A page of users in e-mail order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub items: Vec<UserSummary>,
    /// Opaque and URL-safe; pass it back as `after` for the next page.
    pub next: Option<String>,
}

/// The outcome of a user import, shown to the admin who ran it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<RejectedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedLine {
    /// Line number in the file, counting the header as line 1.
    pub line: u64,
    pub reason: String,
}

/// Clamps a requested page size into `1..=MAX_PAGE_SIZE`.
pub fn page_size(requested: Option<u32>) -> u32 {
    requested
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = EventCursor {
            starts_at: DateTime::from_timestamp_millis(1_790_000_000_123).unwrap(),
            id: 42,
        };
        assert_eq!(EventCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(EventCursor::decode("garbage"), None);
        assert_eq!(EventCursor::decode("12_x"), None);
    }

    #[test]
    fn page_size_is_capped() {
        assert_eq!(page_size(None), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(10_000)), MAX_PAGE_SIZE);
    }

    #[test]
    fn title_falls_back_to_the_other_language() {
        let mut event = EventSummary {
            id: 1,
            title_ja: Some("新人研修".into()),
            title_en: None,
            category: Category::Training,
            place: "Room A".into(),
            starts_at: Utc::now(),
            ends_at: Utc::now(),
            utc_offset_seconds: 9 * 3600,
            capacity: 10,
            seats_taken: 12,
            waitlisted: 0,
        };
        assert_eq!(event.title(Lang::En), "新人研修");
        event.title_en = Some("Onboarding".into());
        assert_eq!(event.title(Lang::En), "Onboarding");
        assert_eq!(event.title(Lang::Ja), "新人研修");
        assert_eq!(event.seats_left(), 0);
    }
}
