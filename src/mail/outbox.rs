//! The transactional outbox in the database.
//!
//! A state change and the mail announcing it commit together or not at all:
//! the change's [`UnitOfWork`] queues the mail, and the delivery worker sends
//! it later. The dedupe key makes a second enqueue of the same message a
//! no-op, which is what "exactly once" rests on.
//!
//! Workers claim due rows by moving them to `sending` with a lease: the row's
//! `next_attempt_at` becomes the lease's end, so a row whose worker died is
//! due again once the lease runs out, and no mail is lost. On PostgreSQL the
//! claim skips rows another instance is claiming (`FOR UPDATE SKIP LOCKED`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{MailKind, MailStatus, OutboxCounts, OutboxEntry, OutboxPage};
use crate::audit::{self, AuditAction};
use crate::model::RegistrationStatus;
use crate::storage::{Backend, Database, UnitOfWork, dialect_sql, on_pool, on_tx};
use crate::{Error, Result};

/// The one statement shape that queues mail: a row per recipient, addressed
/// and localised from the `users` row `u` that the source joins, queued and
/// due at once. Each part is a list of SQL pieces for [`dialect_sql!`].
macro_rules! queue_mails_sql {
    ($backend:expr,kind($($kind:tt),+),payload($($payload:tt),+),key($($key:tt),+),at $at:tt,$($source:tt),+) => {
        dialect_sql!(
            $backend,
            "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key,
                                      status, attempts, next_attempt_at, created_at)
             SELECT ",
            $($kind),+,
            ", u.id, u.email, u.lang, ",
            $($payload),+,
            ", ",
            $($key),+,
            ", 'queued', 0, ",
            $at,
            ", ",
            $at,
            " ",
            $($source),+,
            " ON CONFLICT (dedupe_key) DO NOTHING"
        )
    };
}
pub(crate) use queue_mails_sql;

/// Queues a mail to `user_id` as a step of `uow`.
pub(crate) async fn enqueue(
    uow: &mut UnitOfWork<'_>,
    kind: MailKind,
    user_id: i64,
    dedupe_key: &str,
    payload: Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = queue_mails_sql!(
        uow.backend(),
        kind("$1"),
        payload("$2"),
        key("$3"),
        at "$4",
        "FROM users u WHERE u.id = $5"
    );
    on_tx!(uow, |conn| sqlx::query(sql)
        .bind(kind.code())
        .bind(Json(&payload))
        .bind(dedupe_key)
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
}

/// Queues a mail of `kind` to everyone registered, checked in or waiting for
/// `event_id` (an event moved or cancelled) as a step of `uow`; the dedupe
/// key is `key_prefix` and the registration id. Returns how many were queued.
pub(crate) async fn notify_attendees(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
    kind: MailKind,
    key_prefix: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let sql = queue_mails_sql!(
        uow.backend(),
        kind("$2"),
        payload(json_object, "('event_id', r.event_id, 'registration_id', r.id)"),
        key("$3 || r.id"),
        at "$4",
        "FROM registrations r
         JOIN users u ON u.id = r.user_id AND u.active
         WHERE r.event_id = $1 AND r.status IN ('registered', 'checked_in', 'waitlisted')"
    );
    on_tx!(uow, |conn| sqlx::query(sql)
        .bind(event_id)
        .bind(kind.code())
        .bind(key_prefix)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))
}

/// Queues a mail of `kind` (an invitation or a password reset) for every
/// password link made in `batch`, as a step of `uow`. The payload names the
/// link only; the link's secret is computed when the mail is composed, so the
/// outbox never holds it. Returns how many were queued.
pub(crate) async fn queue_password_links(
    uow: &mut UnitOfWork<'_>,
    batch: &str,
    kind: MailKind,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let sql = queue_mails_sql!(
        uow.backend(),
        kind("$2"),
        payload(json_object, "('link_id', l.id)"),
        key("'password-link:' || l.id"),
        at "$3",
        "FROM password_links l JOIN users u ON u.id = l.user_id WHERE l.batch = $1"
    );
    on_tx!(uow, |conn| sqlx::query(sql)
        .bind(batch)
        .bind(kind.code())
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))
}

