//! Organizers run their events: create, edit, publish, duplicate, cancel,
//! and list their own. Admins may do it for every event.
//!
//! Changes that matter to attendees notify them through the outbox in the
//! same transaction, with one set-based statement per change: a new time or
//! place on a published event ("event changed"), and a cancellation.

use chrono::{DateTime, Utc};
use chrono_tz::{Tz, UTC};
use serde_json::json;

use super::{EventDraft, ManagedEvent, ManagedPage, check_event, to_second, trimmed};
use crate::audit::{self, AuditAction};
use crate::mail::MailKind;
use crate::mail::outbox;
use crate::model::{Category, EventCursor, EventStatus, Role, page_size};
use crate::reason::{Field, Reason};
use crate::storage::{Database, on_pool, on_tx};
use crate::text_rules::{self, Lines};
use crate::{Error, Result};

/// Whether `user` (with `role`) may manage `event_id`: admins every event,
/// organizers their own. [`Error::NotFound`] if there is no such event.
pub async fn may_manage(db: &Database, user_id: i64, role: Role, event_id: i64) -> Result<()> {
    let organizer: Option<Option<i64>> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT organizer_id FROM events WHERE id = $1"
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await?);
    let organizer = organizer.ok_or(Error::NotFound)?;
    match role {
        Role::Admin => Ok(()),
        Role::Organizer if organizer == Some(user_id) => Ok(()),
        _ => Err(Error::Forbidden),
    }
}

/// Several screens of text; more is not a description but a document.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

impl EventDraft {
    fn validate(&self) -> Result<()> {
        check_event(
            &self.title_ja,
            &self.title_en,
            self.starts_at,
            self.ends_at,
            self.capacity,
        )?;
        if let (Some(opens), Some(closes)) =
            (self.registration_opens_at, self.registration_closes_at)
            && closes <= opens
        {
            return Err(Error::Invalid(Reason::RegistrationClosesBeforeOpening));
        }
        if self
            .registration_closes_at
            .is_some_and(|closes| closes > self.starts_at)
        {
            return Err(Error::Invalid(Reason::RegistrationClosesAfterStart));
        }
        if self
            .registration_opens_at
            .is_some_and(|opens| opens >= self.starts_at)
        {
            return Err(Error::Invalid(Reason::RegistrationOpensAfterStart));
        }
        text_rules::check(Field::Place, self.place.trim(), 200, Lines::One)?;
        for description in [&self.description_ja, &self.description_en] {
            text_rules::check(
                Field::Description,
                description,
                MAX_DESCRIPTION_CHARS,
                Lines::Several,
            )?;
        }
        Ok(())
    }
}

/// Creates an event organized by `organizer_id`, as a draft or published.
#[tracing::instrument(skip(db, draft))]
pub async fn create(
    db: &Database,
    organizer_id: i64,
    draft: &EventDraft,
    publish: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    let status = if publish {
        EventStatus::Published
    } else {
        EventStatus::Draft
    };
    insert(db, Some(organizer_id), draft, status, now).await
}

