//! A survey with many answers, written straight into the tables (the
//! answering path is tested elsewhere; here only the volume matters): an
//! event with `people` checked in across 10 departments, a survey of ten
//! questions of every kind, and `answers` responses. Shared by the
//! statement-count test and the results benchmark.

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use tsudoi::model::{Category, EventStatus};
use tsudoi::storage::{Database, Pool};
use tsudoi::surveys::{
    Answer, Answers, Question, QuestionKind, SurveyDraft, SurveySettings, Wording, build,
};

pub struct SeededSurvey {
    pub event_id: i64,
    pub survey_id: i64,
    /// One of the departments, for narrowed results.
    pub department_id: i64,
}

/// Ten questions: two ratings, an NPS, two single and two multiple choices,
/// two short and one long text.
pub fn ten_questions() -> Vec<Question> {
    let kinds = [
        QuestionKind::Rating,
        QuestionKind::Rating,
        QuestionKind::Nps,
        QuestionKind::SingleChoice,
        QuestionKind::SingleChoice,
        QuestionKind::MultipleChoice,
        QuestionKind::MultipleChoice,
        QuestionKind::ShortText,
        QuestionKind::ShortText,
        QuestionKind::LongText,
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(n, kind)| Question {
            key: String::new(),
            kind,
            text: Wording::new(format!("質問{n}"), format!("Question {n}")),
            required: false,
            choices: if kind.has_choices() {
                (0..5)
                    .map(|c| Wording::new(format!("選択{c}"), format!("Choice {c}")))
                    .collect()
            } else {
                vec![]
            },
            low_label: Wording::default(),
            high_label: Wording::default(),
        })
        .collect()
}

fn answers_of(questions: &[Question], n: usize) -> Answers {
    let mut answers = Answers::new();
    for (i, question) in questions.iter().enumerate() {
        let seed = n * 7 + i * 3;
        let answer = match question.kind {
            QuestionKind::Rating => Answer::Scale(1 + (seed % 5) as i64),
            QuestionKind::Nps => Answer::Scale((seed % 11) as i64),
            QuestionKind::SingleChoice => Answer::Choices(vec![(seed % 5) as u32]),
            QuestionKind::MultipleChoice => {
                Answer::Choices(vec![(seed % 5) as u32, ((seed + 2) % 5) as u32])
            }
            QuestionKind::ShortText => Answer::Text(format!("短い回答 {n}")),
            QuestionKind::LongText => Answer::Text(format!("長い回答 {n}\n二行目")),
        };
        answers.insert(question.key.clone(), answer);
    }
    answers
}

macro_rules! seed_rows {
    ($pool:expr, $event_id:expr, $survey_id:expr, $questions:expr, $people:expr, $answers:expr, $departments:expr, $at:expr) => {{
        let mut tx = $pool.begin().await.unwrap();
        for n in 0..$people {
            let department = $departments[n % $departments.len()];
            let user_id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, display_name, department_id, role, lang)
                 VALUES ($1, $2, $3, 'employee', 'ja') RETURNING id",
            )
            .bind(format!("survey-seed-{}-{n}@example.co.jp", $event_id))
            .bind(format!("回答者 {n}"))
            .bind(department)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at)
                 VALUES ($1, $2, 'checked_in', $3, $3, $3)",
            )
            .bind($event_id)
            .bind(user_id)
            .bind($at)
            .execute(&mut *tx)
            .await
            .unwrap();
            if n < $answers {
                sqlx::query(
                    "INSERT INTO survey_respondents (survey_id, user_id, answered_at) VALUES ($1, $2, $3)",
                )
                .bind($survey_id)
                .bind(user_id)
                .bind($at)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO survey_responses (survey_id, user_id, department_id, answers, submitted_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind($survey_id)
                .bind(user_id)
                .bind(department)
                .bind(Json(answers_of($questions, n)))
                .bind($at + Duration::seconds(n as i64))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        sqlx::query("UPDATE events SET seats_taken = $2 WHERE id = $1")
            .bind($event_id)
            .bind($people as i32)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }};
}

/// Seeds one event with `people` checked in and `answers` of them answered.
pub async fn seed(db: &Database, tag: &str, people: usize, answers: usize) -> SeededSurvey {
    let ends: DateTime<Utc> = Utc::now() - Duration::days(1);
    let starts = ends - Duration::hours(2);
    let event_id = tsudoi::events::create(
        db,
        &tsudoi::events::NewEvent {
            title_ja: Some(format!("研修 {tag}")),
            title_en: Some(format!("Training {tag}")),
            description_ja: String::new(),
            description_en: String::new(),
            category: Category::Training,
            place: "Hall".into(),
            starts_at: starts,
            ends_at: ends,
            capacity: people.max(1) as i32,
            status: EventStatus::Published,
            organizer_id: None,
        },
    )
    .await
    .unwrap();
    let mut departments = Vec::new();
    for d in 0..10 {
        departments.push(
            tsudoi::users::department_id(db, &format!("部署 {d}"))
                .await
                .unwrap(),
        );
    }
    let organizer = tsudoi::users::upsert(
        db,
        &tsudoi::users::NewUser {
            email: format!("survey-seed-organizer-{tag}@example.co.jp"),
            display_name: "主催者".into(),
            department: None,
            role: tsudoi::model::Role::Organizer,
            lang: tsudoi::model::Lang::Ja,
        },
        None,
    )
    .await
    .unwrap();
    let survey = build::save(
        db,
        organizer,
        event_id,
        None,
        &SurveyDraft {
            questions: ten_questions(),
            settings: SurveySettings {
                opens_at: Some(starts),
                ..SurveySettings::default()
            },
        },
        starts,
    )
    .await
    .unwrap();
    let questions = &survey.questions;
    match db.pool() {
        Pool::Sqlite(pool) => seed_rows!(
            pool,
            event_id,
            survey.id,
            questions,
            people,
            answers,
            departments,
            starts
        ),
        Pool::Postgres(pool) => seed_rows!(
            pool,
            event_id,
            survey.id,
            questions,
            people,
            answers,
            departments,
            starts
        ),
    }
    // The answers went straight into their table; their tallies are counted
    // from them as the migration counts earlier answers.
    tsudoi::surveys::tallies::recount(db, survey.id)
        .await
        .unwrap();
    SeededSurvey {
        event_id,
        survey_id: survey.id,
        department_id: departments[0],
    }
}
