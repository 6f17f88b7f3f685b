//! Post-event surveys on every backend: building one (and what may change
//! after the first answer), the invitations to exactly the people who were
//! checked in, answering once, anonymity as stored in the tables, closing,
//! the results as SQL aggregates, and the CSV export.

mod common;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Asia::Tokyo;
use common::{event, scalar, tokyo};
use futures_util::StreamExt;
use tsudoi::checkin;
use tsudoi::model::{EventStatus, Lang, Role};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::Database;
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::surveys::answering::{self, Submitted};
use tsudoi::surveys::{
    AnswerProblem, Question, QuestionKind, QuestionProblem, SurveyDraft, SurveySettings,
    SurveyState, Wording, build, export, invitations, results,
};
use tsudoi::users::{self, NewUser};
use tsudoi::{Error, Reason};

/// The event: 10 December, 18:00–19:00 Tokyo.
fn starts() -> DateTime<Utc> {
    tokyo(2026, 12, 10, 18, 0)
}

fn ends() -> DateTime<Utc> {
    starts() + Duration::hours(1)
}

/// Some time after the event, while the survey is open.
fn after() -> DateTime<Utc> {
    ends() + Duration::days(1)
}

async fn each_backend() -> Vec<TestDatabase> {
    test_support::backends().await
}

async fn user(db: &Database, email: &str, department: Option<&str>, role: Role) -> i64 {
    let new = NewUser {
        email: email.into(),
        display_name: format!("Person {email}"),
        department: department.map(str::to_string),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &new, None).await.unwrap()
}

/// An event with `checked_in` people checked in at the door, `no_shows`
/// registered who never came, and one who cancelled. Returns the event, the
/// organizer, and the people as (checked in, no-shows, cancelled).
struct Gathering {
    event_id: i64,
    organizer: i64,
    checked_in: Vec<i64>,
    no_shows: Vec<i64>,
    cancelled: i64,
}

async fn gathering(db: &Database, prefix: &str, checked_in: usize, no_shows: usize) -> Gathering {
    let organizer = user(
        db,
        &format!("{prefix}-org@example.com"),
        None,
        Role::Organizer,
    )
    .await;
    let staff = user(db, &format!("{prefix}-door@example.com"), None, Role::Staff).await;
    let mut new = event("Training", starts(), EventStatus::Published);
    new.capacity = 1000;
    new.organizer_id = Some(organizer);
    let event_id = tsudoi::events::create(db, &new).await.unwrap();
    let registered_at = tokyo(2026, 12, 1, 12, 0);
    let mut attended = Vec::new();
    for n in 0..checked_in {
        let department = if n % 3 == 0 { "営業部" } else { "開発部" };
        let id = user(
            db,
            &format!("{prefix}-in{n}@example.com"),
            Some(department),
            Role::Employee,
        )
        .await;
        let registration = registrations::register(db, event_id, id, registered_at)
            .await
            .unwrap();
        checkin::by_registration(
            db,
            event_id,
            registration.id,
            staff,
            starts() - Duration::minutes(5),
        )
        .await
        .unwrap();
        attended.push(id);
    }
    let mut missing = Vec::new();
    for n in 0..no_shows {
        let id = user(
            db,
            &format!("{prefix}-away{n}@example.com"),
            Some("開発部"),
            Role::Employee,
        )
        .await;
        registrations::register(db, event_id, id, registered_at)
            .await
            .unwrap();
        missing.push(id);
    }
    let cancelled = user(
        db,
        &format!("{prefix}-cancel@example.com"),
        None,
        Role::Employee,
    )
    .await;
    let registration = registrations::register(db, event_id, cancelled, registered_at)
        .await
        .unwrap();
    registrations::end(
        db,
        registration.id,
        Ending::Cancelled { by_user: cancelled },
        registered_at + Duration::hours(1),
    )
    .await
    .unwrap();
    Gathering {
        event_id,
        organizer,
        checked_in: attended,
        no_shows: missing,
        cancelled,
    }
}

