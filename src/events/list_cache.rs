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
//!
//! Beside each page the cache keeps what the app made of it in each language
//! ([`ListCache::rendered`]): the page's HTML costs several times more to make
//! than its rows cost to read, and it stays true exactly as long as they do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{UpcomingFilter, list_upcoming};
use crate::Result;
use crate::caching::Served;
use crate::model::{EventCursor, EventSummary, Lang, Page, page_size};
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
    /// The page rendered, in Japanese and in English, once someone asked.
    rendered: Arc<Renderings>,
}

/// A page's renderings, made at most once each.
#[derive(Default)]
struct Renderings {
    ja: OnceLock<Arc<str>>,
    en: OnceLock<Arc<str>>,
}

impl Renderings {
    fn get_or_make(&self, lang: Lang, make: impl FnOnce() -> String) -> Arc<str> {
        let slot = match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        };
        slot.get_or_init(|| Arc::from(make())).clone()
    }
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
        let (page, _, served) = self
            .lookup(db, tz, now, filter, after, requested_page_size)
            .await?;
        Ok((Page::clone(&page), served))
    }

    /// The same page as [`ListCache::list_upcoming`], as `render` makes it
    /// for `lang`: made once per page and language and kept with the page, so
    /// it is made anew exactly when the page is read anew.
    #[allow(clippy::too_many_arguments)] // the list's own arguments, plus how to render it
    #[tracing::instrument(level = "debug", name = "event_list_rendered", skip_all)]
    pub async fn rendered(
        &self,
        db: &Database,
        tz: Tz,
        now: DateTime<Utc>,
        filter: &UpcomingFilter,
        after: Option<EventCursor>,
        requested_page_size: u32,
        lang: Lang,
        render: impl FnOnce(&Page<EventSummary>) -> String,
    ) -> Result<(Arc<str>, Served)> {
        let (page, renderings, served) = self
            .lookup(db, tz, now, filter, after, requested_page_size)
            .await?;
        Ok((renderings.get_or_make(lang, || render(&page)), served))
    }

    async fn lookup(
        &self,
        db: &Database,
        tz: Tz,
        now: DateTime<Utc>,
        filter: &UpcomingFilter,
        after: Option<EventCursor>,
        requested_page_size: u32,
    ) -> Result<(Arc<Page<EventSummary>>, Arc<Renderings>, Served)> {
        let page_size = page_size(Some(requested_page_size));
        if self.limit == 0 || filter.search.is_some() {
            let page = list_upcoming(db, tz, now, filter, after, page_size).await?;
            return Ok((Arc::new(page), Arc::default(), Served::Computed));
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
        if let Some((page, renderings)) = self.fresh(&key, generation) {
            crate::observe::cache("event_list", true);
            return Ok((page, renderings, Served::Cached));
        }
        crate::observe::cache("event_list", false);
        let page = Arc::new(list_upcoming(db, tz, now, filter, after, page_size).await?);
        let renderings = Arc::new(Renderings::default());
        self.keep(key, generation, page.clone(), renderings.clone());
        Ok((page, renderings, Served::Computed))
    }

    fn fresh(
        &self,
        key: &Key,
        generation: u64,
    ) -> Option<(Arc<Page<EventSummary>>, Arc<Renderings>)> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.made.elapsed() < self.max_age)
            .then(|| (entry.page.clone(), entry.rendered.clone()))
    }

    fn keep(
        &self,
        key: Key,
        generation: u64,
        page: Arc<Page<EventSummary>>,
        rendered: Arc<Renderings>,
    ) {
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
                rendered,
            },
        );
    }
}
