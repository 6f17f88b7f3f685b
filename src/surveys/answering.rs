//! A person answers a survey: only someone checked in at the event, once,
//! while it is open; a named answer can be changed until it closes.
//!
//! An anonymous survey keeps who answered (to refuse a second answer and to
//! count the rate) apart from the answers, with nothing that joins them: no
//! person in the answer row, and no time in either row finer than the day
//! the answer came (the list of who answered carries the survey's opening
//! time), so the order of answers cannot be matched to the list either.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::types::Json;

use super::build::{self, SurveyRow, survey_columns};
use super::tallies;
use super::{
    Answer, AnswerProblem, Answers, MAX_LONG_ANSWER_CHARS, MAX_SHORT_ANSWER_CHARS, OpenSurvey,
    Question, QuestionKind, SurveyForPerson, SurveyState, Wording,
};
use crate::reason::Reason;
use crate::storage::{Database, on_pool, on_tx};
use crate::{Error, Result};

/// Reads a submitted form — pairs of (question key, value), a key repeated
/// for several choices — into answers for `questions`. Pairs that name no
/// question are ignored. Every problem is reported, each with its question.
pub fn read_answers(
    questions: &[Question],
    form: &[(String, String)],
) -> std::result::Result<Answers, Vec<(String, AnswerProblem)>> {
    let mut answers = Answers::new();
    let mut problems = Vec::new();
    for question in questions {
        let values: Vec<&str> = form
            .iter()
            .filter(|(name, _)| *name == question.key)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.trim().is_empty())
            .collect();
        match read_one(question, &values) {
            Ok(Some(answer)) => {
                answers.insert(question.key.clone(), answer);
            }
            Ok(None) if question.required => {
                problems.push((question.key.clone(), AnswerProblem::Required));
            }
            Ok(None) => {}
            Err(problem) => problems.push((question.key.clone(), problem)),
        }
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(problems)
    }
}

/// What a person gave in a refused form, to show it again next to the
/// problems: every value that fits its question's control (a number of the
/// scale, existing choices, text without control characters other than
/// line breaks and tabs). Never stored as an answer.
pub fn as_given(questions: &[Question], form: &[(String, String)]) -> Answers {
    let mut given = Answers::new();
    for question in questions {
        let values = form
            .iter()
            .filter(|(name, _)| *name == question.key)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty());
        let answer = if let Some((low, high)) = question.kind.scale() {
            values
                .filter_map(|value| value.parse::<i64>().ok())
                .find(|n| (low..=high).contains(n))
                .map(Answer::Scale)
        } else if question.kind.has_choices() {
            let mut chosen: Vec<u32> = values
                .filter_map(|value| value.parse::<u32>().ok())
                .filter(|&n| (n as usize) < question.choices.len())
                .collect();
            chosen.sort_unstable();
            chosen.dedup();
            (!chosen.is_empty()).then_some(Answer::Choices(chosen))
        } else {
            // Twice the allowed length at most: enough to see it is too
            // long, bounded for the session that carries it.
            let longest = 2 * match question.kind {
                QuestionKind::LongText => MAX_LONG_ANSWER_CHARS,
                _ => MAX_SHORT_ANSWER_CHARS,
            };
            values.into_iter().next().map(|text| {
                Answer::Text(
                    text.chars()
                        .filter(|&c| !c.is_control() || matches!(c, '\n' | '\t'))
                        .take(longest)
                        .collect(),
                )
            })
        };
        if let Some(answer) = answer {
            given.insert(question.key.clone(), answer);
        }
    }
    given
}

fn read_one(
    question: &Question,
    values: &[&str],
) -> std::result::Result<Option<Answer>, AnswerProblem> {
    let kind = question.kind;
    if values.is_empty() {
        return Ok(None);
    }
    if let Some((low, high)) = kind.scale() {
        let [value] = values else {
            return Err(AnswerProblem::NotAnOption);
        };
        return match value.trim().parse::<i64>() {
            Ok(n) if (low..=high).contains(&n) => Ok(Some(Answer::Scale(n))),
            _ => Err(AnswerProblem::NotAnOption),
        };
    }
    if kind.has_choices() {
        if kind == QuestionKind::SingleChoice && values.len() > 1 {
            return Err(AnswerProblem::NotAnOption);
        }
        let mut chosen = Vec::with_capacity(values.len());
        for value in values {
            match value.trim().parse::<u32>() {
                Ok(n) if (n as usize) < question.choices.len() => chosen.push(n),
                _ => return Err(AnswerProblem::NotAnOption),
            }
        }
        chosen.sort_unstable();
        chosen.dedup();
        return Ok(Some(Answer::Choices(chosen)));
    }
    let [text] = values else {
        return Err(AnswerProblem::NotAnOption);
    };
    let (max_chars, lines) = match kind {
        QuestionKind::LongText => (MAX_LONG_ANSWER_CHARS, true),
        _ => (MAX_SHORT_ANSWER_CHARS, false),
    };
    let allowed = |c: char| lines && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(AnswerProblem::ControlCharacters);
    }
    let text = text.trim();
    if text.chars().count() > max_chars {
        return Err(AnswerProblem::TooLong {
            max_chars: max_chars as u32,
        });
    }
    // Line breaks as one kind, so a CSV or a count does not see two.
    Ok(Some(Answer::Text(text.replace("\r\n", "\n"))))
}

