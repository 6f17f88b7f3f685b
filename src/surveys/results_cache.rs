//! The survey results, cached in the process and never stale, the way the
//! dashboard's numbers are: each read first asks the database for a
//! fingerprint — the survey's version (every save), its answers' version
//! (every answer given or changed) and the count and sum of versions of
//! the event's registrations (every check-in or undo) — one statement
//! answered from indexes. A changed fingerprint recomputes, on every
//! instance, without an invalidation message to lose. A person moving to
//! another department is not seen by it; entries also expire after
//! [`MAX_AGE`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::SurveyResults;
use crate::caching::Served;
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// The longest a department change can take to show in the results.
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// The statement behind the fingerprint, for tests that look at its plan.
pub const FINGERPRINT: &str =
    "SELECT s.version, s.answers_version, s.opens_at, s.closes_at, s.closed_early_at,
        (SELECT COUNT(*) FROM registrations r WHERE r.event_id = s.event_id),
        (SELECT COALESCE(SUM(r.version), 0) FROM registrations r WHERE r.event_id = s.event_id)
 FROM surveys s WHERE s.event_id = $1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    version: i32,
    answers_version: i32,
    /// Whether it has opened and closed: the state shown changes with the clock.
    opened: bool,
    closed: bool,
    registrations: i64,
    versions: i64,
}

struct Entry {
    fingerprint: Fingerprint,
    results: SurveyResults,
    made: Instant,
}

/// Results by (event, department filter).
pub struct SurveyResultsCache {
    entries: Mutex<HashMap<(i64, Option<i64>), Entry>>,
    limit: usize,
}

impl SurveyResultsCache {
    /// Keeps the results of at most `limit` (event, department) views.
    pub fn new(limit: usize) -> Self {
        SurveyResultsCache {
            entries: Mutex::new(HashMap::new()),
            limit: limit.max(1),
        }
    }

    /// The results of the event's survey ([`Error::NotFound`] without one).
    #[tracing::instrument(level = "debug", name = "survey_results", skip(self, db, now))]
    pub async fn get(
        &self,
        db: &Database,
        event_id: i64,
        department_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(SurveyResults, Served)> {
        let fingerprint = fingerprint(db, event_id, now).await?;
        let key = (event_id, department_id);
        if let Ok(entries) = self.entries.lock()
            && let Some(entry) = entries.get(&key)
            && entry.fingerprint == fingerprint
            && entry.made.elapsed() < MAX_AGE
        {
            crate::observe::cache("survey_results", true);
            return Ok((entry.results.clone(), Served::Cached));
        }
        crate::observe::cache("survey_results", false);
        let results = super::results::results(db, event_id, department_id, now).await?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.limit && !entries.contains_key(&key) {
                // Rarely reached; starting over is simpler than tracking use.
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    fingerprint,
                    results: results.clone(),
                    made: Instant::now(),
                },
            );
        }
        Ok((results, Served::Computed))
    }
}

async fn fingerprint(db: &Database, event_id: i64, now: DateTime<Utc>) -> Result<Fingerprint> {
    type Row = (
        i32,
        i32,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        i64,
        i64,
    );
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(FINGERPRINT)
        .bind(event_id)
        .fetch_optional(pool)
        .await?);
    let (version, answers_version, opens_at, closes_at, closed_early_at, registrations, versions) =
        row.ok_or(Error::NotFound)?;
    Ok(Fingerprint {
        version,
        answers_version,
        opened: opens_at <= now,
        closed: closes_at <= now || closed_early_at.is_some_and(|at| at <= now),
        registrations,
        versions,
    })
}
