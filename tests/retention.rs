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

// ---------------------------------------------------------------------------
// The run: archive, then remove, keeping the figures.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use chrono_tz::Asia::Tokyo;
use tsudoi::checkin;
use tsudoi::model::{Lang, Role};
use tsudoi::registrations::Ending;
use tsudoi::retention::archive_files;
use tsudoi::retention::job::{self, RetentionSettings};
use tsudoi::retention::restore;
use tsudoi::surveys::answering;
use tsudoi::surveys::{
    Question, QuestionKind, SurveyDraft, SurveySettings, Wording, build, results,
};
use tsudoi::users::{self, NewUser};

/// The old event: 10 December 2026, 18:00–19:00 Tokyo; the run happens 25
/// months later, with 24 months of retention.
fn old_start() -> DateTime<Utc> {
    common::tokyo(2026, 12, 10, 18, 0)
}

fn run_at() -> DateTime<Utc> {
    old_start().checked_add_months(Months::new(25)).unwrap()
}

fn run_day() -> NaiveDate {
    run_at().with_timezone(&Tokyo).date_naive()
}

fn settings(folder: &Path) -> RetentionSettings {
    RetentionSettings {
        months: 24,
        mail_keep_days: 180,
        audit_keep_months: 60,
        archive_folder: folder.to_path_buf(),
        time_zone: Tokyo,
        anonymize_after_days: 90,
    }
}

async fn member(db: &Database, email: &str, department: Option<&str>, role: Role) -> i64 {
    let new = NewUser {
        email: email.into(),
        display_name: format!("Person {email}"),
        department: department.map(str::to_string),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &new, None).await.unwrap()
}

struct Past {
    event_id: i64,
    survey_id: i64,
}

/// An event at `starts` with four people checked in (営業部 and 開発部), one
/// registered who never came, one who cancelled, and a survey three of them
/// answered.
async fn past_event(db: &Database, prefix: &str, starts: DateTime<Utc>) -> Past {
    let organizer = member(
        db,
        &format!("{prefix}-org@example.com"),
        None,
        Role::Organizer,
    )
    .await;
    let staff = member(db, &format!("{prefix}-door@example.com"), None, Role::Staff).await;
    let mut new = event(prefix, starts, EventStatus::Published);
    new.capacity = 50;
    new.organizer_id = Some(organizer);
    let event_id = tsudoi::events::create(db, &new).await.unwrap();
    let registered_at = starts - Duration::days(9);
    let mut attended = Vec::new();
    for n in 0..4 {
        let department = if n % 2 == 0 { "営業部" } else { "開発部" };
        let id = member(
            db,
            &format!("{prefix}-in{n}@example.com"),
            Some(department),
            Role::Employee,
        )
        .await;
        let registration = registrations::register(db, event_id, id, registered_at)
            .await
            .unwrap();
        checkin::by_registration(db, event_id, registration.id, staff, starts)
            .await
            .unwrap();
        attended.push(id);
    }
    let away = member(
        db,
        &format!("{prefix}-away@example.com"),
        Some("開発部"),
        Role::Employee,
    )
    .await;
    registrations::register(db, event_id, away, registered_at)
        .await
        .unwrap();
    let quitter = member(
        db,
        &format!("{prefix}-cancel@example.com"),
        None,
        Role::Employee,
    )
    .await;
    let registration = registrations::register(db, event_id, quitter, registered_at)
        .await
        .unwrap();
    registrations::end(
        db,
        registration.id,
        Ending::Cancelled { by_user: quitter },
        registered_at + Duration::hours(1),
    )
    .await
    .unwrap();

    let question = |kind: QuestionKind| Question {
        key: String::new(),
        kind,
        text: Wording::new("満足度", "Satisfaction"),
        required: false,
        choices: vec![],
        low_label: Wording::new("不満", "Poor"),
        high_label: Wording::new("満足", "Great"),
    };
    let draft = SurveyDraft {
        questions: vec![
            question(QuestionKind::Rating),
            question(QuestionKind::ShortText),
        ],
        settings: SurveySettings {
            anonymous: false,
            opens_at: None,
            open_days: 14,
            reminder_days_before: None,
        },
    };
    let answering_at = starts + Duration::days(1);
    let survey = build::save(db, organizer, event_id, None, &draft, answering_at)
        .await
        .unwrap();
    for (n, rating) in [(0, "5"), (1, "4"), (2, "2")] {
        let form = vec![
            ("q1".to_string(), rating.to_string()),
            ("q2".to_string(), format!("感想 {n}")),
        ];
        answering::submit(db, Tokyo, survey.id, attended[n], &form, answering_at)
            .await
            .unwrap();
    }
    Past {
        event_id,
        survey_id: survey.id,
    }
}