fn question(kind: QuestionKind, required: bool) -> Question {
    Question {
        key: String::new(),
        kind,
        text: Wording::new(format!("{}（質問）", kind.code()), kind.code()),
        required,
        choices: if kind.has_choices() {
            vec![
                Wording::new("講義", "Lecture"),
                Wording::new("演習", "Exercise"),
                Wording::new("質疑", "Q&A"),
            ]
        } else {
            vec![]
        },
        low_label: Wording::new("不満", "Poor"),
        high_label: Wording::new("満足", "Great"),
    }
}

/// One question of each kind: q1 rating (required), q2 single choice, q3
/// multiple choice, q4 short text, q5 long text, q6 NPS.
fn every_kind(anonymous: bool) -> SurveyDraft {
    SurveyDraft {
        questions: vec![
            question(QuestionKind::Rating, true),
            question(QuestionKind::SingleChoice, false),
            question(QuestionKind::MultipleChoice, false),
            question(QuestionKind::ShortText, false),
            question(QuestionKind::LongText, false),
            question(QuestionKind::Nps, false),
        ],
        settings: SurveySettings {
            anonymous,
            opens_at: None,
            open_days: 14,
            reminder_days_before: Some(3),
        },
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn count(db: &Database, sql: &str) -> i64 {
    scalar(db, sql).await
}

#[tokio::test]
async fn invitations_go_to_exactly_the_checked_in_once() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "inv", 5, 2).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            tokyo(2026, 12, 9, 9, 0),
        )
        .await
        .unwrap();
        assert_eq!(
            survey.opens_at,
            ends(),
            "{backend}: opens when the event ends"
        );
        assert_eq!(survey.closes_at, ends() + Duration::days(14));
        assert_eq!(survey.state, SurveyState::NotYetOpen);

        // Before the end nothing goes out.
        let early = invitations::run_due(db, ends() - Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(early.invitations, 0, "{backend}");

        // At the end: one invitation per checked-in person, nobody else.
        let second_instance = db.another_instance();
        let (first, second) = tokio::join!(
            invitations::run_due(db, ends() + Duration::seconds(30)),
            invitations::run_due(&second_instance, ends() + Duration::seconds(31)),
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(
            first.invitations + second.invitations,
            5,
            "{backend}: {first:?} {second:?}"
        );
        assert_eq!(first.opened.len() + second.opened.len(), 1, "{backend}");
        // A rerun, as after a restart, queues nothing more.
        let rerun = invitations::run_due(db, after()).await.unwrap();
        assert_eq!(rerun.invitations, 0, "{backend}");

        let invited: Vec<i64> = {
            let rows = common::pairs(
                db,
                "SELECT recipient_user_id, kind FROM mail_outbox WHERE kind = 'survey_invitation' ORDER BY recipient_user_id",
            )
            .await;
            rows.into_iter().map(|(id, _)| id).collect()
        };
        let mut expected = g.checked_in.clone();
        expected.sort_unstable();
        assert_eq!(
            invited, expected,
            "{backend}: invited exactly the checked-in"
        );
        for absent in g.no_shows.iter().chain([&g.cancelled]) {
            assert!(
                !invited.contains(absent),
                "{backend}: {absent} was not there"
            );
        }
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'survey_opened'"
            )
            .await,
            1,
            "{backend}"
        );

        // Two answer; the reminder (3 days before closing) goes to the other three.
        for person in &g.checked_in[..2] {
            answering::submit(
                db,
                Tokyo,
                survey.id,
                *person,
                &form(&[("q1", "4")]),
                after(),
            )
            .await
            .unwrap();
        }
        let before_reminder = invitations::run_due(
            db,
            survey.closes_at - Duration::days(3) - Duration::minutes(1),
        )
        .await
        .unwrap();
        assert_eq!(before_reminder.reminders, 0, "{backend}");
        let reminded = invitations::run_due(db, survey.closes_at - Duration::days(3))
            .await
            .unwrap();
        assert_eq!(reminded.reminders, 3, "{backend}");
        let again = invitations::run_due(db, survey.closes_at - Duration::days(2))
            .await
            .unwrap();
        assert_eq!(again.reminders, 0, "{backend}: one reminder only");
        let reminded_people = common::pairs(
            db,
            "SELECT recipient_user_id, kind FROM mail_outbox WHERE kind = 'survey_reminder' ORDER BY recipient_user_id",
        )
        .await;
        let mut not_answered = g.checked_in[2..].to_vec();
        not_answered.sort_unstable();
        assert_eq!(
            reminded_people
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
            not_answered,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_tsudoi_that_was_down_invites_late_and_skips_a_reminder_already_due() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "late", 2, 0).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        let run = invitations::run_due(db, survey.closes_at - Duration::days(1))
            .await
            .unwrap();
        assert_eq!((run.invitations, run.reminders), (2, 0), "{backend}");
        let next = invitations::run_due(db, survey.closes_at - Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(
            next.reminders, 0,
            "{backend}: the invitation was the reminder"
        );
        // A survey that closed while Tsudoi was down sends nothing at all.
        let other = gathering(db, "closed", 2, 0).await;
        let closed = build::save(
            db,
            other.organizer,
            other.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        let run = invitations::run_due(db, closed.closes_at + Duration::days(1))
            .await
            .unwrap();
        assert_eq!(run.invitations, 0, "{backend}");
    }
}

