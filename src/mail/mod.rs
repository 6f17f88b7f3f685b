//! Mail: nothing is sent inside a request. A change and the mail announcing
//! it commit together into the outbox ([`outbox`]);
//! a delivery worker ([`delivery`]) sends what is due over pooled SMTP
//! connections, retries with backoff and gives up after a configured number
//! of attempts; the reminder batch ([`reminders`]) enqueues every reminder
//! for tomorrow's events with one statement.
//!
//! Each mail is composed when it is sent ([`compose`]), from the outbox row
//! and the current state of its event, in the recipient's language, as HTML
//! and plain text ([`letter`], askama templates in `src/mail/templates/`).
//!
//! The shapes here compile for the browser (the admin outbox page); the rest
//! needs the `server` feature.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod compose;
#[cfg(feature = "server")]
pub mod delivery;
#[cfg(feature = "server")]
pub mod letter;
#[cfg(feature = "server")]
pub mod outbox;
#[cfg(feature = "server")]
pub mod preview;
#[cfg(feature = "server")]
pub mod reminders;
#[cfg(feature = "test-support")]
pub mod test_support;
#[cfg(feature = "server")]
pub mod transport;

/// Kinds of mail, as stored in `mail_outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    RegistrationConfirmed,
    Waitlisted,
    Promoted,
    Cancelled,
    EventChanged,
    EventCancelled,
    Reminder,
    SurveyInvitation,
    /// To the attendees who have not answered, some days before the survey closes.
    SurveyReminder,
    /// A link to set a first password, for someone an administrator added.
    Invitation,
    /// A link to set a new password, asked for on the login page.
    PasswordReset,
}

impl MailKind {
    pub const ALL: [MailKind; 11] = [
        MailKind::RegistrationConfirmed,
        MailKind::Waitlisted,
        MailKind::Promoted,
        MailKind::Cancelled,
        MailKind::EventChanged,
        MailKind::EventCancelled,
        MailKind::Reminder,
        MailKind::SurveyInvitation,
        MailKind::SurveyReminder,
        MailKind::Invitation,
        MailKind::PasswordReset,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MailKind::RegistrationConfirmed => "registration_confirmed",
            MailKind::Waitlisted => "waitlisted",
            MailKind::Promoted => "promoted",
            MailKind::Cancelled => "cancelled",
            MailKind::EventChanged => "event_changed",
            MailKind::EventCancelled => "event_cancelled",
            MailKind::Reminder => "reminder",
            MailKind::SurveyInvitation => "survey_invitation",
            MailKind::SurveyReminder => "survey_reminder",
            MailKind::Invitation => "invitation",
            MailKind::PasswordReset => "password_reset",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// Where a mail is, as stored in `mail_outbox.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for its first attempt or its next one.
    Queued,
    /// Claimed by a worker; back to claimable if that worker dies.
    Sending,
    Sent,
    /// Given up on: too many failed attempts, or refused for good.
    Dead,
}

impl MailStatus {
    pub const ALL: [MailStatus; 4] = [
        MailStatus::Queued,
        MailStatus::Sending,
        MailStatus::Sent,
        MailStatus::Dead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Dead => "dead",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }
}

/// One row of the admin outbox page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: MailKind,
    pub to_address: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How many mails are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub dead: i64,
}

/// A page of the outbox, newest first, and the id to continue below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPage {
    pub entries: Vec<OutboxEntry>,
    pub next_before: Option<i64>,
}

/// A mail as an administrator reads it on the outbox page (see `preview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPreview {
    pub id: i64,
    pub kind: MailKind,
    pub to_address: String,
    /// `None` when the mail would no longer be sent; `reason` says why.
    pub subject: Option<String>,
    pub text: Option<String>,
    pub reason: Option<String>,
}
