//! The organizer's numbers (issue #8, review M-3): every figure comes from a
//! SQL aggregate, on both backends; on PostgreSQL, for an event of 10,000
//! registrations among 100,000, the statements reach registrations through
//! indexes only and read no more than that event's rows.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use common::{event, execute, tokyo};
use tsudoi::events::{self, DayCount, DepartmentCount};
use tsudoi::model::{EventStatus, Lang, Role};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::{Database, test_support};
use tsudoi::users::{self, NewUser};

async fn member(db: &Database, email: &str, department: Option<&str>) -> i64 {
    users::upsert(
        db,
        &NewUser {
            email: email.into(),
            display_name: email.into(),
            department: department.map(str::to_string),
            role: Role::Employee,
            lang: Lang::Ja,
        },
        None,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_numbers_count_every_state_by_day_and_by_department() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let mut new = event("Stats", tokyo(2026, 12, 10, 18, 0), EventStatus::Published);
        new.capacity = 3;
        let id = events::create(db, &new).await.unwrap();
        let sales = [
            member(db, "a@example.co.jp", Some("営業部")).await,
            member(db, "b@example.co.jp", Some("営業部")).await,
        ];
        let dev = member(db, "c@example.co.jp", Some("開発部")).await;
        let nobody = member(db, "d@example.co.jp", None).await;
        let late = member(db, "e@example.co.jp", Some("開発部")).await;
        // Two on 1 December (Tokyo), the rest on the 2nd; 23:30 Tokyo is still the 1st.
        let a = registrations::register(db, id, sales[0], tokyo(2026, 12, 1, 9, 0))
            .await
            .unwrap();
        registrations::register(db, id, sales[1], tokyo(2026, 12, 1, 23, 30))
            .await
            .unwrap();
        let c = registrations::register(db, id, dev, tokyo(2026, 12, 2, 0, 30))
            .await
            .unwrap();
        registrations::register(db, id, nobody, tokyo(2026, 12, 2, 10, 0))
            .await
            .unwrap();
        registrations::register(db, id, late, tokyo(2026, 12, 2, 11, 0))
            .await
            .unwrap();
        // C cancels (nobody moves up from the waitlist), A checks in.
        registrations::end(
            db,
            c.id,
            Ending::Cancelled { by_user: dev },
            tokyo(2026, 12, 3, 9, 0),
        )
        .await
        .unwrap();
        registrations::check_in(db, a.id, nobody, tokyo(2026, 12, 10, 17, 50))
            .await
            .unwrap();

        let before_end = events::event_stats(db, Tokyo, id, tokyo(2026, 12, 10, 18, 30))
            .await
            .unwrap();
        assert_eq!(
            (
                before_end.capacity,
                before_end.registered,
                before_end.checked_in,
                before_end.waitlisted,
                before_end.cancelled
            ),
            (3, 3, 1, 1, 1),
            "{backend:?}: A, B and the first in line hold seats; E waits; C cancelled"
        );
        assert_eq!(before_end.no_shows, None, "{backend:?}: not over yet");
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(
            before_end.by_day,
            [
                DayCount {
                    day: day(1),
                    registrations: 2
                },
                DayCount {
                    day: day(2),
                    registrations: 3
                },
            ],
            "{backend:?}"
        );
        assert_eq!(
            before_end.by_department,
            [
                DepartmentCount {
                    department: Some("営業部".into()),
                    registered: 2,
                    checked_in: 1
                },
                DepartmentCount {
                    department: None,
                    registered: 1,
                    checked_in: 0
                },
            ],
            "{backend:?}"
        );
        let after = events::event_stats(db, Tokyo, id, tokyo(2026, 12, 10, 20, 0))
            .await
            .unwrap();
        assert_eq!(after.no_shows, Some(2), "{backend:?}");
        assert!(matches!(
            events::event_stats(db, Tokyo, id + 1000, Utc::now()).await,
            Err(tsudoi::Error::NotFound)
        ));
    }
}