#[tokio::test]
async fn only_checked_in_people_answer_once_while_it_is_open() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "ans", 3, 1).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            after() - Duration::hours(30),
        )
        .await
        .unwrap();
        let person = g.checked_in[0];

        // Not yet open.
        let too_early = answering::submit(
            db,
            Tokyo,
            survey.id,
            person,
            &form(&[("q1", "5")]),
            ends() - Duration::minutes(1),
        )
        .await;
        assert!(
            matches!(
                too_early,
                Err(Error::Conflict(Reason::SurveyNotOpenYet { .. }))
            ),
            "{backend}: {too_early:?}"
        );
        // A no-show and someone who cancelled are refused, page and answer.
        for outsider in [g.no_shows[0], g.cancelled] {
            assert_eq!(
                answering::submit(
                    db,
                    Tokyo,
                    survey.id,
                    outsider,
                    &form(&[("q1", "5")]),
                    after()
                )
                .await,
                Err(Error::Conflict(Reason::SurveyOnlyForAttendees)),
                "{backend}"
            );
            assert_eq!(
                answering::for_person(db, Tokyo, survey.id, outsider, after()).await,
                Err(Error::Conflict(Reason::SurveyOnlyForAttendees)),
                "{backend}"
            );
        }
        // Every problem is named with its question, and nothing is stored.
        let refused = answering::submit(
            db,
            Tokyo,
            survey.id,
            person,
            &form(&[("q1", ""), ("q2", "7"), ("q6", "11")]),
            after(),
        )
        .await;
        assert_eq!(
            refused,
            Err(Error::Invalid(Reason::SurveyAnswersInvalid {
                problems: vec![
                    ("q1".into(), AnswerProblem::Required),
                    ("q2".into(), AnswerProblem::NotAnOption),
                    ("q6".into(), AnswerProblem::NotAnOption),
                ]
            })),
            "{backend}"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM survey_responses").await,
            0,
            "{backend}"
        );

        // Two submissions at once: one response, the later one's answers.
        let (two, three) = (form(&[("q1", "2")]), form(&[("q1", "3")]));
        let (a, b) = tokio::join!(
            answering::submit(db, Tokyo, survey.id, person, &two, after()),
            answering::submit(db, Tokyo, survey.id, person, &three, after()),
        );
        let mut outcomes = vec![a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| *o == Submitted::Changed);
        assert_eq!(
            outcomes,
            [Submitted::Answered, Submitted::Changed],
            "{backend}"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM survey_responses").await,
            1,
            "{backend}"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM survey_respondents").await,
            1,
            "{backend}"
        );

        // A named answer can be changed and is shown back to its author.
        let changed = answering::submit(
            db,
            Tokyo,
            survey.id,
            person,
            &form(&[
                ("q1", "5"),
                ("q3", "0"),
                ("q3", "2"),
                ("q4", "とても良かった"),
            ]),
            after() + Duration::hours(1),
        )
        .await
        .unwrap();
        assert_eq!(changed, Submitted::Changed);
        let page = answering::for_person(db, Tokyo, survey.id, person, after())
            .await
            .unwrap();
        assert!(page.answered);
        let answers = page.answers.unwrap();
        assert_eq!(answers["q1"], tsudoi::surveys::Answer::Scale(5));
        assert_eq!(answers["q3"], tsudoi::surveys::Answer::Choices(vec![0, 2]));
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM survey_responses WHERE user_id = {person}")
            )
            .await,
            1,
            "{backend}: a named survey keeps who answered what"
        );

        // Closing early stops answers; the time is honoured too.
        build::close_now(db, g.organizer, g.event_id, after() + Duration::hours(2))
            .await
            .unwrap();
        assert_eq!(
            answering::submit(
                db,
                Tokyo,
                survey.id,
                g.checked_in[1],
                &form(&[("q1", "4")]),
                after() + Duration::hours(3)
            )
            .await,
            Err(Error::Conflict(Reason::SurveyClosed)),
            "{backend}"
        );
        assert_eq!(
            build::close_now(db, g.organizer, g.event_id, after() + Duration::hours(4)).await,
            Err(Error::Conflict(Reason::SurveyClosed)),
            "{backend}"
        );
        let other = gathering(db, "time", 1, 0).await;
        let timed = build::save(
            db,
            other.organizer,
            other.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        assert_eq!(
            answering::submit(
                db,
                Tokyo,
                timed.id,
                other.checked_in[0],
                &form(&[("q1", "4")]),
                timed.closes_at
            )
            .await,
            Err(Error::Conflict(Reason::SurveyClosed)),
            "{backend}: closed at its closing time"
        );
        assert!(
            answering::submit(
                db,
                Tokyo,
                timed.id,
                other.checked_in[0],
                &form(&[("q1", "4")]),
                timed.closes_at - Duration::seconds(1)
            )
            .await
            .is_ok(),
            "{backend}: open until then"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action IN ('survey_created', 'survey_closed')"
            )
            .await,
            3,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_anonymous_survey_stores_nothing_that_links_a_person_to_the_answers() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "anon", 3, 0).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(true),
            after(),
        )
        .await
        .unwrap();
        let person = g.checked_in[0];
        let at = after() + Duration::minutes(17) + Duration::seconds(3);
        assert_eq!(
            answering::submit(
                db,
                Tokyo,
                survey.id,
                person,
                &form(&[("q1", "3"), ("q4", "匿名の意見")]),
                at
            )
            .await,
            Ok(Submitted::Answered)
        );
        // A second answer is refused rather than stored beside the first.
        assert_eq!(
            answering::submit(db, Tokyo, survey.id, person, &form(&[("q1", "1")]), at).await,
            Err(Error::Conflict(Reason::SurveyAnsweredAnonymously)),
            "{backend}"
        );
        // Two others at once: both stored, each once.
        let (five, four) = (form(&[("q1", "5")]), form(&[("q1", "4")]));
        let (a, b) = tokio::join!(
            answering::submit(db, Tokyo, survey.id, g.checked_in[1], &five, at),
            answering::submit(db, Tokyo, survey.id, g.checked_in[2], &four, at),
        );
        assert_eq!(
            (a, b),
            (Ok(Submitted::Answered), Ok(Submitted::Answered)),
            "{backend}"
        );

        assert_eq!(
            count(db, "SELECT COUNT(*) FROM survey_responses").await,
            3,
            "{backend}"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM survey_responses WHERE user_id IS NOT NULL"
            )
            .await,
            0,
            "{backend}: no person stored with an anonymous answer"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM survey_respondents").await,
            3,
            "{backend}"
        );
        // No time in either table finer than a day, and none that matches
        // between them: the order of answers cannot be matched to people.
        let answered_at = common::pairs(
            db,
            "SELECT CAST(0 AS BIGINT), CAST(answered_at AS TEXT) FROM survey_respondents",
        )
        .await;
        let submitted_at = common::pairs(
            db,
            "SELECT CAST(0 AS BIGINT), CAST(submitted_at AS TEXT) FROM survey_responses",
        )
        .await;
        for (_, text) in &submitted_at {
            assert!(
                !text.contains(":17") && !text.contains(":03"),
                "{backend}: an anonymous answer keeps its day only, not {text}"
            );
        }
        for (_, text) in &answered_at {
            assert!(
                !submitted_at.iter().any(|(_, s)| s == text),
                "{backend}: {text}"
            );
        }
        // The person sees that they answered, but not the answers (not linked).
        let page = answering::for_person(db, Tokyo, survey.id, person, after())
            .await
            .unwrap();
        assert!(page.answered && page.answers.is_none(), "{backend}");
    }
}

