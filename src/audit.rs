//! The audit log: who did what to whom, and when.
//!
//! Entries are only ever added. Changes made by the core write their entry in
//! the same transaction as the change itself, so the log cannot miss a change
//! that happened nor show one that was rolled back.
//!
//! The shapes here compile for the browser; reading and writing need the
//! `server` feature.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened, as stored in `audit_log.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LoginFailed,
    LoginThrottled,
    LoggedIn,
    LoggedOut,
    PasswordChanged,
    UserCreated,
    RoleChanged,
    UserDeactivated,
    UserReactivated,
    UserAnonymized,
    UsersImported,
    EventEdited,
    CapacityChanged,
    CheckedIn,
    CheckInUndone,
    RegistrationRemoved,
    MailRetried,
    EventCreated,
    EventPublished,
    EventCancelled,
    TicketCodesThrottled,
    InvitationsSent,
    PasswordResetRequested,
    PasswordSetWithLink,
    SurveyCreated,
    SurveyEdited,
    SurveyOpened,
    SurveyClosed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 28] = [
        AuditAction::LoginFailed,
        AuditAction::LoginThrottled,
        AuditAction::LoggedIn,
        AuditAction::LoggedOut,
        AuditAction::PasswordChanged,
        AuditAction::UserCreated,
        AuditAction::RoleChanged,
        AuditAction::UserDeactivated,
        AuditAction::UserReactivated,
        AuditAction::UserAnonymized,
        AuditAction::UsersImported,
        AuditAction::EventEdited,
        AuditAction::CapacityChanged,
        AuditAction::CheckedIn,
        AuditAction::CheckInUndone,
        AuditAction::RegistrationRemoved,
        AuditAction::MailRetried,
        AuditAction::EventCreated,
        AuditAction::EventPublished,
        AuditAction::EventCancelled,
        AuditAction::TicketCodesThrottled,
        AuditAction::InvitationsSent,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordSetWithLink,
        AuditAction::SurveyCreated,
        AuditAction::SurveyEdited,
        AuditAction::SurveyOpened,
        AuditAction::SurveyClosed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::LoginFailed => "login_failed",
            AuditAction::LoginThrottled => "login_throttled",
            AuditAction::LoggedIn => "logged_in",
            AuditAction::LoggedOut => "logged_out",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::UserCreated => "user_created",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::UserDeactivated => "user_deactivated",
            AuditAction::UserReactivated => "user_reactivated",
            AuditAction::UserAnonymized => "user_anonymized",
            AuditAction::UsersImported => "users_imported",
            AuditAction::EventEdited => "event_edited",
            AuditAction::CapacityChanged => "capacity_changed",
            AuditAction::CheckedIn => "checked_in",
            AuditAction::CheckInUndone => "check_in_undone",
            AuditAction::RegistrationRemoved => "registration_removed",
            AuditAction::MailRetried => "mail_retried",
            AuditAction::EventCreated => "event_created",
            AuditAction::EventPublished => "event_published",
            AuditAction::EventCancelled => "event_cancelled",
            AuditAction::TicketCodesThrottled => "ticket_codes_throttled",
            AuditAction::InvitationsSent => "invitations_sent",
            AuditAction::PasswordResetRequested => "password_reset_requested",
            AuditAction::PasswordSetWithLink => "password_set_with_link",
            AuditAction::SurveyCreated => "survey_created",
            AuditAction::SurveyEdited => "survey_edited",
            AuditAction::SurveyOpened => "survey_opened",
            AuditAction::SurveyClosed => "survey_closed",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// None for the system, the command line, and anonymous visitors (failed logins).
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: AuditAction,
    /// What was acted on, readable as it stands (an e-mail address, an event).
    pub target: String,
    /// The particulars as JSON text. Text rather than a JSON value because
    /// serde_json is a server-only dependency of this crate and the browser
    /// only shows the detail; the server reads it with [`AuditEntry::detail_value`].
    pub detail: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Where the next (older) page starts; None on the last page.
    pub next: Option<AuditCursor>,
}

