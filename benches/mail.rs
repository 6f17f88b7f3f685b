//! Mail benchmark. Not a test: it prints figures
//! for docs/PERFORMANCE.md.
//!
//! For each backend: the reminder batch for 500 events × 20 people (10,000
//! reminders), timed over several runs (the outbox and the run record are
//! emptied between runs), with the statements sqlx reports; then delivery
//! of those 10,000 reminders (each composed with its QR image and .ics) to
//! a local aiosmtpd, at 4 connections (the default) and at 32.
//!
//! PostgreSQL runs when TSUDOI_TEST_DATABASE_URL is set.
//! `cargo bench --bench mail`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Asia::Tokyo;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tsudoi::events::{self, NewEvent};
use tsudoi::mail::compose::MailSite;
use tsudoi::mail::delivery::{Deliverer, DeliverySettings};
use tsudoi::mail::reminders;
use tsudoi::mail::test_support::MailServer;
use tsudoi::mail::transport::{Mailbox, Mailer};
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::registrations::Registrar;
use tsudoi::storage::test_support;
use tsudoi::storage::{Database, Pool};
use tsudoi::users::{self, NewUser};

const EVENTS: usize = 500;
const PEOPLE: usize = 20;
const ENQUEUE_RUNS: usize = 7;

struct CountStatements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn execute(db: &Database, sql: &str) {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

async fn seed(db: &Database) {
    let mut people = Vec::new();
    for n in 0..PEOPLE {
        people.push(
            users::upsert(
                db,
                &NewUser {
                    email: format!("p{n}@example.co.jp"),
                    display_name: format!("社員 {n}"),
                    department: None,
                    role: Role::Employee,
                    lang: if n % 2 == 0 { Lang::Ja } else { Lang::En },
                },
                None,
            )
            .await
            .unwrap(),
        );
    }
    let registrar = Registrar::new(db.clone());
    let registered_at = Tokyo
        .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .unwrap()
        .to_utc();
    for n in 0..EVENTS {
        let starts = Tokyo
            .with_ymd_and_hms(2026, 12, 10, 8, 0, 0)
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(n as i64);
        let id = events::create(
            db,
            &NewEvent {
                title_ja: Some(format!("勉強会 {n}")),
                title_en: Some(format!("Study group {n}")),
                description_ja: String::new(),
                description_en: String::new(),
                category: Category::Seminar,
                place: "本社 7F".into(),
                starts_at: starts,
                ends_at: starts + chrono::Duration::hours(1),
                capacity: PEOPLE as i32,
                status: EventStatus::Published,
                organizer_id: None,
            },
        )
        .await
        .unwrap();
        let seats: Vec<_> = people
            .iter()
            .map(|&p| registrar.register(id, p, registered_at))
            .collect();
        for seat in futures_util::future::join_all(seats).await {
            seat.unwrap();
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn deliver(db: &Database, connections: u32) -> (Duration, usize) {
    execute(db, "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = '2000-01-01T00:00:00Z', message_id = NULL, sent_at = NULL").await;
    let smtp = MailServer::start();
    let settings = DeliverySettings {
        batch_size: 400,
        per_minute: 10_000_000,
        connections,
        ..DeliverySettings::default()
    };
    let deliverer = Deliverer::new(
        db.clone(),
        Mailer::smtp(&smtp.url(), connections, settings.send_timeout).unwrap(),
        MailSite {
            public_url: url::Url::parse("https://tsudoi.example.co.jp").unwrap(),
            time_zone: Tokyo,
        },
        "Tsudoi <events@example.co.jp>".parse::<Mailbox>().unwrap(),
        settings,
    );
    let started = Instant::now();
    while deliverer.deliver_batch().await.unwrap().claimed > 0 {}
    smtp.wait_for(EVENTS * PEOPLE, Duration::from_secs(120));
    (started.elapsed(), smtp.count())
}

#[tokio::main]
async fn main() {
    let counter = Arc::new(AtomicUsize::new(0));
    tracing_subscriber::registry()
        .with(
            CountStatements(counter.clone())
                .with_filter(Targets::new().with_target("sqlx::query", tracing::Level::DEBUG)),
        )
        .init();
    let today = NaiveDate::from_ymd_opt(2026, 12, 9).unwrap();
    let at_nine = Tokyo
        .with_ymd_and_hms(2026, 12, 9, 9, 0, 0)
        .unwrap()
        .to_utc();
    println!(
        "| backend | reminders | enqueue median (min–max of {ENQUEUE_RUNS}) | statements reported |"
    );
    println!("|---|---|---|---|");
    let mut delivery_rows = Vec::new();
    for t in test_support::backends().await {
        let db = &t.db;
        seed(db).await;
        let mut times = Vec::new();
        let mut statements = 0;
        for _ in 0..ENQUEUE_RUNS {
            execute(db, "DELETE FROM mail_outbox").await;
            execute(db, "DELETE FROM scheduled_runs").await;
            let before = counter.load(Ordering::SeqCst);
            let started = Instant::now();
            let queued = reminders::run_for(db, Tokyo, today, at_nine).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            statements = counter.load(Ordering::SeqCst) - before;
            assert_eq!(queued, Some((EVENTS * PEOPLE) as u64));
        }
        let (low, high) = (
            times.iter().copied().fold(f64::MAX, f64::min),
            times.iter().copied().fold(0.0, f64::max),
        );
        println!(
            "| {} | {} | {:.0} ms ({low:.0}–{high:.0}) | {statements} (+ BEGIN/COMMIT where not reported) |",
            db.backend().name(),
            EVENTS * PEOPLE,
            median(times)
        );
        for connections in [4, 32] {
            let (took, received) = deliver(db, connections).await;
            delivery_rows.push(format!(
                "| {} | {connections} | {received} | {:.1} s | {:.0} mails/s |",
                db.backend().name(),
                took.as_secs_f64(),
                received as f64 / took.as_secs_f64()
            ));
        }
    }
    println!();
    println!("| backend | SMTP connections | reminders delivered | time | rate |");
    println!("|---|---|---|---|---|");
    for row in delivery_rows {
        println!("{row}");
    }
}
