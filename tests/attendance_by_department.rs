//! The seats and check-ins the database keeps per event and department
//! (`attendance_by_department`, kept by triggers on `registrations`) always
//! equal a count of the registrations themselves — through grouped and
//! single registrations, check-ins and their undo, cancellations with
//! promotions from the waitlist, removals, a person moving to another
//! department, anonymization, rows written without a department and rows
//! deleted — on both backends. A person counts under the department they had
//! when registering.

mod common;

use chrono::Utc;
use common::{member as person, open_event};
use tsudoi::checkin;
use tsudoi::model::Role;
use tsudoi::registrations::{self, Ending, Registrar};
use tsudoi::storage::{Database, Pool, test_support};
use tsudoi::users;

type Counts = Vec<(i64, i64, i64, i64)>;

/// Every row a query answers, on either backend.
macro_rules! fetch_all {
    ($db:expr, $query:expr) => {
        match $db.pool() {
            Pool::Sqlite(pool) => $query.fetch_all(pool).await.unwrap(),
            Pool::Postgres(pool) => $query.fetch_all(pool).await.unwrap(),
        }
    };
}

/// What the database keeps, leaving out groups that went back to zero.
async fn kept(db: &Database) -> Counts {
    fetch_all!(
        db,
        sqlx::query_as(
            "SELECT event_id, department_key, CAST(registered AS BIGINT), CAST(checked_in AS BIGINT)
               FROM attendance_by_department
              WHERE registered <> 0 OR checked_in <> 0
              ORDER BY event_id, department_key"
        )
    )
}

/// The same figures counted from the registrations.
async fn counted(db: &Database) -> Counts {
    fetch_all!(
        db,
        sqlx::query_as(
            "SELECT event_id, COALESCE(department_id, 0), COUNT(*),
                    CAST(SUM(CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END) AS BIGINT)
               FROM registrations
              WHERE status IN ('registered', 'checked_in')
              GROUP BY event_id, COALESCE(department_id, 0)
              ORDER BY 1, 2"
        )
    )
}

async fn assert_kept_equals_counted(db: &Database, step: &str) {
    let counted = counted(db).await;
    assert!(!counted.is_empty(), "{step}: nothing to compare");
    assert_eq!(kept(db).await, counted, "{:?}: {step}", db.backend());
}

/// The registered-and-checked-in counts of one event and department.
async fn counts_of(db: &Database, event_id: i64, department: &str) -> (i64, i64) {
    let department = users::department_id(db, department).await.unwrap();
    let rows: Vec<(i64, i64)> = fetch_all!(
        db,
        sqlx::query_as(
            "SELECT CAST(registered AS BIGINT), CAST(checked_in AS BIGINT)
               FROM attendance_by_department WHERE event_id = $1 AND department_key = $2"
        )
        .bind(event_id)
        .bind(department)
    );
    rows.first().copied().unwrap_or_default()
}

