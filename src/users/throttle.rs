//! Brute-force limits on login, shared by every server instance through the
//! database (table `login_throttle`).
//!
//! Failures are counted per e-mail address (guessing one person's password)
//! and per client address (trying one password on many people). Counting is
//! a fixed window: the first failure opens it, and failures within `window`
//! add up. Reaching the limit blocks the key for `block`; once a block or the
//! window has run out, the next failure starts a fresh count.
//!
//! An attempt is counted before the password is checked, by one
//! `INSERT … ON CONFLICT DO UPDATE … RETURNING` that both backends apply
//! atomically per row: simultaneous guesses are all counted, and no more than
//! the limit of them are checked (see [`reserve`]).

use chrono::{DateTime, Duration, Utc};

use crate::storage::{Database, on_pool};
use crate::{Error, Result};

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

/// Typed ticket codes that matched nothing, per door keeper.
pub(crate) fn ticket_code_key(staff_id: i64) -> String {
    format!("ticket-code:{staff_id}")
}

/// The answer to [`reserve`]: go ahead, or wait this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    Allowed,
    Refused {
        retry_after_secs: u64,
        /// The first attempt refused in this block: the moment to tell the audit log.
        first: bool,
    },
}

/// Counts one attempt against `key` *before* the password is checked, and
/// says whether it may go ahead.
///
/// Counting first is what makes the limit hold under parallel guesses: 30
/// wrong passwords sent at once are 30 increments of one row, applied one
/// after the other by the database, and only the first `limit` of them see a
/// count within the limit. Checking afterwards would let all 30 through the
/// check before any of them was counted. An attempt that turns out right is
/// given back with [`refund`] (or the key is [`clear`]ed), so the column
/// `failures` holds failed attempts plus those still being checked.
///
/// The attempt that reaches `limit` blocks the key for `block` from now; a
/// block or window that has run out starts a fresh count.
pub(crate) async fn reserve(
    db: &Database,
    key: &str,
    limit: u32,
    limits: &LoginLimits,
    now: DateTime<Utc>,
) -> Result<Attempt> {
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
                WHEN login_throttle.window_started_at <= $4 OR login_throttle.blocked_until <= $2 THEN $3
                WHEN login_throttle.failures + 1 = $5 THEN $6
                ELSE login_throttle.blocked_until END
        RETURNING CAST(failures AS BIGINT), blocked_until";
    // A limit of 0 would never let anyone in; it means "block at the first attempt".
    let limit = i64::from(limit.max(1));
    let blocked_until = now + limits.block();
    let blocked_at_first = (limit == 1).then_some(blocked_until);
    let window_opened_before = now - limits.window();
    let (count, until): (i64, Option<DateTime<Utc>>) = on_pool!(db, |pool| {
        sqlx::query_as(UPSERT)
            .bind(key)
            .bind(now)
            .bind(blocked_at_first)
            .bind(window_opened_before)
            .bind(limit)
            .bind(blocked_until)
            .fetch_one(pool)
            .await?
    });
    if count <= limit {
        return Ok(Attempt::Allowed);
    }
    let until = until.unwrap_or(blocked_until);
    let millis = (until - now).num_milliseconds().max(1);
    // Rounded up, so that a client retrying exactly then is not refused.
    let retry_after_secs = u64::try_from(millis).unwrap_or(1).div_ceil(1000);
    Ok(Attempt::Refused {
        retry_after_secs,
        first: count == limit + 1,
    })
}

/// Gives back an attempt [`reserve`] counted that was not a failure (the
/// password was right, or the check never ran), lifting the block it may
/// have started.
pub(crate) async fn refund(db: &Database, key: &str, limit: u32) -> Result<()> {
    let limit = i64::from(limit.max(1));
    on_pool!(db, |pool| {
        sqlx::query(
            "UPDATE login_throttle
                SET failures = failures - 1,
                    blocked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE blocked_until END
              WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .bind(limit)
        .execute(pool)
        .await
        .map(|_| ())?
    });
    Ok(())
}

/// Runs `check` — a password verification answering
/// [`Error::Unauthenticated`] for a wrong password — behind both limits.
///
/// A refused attempt answers [`Error::TooManyAttempts`] without running
/// `check`, so a blocked guesser costs one indexed write and no hashing, and
/// a right password during a block is refused too (else the block would only
/// slow guessing down, not stop it). A right password forgets the account's
/// failures but not the client address's: one right password must not reset
/// a spray over many accounts. Any other error gives the attempt back.
pub(crate) async fn check_within_limits<T>(
    db: &Database,
    limits: &LoginLimits,
    account_key: &str,
    address_key: &str,
    now: DateTime<Utc>,
    check: impl Future<Output = Result<T>>,
) -> Result<T> {
    if let Attempt::Refused {
        retry_after_secs, ..
    } = reserve(db, account_key, limits.per_account, limits, now).await?
    {
        return Err(Error::TooManyAttempts { retry_after_secs });
    }
    if let Attempt::Refused {
        retry_after_secs, ..
    } = reserve(db, address_key, limits.per_address, limits, now).await?
    {
        refund(db, account_key, limits.per_account).await?;
        return Err(Error::TooManyAttempts { retry_after_secs });
    }
    match check.await {
        Ok(value) => {
            clear(db, account_key).await?;
            refund(db, address_key, limits.per_address).await?;
            Ok(value)
        }
        Err(Error::Unauthenticated) => Err(Error::Unauthenticated),
        Err(other) => {
            refund(db, account_key, limits.per_account).await?;
            refund(db, address_key, limits.per_address).await?;
            Err(other)
        }
    }
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