#[tokio::test]
async fn after_the_first_answer_only_wording_changes() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "edit", 1, 0).await;
        let at = tokyo(2026, 12, 9, 9, 0);

        // A bad draft is refused with its question named; nothing is stored.
        let mut bad = every_kind(false);
        bad.questions[1].choices.truncate(1);
        assert_eq!(
            build::save(db, g.organizer, g.event_id, None, &bad, at).await,
            Err(Error::Invalid(Reason::SurveyQuestionsInvalid {
                problems: vec![(2, QuestionProblem::TooFewChoices)]
            })),
            "{backend}"
        );
        assert_eq!(count(db, "SELECT COUNT(*) FROM surveys").await, 0);

        let survey = build::save(db, g.organizer, g.event_id, None, &every_kind(false), at)
            .await
            .unwrap();
        let keys: Vec<&str> = survey.questions.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["q1", "q2", "q3", "q4", "q5", "q6"]);
        // Before any answer anything may change: drop q6, add a question.
        let mut reshaped = SurveyDraft {
            questions: survey.questions.clone(),
            settings: survey.settings.clone(),
        };
        reshaped.questions.pop();
        reshaped
            .questions
            .push(question(QuestionKind::ShortText, false));
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            Some(survey.version),
            &reshaped,
            at,
        )
        .await
        .unwrap();
        assert_eq!(
            survey.questions.last().unwrap().key,
            "q7",
            "{backend}: a new key, never q6 again"
        );
        // A stale form is refused.
        assert_eq!(
            build::save(
                db,
                g.organizer,
                g.event_id,
                Some(survey.version - 1),
                &reshaped,
                at
            )
            .await,
            Err(Error::Conflict(Reason::SurveyChangedMeanwhile)),
            "{backend}"
        );

        answering::submit(
            db,
            Tokyo,
            survey.id,
            g.checked_in[0],
            &form(&[("q1", "4"), ("q2", "2")]),
            after(),
        )
        .await
        .unwrap();
        let current = SurveyDraft {
            questions: survey.questions.clone(),
            settings: survey.settings.clone(),
        };
        // Rewording and reordering are fine.
        let mut reworded = current.clone();
        reworded.questions[0].text = Wording::new("研修の満足度", "How satisfied were you?");
        reworded.questions[1].choices[2] = Wording::new("質疑応答", "Questions");
        reworded.questions.swap(0, 1);
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            Some(survey.version),
            &reworded,
            after(),
        )
        .await
        .unwrap();
        assert_eq!(survey.questions[1].text.ja, "研修の満足度");

        let now = after() + Duration::hours(1);
        let version = Some(survey.version);
        let mut removed = reworded.clone();
        removed.questions.remove(2);
        assert_eq!(
            build::save(db, g.organizer, g.event_id, version, &removed, now).await,
            Err(Error::Conflict(Reason::SurveyFixedByAnswers)),
            "{backend}"
        );
        let mut retyped = reworded.clone();
        retyped.questions[1].kind = QuestionKind::Nps;
        let mut more_choices = reworded.clone();
        more_choices.questions[0]
            .choices
            .push(Wording::new("懇親会", "Party"));
        let mut added = reworded.clone();
        added.questions.push(question(QuestionKind::Rating, false));
        for (changed, position) in [(retyped, 2), (more_choices, 1), (added, 7)] {
            assert_eq!(
                build::save(db, g.organizer, g.event_id, version, &changed, now).await,
                Err(Error::Invalid(Reason::SurveyQuestionsInvalid {
                    problems: vec![(position, QuestionProblem::ChangedAfterAnswers)]
                })),
                "{backend}"
            );
        }
        let mut anonymous = reworded.clone();
        anonymous.settings.anonymous = true;
        assert_eq!(
            build::save(db, g.organizer, g.event_id, version, &anonymous, now).await,
            Err(Error::Conflict(Reason::SurveyFixedByAnswers)),
            "{backend}"
        );
        // The stored answer still means what it meant.
        let stored = build::get(db, survey.id, now).await.unwrap();
        assert_eq!(
            stored.version, survey.version,
            "{backend}: nothing refused was saved"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action IN ('survey_created', 'survey_edited')"
            )
            .await,
            3,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_survey_that_opens_with_the_event_moves_with_it_and_a_copy_starts_fresh() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "move", 1, 0).await;
        let at = tokyo(2026, 12, 1, 9, 0);
        build::save(db, g.organizer, g.event_id, None, &every_kind(false), at)
            .await
            .unwrap();
        let managed = tsudoi::events::manage::get(db, Tokyo, g.event_id)
            .await
            .unwrap();
        let mut moved = managed.draft.clone();
        moved.starts_at = starts() + Duration::days(1);
        moved.ends_at = ends() + Duration::days(1);
        tsudoi::events::manage::update(db, g.organizer, g.event_id, managed.version, &moved, at)
            .await
            .unwrap();
        let survey = build::of_event(db, g.event_id, at).await.unwrap().unwrap();
        assert_eq!(survey.opens_at, ends() + Duration::days(1), "{backend}");
        assert_eq!(survey.closes_at, ends() + Duration::days(15), "{backend}");

        // Next quarter's run copies the questions; keys and time start fresh.
        let copy = build::draft_copied_from(db, g.event_id, at).await.unwrap();
        assert_eq!(copy.questions.len(), 6);
        assert!(copy.questions.iter().all(|q| q.key.is_empty()));
        assert_eq!(copy.settings.opens_at, None);
        assert_eq!(copy.settings.reminder_days_before, Some(3));
        assert_eq!(
            build::draft_copied_from(db, g.event_id + 1000, at).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test]
