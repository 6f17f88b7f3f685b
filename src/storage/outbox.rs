//! The transactional outbox in the database (review S-3, C-2).
//!
//! A state change and the mail announcing it commit together or not at all;
//! the delivery worker sends later. The dedupe key makes a second enqueue of
//! the same message a no-op, which is what "exactly once" rests on.
//!
//! Workers claim due rows by moving them to `sending` with a lease: the row's
//! `next_attempt_at` becomes the lease's end, so a row whose worker died is
//! due again once the lease runs out, and no mail is lost. On PostgreSQL the
//! claim skips rows another instance is claiming (`FOR UPDATE SKIP LOCKED`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{Backend, BeginWrite, Database, Pool, on_pool};
use crate::audit::{self, AuditAction};
use crate::mail::{MailKind, MailStatus, OutboxCounts, OutboxEntry, OutboxPage};
use crate::{Error, Result};

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

/// One statement that queues a mail to everyone registered, checked in or
/// waiting for an event (an event moved or cancelled): `$1` event, `$2` mail
/// kind, `$3` dedupe key prefix (the registration id is appended), `$4` now.
/// Run it inside the transaction of the change it announces.
pub fn notify_attendees_statement(backend: Backend) -> &'static str {
    macro_rules! notify {
        ($json_object:literal) => {
            concat!(
                "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key,
                                          status, attempts, next_attempt_at, created_at)
                 SELECT $2, u.id, u.email, u.lang, ",
                $json_object,
                "('event_id', r.event_id, 'registration_id', r.id),
                        $3 || r.id, 'queued', 0, $4, $4
                 FROM registrations r
                 JOIN users u ON u.id = r.user_id AND u.active
                 WHERE r.event_id = $1 AND r.status IN ('registered', 'checked_in', 'waitlisted')
                 ON CONFLICT (dedupe_key) DO NOTHING"
            )
        };
    }
    match backend {
        Backend::Postgres => notify!("jsonb_build_object"),
        Backend::Sqlite => notify!("json_object"),
    }
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

/// Claims up to `limit` due mails (queued and due, or sending with a lapsed
/// lease) until `lease_until`, counting the attempt. Oldest due first.
pub async fn claim_due(
    db: &Database,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedMail>> {
    const CLAIM_POSTGRES: &str =
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2
         WHERE id IN (SELECT id FROM mail_outbox
                      WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3
                      FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, recipient_user_id, to_address, lang, payload, attempts, created_at";
    // One writer at a time on SQLite: the UPDATE is the whole claim.
    const CLAIM_SQLITE: &str =
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2
         WHERE id IN (SELECT id FROM mail_outbox
                      WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3)
         RETURNING id, kind, recipient_user_id, to_address, lang, payload, attempts, created_at";
    let claim = match db.backend() {
        Backend::Postgres => CLAIM_POSTGRES,
        Backend::Sqlite => CLAIM_SQLITE,
    };
    let rows: Vec<ClaimedRow> = on_pool!(db, |pool| sqlx::query_as(claim)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(kind) = MailKind::parse(&row.kind) else {
            tracing::error!(mail = row.id, kind = %row.kind, "unknown mail kind in the outbox");
            give_up(db, row.id, &format!("unknown mail kind {}", row.kind)).await?;
            continue;
        };
        claimed.push(ClaimedMail {
            id: row.id,
            kind,
            recipient_user_id: row.recipient_user_id,
            to_address: row.to_address,
            lang: row.lang,
            payload: row.payload.0,
            attempts: row.attempts,
            created_at: row.created_at,
        });
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
pub async fn retry_dead(db: &Database, actor: i64, id: i64, now: DateTime<Utc>) -> Result<()> {
    let changed = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = $2
             WHERE id = $1 AND status = 'dead'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            audit::insert(
                &mut *tx,
                Some(actor),
                AuditAction::MailRetried,
                &format!("mail:{id}"),
                serde_json::json!({}),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        changed
    });
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
/// in `[from, until)`, with one statement (review C-2), unless the run for
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
    const RECORD: &str =
        "INSERT INTO scheduled_runs (job, run_for, finished_at, result) VALUES ($1, $2, $3, $4)";
    const NOT_DONE: &str =
        "SELECT NOT EXISTS (SELECT 1 FROM scheduled_runs WHERE job = $1 AND run_for = $2)";
    match db.pool() {
        Pool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let ours: bool = sqlx::query_scalar(
                "SELECT pg_try_advisory_xact_lock($3)
                        AND NOT EXISTS (SELECT 1 FROM scheduled_runs WHERE job = $1 AND run_for = $2)",
            )
            .bind(JOB)
            .bind(run_for)
            .bind(ADVISORY_LOCK)
            .fetch_one(&mut *tx)
            .await?;
            if !ours {
                return Ok(None);
            }
            let queued = sqlx::query(REMINDERS_POSTGRES)
                .bind(from)
                .bind(until)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(RECORD)
                .bind(JOB)
                .bind(run_for)
                .bind(now)
                .bind(queued as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(queued))
        }
        Pool::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin_write().await?;
            let not_done: bool = sqlx::query_scalar(NOT_DONE)
                .bind(JOB)
                .bind(run_for)
                .fetch_one(&mut *tx)
                .await?;
            if !not_done {
                return Ok(None);
            }
            let queued = sqlx::query(REMINDERS_SQLITE)
                .bind(from)
                .bind(until)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(RECORD)
                .bind(JOB)
                .bind(run_for)
                .bind(now)
                .bind(queued as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(queued))
        }
    }
}

/// The reminder insert; `$1`/`$2` bound the event start, `$3` is now.
/// Only the JSON builder and the epoch of the start differ by dialect.
macro_rules! reminders_insert {
    ($json_object:literal, $start_epoch:literal) => {
        concat!(
            "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key,
                                      status, attempts, next_attempt_at, created_at)
             SELECT 'reminder', u.id, u.email, u.lang, ",
            $json_object,
            "('event_id', e.id, 'registration_id', r.id),
                    'reminder:' || r.id || ':' || ",
            $start_epoch,
            ", 'queued', 0, $3, $3
             FROM events e
             JOIN registrations r ON r.event_id = e.id AND r.status = 'registered'
             JOIN users u ON u.id = r.user_id AND u.active
             WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
             ON CONFLICT (dedupe_key) DO NOTHING"
        )
    };
}
const REMINDERS_POSTGRES: &str = reminders_insert!(
    "jsonb_build_object",
    "CAST(EXTRACT(EPOCH FROM e.starts_at) AS BIGINT)"
);
const REMINDERS_SQLITE: &str = reminders_insert!(
    "json_object",
    "CAST(strftime('%s', e.starts_at) AS INTEGER)"
);
