//! The retention plan: which events are past `retention_months` and how
//! many personal rows each holds — what `tsudoi retention --dry-run` shows.
//! Nothing is changed by it.

mod common;

use chrono::{Duration, Months, Utc};
use common::event;
use tsudoi::model::EventStatus;
use tsudoi::registrations;
use tsudoi::retention;
use tsudoi::storage::Database;
use tsudoi::storage::test_support;

async fn event_ending(db: &Database, title: &str, months_ago: u32, people: &[i64]) -> i64 {
    let starts = Utc::now()
        .checked_sub_months(Months::new(months_ago))
        .unwrap()
        - Duration::hours(2);
    let mut new = event(title, starts, EventStatus::Published);
    new.capacity = 100;
    let id = tsudoi::events::create(db, &new).await.unwrap();
    for &person in people {
        // Straight into the table: registering is refused for a past event.
        common::execute(
            db,
            &format!(
                "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at)
                 VALUES ({id}, {person}, 'checked_in', {at}, {at}, {at})",
                at = common::sql_time(starts)
            ),
        )
        .await
        .unwrap();
    }
    id
}

#[tokio::test]
async fn the_plan_lists_events_past_the_limit_with_their_personal_rows() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let people = common::employees(db, "keep", 5).await;
        let old = event_ending(db, "Old", 30, &people[..3]).await;
        let older = event_ending(db, "Older", 40, &people[..5]).await;
        let recent = event_ending(db, "Recent", 10, &people[..2]).await;
        let upcoming = common::open_event(db, 10).await;
        registrations::register(db, upcoming, people[0], Utc::now())
            .await
            .unwrap();

        let plan = retention::plan(db, Utc::now(), 24).await.unwrap();
        let listed: Vec<(i64, i64)> = plan
            .events
            .iter()
            .map(|e| (e.event_id, e.rows.registrations))
            .collect();
        assert_eq!(listed, [(older, 5), (old, 3)], "{backend}: oldest first");
        assert_eq!(plan.totals.registrations, 8, "{backend}");
        assert_eq!(plan.totals.checked_in, 8, "{backend}");

        let shorter = retention::plan(db, Utc::now(), 6).await.unwrap();
        let ids: Vec<i64> = shorter.events.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, [older, old, recent], "{backend}");
        assert_eq!(shorter.totals.registrations, 10);

        // A plan only reads.
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM registrations").await,
            11,
            "{backend}"
        );
    }
}