/// Every registration of the event, each row as the database holds it.
async fn registration_rows(db: &Database, event_id: i64) -> Vec<(i64, String)> {
    common::pairs(
        db,
        &format!(
            "SELECT id, user_id || '|' || status || '|' || COALESCE(ticket_code, '') || '|'
                    || version || '|' || CAST(registered_at AS TEXT) || '|' || CAST(updated_at AS TEXT)
                    || '|' || COALESCE(CAST(checked_in_at AS TEXT), '')
                    || '|' || COALESCE(CAST(checked_in_by AS TEXT), '')
                    || '|' || COALESCE(CAST(cancelled_at AS TEXT), '')
               FROM registrations WHERE event_id = {event_id} ORDER BY id"
        ),
    )
    .await
}

async fn old_mail_and_audit(db: &Database) {
    let long_ago = common::sql_time(run_at() - Duration::days(400));
    let recently = common::sql_time(run_at() - Duration::days(2));
    for (status, at) in [
        ("sent", &long_ago),
        ("dead", &long_ago),
        ("queued", &long_ago),
        ("sent", &recently),
    ] {
        common::execute(
            db,
            &format!(
                "INSERT INTO mail_outbox (kind, to_address, status, next_attempt_at, created_at)
                 VALUES ('reminder', 'someone@example.com', '{status}', {at}, {at})"
            ),
        )
        .await
        .unwrap();
    }
    let ancient = common::sql_time(run_at() - Duration::days(365 * 6));
    for at in [&ancient, &recently] {
        common::execute(
            db,
            &format!("INSERT INTO audit_log (action, target, at) VALUES ('event.publish', 'retention-test', {at})"),
        )
        .await
        .unwrap();
    }
}

fn only_folder_in(parent: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders.into_iter().next().unwrap()
}

