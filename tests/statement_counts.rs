//! How many SQL statements the employee pages cost: a
//! constant, whatever the page size, the filters or the person's history.
//!
//! sqlx reports every statement it runs as a `tracing` event with target
//! `sqlx::query` (at DEBUG, its default). This file installs a process-wide
//! subscriber that counts them; SQLite runs statements on a worker thread,
//! so a thread-local subscriber would miss them. Being global, the counter
//! would also see other tests' statements: this binary holds this one test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use common::{employees, event, tokyo};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tsudoi::events::{self, UpcomingFilter};
use tsudoi::model::{Category, EventStatus};
use tsudoi::storage::{Database, DatabaseUrl, PoolSettings, test_support};
use tsudoi::{calendar, registrations, tickets};
use url::Url;

struct CountStatements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn now() -> DateTime<Utc> {
    tokyo(2026, 12, 1, 12, 0)
}

/// Statements run while `work` runs, and its result.
async fn counted<T>(counter: &AtomicUsize, work: impl Future<Output = T>) -> (usize, T) {
    let before = counter.load(Ordering::SeqCst);
    let result = work.await;
    (counter.load(Ordering::SeqCst) - before, result)
}

/// What the process's one subscriber counts and writes: statements run, and
/// every warning as text.
struct Observed {
    statements: Arc<AtomicUsize>,
    warnings: Captured,
}

fn observed() -> &'static Observed {
    static OBSERVED: std::sync::OnceLock<Observed> = std::sync::OnceLock::new();
    OBSERVED.get_or_init(|| {
        let observed = Observed {
            statements: Arc::new(AtomicUsize::new(0)),
            warnings: Captured::default(),
        };
        tracing_subscriber::registry()
            .with(
                CountStatements(observed.statements.clone())
                    .with_filter(Targets::new().with_target("sqlx::query", tracing::Level::DEBUG)),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(observed.warnings.clone())
                    .with_ansi(false)
                    .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
            )
            .init();
        observed
    })
}

#[tokio::test]
async fn employee_pages_run_a_constant_number_of_statements() {
    let counter = observed().statements.clone();
    let public_url = Url::parse("https://tsudoi.example.com").unwrap();

    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let people = employees(db, "count", 4).await;
        let me = people[0];
        let mut events_ids = Vec::new();
        for n in 0..150 {
            let mut new = event(
                &format!("研修 Training {n:03}"),
                now() + Duration::hours(1 + n),
                EventStatus::Published,
            );
            new.category = if n % 2 == 0 {
                Category::Training
            } else {
                Category::Seminar
            };
            new.capacity = 2;
            events_ids.push(events::create(db, &new).await.unwrap());
        }
        for &event_id in &events_ids[..30] {
            for &user in &people {
                registrations::register(db, event_id, user, now())
                    .await
                    .unwrap();
            }
        }
        let seated = registrations::live_registration(db, events_ids[0], me)
            .await
            .unwrap()
            .unwrap();

        let all_filters = UpcomingFilter {
            category: Some(Category::Training),
            from: NaiveDate::from_ymd_opt(2026, 12, 1),
            to: NaiveDate::from_ymd_opt(2026, 12, 31),
            seats_left_only: true,
            search: Some("研修".into()),
        };
        // Counted on a pool of one connection: a bigger pool may open a
        // connection at any time (a used one goes back in a task of its
        // own), and SQLite's connection setup runs statements of its own.
        let single = Database::open(
            &DatabaseUrl::parse(&t.url()).unwrap(),
            &PoolSettings {
                max_connections: 1,
                ..PoolSettings::default()
            },
        )
        .await
        .unwrap();
        let db = &single;
        let list = |filter: UpcomingFilter, page_size: u32| async move {
            let page = events::list_upcoming(db, Tokyo, now(), &filter, None, page_size)
                .await
                .unwrap();
            assert!(!page.items.is_empty(), "{backend:?}: {filter:?}");
            page
        };
        // Warm up: the connection open and the statements prepared.
        list(all_filters.clone(), 20).await;
        let token = calendar::feed_token(db, me).await.unwrap();
        tickets::issue(db, seated.id, me).await.unwrap();

        for page_size in [1, 20, 100] {
            let (statements, page) =
                counted(&counter, list(UpcomingFilter::default(), page_size)).await;
            assert_eq!(page.items.len(), page_size as usize);
            assert_eq!(statements, 1, "{backend:?}: list of {page_size}");
            let (statements, _) = counted(&counter, list(all_filters.clone(), page_size)).await;
            assert_eq!(statements, 1, "{backend:?}: filtered list of {page_size}");
        }

        let (statements, detail) = counted(
            &counter,
            events::detail(db, Tokyo, events_ids[0], Some(people[3]), false, now()),
        )
        .await;
        assert!(detail.unwrap().mine.is_some());
        assert_eq!(statements, 1, "{backend:?}: event page");

        let (statements, mine) = counted(&counter, registrations::mine(db, me, Tokyo, now())).await;
        assert_eq!(mine.unwrap().upcoming.len(), 30);
        assert_eq!(statements, 2, "{backend:?}: my events");

        let (statements, feed) =
            counted(&counter, calendar::feed_ics(db, &token, &public_url, now())).await;
        assert!(feed.unwrap().matches("BEGIN:VEVENT").count() >= 2);
        assert_eq!(statements, 2, "{backend:?}: calendar feed");

        let (statements, ticket) = counted(&counter, tickets::issue(db, seated.id, me)).await;
        let ticket = ticket.unwrap();
        assert_eq!(statements, 2, "{backend:?}: ticket");
        let (statements, claims) = counted(&counter, tickets::verify(db, &ticket.token)).await;
        assert!(claims.is_ok());
        assert_eq!(statements, 1, "{backend:?}: verify");
        single.close().await;
    }
}

/// Everything a subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn slow_statements_are_logged_with_their_text_and_without_their_values() {
    let captured = &observed().warnings;
    for t in test_support::backends().await {
        let backend = t.db.backend();
        // A threshold every statement passes, to see what a slow one logs.
        let touchy = Database::open(
            &DatabaseUrl::parse(&t.url()).unwrap(),
            &PoolSettings {
                slow_statement: std::time::Duration::from_nanos(1),
                ..PoolSettings::default()
            },
        )
        .await
        .unwrap();
        let found = tsudoi::users::find_by_email(&touchy, "secret-needle@example.co.jp")
            .await
            .unwrap();
        assert_eq!(found, None);
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|line| {
                line.contains("slow statement") && line.contains("FROM users WHERE email = $1")
            })
            .unwrap_or_else(|| panic!("{backend:?}: no slow statement logged in\n{log}"));
        assert!(!log.contains("secret-needle"), "{backend:?}: {line}");
    }
}
