//! The read caches: in the process always, and shared with the
//! other instances through Redis when `redis_url` is set. What each keeps and
//! how stale it can be: `tsudoi::caching`.

use secrecy::ExposeSecret;
use std::sync::Arc;

use tsudoi::caching::redis::SharedCache;
use tsudoi::events::list_cache::ListCache;
use tsudoi::events::stats_cache::StatsCache;
use tsudoi::storage::Database;
use tsudoi::surveys::results_cache::SurveyResultsCache;

use crate::config::Settings;

/// More events than anyone looks at in a day.
const DASHBOARDS_KEPT: usize = 10_000;

pub struct Caches {
    pub stats: Arc<StatsCache>,
    pub survey_results: Arc<SurveyResultsCache>,
    pub list: Arc<ListCache>,
    /// The Redis the caches share through, when configured.
    pub shared: Option<Arc<SharedCache>>,
}

pub async fn open(settings: &Settings, db: &Database) -> Result<Caches, String> {
    let mut stats = StatsCache::new(DASHBOARDS_KEPT);
    let mut shared = None;
    if let Some(url) = &settings.redis_url {
        let cache = SharedCache::connect(url.expose_secret(), db).await?;
        cache.share_changes(db.changes());
        stats = stats.shared_through(cache.clone());
        shared = Some(cache);
    }
    Ok(Caches {
        stats: Arc::new(stats),
        survey_results: Arc::new(SurveyResultsCache::new(DASHBOARDS_KEPT)),
        list: Arc::new(ListCache::new(settings.list_cache_pages)),
        shared,
    })
}
