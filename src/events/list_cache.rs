//! The public event list, cached in each instance.
//!
//! A page is kept with the change counter it was read under
//! ([`crate::storage::Changes`]) and served only while the counter has not
//! moved, so a registration, a cancellation or an organizer's edit shows on
//! the writer's very next list. Other instances learn of the write through
//! Redis when it is configured ([`crate::caching::redis`]); [`MAX_AGE`]
//! bounds what they can miss without it.
//!
//! Keyword searches are not kept: each is typed by one person, and keeping
//! them would push out the pages everyone opens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{UpcomingFilter, list_upcoming};
use crate::Result;
use crate::caching::Served;
use crate::model::{EventCursor, EventSummary, Page, page_size};
use crate::storage::Database;

/// The longest a page is kept, so a write this instance was not told about
/// (another instance without Redis, a command-line import) shows within it.
pub const MAX_AGE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    /// "Upcoming" starts at the beginning of the company's today.
    today: NaiveDate,
    filter: UpcomingFilter,
    after: Option<EventCursor>,
    page_size: u32,
}

struct Entry {
    generation: u64,
    made: Instant,
    page: Arc<Page<EventSummary>>,
}

pub struct ListCache {
    entries: Mutex<HashMap<Key, Entry>>,
    limit: usize,
    max_age: Duration,
}

impl ListCache {
    /// Keeps at most `limit` pages (filters × pages deep, a few kilobytes
    /// each), each for at most [`MAX_AGE`]; a limit of 0 keeps none.
    pub fn new(limit: usize) -> Self {
        ListCache::with_max_age(limit, MAX_AGE)
    }

    /// As [`ListCache::new`] with another bound on age; tests use it to see
    /// the bound at work without waiting for it.
    pub fn with_max_age(limit: usize, max_age: Duration) -> Self {
        ListCache {
            entries: Mutex::new(HashMap::new()),
            limit,
            max_age,
        }
    }

    /// [`list_upcoming`], answered from memory while nothing changed.
    #[tracing::instrument(level = "debug", name = "event_list", skip_all)]
    pub async fn list_upcoming(
        &self,
        db: &Database,
        tz: Tz,
        now: DateTime<Utc>,
        filter: &UpcomingFilter,
        after: Option<EventCursor>,
        requested_page_size: u32,
    ) -> Result<(Page<EventSummary>, Served)> {
        let page_size = page_size(Some(requested_page_size));
        if self.limit == 0 || filter.search.is_some() {
            let page = list_upcoming(db, tz, now, filter, after, page_size).await?;
            return Ok((page, Served::Computed));
        }
        let key = Key {
            today: now.with_timezone(&tz).date_naive(),
            filter: filter.clone(),
            after,
            page_size,
        };
        // Read before the query: a write committed while it runs moves the
        // counter past this reading, and the next read will not trust the page.
        let generation = db.changes().generation();
        if let Some(page) = self.fresh(&key, generation) {
            crate::observe::cache("event_list", true);
            return Ok((Page::clone(&page), Served::Cached));
        }
        crate::observe::cache("event_list", false);
        let page = list_upcoming(db, tz, now, filter, after, page_size).await?;
        self.keep(key, generation, Arc::new(page.clone()));
        Ok((page, Served::Computed))
    }

    fn fresh(&self, key: &Key, generation: u64) -> Option<Arc<Page<EventSummary>>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.made.elapsed() < self.max_age)
            .then(|| entry.page.clone())
    }

    fn keep(&self, key: Key, generation: u64, page: Arc<Page<EventSummary>>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.limit && !entries.contains_key(&key) {
            // Pages of an older counter are useless; drop them first, and
            // start over if the live ones alone fill the cache.
            entries.retain(|_, entry| entry.generation == generation);
            if entries.len() >= self.limit {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                generation,
                made: Instant::now(),
                page,
            },
        );
    }
}