#[tokio::test]
async fn an_event_past_retention_is_archived_and_removed_while_its_figures_stay() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let old = past_event(db, "old", old_start()).await;
        let recent = past_event(db, "recent", old_start() + Duration::days(400)).await;
        old_mail_and_audit(db).await;
        let window = (
            common::tokyo(2026, 12, 1, 0, 0),
            common::tokyo(2028, 3, 1, 0, 0),
        );
        let stats_before = tsudoi::events::event_stats(db, Tokyo, old.event_id, run_at())
            .await
            .unwrap();
        let overview_before =
            tsudoi::events::overview::overview(db, Tokyo, window.0, window.1, run_at())
                .await
                .unwrap();
        let results_before = results::results(db, old.event_id, None, run_at())
            .await
            .unwrap();
        let surveys_before = tsudoi::surveys::overview::overview(db, Tokyo, window.0, window.1)
            .await
            .unwrap();
        let recent_rows = registration_rows(db, recent.event_id).await;

        let folder = tempfile::tempdir().unwrap();
        let report = job::run_for(db, &settings(folder.path()), run_day(), run_at())
            .await
            .unwrap()
            .expect("the day's run");
        assert_eq!(
            (
                report.events,
                report.registrations,
                report.survey_answers,
                report.mail,
                report.audit_entries
            ),
            (1, 6, 3, 2, 1),
            "{backend}: {report:?}"
        );
        let archive = report.archive.clone().unwrap();
        assert_eq!(archive, only_folder_in(folder.path()), "{backend}");
        let manifest = archive_files::verify(&archive).unwrap();
        let rows = |table: &str| {
            manifest
                .files
                .iter()
                .find(|f| f.table == table)
                .unwrap()
                .rows
        };
        assert_eq!(
            (
                rows("events"),
                rows("registrations"),
                rows("survey_respondents"),
                rows("survey_responses"),
                rows("mail_outbox"),
                rows("audit_log")
            ),
            (1, 6, 3, 3, 2, 1),
            "{backend}"
        );
        // Everyone named in the archived rows, staff included: 6 + the door.
        assert_eq!(rows("people"), 7, "{backend}");

        // The personal rows are gone…
        let of = |sql: &str| {
            sql.replace("{old}", &old.event_id.to_string())
                .replace("{survey}", &old.survey_id.to_string())
        };
        assert_eq!(
            common::scalar(
                db,
                &of("SELECT COUNT(*) FROM registrations WHERE event_id = {old}")
            )
            .await,
            0,
            "{backend}"
        );
        assert_eq!(
            common::scalar(
                db,
                &of("SELECT COUNT(*) FROM survey_respondents WHERE survey_id = {survey}")
            )
            .await,
            0,
            "{backend}"
        );
        assert_eq!(common::scalar(db, &of("SELECT COUNT(*) FROM survey_responses WHERE survey_id = {survey} AND user_id IS NOT NULL")).await, 0, "{backend}");
        assert_eq!(
            common::scalar(
                db,
                "SELECT COUNT(*) FROM mail_outbox WHERE to_address = 'someone@example.com'"
            )
            .await,
            2,
            "{backend}: the queued and the recent mail stay"
        );
        assert_eq!(
            common::scalar(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE target = 'retention-test'"
            )
            .await,
            1,
            "{backend}"
        );
        // …the recent event is untouched…
        assert_eq!(
            registration_rows(db, recent.event_id).await,
            recent_rows,
            "{backend}"
        );
        // …and every figure is as it was.
        assert_eq!(
            tsudoi::events::event_stats(db, Tokyo, old.event_id, run_at())
                .await
                .unwrap(),
            stats_before,
            "{backend}"
        );
        assert_eq!(stats_before.checked_in, 4, "{backend}");
        assert_eq!(
            tsudoi::events::overview::overview(db, Tokyo, window.0, window.1, run_at())
                .await
                .unwrap(),
            overview_before,
            "{backend}"
        );
        let results_after = results::results(db, old.event_id, None, run_at())
            .await
            .unwrap();
        assert_eq!(
            (
                results_after.checked_in,
                results_after.respondents,
                &results_after.questions,
                &results_after.departments
            ),
            (
                results_before.checked_in,
                results_before.respondents,
                &results_before.questions,
                &results_before.departments
            ),
            "{backend}"
        );
        assert_eq!(
            (results_before.checked_in, results_before.respondents),
            (4, 3)
        );
        assert_eq!(
            tsudoi::surveys::overview::overview(db, Tokyo, window.0, window.1)
                .await
                .unwrap(),
            surveys_before,
            "{backend}"
        );

        // The plan no longer lists it; the same day does not run twice; a
        // later day finds nothing and writes no archive.
        assert!(
            retention::plan(db, run_at(), 24)
                .await
                .unwrap()
                .events
                .is_empty(),
            "{backend}"
        );
        assert_eq!(
            job::run_for(db, &settings(folder.path()), run_day(), run_at())
                .await
                .unwrap(),
            None
        );
        let next_day = job::run_for(
            db,
            &settings(folder.path()),
            run_day().succ_opt().unwrap(),
            run_at() + Duration::days(1),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(next_day, job::RunReport::default(), "{backend}");
        assert_eq!(only_folder_in(folder.path()), archive, "{backend}");
        let last = job::last_run(db).await.unwrap().unwrap();
        assert_eq!(
            (last.run_for, last.events),
            (run_day().succ_opt().unwrap().to_string(), 0)
        );
    }
}

