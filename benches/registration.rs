//! Registration benchmark. Not a test: it prints
//! figures for docs/PERFORMANCE.md.
//!
//! For each backend, in one run:
//! - the core's `register` on one hot event and spread over many events;
//! - the raw ceiling: the very same SQL statements sent straight through the
//!   driver, no domain code around them;
//! - the bare seat transaction, the floor any design pays (UPDATE + 2 INSERTs);
//! - the review's naive check-then-insert, to show its oversell.
//!
//! PostgreSQL runs when TSUDOI_TEST_DATABASE_URL is set.
//! `cargo bench --bench registration [-- --quick]`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Barrier;
use tsudoi::events::{self, NewEvent};
use tsudoi::model::{Category, EventStatus};
use tsudoi::registrations::{self, Registrar};
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::storage::{Database, Pool};

macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

struct Row {
    backend: &'static str,
    scenario: String,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    seated: i64,
    note: String,
}

impl Row {
    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index].as_secs_f64() * 1000.0
    }

    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

async fn create_users(db: &Database, count: usize) -> Vec<i64> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await.unwrap();
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, display_name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
            )
            .bind(format!("bench{n}@example.com"))
            .bind(format!("Bench {n}"))
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        ids
    })
}

async fn create_event(db: &Database, capacity: i32) -> i64 {
    let starts_at = Utc::now() + chrono::Duration::days(7);
    let event = NewEvent {
        title_ja: None,
        title_en: Some("Benchmark".into()),
        description_ja: String::new(),
        description_en: String::new(),
        category: Category::Seminar,
        place: String::new(),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(1),
        capacity,
        status: EventStatus::Published,
        organizer_id: None,
    };
    events::create(db, &event).await.unwrap()
}

/// Runs `requests` calls of `call(i)` from `workers` concurrent tasks that all
/// start together, recording each call's latency.
async fn drive<F, Fut>(workers: usize, requests: usize, call: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(workers + 1));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (call, next, start) = (call.clone(), next.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break latencies;
                }
                let began = Instant::now();
                call(i).await;
                latencies.push(began.elapsed());
            }
        }));
    }
    start.wait().await;
    let began = Instant::now();
    let mut latencies = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = began.elapsed();
    latencies.sort();
    (elapsed, latencies)
}

/// The SQL `registrations::register` sends for a first registration, verbatim,
/// straight through the driver: the ceiling the core can at best reach.
async fn raw_same_statements(db: &Database, event_id: i64, user_id: i64) {
    let now = Utc::now();
    with_pool!(db, |pool| {
        let mut tx = match db.pool() {
            Pool::Sqlite(_) => pool.begin_with("BEGIN IMMEDIATE").await.unwrap(),
            Pool::Postgres(_) => pool.begin().await.unwrap(),
        };
        let _: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM registrations WHERE event_id = $1 AND user_id = $2 AND status IN ('registered', 'waitlisted', 'checked_in')",
        )
        .bind(event_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
        let _: Option<(String,)> =
            sqlx::query_as("SELECT status, starts_at, registration_opens_at, registration_closes_at FROM events WHERE id = $1")
                .bind(event_id)
                .fetch_optional(&mut *tx)
                .await
                .unwrap();
        let seated = sqlx::query("UPDATE events SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity")
            .bind(event_id)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected()
            == 1;
        let seq: Option<i64> = if seated {
            None
        } else {
            sqlx::query_scalar(
                "UPDATE events SET waitlist_next = waitlist_next + 1 WHERE id = $1 AND seats_taken >= capacity RETURNING waitlist_next",
            )
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await
            .unwrap()
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(event_id)
        .bind(user_id)
        .bind(if seated { "registered" } else { "waitlisted" })
        .bind(seq)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key, status, attempts, next_attempt_at, created_at)
             SELECT $1, u.id, u.email, u.lang, $2, $3, 'queued', 0, $4, $4 FROM users u WHERE u.id = $5
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(if seated { "registration_confirmed" } else { "waitlisted" })
        .bind(sqlx::types::Json(serde_json::json!({ "event_id": event_id, "registration_id": id })))
        .bind(format!("raw:{id}"))
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    })
}

