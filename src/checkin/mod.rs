//! Door check-in: scanning tickets, typing codes, undoing a
//! mistake, the door's counters and search, and the list a door device keeps
//! for working offline.
//!
//! Every answer the door shows is a [`ScanAnswer`], whether the ticket came
//! from the camera, the keyboard or an offline queue, so the door page has one
//! screen per outcome. Refusals that are about the ticket (forged, cancelled,
//! waitlisted, another event) are answers, not errors: staff need to tell the
//! person in front of them what is wrong, and a sync of offline scans must go
//! on past them.
//!
//! Who may use the door is [`may_check_in`]'s question; the other functions
//! assume the caller asked it for the event they are given.
//!
//! The shapes compile for the browser; the functions need the `server` feature.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::RegistrationStatus;

/// What the door shows after a scan or a typed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ScanAnswer {
    /// Welcome: checked in just now.
    CheckedIn {
        registration_id: i64,
        name: String,
        department: Option<String>,
        at: DateTime<Utc>,
    },
    /// Checked in before (the same ticket shown twice, or two doors): when and by whom,
    /// so staff can tell a double scan from a copied ticket.
    AlreadyCheckedIn {
        registration_id: i64,
        name: String,
        department: Option<String>,
        at: DateTime<Utc>,
        by_name: Option<String>,
    },
    /// The registration was cancelled or removed: no seat.
    Cancelled { name: String },
    /// On the waitlist: no seat yet.
    Waitlisted { name: String },
    /// A genuine ticket, for another event: staff can send the person there.
    OtherEvent {
        event_id: i64,
        title_ja: Option<String>,
        title_en: Option<String>,
    },
    /// Forged, altered, garbled, or a code nobody has.
    Invalid,
    /// Only offline: a genuine ticket of this event whose registration is not
    /// on the door list downloaded at `list_from` (cancelled, waitlisted, or
    /// registered since). Not admitted and not queued; the network can tell.
    NotOnDoorList { list_from: DateTime<Utc> },
}

/// The door's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInCounts {
    pub checked_in: i64,
    /// Everyone holding a seat, checked in or not.
    pub registered_total: i64,
}

/// One person in the door's search results and offline list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRow {
    pub registration_id: i64,
    pub name: String,
    pub department: Option<String>,
    pub status: RegistrationStatus,
    /// The short ticket code; None until the person has opened their ticket once.
    pub code: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// What a door device downloads to keep working when the network drops: it
/// verifies QR codes with `public_key` (Ed25519, base64url without padding;
/// see `tickets` for the token format) and finds typed codes in `rows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorList {
    pub event_id: i64,
    pub public_key: String,
    pub rows: Vec<DoorRow>,
    pub generated_at: DateTime<Utc>,
}

/// A scan or typed code recorded while offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedScan {
    pub token_or_code: String,
    /// The door device's clock when it was scanned.
    pub scanned_at: DateTime<Utc>,
}

/// Most scans one sync may carry; a device with more sends several batches.
pub const MAX_QUEUED_SCANS: usize = 1000;
/// Most rows a door search returns.
pub const MAX_SEARCH_RESULTS: u32 = 50;

mod offline;
pub use offline::DoorDevice;

#[cfg(feature = "server")]
pub use store::*;

#[cfg(feature = "server")]
mod store {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::{
        CheckInCounts, DoorList, DoorRow, MAX_QUEUED_SCANS, MAX_SEARCH_RESULTS, QueuedScan,
        ScanAnswer,
    };
    use crate::audit::{self, AuditAction};
    use crate::model::{RegistrationStatus, Role};
    use crate::reason::Reason;
    use crate::storage::dialect::fragment;
    use crate::storage::{Backend, Database, UnitOfWork, contains_pattern, on_pool, on_tx};
    use crate::tickets;
    use crate::users::LoginLimits;
    use crate::users::throttle::{self, Attempt};
    use crate::{Error, Result};