/// Every way of making an event ends here: checked, written and audited
/// (as done by its organizer, or by nobody for an event without one).
pub(super) async fn insert(
    db: &Database,
    organizer_id: Option<i64>,
    draft: &EventDraft,
    status: EventStatus,
    now: DateTime<Utc>,
) -> Result<i64> {
    draft.validate()?;
    let mut uow = db.begin_write().await?;
    let id: i64 = on_tx!(&mut uow, |conn| {
        sqlx::query_scalar(
        "INSERT INTO events (title_ja, title_en, description_ja, description_en, category, place,
                             starts_at, ends_at, capacity, status, registration_opens_at,
                             registration_closes_at, organizer_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         RETURNING id",
    )
    .bind(trimmed(&draft.title_ja))
    .bind(trimmed(&draft.title_en))
    .bind(draft.description_ja.trim())
    .bind(draft.description_en.trim())
    .bind(draft.category.code())
    .bind(draft.place.trim())
    .bind(to_second(draft.starts_at))
    .bind(to_second(draft.ends_at))
    .bind(draft.capacity)
    .bind(status.code())
    .bind(draft.registration_opens_at.map(to_second))
    .bind(draft.registration_closes_at.map(to_second))
    .bind(organizer_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    });
    audit::insert(
        &mut uow,
        organizer_id,
        AuditAction::EventCreated,
        &format!("event:{id}"),
        json!({ "status": status.code() }),
        now,
    )
    .await?;
    uow.commit_event_change(db).await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct ManagedRow {
    id: i64,
    title_ja: Option<String>,
    title_en: Option<String>,
    description_ja: String,
    description_en: String,
    category: String,
    place: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    seats_taken: i32,
    status: String,
    registration_opens_at: Option<DateTime<Utc>>,
    registration_closes_at: Option<DateTime<Utc>>,
    organizer_id: Option<i64>,
    version: i32,
}

macro_rules! managed_columns {
    () => {
        "id, title_ja, title_en, description_ja, description_en, category, place, starts_at, ends_at,
         capacity, seats_taken, status, registration_opens_at, registration_closes_at, organizer_id, version"
    };
}

impl ManagedRow {
    fn into_event(self, tz: Tz) -> Result<ManagedEvent> {
        let category = Category::parse(&self.category).ok_or_else(|| {
            tracing::error!(event = self.id, "unknown category in database");
            Error::Internal
        })?;
        Ok(ManagedEvent {
            id: self.id,
            status: super::parse_event_status(self.id, &self.status)?,
            organizer_id: self.organizer_id,
            seats_taken: self.seats_taken,
            version: self.version,
            utc_offset_seconds: super::utc_offset_at(tz, self.starts_at),
            draft: EventDraft {
                title_ja: self.title_ja,
                title_en: self.title_en,
                description_ja: self.description_ja,
                description_en: self.description_en,
                category,
                place: self.place,
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                capacity: self.capacity,
                registration_opens_at: self.registration_opens_at,
                registration_closes_at: self.registration_closes_at,
            },
        })
    }
}

/// One event as its organizer edits it.
/// One event as its organizer edits it; `tz` is the company's zone.
pub async fn get(db: &Database, tz: Tz, event_id: i64) -> Result<ManagedEvent> {
    const SELECT: &str = concat!("SELECT ", managed_columns!(), " FROM events WHERE id = $1");
    let row: ManagedRow = on_pool!(db, |pool| sqlx::query_as(SELECT)
        .bind(event_id)
        .fetch_optional(pool)
        .await?)
    .ok_or(Error::NotFound)?;
    row.into_event(tz)
}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edited {
    /// People told of a new time or place.
    pub notified: u64,
    /// Promoted from the waitlist by a larger capacity.
    pub promoted: usize,
}

/// Saves an organizer's edit, all of it or nothing. On a published event a
/// new time or place is mailed to everyone registered or waiting. A capacity
/// below the seats already taken refuses the whole edit; a larger one
/// promotes from the waitlist. `expected_version` guards against overwriting
/// an edit made meanwhile (another tab, a second organizer).
#[tracing::instrument(skip(db, draft))]
pub async fn update(
    db: &Database,
    actor: i64,
    event_id: i64,
    expected_version: i32,
    draft: &EventDraft,
    now: DateTime<Utc>,
) -> Result<Edited> {
    draft.validate()?;
    // Internal reads need the fields only, not local times: any zone will do.
    let before = get(db, UTC, event_id).await?;
    if before.status == EventStatus::Cancelled {
        return Err(Error::Conflict(Reason::EditingCancelledEvent));
    }
    let time_changed = to_second(draft.starts_at) != before.draft.starts_at
        || to_second(draft.ends_at) != before.draft.ends_at;
    let place_changed = draft.place.trim() != before.draft.place;
    let capacity_changed = draft.capacity != before.draft.capacity;
    let notify = (time_changed || place_changed) && before.status == EventStatus::Published;
    let new_version = expected_version + 1;

    let mut uow = db.begin_write().await?;
    // Everything but the capacity, which is a step of its own below.
    let updated = on_tx!(&mut uow, |conn| {
        sqlx::query(
        "UPDATE events SET title_ja = $3, title_en = $4, description_ja = $5, description_en = $6,
                category = $7, place = $8, starts_at = $9, ends_at = $10,
                registration_opens_at = $11, registration_closes_at = $12,
                version = version + 1, updated_at = $13
         WHERE id = $1 AND version = $2 AND status <> 'cancelled'",
    )
    .bind(event_id)
    .bind(expected_version)
    .bind(trimmed(&draft.title_ja))
    .bind(trimmed(&draft.title_en))
    .bind(draft.description_ja.trim())
    .bind(draft.description_en.trim())
    .bind(draft.category.code())
    .bind(draft.place.trim())
    .bind(to_second(draft.starts_at))
    .bind(to_second(draft.ends_at))
    .bind(draft.registration_opens_at.map(to_second))
    .bind(draft.registration_closes_at.map(to_second))
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
    });
    if updated == 0 {
        return Err(Error::Conflict(Reason::EventChangedMeanwhile));
    }
    let promoted = if capacity_changed {
        crate::registrations::set_capacity(&mut uow, event_id, draft.capacity, now)
            .await?
            .len()
    } else {
        0
    };
    if time_changed {
        crate::surveys::build::follow_event_end(&mut uow, event_id, to_second(draft.ends_at))
            .await?;
    }
    let notified = if notify {
        outbox::notify_attendees(
            &mut uow,
            event_id,
            MailKind::EventChanged,
            &format!("event_changed:v{new_version}:"),
            now,
        )
        .await?
    } else {
        0
    };
    audit::insert(
        &mut uow,
        Some(actor),
        AuditAction::EventEdited,
        &format!("event:{event_id}"),
        json!({
            "changed": { "time": time_changed, "place": place_changed, "capacity": capacity_changed },
            "notified": notified,
        }),
        now,
    )
    .await?;
    uow.commit_event_change(db).await?;
    Ok(Edited { notified, promoted })
}

/// Makes a draft visible to employees.
#[tracing::instrument(skip(db))]
pub async fn publish(db: &Database, actor: i64, event_id: i64, now: DateTime<Utc>) -> Result<()> {
    set_status(db, actor, event_id, EventStatus::Published, now).await?;
    Ok(())
}

/// Cancels an event and tells everyone registered or waiting, in the same
/// transaction. Returns how many were told.
#[tracing::instrument(skip(db))]
pub async fn cancel(db: &Database, actor: i64, event_id: i64, now: DateTime<Utc>) -> Result<u64> {
    set_status(db, actor, event_id, EventStatus::Cancelled, now).await
}

async fn set_status(
    db: &Database,
    actor: i64,
    event_id: i64,
    to: EventStatus,
    now: DateTime<Utc>,
) -> Result<u64> {
    let event = get(db, UTC, event_id).await?;
    let current = event.status;
    let allowed = match to {
        EventStatus::Published => current == EventStatus::Draft,
        EventStatus::Cancelled => current != EventStatus::Cancelled,
        EventStatus::Draft => false,
    };
    if !allowed {
        return Err(Error::Conflict(match to {
            EventStatus::Published => Reason::OnlyDraftsArePublished,
            _ => Reason::EventAlreadyCancelled,
        }));
    }
    if to == EventStatus::Cancelled && event.draft.ends_at <= now {
        return Err(Error::Conflict(Reason::EventIsOver));
    }
    let action = match to {
        EventStatus::Published => AuditAction::EventPublished,
        _ => AuditAction::EventCancelled,
    };
    let mut uow = db.begin_write().await?;
    let changed = on_tx!(&mut uow, |conn| sqlx::query(
        "UPDATE events SET status = $2, version = version + 1, updated_at = $3
         WHERE id = $1 AND status = $4",
    )
    .bind(event_id)
    .bind(to.code())
    .bind(now)
    .bind(current.code())
    .execute(&mut *conn)
    .await?
    .rows_affected());
    if changed == 0 {
        return Err(Error::Conflict(Reason::EventChangedMeanwhile));
    }
    // Only a cancellation concerns the people registered; a draft has none.
    let notified = if to == EventStatus::Cancelled && current == EventStatus::Published {
        outbox::notify_attendees(
            &mut uow,
            event_id,
            MailKind::EventCancelled,
            "event_cancelled:",
            now,
        )
        .await?
    } else {
        0
    };
    audit::insert(
        &mut uow,
        Some(actor),
        action,
        &format!("event:{event_id}"),
        json!({ "notified": notified }),
        now,
    )
    .await?;
    uow.commit_event_change(db).await?;
    Ok(notified)
}

/// A new draft with everything of `event_id` but its registrations, organized
/// by `actor`.
#[tracing::instrument(skip(db))]
pub async fn duplicate(
    db: &Database,
    actor: i64,
    event_id: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let source = get(db, UTC, event_id).await?;
    let mut draft = source.draft;
    // Marked, so the copy is not mistaken for the original in lists.
    draft.title_ja = draft.title_ja.map(|title| copy_title(&title, "（コピー）"));
    draft.title_en = draft.title_en.map(|title| copy_title(&title, " (copy)"));
    create(db, actor, &draft, false, now).await
}

/// `title` with `suffix`, shortened to stay within the title's length limit.
fn copy_title(title: &str, suffix: &str) -> String {
    let room = super::store::MAX_TITLE_CHARS - suffix.chars().count();
    let kept: String = title.trim().chars().take(room).collect();
    format!("{kept}{suffix}")
}

/// Which events of the organizer's list: those not over yet, or those that are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Period {
    #[default]
    Upcoming,
    Past,
}

/// One statement of the organizer's list: `$1` organizer (when `mine`),
/// `$2` now, `$3`/`$4` the cursor, `$5` the search pattern, `$6` the limit.
/// "Mine" and "all" are separate statements so that "mine" can use the
/// organizer's index on SQLite, which `($1 IS NULL OR …)` would defeat.
macro_rules! managed_list_sql {
    (mine: $mine:literal, period: $period:literal, order: $order:literal) => {
        concat!(
            "SELECT ",
            managed_columns!(),
            " FROM events WHERE ",
            $mine,
            $period,
            r" AND ($5 IS NULL OR LOWER(COALESCE(title_ja, '')) LIKE $5 ESCAPE '\'
                                OR LOWER(COALESCE(title_en, '')) LIKE $5 ESCAPE '\')
             ORDER BY ",
            $order,
            " LIMIT $6"
        )
    };
}

/// The events `organizer_id` organizes (every event for `None`) in `period`,
/// optionally only those whose title contains `search`, one keyset page at a
/// time: upcoming ones soonest first, past ones latest first.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &Database,
    tz: Tz,
    organizer_id: Option<i64>,
    period: Period,
    search: Option<&str>,
    from: Option<EventCursor>,
    requested: Option<u32>,
    now: DateTime<Utc>,
) -> Result<ManagedPage> {
    let sql: &str = match (organizer_id.is_some(), period) {
        (true, Period::Upcoming) => managed_list_sql!(mine: "organizer_id = $1 AND ",
            period: "ends_at >= $2 AND (starts_at > $3 OR (starts_at = $3 AND id > $4))",
            order: "starts_at, id"),
        (false, Period::Upcoming) => managed_list_sql!(mine: "$1 IS NULL AND ",
            period: "ends_at >= $2 AND (starts_at > $3 OR (starts_at = $3 AND id > $4))",
            order: "starts_at, id"),
        (true, Period::Past) => managed_list_sql!(mine: "organizer_id = $1 AND ",
            period: "ends_at < $2 AND (starts_at < $3 OR (starts_at = $3 AND id < $4))",
            order: "starts_at DESC, id DESC"),
        (false, Period::Past) => managed_list_sql!(mine: "$1 IS NULL AND ",
            period: "ends_at < $2 AND (starts_at < $3 OR (starts_at = $3 AND id < $4))",
            order: "starts_at DESC, id DESC"),
    };
    let search = super::search_pattern(search)?;
    let size = page_size(requested);
    let (at, id) = match (from, period) {
        (Some(cursor), _) => (cursor.starts_at, cursor.id),
        (None, Period::Upcoming) => (super::earliest_instant(), i64::MIN),
        (None, Period::Past) => (super::latest_instant(), i64::MAX),
    };
    let rows: Vec<ManagedRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(organizer_id)
        .bind(now)
        .bind(at)
        .bind(id)
        .bind(search.as_deref())
        .bind(i64::from(size) + 1)
        .fetch_all(pool)
        .await?);
    let has_more = rows.len() > size as usize;
    let items: Vec<ManagedEvent> = rows
        .into_iter()
        .take(size as usize)
        .map(|row| row.into_event(tz))
        .collect::<Result<_>>()?;
    let next = if has_more {
        items.last().map(|e| EventCursor {
            starts_at: e.draft.starts_at,
            id: e.id,
        })
    } else {
        None
    };
    Ok(ManagedPage { items, next })
}