/// The seat transaction alone: the conditional UPDATE and two INSERTs.
async fn bare_seat_transaction(db: &Database, event_id: i64, user_id: i64) {
    let now = Utc::now();
    with_pool!(db, |pool| {
        let mut tx = match db.pool() {
            Pool::Sqlite(_) => pool.begin_with("BEGIN IMMEDIATE").await.unwrap(),
            Pool::Postgres(_) => pool.begin().await.unwrap(),
        };
        sqlx::query("UPDATE events SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity")
            .bind(event_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at) VALUES ($1, $2, 'registered', $3, $3) RETURNING id",
        )
        .bind(event_id)
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO mail_outbox (kind, to_address, dedupe_key, next_attempt_at, created_at) VALUES ('registration_confirmed', 'x@example.com', $1, $2, $2)")
            .bind(format!("bare:{id}"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    })
}

/// The review's original flow: count, compare, insert — no lock, no counter.
async fn naive_check_then_insert(db: &Database, event_id: i64, capacity: i64, user_id: i64) {
    let now = Utc::now();
    with_pool!(db, |pool| {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND status = 'registered'",
        )
        .bind(event_id)
        .fetch_one(pool)
        .await
        .unwrap();
        let status = if taken < capacity {
            "registered"
        } else {
            "waitlisted"
        };
        sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(event_id)
        .bind(user_id)
        .bind(status)
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    })
}

async fn count_registered(db: &Database, event_id: i64) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND status = 'registered'"
    )
    .bind(event_id)
    .fetch_one(pool)
    .await
    .unwrap())
}

/// Runs `call(event, i)` for i in 0..requests from `workers` tasks, on a fresh
/// event with `capacity` seats, and records the result with the seats taken.
async fn scenario<F, Fut>(
    db: &Database,
    name: impl Into<String>,
    capacity: i32,
    workers: usize,
    requests: usize,
    call: F,
) -> Row
where
    F: Fn(i64, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let event = create_event(db, capacity).await;
    let (elapsed, latencies) = drive(workers, requests, move |i| call(event, i)).await;
    let seated = count_registered(db, event).await;
    Row {
        backend: db.backend().name(),
        scenario: name.into(),
        requests,
        elapsed,
        latencies,
        seated,
        note: format!("{seated} seated of capacity {capacity}"),
    }
}