async fn results_are_aggregates_by_question_and_department_and_the_csv_has_every_answer() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        // 6 checked in: 営業部 are numbers 0 and 3, 開発部 1, 2, 4, 5.
        let g = gathering(db, "res", 6, 2).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        let answers: [&[(&str, &str)]; 4] = [
            &[
                ("q1", "5"),
                ("q2", "0"),
                ("q3", "0"),
                ("q3", "1"),
                ("q4", "=1+1 良い"),
                ("q6", "10"),
            ],
            &[
                ("q1", "4"),
                ("q2", "0"),
                ("q3", "1"),
                ("q5", "長い\n感想"),
                ("q6", "9"),
            ],
            &[
                ("q1", "2"),
                ("q2", "2"),
                ("q4", "もう少し短く"),
                ("q6", "3"),
            ],
            &[("q1", "5"), ("q6", "8")],
        ];
        for (n, pairs) in answers.iter().enumerate() {
            answering::submit(
                db,
                Tokyo,
                survey.id,
                g.checked_in[n],
                &form(pairs),
                after() + Duration::minutes(n as i64),
            )
            .await
            .unwrap();
        }
        let all = results::results(db, g.event_id, None, after())
            .await
            .unwrap();
        assert_eq!((all.checked_in, all.respondents), (6, 4), "{backend}");
        let q = |key: &str| all.questions.iter().find(|q| q.key == key).unwrap().clone();
        assert_eq!(
            q("q1").counts,
            vec![(1, 0), (2, 1), (3, 0), (4, 1), (5, 2)],
            "{backend}"
        );
        assert_eq!(q("q1").answered, 4);
        assert_eq!(q("q1").mean_hundredths(), Some(400));
        assert_eq!(q("q2").counts, vec![(0, 2), (1, 0), (2, 1)], "{backend}");
        assert_eq!(q("q3").counts, vec![(0, 1), (1, 2), (2, 0)], "{backend}");
        assert_eq!(q("q3").answered, 2, "{backend}: people, not choices");
        assert_eq!(q("q6").net_promoter_score(), Some(25), "{backend}");
        assert_eq!(q("q6").counts.len(), 11);
        let q4 = q("q4");
        let texts: Vec<&str> = q4.texts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["もう少し短く", "=1+1 良い"],
            "{backend}: newest first"
        );
        assert_eq!(q("q5").texts[0].text, "長い\n感想");

        // By department: the rate everywhere, the figures for one.
        let rate = |name: &str| {
            all.departments
                .iter()
                .find(|d| d.department.as_deref() == Some(name))
                .map(|d| (d.checked_in, d.respondents))
        };
        assert_eq!(rate("開発部"), Some((4, 2)), "{backend}");
        assert_eq!(rate("営業部"), Some((2, 2)), "{backend}");
        let sales = all
            .departments
            .iter()
            .find(|d| d.department.as_deref() == Some("営業部"))
            .unwrap()
            .department_id;
        let narrowed = results::results(db, g.event_id, sales, after())
            .await
            .unwrap();
        assert_eq!(
            (narrowed.checked_in, narrowed.respondents),
            (2, 2),
            "{backend}"
        );
        let q1 = &narrowed.questions[0];
        assert_eq!(
            q1.counts,
            vec![(1, 0), (2, 0), (3, 0), (4, 0), (5, 2)],
            "{backend}"
        );

        // Free text, searched and paged.
        let found = results::text_answers(db, g.event_id, "q4", None, Some("短く"), 0, after())
            .await
            .unwrap();
        assert_eq!((found.total, found.items.len()), (1, 1), "{backend}");
        assert_eq!(
            results::text_answers(db, g.event_id, "q1", None, None, 0, after()).await,
            Err(Error::NotFound),
            "{backend}: not a text question"
        );

        // The CSV: a BOM, a header naming each question, a line per response.
        let mut file = Vec::new();
        let mut chunks = std::pin::pin!(export::export_csv(
            db.clone(),
            all.survey.clone(),
            Tokyo,
            Lang::Ja
        ));
        while let Some(chunk) = chunks.next().await {
            file.extend(chunk.unwrap());
        }
        let text = String::from_utf8(file).unwrap();
        assert!(text.starts_with('\u{FEFF}'), "{backend}");
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header[..5],
            ["回答ID", "回答日時", "氏名", "メールアドレス", "部署"]
        );
        assert_eq!(header[5], "1. rating（質問）");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4, "{backend}");
        assert_eq!(&rows[0][3], "res-in0@example.com");
        assert_eq!(&rows[0][4], "営業部");
        assert_eq!(&rows[0][5], "5");
        assert_eq!(&rows[0][6], "講義");
        assert_eq!(&rows[0][7], "講義 / 演習");
        assert_eq!(&rows[0][8], "'=1+1 良い", "{backend}: a formula is text");
        assert_eq!(&rows[1][9], "長い\n感想");
    }
}

