//! The state machine itself: taking seats, the waitlist, ending a
//! registration, check-in (the rules are listed on the parent module).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

use crate::events::MAX_CAPACITY;
use crate::events::RegistrationWindow;
use crate::mail::MailKind;
use crate::mail::outbox;
use crate::model::{EventStatus, Registration, RegistrationStatus};
use crate::reason::Reason;
use crate::storage::{Database, UnitOfWork, is_unique_violation, on_pool, on_tx};
use crate::{Error, Result};

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct RegistrationRow {
    pub(crate) id: i64,
    pub(crate) event_id: i64,
    pub(crate) user_id: i64,
    pub(crate) status: String,
    pub(crate) waitlist_seq: Option<i64>,
    pub(crate) version: i32,
    pub(crate) registered_at: DateTime<Utc>,
    pub(crate) checked_in_at: Option<DateTime<Utc>>,
    pub(crate) checked_in_by: Option<i64>,
}

/// The columns of [`RegistrationRow`], for statements built at compile time.
macro_rules! columns {
    () => {
        "id, event_id, user_id, status, waitlist_seq, version, registered_at, checked_in_at, checked_in_by"
    };
}
pub(crate) use columns;
pub(crate) const COLUMNS: &str = columns!();

const SELECT_LIVE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM registrations
      WHERE event_id = $1 AND user_id = $2 AND status IN ('registered', 'waitlisted', 'checked_in')"
);

impl RegistrationRow {
    fn status(&self) -> Result<RegistrationStatus> {
        RegistrationStatus::parse(&self.status).ok_or_else(|| {
            tracing::error!(registration = self.id, status = %self.status, "unknown registration status");
            Error::Internal
        })
    }

