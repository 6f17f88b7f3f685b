//! The statements whose cost could grow with the company, read at a large
//! company: 50,000 people, 10,000 upcoming events, one 3,000-person event.
//!
//! - Keyword search on events and the admin's people search reach their rows
//!   through the search index (a trigram index), not by reading every event
//!   or every person.
//! - The attendee list, the door search and door list start from the
//!   event's registrations and look each person up by id: they read about
//!   as many people as the event has, never the whole company, also in the
//!   plan a pooled connection keeps (PostgreSQL's generic plan).
//! - The dashboard's count by department and the administrators' overview
//!   read the counts the database keeps per event and department: no
//!   registration and no person at all.
//!
//! PostgreSQL: `EXPLAIN (ANALYZE)` of each statement as the code runs it,
//! counting the rows each table gave. SQLite: `EXPLAIN QUERY PLAN`.

mod common;

use chrono::{Duration, Utc};
use common::{event, execute};
use tsudoi::events;
use tsudoi::model::EventStatus;
use tsudoi::storage::{Backend, Database, Pool, test_support};

const PEOPLE: i64 = 50_000;
const EVENTS: i64 = 10_000;
const ATTENDEES: i64 = 3_000;

/// The company: departments, people, upcoming events (every 500th about a
/// "Kubernetes 研修会"), the probe event with its attendees, and everybody
/// else registered somewhere. Answers the probe event's id.
async fn large_company(db: &Database) -> i64 {
    execute(
        db,
        "INSERT INTO departments (name) SELECT '部署 ' || n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) d",
    )
    .await
    .unwrap();
    let series = |count: i64| match db.backend() {
        Backend::Postgres => format!("generate_series(1, {count}) AS g(n)"),
        Backend::Sqlite => format!(
            "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s) AS g"
        ),
    };
    // In parts, each within the statement time limit (the search index is
    // written as rows arrive).
    const PART: i64 = 10_000;
    for part in 0..PEOPLE / PART {
        execute(
            db,
            &format!(
                "INSERT INTO users (email, display_name, department_id)
                 SELECT 'person' || (n + {offset}) || '@example.co.jp', '社員 ' || (n + {offset}),
                        1 + n % 5
                   FROM {}",
                series(PART),
                offset = part * PART,
            ),
        )
        .await
        .unwrap();
    }
    let starts = Utc::now() + Duration::days(30);
    let mut probe = event("Probe", starts, EventStatus::Published);
    probe.capacity = 1000;
    let probe = events::create(db, &probe).await.unwrap();
    // Copies of the probe's row (its times as the backend stores them).
    execute(
        db,
        &format!(
            "INSERT INTO events (title_ja, title_en, description_ja, description_en, category, place,
                                 starts_at, ends_at, capacity, status)
             SELECT CASE WHEN n % 500 = 0 THEN 'Kubernetes 研修会 ' || n ELSE 'イベント ' || n END,
                    'Event ' || n, '説明 ' || n, 'About ' || n, 'seminar', '会議室 ' || (n % 40),
                    e.starts_at, e.ends_at, 100, 'published'
               FROM {}, events e WHERE e.id = {probe}",
            series(EVENTS - 1)
        ),
    )
    .await
    .unwrap();
    execute(
        db,
        &format!(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, department_id)
             SELECT CASE WHEN u.id <= {ATTENDEES} THEN {probe} ELSE {probe} + 1 + u.id % ({EVENTS} - 1) END,
                    u.id, 'registered', e.starts_at, e.starts_at, u.department_id
               FROM users u, events e WHERE e.id = {probe}"
        ),
    )
    .await
    .unwrap();
    execute(db, "ANALYZE").await.unwrap();
    probe
}

/// What one table gave a plan: rows returned plus rows read and thrown
/// away, over all loops.
fn rows_read(node: &serde_json::Value, relation: &str) -> f64 {
    let mut total = 0.0;
    if node["Relation Name"].as_str() == Some(relation) {
        let per_loop = [
            "Actual Rows",
            "Rows Removed by Filter",
            "Rows Removed by Index Recheck",
        ]
        .iter()
        .map(|key| node[*key].as_f64().unwrap_or(0.0))
        .sum::<f64>();
        total += per_loop * node["Actual Loops"].as_f64().unwrap_or(1.0);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        total += rows_read(child, relation);
    }
    total
}

/// Every node type of a plan with its relation.
fn scans(node: &serde_json::Value, out: &mut Vec<(String, String)>) {
    if let Some(relation) = node["Relation Name"].as_str() {
        let kind = node["Node Type"].as_str().unwrap_or_default();
        out.push((kind.to_string(), relation.to_string()));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        scans(child, out);
    }
}

struct Probe<'a> {
    name: &'a str,
    sql: &'a str,
    types: &'a str,
    args: String,
}