#[tokio::test]
async fn a_run_that_cannot_write_its_archive_removes_nothing_and_the_next_one_completes() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let old = past_event(db, "stuck", old_start()).await;
        let before = registration_rows(db, old.event_id).await;
        let scratch = tempfile::tempdir().unwrap();
        // A folder inside a file: not writable whoever runs the test.
        let blocker = scratch.path().join("not-a-folder");
        std::fs::write(&blocker, b"x").unwrap();
        let unwritable = settings(&blocker.join("archive"));
        let err = job::run_for(db, &unwritable, run_day(), run_at())
            .await
            .unwrap_err();
        assert!(
            matches!(err, job::RetentionError::Archive(_)),
            "{backend}: {err}"
        );
        assert_eq!(
            registration_rows(db, old.event_id).await,
            before,
            "{backend}: nothing removed"
        );
        assert_eq!(
            common::scalar(db, "SELECT COUNT(*) FROM retention_runs").await,
            0,
            "{backend}: the failed run released its day"
        );
        assert_eq!(
            retention::plan(db, run_at(), 24)
                .await
                .unwrap()
                .events
                .len(),
            1
        );

        let folder = tempfile::tempdir().unwrap();
        let report = job::run_for(db, &settings(folder.path()), run_day(), run_at())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.events, 1, "{backend}");
        assert_eq!(
            registration_rows(db, old.event_id).await.len(),
            0,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_archive_verifies_fails_on_one_changed_byte_and_restores_an_event_identically() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let old = past_event(db, "back", old_start()).await;
        let before = registration_rows(db, old.event_id).await;
        let answers_before = common::pairs(
            db,
            &format!("SELECT user_id, CAST(answers AS TEXT) FROM survey_responses WHERE survey_id = {} ORDER BY user_id", old.survey_id),
        )
        .await;
        let stats_before = tsudoi::events::event_stats(db, Tokyo, old.event_id, run_at())
            .await
            .unwrap();
        let folder = tempfile::tempdir().unwrap();
        let archive = job::run(db, &settings(folder.path()), run_at())
            .await
            .unwrap()
            .archive
            .unwrap();
        archive_files::verify(&archive).unwrap();

        // A copy with one byte changed fails, naming the file.
        let copy = folder.path().join("copy");
        std::fs::create_dir(&copy).unwrap();
        for entry in std::fs::read_dir(&archive).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
        let damaged = copy.join("registrations.jsonl.gz");
        let mut bytes = std::fs::read(&damaged).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&damaged, bytes).unwrap();
        let err = archive_files::verify(&copy).unwrap_err().to_string();
        assert!(
            err.contains("registrations.jsonl.gz") && err.contains("checksum"),
            "{backend}: {err}"
        );
        // Restoring from the damaged copy is refused and changes nothing.
        assert!(
            restore::restore_event(db, &copy, old.event_id)
                .await
                .is_err()
        );
        assert!(
            registration_rows(db, old.event_id).await.is_empty(),
            "{backend}"
        );

        let restored = restore::restore_event(db, &archive, old.event_id)
            .await
            .unwrap();
        assert_eq!(
            (
                restored.registrations,
                restored.survey_respondents,
                restored.survey_answers
            ),
            (6, 3, 3),
            "{backend}"
        );
        assert_eq!(
            registration_rows(db, old.event_id).await,
            before,
            "{backend}: identical rows"
        );
        let answers_after = common::pairs(
            db,
            &format!("SELECT user_id, CAST(answers AS TEXT) FROM survey_responses WHERE survey_id = {} ORDER BY user_id", old.survey_id),
        )
        .await;
        assert_eq!(answers_after, answers_before, "{backend}");
        assert_eq!(
            common::scalar(
                db,
                &format!(
                    "SELECT COUNT(*) FROM survey_respondents WHERE survey_id = {}",
                    old.survey_id
                )
            )
            .await,
            3
        );
        // Counted from the rows again, the same numbers.
        assert_eq!(
            tsudoi::events::event_stats(db, Tokyo, old.event_id, run_at())
                .await
                .unwrap(),
            stats_before,
            "{backend}"
        );
        assert_eq!(
            common::scalar(
                db,
                &format!(
                    "SELECT COUNT(*) FROM archived_department_figures WHERE event_id = {}",
                    old.event_id
                )
            )
            .await,
            0
        );
        // Once back, a second restore is refused.
        let again = restore::restore_event(db, &archive, old.event_id)
            .await
            .unwrap_err();
        assert!(
            again.to_string().contains("still in place"),
            "{backend}: {again}"
        );
        // And the next run archives it again.
        let folder2 = tempfile::tempdir().unwrap();
        assert_eq!(
            job::run(db, &settings(folder2.path()), run_at())
                .await
                .unwrap()
                .events,
            1
        );
    }
}

