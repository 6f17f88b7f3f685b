//! `tsudoi-load --growth`: does a request cost what it shows, or what the
//! company holds? The same probe person, event and searches at three company
//! sizes — 300, 10,000 and 50,000 employees, a fifth as many events, twenty
//! registrations a person (up to a million) — measured over HTTP against the
//! release binary: per endpoint the median and 95th percentile of sequential
//! requests, and on PostgreSQL the rows the request read (the server's own
//! table counters, `pg_stat_user_tables`, before and after).
//!
//! What stays fixed at every size: the probe employee's 10 registrations,
//! the probe event's 300 attendees, the search words (matching a fixed
//! number of events and one person). What grows: everything else.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tsudoi::model::{Category, Lang, Role};
use tsudoi::storage::{Database, DatabaseUrl, Pool, PoolSettings};

use crate::backend::{Backend, FreshDatabase};
use crate::seed::on_pool;
use crate::server::Binary;

/// Employees at each size; events are a fifth of them.
pub const SIZES: [usize; 3] = [300, 10_000, 50_000];
const REGISTRATIONS_PER_PERSON: i64 = 20;
const PROBE_ATTENDEES: usize = 300;
const PROBE_EMPLOYEE_SEATS: usize = 10;
/// One event at every size is a "Kubernetes 研修会": the search finds
/// exactly it among the company's events.
const SEARCH_WORD: &str = "研修会";
const PASSWORD: &str = "growth-benchmark-2026";
const WARM_UP: usize = 10;
/// Sequential requests per endpoint and size: at about a millisecond each,
/// 100 keep a median steady to a tenth of a millisecond on two cores, where
/// 20 moved by a third between runs.
const MEASURED: usize = 100;
/// Requests per endpoint whose rows are counted: enough that what the
/// server's own workers read meanwhile (about a thousand rows in the ten
/// seconds of waiting) is a few rows a request.
const COUNTED: usize = 100;
/// PostgreSQL writes a backend's table counters at most every second while
/// busy and within ten seconds of going idle: wait that long before reading.
const COUNTERS_SETTLE: Duration = Duration::from_millis(10_500);

const EMPLOYEE: &str = "growth.employee@example.co.jp";
const ADMIN: &str = "growth.admin@example.co.jp";
const STAFF: &str = "growth.staff@example.co.jp";

/// One endpoint at one size.
pub struct Measurement {
    pub backend: &'static str,
    /// The size measured: employees here, past registrations in `history.rs`.
    pub people: usize,
    pub endpoint: String,
    pub median_ms: f64,
    pub p95_ms: f64,
    /// PostgreSQL only.
    pub rows_per_request: Option<f64>,
}

pub(crate) struct Probe {
    pub event: i64,
}

#[derive(Clone, Copy)]
pub(crate) enum As {
    Visitor,
    Employee,
    Admin,
    Staff,
}

fn endpoints(probe: &Probe) -> Vec<(As, String)> {
    let id = probe.event;
    let word = SEARCH_WORD;
    vec![
        (As::Visitor, "/healthz".into()),
        (As::Visitor, "/".into()),
        (As::Visitor, "/api/events/list".into()),
        (As::Visitor, format!("/?q={word}")),
        (As::Visitor, format!("/api/events/list?q={word}")),
        (As::Employee, format!("/events/{id}")),
        (As::Employee, "/my-events".into()),
        (As::Employee, "/api/me/events".into()),
        (As::Admin, format!("/organize/{id}")),
        (As::Admin, format!("/api/organize/dashboard?event_id={id}")),
        (As::Admin, format!("/organize/{id}/attendees")),
        (
            As::Admin,
            format!("/api/organize/attendees?event_id={id}&q=42"),
        ),
        (
            As::Admin,
            format!("/api/organize/attendees.csv?event_id={id}"),
        ),
        (As::Admin, "/admin/users?q=person42@".into()),
        (As::Admin, "/api/admin/users/list?q=person42@".into()),
        (As::Staff, format!("/events/{id}/door")),
        (As::Staff, format!("/api/door/search?event_id={id}&q=42")),
        (As::Staff, format!("/api/door/list?event_id={id}")),
    ]
}

