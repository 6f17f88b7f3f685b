//! `tsudoi-load --history`: does ten years of history slow down what people
//! do today? One company of 10,000 employees with its current events (one
//! registration a person, the probe event's 300 attendees, the probe
//! employee's 10 seats), measured twice in one run: with 10,000
//! registrations of past events, and with 1,200,000 — ten years of 120
//! events of 1,000 people, four in five checked in, each with its sent
//! reminder in the mail outbox and its check-in in the audit log.
//!
//! Over HTTP against the release binary, as `growth.rs` measures: the
//! public list, an event, My events, the dashboard and the door's list
//! (median and p95 of sequential requests, rows read on PostgreSQL), and
//! two core calls timed directly in this process: a registration (the
//! engine's own function, 20 new people) and a day's reminder batch (10
//! days, each queueing the next day's reminders).

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use chrono::Utc;
use chrono_tz::Asia::Tokyo;
use tsudoi::storage::{Database, DatabaseUrl, Pool, PoolSettings};

use crate::backend::{Backend, FreshDatabase};
use crate::growth::{As, Measurement, Probe, summary};
use crate::seed::on_pool;
use crate::server::Binary;

/// Registrations of past events: the small database, and ten years.
pub const HISTORY: [usize; 2] = [10_000, 1_200_000];
const PEOPLE: usize = 10_000;
const PER_EVENT: usize = 1_000;
const CORE_CALLS: usize = 20;
const REMINDER_DAYS: usize = 10;

fn endpoints(probe: &Probe) -> Vec<(As, String)> {
    let id = probe.event;
    vec![
        (As::Visitor, "/healthz".into()),
        (As::Visitor, "/".into()),
        (As::Visitor, "/api/events/list".into()),
        (As::Employee, format!("/events/{id}")),
        (As::Employee, "/my-events".into()),
        (As::Employee, "/api/me/events".into()),
        (As::Admin, "/organize".into()),
        (As::Admin, format!("/organize/{id}")),
        (As::Admin, format!("/api/organize/dashboard?event_id={id}")),
        (As::Admin, "/admin/overview".into()),
        (As::Staff, format!("/events/{id}/door")),
        (As::Staff, format!("/api/door/list?event_id={id}")),
    ]
}