#[tokio::test]
async fn the_overview_has_the_rate_and_mean_rating_per_month_and_department() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        // 6 checked in: 営業部 0 and 3, 開発部 1, 2, 4, 5.
        let g = gathering(db, "over", 6, 1).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        for (n, rating) in [(0, "5"), (1, "4"), (2, "2")] {
            answering::submit(
                db,
                Tokyo,
                survey.id,
                g.checked_in[n],
                &form(&[("q1", rating), ("q6", "9")]),
                after(),
            )
            .await
            .unwrap();
        }
        // Another event without a survey does not count.
        gathering(db, "nosurvey", 2, 0).await;
        let overview = tsudoi::surveys::overview::overview(
            db,
            Tokyo,
            tokyo(2026, 12, 1, 0, 0),
            tokyo(2027, 1, 1, 0, 0),
        )
        .await
        .unwrap();
        assert_eq!(overview.months.len(), 1, "{backend}");
        let month = &overview.months[0];
        assert_eq!(month.label.as_deref(), Some("2026-12"));
        assert_eq!(
            (month.surveys, month.checked_in, month.respondents),
            (1, 6, 3),
            "{backend}"
        );
        // Only the 1–5 rating counts toward the mean, not the 0–10 question.
        assert_eq!((month.rating_sum, month.ratings), (11, 3), "{backend}");
        assert_eq!(month.mean_rating_hundredths(), Some(367));
        let department = |name: &str| {
            overview
                .departments
                .iter()
                .find(|d| d.label.as_deref() == Some(name))
                .map(|d| (d.checked_in, d.respondents, d.rating_sum, d.ratings))
        };
        assert_eq!(department("営業部"), Some((2, 1, 5, 1)), "{backend}");
        assert_eq!(department("開発部"), Some((4, 2, 6, 2)), "{backend}");
    }
}

