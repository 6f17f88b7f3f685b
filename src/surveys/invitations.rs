//! The mails that bring people to a survey: when it opens, an invitation to
//! everyone who was checked in at the event (never to a no-show, a
//! cancelled registration or someone on the waitlist), and, if the organizer
//! asked for one, a reminder to those who have not answered some days
//! before it closes.
//!
//! One set-based statement queues each kind for every survey that is due,
//! and the survey is marked in the same transaction. Each mail's key names
//! the survey and the person, so a rerun, a restart or a second instance
//! queues nothing twice; a Tsudoi that was down catches up when it starts
//! (a reminder whose day has also passed by then is skipped: the person
//! has just been invited).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::Result;
use crate::audit::{self, AuditAction};
use crate::mail::outbox::queue_mails_sql;
use crate::storage::{Database, dialect_sql, on_tx};

/// What one run queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyMailRun {
    /// Surveys that opened in this run (their invitations queued).
    pub opened: Vec<i64>,
    pub invitations: u64,
    pub reminders: u64,
}

/// Queues the invitations and reminders that are due at `now`.
#[tracing::instrument(skip(db))]
pub async fn run_due(db: &Database, now: DateTime<Utc>) -> Result<SurveyMailRun> {
    let mut uow = db.begin_write().await?;
    let backend = uow.backend();
    let invitations_sql = queue_mails_sql!(
        backend,
        kind("'survey_invitation'"),
        payload(
            json_object,
            "('event_id', e.id, 'registration_id', r.id, 'survey_id', s.id)"
        ),
        key("'survey_invitation:' || s.id || ':' || r.user_id"),
        at "$1",
        "FROM surveys s
         JOIN events e ON e.id = s.event_id AND e.status = 'published'
         JOIN registrations r ON r.event_id = s.event_id AND r.status = 'checked_in'
         JOIN users u ON u.id = r.user_id AND u.active
         WHERE s.invited_at IS NULL AND s.opens_at <= $1 AND s.closes_at > $1
           AND s.closed_early_at IS NULL"
    );
    let invitations = on_tx!(&mut uow, |conn| sqlx::query(invitations_sql)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    // A reminder already due when the survey opens (a Tsudoi that was down
    // for days) is not sent: the invitation has just gone out.
    let opened: Vec<(i64, i64)> = on_tx!(&mut uow, |conn| sqlx::query_as(
        "UPDATE surveys SET invited_at = $1,
                reminded_at = CASE WHEN remind_at <= $1 THEN $1 ELSE reminded_at END
         WHERE invited_at IS NULL AND opens_at <= $1 AND closes_at > $1
           AND closed_early_at IS NULL
           AND event_id IN (SELECT id FROM events WHERE status = 'published')
         RETURNING id, event_id"
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?);

    let reminders_sql = queue_mails_sql!(
        backend,
        kind("'survey_reminder'"),
        payload(
            json_object,
            "('event_id', e.id, 'registration_id', r.id, 'survey_id', s.id)"
        ),
        key("'survey_reminder:' || s.id || ':' || r.user_id"),
        at "$1",
        "FROM surveys s
         JOIN events e ON e.id = s.event_id AND e.status = 'published'
         JOIN registrations r ON r.event_id = s.event_id AND r.status = 'checked_in'
         JOIN users u ON u.id = r.user_id AND u.active AND u.wants_reminders
         WHERE s.reminded_at IS NULL AND s.remind_at <= $1 AND s.invited_at IS NOT NULL
           AND s.closes_at > $1 AND s.closed_early_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM survey_respondents sr
                            WHERE sr.survey_id = s.id AND sr.user_id = r.user_id)"
    );
    let reminders = on_tx!(&mut uow, |conn| sqlx::query(reminders_sql)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    on_tx!(&mut uow, |conn| sqlx::query(
        "UPDATE surveys SET reminded_at = $1
         WHERE reminded_at IS NULL AND remind_at <= $1 AND invited_at IS NOT NULL"
    )
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected());

    for (survey_id, event_id) in &opened {
        audit::insert(
            &mut uow,
            None,
            AuditAction::SurveyOpened,
            &format!("event:{event_id}"),
            json!({ "survey": survey_id }),
            now,
        )
        .await?;
    }
    uow.commit().await?;
    if invitations + reminders > 0 {
        tracing::info!(
            opened = opened.len(),
            invitations,
            reminders,
            "survey mails queued"
        );
    }
    Ok(SurveyMailRun {
        opened: opened.into_iter().map(|(id, _)| id).collect(),
        invitations,
        reminders,
    })
}
