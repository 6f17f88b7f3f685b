//! Storage conformance: every test runs on SQLite, and on PostgreSQL too when
//! TSUDOI_TEST_DATABASE_URL is set (CI always sets it). Each run gets a fresh database.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use common::{event, execute};
use tsudoi::events::{self, UpcomingFilter};
use tsudoi::model::{Category, EventStatus, Lang, Role, page_size};
use tsudoi::storage::Pool;
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::users::{self, NewUser};
use tsudoi::{Error, demo};

fn noon_tokyo() -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn each_backend() -> Vec<TestDatabase> {
    test_support::backends().await
}

#[tokio::test]
async fn both_backends_are_tested_when_configured() {
    let expected = if test_support::postgres_url().is_some() {
        2
    } else {
        1
    };
    assert_eq!(each_backend().await.len(), expected);
}

#[tokio::test]
async fn migrating_again_is_a_no_op() {
    for t in each_backend().await {
        t.db.migrate()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", t.db.backend()));
    }
}

#[tokio::test]
async fn an_older_binary_tolerates_migrations_it_does_not_know() {
    for t in each_backend().await {
        // Simulate a newer release having applied a migration this binary lacks.
        let sql =
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                   VALUES (29991231000000, 'from a newer release', TRUE, $1, 0)";
        match &t.db.pool() {
            Pool::Sqlite(pool) => sqlx::query(sql)
                .bind(vec![0u8; 48])
                .execute(pool)
                .await
                .map(|_| ()),
            Pool::Postgres(pool) => sqlx::query(sql)
                .bind(vec![0u8; 48])
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .unwrap();
        t.db.migrate()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", t.db.backend()));
    }
}

#[tokio::test]
async fn the_schema_refuses_more_seats_than_capacity() {
    for t in each_backend().await {
        let id = events::create(&t.db, &event("Full", noon_tokyo(), EventStatus::Published))
            .await
            .unwrap();
        let within = format!("UPDATE events SET seats_taken = 10 WHERE id = {id}");
        assert_eq!(execute(&t.db, &within).await.unwrap(), 1);
        let over = format!("UPDATE events SET seats_taken = 11 WHERE id = {id}");
        assert!(
            execute(&t.db, &over).await.is_err(),
            "{:?} allowed an oversold event",
            t.db.backend()
        );
        let below = format!("UPDATE events SET capacity = 5 WHERE id = {id}");
        assert!(
            execute(&t.db, &below).await.is_err(),
            "{:?} allowed capacity below seats taken",
            t.db.backend()
        );
    }
}

#[tokio::test]
async fn one_live_registration_per_person_and_event() {
    for t in each_backend().await {
        let db = &t.db;
        let event_id = events::create(db, &event("Once", noon_tokyo(), EventStatus::Published))
            .await
            .unwrap();
        let user = NewUser {
            email: "a@example.com".into(),
            display_name: "A".into(),
            department: None,
            role: Role::Employee,
            lang: Lang::En,
        };
        let user_id = users::upsert(db, &user, None).await.unwrap();
        let insert = |status: &str| {
            format!(
                "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
                 VALUES ({event_id}, {user_id}, '{status}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
            )
        };
        execute(db, &insert("cancelled")).await.unwrap();
        execute(db, &insert("registered")).await.unwrap();
        assert!(
            execute(db, &insert("waitlisted")).await.is_err(),
            "{:?}: second live row",
            db.backend()
        );
        execute(db, &insert("cancelled"))
            .await
            .expect("cancelled history rows are not limited");
        assert!(
            execute(db, &insert("bogus")).await.is_err(),
            "{:?}: unknown status",
            db.backend()
        );
    }
}

#[tokio::test]
async fn events_are_validated_with_clear_messages() {
    for t in each_backend().await {
        let mut untitled = event("x", noon_tokyo(), EventStatus::Published);
        untitled.title_en = Some("   ".into());
        assert!(
            matches!(events::create(&t.db, &untitled).await, Err(Error::Invalid(m)) if m.to_string().contains("title"))
        );
        let mut backwards = event("x", noon_tokyo(), EventStatus::Published);
        backwards.ends_at = backwards.starts_at;
        assert!(
            matches!(events::create(&t.db, &backwards).await, Err(Error::Invalid(m)) if m.to_string().contains("end after"))
        );
        let mut negative = event("x", noon_tokyo(), EventStatus::Published);
        negative.capacity = -1;
        assert!(matches!(
            events::create(&t.db, &negative).await,
            Err(Error::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn upcoming_list_shows_published_events_from_today_in_start_order() {
    let now = noon_tokyo();
    for t in each_backend().await {
        let db = &t.db;
        events::create(
            db,
            &event("yesterday", now - Duration::days(1), EventStatus::Published),
        )
        .await
        .unwrap();
        events::create(
            db,
            &event(
                "this morning",
                now - Duration::hours(3),
                EventStatus::Published,
            ),
        )
        .await
        .unwrap();
        events::create(
            db,
            &event("draft", now + Duration::hours(1), EventStatus::Draft),
        )
        .await
        .unwrap();
        events::create(
            db,
            &event(
                "cancelled",
                now + Duration::hours(1),
                EventStatus::Cancelled,
            ),
        )
        .await
        .unwrap();
        events::create(
            db,
            &event("next week", now + Duration::days(7), EventStatus::Published),
        )
        .await
        .unwrap();
        events::create(
            db,
            &event("tomorrow", now + Duration::days(1), EventStatus::Published),
        )
        .await
        .unwrap();
        let page = events::list_upcoming(db, Tokyo, now, &UpcomingFilter::default(), None, 20)
            .await
            .unwrap();
        let titles: Vec<_> = page
            .items
            .iter()
            .map(|e| e.title(Lang::En).to_string())
            .collect();
        assert_eq!(
            titles,
            ["this morning", "tomorrow", "next week"],
            "{:?}",
            db.backend()
        );
        assert_eq!(page.next, None);
        assert!(page.items.iter().all(|e| e.utc_offset_seconds == 9 * 3600));
    }
}

#[tokio::test]
async fn keyset_pages_cover_every_event_exactly_once() {
    let now = noon_tokyo();
    for t in each_backend().await {
        let db = &t.db;
        // Several events share a start time, so the id must break ties.
        for n in 0..23 {
            let starts = now + Duration::hours(n / 3);
            events::create(
                db,
                &event(&format!("e{n:02}"), starts, EventStatus::Published),
            )
            .await
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = events::list_upcoming(db, Tokyo, now, &UpcomingFilter::default(), cursor, 5)
                .await
                .unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(page.items.iter().map(|e| e.id));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(seen.len(), 23, "{:?}", db.backend());
        assert_eq!(
            unique.len(),
            23,
            "{:?}: an event appeared twice",
            db.backend()
        );
    }
}

#[tokio::test]
async fn upcoming_list_filters_by_category_and_counts_the_waitlist() {
    let now = noon_tokyo();
    for t in each_backend().await {
        let db = &t.db;
        let mut training = event("training", now + Duration::hours(2), EventStatus::Published);
        training.category = Category::Training;
        let training_id = events::create(db, &training).await.unwrap();
        events::create(
            db,
            &event("seminar", now + Duration::hours(3), EventStatus::Published),
        )
        .await
        .unwrap();
        let user_id = users::upsert(
            db,
            &NewUser {
                email: "w@example.com".into(),
                display_name: "W".into(),
                department: None,
                role: Role::Employee,
                lang: Lang::Ja,
            },
            None,
        )
        .await
        .unwrap();
        execute(
            db,
            &format!(
                "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at)
                 VALUES ({training_id}, {user_id}, 'waitlisted', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
            ),
        )
        .await
        .unwrap();
        let filter = UpcomingFilter {
            category: Some(Category::Training),
            ..UpcomingFilter::default()
        };
        let page = events::list_upcoming(db, Tokyo, now, &filter, None, page_size(None))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1, "{:?}", db.backend());
        assert_eq!(page.items[0].id, training_id);
        assert_eq!(page.items[0].waitlisted, 1);
    }
}

#[tokio::test]
async fn users_upsert_by_case_insensitive_email_and_create_departments() {
    for t in each_backend().await {
        let db = &t.db;
        let mut user = NewUser {
            email: "Taro.Yamada@Example.com".into(),
            display_name: "山田 太郎".into(),
            department: Some("開発部".into()),
            role: Role::Employee,
            lang: Lang::Ja,
        };
        let first = users::upsert(db, &user, None).await.unwrap();
        user.email = "taro.yamada@example.com".into();
        user.role = Role::Organizer;
        let second = users::upsert(db, &user, None).await.unwrap();
        assert_eq!(first, second, "{:?}", db.backend());
        assert_eq!(users::count(db).await.unwrap(), 1);
        assert_eq!(
            users::department_id(db, "開発部").await.unwrap(),
            users::department_id(db, " 開発部 ").await.unwrap()
        );
    }
}

#[tokio::test]
async fn demo_seed_builds_a_consistent_company_once() {
    let now = noon_tokyo();
    for t in each_backend().await {
        let db = &t.db;
        let check = |sql: &'static str| async move {
            match db.pool() {
                Pool::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
                Pool::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
            }
        };
        assert_eq!(demo::login_hint(db).await.unwrap(), None, "not a demo yet");
        let summary = demo::seed(db, Tokyo, now, 7).await.unwrap();
        assert_eq!(
            (summary.departments, summary.users, summary.events),
            (10, 304, 60)
        );
        // One account per role, each able to log in with the printed
        // password; the login page's hint says the same.
        let login = &summary.login;
        let roles: Vec<Role> = login.accounts.iter().map(|(role, _)| *role).collect();
        assert_eq!(
            roles,
            [Role::Admin, Role::Organizer, Role::Staff, Role::Employee]
        );
        assert_eq!(login.password.len(), 14, "{}", login.password);
        for (role, email) in &login.accounts {
            let user = tsudoi::users::authenticate(db, email, login.password.clone())
                .await
                .unwrap();
            assert_eq!(user.role, *role, "{email}");
        }
        assert_eq!(demo::login_hint(db).await.unwrap().as_ref(), Some(login));
        let organized = check(
            "SELECT COUNT(*) FROM events e JOIN users u ON u.id = e.organizer_id
              WHERE u.email = 'demo.organizer@example.co.jp'",
        )
        .await;
        assert!(organized >= 10, "{:?}: {organized}", db.backend());
        // The seat counter equals the seated rows for every event.
        let mismatched = check(
            "SELECT COUNT(*) FROM events e WHERE e.seats_taken <> (SELECT COUNT(*) FROM registrations r
              WHERE r.event_id = e.id AND r.status IN ('registered', 'checked_in'))",
        )
        .await;
        assert_eq!(mismatched, 0, "{:?}", db.backend());
        let full_with_waitlist = check(
            "SELECT COUNT(*) FROM events e WHERE e.seats_taken = e.capacity
               AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted')",
        )
        .await;
        assert!(
            full_with_waitlist >= 5,
            "{:?}: only {full_with_waitlist} full events",
            db.backend()
        );
        // People registered over days, as they do: a rush after the
        // announcement and a tail, never after the moment of seeding.
        let mut spread_events = 0;
        for event_id in 1..=60 {
            let stats = events::event_stats(db, Tokyo, event_id, now).await.unwrap();
            let total: i64 = stats.by_day.iter().map(|d| d.registrations).sum();
            assert!(
                stats
                    .by_day
                    .iter()
                    .all(|d| d.day <= now.with_timezone(&Tokyo).date_naive()),
                "{:?}: event {event_id} has registrations after now",
                db.backend()
            );
            if total >= 30 && stats.by_day.len() >= 5 {
                spread_events += 1;
            }
        }
        assert!(spread_events >= 10, "{:?}: {spread_events}", db.backend());
        // A survey after the demo organizer's last training, open now: the
        // demo employee was there and has it waiting; most others answered.
        let employee =
            check("SELECT id FROM users WHERE email = 'demo.employee@example.co.jp'").await;
        let waiting = tsudoi::surveys::answering::open_for_person(db, employee, now)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "{:?}", db.backend());
        assert!(!waiting[0].answered);
        let results = tsudoi::surveys::results::results(db, waiting[0].event_id, None, now)
            .await
            .unwrap();
        assert!(
            results.respondents >= 3 && results.respondents < results.checked_in,
            "{:?}: {} of {}",
            db.backend(),
            results.respondents,
            results.checked_in
        );
        let upcoming = events::list_upcoming(db, Tokyo, now, &UpcomingFilter::default(), None, 100)
            .await
            .unwrap();
        assert!(upcoming.items.len() >= 25, "{:?}", db.backend());
        assert!(matches!(
            demo::seed(db, Tokyo, now, 7).await,
            Err(Error::Conflict(_))
        ));
    }
}