#[tokio::test]
async fn two_instances_on_one_database_run_the_day_once() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        past_event(db, "twice", old_start()).await;
        let other = db.another_instance();
        let folder = tempfile::tempdir().unwrap();
        let first_settings = settings(folder.path());
        let second_settings = settings(folder.path());
        let (a, b) = tokio::join!(
            job::run_for(db, &first_settings, run_day(), run_at()),
            job::run_for(&other, &second_settings, run_day(), run_at()),
        );
        let ran: Vec<job::RunReport> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
        assert_eq!(ran.len(), 1, "{backend}: exactly one instance ran the day");
        assert_eq!(ran[0].events, 1, "{backend}");
        only_folder_in(folder.path());
    }
}

// ---------------------------------------------------------------------------
// People who leave: anonymized, and nothing of them left behind.

use futures_util::StreamExt;
use tsudoi::storage::Pool;
use tsudoi::users::anonymize;

/// Every text value of every table, as (table, text): what an attacker
/// with a copy of the database could read. The full-text indexes' own
/// tables (binary segments) are left out; their content table is read.
async fn every_text_in_the_database(db: &Database) -> Vec<(String, String)> {
    use sqlx::{Column, Row};
    let mut found = Vec::new();
    match db.pool() {
        Pool::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                   AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_search_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for table in tables {
                let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                for row in rows {
                    for column in row.columns() {
                        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(column.ordinal()) {
                            found.push((table.clone(), text));
                        }
                    }
                }
            }
        }
        Pool::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for table in tables {
                let rows: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT CAST(row_to_json(t) AS TEXT) FROM \"{table}\" t"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                found.extend(rows.into_iter().map(|row| (table.clone(), row)));
            }
        }
    }
    found
}

async fn bytes_of<S>(stream: S) -> String
where
    S: futures_util::Stream<Item = tsudoi::Result<Vec<u8>>>,
{
    let mut out = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        out.extend(chunk.unwrap());
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn an_anonymized_person_appears_nowhere_and_past_figures_do_not_change() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let past = past_event(db, "gone", old_start()).await;
        let now = old_start() + Duration::days(30);
        let email = "gone-in0@example.com";
        let name = format!("Person {email}");
        let person =
            common::scalar(db, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
        let admin = member(db, "gone-admin@example.com", None, Role::Admin).await;
        // Places that copy a person's address: mail, audit entries, the login counter.
        common::execute(
            db,
            &format!(
                "INSERT INTO mail_outbox (kind, recipient_user_id, to_address, status, next_attempt_at, created_at)
                 VALUES ('reminder', {person}, 'Gone-In0@Example.com', 'sent', {at}, {at})",
                at = common::sql_time(now)
            ),
        )
        .await
        .unwrap();
        let limits = tsudoi::users::throttle::LoginLimits::default();
        let refused = users::log_in(
            db,
            &limits,
            email,
            "wrong-password".into(),
            "192.0.2.1",
            now,
        )
        .await;
        assert!(refused.is_err());
        assert!(
            every_text_in_the_database(db)
                .await
                .iter()
                .any(|(_, text)| text.contains(email)),
            "{backend}: the check below can see the address"
        );

        let window = (
            common::tokyo(2026, 12, 1, 0, 0),
            common::tokyo(2027, 1, 1, 0, 0),
        );
        let stats = tsudoi::events::event_stats(db, Tokyo, past.event_id, now)
            .await
            .unwrap();
        let overview = tsudoi::events::overview::overview(db, Tokyo, window.0, window.1, now)
            .await
            .unwrap();
        let survey_results = results::results(db, past.event_id, None, now)
            .await
            .unwrap();
        let surveys = tsudoi::surveys::overview::overview(db, Tokyo, window.0, window.1)
            .await
            .unwrap();
        assert!(
            stats
                .by_department
                .iter()
                .any(|d| d.department.as_deref() == Some("営業部") && d.checked_in == 2)
        );

        assert_eq!(
            anonymize::anonymize(db, Some(admin), admin, now)
                .await
                .unwrap_err(),
            tsudoi::Error::Conflict(tsudoi::Reason::CannotAnonymizeSelf)
        );
        assert!(
            anonymize::anonymize(db, Some(admin), person, now)
                .await
                .unwrap(),
            "{backend}"
        );
        assert!(
            !anonymize::anonymize(db, Some(admin), person, now)
                .await
                .unwrap(),
            "{backend}: once"
        );

        let lowered_name = name.to_lowercase();
        for (table, text) in every_text_in_the_database(db).await {
            let lowered = text.to_lowercase();
            assert!(
                !lowered.contains(email) && !lowered.contains(&lowered_name),
                "{backend}: {table} still holds {text}"
            );
        }
        assert_eq!(
            common::scalar(db, &format!("SELECT COUNT(*) FROM users WHERE id = {person} AND department_id IS NULL AND password_hash IS NULL AND NOT active")).await,
            1,
            "{backend}"
        );
        let attendees = bytes_of(tsudoi::events::attendees::export_csv(
            db.clone(),
            past.event_id,
            Tokyo,
            Lang::Ja,
        ))
        .await;
        assert!(
            !attendees.contains(email) && attendees.contains(&anonymize::anonymous_name(person)),
            "{backend}: {attendees}"
        );
        let survey = build::of_event(db, past.event_id, now)
            .await
            .unwrap()
            .unwrap();
        let answers = bytes_of(tsudoi::surveys::export::export_csv(
            db.clone(),
            survey,
            Tokyo,
            Lang::Ja,
        ))
        .await;
        assert!(
            !answers.contains(email) && !answers.contains(&name),
            "{backend}"
        );

        // Past figures count them as before, under the department they had.
        assert_eq!(
            tsudoi::events::event_stats(db, Tokyo, past.event_id, now)
                .await
                .unwrap(),
            stats,
            "{backend}"
        );
        assert_eq!(
            tsudoi::events::overview::overview(db, Tokyo, window.0, window.1, now)
                .await
                .unwrap(),
            overview,
            "{backend}"
        );
        let after = results::results(db, past.event_id, None, now)
            .await
            .unwrap();
        assert_eq!(
            (after.departments, after.questions),
            (survey_results.departments, survey_results.questions),
            "{backend}"
        );
        assert_eq!(
            tsudoi::surveys::overview::overview(db, Tokyo, window.0, window.1)
                .await
                .unwrap(),
            surveys,
            "{backend}"
        );

        // The audit log says it happened, without saying who it was.
        assert_eq!(
            common::scalar(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'user_anonymized'"
            )
            .await,
            1
        );
        // Nobody can log in as them.
        assert!(
            users::log_in(
                db,
                &limits,
                email,
                "anything-at-all".into(),
                "192.0.2.1",
                now
            )
            .await
            .is_err()
        );
    }
}

