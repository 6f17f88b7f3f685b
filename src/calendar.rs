//! Calendar files (RFC 5545): one event to download, and each person's feed
//! of the events they hold a seat for, to subscribe to from a calendar app.
//!
//! Structure and escaping are the `icalendar` crate's; what is left here is
//! what goes into the file, and folding (see [`refold`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use icalendar::{Calendar, Component, EventLike};
use rand::RngCore;
use rand::rngs::OsRng;
use url::Url;

use crate::events::{EventDetail, parse_event_status, to_second};
use crate::model::{EventStatus, Lang};
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// How far back the feed reaches, so last month's events stay in the
/// calendar while the feed stays small.
pub const FEED_HISTORY_DAYS: i64 = 90;
/// Most events in one feed, soonest first.
pub const FEED_LIMIT: i64 = 500;

/// What one VEVENT says.
struct Entry<'a> {
    id: i64,
    title: &'a str,
    place: &'a str,
    description: &'a str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    cancelled: bool,
    version: i32,
    updated_at: DateTime<Utc>,
}

/// The description in `lang`, else the other one.
fn in_lang<'a>(lang: Lang, ja: &'a str, en: &'a str) -> &'a str {
    let (first, second) = match lang {
        Lang::Ja => (ja, en),
        Lang::En => (en, ja),
    };
    if first.trim().is_empty() {
        second
    } else {
        first
    }
}

/// Text as RFC 5545 allows it: newlines as LF (the crate writes them as
/// `\n`), no other control characters; a CR from a browser's text area
/// would otherwise end the content line.
fn plain(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

fn event_url(public_url: &Url, event_id: i64) -> String {
    crate::site::address(public_url, &format!("events/{event_id}"))
}

fn vevent(entry: &Entry<'_>, public_url: &Url) -> icalendar::Event {
    let host = public_url.host_str().unwrap_or("tsudoi");
    let url = event_url(public_url, entry.id);
    let description = match plain(entry.description).trim() {
        "" => url.clone(),
        text => format!("{text}\n\n{url}"),
    };
    icalendar::Event::new()
        .uid(&format!("event-{}@{host}", entry.id))
        // The time the event was last changed, not the download: calendar
        // apps compare it to decide whether anything is new.
        .timestamp(entry.updated_at)
        .starts(entry.starts_at)
        .ends(entry.ends_at)
        .summary(&plain(entry.title))
        .location(&plain(entry.place))
        .description(&description)
        .url(&url)
        .sequence(u32::try_from(entry.version).unwrap_or(0))
        .status(if entry.cancelled {
            icalendar::EventStatus::Cancelled
        } else {
            icalendar::EventStatus::Confirmed
        })
        .done()
}

/// A plain iCalendar object, without `METHOD`: these files are downloads
/// and subscriptions, not scheduling messages, and with `METHOD:PUBLISH`
/// RFC 5546 would ask for an `ORGANIZER` address in every event, one no
/// attendee should reply to.
fn calendar(events: impl IntoIterator<Item = icalendar::Event>) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Tsudoi//Tsudoi//EN"))
        .append_property(("CALSCALE", "GREGORIAN"));
    calendar.extend(events);
    calendar
}

/// RFC 5545 wants at least one component in a calendar. A feed with no
/// events (nobody holds a seat yet) carries the time zone its times are
/// written in, which calendar apps read and never show.
const UTC_TIME_ZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:UTC\r\nBEGIN:STANDARD\r\n\
    DTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n\
    END:STANDARD\r\nEND:VTIMEZONE\r\n";

fn with_a_component(ics: String, has_events: bool) -> String {
    const END: &str = "END:VCALENDAR\r\n";
    match ics.strip_suffix(END) {
        Some(head) if !has_events => format!("{head}{UTC_TIME_ZONE}{END}"),
        _ => ics,
    }
}

/// Folds every content line to at most 75 octets (RFC 5545 §3.1), on UTF-8
/// character boundaries. icalendar 0.17 folds too, but lets the last piece
/// of a long line reach 76 octets with its leading space, so its output is
/// unfolded and folded again. Unfolding is exact: values never contain a
/// line break (see [`plain`]; the crate writes newlines as `\n`).
fn refold(ics: &str) -> String {
    const LIMIT: usize = 75;
    let unfolded = ics.replace("\r\n ", "");
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 32);
    for line in unfolded.split_terminator("\r\n") {
        let mut rest = line;
        // The first piece has the whole line; the others begin with a space.
        let mut room = LIMIT;
        while rest.len() > room {
            let mut cut = room;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            room = LIMIT - 1;
        }
        out.push_str(rest);
        out.push_str("\r\n");
    }
    out
}

