//! The dashboard's numbers, cached in the process and never stale (issue #8,
//! review M-1): each read first asks the database for a fingerprint of the
//! event — its row's version (every edit, capacity change, publication or
//! cancellation bumps it), the seats taken, whether it is over, and the
//! count and sum of versions of its registrations (every registration,
//! cancellation, promotion, check-in and undo bumps one). One statement
//! answered from an index instead of four aggregates with joins. A changed
//! fingerprint recomputes, so a write shows at once, to its writer and on
//! every instance, without any invalidation message to lose.
//!
//! One thing the fingerprint does not see is a person moving to another
//! department; entries therefore also expire after [`MAX_AGE`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::EventStats;
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// The longest a department change can take to show on a dashboard.
pub const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    version: i32,
    seats_taken: i32,
    over: bool,
    registrations: i64,
    versions: i64,
}

struct Entry {
    fingerprint: Fingerprint,
    stats: EventStats,
    made: Instant,
}

/// Whether a read was answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Cached,
    Computed,
}

pub struct StatsCache {
    entries: Mutex<HashMap<i64, Entry>>,
    limit: usize,
}

impl StatsCache {
    /// Keeps the numbers of at most `limit` events (far more than are
    /// looked at in any hour).
    pub fn new(limit: usize) -> Self {
        StatsCache {
            entries: Mutex::new(HashMap::new()),
            limit: limit.max(1),
        }
    }

    pub async fn get(
        &self,
        db: &Database,
        tz: Tz,
        event_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(EventStats, Served)> {
        let fingerprint = fingerprint(db, event_id, now).await?;
        if let Ok(entries) = self.entries.lock()
            && let Some(entry) = entries.get(&event_id)
            && entry.fingerprint == fingerprint
            && entry.made.elapsed() < MAX_AGE
        {
            return Ok((entry.stats.clone(), Served::Cached));
        }
        let stats = super::event_stats(db, tz, event_id, now).await?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.limit && !entries.contains_key(&event_id) {
                // Rarely reached; starting over is simpler than tracking use.
                entries.clear();
            }
            entries.insert(
                event_id,
                Entry {
                    fingerprint,
                    stats: stats.clone(),
                    made: Instant::now(),
                },
            );
        }
        Ok((stats, Served::Computed))
    }
}

/// The statement behind the fingerprint, for tests that look at its plan.
pub const FINGERPRINT: &str = "SELECT e.version, e.seats_taken, e.ends_at,
        (SELECT COUNT(*) FROM registrations r WHERE r.event_id = e.id),
        (SELECT COALESCE(SUM(r.version), 0) FROM registrations r WHERE r.event_id = e.id)
 FROM events e WHERE e.id = $1";

async fn fingerprint(db: &Database, event_id: i64, now: DateTime<Utc>) -> Result<Fingerprint> {
    let row: Option<(i32, i32, DateTime<Utc>, i64, i64)> =
        on_pool!(db, |pool| sqlx::query_as(FINGERPRINT)
            .bind(event_id)
            .fetch_optional(pool)
            .await?);
    let (version, seats_taken, ends_at, registrations, versions) = row.ok_or(Error::NotFound)?;
    Ok(Fingerprint {
        version,
        seats_taken,
        over: ends_at <= now,
        registrations,
        versions,
    })
}
