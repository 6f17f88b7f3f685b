//! One backend's run: a fresh database, the seed, the server, then each
//! scenario with its service level (DESIGN.md "Service levels (C-3)") and
//! its checks, as rows of the table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use chrono::Utc;
use tsudoi::storage::{Database, DatabaseUrl, PoolSettings};

use crate::backend::{Backend, FreshDatabase};
use crate::metrics::{self, Agreement};
use crate::report::{Row, Verdict};
use crate::scenarios::{self, LOGIN_ROUTE, Login, Outcome, Plan, Request, Stop, Timing};
use crate::seed::{self, Fixture, on_pool};
use crate::server::{Binary, Server};

const RUSH_PEOPLE: usize = 500;
/// People registering across the many events (each for every one of them).
const SUSTAINED_PEOPLE: usize = 128;
/// The first seeded person of the sustained scenario: after the rush's.
const SUSTAINED_FIRST: usize = RUSH_PEOPLE;
const PAGE_CONCURRENCY: usize = 64;
/// Organizers and admins watching a dashboard at once.
const DASHBOARD_CONCURRENCY: usize = seed::ADMINS_AND_STAFF;
/// Door keepers' phones scanning at once.
const DOORS: usize = seed::ADMINS_AND_STAFF;
/// Argon2 takes ~25 ms of CPU and the server hashes one per core: starting
/// people faster only queues their logins.
const LOGINS_PER_SECOND: usize = 100;

pub struct Settings {
    pub binary: Binary,
    /// How long each fixed-concurrency row is measured.
    pub measured: Duration,
}

pub async fn run(settings: &Settings, backend: &Backend) -> Result<Vec<Row>> {
    let started = Instant::now();
    let database = FreshDatabase::create(backend, &settings.binary.workdir).await?;
    let result = run_on(settings, backend, &database).await;
    database.remove().await?;
    eprintln!(
        "tsudoi-load: {} done in {:.0}s",
        backend.name(),
        started.elapsed().as_secs_f64()
    );
    result
}

async fn run_on(
    settings: &Settings,
    backend: &Backend,
    database: &FreshDatabase,
) -> Result<Vec<Row>> {
    settings.binary.migrate(database).await?;
    let db = Database::open(
        &DatabaseUrl::parse(&database.url).map_err(anyhow::Error::msg)?,
        &PoolSettings::default(),
    )
    .await?;
    let fixture = seed::seed(&db).await?;
    let server = settings.binary.serve(database).await?;
    let rss_at_start_mib = server.probe().usage()?.rss_mib;
    let mut run = Run {
        backend: backend.name(),
        server: &server,
        rss_at_start_mib,
        client: reqwest::Client::new(),
        rows: Vec::new(),
    };
    let result = run.scenarios(settings, &db, &fixture).await;
    let rows = run.rows;
    let stopped = server.stop().await;
    db.close().await;
    result?;
    stopped?;
    Ok(rows)
}

struct Run<'a> {
    backend: &'static str,
    server: &'a Server,
    /// Resident memory of the server right after it started.
    rss_at_start_mib: f64,
    client: reqwest::Client,
    rows: Vec<Row>,
}

/// A measured row: its label and the service level it is held against.
struct Level {
    target: &'static str,
    /// The figure as the table says it, and whether it meets the target
    /// (`None`: a reference row without a target).
    judge: fn(&Outcome) -> (String, Option<bool>),
}

fn p95(outcome: &Outcome) -> String {
    p95_of(&outcome.whole)
}

fn p95_of(timing: &Timing) -> String {
    format!("p95 {:.1} ms", timing.p95_ms)
}

const REFERENCE: Level = Level {
    target: "—",
    judge: |o| (p95(o), None),
};