/// Whether the survey takes answers at `now`, in the person's terms.
fn check_open(row: &SurveyRow, now: DateTime<Utc>, tz: Tz) -> Result<()> {
    match row.state(now) {
        SurveyState::Open => Ok(()),
        SurveyState::Closed => Err(Error::Conflict(Reason::SurveyClosed)),
        SurveyState::NotYetOpen => Err(Error::Conflict(Reason::SurveyNotOpenYet {
            opens_at: row.opens_at.with_timezone(&tz).fixed_offset(),
        })),
    }
}

/// The day of `at` (midnight UTC): the finest time kept with an anonymous answer.
fn day_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(at, |midnight| midnight.and_utc())
}

/// How a submission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// The first answer of this person.
    Answered,
    /// A named answer given before was replaced.
    Changed,
}

/// Stores `user_id`'s answers to the survey from the submitted `form`.
///
/// Refused when the survey is not open, when the person was not checked in
/// at the event, when an answer breaks its question's rule (every such
/// problem is named), and for a second answer to an anonymous survey. Two
/// submissions at once leave one response: the list of who answered has one
/// row per person, and the second waits for the first and then changes it.
#[tracing::instrument(skip(db, form, tz))]
pub async fn submit(
    db: &Database,
    tz: Tz,
    survey_id: i64,
    user_id: i64,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Submitted> {
    let mut uow = db.begin_write().await?;
    // Raising the answers' version locks the survey's row first, so an edit
    // of its questions and this answer never interleave (see build::save).
    let bumped: Option<i64> = on_tx!(&mut uow, |conn| sqlx::query_scalar(
        "UPDATE surveys SET answers_version = answers_version + 1 WHERE id = $1 RETURNING id"
    )
    .bind(survey_id)
    .fetch_optional(&mut *conn)
    .await?);
    if bumped.is_none() {
        return Err(Error::NotFound);
    }
    let survey_sql = concat!(
        "SELECT ",
        survey_columns!(),
        " FROM surveys s WHERE s.id = $1"
    );
    let survey: SurveyRow = on_tx!(&mut uow, |conn| sqlx::query_as(survey_sql)
        .bind(survey_id)
        .fetch_one(&mut *conn)
        .await?);
    let attendee_sql =
        "SELECT u.department_id FROM registrations r JOIN users u ON u.id = r.user_id
         WHERE r.event_id = $1 AND r.user_id = $2 AND r.status = 'checked_in'";
    let department: Option<Option<i64>> = on_tx!(&mut uow, |conn| sqlx::query_scalar(attendee_sql)
        .bind(survey.event_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?);
    let Some(department_id) = department else {
        return Err(Error::Conflict(Reason::SurveyOnlyForAttendees));
    };
    check_open(&survey, now, tz)?;
    let answers = read_answers(&survey.questions.0, form)
        .map_err(|problems| Error::Invalid(Reason::SurveyAnswersInvalid { problems }))?;

    let (answered_at, submitted_at) = if survey.anonymous {
        (survey.opens_at, day_of(now))
    } else {
        (now, now)
    };
    let first = on_tx!(&mut uow, |conn| sqlx::query(
        "INSERT INTO survey_respondents (survey_id, user_id, answered_at) VALUES ($1, $2, $3)
         ON CONFLICT (survey_id, user_id) DO NOTHING"
    )
    .bind(survey_id)
    .bind(user_id)
    .bind(answered_at)
    .execute(&mut *conn)
    .await?
    .rows_affected())
        == 1;
    let outcome = match (first, survey.anonymous) {
        (false, true) => return Err(Error::Conflict(Reason::SurveyAnsweredAnonymously)),
        (true, anonymous) => {
            on_tx!(&mut uow, |conn| {
                sqlx::query(
                "INSERT INTO survey_responses (survey_id, user_id, department_id, answers, submitted_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)"
            )
            .bind(survey_id)
            .bind((!anonymous).then_some(user_id))
            .bind(department_id)
            .bind(Json(&answers))
            .bind(submitted_at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            });
            tallies::apply(
                &mut uow,
                survey_id,
                department_id,
                &tallies::changes(None, &answers),
            )
            .await?;
            Submitted::Answered
        }
        (false, false) => {
            // The earlier answer is counted under the department it was
            // given in; the row keeps that department. The survey's row,
            // locked above, keeps a second submission of the same person
            // from changing it meanwhile.
            let (Json(before), answered_in): (Json<Answers>, Option<i64>) =
                on_tx!(&mut uow, |conn| sqlx::query_as(
                    "SELECT answers, department_id FROM survey_responses
                     WHERE survey_id = $1 AND user_id = $2"
                )
                .bind(survey_id)
                .bind(user_id)
                .fetch_one(&mut *conn)
                .await?);
            on_tx!(&mut uow, |conn| sqlx::query(
                "UPDATE survey_responses SET answers = $3, updated_at = $4
                 WHERE survey_id = $1 AND user_id = $2"
            )
            .bind(survey_id)
            .bind(user_id)
            .bind(Json(&answers))
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
            tallies::apply(
                &mut uow,
                survey_id,
                answered_in,
                &tallies::changes(Some(&before), &answers),
            )
            .await?;
            Submitted::Changed
        }
    };
    uow.commit().await?;
    Ok(outcome)
}

/// The survey as `user_id` sees it, with their earlier answers (named
/// surveys only). Someone not checked in at the event is refused with
/// [`Reason::SurveyOnlyForAttendees`]; a survey that has not opened yet
/// shows, with its state.
pub async fn for_person(
    db: &Database,
    tz: Tz,
    survey_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<SurveyForPerson> {
    let survey = build::get(db, survey_id, now).await?;
    let person_sql = "SELECT e.title_ja, e.title_en,
                EXISTS (SELECT 1 FROM registrations r
                         WHERE r.event_id = e.id AND r.user_id = $2 AND r.status = 'checked_in'),
                EXISTS (SELECT 1 FROM survey_respondents sr WHERE sr.survey_id = $3 AND sr.user_id = $2)
         FROM events e WHERE e.id = $1";
    let (title_ja, title_en, checked_in, answered): (Option<String>, Option<String>, bool, bool) =
        on_pool!(db, |pool| sqlx::query_as(person_sql)
            .bind(survey.event_id)
            .bind(user_id)
            .bind(survey_id)
            .fetch_one(pool)
            .await?);
    if !checked_in {
        return Err(Error::Conflict(Reason::SurveyOnlyForAttendees));
    }
    let answers = if answered && !survey.settings.anonymous {
        let stored: Option<Json<Answers>> = on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT answers FROM survey_responses WHERE survey_id = $1 AND user_id = $2"
        )
        .bind(survey_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
        stored.map(|json| json.0)
    } else {
        None
    };
    Ok(SurveyForPerson {
        opens_local: survey.opens_at.with_timezone(&tz).fixed_offset(),
        closes_local: survey.closes_at.with_timezone(&tz).fixed_offset(),
        survey,
        event_title: Wording::new(title_ja.unwrap_or_default(), title_en.unwrap_or_default()),
        answers,
        answered,
    })
}

/// Whether `user_id` has answered the survey.
pub async fn has_answered(db: &Database, survey_id: i64, user_id: i64) -> Result<bool> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM survey_respondents WHERE survey_id = $1 AND user_id = $2)"
    )
    .bind(survey_id)
    .bind(user_id)
    .fetch_one(pool)
    .await?))
}