#[tokio::test]
async fn the_kept_counts_equal_a_count_of_the_registrations_after_every_kind_of_change() {
    for t in test_support::backends().await {
        let db = &t.db;
        let now = Utc::now();
        let staff = person(db, "door@example.co.jp", None, Role::Staff).await;
        let mut people = Vec::new();
        for n in 0..14 {
            let department = match n % 3 {
                0 => Some("営業部"),
                1 => Some("開発部"),
                _ => None,
            };
            people.push(
                person(
                    db,
                    &format!("p{n}@example.co.jp"),
                    department,
                    Role::Employee,
                )
                .await,
            );
        }
        let grouped = open_event(db, 10).await;
        let single = open_event(db, 3).await;

        // At once through the registrar (grouped into few transactions):
        // 10 seats, 2 waiting.
        let registrar = Registrar::new(db.clone());
        let answers = futures_util::future::join_all(
            people[..12]
                .iter()
                .map(|&user| registrar.register(grouped, user, now)),
        )
        .await;
        let mut seated = Vec::new();
        for answer in answers {
            let registration = answer.unwrap();
            if registration.waitlist_position.is_none() {
                seated.push(registration);
            }
        }
        assert_eq!(seated.len(), 10);
        for &user in &people[8..14] {
            registrations::register(db, single, user, now)
                .await
                .unwrap();
        }
        assert_kept_equals_counted(db, "after registering").await;

        for registration in &seated[..4] {
            checkin::by_registration(db, grouped, registration.id, staff, now)
                .await
                .unwrap();
        }
        checkin::undo(db, grouped, seated[0].id, staff, now)
            .await
            .unwrap();
        assert_kept_equals_counted(db, "after check-ins and an undo").await;

        // Seats freed: the waitlist moves up in the same transaction.
        for registration in &seated[5..7] {
            registrations::end(
                db,
                registration.id,
                Ending::Cancelled {
                    by_user: registration.user_id,
                },
                now,
            )
            .await
            .unwrap();
        }
        let on_single = registrations::live_registration(db, single, people[8])
            .await
            .unwrap()
            .unwrap();
        registrations::end(db, on_single.id, Ending::Removed, now)
            .await
            .unwrap();
        assert_kept_equals_counted(db, "after cancelling, removing and promoting").await;

        // A person who moves keeps counting where they were when registering.
        // Five seats are held and not checked in; at most four people have
        // no department, so one of them has one.
        let mut mover = None;
        for registration in [&seated[0], &seated[4], &seated[7], &seated[8], &seated[9]] {
            let details: Vec<(String, Option<String>)> = fetch_all!(
                db,
                sqlx::query_as(
                    "SELECT u.email, d.name FROM users u
                       LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = $1"
                )
                .bind(registration.user_id)
            );
            if let (email, Some(department)) = details[0].clone() {
                mover = Some((registration.id, email, department));
                break;
            }
        }
        let (moved_registration, mover_email, before_move) =
            mover.expect("a seat holder with a department");
        let (registered, checked_in) = counts_of(db, grouped, &before_move).await;
        person(db, &mover_email, Some("人事部"), Role::Employee).await;
        checkin::by_registration(db, grouped, moved_registration, staff, now)
            .await
            .unwrap();
        assert_eq!(
            counts_of(db, grouped, &before_move).await,
            (registered, checked_in + 1),
            "{:?}: the check-in counts under the department of registration",
            db.backend()
        );
        assert_eq!(counts_of(db, grouped, "人事部").await, (0, 0));
        assert_kept_equals_counted(db, "after a move and a check-in").await;

        // Anonymizing keeps every figure.
        let before = kept(db).await;
        let anonymized = seated[1].user_id;
        users::anonymize::anonymize(db, None, anonymized, now)
            .await
            .unwrap();
        assert_eq!(kept(db).await, before, "{:?}: anonymizing", db.backend());
        assert_kept_equals_counted(db, "after anonymizing").await;

        // Rows written without a department take their person's; rows
        // deleted are taken away.
        let late = open_event(db, 5).await;
        let sales_person = people[12]; // 営業部, registered only for the single event
        common::execute(
            db,
            &format!(
                "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
                 VALUES ({late}, {sales_person}, 'checked_in', {at}, {at})",
                at = common::sql_time(now)
            ),
        )
        .await
        .unwrap();
        assert_eq!(counts_of(db, late, "営業部").await, (1, 1));
        assert_kept_equals_counted(db, "after a row without a department").await;
        common::execute(
            db,
            &format!(
                "DELETE FROM registrations WHERE event_id = {late} OR id = {}",
                seated[2].id
            ),
        )
        .await
        .unwrap();
        assert_kept_equals_counted(db, "after deleting rows").await;
        let negative = common::scalar(
            db,
            "SELECT COUNT(*) FROM attendance_by_department WHERE registered < 0 OR checked_in < 0",
        )
        .await;
        assert_eq!(negative, 0, "{:?}", db.backend());
    }
}
