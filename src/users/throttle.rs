//! Brute-force limits on login, shared by every server instance through the
//! database (table `login_throttle`).
//!
//! Failures are counted per e-mail address (guessing one person's password)
//! and per client address (trying one password on many people). Counting is
//! a fixed window: the first failure opens it, and failures within `window`
//! add up. Reaching the limit blocks the key for `block`; once a block or the
//! window has run out, the next failure starts a fresh count.
//!
//! Every change is one `INSERT … ON CONFLICT DO UPDATE`, which both backends
//! apply atomically per row, so simultaneous failures are all counted without
//! a read-then-write race.

use chrono::{DateTime, Duration, Utc};

use crate::Result;
use crate::storage::{Database, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed per e-mail address within `window`.
    pub per_account: u32,
    /// Failures allowed per client address within `window`; higher, because
    /// a whole office can sit behind one address.
    pub per_address: u32,
    pub window: Duration,
    pub block: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 5,
            per_address: 20,
            window: Duration::minutes(15),
            block: Duration::minutes(15),
        }
    }
}

impl LoginLimits {
    /// The durations within a sane range, so a mistyped setting can neither
    /// overflow date arithmetic nor turn the window inside out.
    fn window(&self) -> Duration {
        self.window.clamp(Duration::zero(), Duration::days(366))
    }

    fn block(&self) -> Duration {
        self.block.clamp(Duration::zero(), Duration::days(366))
    }
}

/// Expects the e-mail as [`super::log_in`] normalizes it.
pub(crate) fn account_key(email: &str) -> String {
    format!("account:{email}")
}

pub(crate) fn address_key(address: &str) -> String {
    format!("address:{}", address.trim())
}

/// Whole seconds until both keys are free again, rounded up so that a client
/// retrying exactly then is not refused; None when neither is blocked.
pub(crate) async fn blocked_for(
    db: &Database,
    account_key: &str,
    address_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let until: Option<DateTime<Utc>> = on_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT blocked_until FROM login_throttle
              WHERE key IN ($1, $2) AND blocked_until > $3
              ORDER BY blocked_until DESC LIMIT 1",
        )
        .bind(account_key)
        .bind(address_key)
        .bind(now)
        .fetch_optional(pool)
        .await?
    });
    Ok(until.map(|until| {
        let millis = (until - now).num_milliseconds().max(1);
        u64::try_from(millis).unwrap_or(1).div_ceil(1000)
    }))
}

/// Counts one failure against `key`, blocking it when this one reaches `limit`.
pub(crate) async fn record_failure(
    db: &Database,
    key: &str,
    limit: u32,
    limits: &LoginLimits,
    now: DateTime<Utc>,
) -> Result<()> {
    // SET expressions see the row as it was, so "is this a fresh count" is
    // spelled out in each of them rather than read back from `failures`.
    const UPSERT: &str = "
        INSERT INTO login_throttle (key, failures, window_started_at, blocked_until)
        VALUES ($1, 1, $2, $3)
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE
                WHEN login_throttle.window_started_at <= $4 OR login_throttle.blocked_until <= $2 THEN 1
                ELSE login_throttle.failures + 1 END,
            window_started_at = CASE
                WHEN login_throttle.window_started_at <= $4 OR login_throttle.blocked_until <= $2 THEN $2
                ELSE login_throttle.window_started_at END,
            blocked_until = CASE
                WHEN (CASE
                        WHEN login_throttle.window_started_at <= $4 OR login_throttle.blocked_until <= $2 THEN 1
                        ELSE login_throttle.failures + 1 END) >= $5 THEN $6
                WHEN login_throttle.window_started_at <= $4 OR login_throttle.blocked_until <= $2 THEN NULL
                ELSE login_throttle.blocked_until END";
    // A limit of 0 would never let anyone in; it means "block at the first failure".
    let limit = i64::from(limit.max(1));
    let blocked_until = now + limits.block();
    let blocked_at_first = (limit == 1).then_some(blocked_until);
    let window_opened_before = now - limits.window();
    on_pool!(db, |pool| {
        sqlx::query(UPSERT)
            .bind(key)
            .bind(now)
            .bind(blocked_at_first)
            .bind(window_opened_before)
            .bind(limit)
            .bind(blocked_until)
            .execute(pool)
            .await
            .map(|_| ())?
    });
    Ok(())
}

/// Forgets the failures of `key` (after a successful login).
pub(crate) async fn clear(db: &Database, key: &str) -> Result<()> {
    on_pool!(db, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ())?
    });
    Ok(())
}

/// Deletes the rows that no longer count or block anything, so failed logins
/// under ever new made-up addresses cannot grow the table without end. Meant
/// for a periodic job; answers how many rows went.
pub async fn prune(db: &Database, limits: &LoginLimits, now: DateTime<Utc>) -> Result<u64> {
    let deleted = on_pool!(db, |pool| {
        sqlx::query(
            "DELETE FROM login_throttle
              WHERE window_started_at <= $1 AND (blocked_until IS NULL OR blocked_until <= $2)",
        )
        .bind(now - limits.window())
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(deleted)
}
