//! Dashboard benchmark. Not a test: it prints
//! figures for docs/PERFORMANCE.md.
//!
//! For each backend: one event with 10,000 registrations (20 departments,
//! a quarter checked in) beside 20 other events; the organizer's numbers
//! computed from SQL every time (`events::event_stats`) and through the
//! cache (`StatsCache::get`: one freshness statement, then memory), and as
//! another instance finds them (the freshness statement, then Redis at
//! TSUDOI_TEST_REDIS_ADDR, default 127.0.0.1:6379).
//!
//! PostgreSQL runs when TSUDOI_TEST_DATABASE_URL is set.
//! `cargo bench --bench dashboard`

use std::time::{Duration, Instant};

use chrono::Utc;
use chrono_tz::Asia::Tokyo;
use tsudoi::caching::redis::SharedCache;
use tsudoi::events::stats_cache::{Served, StatsCache};
use tsudoi::events::{self, NewEvent};
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::registrations::Registrar;
use tsudoi::storage::{Database, Pool, test_support};
use tsudoi::users::{self, NewUser};

const PEOPLE: usize = 10_000;
const RUNS: usize = 200;

fn new_event(title: &str, capacity: i32) -> NewEvent {
    let starts_at = Utc::now() + chrono::Duration::days(7);
    NewEvent {
        title_ja: Some(title.into()),
        title_en: Some(title.into()),
        description_ja: String::new(),
        description_en: String::new(),
        category: Category::Townhall,
        place: "Hall".into(),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        capacity,
        status: EventStatus::Published,
        organizer_id: None,
    }
}

async fn seed(db: &Database) -> i64 {
    let registrar = Registrar::new(db.clone());
    let id = events::create(db, &new_event("全社総会", PEOPLE as i32))
        .await
        .unwrap();
    let mut others = Vec::new();
    for n in 0..20 {
        others.push(
            events::create(db, &new_event(&format!("Other {n}"), 1000))
                .await
                .unwrap(),
        );
    }
    let mut pending = Vec::new();
    for n in 0..PEOPLE {
        let person = users::upsert(
            db,
            &NewUser {
                email: format!("p{n}@example.co.jp"),
                display_name: format!("社員 {n}"),
                department: Some(format!("部署 {}", n % 20)),
                role: Role::Employee,
                lang: Lang::Ja,
            },
            None,
        )
        .await
        .unwrap();
        pending.push(registrar.register(id, person, Utc::now()));
        if n < 1000 {
            for &other in &others {
                pending.push(registrar.register(other, person, Utc::now()));
            }
        }
        if pending.len() >= 500 {
            for done in futures_util::future::join_all(pending.drain(..)).await {
                done.unwrap();
            }
        }
    }
    for done in futures_util::future::join_all(pending).await {
        done.unwrap();
    }
    let check_in = "UPDATE registrations SET status = 'checked_in', checked_in_at = registered_at, version = version + 1
                    WHERE event_id = $1 AND id % 4 = 0";
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query(check_in)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(check_in)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
    if let Pool::Postgres(pool) = db.pool() {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    }
    id
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at =
        |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

#[tokio::main]
async fn main() {
    println!("| backend | numbers for an event of {PEOPLE} registrations | p50 | p95 |");
    println!("|---|---|---|---|");
    for t in test_support::backends().await {
        let db = &t.db;
        let id = seed(db).await;
        let mut uncached = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let stats = events::event_stats(db, Tokyo, id, Utc::now())
                .await
                .unwrap();
            uncached.push(started.elapsed());
            assert_eq!(stats.registered, PEOPLE as i64);
        }
        let cache = StatsCache::new(100);
        cache.get(db, Tokyo, id, Utc::now()).await.unwrap();
        let mut cached = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let (_, served) = cache.get(db, Tokyo, id, Utc::now()).await.unwrap();
            cached.push(started.elapsed());
            assert_eq!(served, Served::Cached);
        }
        // Another instance's first look: the freshness statement, then Redis.
        let redis = format!("redis://{}", test_support::redis_addr());
        let shared = SharedCache::connect(&redis, db).await.unwrap();
        let computing = StatsCache::new(100).shared_through(shared.clone());
        computing.get(db, Tokyo, id, Utc::now()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await; // the copy is stored in the background
        let mut from_redis = Vec::new();
        for _ in 0..RUNS {
            let elsewhere = StatsCache::new(100).shared_through(shared.clone());
            let started = Instant::now();
            let (_, served) = elsewhere.get(db, Tokyo, id, Utc::now()).await.unwrap();
            from_redis.push(started.elapsed());
            assert_eq!(served, Served::Shared);
        }
        for (label, samples) in [
            ("computed (4 aggregate statements)", uncached),
            ("cached (1 freshness statement)", cached),
            ("another instance, from Redis (freshness + GET)", from_redis),
        ] {
            let (p50, p95) = percentiles(samples);
            println!(
                "| {} | {label} | {p50:.2} ms | {p95:.2} ms |",
                db.backend().name()
            );
        }
    }
}