/// The plans of `probe` prepared as `name`: the one made for its values,
/// and the generic one a pooled connection may keep for every event.
async fn plans_of(
    conn: &mut sqlx::PgConnection,
    name: &str,
    probe: &Probe<'_>,
) -> Vec<(&'static str, serde_json::Value)> {
    sqlx::query(&format!("PREPARE {name} {} AS {}", probe.types, probe.sql))
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut plans = Vec::new();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::query(&format!("SET plan_cache_mode = {mode}"))
            .execute(&mut *conn)
            .await
            .unwrap();
        let plan = sqlx::query_scalar(&format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name} {}",
            probe.args
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        plans.push((mode, plan));
    }
    plans
}

#[tokio::test]
async fn on_postgresql_searches_use_their_index_and_event_lists_read_only_the_event() {
    let Some(server) = test_support::postgres_url() else {
        panic!("TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test");
    };
    let t = test_support::postgres(&server).await;
    let db = &t.db;
    let Pool::Postgres(pool) = db.pool() else {
        unreachable!()
    };
    let probe = large_company(db).await;
    let [door_search, door_list] = tsudoi::checkin::statements(Backend::Postgres);
    let by_department = events::stats_statements(Backend::Postgres)[3];
    let window = "now() - interval '1 day', 0, now() + interval '1000 days', NULL, false, 21";
    let people_probes = [
        Probe {
            name: "attendee list",
            sql: events::attendees::statement(Backend::Postgres),
            types: "(bigint, text, text, text, bigint, bigint)",
            args: format!("({probe}, NULL, NULL, '', -9223372036854775808, 51)"),
        },
        Probe {
            name: "attendee search",
            sql: events::attendees::statement(Backend::Postgres),
            types: "(bigint, text, text, text, bigint, bigint)",
            args: format!("({probe}, NULL, '%社員 1%', '', -9223372036854775808, 51)"),
        },
        Probe {
            name: "door search",
            sql: door_search,
            types: "(bigint, text, text, bigint)",
            args: format!("({probe}, '%社員 12%', '%社員 12%', 50)"),
        },
        Probe {
            name: "door list",
            sql: door_list,
            types: "(bigint, bigint)",
            args: format!("({probe}, 100000)"),
        },
    ];
    let mut conn = pool.acquire().await.unwrap();
    for (n, probe) in people_probes.iter().enumerate() {
        for (mode, plan) in plans_of(&mut conn, &format!("people_{n}"), probe).await {
            let root = &plan[0]["Plan"];
            let users = rows_read(root, "users");
            assert!(
                users <= ATTENDEES as f64,
                "{} ({mode}) read {users} people for a {ATTENDEES}-person event:\n{plan:#}",
                probe.name
            );
            let registrations = rows_read(root, "registrations");
            assert!(
                registrations <= ATTENDEES as f64,
                "{} ({mode}) read {registrations} registrations:\n{plan:#}",
                probe.name
            );
            assert!(
                users > 0.0,
                "{} ({mode}) read no people:\n{plan:#}",
                probe.name
            );
        }
    }
    let counted_probes = [
        Probe {
            name: "count by department",
            sql: by_department,
            types: "(bigint)",
            args: format!("({probe})"),
        },
        Probe {
            name: "overview attendance",
            sql: events::overview::statements(Backend::Postgres)[1],
            types: "(timestamptz, timestamptz, timestamptz)",
            args: "(now() - interval '1 day', now() + interval '1000 days', now() + interval '1000 days')"
                .to_string(),
        },
    ];
    for (n, probe) in counted_probes.iter().enumerate() {
        for (mode, plan) in plans_of(&mut conn, &format!("counted_{n}"), probe).await {
            let root = &plan[0]["Plan"];
            for table in ["registrations", "users"] {
                assert_eq!(
                    rows_read(root, table),
                    0.0,
                    "{} ({mode}) read {table}:\n{plan:#}",
                    probe.name
                );
            }
            assert!(
                rows_read(root, "attendance_by_department") > 0.0,
                "{} ({mode}) read no counts:\n{plan:#}",
                probe.name
            );
        }
    }
    sqlx::query("SET plan_cache_mode = auto")
        .execute(&mut *conn)
        .await
        .unwrap();

    // Searches run as unnamed statements, planned for their words each time.
    let search_probes = [
        Probe {
            name: "event search",
            sql: events::upcoming_search_statement(Backend::Postgres),
            types: "(timestamptz, bigint, timestamptz, text, boolean, bigint, text)",
            args: format!("({window}, '%研修会%')"),
        },
        Probe {
            name: "people search",
            sql: tsudoi::users::search_statement(Backend::Postgres),
            types: "(text, bigint, text, boolean, text)",
            args: "('', 51, NULL, false, '%person4242@%')".into(),
        },
    ];
    for (n, (probe, (table, index, found))) in search_probes
        .iter()
        .zip([
            ("events", "events_search_text", ((EVENTS - 1) / 500) as f64),
            ("users", "users_search_text", 1.0),
        ])
        .enumerate()
    {
        sqlx::query(&format!(
            "PREPARE search_{n} {} AS {}",
            probe.types, probe.sql
        ))
        .execute(&mut *conn)
        .await
        .unwrap();
        let plan: serde_json::Value = sqlx::query_scalar(&format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE search_{n} {}",
            probe.args
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let text = plan.to_string();
        assert!(
            text.contains(&format!("\"Index Name\":\"{index}\"")),
            "{} does not use {index}:\n{plan:#}",
            probe.name
        );
        let read = rows_read(&plan[0]["Plan"], table);
        assert!(
            (found..=found * 3.0).contains(&read),
            "{} read {read} rows of {table} to find {found}:\n{plan:#}",
            probe.name
        );
        let mut nodes = Vec::new();
        scans(&plan[0]["Plan"], &mut nodes);
        assert!(
            !nodes
                .iter()
                .any(|(kind, relation)| kind == "Seq Scan" && relation == table),
            "{}: {nodes:?}",
            probe.name
        );
    }

    // And the code gets the same answers from them.
    let filter = events::UpcomingFilter {
        search: Some("研修会".into()),
        ..Default::default()
    };
    let found = events::list_upcoming(db, chrono_tz::Asia::Tokyo, Utc::now(), &filter, None, 20)
        .await
        .unwrap();
    assert_eq!(found.items.len() as i64, (EVENTS - 1) / 500);
    let people = tsudoi::users::list(db, Some("PERSON4242@"), None, 10)
        .await
        .unwrap();
    assert_eq!(people.items.len(), 1);
}

#[tokio::test]
async fn on_sqlite_searches_use_their_index_and_event_lists_look_people_up_by_id() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let Pool::Sqlite(pool) = db.pool() else {
        unreachable!()
    };
    let probe = large_company(db).await;
    let [door_search, door_list] = tsudoi::checkin::statements(Backend::Sqlite);
    let plan = |sql: &str| {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        async move {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&sql).fetch_all(pool).await.unwrap();
            rows.into_iter()
                .map(|(_, _, _, detail)| detail)
                .collect::<Vec<_>>()
        }
    };
    for (name, sql) in [
        (
            "attendee list",
            events::attendees::statement(Backend::Sqlite),
        ),
        ("door search", door_search),
        ("door list", door_list),
    ] {
        let steps = plan(sql).await;
        assert!(
            steps.iter().any(|s| s.starts_with("SEARCH r USING INDEX")),
            "{name} should start from the event's registrations: {steps:#?}"
        );
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH u USING INTEGER PRIMARY KEY")),
            "{name} should look each person up by id: {steps:#?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN")),
            "{name} scans a table: {steps:#?}"
        );
    }
    // The counts by department: the event's few kept rows by key.
    for (name, sql) in [
        (
            "count by department",
            events::stats_statements(Backend::Sqlite)[3],
        ),
        (
            "overview attendance",
            events::overview::statements(Backend::Sqlite)[1],
        ),
    ] {
        let steps = plan(sql).await;
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH a USING PRIMARY KEY (event_id=?)")),
            "{name} should read the event's kept counts by key: {steps:#?}"
        );
        assert!(
            !steps
                .iter()
                .any(|s| s.starts_with("SCAN a") || s.starts_with("SCAN e")),
            "{name} scans a table: {steps:#?}"
        );
    }
    for (name, sql, index) in [
        (
            "event search",
            events::upcoming_search_statement(Backend::Sqlite),
            "events_search",
        ),
        (
            "people search",
            tsudoi::users::search_statement(Backend::Sqlite),
            "users_search",
        ),
    ] {
        let steps = plan(sql).await;
        assert!(
            steps
                .iter()
                .any(|s| s.contains(&format!("{index} VIRTUAL TABLE INDEX"))),
            "{name} should use {index}: {steps:#?}"
        );
    }
    let filter = events::UpcomingFilter {
        search: Some("研修会".into()),
        ..Default::default()
    };
    let found = events::list_upcoming(db, chrono_tz::Asia::Tokyo, Utc::now(), &filter, None, 20)
        .await
        .unwrap();
    assert_eq!(found.items.len() as i64, (EVENTS - 1) / 500);
    let attendees = events::attendees::list(db, probe, &Default::default(), None, Some(100))
        .await
        .unwrap();
    assert_eq!(attendees.items.len(), 100);
    assert!(attendees.next.is_some());
}
