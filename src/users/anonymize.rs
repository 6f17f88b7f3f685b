//! Anonymizing a person: what happens to someone who left some days after
//! their account was deactivated (`anonymize_after_days`, by the daily
//! retention run), or at once when an administrator erases them on request.
//!
//! Their name, e-mail, reading and department are replaced or removed, the
//! login goes (password, links, sessions, calendar address), and the places
//! that copied their address (mail in the outbox, audit entries about them,
//! the login counter) are rewritten. What stays is an account with only an
//! id, so their registrations and answers still count: each registration
//! keeps the department it counted under, so past figures by department do
//! not change. One transaction, with its audit entry.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::storage::{Backend, Database, dialect_sql, on_pool, on_tx};
use crate::{Error, Reason, Result};

/// The address an anonymized account keeps: unique, and in the `.invalid`
/// domain that never receives mail.
pub fn anonymous_email(user_id: i64) -> String {
    format!("anonymized-{user_id}@anonymized.invalid")
}

/// The name an anonymized account shows: its number only.
pub fn anonymous_name(user_id: i64) -> String {
    format!("#{user_id}")
}

#[derive(sqlx::FromRow)]
struct Target {
    email: String,
    display_name: String,
    role: String,
    active: bool,
    anonymized_at: Option<DateTime<Utc>>,
}

/// Anonymizes `user_id`. `actor` is the administrator who asked (`None`
/// for the daily run). Already anonymized: nothing to do. Refused for one's
/// own account and for the last active administrator.
#[tracing::instrument(skip(db, now))]
pub async fn anonymize(
    db: &Database,
    actor: Option<i64>,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    if actor == Some(user_id) {
        return Err(Error::Conflict(Reason::CannotAnonymizeSelf));
    }
    let mut uow = db.begin_write().await?;
    // Locked in the same order as other account changes: the administrators
    // first (so two changes cannot both leave "another admin"), then the person.
    let active_admins = super::admin::lock_active_admins(&mut uow).await?;
    let load_target = dialect_sql!(
        uow.backend(),
        "SELECT email, display_name, role, active, anonymized_at
           FROM users WHERE id = $1",
        lock_rows
    );
    let target: Target = on_tx!(&mut uow, |tx| sqlx::query_as(load_target)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?)
    .ok_or(Error::NotFound)?;
    if target.anonymized_at.is_some() {
        return Ok(false);
    }
    if target.role == "admin" && target.active && active_admins.iter().all(|&id| id == user_id) {
        return Err(Error::Conflict(Reason::LastActiveAdmin));
    }
    let email = anonymous_email(user_id);
    let backend = uow.backend();
    on_tx!(&mut uow, |tx| {
        sqlx::query(
            "UPDATE mail_outbox SET to_address = $2
              WHERE recipient_user_id = $1 OR LOWER(to_address) = LOWER($3)",
        )
        .bind(user_id)
        .bind(&email)
        .bind(&target.email)
        .execute(&mut *tx)
        .await?;
        // Audit entries name a person by address in their target, and
        // sometimes by address or name in their details.
        let scrub_details = match backend {
            Backend::Sqlite => {
                "UPDATE audit_log SET detail = REPLACE(REPLACE(detail, $1, $2), $3, $4)
                  WHERE LOWER(target) = LOWER($1) OR INSTR(detail, $1) > 0"
            }
            Backend::Postgres => {
                "UPDATE audit_log
                    SET detail = CAST(REPLACE(REPLACE(CAST(detail AS TEXT), $1, $2), $3, $4) AS JSONB)
                  WHERE LOWER(target) = LOWER($1) OR STRPOS(CAST(detail AS TEXT), $1) > 0"
            }
        };
        sqlx::query(scrub_details)
            .bind(&target.email)
            .bind(&email)
            .bind(json_escaped(&target.display_name))
            .bind(json_escaped(&anonymous_name(user_id)))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_log SET target = $2 WHERE LOWER(target) = LOWER($1)")
            .bind(&target.email)
            .bind(&email)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(super::throttle::account_key(&target.email.to_lowercase()))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM password_links WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM demo_accounts WHERE LOWER(email) = LOWER($1)")
            .bind(&target.email)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE users SET email = $2, display_name = $3, name_reading = NULL,
                    department_id = NULL, password_hash = NULL, active = $4,
                    calendar_token = NULL, wants_reminders = $4,
                    session_generation = session_generation + 1,
                    anonymized_at = $5, deactivated_at = COALESCE(deactivated_at, $5),
                    updated_at = $5
              WHERE id = $1",
        )
        .bind(user_id)
        .bind(&email)
        .bind(anonymous_name(user_id))
        .bind(false)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    });
    audit::insert(
        &mut uow,
        actor,
        AuditAction::UserAnonymized,
        &email,
        json!({ "user_id": user_id, "requested": actor.is_some() }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(true)
}

/// A text as it appears inside a JSON string, so a name with a quote or a
/// backslash is still found in the stored details.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

/// People deactivated before `$1` and not anonymized yet.
macro_rules! leavers_where {
    () => {
        "anonymized_at IS NULL AND deactivated_at < $1 AND NOT active"
    };
}

/// Anonymizes everyone whose account was deactivated more than
/// `after_days` ago and who is not anonymized yet. How many were.
#[tracing::instrument(skip(db, now))]
pub async fn anonymize_leavers(db: &Database, after_days: u32, now: DateTime<Utc>) -> Result<u64> {
    let before = now - Duration::days(i64::from(after_days));
    let leavers: Vec<i64> = on_pool!(db, |pool| sqlx::query_scalar(concat!(
        "SELECT id FROM users WHERE ",
        leavers_where!(),
        " ORDER BY id"
    ))
    .bind(before)
    .fetch_all(pool)
    .await?);
    let mut done = 0;
    for user_id in leavers {
        if anonymize(db, None, user_id, now).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// How many people the next run would anonymize: deactivated more than
/// `after_days` before `now` and not anonymized yet.
pub async fn leavers_due(db: &Database, after_days: u32, now: DateTime<Utc>) -> Result<i64> {
    let before = now - Duration::days(i64::from(after_days));
    Ok(on_pool!(db, |pool| sqlx::query_scalar(concat!(
        "SELECT COUNT(*) FROM users WHERE ",
        leavers_where!()
    ))
    .bind(before)
    .fetch_one(pool)
    .await?))
}