/// The open surveys of the events `user_id` was checked in at, newest
/// first, with whether they answered: for *My events*.
pub async fn open_for_person(
    db: &Database,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<OpenSurvey>> {
    /// Survey, event, the event's titles, and whether the person answered.
    type Row = (i64, i64, Option<String>, Option<String>, bool);
    let rows: Vec<Row> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT s.id, s.event_id, e.title_ja, e.title_en,
                    EXISTS (SELECT 1 FROM survey_respondents sr WHERE sr.survey_id = s.id AND sr.user_id = $1)
             FROM registrations r
             JOIN surveys s ON s.event_id = r.event_id
             JOIN events e ON e.id = s.event_id
             WHERE r.user_id = $1 AND r.status = 'checked_in'
               AND s.opens_at <= $2 AND s.closes_at > $2
               AND (s.closed_early_at IS NULL OR s.closed_early_at > $2)
             ORDER BY s.opens_at DESC
             LIMIT 20"
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(survey_id, event_id, ja, en, answered)| OpenSurvey {
            survey_id,
            event_id,
            event_title: Wording::new(ja.unwrap_or_default(), en.unwrap_or_default()),
            answered,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(key: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            key: key.into(),
            kind,
            text: Wording::new("質問", "Question"),
            required,
            choices: if kind.has_choices() {
                vec![
                    Wording::new("a", "a"),
                    Wording::new("b", "b"),
                    Wording::new("c", "c"),
                ]
            } else {
                vec![]
            },
            low_label: Wording::default(),
            high_label: Wording::default(),
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_kind_is_read_into_its_answer() {
        let questions = [
            question("q1", QuestionKind::Rating, true),
            question("q2", QuestionKind::SingleChoice, true),
            question("q3", QuestionKind::MultipleChoice, false),
            question("q4", QuestionKind::ShortText, false),
            question("q5", QuestionKind::LongText, false),
            question("q6", QuestionKind::Nps, false),
        ];
        let answers = read_answers(
            &questions,
            &form(&[
                ("q1", "5"),
                ("q2", "1"),
                ("q3", "2"),
                ("q3", "0"),
                ("q3", "2"),
                ("q4", "  とても良い  "),
                ("q5", "一行目\r\n二行目"),
                ("q6", "0"),
                ("csrf", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(answers["q1"], Answer::Scale(5));
        assert_eq!(answers["q2"], Answer::Choices(vec![1]));
        assert_eq!(answers["q3"], Answer::Choices(vec![0, 2]));
        assert_eq!(answers["q4"], Answer::Text("とても良い".into()));
        assert_eq!(answers["q5"], Answer::Text("一行目\n二行目".into()));
        assert_eq!(answers["q6"], Answer::Scale(0));
        assert_eq!(answers.len(), 6);
    }

    #[test]
    fn every_problem_is_named_with_its_question() {
        let questions = [
            question("q1", QuestionKind::Rating, true),
            question("q2", QuestionKind::SingleChoice, false),
            question("q3", QuestionKind::MultipleChoice, false),
            question("q4", QuestionKind::ShortText, false),
            question("q5", QuestionKind::Nps, false),
            question("q6", QuestionKind::LongText, false),
            question("q7", QuestionKind::Rating, false),
        ];
        let long = "あ".repeat(MAX_SHORT_ANSWER_CHARS + 1);
        let problems = read_answers(
            &questions,
            &form(&[
                ("q1", "  "),
                ("q2", "0"),
                ("q2", "1"),
                ("q3", "3"),
                ("q4", &long),
                ("q5", "11"),
                ("q6", "nul\0"),
                ("q7", "4.5"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            problems,
            vec![
                ("q1".into(), AnswerProblem::Required),
                ("q2".into(), AnswerProblem::NotAnOption),
                ("q3".into(), AnswerProblem::NotAnOption),
                ("q4".into(), AnswerProblem::TooLong { max_chars: 200 }),
                ("q5".into(), AnswerProblem::NotAnOption),
                ("q6".into(), AnswerProblem::ControlCharacters),
                ("q7".into(), AnswerProblem::NotAnOption),
            ]
        );
        // A short answer is one line.
        assert_eq!(
            read_answers(&questions[3..4], &form(&[("q4", "a\nb")])),
            Err(vec![("q4".into(), AnswerProblem::ControlCharacters)])
        );
        // Optional questions may stay empty.
        assert_eq!(
            read_answers(&questions[1..], &form(&[])),
            Ok(Answers::new())
        );
    }

    #[test]
    fn a_refused_form_is_shown_again_with_what_fits_its_controls() {
        let questions = [
            question("q1", QuestionKind::Rating, true),
            question("q2", QuestionKind::MultipleChoice, false),
            question("q3", QuestionKind::ShortText, false),
            question("q4", QuestionKind::LongText, false),
        ];
        let long = "あ".repeat(MAX_SHORT_ANSWER_CHARS * 3);
        let given = as_given(
            &questions,
            &form(&[
                ("q1", "9"),
                ("q2", "2"),
                ("q2", "7"),
                ("q2", "0"),
                ("q3", &long),
                ("q4", "一行目\n二行目\u{0}"),
                ("q9", "ignored"),
            ]),
        );
        assert_eq!(given.get("q1"), None, "9 is not on the scale");
        assert_eq!(given.get("q2"), Some(&Answer::Choices(vec![0, 2])));
        assert_eq!(
            given.get("q3"),
            Some(&Answer::Text("あ".repeat(MAX_SHORT_ANSWER_CHARS * 2)))
        );
        assert_eq!(
            given.get("q4"),
            Some(&Answer::Text("一行目\n二行目".into()))
        );
        assert_eq!(given.len(), 3);
    }
}
