//! Writing mail into the transactional outbox (review S-3).
//!
//! A state change and the mail announcing it commit together or not at all;
//! the delivery worker sends later. The dedupe key makes a second enqueue of
//! the same message a no-op, which is what "exactly once" rests on.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

/// Kinds of mail, as stored in `mail_outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    RegistrationConfirmed,
    Waitlisted,
    Promoted,
    Cancelled,
}

impl MailKind {
    pub fn code(self) -> &'static str {
        match self {
            MailKind::RegistrationConfirmed => "registration_confirmed",
            MailKind::Waitlisted => "waitlisted",
            MailKind::Promoted => "promoted",
            MailKind::Cancelled => "cancelled",
        }
    }
}

/// Queues a mail to `user_id` inside the caller's transaction, addressed and
/// localised from the user row in the same statement.
pub(crate) async fn enqueue<'c, E, DB>(
    executor: E,
    kind: MailKind,
    user_id: i64,
    dedupe_key: &str,
    payload: Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Json<Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key,
                                  status, attempts, next_attempt_at, created_at)
         SELECT $1, u.id, u.email, u.lang, $2, $3, 'queued', 0, $4, $4 FROM users u WHERE u.id = $5
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(kind.code())
    .bind(Json(payload))
    .bind(dedupe_key)
    .bind(now)
    .bind(user_id)
    .execute(executor)
    .await
    .map(|_| ())
}
