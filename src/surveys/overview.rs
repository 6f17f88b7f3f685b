//! Surveys across events, for administrators: for the published events
//! with a survey that start in a window of months, the response rate and
//! the mean 1–5 rating per company-local month and per department. Five
//! grouped statements; no answer is loaded into the application (sums are
//! cast back to BIGINT: PostgreSQL sums bigints as numeric). A rating
//! is an answer to a question whose kind, in the survey's own question
//! list, is `rating`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{SurveyOverview, SurveyTotals};
use crate::Result;
use crate::storage::{Backend, Database, dialect_sql, on_pool};

/// The statements [`overview`] runs. `$1`/`$2` bound the events' start;
/// `$3` is the zone's offset in seconds in the two per month.
pub fn statements(backend: Backend) -> [&'static str; 5] {
    let per_month = dialect_sql!(
        backend,
        "SELECT ",
        [local_month "e.starts_at", "$3"],
        " AS month, COUNT(*),
           CAST(SUM((SELECT COALESCE(SUM(a.checked_in), 0) FROM attendance_by_department a WHERE a.event_id = e.id)
                    + (SELECT COALESCE(SUM(a.checked_in), 0) FROM archived_department_figures a WHERE a.event_id = e.id)) AS BIGINT),
           CAST(SUM((SELECT COUNT(*) FROM survey_responses sr WHERE sr.survey_id = s.id)) AS BIGINT)
         FROM surveys s JOIN events e ON e.id = s.event_id
         WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
         GROUP BY 1 ORDER BY 1"
    );
    let ratings_per_month = dialect_sql!(
        backend,
        "SELECT ",
        [local_month "e.starts_at", "$3"],
        " AS month, CAST(SUM(",
        [json_number "a"],
        ") AS BIGINT), COUNT(*)
         FROM surveys s JOIN events e ON e.id = s.event_id
         JOIN survey_responses r ON r.survey_id = s.id
         CROSS JOIN ",
        [json_entries "r.answers", "a"],
        " CROSS JOIN ",
        [json_elements "s.questions", "q"],
        " WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
           AND ",
        [json_field "q", "key"],
        " = a.key AND ",
        [json_field "q", "kind"],
        " = 'rating'
         GROUP BY 1 ORDER BY 1"
    );
    let ratings_per_department = dialect_sql!(
        backend,
        "SELECT r.department_id, CAST(SUM(",
        [json_number "a"],
        ") AS BIGINT), COUNT(*)
         FROM surveys s JOIN events e ON e.id = s.event_id
         JOIN survey_responses r ON r.survey_id = s.id
         CROSS JOIN ",
        [json_entries "r.answers", "a"],
        " CROSS JOIN ",
        [json_elements "s.questions", "q"],
        " WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
           AND ",
        [json_field "q", "key"],
        " = a.key AND ",
        [json_field "q", "kind"],
        " = 'rating'
         GROUP BY r.department_id"
    );
    [
        per_month,
        ratings_per_month,
        // Check-ins per department as the database keeps them for each
        // event; archived events from the figures they kept.
        "SELECT x.department_id, d.name, CAST(SUM(x.checked_in) AS BIGINT)
         FROM (SELECT NULLIF(a.department_key, 0) AS department_id, a.checked_in
                 FROM surveys s JOIN events e ON e.id = s.event_id
                 JOIN attendance_by_department a ON a.event_id = e.id
                WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
                  AND a.checked_in > 0
               UNION ALL
               SELECT a.department_id, a.checked_in
                 FROM surveys s JOIN events e ON e.id = s.event_id
                 JOIN archived_department_figures a ON a.event_id = e.id
                WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
                  AND a.checked_in > 0) x
         LEFT JOIN departments d ON d.id = x.department_id
         GROUP BY x.department_id, d.name",
        "SELECT r.department_id, COUNT(*)
         FROM surveys s JOIN events e ON e.id = s.event_id
         JOIN survey_responses r ON r.survey_id = s.id
         WHERE e.status = 'published' AND e.starts_at >= $1 AND e.starts_at < $2
         GROUP BY r.department_id",
        ratings_per_department,
    ]
}

/// The survey figures of the events starting in `[from, until)`.
pub async fn overview(
    db: &Database,
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<SurveyOverview> {
    let [
        per_month,
        ratings_per_month,
        checked_in,
        responses,
        ratings_per_department,
    ] = statements(db.backend());
    let offset = crate::events::overview::window_offset(tz, from);
    let months: Vec<(String, i64, Option<i64>, Option<i64>)> =
        on_pool!(db, |pool| sqlx::query_as(per_month)
            .bind(from)
            .bind(until)
            .bind(offset)
            .fetch_all(pool)
            .await?);
    let month_ratings: Vec<(String, Option<i64>, i64)> =
        on_pool!(db, |pool| sqlx::query_as(ratings_per_month)
            .bind(from)
            .bind(until)
            .bind(offset)
            .fetch_all(pool)
            .await?);
    let attended: Vec<(Option<i64>, Option<String>, i64)> =
        on_pool!(db, |pool| sqlx::query_as(checked_in)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await?);
    let answered: Vec<(Option<i64>, i64)> = on_pool!(db, |pool| sqlx::query_as(responses)
        .bind(from)
        .bind(until)
        .fetch_all(pool)
        .await?);
    let department_ratings: Vec<(Option<i64>, Option<i64>, i64)> =
        on_pool!(db, |pool| sqlx::query_as(ratings_per_department)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await?);

    let month_ratings: HashMap<String, (i64, i64)> = month_ratings
        .into_iter()
        .map(|(month, sum, n)| (month, (sum.unwrap_or(0), n)))
        .collect();
    let months = months
        .into_iter()
        .map(|(month, surveys, checked_in, respondents)| {
            let (rating_sum, ratings) = month_ratings.get(&month).copied().unwrap_or((0, 0));
            SurveyTotals {
                label: Some(month),
                surveys,
                checked_in: checked_in.unwrap_or(0),
                respondents: respondents.unwrap_or(0),
                rating_sum,
                ratings,
            }
        })
        .collect();
    let answered: HashMap<Option<i64>, i64> = answered.into_iter().collect();
    let department_ratings: HashMap<Option<i64>, (i64, i64)> = department_ratings
        .into_iter()
        .map(|(department, sum, n)| (department, (sum.unwrap_or(0), n)))
        .collect();
    let mut departments: Vec<SurveyTotals> = attended
        .into_iter()
        .map(|(department_id, name, checked_in)| {
            let (rating_sum, ratings) = department_ratings
                .get(&department_id)
                .copied()
                .unwrap_or((0, 0));
            SurveyTotals {
                label: name,
                surveys: 0,
                checked_in,
                respondents: answered.get(&department_id).copied().unwrap_or(0),
                rating_sum,
                ratings,
            }
        })
        .collect();
    departments.sort_by(|a, b| {
        b.checked_in
            .cmp(&a.checked_in)
            .then_with(|| a.label.cmp(&b.label))
    });
    Ok(SurveyOverview {
        months,
        departments,
    })
}
