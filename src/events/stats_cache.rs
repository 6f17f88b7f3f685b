//! The dashboard's numbers, cached in the process and never stale: each
//! read first asks the database for a fingerprint of the
//! event — its row's version (every edit, capacity change, publication or
//! cancellation bumps it), the seats taken, whether it is over, and the
//! count and sum of versions of its registrations (every registration,
//! cancellation, promotion, check-in and undo bumps one). One statement
//! answered from an index instead of four aggregates with joins. A changed
//! fingerprint recomputes, so a write shows at once, to its writer and on
//! every instance, without any invalidation message to lose.
//!
//! One thing the fingerprint does not see is a department renamed (the
//! counts are by the department a person had when registering, but shown
//! by its current name); entries therefore also expire after [`MAX_AGE`].
//!
//! With Redis configured, numbers one instance computed are stored there
//! under their fingerprint, and another instance asked for the same event
//! takes them instead of computing again (the fingerprint is still read
//! from the database first, so a shared copy is never trusted blindly).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use serde::{Deserialize, Serialize};

use super::EventStats;
pub use crate::caching::Served;
use crate::caching::redis::SharedCache;
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// The longest a renamed department can take to show on a dashboard.
pub const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// The numbers as other instances find them in Redis.
#[derive(Serialize, Deserialize)]
struct SharedEntry {
    fingerprint: Fingerprint,
    stats: EventStats,
    /// When they were computed, so the age bound holds across instances.
    computed_at: DateTime<Utc>,
}

pub struct StatsCache {
    entries: Mutex<HashMap<i64, Entry>>,
    limit: usize,
    shared: Option<Arc<SharedCache>>,
}

impl StatsCache {
    /// Keeps the numbers of at most `limit` events (far more than are
    /// looked at in any hour).
    pub fn new(limit: usize) -> Self {
        StatsCache {
            entries: Mutex::new(HashMap::new()),
            limit: limit.max(1),
            shared: None,
        }
    }

    /// Also keeps the numbers in Redis for the other instances.
    pub fn shared_through(mut self, shared: Arc<SharedCache>) -> Self {
        self.shared = Some(shared);
        self
    }

    #[tracing::instrument(level = "debug", name = "dashboard_numbers", skip(self, db, tz, now))]
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
            crate::observe::cache("dashboard", true);
            return Ok((entry.stats.clone(), Served::Cached));
        }
        let shared_key = |shared: &SharedCache| shared.key(&format!("stats:v1:{event_id}"));
        if let Some(shared) = &self.shared
            && let Some(found) = shared.get::<SharedEntry>(&shared_key(shared)).await
            && found.fingerprint == fingerprint
            && let Ok(age) = (Utc::now() - found.computed_at).to_std()
            && age < MAX_AGE
        {
            let made = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
            self.keep(event_id, fingerprint, found.stats.clone(), made);
            crate::observe::cache("dashboard", true);
            return Ok((found.stats, Served::Shared));
        }
        crate::observe::cache("dashboard", false);
        let stats = super::event_stats(db, tz, event_id, now).await?;
        self.keep(event_id, fingerprint, stats.clone(), Instant::now());
        if let Some(shared) = &self.shared {
            let entry = SharedEntry {
                fingerprint,
                stats: stats.clone(),
                computed_at: Utc::now(),
            };
            shared.put(shared_key(shared), &entry, MAX_AGE);
        }
        Ok((stats, Served::Computed))
    }

    fn keep(&self, event_id: i64, fingerprint: Fingerprint, stats: EventStats, made: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.limit && !entries.contains_key(&event_id) {
            // Rarely reached; starting over is simpler than tracking use.
            entries.clear();
        }
        entries.insert(
            event_id,
            Entry {
                fingerprint,
                stats,
                made,
            },
        );
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