pub async fn run(binary: &Binary, backend: &Backend) -> Result<Vec<Measurement>> {
    let mut measurements = Vec::new();
    for people in SIZES {
        let started = Instant::now();
        let database = FreshDatabase::create(backend, &binary.workdir).await?;
        let result = run_at(binary, backend, &database, people).await;
        database.remove().await?;
        eprintln!(
            "tsudoi-load: growth, {} at {people} people, done in {:.0}s",
            backend.name(),
            started.elapsed().as_secs_f64()
        );
        measurements.extend(result?);
    }
    Ok(measurements)
}

async fn run_at(
    binary: &Binary,
    backend: &Backend,
    database: &FreshDatabase,
    people: usize,
) -> Result<Vec<Measurement>> {
    binary.migrate(database).await?;
    // Seeding writes up to a million rows a statement: no statement limit.
    let settings = PoolSettings {
        statement_timeout: Duration::from_secs(600),
        ..PoolSettings::default()
    };
    let db = Database::open(
        &DatabaseUrl::parse(&database.url).map_err(anyhow::Error::msg)?,
        &settings,
    )
    .await?;
    let probe = seed(&db, people, REGISTRATIONS_PER_PERSON).await?;
    let server = binary.serve(database).await?;
    let counters = match db.pool() {
        Pool::Postgres(pool) => Some(pool.clone()),
        Pool::Sqlite(_) => None,
    };
    let result = measure(
        &server.base_url,
        endpoints(&probe),
        counters.as_ref(),
        backend,
        people,
    )
    .await;
    server.stop().await?;
    result
}

pub(crate) async fn measure(
    base_url: &str,
    endpoints: Vec<(As, String)>,
    counters: Option<&PgPool>,
    backend: &Backend,
    people: usize,
) -> Result<Vec<Measurement>> {
    let visitor = reqwest::Client::new();
    let employee = logged_in(base_url, EMPLOYEE).await?;
    let admin = logged_in(base_url, ADMIN).await?;
    let staff = logged_in(base_url, STAFF).await?;
    let endpoints: Vec<(&reqwest::Client, String, String)> = endpoints
        .into_iter()
        .map(|(who, path)| {
            let client = match who {
                As::Visitor => &visitor,
                As::Employee => &employee,
                As::Admin => &admin,
                As::Staff => &staff,
            };
            (client, format!("{base_url}{path}"), path)
        })
        .collect();
    for (client, url, _) in &endpoints {
        for _ in 0..WARM_UP {
            fetch(client, url).await?;
        }
    }
    // Rows: one endpoint after the other, the counters read between them
    // once the server's connections have reported.
    let mut rows = Vec::with_capacity(endpoints.len());
    if let Some(pool) = counters {
        tokio::time::sleep(COUNTERS_SETTLE).await;
        let mut before = rows_read(pool).await?;
        for (client, url, _) in &endpoints {
            for _ in 0..COUNTED {
                fetch(client, url).await?;
            }
            tokio::time::sleep(COUNTERS_SETTLE).await;
            let after = rows_read(pool).await?;
            rows.push(Some((after - before) as f64 / COUNTED as f64));
            before = after;
        }
    } else {
        rows.resize(endpoints.len(), None);
    }
    let mut measurements = Vec::new();
    for ((client, url, path), rows) in endpoints.iter().zip(rows) {
        measurements.push(timed(client, url, backend, people, path, rows).await?);
    }
    Ok(measurements)
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    backend: &Backend,
    people: usize,
    path: &str,
    rows_per_request: Option<f64>,
) -> Result<Measurement> {
    let mut times = Vec::with_capacity(MEASURED);
    for _ in 0..MEASURED {
        let started = Instant::now();
        fetch(client, url).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut measurement = summary(backend, people, path, times);
    measurement.rows_per_request = rows_per_request;
    Ok(measurement)
}

/// Median and 95th percentile of `times` (milliseconds) for one path at one size.
pub(crate) fn summary(
    backend: &Backend,
    size: usize,
    what: &str,
    mut times: Vec<f64>,
) -> Measurement {
    times.sort_by(f64::total_cmp);
    let at = |share: f64| times[((times.len() - 1) as f64 * share).round() as usize];
    Measurement {
        backend: backend.name(),
        people: size,
        endpoint: what.to_string(),
        median_ms: at(0.5),
        p95_ms: at(0.95),
        rows_per_request: None,
    }
}

/// The whole answer, read to its end; anything but 200 ends the run.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<()> {
    let answer = client.get(url).send().await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    if status != reqwest::StatusCode::OK {
        bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(())
}

async fn logged_in(base_url: &str, email: &str) -> Result<reqwest::Client> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let answer = client
        .post(format!("{base_url}/api/auth/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await?;
    ensure!(
        answer.status().is_success(),
        "login of {email}: {}",
        answer.status()
    );
    Ok(client)
}

/// Rows read from the tables requests use (not the mail outbox or the
/// scheduler's record, which the server's own workers poll).
async fn rows_read(pool: &PgPool) -> Result<i64> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)), 0) AS BIGINT)
           FROM pg_stat_user_tables
          WHERE relname NOT IN ('mail_outbox', 'scheduled_runs')",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The company of `people` employees with its events and
