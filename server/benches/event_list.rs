//! Event list page benchmark. Not a test: it
//! prints figures for docs/PERFORMANCE.md.
//!
//! For each backend, 300 upcoming events (15 pages) beside 2,000 past ones,
//! then three HTTP servers measured in the same run by the same load
//! generator (64 requests in flight over keep-alive connections, 3 s warm-up,
//! 10 s measured):
//!
//! - **bare**: axum + sqlx in this process, the same statement
//!   (`events::list_upcoming`), the 20 rows written as HTML by `format!`,
//!   the ceiling the design's service level compares against;
//! - **tsudoi, cached**: the real binary's `/` (Leptos server-side
//!   rendering, sessions, security headers) with the list cache on;
//! - **tsudoi, uncached**: the same with `list_cache_pages = 0`.
//!
//! Before that, the list read alone in process: `list_upcoming` against
//! `ListCache` (p50/p95 of 2,000 reads); and how long after a registration's
//! commit a second instance, told through Redis, stops serving the old list.
//!
//! PostgreSQL runs when TSUDOI_TEST_DATABASE_URL is set.
//! `cargo bench -p tsudoi-server --bench event_list`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::Html;
use chrono::Utc;
use chrono_tz::Asia::Tokyo;
use support::RunningServer;
use tsudoi::caching::redis::SharedCache;
use tsudoi::events::list_cache::ListCache;
use tsudoi::events::{self, NewEvent, UpcomingFilter};
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::registrations;
use tsudoi::storage::{Database, test_support};
use tsudoi::users::{self, NewUser};

const UPCOMING: usize = 300;
const PAST: usize = 2_000;
const IN_FLIGHT: usize = 64;
const WARM_UP: Duration = Duration::from_secs(3);
const MEASURED: Duration = Duration::from_secs(10);
const IN_PROCESS_READS: usize = 2_000;
const LAG_SAMPLES: usize = 200;

fn new_event(n: usize, starts_at: chrono::DateTime<Utc>) -> NewEvent {
    NewEvent {
        title_ja: Some(format!("社内勉強会 第{n}回")),
        title_en: Some(format!("Study group #{n}")),
        description_ja: "説明".into(),
        description_en: "About".into(),
        category: Category::Seminar,
        place: format!("Room {}", n % 12),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(1),
        capacity: 40,
        status: EventStatus::Published,
        organizer_id: None,
    }
}

async fn seed(db: &Database) {
    let now = Utc::now();
    for n in 0..UPCOMING {
        let at = now + chrono::Duration::hours(6 + n as i64 * 5);
        events::create(db, &new_event(n, at)).await.unwrap();
    }
    for n in 0..PAST {
        let at = now - chrono::Duration::hours(24 + n as i64 * 5);
        events::create(db, &new_event(n, at)).await.unwrap();
    }
}

struct Latencies {
    label: String,
    requests: usize,
    seconds: f64,
    micros: Vec<u32>,
}

impl Latencies {
    fn percentile(&self, p: f64) -> f64 {
        let index =
            ((self.micros.len() as f64 * p).ceil() as usize).clamp(1, self.micros.len()) - 1;
        f64::from(self.micros[index]) / 1000.0
    }

    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn print(&self) {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            self.label,
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99),
        );
    }
}

/// `IN_FLIGHT` loops sending GET `url` back to back; what they saw after
/// the warm-up. Every answer must be a 200 that holds `must_contain`.
async fn load(label: &str, url: &str, must_contain: &str) -> Latencies {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    let started = Instant::now();
    let measure_from = started + WARM_UP;
    let end = measure_from + MEASURED;
    let mut loops = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, must_contain) =
            (client.clone(), url.to_string(), must_contain.to_string());
        loops.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    return seen;
                }
                let response = client.get(&url).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let body = response.text().await.unwrap();
                assert!(body.contains(&must_contain), "unexpected page");
                if sent >= measure_from {
                    seen.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                }
            }
        }));
    }
    let mut micros = Vec::new();
    for each in loops {
        micros.extend(each.await.unwrap());
    }
    micros.sort_unstable();
    Latencies {
        label: label.into(),
        requests: micros.len(),
        seconds: MEASURED.as_secs_f64(),
        micros,
    }
}