async fn bench_backend(t: &TestDatabase, requests: usize, workers: usize) -> Vec<Row> {
    let db = t.db.clone();
    let users = Arc::new(create_users(&db, requests).await);
    let registrar = Registrar::new(db.clone());
    let half = (requests / 2) as i32;
    let burst = 500.min(requests / 2);
    let mut rows = Vec::new();

    // Warm the pool and caches so the first scenario is not penalised.
    let warm = create_event(&db, 10).await;
    for &user in users.iter().take(20) {
        registrations::register(&db, warm, user, Utc::now())
            .await
            .unwrap();
    }

    let (d, u) = (db.clone(), users.clone());
    rows.push(
        scenario(
            &db,
            "core `register`, one hot event",
            half,
            workers,
            requests,
            move |event, i| {
                let (d, u) = (d.clone(), u.clone());
                async move {
                    registrations::register(&d, event, u[i], Utc::now())
                        .await
                        .unwrap();
                }
            },
        )
        .await,
    );

    let (r, u) = (registrar.clone(), users.clone());
    rows.push(
        scenario(
            &db,
            "core `Registrar` (grouped), one hot event",
            half,
            workers,
            requests,
            move |event, i| {
                let (r, u) = (r.clone(), u.clone());
                async move {
                    r.register(event, u[i], Utc::now()).await.unwrap();
                }
            },
        )
        .await,
    );

    let (d, u) = (db.clone(), users.clone());
    rows.push(
        scenario(
            &db,
            "raw ceiling: same SQL, no domain code, one hot event",
            half,
            workers,
            requests,
            move |event, i| {
                let (d, u) = (d.clone(), u.clone());
                async move { raw_same_statements(&d, event, u[i]).await }
            },
        )
        .await,
    );

    // The core spread over 50 events (the event the helper makes stays empty).
    let mut spread = Vec::new();
    for _ in 0..50 {
        spread.push(create_event(&db, (requests / 100) as i32).await);
    }
    let (d, u, e) = (db.clone(), users.clone(), Arc::new(spread));
    let mut row = scenario(
        &db,
        "core `register`, 50 events",
        0,
        workers,
        requests,
        move |_, i| {
            let (d, u, e) = (d.clone(), u.clone(), e.clone());
            async move {
                registrations::register(&d, e[i % e.len()], u[i], Utc::now())
                    .await
                    .unwrap();
            }
        },
    )
    .await;
    row.note = "half seated, half waitlisted per event".into();
    rows.push(row);

    let (d, u) = (db.clone(), users.clone());
    let mut row = scenario(
        &db,
        "bare seat transaction (UPDATE + 2 INSERT), one hot event",
        requests as i32,
        workers,
        requests,
        move |event, i| {
            let (d, u) = (d.clone(), u.clone());
            async move { bare_seat_transaction(&d, event, u[i]).await }
        },
    )
    .await;
    row.note = "reference: the bare seat transaction".into();
    rows.push(row);

    // Bursts: everyone at once for 200 seats.
    let (d, u) = (db.clone(), users.clone());
    rows.push(
        scenario(
            &db,
            format!("core burst: {burst} at once for 200 seats"),
            200,
            burst,
            burst,
            move |event, i| {
                let (d, u) = (d.clone(), u.clone());
                async move {
                    registrations::register(&d, event, u[i], Utc::now())
                        .await
                        .unwrap();
                }
            },
        )
        .await,
    );

    let (r, u) = (registrar.clone(), users.clone());
    rows.push(
        scenario(
            &db,
            format!("core `Registrar` burst: {burst} at once for 200 seats"),
            200,
            burst,
            burst,
            move |event, i| {
                let (r, u) = (r.clone(), u.clone());
                async move {
                    r.register(event, u[burst + i], Utc::now()).await.unwrap();
                }
            },
        )
        .await,
    );

    let (d, u) = (db.clone(), users.clone());
    let mut row = scenario(
        &db,
        format!("naive check-then-insert: {burst} at once for 200 seats"),
        200,
        burst,
        burst,
        move |event, i| {
            let (d, u) = (d.clone(), u.clone());
            async move { naive_check_then_insert(&d, event, 200, u[i]).await }
        },
    )
    .await;
    row.note = format!(
        "**{} seated: oversold by {}**",
        row.seated,
        (row.seated - 200).max(0)
    );
    rows.push(row);
    rows
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (requests, workers) = if quick { (1_000, 100) } else { (10_000, 500) };
    let mut rows = Vec::new();
    for t in test_support::backends().await {
        eprintln!("benchmarking {} …", t.db.backend().name());
        rows.extend(bench_backend(&t, requests, workers).await);
    }
    println!(
        "{requests} registrations per scenario from {workers} concurrent tasks (bursts: all at once).\n"
    );
    println!("| backend | scenario | requests | req/s | p50 ms | p95 ms | p99 ms | result |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            row.backend,
            row.scenario,
            row.requests,
            row.per_second(),
            row.percentile(0.50),
            row.percentile(0.95),
            row.percentile(0.99),
            row.note
        );
    }
    for backend in ["SQLite", "PostgreSQL"] {
        let rate = |prefix: &str| {
            rows.iter()
                .find(|r| r.backend == backend && r.scenario.starts_with(prefix))
                .map(Row::per_second)
        };
        let (core, grouped, raw) = (
            rate("core `register`, one hot"),
            rate("core `Registrar` (grouped), one hot"),
            rate("raw ceiling"),
        );
        if let (Some(core), Some(grouped), Some(raw)) = (core, grouped, raw) {
            println!(
                "\n{backend}, hot event, share of the raw ceiling: `register` {:.0} %, `Registrar` {:.0} %",
                core / raw * 100.0,
                grouped / raw * 100.0
            );
        }
    }
}
