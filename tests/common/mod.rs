//! Builders shared by the integration tests.

#![allow(dead_code)] // each test file uses part of this module

pub mod survey_seed;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use tsudoi::events::{self, EventDraft, NewEvent};
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::storage::{Database, Pool};
use tsudoi::users::{self, NewUser};

pub fn event(title: &str, starts_at: DateTime<Utc>, status: EventStatus) -> NewEvent {
    NewEvent {
        title_ja: None,
        title_en: Some(title.to_string()),
        description_ja: String::new(),
        description_en: String::new(),
        category: Category::Seminar,
        place: "Room A".into(),
        starts_at,
        ends_at: starts_at + Duration::hours(1),
        capacity: 10,
        status,
        organizer_id: None,
    }
}

/// An organizer's event form, filled in both languages.
pub fn draft(title: &str, starts_at: DateTime<Utc>, capacity: i32) -> EventDraft {
    EventDraft {
        title_ja: Some(format!("{title}（日本語）")),
        title_en: Some(title.into()),
        description_ja: "説明".into(),
        description_en: "About".into(),
        category: Category::Workshop,
        place: "Room 7F".into(),
        starts_at,
        ends_at: starts_at + Duration::hours(2),
        capacity,
        registration_opens_at: None,
        registration_closes_at: None,
    }
}

/// A published event next week with `capacity` seats.
pub async fn open_event(db: &Database, capacity: i32) -> i64 {
    let mut new = event(
        "Rush",
        Utc::now() + Duration::days(7),
        EventStatus::Published,
    );
    new.capacity = capacity;
    events::create(db, &new).await.unwrap()
}

/// `count` employees with distinct e-mails under `prefix`.
pub async fn employees(db: &Database, prefix: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let user = NewUser {
            email: format!("{prefix}{n}@example.com"),
            display_name: format!("{prefix} {n}"),
            department: None,
            role: Role::Employee,
            lang: Lang::Ja,
        };
        ids.push(users::upsert(db, &user, None).await.unwrap());
    }
    ids
}

/// An instant given as Tokyo wall-clock time.
pub fn tokyo(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(year, month, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A timestamp literal both backends read as `at`: the text sqlx writes to
/// SQLite, which PostgreSQL parses as the same instant.
pub fn sql_time(at: DateTime<Utc>) -> String {
    format!(
        "'{}'",
        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    )
}

/// One employee with a display name and a language.
pub async fn person(db: &Database, email: &str, display_name: &str, lang: Lang) -> i64 {
    let user = NewUser {
        email: email.to_string(),
        display_name: display_name.to_string(),
        department: None,
        role: Role::Employee,
        lang,
    };
    users::upsert(db, &user, None).await.unwrap()
}

/// A single integer from `sql`, on either backend.
pub async fn scalar(db: &Database, sql: &str) -> i64 {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// Rows of (i64, String) from `sql`, on either backend.
pub async fn pairs(db: &Database, sql: &str) -> Vec<(i64, String)> {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

pub async fn execute(db: &Database, sql: &str) -> Result<u64, sqlx::Error> {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Pool::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

/// A password hash made with Argon2id's lowest cost. Verification takes the
/// cost from the stored hash, so tests about what happens around the password
/// check (limits, audit, administration) do not wait for the real one, which
/// takes about half a second per hash in a debug build.
pub fn cheap_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(8, 1, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
}

/// Every scan node of a PostgreSQL JSON plan (`EXPLAIN (ANALYZE, FORMAT
/// JSON)`): node type, relation, rows it returned over all loops.
pub fn plan_scans(node: &serde_json::Value, out: &mut Vec<(String, String, f64)>) {
    if let Some(relation) = node["Relation Name"].as_str() {
        let rows = node["Actual Rows"].as_f64().unwrap_or(0.0)
            * node["Actual Loops"].as_f64().unwrap_or(1.0);
        out.push((
            node["Node Type"].as_str().unwrap_or_default().to_string(),
            relation.to_string(),
            rows,
        ));
    }
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            plan_scans(child, out);
        }
    }
}

/// An account named by its e-mail, in `department` (created on first use).
pub async fn member(db: &Database, email: &str, department: Option<&str>, role: Role) -> i64 {
    users::upsert(
        db,
        &NewUser {
            email: email.into(),
            display_name: email.into(),
            department: department.map(str::to_string),
            role,
            lang: Lang::Ja,
        },
        None,
    )
    .await
    .unwrap()
}