/// Position after the last entry of a page, ordered by (at, id) descending.
///
/// In URLs it travels as `"<unix microseconds>_<id>"`; [`AuditCursor::decode`]
/// answers None for anything else, which callers report as a broken link
/// (`Error::Invalid`), as the event list does, rather than silently showing
/// the first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl AuditCursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }

    pub fn decode(text: &str) -> Option<AuditCursor> {
        let (micros, id) = text.split_once('_')?;
        Some(AuditCursor {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

#[cfg(feature = "server")]
pub use store::*;

#[cfg(feature = "server")]
mod store {
    use chrono::{DateTime, Utc};
    use serde_json::Value;
    use sqlx::types::Json;

    use super::{AuditAction, AuditCursor, AuditEntry, AuditPage};
    use crate::model;
    use crate::storage::{Database, UnitOfWork, on_pool, on_tx};
    use crate::{Error, Result};

    impl AuditEntry {
        /// The detail as a JSON value; an empty object if it is not JSON,
        /// which the schema does not allow anyway.
        pub fn detail_value(&self) -> Value {
            serde_json::from_str(&self.detail).unwrap_or_else(|_| Value::Object(Default::default()))
        }
    }

    /// PostgreSQL keeps microseconds; cutting to them before storing makes
    /// the instant read back, and so the page cursor, equal to the one written.
    fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
    }

    /// One audit row with its values bound, for whichever executor runs it.
    macro_rules! entry_insert {
        ($actor:expr, $action:expr, $target:expr, $detail:expr, $at:expr) => {
            sqlx::query(
                "INSERT INTO audit_log (actor_user_id, action, target, detail, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind($actor)
            .bind($action.code())
            .bind($target)
            .bind(Json($detail))
            .bind(to_micros($at))
        };
    }

    /// Adds an entry as a step of `uow`, so it commits together with the
    /// change it describes.
    pub(crate) async fn insert(
        uow: &mut UnitOfWork<'_>,
        actor: Option<i64>,
        action: AuditAction,
        target: &str,
        detail: Value,
        at: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        on_tx!(uow, |conn| entry_insert!(
            actor, action, target, &detail, at
        )
        .execute(&mut *conn)
        .await
        .map(|_| ()))
    }

    /// [`insert`] on its own, at a given instant (the login path passes the
    /// `now` it decided with, so entry and decision agree). One statement:
    /// failed logins write here, so no transaction around a single row.
    pub(crate) async fn insert_at(
        db: &Database,
        actor: Option<i64>,
        action: AuditAction,
        target: &str,
        detail: Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(db, |pool| entry_insert!(actor, action, target, &detail, at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Records something that happened outside the core's own changes (a
    /// logout, an edit made by the server layer).
    pub async fn record(
        db: &Database,
        actor: Option<i64>,
        action: AuditAction,
        target: &str,
        detail: Value,
    ) -> Result<()> {
        insert_at(db, actor, action, target, detail, Utc::now()).await
    }

    #[derive(sqlx::FromRow)]
    struct EntryRow {
        id: i64,
        at: DateTime<Utc>,
        actor_user_id: Option<i64>,
        actor_name: Option<String>,
        action: String,
        target: String,
        detail: Json<Value>,
    }

    impl EntryRow {
        fn into_entry(self) -> Result<AuditEntry> {
            let action = AuditAction::parse(&self.action).ok_or_else(|| {
                tracing::error!(entry = self.id, action = %self.action, "unknown audit action in database");
                Error::Internal
            })?;
            Ok(AuditEntry {
                id: self.id,
                at: self.at,
                actor_id: self.actor_user_id,
                actor_name: self.actor_name,
                action,
                target: self.target,
                detail: self.detail.0.to_string(),
            })
        }
    }

    macro_rules! select_entries {
        ($($rest:literal)*) => {
            concat!(
                "SELECT a.id, a.at, a.actor_user_id, u.display_name AS actor_name, a.action, a.target, a.detail
                   FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id ",
                $($rest),*
            )
        };
    }

    /// One page of the log, newest first. A keyset page on (at, id) walks the
    /// `audit_log_at` index backwards, so a page costs the same in year ten
    /// as on day one.
    pub async fn page(
        db: &Database,
        before: Option<AuditCursor>,
        page_size: u32,
    ) -> Result<AuditPage> {
        const FIRST: &str = select_entries!("ORDER BY a.at DESC, a.id DESC LIMIT $1");
        const AFTER: &str = select_entries!(
            "WHERE a.at <= $2 AND (a.at < $2 OR a.id < $3) ORDER BY a.at DESC, a.id DESC LIMIT $1"
        );
        let page_size = model::page_size(Some(page_size));
        let limit = i64::from(page_size) + 1;
        let rows: Vec<EntryRow> = on_pool!(db, |pool| {
            match before {
                None => sqlx::query_as(FIRST).bind(limit).fetch_all(pool).await?,
                Some(cursor) => {
                    sqlx::query_as(AFTER)
                        .bind(limit)
                        .bind(cursor.at)
                        .bind(cursor.id)
                        .fetch_all(pool)
                        .await?
                }
            }
        });
        let has_more = rows.len() > page_size as usize;
        let items: Vec<AuditEntry> = rows
            .into_iter()
            .take(page_size as usize)
            .map(EntryRow::into_entry)
            .collect::<Result<_>>()?;
        let next = if has_more {
            items.last().map(|last| AuditCursor {
                at: last.at,
                id: last.id,
            })
        } else {
            None
        };
        Ok(AuditPage { items, next })
    }

    /// The newest entry of `action`, by `actor` or, when None, by anyone.
    pub async fn latest(
        db: &Database,
        action: AuditAction,
        actor: Option<i64>,
    ) -> Result<Option<AuditEntry>> {
        const LATEST: &str = select_entries!(
            "WHERE a.action = $1 AND ($2 IS NULL OR a.actor_user_id = $2)
             ORDER BY a.at DESC, a.id DESC LIMIT 1"
        );
        let row: Option<EntryRow> = on_pool!(db, |pool| {
            sqlx::query_as(LATEST)
                .bind(action.code())
                .bind(actor)
                .fetch_optional(pool)
                .await?
        });
        row.map(EntryRow::into_entry).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_codes() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.code()), Some(action));
        }
        let mut codes: Vec<_> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes.len(),
            AuditAction::ALL.len(),
            "codes must be distinct"
        );
        assert_eq!(AuditAction::parse("nonsense"), None);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = AuditCursor {
            at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(AuditCursor::decode(&cursor.encode()), Some(cursor));
        for garbage in ["", "garbage", "12_x", "x_12", "_", "99999999999999999999_1"] {
            assert_eq!(AuditCursor::decode(garbage), None, "{garbage}");
        }
    }
}