    /// Whether `user_id` with `role` may work the door of `event_id`: staff
    /// and admins at every event, organizers at the events they organize,
    /// employees never. A missing event is [`Error::NotFound`].
    pub async fn may_check_in(
        db: &Database,
        user_id: i64,
        role: Role,
        event_id: i64,
    ) -> Result<bool> {
        if role == Role::Employee {
            return Ok(false);
        }
        let organizer: Option<Option<i64>> = on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT organizer_id FROM events WHERE id = $1"
        )
        .bind(event_id)
        .fetch_optional(pool)
        .await?);
        let organizer = organizer.ok_or(Error::NotFound)?;
        Ok(match role {
            Role::Employee => false,
            Role::Staff | Role::Admin => true,
            Role::Organizer => organizer == Some(user_id),
        })
    }

    /// [`may_check_in`] as a guard: [`Error::Forbidden`] when not allowed.
    pub async fn require_check_in(
        db: &Database,
        user_id: i64,
        role: Role,
        event_id: i64,
    ) -> Result<()> {
        if may_check_in(db, user_id, role, event_id).await? {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// A registration with what the door shows about its holder.
    #[derive(sqlx::FromRow)]
    struct Holder {
        id: i64,
        event_id: i64,
        status: String,
        version: i32,
        registered_at: DateTime<Utc>,
        checked_in_at: Option<DateTime<Utc>>,
        name: String,
        email: String,
        department: Option<String>,
        checked_in_by_name: Option<String>,
    }

    macro_rules! select_holder {
        ($where:literal) => {
            concat!(
                "SELECT r.id, r.event_id, r.status, r.version, r.registered_at, r.checked_in_at,
                        u.display_name AS name, u.email, d.name AS department, c.display_name AS checked_in_by_name
                   FROM registrations r
                   JOIN users u ON u.id = r.user_id
                   LEFT JOIN departments d ON d.id = u.department_id
                   LEFT JOIN users c ON c.id = r.checked_in_by ",
                $where
            )
        };
    }

    impl Holder {
        fn status(&self) -> Result<RegistrationStatus> {
            RegistrationStatus::parse(&self.status).ok_or_else(|| {
                tracing::error!(registration = self.id, status = %self.status, "unknown registration status");
                Error::Internal
            })
        }
    }

    async fn holder_by_id(db: &Database, registration_id: i64) -> Result<Option<Holder>> {
        const SELECT: &str = select_holder!("WHERE r.id = $1");
        Ok(on_pool!(db, |pool| sqlx::query_as(SELECT)
            .bind(registration_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Codes are unique across events, so a code of another event is found
    /// too and answered with where it belongs.
    async fn holder_by_code(db: &Database, code: &str) -> Result<Option<Holder>> {
        const SELECT: &str = select_holder!("WHERE r.ticket_code = $1");
        Ok(on_pool!(db, |pool| sqlx::query_as(SELECT)
            .bind(code)
            .fetch_optional(pool)
            .await?))
    }

    async fn other_event(db: &Database, event_id: i64) -> Result<ScanAnswer> {
        let titles: Option<(Option<String>, Option<String>)> = on_pool!(db, |pool| sqlx::query_as(
            "SELECT title_ja, title_en FROM events WHERE id = $1"
        )
        .bind(event_id)
        .fetch_optional(pool)
        .await?);
        Ok(match titles {
            Some((title_ja, title_en)) => ScanAnswer::OtherEvent {
                event_id,
                title_ja,
                title_en,
            },
            // Signed by us for an event that no longer exists: nothing to send them to.
            None => ScanAnswer::Invalid,
        })
    }

    /// PostgreSQL keeps microseconds: cut before storing, so the time shown
    /// now equals the one a later scan reads back.
    fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
    }

    /// How the ticket reached the door, for the audit log.
    #[derive(Clone, Copy)]
    enum Via {
        Qr,
        Code,
        /// Chosen from the organizer's attendee list.
        List,
        Offline {
            scanned_at: DateTime<Utc>,
        },
    }

    /// When to record a check-in: a scan's own time if the device's clock is
    /// believable, else the time it reached the server.
    enum When {
        Now,
        ScannedAt(DateTime<Utc>),
    }

    /// Checks in the holder of a ticket already known to be genuine, or says
    /// why not. The state change is the engine's conditional UPDATE (status and
    /// version as read), with its audit entry in the same transaction, so of
    /// two doors scanning at once, or a scan racing a cancellation, exactly one
    /// wins and the others are told what happened.
    async fn admit(
        db: &Database,
        event_id: i64,
        mut holder: Holder,
        staff_id: i64,
        when: When,
        via: Via,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        if holder.event_id != event_id {
            return other_event(db, holder.event_id).await;
        }
        // Each failed round means another writer changed this registration; it
        // cannot change more than a few times (registered → checked_in/cancelled).
        for _ in 0..3 {
            match holder.status()? {
                RegistrationStatus::Waitlisted => {
                    return Ok(ScanAnswer::Waitlisted { name: holder.name });
                }
                RegistrationStatus::Cancelled | RegistrationStatus::Removed => {
                    return Ok(ScanAnswer::Cancelled { name: holder.name });
                }
                RegistrationStatus::CheckedIn => {
                    return Ok(ScanAnswer::AlreadyCheckedIn {
                        registration_id: holder.id,
                        name: holder.name,
                        department: holder.department,
                        at: holder.checked_in_at.unwrap_or(now),
                        by_name: holder.checked_in_by_name,
                    });
                }
                RegistrationStatus::Registered => {}
            }
            let at = to_micros(match when {
                When::ScannedAt(scanned) if scanned <= now && scanned >= holder.registered_at => {
                    scanned
                }
                _ => now,
            });
            let detail = match via {
                Via::Qr => {
                    json!({ "event_id": event_id, "registration_id": holder.id, "via": "qr" })
                }
                Via::Code => {
                    json!({ "event_id": event_id, "registration_id": holder.id, "via": "code" })
                }
                Via::List => {
                    json!({ "event_id": event_id, "registration_id": holder.id, "via": "list" })
                }
                Via::Offline { scanned_at } => json!({
                    "event_id": event_id, "registration_id": holder.id, "via": "offline",
                    "scanned_at": scanned_at.to_rfc3339(), "recorded_at": at.to_rfc3339(),
                }),
            };
            let mut uow = db.begin_write().await?;
            let changed = on_tx!(&mut uow, |tx| {
                sqlx::query(
                "UPDATE registrations
                    SET status = 'checked_in', checked_in_at = $3, checked_in_by = $4, version = version + 1, updated_at = $5
                  WHERE id = $1 AND status = 'registered' AND version = $2",
            )
            .bind(holder.id)
            .bind(holder.version)
            .bind(at)
            .bind(staff_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            });
            let changed = keep_if_changed(
                uow,
                changed,
                staff_id,
                AuditAction::CheckedIn,
                &holder.email,
                detail,
                now,
            )
            .await?;
            if changed {
                return Ok(ScanAnswer::CheckedIn {
                    registration_id: holder.id,
                    name: holder.name,
                    department: holder.department,
                    at,
                });
            }
            holder = holder_by_id(db, holder.id).await?.ok_or(Error::NotFound)?;
        }
        Err(Error::Conflict(Reason::ScanAgain))
    }

    async fn answer_token(
        db: &Database,
        event_id: i64,
        token: &str,
        staff_id: i64,
        when: When,
        via: Via,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        let claims = match tickets::verify(db, token).await {
            Ok(claims) => claims,
            Err(Error::Invalid(_)) => return Ok(ScanAnswer::Invalid),
            Err(err) => return Err(err),
        };
        if claims.event_id != event_id {
            return other_event(db, claims.event_id).await;
        }
        match holder_by_id(db, claims.registration_id).await? {
            // A signature must not vouch for a registration of another event.
            Some(holder) if holder.event_id == claims.event_id => {
                admit(db, event_id, holder, staff_id, when, via, now).await
            }
            _ => Ok(ScanAnswer::Invalid),
        }
    }

    /// Typed codes that match no ticket, allowed per door keeper within
    /// [`wrong_code_limits`]'s window. A real door types a handful of codes a
    /// minute and mistypes a few; someone trying codes at machine speed
    /// (a code has 40 bits, but an installation holds many tickets) is
    /// stopped after these, for the block, and the audit log says so once.
    pub const WRONG_CODES_ALLOWED: u32 = 30;

    fn wrong_code_limits() -> LoginLimits {
        LoginLimits {
            per_account: WRONG_CODES_ALLOWED,
            per_address: WRONG_CODES_ALLOWED,
            window: chrono::Duration::minutes(10),
            block: chrono::Duration::minutes(10),
        }
    }

    /// A typed code, counted against the door keeper's wrong codes before it
    /// is looked up (so parallel guesses cannot pass the limit together) and
    /// given back when it matches a ticket.
    async fn answer_code(
        db: &Database,
        event_id: i64,
        code: &str,
        staff_id: i64,
        when: When,
        via: Via,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        let key = throttle::ticket_code_key(staff_id);
        let limits = wrong_code_limits();
        if let Attempt::Refused {
            retry_after_secs,
            first,
        } = throttle::reserve(db, &key, WRONG_CODES_ALLOWED, &limits, now).await?
        {
            if first {
                audit::insert_at(
                    db,
                    Some(staff_id),
                    AuditAction::TicketCodesThrottled,
                    &format!("event {event_id}"),
                    json!({ "event_id": event_id, "wrong_codes": WRONG_CODES_ALLOWED, "retry_after_secs": retry_after_secs }),
                    now,
                )
                .await?;
            }
            return Err(Error::TooManyWrongCodes { retry_after_secs });
        }
        let holder = match tickets::normalize_code(code) {
            Some(code) => holder_by_code(db, &code).await?,
            None => None,
        };
        match holder {
            Some(holder) => {
                throttle::refund(db, &key, WRONG_CODES_ALLOWED).await?;
                admit(db, event_id, holder, staff_id, when, via, now).await
            }
            None => Ok(ScanAnswer::Invalid),
        }
    }

    /// A scanned QR code at the door of `event_id`. Scanning the same ticket
    /// again answers [`ScanAnswer::AlreadyCheckedIn`] with the first time.
    #[tracing::instrument(skip(db, token))]
    pub async fn scan(
        db: &Database,
        event_id: i64,
        token: &str,
        staff_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        let answer = answer_token(db, event_id, token, staff_id, When::Now, Via::Qr, now).await;
        crate::observe::check_in(&answer, "qr");
        answer
    }

    /// A person checked in by hand from the attendee list, with the same
    /// answers as [`scan`]. [`Error::NotFound`] if the registration is not
    /// one of `event_id`'s.
    #[tracing::instrument(skip(db))]
    pub async fn by_registration(
        db: &Database,
        event_id: i64,
        registration_id: i64,
        staff_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        let answer = match holder_by_id(db, registration_id).await? {
            Some(holder) if holder.event_id == event_id => {
                admit(db, event_id, holder, staff_id, When::Now, Via::List, now).await
            }
            _ => Err(Error::NotFound),
        };
        crate::observe::check_in(&answer, "list");
        answer
    }

    /// A typed ticket code, with the same answers as [`scan`].
    #[tracing::instrument(skip(db, code))]
    pub async fn by_code(
        db: &Database,
        event_id: i64,
        code: &str,
        staff_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ScanAnswer> {
        let answer = answer_code(db, event_id, code, staff_id, When::Now, Via::Code, now).await;
        crate::observe::check_in(&answer, "code");
        answer
    }

    /// Takes back a check-in made by mistake: the person holds their seat
    /// again, not checked in. [`Error::Conflict`] if they are not checked in;
    /// [`Error::NotFound`] if the registration is not one of `event_id`'s,
    /// so permission to work one door cannot undo at another.
    #[tracing::instrument(skip(db))]
    pub async fn undo(
        db: &Database,
        event_id: i64,
        registration_id: i64,
        staff_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let holder = holder_by_id(db, registration_id)
            .await?
            .filter(|h| h.event_id == event_id)
            .ok_or(Error::NotFound)?;
        let not_checked_in = || Error::Conflict(Reason::NotCheckedIn);
        if holder.status()? != RegistrationStatus::CheckedIn {
            return Err(not_checked_in());
        }
        let detail = json!({
            "event_id": event_id,
            "registration_id": registration_id,
            "was_checked_in_at": holder.checked_in_at.map(|at| at.to_rfc3339()),
        });
        // Both states hold a seat, so the event's counter stays as it is.
        let mut uow = db.begin_write().await?;
        let changed = on_tx!(&mut uow, |tx| {
            sqlx::query(
            "UPDATE registrations
                SET status = 'registered', checked_in_at = NULL, checked_in_by = NULL, version = version + 1, updated_at = $3
              WHERE id = $1 AND status = 'checked_in' AND version = $2",
        )
        .bind(registration_id)
        .bind(holder.version)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        });
        let changed = keep_if_changed(
            uow,
            changed,
            staff_id,
            AuditAction::CheckInUndone,
            &holder.email,
            detail,
            now,
        )
        .await?;
        if changed {
            Ok(())
        } else {
            // Someone undid it first (or it changed otherwise): it is no longer checked in.
            Err(not_checked_in())
        }
    }

    /// Ends a door change guarded by the version read: when its UPDATE
    /// matched the one row, the change commits with its audit entry; when
    /// another writer got there first, nothing is kept. Says which.
    async fn keep_if_changed(
        mut uow: UnitOfWork<'_>,
        rows_changed: u64,
        staff_id: i64,
        action: AuditAction,
        target: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if rows_changed != 1 {
            uow.rollback().await?;
            return Ok(false);
        }
        audit::insert(&mut uow, Some(staff_id), action, target, detail, now).await?;
        uow.commit().await?;
        Ok(true)
    }

    /// Checked in so far, of all seat holders; one statement.
    pub async fn counts(db: &Database, event_id: i64) -> Result<CheckInCounts> {
        let counts: Option<(i64, i64)> = on_pool!(db, |pool| {
            sqlx::query_as(
            "SELECT COUNT(CASE WHEN r.status = 'checked_in' THEN 1 END), COUNT(r.id)
               FROM events e
               LEFT JOIN registrations r ON r.event_id = e.id AND r.status IN ('registered', 'checked_in')
              WHERE e.id = $1
              GROUP BY e.id"
        )
        .bind(event_id)
        .fetch_optional(pool)
        .await?
        });
        let (checked_in, registered_total) = counts.ok_or(Error::NotFound)?;
        Ok(CheckInCounts {
            checked_in,
            registered_total,
        })
    }

    #[derive(sqlx::FromRow)]
    struct RowRecord {
        registration_id: i64,
        name: String,
        department: Option<String>,
        status: String,
        code: Option<String>,
        checked_in_at: Option<DateTime<Utc>>,
    }

    impl RowRecord {
        fn into_row(self) -> Result<DoorRow> {
            let status = RegistrationStatus::parse(&self.status).ok_or_else(|| {
                tracing::error!(registration = self.registration_id, status = %self.status, "unknown registration status");
                Error::Internal
            })?;
            Ok(DoorRow {
                registration_id: self.registration_id,
                name: self.name,
                department: self.department,
                status,
                code: self.code,
                checked_in_at: self.checked_in_at,
            })
        }
    }

    /// The door's rows for one event; `each_row_of`: each person looked up
    /// by id, so the cost follows the event, not the company.
    macro_rules! select_rows {
        ($backend:ident, $($rest:literal)*) => {
            concat!(
                "SELECT r.id AS registration_id, u.display_name AS name, d.name AS department, r.status,
                        r.ticket_code AS code, r.checked_in_at
                   FROM registrations r ",
                fragment!($backend, [each_row_of "users", "u", "r.user_id"]),
                " LEFT JOIN departments d ON d.id = u.department_id ",
                $($rest),*
            )
        };
    }

    macro_rules! search_sql {
        ($backend:ident) => {
            select_rows!(
                $backend,
                "WHERE r.event_id = $1 AND r.status IN ('registered', 'checked_in', 'waitlisted')
                   AND (LOWER(u.display_name) LIKE LOWER($2) ESCAPE '\\'
                        OR LOWER(u.email) LIKE LOWER($2) ESCAPE '\\'
                        OR r.ticket_code LIKE $3 ESCAPE '\\')
                 ORDER BY COALESCE(u.name_reading, u.display_name), r.id
                 LIMIT $4"
            )
        };
    }

    macro_rules! door_list_sql {
        ($backend:ident) => {
            select_rows!(
                $backend,
                "WHERE r.event_id = $1 AND r.status IN ('registered', 'checked_in')
                 ORDER BY COALESCE(u.name_reading, u.display_name), r.id
                 LIMIT $2"
            )
        };
    }

    /// The statements behind [`search`] and [`door_list`], for plan tests.
    pub fn statements(backend: Backend) -> [&'static str; 2] {
        match backend {
            Backend::Sqlite => [search_sql!(Sqlite), door_list_sql!(Sqlite)],
            Backend::Postgres => [search_sql!(Postgres), door_list_sql!(Postgres)],
        }
    }

    /// Longest fragment the search accepts; a name or an e-mail address is shorter.
    const MAX_FRAGMENT_CHARS: usize = 100;

    /// People of `event_id` (registered, checked in or waitlisted) whose name,
    /// e-mail address or ticket code contains `fragment`, by name; at most
    /// `limit` rows, itself at most [`MAX_SEARCH_RESULTS`]. An empty fragment
    /// finds nobody rather than everybody.
    pub async fn search(
        db: &Database,
        event_id: i64,
        fragment: &str,
        limit: u32,
    ) -> Result<Vec<DoorRow>> {
        // Nobody types control characters, and PostgreSQL refuses a NUL in text.
        let text: String = fragment.chars().filter(|c| !c.is_control()).collect();
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if text.chars().count() > MAX_FRAGMENT_CHARS {
            return Err(Error::Invalid(Reason::SearchTooLong {
                max_chars: MAX_FRAGMENT_CHARS as u32,
            }));
        }
        let limit = i64::from(limit.clamp(1, MAX_SEARCH_RESULTS));
        let words = contains_pattern(text);
        // Codes are stored upper case and shown with a dash, which is not stored.
        let code: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .collect::<String>()
            .to_uppercase();
        let code = contains_pattern(&code);
        let [search_sql, _] = statements(db.backend());
        let records: Vec<RowRecord> = on_pool!(db, |pool| sqlx::query_as(search_sql)
            .bind(event_id)
            .bind(&words)
            .bind(&code)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        records.into_iter().map(RowRecord::into_row).collect()
    }

    /// The largest capacity an event can have; the seat counter's CHECK keeps
    /// the seat holders within the capacity, this keeps the query bounded
    /// whatever the data says.
    const MAX_DOOR_LIST_ROWS: i64 = 100_000;

    /// Everyone holding a seat at `event_id`, with the event's public key: what
    /// a door device needs to verify tickets and find codes offline.
    pub async fn door_list(db: &Database, event_id: i64, now: DateTime<Utc>) -> Result<DoorList> {
        let public_key = tickets::event_public_key(db, event_id).await?;
        let [_, door_list_sql] = statements(db.backend());
        let records: Vec<RowRecord> = on_pool!(db, |pool| sqlx::query_as(door_list_sql)
            .bind(event_id)
            .bind(MAX_DOOR_LIST_ROWS)
            .fetch_all(pool)
            .await?);
        Ok(DoorList {
            event_id,
            public_key,
            rows: records
                .into_iter()
                .map(RowRecord::into_row)
                .collect::<Result<_>>()?,
            generated_at: now,
        })
    }

    /// Applies scans a door device recorded offline, answering each by its
    /// index in `queued`.
    ///
    /// Deterministic whatever order the device sends them in: they are applied
    /// in order of scan time (then index), so of two scans of one ticket the
    /// earlier checks in and the later answers [`ScanAnswer::AlreadyCheckedIn`];
    /// sending the same batch again changes nothing. A registration cancelled
    /// since the scan answers [`ScanAnswer::Cancelled`] and is not checked in.
    /// The check-in time is the scan time unless the device's clock is not
    /// believable (in the future, or before the person registered), then now.
    #[tracing::instrument(skip_all)]
    pub async fn apply_queued(
        db: &Database,
        event_id: i64,
        staff_id: i64,
        queued: Vec<QueuedScan>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(usize, ScanAnswer)>> {
        if queued.len() > MAX_QUEUED_SCANS {
            return Err(Error::Invalid(Reason::TooManyScans {
                max: MAX_QUEUED_SCANS as u32,
            }));
        }
        let mut order: Vec<usize> = (0..queued.len()).collect();
        order.sort_by_key(|&i| (queued[i].scanned_at, i));
        let mut answers: Vec<Option<ScanAnswer>> = vec![None; queued.len()];
        for i in order {
            let scan = &queued[i];
            let when = When::ScannedAt(scan.scanned_at);
            let via = Via::Offline {
                scanned_at: scan.scanned_at,
            };
            let typed = scan.token_or_code.trim();
            // A code is 8 characters and a token over a hundred: no overlap.
            let answer = if tickets::normalize_code(typed).is_some() {
                answer_code(db, event_id, typed, staff_id, when, via, now).await?
            } else {
                answer_token(db, event_id, typed, staff_id, when, via, now).await?
            };
            crate::observe::synced_check_in(&answer);
            answers[i] = Some(answer);
        }
        Ok(answers
            .into_iter()
            .enumerate()
            .map(|(i, answer)| (i, answer.unwrap_or(ScanAnswer::Invalid)))
            .collect())
    }
}