/// `registrations_per_person` registrations each, in bulk statements, and
/// the probe accounts and event.
pub(crate) async fn seed(
    db: &Database,
    people: usize,
    registrations_per_person: i64,
) -> Result<Probe> {
    let started = Instant::now();
    let now = Utc::now();
    let events = people / 5;
    let mut departments = Vec::new();
    for n in 0..20 {
        departments.push(tsudoi::users::department_id(db, &format!("第{}部", n + 1)).await?);
    }
    // 500 rows a statement stays under SQLite's limit of bound values.
    let numbers: Vec<usize> = (0..people).collect();
    for chunk in numbers.chunks(500) {
        on_pool!(db, |pool| {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO users (email, display_name, department_id, role, lang, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, &n| {
                row.push_bind(format!("growth.person{n}@example.co.jp"))
                    .push_bind(format!("社員 {n:05}"))
                    .push_bind(departments[n % departments.len()])
                    .push_bind(Role::Employee.code())
                    .push_bind(Lang::Ja.code())
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(pool).await?;
        });
    }
    for (email, role) in [
        (EMPLOYEE, Role::Employee),
        (ADMIN, Role::Admin),
        (STAFF, Role::Staff),
    ] {
        let user = tsudoi::users::NewUser {
            email: email.into(),
            display_name: format!("計測 {}", role.code()),
            department: Some("総務部".into()),
            role,
            lang: Lang::Ja,
        };
        tsudoi::users::upsert(db, &user, None).await?;
    }
    let hash = tsudoi::users::password::hash(PASSWORD.to_string()).await?;
    on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE email LIKE 'growth.%' AND email NOT LIKE 'growth.person%'"
    )
    .bind(&hash)
    .execute(pool)
    .await
    .map(drop)?
    });

    // Events from a month ago to eleven months ahead; one of them is the
    // "Kubernetes 研修会" the search finds, at every size.
    let probe = tsudoi::events::create(
        db,
        &tsudoi::events::NewEvent {
            title_ja: Some("全社説明会（計測用）".into()),
            title_en: Some("All-hands (probe)".into()),
            description_ja: "計測用のイベントです。".into(),
            description_en: String::new(),
            category: Category::Townhall,
            place: "本社 大会議室".into(),
            starts_at: now + chrono::Duration::days(20),
            ends_at: now + chrono::Duration::days(20) + chrono::Duration::hours(2),
            capacity: 3000,
            status: tsudoi::model::EventStatus::Published,
            organizer_id: None,
        },
    )
    .await?;
    let indexes: Vec<usize> = (0..events).collect();
    for chunk in indexes.chunks(500) {
        on_pool!(db, |pool| {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO events (title_ja, title_en, description_ja, description_en, category, place,
                                     starts_at, ends_at, capacity, status, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, &n| {
                let starts = event_start(now, n);
                let title = if n == 7 {
                    format!("Kubernetes {SEARCH_WORD} 第{n}回")
                } else {
                    format!("社内イベント 第{n}回")
                };
                row.push_bind(title)
                    .push_bind(format!("Event {n}"))
                    .push_bind(format!("説明 {n}: 会場と持ち物のご案内。"))
                    .push_bind(format!("About event {n}."))
                    .push_bind(Category::ALL[n % Category::ALL.len()].code())
                    .push_bind(format!("会議室 {}", n % 40))
                    .push_bind(starts)
                    .push_bind(starts + chrono::Duration::hours(2))
                    .push_bind(1000)
                    .push_bind("published")
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(pool).await?;
        });
    }
    // Twenty registrations a person (or as many as asked), spread over the events (13 is prime to
    // every event count here, so one person's twenty are distinct).
    let events_i64 = events as i64;
    for k in 0..registrations_per_person {
        on_pool!(db, |pool| {
            sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, department_id)
             SELECT f.first + ((u.id * 7 + $1 * 13) % $2), u.id, 'registered', $3, $3, u.department_id
               FROM users u, (SELECT MIN(id) AS first FROM events WHERE id > $4) f
              WHERE u.email LIKE 'growth.person%'"
        )
        .bind(k)
        .bind(events_i64)
        .bind(now)
        .bind(probe)
        .execute(pool)
        .await
        .map(drop)?
        });
    }
    // The probe event's 300 and the probe employee's 10 seats: the same at every size.
    on_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, department_id)
             SELECT $1, id, 'registered', $2, $2, department_id FROM users
              WHERE email LIKE 'growth.person%' ORDER BY id LIMIT $3",
        )
        .bind(probe)
        .bind(now)
        .bind(PROBE_ATTENDEES as i64)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, department_id)
             SELECT e.id, u.id, 'registered', $1, $1, u.department_id FROM events e, users u
              WHERE u.email = $2 AND e.id IN (SELECT id FROM events WHERE starts_at > $1 ORDER BY id LIMIT $3)",
        )
        .bind(now)
        .bind(EMPLOYEE)
        .bind(PROBE_EMPLOYEE_SEATS as i64)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE events SET seats_taken = (SELECT COUNT(*) FROM registrations r
                                               WHERE r.event_id = events.id AND r.status = 'registered')",
        )
        .execute(pool)
        .await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    });
    let registrations: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM registrations"
    )
    .fetch_one(pool)
    .await?);
    let expected = people as i64 * registrations_per_person
        + PROBE_ATTENDEES.min(people) as i64
        + PROBE_EMPLOYEE_SEATS as i64;
    ensure!(
        registrations == expected,
        "{registrations} registrations, expected {expected}"
    );
    eprintln!(
        "tsudoi-load: growth: {people} people, {events} events, {registrations} registrations in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(Probe { event: probe })
}

