//! Survey results benchmark. Not a test: it prints figures for
//! docs/PERFORMANCE.md.
//!
//! For each backend: one event with 6,000 people checked in across ten
//! departments and 5,000 responses to a survey of ten questions (every
//! kind), beside a small survey of 50; the results computed from SQL every
//! time (`surveys::results::results`, for everyone and for one department)
//! and through the cache (`SurveyResultsCache::get`: one freshness
//! statement, then memory).
//!
//! PostgreSQL runs when TSUDOI_TEST_DATABASE_URL is set.
//! `cargo bench --bench survey_results`

// The tests' seeding, shared; the benchmark reads part of what it returns.
#[allow(dead_code)]
#[path = "../tests/common/survey_seed.rs"]
mod survey_seed;

use std::time::{Duration, Instant};

use chrono::Utc;
use tsudoi::storage::{Database, Pool, test_support};
use tsudoi::surveys::results;
use tsudoi::surveys::results_cache::SurveyResultsCache;

const RUNS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure<F, Fut>(mut run: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..10 {
        run().await;
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        run().await;
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

async fn analyze(db: &Database) {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    println!("| backend | responses | path | p50 | p95 |");
    println!("|---|---|---|---|---|");
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let small = survey_seed::seed(db, "small", 60, 50).await;
        let large = survey_seed::seed(db, "large", 6_000, 5_000).await;
        analyze(db).await;
        for (seeded, responses) in [(&small, 50), (&large, 5_000)] {
            let now = Utc::now();
            let (p50, p95) = measure(|| async {
                results::results(db, seeded.event_id, None, now)
                    .await
                    .unwrap();
            })
            .await;
            println!(
                "| {backend} | {responses} | uncached, everyone | {} | {} |",
                ms(p50),
                ms(p95)
            );
            let (p50, p95) = measure(|| async {
                results::results(db, seeded.event_id, Some(seeded.department_id), now)
                    .await
                    .unwrap();
            })
            .await;
            println!(
                "| {backend} | {responses} | uncached, one department | {} | {} |",
                ms(p50),
                ms(p95)
            );
            let cache = SurveyResultsCache::new(10);
            let (p50, p95) = measure(|| async {
                cache.get(db, seeded.event_id, None, now).await.unwrap();
            })
            .await;
            println!(
                "| {backend} | {responses} | cached | {} | {} |",
                ms(p50),
                ms(p95)
            );
        }
    }
}