/// The dedupe keys of the mail that answers a new registration: a seat, or a
/// place on the waitlist.
const SEATED_KEY: &str = "confirmed:";
const WAITLISTED_KEY: &str = "waitlisted:";

/// The mail that answers a new registration, and the key that queues it once.
pub(crate) fn welcome(registration_id: i64, status: RegistrationStatus) -> (MailKind, String) {
    match status {
        RegistrationStatus::Registered => (
            MailKind::RegistrationConfirmed,
            format!("{SEATED_KEY}{registration_id}"),
        ),
        _ => (
            MailKind::Waitlisted,
            format!("{WAITLISTED_KEY}{registration_id}"),
        ),
    }
}

/// Queues [`welcome`] mail for the registrations of `event_id` numbered
/// `first..=last` (a group written by one statement in `uow`, so no other
/// registration of the event can have an id in between) in one statement.
/// Returns how many were queued.
pub(crate) async fn enqueue_welcomes(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
    first: i64,
    last: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let sql = queue_mails_sql!(
        uow.backend(),
        kind("CASE WHEN r.waitlist_seq IS NULL THEN $5 ELSE $6 END"),
        payload(json_object, "('event_id', r.event_id, 'registration_id', r.id)"),
        key("CASE WHEN r.waitlist_seq IS NULL THEN $7 ELSE $8 END || r.id"),
        at "$4",
        "FROM registrations r JOIN users u ON u.id = r.user_id
         WHERE r.event_id = $1 AND r.id BETWEEN $2 AND $3"
    );
    on_tx!(uow, |conn| sqlx::query(sql)
        .bind(event_id)
        .bind(first)
        .bind(last)
        .bind(now)
        .bind(MailKind::RegistrationConfirmed.code())
        .bind(MailKind::Waitlisted.code())
        .bind(SEATED_KEY)
        .bind(WAITLISTED_KEY)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))
}

/// A mail a worker has claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMail {
    pub id: i64,
    pub kind: MailKind,
    pub recipient_user_id: Option<i64>,
    pub to_address: String,
    pub lang: String,
    pub payload: Value,
    /// Including this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    kind: String,
    recipient_user_id: Option<i64>,
    to_address: String,
    lang: String,
    payload: Json<Value>,
    attempts: i32,
    created_at: DateTime<Utc>,
}

impl ClaimedRow {
    /// `None` for a kind this version does not know.
    fn into_mail(self) -> Option<ClaimedMail> {
        Some(ClaimedMail {
            kind: MailKind::parse(&self.kind)?,
            id: self.id,
            recipient_user_id: self.recipient_user_id,
            to_address: self.to_address,
            lang: self.lang,
            payload: self.payload.0,
            attempts: self.attempts,
            created_at: self.created_at,
        })
    }
}

/// Mail `id` as a worker would see it, without claiming it (to read it).
pub(crate) async fn find(db: &Database, id: i64) -> Result<Option<ClaimedMail>> {
    let row: Option<ClaimedRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, kind, recipient_user_id, to_address, lang, payload, attempts, created_at
           FROM mail_outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await?);
    Ok(row.and_then(ClaimedRow::into_mail))
}