#[tokio::test]
async fn the_tallies_kept_with_each_answer_match_a_count_of_the_stored_answers() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let g = gathering(db, "tally", 8, 0).await;
        let survey = build::save(
            db,
            g.organizer,
            g.event_id,
            None,
            &every_kind(false),
            after(),
        )
        .await
        .unwrap();
        // Everyone at once, then three change their answers: a new rating,
        // other choices, and an optional answer left empty the second time.
        let first = g.checked_in.iter().enumerate().map(|(n, &person)| {
            let rating = (1 + n % 5).to_string();
            let choice = (n % 3).to_string();
            let score = (n % 11).to_string();
            async move {
                answering::submit(
                    db,
                    Tokyo,
                    survey.id,
                    person,
                    &form(&[
                        ("q1", &rating),
                        ("q2", &choice),
                        ("q3", "0"),
                        ("q3", &choice),
                        ("q4", "良い"),
                        ("q6", &score),
                    ]),
                    after(),
                )
                .await
            }
        });
        for answered in futures_util::future::join_all(first).await {
            assert_eq!(answered.unwrap(), Submitted::Answered, "{backend}");
        }
        let changes: [(usize, &[(&str, &str)]); 3] = [
            (0, &[("q1", "5"), ("q2", "1"), ("q3", "0"), ("q4", "良い")]),
            (
                1,
                &[("q1", "2"), ("q3", "1"), ("q3", "2"), ("q5", "長い\n感想")],
            ),
            (2, &[("q1", "3")]),
        ];
        for (n, pairs) in changes {
            let changed = answering::submit(
                db,
                Tokyo,
                survey.id,
                g.checked_in[n],
                &form(pairs),
                after() + Duration::minutes(1),
            )
            .await
            .unwrap();
            assert_eq!(changed, Submitted::Changed, "{backend}");
        }

        let tallies_sql = format!(
            "SELECT answers, question_key || ':' || value || ':' || department_id
               FROM survey_tallies WHERE survey_id = {} AND answers <> 0
              ORDER BY question_key, value, department_id",
            survey.id
        );
        let kept = common::pairs(db, &tallies_sql).await;
        tsudoi::surveys::tallies::recount(db, survey.id)
            .await
            .unwrap();
        let counted = common::pairs(db, &tallies_sql).await;
        assert_eq!(kept, counted, "{backend}");
        // The figures are there: 8 answered the rating, 6 the short text
        // after two left it empty the second time.
        let all: i64 = kept
            .iter()
            .filter(|(_, tally)| tally.starts_with("q1:-1:"))
            .map(|(n, _)| n)
            .sum();
        assert_eq!(all, 8, "{backend}");
        let short_texts: i64 = kept
            .iter()
            .filter(|(_, tally)| tally.starts_with("q4:-1:"))
            .map(|(n, _)| n)
            .sum();
        assert_eq!(short_texts, 6, "{backend}");
    }
}