impl Run<'_> {
    async fn scenarios(
        &mut self,
        settings: &Settings,
        db: &Database,
        fixture: &Fixture,
    ) -> Result<()> {
        let measured = settings.measured;
        let every_page = |route: &'static str, path: String, login: Login, people| Plan {
            people,
            starts_per_second: if matches!(login, Login::Anonymous) {
                1000
            } else {
                LOGINS_PER_SECOND
            },
            login,
            request: Request::Get { route, path },
            stop: Stop::After(measured),
        };

        // (a) The rush: everyone logged in first, then released together.
        let scenario = "(a) rush: 500 logged in register at once for 200 seats";
        let rush = self
            .measure_showing_logins(
                scenario,
                Plan {
                    people: RUSH_PEOPLE,
                    starts_per_second: LOGINS_PER_SECOND,
                    login: Login::People { first: 0 },
                    request: Request::Register {
                        events: Arc::new(vec![fixture.rush_event]),
                    },
                    stop: Stop::Iterations(1),
                },
                Level {
                    target: "p99 < 100 ms",
                    judge: |o| {
                        (
                            format!("p99 {:.1} ms", o.whole.p99_ms),
                            Some(o.whole.p99_ms < 100.0),
                        )
                    },
                },
                true,
            )
            .await?;
        self.rows.push(Row {
            backend: self.backend,
            scenario: scenario.into(),
            what: "server peak RSS during the rush".into(),
            timing: None,
            per_second: None,
            measured: format!(
                "{:.0} MB (at start {:.0} MB; after the 500 logins {:.0} MB)",
                rush.usage.peak_rss_mib, self.rss_at_start_mib, rush.rss_at_release_mib
            ),
            target: "< 150 MB".into(),
            verdict: Verdict::of_target(rush.usage.peak_rss_mib < 150.0),
            metrics: None,
            usage: None,
        });
        let (found, exact) = check_rush(db, fixture.rush_event, &rush.answers).await?;
        self.check(
            scenario,
            "seats afterwards (database and answers)",
            found,
            "200 seated, 300 waitlisted at 1..300, nobody twice",
            exact,
        );

        // (b) Sustained registrations spread over many events.
        let scenario = "(b) sustained: 128 people each register for 50 events";
        let sustained = self
            .measure(
                scenario,
                Plan {
                    people: SUSTAINED_PEOPLE,
                    starts_per_second: LOGINS_PER_SECOND,
                    login: Login::People {
                        first: SUSTAINED_FIRST,
                    },
                    request: Request::Register {
                        events: Arc::new(fixture.sustained_events.clone()),
                    },
                    stop: Stop::Iterations(fixture.sustained_events.len()),
                },
                Level {
                    target: "p95 < 500 ms, p99 < 1 s at ≥ 50 req/s (review SLA)",
                    judge: |o| {
                        let met = o.whole.p95_ms < 500.0
                            && o.whole.p99_ms < 1000.0
                            && o.per_second() >= 50.0;
                        (
                            format!("{:.0} req/s, p99 {:.1} ms", o.per_second(), o.whole.p99_ms),
                            Some(met),
                        )
                    },
                },
            )
            .await?;
        let expected = SUSTAINED_PEOPLE * fixture.sustained_events.len();
        let registered = count_registrations(db, &fixture.sustained_events).await?;
        self.check(
            scenario,
            "registrations afterwards",
            format!("{registered} live registrations"),
            &format!("{expected} ({} answers)", sustained.whole.requests),
            registered == expected as i64 && sustained.whole.requests == expected,
        );

        // (c) The event list at a fixed concurrency, beside its own data as
        // JSON and the HTTP stack's ceiling, measured in the same run.
        let scenario = "(c) event list, 64 visitors";
        let page = self
            .measure(
                scenario,
                every_page("/", "/".into(), Login::Anonymous, PAGE_CONCURRENCY),
                Level {
                    target: "p95 < 20 ms at ≥ 5,000 req/s",
                    judge: |o| {
                        let met = o.whole.p95_ms < 20.0 && o.per_second() >= 5000.0;
                        (
                            format!(
                                "p95 {:.1} ms at {:.0} req/s",
                                o.whole.p95_ms,
                                o.per_second()
                            ),
                            Some(met),
                        )
                    },
                },
            )
            .await?;
        let data = self
            .measure(
                scenario,
                every_page(
                    "/api/events/list",
                    "/api/events/list".into(),
                    Login::Anonymous,
                    PAGE_CONCURRENCY,
                ),
                REFERENCE,
            )
            .await?;
        let ceiling = self
            .measure(
                scenario,
                every_page(
                    "/healthz",
                    "/healthz".into(),
                    Login::Anonymous,
                    PAGE_CONCURRENCY,
                ),
                REFERENCE,
            )
            .await?;
        self.against_its_data(scenario, "GET /", &page, &data, &ceiling, 5000.0);

        // (d) The event page, for people who are registered for it.
        let scenario = "(d) event page, 64 logged in";
        let rush_page = format!("/events/{}", fixture.rush_event);
        let page = self
            .measure(
                scenario,
                every_page(
                    "/events/{id}",
                    rush_page,
                    Login::People { first: 0 },
                    PAGE_CONCURRENCY,
                ),
                // No design target of its own (docs/SERVICE-LEVELS.md): held
                // against the production threshold its alert watches.
                Level {
                    target: "p95 < 200 ms (production threshold)",
                    judge: |o| (p95(o), Some(o.whole.p95_ms < 200.0)),
                },
            )
            .await?;
        let detail = format!("/api/events/detail?id={}", fixture.rush_event);
        let data = self
            .measure(
                scenario,
                every_page(
                    "/api/events/detail",
                    detail,
                    Login::People { first: 0 },
                    PAGE_CONCURRENCY,
                ),
                REFERENCE,
            )
            .await?;
        self.against_its_data(scenario, "GET /events/{id}", &page, &data, &ceiling, 0.0);

        // (g) "My events" of people who hold 50 registrations each, among
        // all the events the seed made.
        let scenario = "(g) my events, 64 logged in with 50 registrations each";
        let page = self
            .measure(
                scenario,
                every_page(
                    "/my-events",
                    "/my-events".into(),
                    Login::People {
                        first: SUSTAINED_FIRST,
                    },
                    PAGE_CONCURRENCY,
                ),
                Level {
                    target: "≥ 2,000 req/s",
                    judge: |o| {
                        (
                            format!("{:.0} req/s, p95 {:.1} ms", o.per_second(), o.whole.p95_ms),
                            Some(o.per_second() >= 2000.0),
                        )
                    },
                },
            )
            .await?;
        let data = self
            .measure(
                scenario,
                every_page(
                    "/api/me/events",
                    "/api/me/events".into(),
                    Login::People {
                        first: SUSTAINED_FIRST,
                    },
                    PAGE_CONCURRENCY,
                ),
                REFERENCE,
            )
            .await?;
        self.against_its_data(scenario, "GET /my-events", &page, &data, &ceiling, 2000.0);

        // (e) The dashboard of the event with 10,000 registrations.
        let scenario = "(e) dashboard of 10,000 registrations, 8 admins";
        let dashboard_level = || Level {
            target: "p95 < 50 ms",
            judge: |o| (p95(o), Some(o.whole.p95_ms < 50.0)),
        };
        let page = format!("/organize/{}", fixture.dashboard_event);
        self.measure(
            scenario,
            every_page(
                "/organize/{id}",
                page,
                Login::Accounts(seed::admin_email),
                DASHBOARD_CONCURRENCY,
            ),
            dashboard_level(),
        )
        .await?;
        let data = format!(
            "/api/organize/dashboard?event_id={}",
            fixture.dashboard_event
        );
        self.measure(
            scenario,
            every_page(
                "/api/organize/dashboard",
                data,
                Login::Accounts(seed::admin_email),
                DASHBOARD_CONCURRENCY,
            ),
            dashboard_level(),
        )
        .await?;

        // The reminder batch, through the core on the same database, before
        // the door checks people in (checked-in people get no reminder).
        let day_before = fixture
            .dashboard_day
            .pred_opt()
            .unwrap_or(fixture.dashboard_day);
        let started = Instant::now();
        let queued =
            tsudoi::mail::reminders::run_for(db, seed::TIME_ZONE, day_before, Utc::now()).await?;
        let took = started.elapsed();
        self.rows.push(Row {
            backend: self.backend,
            scenario: "reminder batch (core, same database, server running)".into(),
            what: "`reminders::run_for`".into(),
            timing: None,
            per_second: None,
            measured: format!(
                "{} queued in {:.0} ms",
                queued.unwrap_or(0),
                took.as_secs_f64() * 1000.0
            ),
            target: "10,000 in < 1 s".into(),
            verdict: Verdict::of_target(
                queued.unwrap_or(0) >= 10_000 && took < Duration::from_secs(1),
            ),
            metrics: None,
            usage: None,
        });

        // (f) Check-in: every scan a different valid ticket.
        let scenario = "(f) door: 8 phones scan 2,000 tickets";
        let scans_each = fixture.door_tokens.len() / DOORS;
        let door = self
            .measure(
                scenario,
                Plan {
                    people: DOORS,
                    starts_per_second: LOGINS_PER_SECOND,
                    login: Login::Accounts(seed::staff_email),
                    request: Request::Scan {
                        event_id: fixture.dashboard_event,
                        tokens: Arc::new(fixture.door_tokens.clone()),
                    },
                    stop: Stop::Iterations(scans_each),
                },
                // As the event page: the production threshold.
                Level {
                    target: "p95 < 500 ms (production threshold)",
                    judge: |o| (p95(o), Some(o.whole.p95_ms < 500.0)),
                },
            )
            .await?;
        let checked_in = door
            .answers
            .iter()
            .filter(|answer| answer.contains("\"checked_in\""))
            .count();
        self.check(
            scenario,
            "answers",
            format!("{checked_in} checked_in"),
            &format!("{} checked_in", DOORS * scans_each),
            checked_in == DOORS * scans_each,
        );

        Ok(())
    }

    /// Runs a plan between two scrapes of `/metrics` and adds its row.
    async fn measure(&mut self, scenario: &str, plan: Plan, level: Level) -> Result<Outcome> {
        self.measure_showing_logins(scenario, plan, level, false)
            .await
    }

    /// [`Self::measure`], with a row of its own for the logins before the
    /// measured part; without it the logins only get a row when the server
    /// counted a different number of them.
    async fn measure_showing_logins(
        &mut self,
        scenario: &str,
        plan: Plan,
        level: Level,
        show_logins: bool,
    ) -> Result<Outcome> {
        let method = plan.request.method();
        let route = plan.request.route();
        let people = plan.people;
        eprintln!(
            "tsudoi-load: {}: {scenario}: {method} {route}…",
            self.backend
        );
        let before = metrics::scrape(&self.client, &self.server.metrics_url).await?;
        let outcome = scenarios::run(&self.server.base_url, self.server.probe(), plan).await?;
        let after = metrics::scrape(&self.client, &self.server.metrics_url).await?;
        let agreement = |route, client: &Timing| {
            let server = metrics::delta(
                &before,
                &after,
                route,
                if route == LOGIN_ROUTE { "POST" } else { method },
            );
            Agreement {
                server_requests: server.requests,
                client_requests: client.requests as u64,
                server_p95_bucket_ms: server.p95_bucket_ms(),
                client_p95_ms: client.p95_ms,
                in_flight: people,
            }
        };
        let (measured, met) = (level.judge)(&outcome);
        self.rows.push(Row {
            backend: self.backend,
            scenario: scenario.into(),
            what: format!("{method} {route}"),
            timing: Some(outcome.whole),
            per_second: Some(outcome.per_second()),
            measured,
            target: level.target.into(),
            verdict: met.map_or(Verdict::Reference, Verdict::of_target),
            metrics: Some(agreement(route, &outcome.whole)),
            usage: Some(outcome.usage),
        });
        if outcome.logins.requests > 0 {
            let logins = agreement(LOGIN_ROUTE, &outcome.logins);
            if show_logins {
                self.rows.push(Row {
                    backend: self.backend,
                    scenario: scenario.into(),
                    what: format!(
                        "POST {LOGIN_ROUTE} (before, {LOGINS_PER_SECOND} started a second)"
                    ),
                    timing: Some(outcome.logins),
                    per_second: None,
                    measured: p95_of(&outcome.logins),
                    target: "—".into(),
                    verdict: Verdict::Reference,
                    metrics: Some(logins),
                    usage: None,
                });
            } else if !logins.counts_match() {
                self.check(
                    scenario,
                    "logins counted by the server",
                    logins.server_requests.to_string(),
                    &logins.client_requests.to_string(),
                    false,
                );
            }
        }
        Ok(outcome)
    }

    /// A page held against its own data as JSON (at least half its rate)
    /// and, when given, a floor in requests a second; with its share of the
    /// HTTP stack's ceiling for reading.
    fn against_its_data(
        &mut self,
        scenario: &str,
        page_name: &str,
        page: &Outcome,
        data: &Outcome,
        ceiling: &Outcome,
        floor_per_second: f64,
    ) {
        let share = page.per_second() / data.per_second().max(1e-9);
        let of_ceiling = page.per_second() / ceiling.per_second().max(1e-9);
        let met = share >= 0.5 && page.per_second() >= floor_per_second;
        let target = if floor_per_second > 0.0 {
            format!("≥ 50 % of its JSON and ≥ {floor_per_second:.0} req/s")
        } else {
            "≥ 50 % of its JSON".to_string()
        };
        self.rows.push(Row {
            backend: self.backend,
            scenario: scenario.into(),
            what: format!("{page_name} against its data"),
            timing: None,
            per_second: None,
            measured: format!(
                "{:.0} % of its JSON ({:.0} vs {:.0} req/s), {:.0} % of /healthz",
                share * 100.0,
                page.per_second(),
                data.per_second(),
                of_ceiling * 100.0
            ),
            target,
            verdict: Verdict::of_target(met),
            metrics: None,
            usage: None,
        });
    }

    fn check(&mut self, scenario: &str, what: &str, found: String, expected: &str, held: bool) {
        self.rows.push(Row {
            backend: self.backend,
            scenario: scenario.into(),
            what: what.into(),
            timing: None,
            per_second: None,
            measured: found,
            target: expected.into(),
            verdict: Verdict::of_check(held),
            metrics: None,
            usage: None,
        });
    }
}