/// Claims up to `limit` due mails (queued and due, or sending with a lapsed
/// lease) until `lease_until`, counting the attempt. Oldest due first.
pub async fn claim_due(
    db: &Database,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedMail>> {
    let claim = dialect_sql!(
        db.backend(),
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2
         WHERE id IN (SELECT id FROM mail_outbox
                      WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3",
        skip_locked,
        ")
         RETURNING id, kind, recipient_user_id, to_address, lang, payload, attempts, created_at"
    );
    let rows: Vec<ClaimedRow> = on_pool!(db, |pool| sqlx::query_as(claim)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let (id, kind) = (row.id, row.kind.clone());
        let Some(mail) = row.into_mail() else {
            tracing::error!(mail = id, kind = %kind, "unknown mail kind in the outbox");
            give_up(db, id, &format!("unknown mail kind {kind}")).await?;
            continue;
        };
        claimed.push(mail);
    }
    // RETURNING gives no order; attempts go out oldest first.
    claimed.sort_by_key(|mail| mail.id);
    Ok(claimed)
}

/// The SMTP server accepted the mail.
pub async fn mark_sent(db: &Database, id: i64, message_id: &str, now: DateTime<Utc>) -> Result<()> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $2, message_id = $3, last_error = NULL
         WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .bind(message_id)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The attempt failed; try again at `retry_at`.
pub async fn mark_retry(
    db: &Database,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<()> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE mail_outbox SET status = 'queued', next_attempt_at = $2, last_error = $3
         WHERE id = $1 AND status = 'sending'"
    )
    .bind(id)
    .bind(retry_at)
    .bind(truncated(error))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// No more attempts: the mail is dead, with the reason.
pub async fn give_up(db: &Database, id: i64, error: &str) -> Result<()> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE mail_outbox SET status = 'dead', last_error = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(truncated(error))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Error texts from SMTP servers can be long; the page shows the start.
fn truncated(error: &str) -> &str {
    match error.char_indices().nth(1000) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

/// Queues a dead mail again with fresh attempts (an administrator fixed the
/// cause), audited in the same transaction. [`Error::Conflict`] unless it is
/// dead; [`Error::NotFound`] if it does not exist.
#[tracing::instrument(skip(db))]
pub async fn retry_dead(db: &Database, actor: i64, id: i64, now: DateTime<Utc>) -> Result<()> {
    let mut uow = db.begin_write().await?;
    let changed = on_tx!(&mut uow, |conn| sqlx::query(
        "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = $2
         WHERE id = $1 AND status = 'dead'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected());
    if changed > 0 {
        audit::insert(
            &mut uow,
            Some(actor),
            AuditAction::MailRetried,
            &format!("mail:{id}"),
            serde_json::json!({}),
            now,
        )
        .await?;
        uow.commit().await?;
    }
    if changed > 0 {
        return Ok(());
    }
    let exists: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM mail_outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await?);
    match exists {
        Some(_) => Err(Error::Conflict(
            crate::reason::Reason::OnlyFailedMailIsRetried,
        )),
        None => Err(Error::NotFound),
    }
}

/// How many mails are in each state: one grouped count.
pub async fn counts(db: &Database) -> Result<OutboxCounts> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT status, COUNT(*) FROM mail_outbox GROUP BY status"
    )
    .fetch_all(pool)
    .await?);
    let mut counts = OutboxCounts::default();
    for (status, n) in rows {
        match MailStatus::parse(&status) {
            Some(MailStatus::Queued) => counts.queued = n,
            Some(MailStatus::Sending) => counts.sending = n,
            Some(MailStatus::Sent) => counts.sent = n,
            Some(MailStatus::Dead) => counts.dead = n,
            None => tracing::warn!(%status, "unknown outbox status"),
        }
    }
    Ok(counts)
}

/// When the oldest mail still waiting for its first send was queued: how far
/// behind delivery is. `None` when nothing waits.
pub async fn oldest_queued_at(db: &Database) -> Result<Option<DateTime<Utc>>> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT MIN(created_at) FROM mail_outbox WHERE status = 'queued'"
    )
    .fetch_one(pool)
    .await?))
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    kind: String,
    to_address: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