async fn bare_page(State(db): State<Database>) -> Html<String> {
    let page = events::list_upcoming(&db, Tokyo, Utc::now(), &UpcomingFilter::default(), None, 20)
        .await
        .unwrap();
    let mut html = String::from("<!DOCTYPE html><html><body><ul>");
    for event in &page.items {
        html.push_str(&format!(
            "<li><a href=\"/events/{}\">{}</a> {} {} — {} seats left</li>",
            event.id,
            event.title(tsudoi::model::Lang::Ja),
            event.place,
            event.local_start().format("%m/%d %H:%M"),
            event.seats_left()
        ));
    }
    html.push_str("</ul></body></html>");
    Html(html)
}

/// The bare server on its own two threads, as the real binary has.
fn start_bare(db: Database) -> String {
    let (address, found) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new()
                .route("/", axum::routing::get(bare_page))
                .with_state(db);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}/", found.recv().unwrap())
}

async fn in_process(db: &Database) {
    let everything = UpcomingFilter::default();
    let cache = ListCache::new(100);
    let mut uncached = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..IN_PROCESS_READS {
        let started = Instant::now();
        events::list_upcoming(db, Tokyo, Utc::now(), &everything, None, 20)
            .await
            .unwrap();
        uncached.push(started.elapsed());
        let started = Instant::now();
        cache
            .list_upcoming(db, Tokyo, Utc::now(), &everything, None, 20)
            .await
            .unwrap();
        cached.push(started.elapsed());
    }
    for (label, mut times) in [("list_upcoming", uncached), ("ListCache", cached)] {
        times.sort_unstable();
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "  {label}: p50 {:.3} ms, p95 {:.3} ms",
            at(0.50).as_secs_f64() * 1000.0,
            at(0.95).as_secs_f64() * 1000.0
        );
    }
}

/// How long after a write's commit another instance stops serving the old
/// list: registrations through one handle, the other handle's counter
/// watched until it moves (both announce through Redis).
async fn announcement_lag(db: &Database) {
    let redis = format!("redis://{}", test_support::redis_addr());
    let other = db.another_instance();
    SharedCache::connect(&redis, db)
        .await
        .unwrap()
        .share_changes(db.changes());
    SharedCache::connect(&redis, &other)
        .await
        .unwrap()
        .share_changes(other.changes());
    let mut upcoming = new_event(0, Utc::now() + chrono::Duration::days(2));
    upcoming.capacity = 1_000;
    let event = events::create(db, &upcoming).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut lags = Vec::new();
    for n in 0..LAG_SAMPLES {
        let person = users::upsert(
            db,
            &NewUser {
                email: format!("lag{n}@example.com"),
                display_name: format!("Lag {n}"),
                department: None,
                role: Role::Employee,
                lang: Lang::Ja,
            },
            None,
        )
        .await
        .unwrap();
        let before = other.changes().generation();
        registrations::register(db, event, person, Utc::now())
            .await
            .unwrap();
        let committed = Instant::now();
        while other.changes().generation() == before {
            assert!(
                committed.elapsed() < Duration::from_secs(5),
                "no announcement"
            );
            tokio::task::yield_now().await;
        }
        lags.push(committed.elapsed());
    }
    lags.sort_unstable();
    let at = |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)];
    println!(
        "Another instance hears of a write (Redis pub/sub, {LAG_SAMPLES} registrations): p50 {:.3} ms, p95 {:.3} ms, max {:.3} ms",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        lags[lags.len() - 1].as_secs_f64() * 1000.0
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for t in test_support::backends().await {
            let db = &t.db;
            let backend = db.backend().name();
            seed(db).await;
            println!("\n## {backend}: {UPCOMING} upcoming events, {PAST} past\n");
            println!("In process, page 1 of the list (20 rows):");
            in_process(db).await;
            announcement_lag(db).await;

            let bare = start_bare(db.clone());
            let dir = tempfile::tempdir().unwrap();
            let cached = RunningServer::start(dir.path(), &t.url());
            let uncached = RunningServer::start_with(
                dir.path(),
                &t.url(),
                &[("TSUDOI_LIST_CACHE_PAGES", "0")],
            );
            let first_title = "社内勉強会 第0回";
            println!(
                "\n| {backend}, {IN_FLIGHT} in flight | req/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|"
            );
            let runs = [
                load("bare axum + sqlx", &bare, first_title).await,
                load("tsudoi `/`, list cached", &cached.url("/"), first_title).await,
                load("tsudoi `/`, list_cache_pages = 0", &uncached.url("/"), first_title).await,
            ];
            for run in &runs {
                run.print();
            }
            println!(
                "\ntsudoi cached / bare: {:.0} %, uncached / bare: {:.0} %",
                100.0 * runs[1].per_second() / runs[0].per_second(),
                100.0 * runs[2].per_second() / runs[0].per_second()
            );
            drop((cached, uncached));
        }
    });
}