/// Event `n` starts between a month ago and eleven months ahead, at 9:00
/// to 17:00 UTC+9 by its number.
fn event_start(now: DateTime<Utc>, n: usize) -> DateTime<Utc> {
    let day = (n % 365) as i64 - 30;
    let hour = (n / 365 % 9) as i64;
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .context("midnight")
        .map(|t| t.and_utc())
        .unwrap_or(now);
    midnight + chrono::Duration::days(day) + chrono::Duration::hours(hour)
}

/// The measurements as a Markdown table, and for PostgreSQL each endpoint's
/// rows at the largest size against the smallest.
pub fn table(measurements: &[Measurement]) -> String {
    let mut out = String::from(
        "| backend | employees | endpoint | median ms | p95 ms | rows read / request |\n|---|---:|---|---:|---:|---:|\n",
    );
    for m in measurements {
        out.push_str(&format!(
            "| {} | {} | `{}` | {:.1} | {:.1} | {} |\n",
            m.backend,
            m.people,
            m.endpoint,
            m.median_ms,
            m.p95_ms,
            m.rows_per_request
                .map_or("–".to_string(), |rows| format!("{rows:.0}")),
        ));
    }
    let smallest = SIZES[0];
    let largest = SIZES[SIZES.len() - 1];
    let mut ratios = String::new();
    for large in measurements.iter().filter(|m| m.people == largest) {
        let Some(small) = measurements.iter().find(|m| {
            m.people == smallest && m.backend == large.backend && m.endpoint == large.endpoint
        }) else {
            continue;
        };
        let rows = match (small.rows_per_request, large.rows_per_request) {
            (Some(small), Some(large)) => format!("{:.2}×", large / small.max(1.0)),
            _ => "–".into(),
        };
        ratios.push_str(&format!(
            "| {} | `{}` | {:.2}× | {rows} |\n",
            large.backend,
            large.endpoint,
            large.median_ms / small.median_ms.max(0.001),
        ));
    }
    out.push_str(&format!(
        "\n{largest} against {smallest} employees:\n\n| backend | endpoint | median | rows read |\n|---|---|---:|---:|\n{ratios}"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_spread_from_a_month_ago_over_a_year() {
        let now = Utc::now();
        let first = event_start(now, 0);
        let last = event_start(now, 364);
        assert!(first < now - chrono::Duration::days(29));
        assert!(last > now + chrono::Duration::days(330));
    }
}