/// Newest first, optionally one state only, below `before` (an id).
pub async fn page(
    db: &Database,
    status: Option<MailStatus>,
    before: Option<i64>,
    page_size: u32,
) -> Result<OutboxPage> {
    const SELECT: &str = "SELECT id, kind, to_address, status, attempts, last_error, created_at, next_attempt_at, sent_at
         FROM mail_outbox
         WHERE ($1 IS NULL OR status = $1) AND id < $2
         ORDER BY id DESC LIMIT $3";
    let page_size = crate::model::page_size(Some(page_size));
    let rows: Vec<EntryRow> = on_pool!(db, |pool| sqlx::query_as(SELECT)
        .bind(status.map(MailStatus::code))
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(page_size) + 1)
        .fetch_all(pool)
        .await?);
    let has_more = rows.len() > page_size as usize;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows.into_iter().take(page_size as usize) {
        let (Some(kind), Some(status)) =
            (MailKind::parse(&row.kind), MailStatus::parse(&row.status))
        else {
            tracing::error!(mail = row.id, "unknown kind or status in the outbox");
            return Err(Error::Internal);
        };
        entries.push(OutboxEntry {
            id: row.id,
            kind,
            to_address: row.to_address,
            status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
            sent_at: row.sent_at,
        });
    }
    let next_before = if has_more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(OutboxPage {
        entries,
        next_before,
    })
}

/// Queues a reminder for every seat holder of the published events starting
/// in `[from, until)`, with one statement whatever their number, unless the run for
/// `run_for` (a company-local day) is recorded as done; records it. The key
/// of each reminder names the registration and the event's start, so even a
/// run repeated after all queues nothing twice, while an event moved to
/// another time gets a fresh reminder.
///
/// Five statements whatever the number of events and people: begin, check
/// (and on PostgreSQL take a transaction-scoped advisory lock, so of several
/// instances one does the work), the insert, the record, commit.
///
/// `None` when the run was done already or another instance holds the lock;
/// otherwise how many reminders were queued.
pub async fn run_reminder_batch(
    db: &Database,
    run_for: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    const JOB: &str = "reminders";
    /// Any fixed number: the lock's name among the installation's advisory locks.
    const ADVISORY_LOCK: i64 = 0x7473_7564_6f69_0001;
    let mut uow = db.begin_write().await?;
    // SQLite: `BEGIN IMMEDIATE` already keeps every other instance out.
    let ours: bool = on_tx!(&mut uow, |conn| match db.backend() {
        Backend::Postgres => sqlx::query_scalar(
            "SELECT pg_try_advisory_xact_lock($3)
                    AND NOT EXISTS (SELECT 1 FROM scheduled_runs WHERE job = $1 AND run_for = $2)",
        )
        .bind(JOB)
        .bind(run_for)
        .bind(ADVISORY_LOCK),
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM scheduled_runs WHERE job = $1 AND run_for = $2)",
        )
        .bind(JOB)
        .bind(run_for),
    }
    .fetch_one(&mut *conn)
    .await?);
    if !ours {
        // Ended now, not when the dropped transaction's rollback reaches
        // the server: until then it would hold the advisory lock, and the
        // next day's run right after would find it taken.
        uow.rollback().await?;
        return Ok(None);
    }
    let reminders = queue_mails_sql!(
        uow.backend(),
        kind("'reminder'"),
        payload(json_object, "('event_id', e.id, 'registration_id', r.id)"),
        key("'reminder:' || r.id || ':' || ", [epoch_seconds "e.starts_at"]),
        at "$3",
        "FROM events e
         JOIN registrations r ON r.event_id = e.id AND r.status = 'registered'
         JOIN users u ON u.id = r.user_id AND u.active AND u.wants_reminders
         WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2"
    );
    let queued = on_tx!(&mut uow, |conn| {
        let queued = sqlx::query(reminders)
            .bind(from)
            .bind(until)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO scheduled_runs (job, run_for, finished_at, result) VALUES ($1, $2, $3, $4)",
        )
        .bind(JOB)
        .bind(run_for)
        .bind(now)
        .bind(queued as i64)
        .execute(&mut *conn)
        .await?;
        queued
    });
    uow.commit().await?;
    Ok(Some(queued))
}
