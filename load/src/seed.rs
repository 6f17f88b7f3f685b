//! The data the scenarios need, written into the run's database before the
//! server starts: the demo company (so the list page shows what a real one
//! shows), 10,000 more employees, the events each scenario uses, the
//! dashboard event's 10,000 registrations and the tickets the door scans.
//!
//! Events, registrations, tickets and the password go through the core's
//! own functions; only the 10,000 employees are inserted in bulk, because
//! one `users::upsert` each would spend most of the time budget on commits.

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use chrono_tz::Tz;
use futures_util::future::try_join_all;
use tsudoi::events::{self, NewEvent};
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::registrations::Registrar;
use tsudoi::storage::{Database, Pool};
use tsudoi::users::{self, NewUser};

/// The company's zone; the server runs with its default, which is this one.
pub const TIME_ZONE: Tz = Tokyo;
/// Every account's password (one Argon2 hash, set with one UPDATE).
pub const PASSWORD: &str = "slo-benchmark-2026";

pub const PEOPLE: usize = 10_000;
pub const RUSH_SEATS: i32 = 200;
pub const SUSTAINED_EVENTS: usize = 50;
pub const SUSTAINED_SEATS: i32 = 100;
pub const DOOR_TICKETS: usize = 2_000;
const DEPARTMENTS: usize = 20;
/// Administrators (they manage every event: the dashboard) and door staff
/// (they check in at any event), this many of each.
pub const ADMINS_AND_STAFF: usize = 8;

/// Runs a statement body on whichever pool the database has.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            tsudoi::storage::Pool::Sqlite($pool) => $body,
            tsudoi::storage::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// What the scenarios find in the database.
pub struct Fixture {
    pub rush_event: i64,
    pub sustained_events: Vec<i64>,
    pub dashboard_event: i64,
    /// The company-local day the dashboard event takes place: the reminder
    /// batch run the day before queues a reminder for each of its seats.
    pub dashboard_day: NaiveDate,
    /// Signed ticket tokens (the QR codes' content) of the dashboard event.
    pub door_tokens: Vec<String>,
}

/// The e-mail of person `n` of the [`PEOPLE`] made here.
pub fn person_email(n: usize) -> String {
    format!("slo.person{n}@example.co.jp")
}

pub fn admin_email(n: usize) -> String {
    format!("slo.admin{n}@example.co.jp")
}

pub fn staff_email(n: usize) -> String {
    format!("slo.staff{n}@example.co.jp")
}