    pub(crate) fn into_registration(self, waitlist_position: Option<i64>) -> Result<Registration> {
        Ok(Registration {
            status: self.status()?,
            id: self.id,
            event_id: self.event_id,
            user_id: self.user_id,
            waitlist_position,
            version: self.version,
            registered_at: self.registered_at,
            checked_in_at: self.checked_in_at,
            checked_in_by: self.checked_in_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventWindow {
    pub(crate) status: String,
    pub(crate) starts_at: DateTime<Utc>,
    pub(crate) registration_opens_at: Option<DateTime<Utc>>,
    pub(crate) registration_closes_at: Option<DateTime<Utc>>,
}

pub(crate) const EVENT_WINDOW: &str = "SELECT status, starts_at, registration_opens_at, registration_closes_at FROM events WHERE id = $1";

impl EventWindow {
    /// Refuses a missing event, then anything [`EventWindow::check_open`] refuses.
    pub(crate) fn check(window: Option<EventWindow>, now: DateTime<Utc>) -> Result<()> {
        window.ok_or(Error::NotFound)?.check_open(now)
    }

    /// Registration is open from `registration_opens_at` (or publication) until
    /// `registration_closes_at` (or the start of the event). The event page
    /// shows this and registering enforces it, so the two cannot disagree.
    ///
    /// `None` for a draft: as far as registering goes, it does not exist yet.
    /// `tz` only localizes the opening time for display.
    pub(crate) fn window(&self, now: DateTime<Utc>, tz: Tz) -> Option<RegistrationWindow> {
        match EventStatus::parse(&self.status)? {
            EventStatus::Published => {}
            EventStatus::Cancelled => return Some(RegistrationWindow::Cancelled),
            EventStatus::Draft => return None,
        }
        if let Some(opens) = self.registration_opens_at
            && now < opens
        {
            return Some(RegistrationWindow::NotYetOpen {
                opens_at: opens.with_timezone(&tz).fixed_offset(),
            });
        }
        let closes = self.registration_closes_at.unwrap_or(self.starts_at);
        Some(if now < closes {
            RegistrationWindow::Open
        } else if now >= self.starts_at {
            RegistrationWindow::Started
        } else {
            RegistrationWindow::Closed
        })
    }

    fn check_open(&self, now: DateTime<Utc>) -> Result<()> {
        match self.window(now, Tz::UTC) {
            Some(RegistrationWindow::Open) => Ok(()),
            None => Err(Error::NotFound),
            Some(RegistrationWindow::Cancelled) => Err(Error::Conflict(Reason::EventCancelled)),
            Some(RegistrationWindow::NotYetOpen { opens_at }) => {
                Err(Error::Conflict(Reason::RegistrationNotOpenYet { opens_at }))
            }
            Some(RegistrationWindow::Closed | RegistrationWindow::Started) => {
                Err(Error::Conflict(Reason::RegistrationClosed))
            }
        }
    }
}

/// Registers `user_id` for `event_id`: a seat if one is free, else the end of
/// the waitlist. Registering again returns the live registration unchanged.
#[tracing::instrument(skip(db))]
pub async fn register(
    db: &Database,
    event_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Registration> {
    // Two requests of the same person can race (a double click): the other one
    // wins the unique index and we answer with its registration. If that one
    // was cancelled in the meantime too, start over; a few rounds settle it.
    for _ in 0..3 {
        match try_register(db, event_id, user_id, now).await {
            Err(err) if is_unique_violation(&err) => {
                if let Some(live) = live_registration(db, event_id, user_id).await? {
                    return Ok(live);
                }
            }
            Err(err) => return Err(err.into()),
            Ok(result) => return result,
        }
    }
    Err(Error::Conflict(Reason::RegistrationChangedMeanwhile))
}

#[tracing::instrument(level = "debug", name = "db.register_one", skip(db, now))]
async fn try_register(
    db: &Database,
    event_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Result<Registration>> {
    // The registration counts under the person's department of today for
    // good: a later move does not rewrite past attendance.
    const INSERT: &str = concat!(
        "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at, department_id)
         VALUES ($1, $2, $3, $4, $5, $5, (SELECT department_id FROM users WHERE id = $2)) RETURNING ",
        columns!()
    );
    on_pool!(db, |pool| {
        let mut conn = pool.acquire().await?;
        let mut uow = UnitOfWork::on_connection(&mut *conn).await?;
        let existing: Option<RegistrationRow> = on_tx!(&mut uow, |tx| sqlx::query_as(SELECT_LIVE)
            .bind(event_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?);
        let row = match existing {
            Some(existing) => {
                uow.rollback().await?;
                existing
            }
            None => {
                let window: Option<EventWindow> =
                    on_tx!(&mut uow, |tx| sqlx::query_as(EVENT_WINDOW)
                        .bind(event_id)
                        .fetch_optional(&mut *tx)
                        .await?);
                if let Err(refusal) = EventWindow::check(window, now) {
                    return Ok(Err(refusal));
                }
                let (status, waitlist_seq) = take_seat_or_place_in_line(&mut uow, event_id).await?;
                let row: RegistrationRow = on_tx!(&mut uow, |tx| sqlx::query_as(INSERT)
                    .bind(event_id)
                    .bind(user_id)
                    .bind(status.code())
                    .bind(waitlist_seq)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?);
                let (kind, key) = outbox::welcome(row.id, status);
                outbox::enqueue(
                    &mut uow,
                    kind,
                    user_id,
                    &key,
                    json!({ "event_id": event_id, "registration_id": row.id }),
                    now,
                )
                .await?;
                uow.commit_event_change(db).await?;
                row
            }
        };
        // Counted after the transaction, so the event row is not held for it,
        // and on the same connection: asking the pool again would queue behind
        // everyone else in a rush.
        let position = match row.waitlist_seq {
            Some(seq) => Some(
                sqlx::query_scalar(WAITLIST_POSITION)
                    .bind(event_id)
                    .bind(seq)
                    .fetch_one(&mut *conn)
                    .await?,
            ),
            None => None,
        };
        Ok(row.into_registration(position))
    })
}

/// A seat if one is free; else a place in line, taken under the event-row
/// lock and only while the event is still full. A failed seat UPDATE locks
/// nothing, so a seat freed in between sends us round again rather than
/// leaving a free seat behind a waitlist.
async fn take_seat_or_place_in_line(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
) -> sqlx::Result<(RegistrationStatus, Option<i64>)> {
    loop {
        if take_seat(uow, event_id).await? {
            return Ok((RegistrationStatus::Registered, None));
        }
        let seq: Option<i64> = on_tx!(uow, |tx| sqlx::query_scalar(
            "UPDATE events SET waitlist_next = waitlist_next + 1
              WHERE id = $1 AND seats_taken >= capacity RETURNING waitlist_next",
        )
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?);
        if let Some(seq) = seq {
            return Ok((RegistrationStatus::Waitlisted, Some(seq)));
        }
    }
}

/// Takes a seat of `event_id` if one is free; on PostgreSQL this also locks
/// the event row until the commit.
async fn take_seat(uow: &mut UnitOfWork<'_>, event_id: i64) -> sqlx::Result<bool> {
    on_tx!(uow, |tx| sqlx::query(
        "UPDATE events SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity",
    )
    .bind(event_id)
    .execute(&mut *tx)
    .await
    .map(|done| done.rows_affected() == 1))
}

/// Gives a seat back to `event_id`.
async fn free_seat(uow: &mut UnitOfWork<'_>, event_id: i64) -> sqlx::Result<()> {
    on_tx!(uow, |tx| sqlx::query(
        "UPDATE events SET seats_taken = seats_taken - 1 WHERE id = $1"
    )
    .bind(event_id)
    .execute(&mut *tx)
    .await
    .map(|_| ()))
}

/// Place in line of the waitlist entry numbered `$2` of event `$1` (1 = next).
pub(crate) const WAITLIST_POSITION: &str = "SELECT COUNT(*) FROM registrations
  WHERE event_id = $1 AND status = 'waitlisted' AND waitlist_seq <= $2";

/// The registration with its place in line when waitlisted.
pub(crate) async fn with_position(db: &Database, row: RegistrationRow) -> Result<Registration> {
    let position = match row.waitlist_seq {
        Some(seq) if row.status == RegistrationStatus::Waitlisted.code() => {
            Some(on_pool!(db, |pool| {
                sqlx::query_scalar::<_, i64>(WAITLIST_POSITION)
                    .bind(row.event_id)
                    .bind(seq)
                    .fetch_one(pool)
                    .await?
            }))
        }
        _ => None,
    };
    row.into_registration(position)
}

/// The live (registered, waitlisted or checked-in) registration of a person for an event.
pub async fn live_registration(
    db: &Database,
    event_id: i64,
    user_id: i64,
) -> Result<Option<Registration>> {
    let row: Option<RegistrationRow> = on_pool!(db, |pool| sqlx::query_as(SELECT_LIVE)
        .bind(event_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    match row {
        Some(row) => Ok(Some(with_position(db, row).await?)),
        None => Ok(None),
    }
}

pub async fn get(db: &Database, registration_id: i64) -> Result<Registration> {
    const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM registrations WHERE id = $1");
    let row: RegistrationRow = on_pool!(db, |pool| sqlx::query_as(SELECT_BY_ID)
        .bind(registration_id)
        .fetch_optional(pool)
        .await?)
    .ok_or(Error::NotFound)?;
    with_position(db, row).await
}

/// Gives a free seat, if there is one, to the first person on the waitlist,
/// as a step of `uow`, with the mail that tells them. Returns the promoted
/// registration.
pub(crate) async fn promote_next(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    // Taking the seat first also locks the event row on PostgreSQL, so no
    // two transactions promote for the same event at the same time.
    if !take_seat(uow, event_id).await? {
        return Ok(None);
    }
    loop {
        let candidate: Option<(i64, i64)> = on_tx!(uow, |tx| sqlx::query_as(
            "SELECT id, user_id FROM registrations
              WHERE event_id = $1 AND status = 'waitlisted' ORDER BY waitlist_seq LIMIT 1",
        )
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?);
        let Some((candidate, user_id)) = candidate else {
            free_seat(uow, event_id).await?;
            return Ok(None);
        };
        // The candidate may leave the waitlist concurrently: then try the next one.
        let moved = on_tx!(uow, |tx| {
            sqlx::query(
            "UPDATE registrations
                SET status = 'registered', waitlist_seq = NULL, version = version + 1, updated_at = $2
              WHERE id = $1 AND status = 'waitlisted'",
        )
        .bind(candidate)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        });
        if moved == 1 {
            outbox::enqueue(
                uow,
                MailKind::Promoted,
                user_id,
                &format!("promoted:{candidate}"),
                json!({ "event_id": event_id, "registration_id": candidate }),
                now,
            )
            .await?;
            return Ok(Some(candidate));
        }
    }
}

/// Who ends a registration, which decides the final state and what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The attendee cancels their seat or leaves the waitlist.
    Cancelled { by_user: i64 },
    /// An organizer removes the registration.
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub registration: Registration,
    /// The registration that got the freed seat, if any.
    pub promoted: Option<i64>,
}

/// Ends a registered or waitlisted registration; a freed seat goes to the
/// first person on the waitlist in the same transaction.
#[tracing::instrument(skip(db))]
pub async fn end(
    db: &Database,
    registration_id: i64,
    ending: Ending,
    now: DateTime<Utc>,
) -> Result<Ended> {
    let current = get(db, registration_id).await?;
    if let Ending::Cancelled { by_user } = ending
        && by_user != current.user_id
    {
        return Err(Error::Forbidden);
    }
    let final_status = match ending {
        Ending::Cancelled { .. } => RegistrationStatus::Cancelled,
        Ending::Removed => RegistrationStatus::Removed,
    };
    match current.status {
        RegistrationStatus::Registered | RegistrationStatus::Waitlisted => {}
        RegistrationStatus::CheckedIn => {
            return Err(Error::Conflict(Reason::AlreadyCheckedIn));
        }
        RegistrationStatus::Cancelled | RegistrationStatus::Removed => {
            return Err(Error::Conflict(Reason::AlreadyCancelled));
        }
    }
    let event_id = current.event_id;
    // After the start a seat is attendance or a no-show, not a seat to give
    // back; after the end the organizer's figures stand as they are.
    let (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>) = on_pool!(db, |pool| {
        sqlx::query_as("SELECT starts_at, ends_at FROM events WHERE id = $1")
            .bind(event_id)
            .fetch_one(pool)
            .await?
    });
    match ending {
        Ending::Cancelled { .. } if now >= starts_at => {
            return Err(Error::Conflict(Reason::CancellingAfterStart));
        }
        Ending::Removed if now >= ends_at => {
            return Err(Error::Conflict(Reason::RemovingAfterEnd));
        }
        _ => {}
    }
    let freed_seat = current.status.holds_seat();
    let mut uow = db.begin_write().await?;
    // Lock order is the same in every transaction: the event row first, then
    // registration rows. Freeing the seat before touching the registration
    // keeps that order here; if the registration changed meanwhile, the
    // rollback puts the seat back.
    if freed_seat {
        free_seat(&mut uow, event_id).await?;
    }
    let changed = on_tx!(&mut uow, |tx| {
        sqlx::query(
        "UPDATE registrations
            SET status = $4, version = version + 1, waitlist_seq = NULL, cancelled_at = $5, updated_at = $5
          WHERE id = $1 AND status = $2 AND version = $3",
    )
    .bind(registration_id)
    .bind(current.status.code())
    .bind(current.version)
    .bind(final_status.code())
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
    });
    let promoted = if changed == 0 {
        uow.rollback().await?;
        None
    } else {
        let promoted = if freed_seat {
            promote_next(&mut uow, event_id, now).await?
        } else {
            None
        };
        outbox::enqueue(
            &mut uow,
            MailKind::Cancelled,
            current.user_id,
            &format!("ended:{registration_id}"),
            json!({ "event_id": event_id, "registration_id": registration_id, "was": current.status.code(),
                    "by": final_status.code() }),
            now,
        )
        .await?;
        uow.commit_event_change(db).await?;
        Some(promoted)
    };
    match promoted {
        Some(promoted) => Ok(Ended {
            registration: get(db, registration_id).await?,
            promoted,
        }),
        // Someone else changed it between our read and our write: say what it is now.
        None => match get(db, registration_id).await?.status {
            RegistrationStatus::CheckedIn => Err(Error::Conflict(Reason::AlreadyCheckedIn)),
            RegistrationStatus::Cancelled | RegistrationStatus::Removed => {
                Err(Error::Conflict(Reason::AlreadyCancelled))
            }
            _ => Err(Error::Conflict(Reason::RegistrationChangedMeanwhile)),
        },
    }
}

/// Changes an event's capacity. Raising it promotes from the waitlist in
/// order; lowering it below the seats already taken is refused.
/// Returns the promoted registrations in promotion order.
#[tracing::instrument(skip(db))]
pub async fn change_capacity(
    db: &Database,
    event_id: i64,
    capacity: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut uow = db.begin_write().await?;
    let promoted = set_capacity(&mut uow, event_id, capacity, now).await?;
    uow.commit_event_change(db).await?;
    Ok(promoted)
}

/// [`change_capacity`] as a step of a larger change (an organizer's edit):
/// a refusal leaves `uow` to be dropped, undoing the whole change.
pub(crate) async fn set_capacity(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
    capacity: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if !(0..=MAX_CAPACITY).contains(&capacity) {
        return Err(Error::Invalid(Reason::CapacityOutOfRange {
            max: MAX_CAPACITY as u32,
        }));
    }
    let changed = on_tx!(uow, |tx| {
        sqlx::query(
        "UPDATE events SET capacity = $2, version = version + 1, updated_at = $3 WHERE id = $1 AND seats_taken <= $2",
    )
    .bind(event_id)
    .bind(capacity)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
    });
    if changed == 0 {
        let taken: Option<i32> = on_tx!(uow, |tx| sqlx::query_scalar(
            "SELECT seats_taken FROM events WHERE id = $1"
        )
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?);
        return Err(match taken {
            None => Error::NotFound,
            Some(taken) => Error::Conflict(Reason::CapacityBelowSeatsTaken {
                taken: u32::try_from(taken).unwrap_or(0),
            }),
        });
    }
    let mut promoted = Vec::new();
    while let Some(id) = promote_next(uow, event_id, now).await? {
        promoted.push(id);
    }
    Ok(promoted)
}

/// The answer to a check-in attempt that was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckIn {
    CheckedIn(Registration),
    /// Checked in earlier (e.g. the same ticket scanned twice): when and by whom.
    AlreadyCheckedIn(Registration),
}

/// Checks a registered person in. Idempotent: a second check-in reports the first.
pub async fn check_in(
    db: &Database,
    registration_id: i64,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<CheckIn> {
    let current = get(db, registration_id).await?;
    let refuse = |status: RegistrationStatus, current: Registration| match status {
        RegistrationStatus::CheckedIn => Ok(CheckIn::AlreadyCheckedIn(current)),
        RegistrationStatus::Waitlisted => Err(Error::Conflict(Reason::OnWaitlist)),
        RegistrationStatus::Cancelled | RegistrationStatus::Removed => {
            Err(Error::Conflict(Reason::AlreadyCancelled))
        }
        RegistrationStatus::Registered => {
            Err(Error::Conflict(Reason::RegistrationChangedMeanwhile))
        }
    };
    if current.status != RegistrationStatus::Registered {
        return refuse(current.status, current);
    }
    let changed = on_pool!(db, |pool| {
        sqlx::query(
            "UPDATE registrations
                SET status = 'checked_in', checked_in_at = $4, checked_in_by = $5, version = version + 1, updated_at = $4
              WHERE id = $1 AND status = $2 AND version = $3",
        )
        .bind(registration_id)
        .bind(RegistrationStatus::Registered.code())
        .bind(current.version)
        .bind(now)
        .bind(staff_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    let after = get(db, registration_id).await?;
    if changed == 1 {
        Ok(CheckIn::CheckedIn(after))
    } else {
        refuse(after.status, after)
    }
}