#[tokio::test]
async fn on_postgresql_the_numbers_of_a_big_event_use_indexes_and_read_only_its_rows() {
    let Some(server) = test_support::postgres_url() else {
        panic!("TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test");
    };
    let t = test_support::postgres(&server).await;
    let db = &t.db;
    let Database::Postgres(pool) = db else {
        unreachable!()
    };
    const PEOPLE: i64 = 10_000;
    const OTHER_EVENTS: usize = 90;
    execute(
        db,
        "INSERT INTO departments (name) SELECT '部署 ' || g FROM generate_series(1, 20) g",
    )
    .await
    .unwrap();
    execute(
        db,
        &format!(
            "INSERT INTO users (email, display_name, department_id, role, lang)
             SELECT 'u' || g || '@example.co.jp', '社員 ' || g,
                    (SELECT id FROM departments ORDER BY id OFFSET g % 20 LIMIT 1), 'employee', 'ja'
             FROM generate_series(1, {PEOPLE}) g"
        ),
    )
    .await
    .unwrap();
    let starts = Utc::now() - Duration::days(1);
    let mut big = event("Town hall", starts, EventStatus::Published);
    big.capacity = PEOPLE as i32;
    let id = events::create(db, &big).await.unwrap();
    for n in 0..OTHER_EVENTS {
        let mut other = event(
            &format!("Other {n}"),
            starts + Duration::days(n as i64),
            EventStatus::Published,
        );
        other.capacity = 1000;
        events::create(db, &other).await.unwrap();
    }
    execute(
        db,
        &format!(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at)
             SELECT {id}, u.id, CASE WHEN u.id % 4 = 0 THEN 'checked_in' ELSE 'registered' END,
                    now() - (u.id % 14) * interval '1 day', now(),
                    CASE WHEN u.id % 4 = 0 THEN now() END
             FROM users u"
        ),
    )
    .await
    .unwrap();
    execute(
        db,
        &format!(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
             SELECT e.id, u.id, 'registered', now(), now()
             FROM events e JOIN users u ON u.id <= 1000 WHERE e.id <> {id}"
        ),
    )
    .await
    .unwrap();
    execute(db, "ANALYZE").await.unwrap();

    let stats = events::event_stats(db, Tokyo, id, Utc::now())
        .await
        .unwrap();
    assert_eq!(stats.registered, PEOPLE);
    assert_eq!(stats.checked_in, PEOPLE / 4);
    assert_eq!(stats.no_shows, Some(PEOPLE - PEOPLE / 4));
    assert_eq!(
        stats.by_day.iter().map(|d| d.registrations).sum::<i64>(),
        PEOPLE
    );
    assert_eq!(stats.by_department.len(), 20);

    let mut conn = pool.acquire().await.unwrap();
    for (n, statement) in events::stats_statements(db.backend()).iter().enumerate() {
        let types = if statement.contains("$2") {
            "(bigint, float8)"
        } else {
            "(bigint)"
        };
        let args = if statement.contains("$2") {
            format!("({id}, 32400)")
        } else {
            format!("({id})")
        };
        sqlx::query(&format!("PREPARE stats_{n} {types} AS {statement}"))
            .execute(&mut *conn)
            .await
            .unwrap();
        let plan: serde_json::Value = sqlx::query_scalar(&format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE stats_{n} {args}"
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let mut scans = Vec::new();
        collect_scans(&plan[0]["Plan"], &mut scans);
        for (node, relation, rows) in &scans {
            if relation == "registrations" {
                assert_ne!(
                    node, "Seq Scan",
                    "statement {n} scans all registrations:\n{plan:#}"
                );
                assert!(
                    *rows <= PEOPLE as f64,
                    "statement {n} read {rows} registrations (the event has {PEOPLE}):\n{plan:#}"
                );
            }
        }
        if n > 0 {
            assert!(
                scans
                    .iter()
                    .any(|(_, relation, _)| relation == "registrations"),
                "statement {n} should read registrations: {plan:#}"
            );
        }
    }
}

/// Every scan node of a plan: node type, relation, rows it returned (all loops).
fn collect_scans(node: &serde_json::Value, out: &mut Vec<(String, String, f64)>) {
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
            collect_scans(child, out);
        }
    }
}