/// One event as an `.ics` file, in `lang` where the event has it.
pub fn event_ics(detail: &EventDetail, public_url: &Url, lang: Lang) -> String {
    let entry = Entry {
        id: detail.event.id,
        title: detail.event.title(lang),
        place: &detail.event.place,
        description: in_lang(lang, &detail.description_ja, &detail.description_en),
        starts_at: detail.event.starts_at,
        ends_at: detail.event.ends_at,
        cancelled: detail.status == EventStatus::Cancelled,
        version: detail.version,
        updated_at: detail.updated_at,
    };
    refold(&calendar([vevent(&entry, public_url)]).to_string())
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The secret of the person's feed address, made on first use.
pub async fn feed_token(db: &Database, user_id: i64) -> Result<String> {
    let current: Option<Option<String>> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT calendar_token FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?);
    match current.ok_or(Error::NotFound)? {
        Some(token) => Ok(token),
        // COALESCE: two first visits at once end with one token, not two.
        None => set_token(
            db,
            user_id,
            "UPDATE users SET calendar_token = COALESCE(calendar_token, $2) WHERE id = $1 RETURNING calendar_token",
        )
        .await,
    }
}

/// Replaces the feed's secret: calendars subscribed to the old address stop
/// receiving updates. Returns the new one.
pub async fn revoke_feed_token(db: &Database, user_id: i64) -> Result<String> {
    set_token(
        db,
        user_id,
        "UPDATE users SET calendar_token = $2 WHERE id = $1 RETURNING calendar_token",
    )
    .await
}

async fn set_token(db: &Database, user_id: i64, sql: &'static str) -> Result<String> {
    let token: Option<String> = on_pool!(db, |pool| sqlx::query_scalar(sql)
        .bind(user_id)
        .bind(new_token())
        .fetch_optional(pool)
        .await?);
    token.ok_or(Error::NotFound)
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    id: i64,
    title_ja: Option<String>,
    title_en: Option<String>,
    place: String,
    description_ja: String,
    description_en: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    status: String,
    version: i32,
    updated_at: DateTime<Utc>,
}

/// The feed behind a token: every event the person holds a seat for, from
/// [`FEED_HISTORY_DAYS`] ago on, at most [`FEED_LIMIT`], in their language.
/// Cancelled events stay in with STATUS:CANCELLED so calendars drop them
/// visibly. Unknown tokens and deactivated people are [`Error::NotFound`].
/// Two statements.
pub async fn feed_ics(
    db: &Database,
    token: &str,
    public_url: &Url,
    now: DateTime<Utc>,
) -> Result<String> {
    // A token is 43 base64url characters; anything else is not worth a query.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::NotFound);
    }
    let owner: Option<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, lang FROM users WHERE calendar_token = $1 AND active = $2"
    )
    .bind(token)
    .bind(true)
    .fetch_optional(pool)
    .await?);
    let (user_id, lang) = owner.ok_or(Error::NotFound)?;
    let lang = Lang::parse(&lang).unwrap_or(Lang::Ja);
    let since = to_second(now - TimeDelta::days(FEED_HISTORY_DAYS));
    let rows: Vec<FeedRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT e.id, e.title_ja, e.title_en, e.place, e.description_ja, e.description_en,
                e.starts_at, e.ends_at, e.status, e.version, e.updated_at
           FROM registrations r
           JOIN events e ON e.id = r.event_id
          WHERE r.user_id = $1
            AND r.status IN ('registered', 'checked_in')
            AND e.status IN ('published', 'cancelled')
            AND e.ends_at > $2
          ORDER BY e.starts_at, e.id
          LIMIT $3"
    )
    .bind(user_id)
    .bind(since)
    .bind(FEED_LIMIT)
    .fetch_all(pool)
    .await?);
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let title = lang.pick(row.title_ja.as_deref(), row.title_en.as_deref());
        let entry = Entry {
            id: row.id,
            title,
            place: &row.place,
            description: in_lang(lang, &row.description_ja, &row.description_en),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            cancelled: parse_event_status(row.id, &row.status)? == EventStatus::Cancelled,
            version: row.version,
            updated_at: row.updated_at,
        };
        events.push(vevent(&entry, public_url));
    }
    let has_events = !events.is_empty();
    let mut feed = calendar(events);
    feed.name("Tsudoi")
        // Ask subscribed calendars to look again every hour.
        .ttl(&TimeDelta::hours(1));
    Ok(with_a_component(refold(&feed.to_string()), has_events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_loses_carriage_returns_and_control_characters() {
        assert_eq!(plain("a\r\nb\rc\u{0}d\te"), "a\nb\ncd\te");
    }

    #[test]
    fn every_line_fits_in_75_octets_and_unfolds_to_the_original() {
        for unit in ["a", "日", "é", "a b", "日 ", "𝄞"] {
            for n in 1..200 {
                let text = unit.repeat(n);
                let mut file = Calendar::empty();
                file.push(icalendar::Event::new().uid("x").description(&text).done());
                let folded = refold(&file.to_string());
                for line in folded.split_terminator("\r\n") {
                    assert!(line.len() <= 75, "{unit:?} x{n}: {} octets", line.len());
                }
                let parsed: Calendar = folded.parse().unwrap();
                let event = parsed.events().next().unwrap();
                assert_eq!(event.get_description(), Some(text.as_str()));
            }
        }
    }

    #[test]
    fn the_event_address_ignores_a_trailing_slash() {
        let with = Url::parse("https://events.example.com/").unwrap();
        let under = Url::parse("https://example.com/tsudoi/").unwrap();
        assert_eq!(event_url(&with, 7), "https://events.example.com/events/7");
        assert_eq!(event_url(&under, 7), "https://example.com/tsudoi/events/7");
    }
}