pub async fn seed(db: &Database) -> Result<Fixture> {
    let now = Utc::now();
    let started = Instant::now();
    let demo = tsudoi::demo::seed(db, TIME_ZONE, now, 2026).await?;
    let people = insert_people(db, now).await?;
    for n in 0..ADMINS_AND_STAFF {
        account(db, &admin_email(n), &format!("負荷 管理者{n}"), Role::Admin).await?;
        account(db, &staff_email(n), &format!("負荷 受付{n}"), Role::Staff).await?;
    }
    give_everyone_the_password(db).await?;

    let day = |offset: i64| (now.with_timezone(&TIME_ZONE) + Duration::days(offset)).date_naive();
    let rush_event = create_event(db, "【先着】年末特別講演会", day(40), 10, RUSH_SEATS).await?;
    let mut sustained_events = Vec::with_capacity(SUSTAINED_EVENTS);
    for n in 0..SUSTAINED_EVENTS {
        let title = format!("新人研修 第{}回", n + 1);
        sustained_events.push(create_event(db, &title, day(41), 9, SUSTAINED_SEATS).await?);
    }
    let dashboard_day = day(45);
    let dashboard_event = create_event(
        db,
        "全社総会 2027",
        dashboard_day,
        13,
        i32::try_from(PEOPLE)?,
    )
    .await?;
    register_everyone(db, dashboard_event, &people).await?;
    let door_tokens = issue_tickets(db, dashboard_event, DOOR_TICKETS).await?;
    let mails = mark_seed_mail_sent(db, now).await?;
    if let Pool::Postgres(pool) = db.pool() {
        // Fresh statistics, as autovacuum would have them on a live system.
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    eprintln!(
        "tsudoi-load: seeded in {:.1}s: demo company ({} people, {} events, {} registrations), \
         {PEOPLE} more people registered for one event, {} more events, {} tickets; \
         {mails} seed mails marked sent",
        started.elapsed().as_secs_f64(),
        demo.users,
        demo.events,
        demo.registrations,
        SUSTAINED_EVENTS + 2,
        door_tokens.len(),
    );
    Ok(Fixture {
        rush_event,
        sustained_events,
        dashboard_event,
        dashboard_day,
        door_tokens,
    })
}

/// [`PEOPLE`] employees over [`DEPARTMENTS`] departments (made through the
/// core), in one transaction of multi-row INSERTs. Returns their ids in
/// the order of [`person_email`].
async fn insert_people(db: &Database, now: DateTime<Utc>) -> Result<Vec<i64>> {
    let mut departments = Vec::with_capacity(DEPARTMENTS);
    for n in 0..DEPARTMENTS {
        departments.push(users::department_id(db, &format!("第{}事業部", n + 1)).await?);
    }
    // 500 rows of 7 values stay under SQLite's limit of bound parameters.
    const ROWS_PER_STATEMENT: usize = 500;
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for chunk in (0..PEOPLE).collect::<Vec<_>>().chunks(ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO users (email, display_name, department_id, role, lang, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, &n| {
                row.push_bind(person_email(n))
                    .push_bind(format!("負荷 {n:05}"))
                    .push_bind(departments[n % DEPARTMENTS])
                    .push_bind(Role::Employee.code())
                    .push_bind(Lang::Ja.code())
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    let mut ids = Vec::with_capacity(PEOPLE);
    for n in 0..PEOPLE {
        // Looked up by address rather than assumed consecutive.
        let (id, _) = users::find_by_email(db, &person_email(n))
            .await?
            .with_context(|| format!("{} was not inserted", person_email(n)))?;
        ids.push(id);
    }
    Ok(ids)
}

async fn account(db: &Database, email: &str, name: &str, role: Role) -> Result<()> {
    let user = NewUser {
        email: email.into(),
        display_name: name.into(),
        department: Some("総務部".into()),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &user, None).await?;
    Ok(())
}

/// One Argon2 hash for every account, demo accounts included (their login
/// hint is kept true).
async fn give_everyone_the_password(db: &Database) -> Result<()> {
    let hash = users::password::hash(PASSWORD.to_string()).await?;
    on_pool!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $1")
            .bind(&hash)
            .execute(pool)
            .await?;
        sqlx::query("UPDATE demo_accounts SET password = $1")
            .bind(PASSWORD)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A published event at `hour`:00 company time on `day`, open for
/// registration now, managed by the admins.
async fn create_event(
    db: &Database,
    title: &str,
    day: NaiveDate,
    hour: u32,
    capacity: i32,
) -> Result<i64> {
    let local = day.and_hms_opt(hour, 0, 0).context("valid hour")?;
    let starts_at = TIME_ZONE
        .from_local_datetime(&local)
        .earliest()
        .context("a time the zone has")?
        .with_timezone(&Utc);
    let event = NewEvent {
        title_ja: Some(title.into()),
        title_en: None,
        description_ja: format!("{title}。負荷試験 (cargo xtask slo) のイベントです。"),
        description_en: String::new(),
        category: Category::Seminar,
        place: "本社 大会議室".into(),
        starts_at,
        ends_at: starts_at + Duration::hours(2),
        capacity,
        status: EventStatus::Published,
        organizer_id: None,
    };
    Ok(events::create(db, &event).await?)
}

/// Everyone in `people` takes a seat, through the core's grouped registrar
/// as the web app does it.
async fn register_everyone(db: &Database, event_id: i64, people: &[i64]) -> Result<()> {
    let registrar = Registrar::new(db.clone());
    for chunk in people.chunks(1000) {
        try_join_all(
            chunk
                .iter()
                .map(|&person| registrar.register(event_id, person, Utc::now())),
        )
        .await?;
    }
    let seats: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(seats_taken AS BIGINT) FROM events WHERE id = $1"
    )
    .bind(event_id)
    .fetch_one(pool)
    .await?);
    ensure!(
        seats == people.len() as i64,
        "{seats} seats taken of {}",
        people.len()
    );
    Ok(())
}

/// The tickets of the event's first `count` registrations, issued as their
/// owners' ticket pages issue them (a short code is assigned on the way).
async fn issue_tickets(db: &Database, event_id: i64, count: usize) -> Result<Vec<String>> {
    let holders: Vec<(i64, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, user_id FROM registrations WHERE event_id = $1 ORDER BY id LIMIT $2"
    )
    .bind(event_id)
    .bind(count as i64)
    .fetch_all(pool)
    .await?);
    let mut tokens = Vec::with_capacity(count);
    for chunk in holders.chunks(100) {
        let tickets = try_join_all(
            chunk
                .iter()
                .map(|&(registration, owner)| tsudoi::tickets::issue(db, registration, owner)),
        )
        .await?;
        tokens.extend(tickets.into_iter().map(|ticket| ticket.token));
    }
    Ok(tokens)
}

/// The seed's confirmation mails (10,000 for the dashboard event alone)
/// would keep the server's mail worker composing for the whole run; they
/// are marked sent. Mails the scenarios cause are delivered as usual.
async fn mark_seed_mail_sent(db: &Database, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_pool!(db, |pool| sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $1 WHERE status = 'queued'"
    )
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected()))
}