#[tokio::test]
async fn people_who_left_are_anonymized_after_the_configured_days() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = member(db, "hr@example.com", None, Role::Admin).await;
        let leaver = member(db, "leaver@example.com", Some("総務部"), Role::Employee).await;
        let stayer = member(db, "stayer@example.com", Some("総務部"), Role::Employee).await;
        users::set_active(db, admin, leaver, false).await.unwrap();
        // Deactivated and back again: not a leaver.
        users::set_active(db, admin, stayer, false).await.unwrap();
        users::set_active(db, admin, stayer, true).await.unwrap();
        let soon = Utc::now() + Duration::days(10);
        assert_eq!(
            anonymize::anonymize_leavers(db, 90, soon).await.unwrap(),
            0,
            "{backend}"
        );
        let later = Utc::now() + Duration::days(91);
        assert_eq!(
            anonymize::anonymize_leavers(db, 90, later).await.unwrap(),
            1,
            "{backend}"
        );
        assert_eq!(
            anonymize::anonymize_leavers(db, 90, later).await.unwrap(),
            0,
            "{backend}"
        );
        let emails = common::pairs(db, "SELECT id, email FROM users WHERE email LIKE '%leaver%' OR email LIKE '%stayer%' OR email LIKE 'anonymized-%' ORDER BY id").await;
        assert_eq!(
            emails,
            [
                (leaver, anonymize::anonymous_email(leaver)),
                (stayer, "stayer@example.com".to_string())
            ],
            "{backend}"
        );
        // The daily run does it too, and says so.
        let third = member(db, "third@example.com", None, Role::Employee).await;
        users::set_active(db, admin, third, false).await.unwrap();
        let folder = tempfile::tempdir().unwrap();
        let report = job::run(db, &settings(folder.path()), later).await.unwrap();
        assert_eq!(report.people_anonymized, 1, "{backend}");
    }
}