pub async fn run(binary: &Binary, backend: &Backend) -> Result<Vec<Measurement>> {
    let mut measurements = Vec::new();
    for history in HISTORY {
        let started = Instant::now();
        let database = FreshDatabase::create(backend, &binary.workdir).await?;
        let result = run_at(binary, backend, &database, history).await;
        database.remove().await?;
        eprintln!(
            "tsudoi-load: history, {} with {history} past registrations, done in {:.0}s",
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
    history: usize,
) -> Result<Vec<Measurement>> {
    binary.migrate(database).await?;
    let settings = PoolSettings {
        statement_timeout: Duration::from_secs(1_200),
        ..PoolSettings::default()
    };
    let db = Database::open(
        &DatabaseUrl::parse(&database.url).map_err(anyhow::Error::msg)?,
        &settings,
    )
    .await?;
    let probe = crate::growth::seed(&db, PEOPLE, 1).await?;
    add_history(&db, history).await?;
    // The history is measured as kept: the daily retention run, which
    // would archive and remove most of it at start, is held off.
    let server = binary
        .serve_with(
            database,
            &[
                ("TSUDOI_RETENTION_MONTHS", "1200"),
                ("TSUDOI_MAIL_KEEP_DAYS", "36500"),
                ("TSUDOI_AUDIT_KEEP_MONTHS", "1200"),
            ],
        )
        .await?;
    let counters = match db.pool() {
        Pool::Postgres(pool) => Some(pool.clone()),
        Pool::Sqlite(_) => None,
    };
    let measured = crate::growth::measure(
        &server.base_url,
        endpoints(&probe),
        counters.as_ref(),
        backend,
        history,
    )
    .await;
    server.stop().await?;
    let mut measurements = measured?;
    measurements.push(registrations(&db, backend, history, &probe).await?);
    measurements.push(reminder_batches(&db, backend, history).await?);
    db.close().await;
    Ok(measurements)
}

/// `history` registrations over past events spread across ten years, with
/// their check-ins, reminders and audit entries. The probe accounts have
/// none: what their pages show is the same with any history.
async fn add_history(db: &Database, history: usize) -> Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    let events = history / PER_EVENT;
    // Ten years back, evenly, the newest ending a month ago.
    let span_days = 3650 - 31;
    // PostgreSQL types the literal in a SELECT list as text.
    let empty_json = match db.pool() {
        Pool::Postgres(_) => "CAST('{}' AS JSONB)",
        Pool::Sqlite(_) => "'{}'",
    };
    let outbox = format!(
        "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, lang, payload, dedupe_key,
                                  status, attempts, next_attempt_at, created_at, sent_at)
         SELECT 'reminder', r.user_id, 'history@example.co.jp', 'ja', {empty_json}, 'history:' || r.id,
                'sent', 1, r.registered_at, r.registered_at, r.registered_at
           FROM registrations r JOIN events e ON e.id = r.event_id
          WHERE e.title_en LIKE 'Past training %'"
    );
    let audit = format!(
        "INSERT INTO audit_log (actor_user_id, action, target, detail, at)
         SELECT NULL, 'checked_in', 'event ' || r.event_id, {empty_json}, r.checked_in_at
           FROM registrations r JOIN events e ON e.id = r.event_id
          WHERE e.title_en LIKE 'Past training %' AND r.checked_in_at IS NOT NULL"
    );
    on_pool!(db, |pool| {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO events (title_ja, title_en, description_ja, description_en, category, place,
                                 starts_at, ends_at, capacity, seats_taken, status, created_at, updated_at) ",
        );
        insert.push_values(0..events, |mut row, n| {
            let starts = now
                - chrono::Duration::days(31 + (span_days * n / events.max(1)) as i64)
                - chrono::Duration::hours(3);
            row.push_bind(format!("過去の研修 第{n}回"))
                .push_bind(format!("Past training {n}"))
                .push_bind("")
                .push_bind("")
                .push_bind("training")
                .push_bind(format!("会議室 {}", n % 40))
                .push_bind(starts)
                .push_bind(starts + chrono::Duration::hours(2))
                .push_bind(PER_EVENT as i32)
                .push_bind(PER_EVENT as i32)
                .push_bind("published")
                .push_bind(starts - chrono::Duration::days(30))
                .push_bind(starts);
        });
        insert.build().execute(pool).await?;
        // 1,000 of the 10,000 employees at each: those whose number matches
        // the event's last digit; four in five came.
        sqlx::query(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at, department_id)
             SELECT e.id, u.id,
                    CASE WHEN (u.id / 10) % 5 = 0 THEN 'registered' ELSE 'checked_in' END,
                    e.created_at, e.starts_at,
                    CASE WHEN (u.id / 10) % 5 = 0 THEN NULL ELSE e.starts_at END,
                    u.department_id
               FROM events e JOIN users u ON u.id % 10 = e.id % 10
              WHERE e.ends_at < $1 AND e.title_en LIKE 'Past training %'
                AND u.email LIKE 'growth.person%'",
        )
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query(&outbox).execute(pool).await?;
        sqlx::query(&audit).execute(pool).await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    });
    let past: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM registrations r JOIN events e ON e.id = r.event_id
          WHERE e.title_en LIKE 'Past training %'"
    )
    .fetch_one(pool)
    .await?);
    // The people split evenly by last digit (one in ten of 10,000).
    ensure!(
        (past - history as i64).abs() <= (events as i64) * 2,
        "{past} past registrations, expected about {history}"
    );
    eprintln!(
        "tsudoi-load: history: {events} past events, {past} registrations with reminders and check-in entries in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// 20 employees without a seat register for the probe event, one after
/// the other, through the engine's own function.
async fn registrations(
    db: &Database,
    backend: &Backend,
    history: usize,
    probe: &Probe,
) -> Result<Measurement> {
    let newcomers: Vec<i64> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM users WHERE email LIKE 'growth.person%'
            AND id NOT IN (SELECT user_id FROM registrations WHERE event_id = $1)
          ORDER BY id DESC LIMIT $2"
    )
    .bind(probe.event)
    .bind(CORE_CALLS as i64)
    .fetch_all(pool)
    .await?);
    ensure!(
        newcomers.len() == CORE_CALLS,
        "not enough people without a seat"
    );
    let mut times = Vec::with_capacity(CORE_CALLS);
    for person in newcomers {
        let started = Instant::now();
        tsudoi::registrations::register(db, probe.event, person, Utc::now()).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(summary(backend, history, "register (core call)", times))
}

/// The reminder batch of ten coming days, each run once.
async fn reminder_batches(db: &Database, backend: &Backend, history: usize) -> Result<Measurement> {
    let today = Utc::now().with_timezone(&Tokyo).date_naive();
    let mut times = Vec::with_capacity(REMINDER_DAYS);
    for day in today.iter_days().take(REMINDER_DAYS) {
        let started = Instant::now();
        let queued = tsudoi::mail::reminders::run_for(db, Tokyo, day, Utc::now()).await?;
        ensure!(queued.is_some(), "the reminder batch for {day} did not run");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(summary(
        backend,
        history,
        "reminder batch (core call)",
        times,
    ))
}

/// Per backend and path, the small and the large history side by side and
/// their ratio.
pub fn table(measurements: &[Measurement]) -> String {
    let [small, large] = HISTORY;
    let mut out = format!(
        "| backend | path | {small} past: median / p95 ms | {large} past: median / p95 ms | median ratio | rows read ratio |\n|---|---|---:|---:|---:|---:|\n"
    );
    for big in measurements.iter().filter(|m| m.people == large) {
        let Some(little) = measurements
            .iter()
            .find(|m| m.people == small && m.backend == big.backend && m.endpoint == big.endpoint)
        else {
            continue;
        };
        let rows = match (little.rows_per_request, big.rows_per_request) {
            (Some(a), Some(b)) => format!("{:.2}×", b / a.max(1.0)),
            _ => "–".into(),
        };
        out.push_str(&format!(
            "| {} | `{}` | {:.1} / {:.1} | {:.1} / {:.1} | {:.2}× | {rows} |\n",
            big.backend,
            big.endpoint,
            little.median_ms,
            little.p95_ms,
            big.median_ms,
            big.p95_ms,
            big.median_ms / little.median_ms.max(0.001),
        ));
    }
    out
}