/// After the rush: exactly the seats, a gapless waitlist, nobody twice —
/// in the database and in what the 500 were answered.
async fn check_rush(db: &Database, event_id: i64, answers: &[String]) -> Result<(String, bool)> {
    let (seated, waitlisted, people, seats_taken, distinct_places): (i64, i64, i64, i64, i64) = on_pool!(
        db,
        |pool| {
            sqlx::query_as(
        "SELECT
             (SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND status = 'registered'),
             (SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND status = 'waitlisted'),
             (SELECT COUNT(DISTINCT user_id) FROM registrations WHERE event_id = $1),
             (SELECT CAST(seats_taken AS BIGINT) FROM events WHERE id = $1),
             (SELECT COUNT(DISTINCT waitlist_seq) FROM registrations WHERE event_id = $1 AND status = 'waitlisted')"
    )
    .bind(event_id)
    .fetch_one(pool)
    .await?
        }
    );
    let seats_answered = answers.iter().filter(|a| a.trim() == "\"Seat\"").count();
    let mut positions: Vec<i64> = answers
        .iter()
        .filter_map(|a| {
            let rest = a.split("\"position\":").nth(1)?;
            rest.trim_end_matches(['}', ' ']).trim().parse().ok()
        })
        .collect();
    positions.sort_unstable();
    let gapless = positions
        .iter()
        .enumerate()
        .all(|(i, &p)| p == i as i64 + 1);
    let found = format!(
        "db: {seated} seated (seats_taken {seats_taken}), {waitlisted} waitlisted, {people} people; \
         answers: {seats_answered} seats, {} waitlist places{}",
        positions.len(),
        if gapless { " 1..n" } else { " WITH GAPS" },
    );
    let exact = seated == 200
        && seats_taken == 200
        && waitlisted == 300
        && distinct_places == 300
        && people == 500
        && seats_answered == 200
        && positions.len() == 300
        && gapless;
    Ok((found, exact))
}

async fn count_registrations(db: &Database, events: &[i64]) -> Result<i64> {
    ensure!(!events.is_empty(), "no events");
    let mut total = 0;
    for &event in events {
        let live: i64 = on_pool!(db, |pool| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND status IN ('registered', 'waitlisted')"
        )
        .bind(event)
        .fetch_one(pool)
        .await?
        });
        total += live;
    }
    Ok(total)
}
