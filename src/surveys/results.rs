//! The organizer's view of the answers: the response rate overall and per
//! department, per question the distribution of a scale or the count of each
//! choice, and the newest free-text answers. Every figure is computed in SQL;
//! the answers themselves never come into the application. Counts per
//! question and value are sums of the tallies kept with each answer
//! (`tallies.rs`), the newest texts are read from the JSON answers
//! (PostgreSQL's JSONB functions, SQLite's JSON1). Five statements whatever
//! the number of responses, optionally narrowed to one department.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{DepartmentRate, QuestionResult, Survey, SurveyResults, TextAnswer, TextAnswerPage};
use super::{build, tallies};
use crate::storage::{Backend, Database, contains_pattern, dialect_sql, on_pool};
use crate::{Error, Result};

/// Free-text answers shown per question before "more".
pub const FIRST_TEXTS: i64 = 5;
pub use super::TEXT_PAGE_SIZE;

/// The statements [`results`] runs after reading the survey, for tests that
/// look at their plans: checked in by department (`$1` the event), answers by
/// department, the tallies per question and value (`$1` the survey, `$2`
/// the department or NULL), and the first texts (`$1` the survey, `$2` the
/// text questions' keys as a JSON array, `$3` the department or NULL).
pub fn statements(backend: Backend) -> [&'static str; 4] {
    [
        checked_in_sql(),
        "SELECT department_id, COUNT(*) FROM survey_responses WHERE survey_id = $1 GROUP BY department_id",
        // A survey's tallies are a few hundred rows: summing them over the
        // departments, or keeping one, costs the same.
        "SELECT question_key, value, CAST(SUM(answers) AS BIGINT) FROM survey_tallies
          WHERE survey_id = $1 AND ($2 IS NULL OR department_id = $2)
          GROUP BY question_key, value",
        first_texts_sql(backend),
    ]
}

fn checked_in_sql() -> &'static str {
    // Check-ins per department as the database keeps them for the event: a
    // few rows, however many came. An archived event counts from the
    // figures it kept.
    "SELECT NULLIF(a.department_key, 0), d.name, a.checked_in FROM attendance_by_department a
       LEFT JOIN departments d ON d.id = NULLIF(a.department_key, 0)
      WHERE a.event_id = $1 AND a.checked_in > 0
     UNION ALL
     SELECT a.department_id, d.name, a.checked_in FROM archived_department_figures a
       LEFT JOIN departments d ON d.id = a.department_id
      WHERE a.event_id = $1 AND a.checked_in > 0"
}

fn first_texts_sql(backend: Backend) -> &'static str {
    // Per text question, its newest answers from the (survey, time) index,
    // stopping at five.
    dialect_sql!(
        backend,
        "SELECT k.value, r.id, ",
        [json_text_at "r.answers", "k.value"],
        ", r.submitted_at FROM ",
        [json_strings_in "$2", "k"],
        " ",
        [first_rows_of "survey_responses", "n", "r"],
        "n.survey_id = $1 AND ",
        [json_is_text_at "n.answers", "k.value"],
        " AND ($3 IS NULL OR n.department_id = $3)
           ORDER BY n.submitted_at DESC, n.id DESC LIMIT 5",
        [first_rows_end "r"],
        " ORDER BY k.value, r.submitted_at DESC, r.id DESC"
    )
}

