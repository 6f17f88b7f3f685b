//! Everything Tsudoi holds about one person, for them to download from
//! *Your account*: who they are, every registration with its check-in, and
//! their answers to named surveys. Answers to anonymous surveys are not
//! linked to anyone, so only the fact that they answered is listed.
//!
//! Every statement starts from the person's own rows (their registrations,
//! then the one survey of each event and their one response to it), so the
//! cost follows what they did, not the size of the company.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;

use crate::storage::{Database, on_pool};
use crate::{Error, Result};

/// The version of the file's layout, written into it.
pub const FORMAT: &str = "tsudoi-own-data/1";

#[derive(Debug, Serialize)]
pub struct OwnData {
    pub format: &'static str,
    pub made_at: DateTime<Utc>,
    pub person: Person,
    pub registrations: Vec<OwnRegistration>,
    pub survey_answers: Vec<OwnSurveyAnswer>,
    /// Surveys answered anonymously: the answers are not linked to the person.
    pub anonymous_surveys_answered: Vec<AnsweredAnonymously>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Person {
    pub email: String,
    pub display_name: String,
    pub department: Option<String>,
    pub role: String,
    pub lang: String,
    pub wants_reminders: bool,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct OwnRegistration {
    pub event_id: i64,
    pub event_title_ja: Option<String>,
    pub event_title_en: Option<String>,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub last_changed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct OwnSurveyAnswer {
    pub event_id: i64,
    pub event_title_ja: Option<String>,
    pub event_title_en: Option<String>,
    /// The questions as the organizer wrote them, in both languages.
    pub questions: serde_json::Value,
    /// The answers by question key.
    pub answers: serde_json::Value,
    pub submitted_at: DateTime<Utc>,
    pub last_changed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AnsweredAnonymously {
    pub event_id: i64,
    pub event_title_ja: Option<String>,
    pub event_title_en: Option<String>,
}

type AnswerRow = (
    i64,
    Option<String>,
    Option<String>,
    Json<serde_json::Value>,
    Json<serde_json::Value>,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// What Tsudoi holds about `user_id`, as of `now`.
#[tracing::instrument(level = "debug", name = "db.own_data", skip(db, now))]
pub async fn own_data(db: &Database, user_id: i64, now: DateTime<Utc>) -> Result<OwnData> {
    let person: Option<Person> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT u.email, u.display_name, d.name AS department, u.role, u.lang, u.wants_reminders
           FROM users u LEFT JOIN departments d ON d.id = u.department_id
          WHERE u.id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    });
    let person = person.ok_or(Error::NotFound)?;
    let registrations: Vec<OwnRegistration> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT r.event_id, e.title_ja AS event_title_ja, e.title_en AS event_title_en, e.place,
                e.starts_at, e.ends_at, r.status, r.registered_at, r.checked_in_at,
                r.updated_at AS last_changed_at
           FROM registrations r JOIN events e ON e.id = r.event_id
          WHERE r.user_id = $1
          ORDER BY e.starts_at, r.id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?
    });
    let answers: Vec<AnswerRow> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT e.id, e.title_ja, e.title_en, s.questions, sr.answers, sr.submitted_at, sr.updated_at
           FROM registrations r
           JOIN events e ON e.id = r.event_id
           JOIN surveys s ON s.event_id = r.event_id
           JOIN survey_responses sr ON sr.survey_id = s.id AND sr.user_id = r.user_id
          WHERE r.user_id = $1
          ORDER BY e.starts_at, e.id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?
    });
    let anonymous: Vec<AnsweredAnonymously> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT e.id AS event_id, e.title_ja AS event_title_ja, e.title_en AS event_title_en
           FROM registrations r
           JOIN events e ON e.id = r.event_id
           JOIN surveys s ON s.event_id = r.event_id AND s.anonymous
           JOIN survey_respondents sp ON sp.survey_id = s.id AND sp.user_id = r.user_id
          WHERE r.user_id = $1
          ORDER BY e.starts_at, e.id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?);
    Ok(OwnData {
        format: FORMAT,
        made_at: now,
        person,
        registrations,
        survey_answers: answers
            .into_iter()
            .map(
                |(event_id, title_ja, title_en, questions, answers, submitted_at, changed_at)| {
                    OwnSurveyAnswer {
                        event_id,
                        event_title_ja: title_ja,
                        event_title_en: title_en,
                        questions: questions.0,
                        answers: answers.0,
                        submitted_at,
                        last_changed_at: changed_at,
                    }
                },
            )
            .collect(),
        anonymous_surveys_answered: anonymous,
    })
}
