//! "My events" costs what one person holds, not what the company holds: on
//! PostgreSQL, from 10,000 events (30,000 registrations of 5,000 others) to
//! 100,000 (300,000), both statements reach every table through an index
//! and read the same rows: the person's twelve.
//!
//! The upcoming statement looks each event up by id for each of the
//! person's rows: with a few thousand events and a long history (many rows
//! a person on average) PostgreSQL would otherwise hash the whole events
//! table (docs/PERFORMANCE.md, "Ten years of history").

mod common;

use chrono::{Duration, Utc};
use common::execute;
use tsudoi::registrations;
use tsudoi::storage::{Pool, test_support};

/// `count` published events of others, half of them over, each with three
/// registrations spread over the `others` people (as in a company, where
/// each person holds a few of many events).
async fn events_of_others(conn: &mut sqlx::PgConnection, count: i64, others: i64) {
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM events")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    for statement in [
        format!(
            "INSERT INTO events (title_en, title_ja, category, place, starts_at, ends_at, capacity, status)
             SELECT 'Other ' || g, '他 ' || g, 'seminar', 'Hall',
                    now() + (g % 4000 - 2000) * interval '1 hour',
                    now() + (g % 4000 - 2000) * interval '1 hour' + interval '30 minutes',
                    1000, 'published'
               FROM generate_series(1, {count}) g"
        ),
        format!(
            "WITH others AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n
                              FROM users WHERE email LIKE 'other%')
             INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
             SELECT e.id, o.id, 'registered', now(), now()
               FROM events e
               CROSS JOIN generate_series(0, 2) k
               JOIN others o ON o.n = (e.id * 7 + k * 101) % {others}
              WHERE e.id >= {first}"
        ),
        "ANALYZE".to_string(),
    ] {
        sqlx::query(&statement).execute(&mut *conn).await.unwrap();
    }
}

#[tokio::test]
async fn on_postgresql_my_events_reads_the_persons_rows_whatever_the_number_of_events() {
    let Some(server) = test_support::postgres_url() else {
        panic!("TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test");
    };
    let t = test_support::postgres(&server).await;
    let db = &t.db;
    let Pool::Postgres(pool) = db.pool() else {
        unreachable!()
    };
    const OTHERS: i64 = 5_000;
    let me = common::person(db, "me@example.co.jp", "私", tsudoi::model::Lang::Ja).await;
    for n in 0..OTHERS {
        common::person(
            db,
            &format!("other{n}@example.co.jp"),
            "他",
            tsudoi::model::Lang::Ja,
        )
        .await;
    }
    // Mine: six events ahead and six over, one of each waitlisted.
    execute(
        db,
        "INSERT INTO events (title_en, title_ja, category, place, starts_at, ends_at, capacity, status)
         SELECT 'Mine ' || g, '私の ' || g, 'training', 'Room', now() + g * interval '5 days',
                now() + g * interval '5 days' + interval '1 hour', 10, 'published'
           FROM generate_series(-6, 6) g WHERE g <> 0",
    )
    .await
    .unwrap();
    execute(
        db,
        &format!(
            "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at)
             SELECT id, {me}, CASE WHEN title_en IN ('Mine 1', 'Mine -1') THEN 'waitlisted' ELSE 'registered' END,
                    CASE WHEN title_en IN ('Mine 1', 'Mine -1') THEN 1 END, now(), now()
               FROM events WHERE title_en LIKE 'Mine %'"
        ),
    )
    .await
    .unwrap();

    let mut conn = pool.acquire().await.unwrap();
    // Filling a company takes longer than the pool lets one statement run.
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .unwrap();
    let now = Utc::now() + Duration::minutes(1);
    let mut before = Vec::new();
    for (round, events) in [(0, 10_000), (1, 90_000)] {
        // Round 1 makes it ten times the events of round 0, each with others' rows.
        events_of_others(&mut conn, events, OTHERS).await;
        let total_events = common::scalar(db, "SELECT COUNT(*) FROM events").await;
        let mut plans = Vec::new();
        for (n, statement) in
            registrations::my_events_statements(tsudoi::storage::Backend::Postgres)
                .iter()
                .enumerate()
        {
            let name = format!("mine_{round}_{n}");
            sqlx::query(&format!(
                "PREPARE {name} (bigint, timestamptz, bigint) AS {statement}"
            ))
            .execute(&mut *conn)
            .await
            .unwrap();
            // Plans chosen for the prepared statement's generic form too.
            sqlx::query("SET plan_cache_mode = force_generic_plan")
                .execute(&mut *conn)
                .await
                .unwrap();
            let plan: serde_json::Value = sqlx::query_scalar(&format!(
                "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name} ({me}, '{}', 100)",
                now.to_rfc3339()
            ))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            let mut found = Vec::new();
            common::plan_scans(&plan[0]["Plan"], &mut found);
            for (node, relation, rows) in &found {
                assert_ne!(
                    node, "Seq Scan",
                    "statement {n} with {total_events} events scans {relation}:\n{plan:#}"
                );
                assert!(
                    *rows <= 12.0,
                    "statement {n} with {total_events} events read {rows} rows of {relation}, the person has 12:\n{plan:#}"
                );
            }
            // Whether PostgreSQL walks an index or its bitmap is its choice;
            // what must not change is that each table is reached through one,
            // for as many rows.
            plans.push(
                found
                    .into_iter()
                    .map(|(node, relation, rows)| {
                        (
                            node.contains("Index") || node.contains("Bitmap"),
                            relation,
                            rows.round() as i64,
                        )
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let mine = registrations::mine(db, me, chrono_tz::Asia::Tokyo, now)
            .await
            .unwrap();
        assert_eq!(
            (mine.upcoming.len(), mine.past.len()),
            (6, 6),
            "with {total_events} events"
        );
        if round == 0 {
            before = plans;
        } else {
            assert_eq!(
                plans, before,
                "the plans or the rows they read changed with ten times the events"
            );
        }
    }
}