/// The results of the event's survey, for everyone or for one department.
#[tracing::instrument(level = "debug", name = "db.survey_results", skip(db, now))]
pub async fn results(
    db: &Database,
    event_id: i64,
    department_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<SurveyResults> {
    let survey = build::of_event(db, event_id, now)
        .await?
        .ok_or(Error::NotFound)?;
    let [checked_in_sql, responses_sql, tallies_sql, texts_sql] = statements(db.backend());

    let checked_in: Vec<(Option<i64>, Option<String>, i64)> =
        on_pool!(db, |pool| sqlx::query_as(checked_in_sql)
            .bind(event_id)
            .fetch_all(pool)
            .await?);
    let responses: Vec<(Option<i64>, i64)> = on_pool!(db, |pool| sqlx::query_as(responses_sql)
        .bind(survey.id)
        .fetch_all(pool)
        .await?);
    let tallies: Vec<(String, i64, i64)> = on_pool!(db, |pool| sqlx::query_as(tallies_sql)
        .bind(survey.id)
        .bind(department_id)
        .fetch_all(pool)
        .await?);
    let text_keys: Vec<&str> = survey
        .questions
        .iter()
        .filter(|q| q.kind.is_text())
        .map(|q| q.key.as_str())
        .collect();
    let texts: Vec<(String, i64, String, DateTime<Utc>)> =
        on_pool!(db, |pool| sqlx::query_as(texts_sql)
            .bind(survey.id)
            .bind(Json(&text_keys))
            .bind(department_id)
            .fetch_all(pool)
            .await?);

    let departments = department_rates(checked_in, &responses);
    let (checked_in, respondents) = match department_id {
        None => (
            departments.iter().map(|d| d.checked_in).sum(),
            survey.respondents,
        ),
        Some(wanted) => departments
            .iter()
            .find(|d| d.department_id == Some(wanted))
            .map_or((0, 0), |d| (d.checked_in, d.respondents)),
    };
    let questions = question_results(&survey, &tallies, texts);
    Ok(SurveyResults {
        survey,
        department_id,
        checked_in,
        respondents,
        questions,
        departments,
    })
}

/// Every department with someone checked in (and any whose people answered
/// and have since moved on), largest first.
fn department_rates(
    checked_in: Vec<(Option<i64>, Option<String>, i64)>,
    responses: &[(Option<i64>, i64)],
) -> Vec<DepartmentRate> {
    let answered: HashMap<Option<i64>, i64> = responses.iter().copied().collect();
    let mut rates: Vec<DepartmentRate> = checked_in
        .into_iter()
        .map(|(department_id, department, checked_in)| DepartmentRate {
            department_id,
            department,
            checked_in,
            respondents: answered.get(&department_id).copied().unwrap_or(0),
        })
        .collect();
    rates.sort_by(|a, b| {
        b.checked_in
            .cmp(&a.checked_in)
            .then_with(|| a.department.cmp(&b.department))
    });
    rates
}

fn question_results(
    survey: &Survey,
    tallies: &[(String, i64, i64)],
    texts: Vec<(String, i64, String, DateTime<Utc>)>,
) -> Vec<QuestionResult> {
    let mut texts_by_key: HashMap<String, Vec<TextAnswer>> = HashMap::new();
    for (key, response_id, text, submitted_at) in texts {
        texts_by_key.entry(key).or_default().push(TextAnswer {
            response_id,
            text,
            submitted_at,
        });
    }
    survey
        .questions
        .iter()
        .map(|question| {
            let count_of = |value: i64| {
                tallies
                    .iter()
                    .find(|(key, v, _)| *key == question.key && *v == value)
                    .map_or(0, |(_, _, n)| *n)
            };
            // Every value of the scale and every choice, also those nobody
            // picked, so a chart has all its bars.
            let values: Vec<i64> = match question.kind.scale() {
                Some((low, high)) => (low..=high).collect(),
                None => (0..question.choices.len() as i64).collect(),
            };
            QuestionResult {
                key: question.key.clone(),
                answered: count_of(tallies::ANSWERED),
                counts: values.into_iter().map(|v| (v, count_of(v))).collect(),
                texts: texts_by_key.remove(&question.key).unwrap_or_default(),
            }
        })
        .collect()
}

/// One page of a question's free-text answers, newest first, optionally
/// only those containing `search` and from one department.
pub async fn text_answers(
    db: &Database,
    event_id: i64,
    key: &str,
    department_id: Option<i64>,
    search: Option<&str>,
    page: u32,
    now: DateTime<Utc>,
) -> Result<TextAnswerPage> {
    let survey = build::of_event(db, event_id, now)
        .await?
        .ok_or(Error::NotFound)?;
    if survey.question(key).is_none_or(|q| !q.kind.is_text()) {
        return Err(Error::NotFound);
    }
    // Answers of one survey are few enough to filter as they are read; a
    // LIKE over the text of this survey's answers, not an index.
    let pattern = contains_pattern(search.unwrap_or(""));
    let sql = dialect_sql!(
        db.backend(),
        "SELECT r.id, ",
        [json_text "a"],
        ", r.submitted_at, COUNT(*) OVER ()
         FROM survey_responses r CROSS JOIN ",
        [json_entries "r.answers", "a"],
        " WHERE r.survey_id = $1 AND a.key = $2 AND ",
        [json_is_text "a"],
        " AND ($3 IS NULL OR r.department_id = $3)
           AND LOWER(",
        [json_text "a"],
        ") LIKE LOWER($4) ESCAPE '\\'
         ORDER BY r.submitted_at DESC, r.id DESC
         LIMIT $5 OFFSET $6"
    );
    let rows: Vec<(i64, String, DateTime<Utc>, i64)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .persistent(false)
        .bind(survey.id)
        .bind(key)
        .bind(department_id)
        .bind(&pattern)
        .bind(TEXT_PAGE_SIZE)
        .bind(i64::from(page) * TEXT_PAGE_SIZE)
        .fetch_all(pool)
        .await?);
    let total = rows.first().map_or(0, |row| row.3);
    Ok(TextAnswerPage {
        items: rows
            .into_iter()
            .map(|(response_id, text, submitted_at, _)| TextAnswer {
                response_id,
                text,
                submitted_at,
            })
            .collect(),
        total,
    })
}
