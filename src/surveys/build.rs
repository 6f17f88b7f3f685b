//! The organizer's side of a survey: its questions and settings, saved as
//! one row per event, and closing it early.
//!
//! Once someone has answered, a save may change wording only: no question
//! added or removed, no kind or number of choices changed, no switch between
//! anonymous and named. Otherwise an answer stored under a question would
//! change its meaning (the third choice of four is not the third of five).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::types::Json;

use super::{
    MAX_CHOICES, MAX_OPEN_DAYS, MAX_QUESTIONS, MAX_WORDING_CHARS, Question, QuestionProblem,
    Survey, SurveyDraft, SurveySettings, SurveyState, Wording,
};
use crate::audit::{self, AuditAction};
use crate::events::to_second;
use crate::model::EventStatus;
use crate::reason::Reason;
use crate::storage::{Database, UnitOfWork, dialect_sql, is_unique_violation, on_pool, on_tx};
use crate::{Error, Result};

/// A survey row as stored.
#[derive(sqlx::FromRow)]
pub(super) struct SurveyRow {
    pub id: i64,
    pub event_id: i64,
    pub questions: Json<Vec<Question>>,
    pub anonymous: bool,
    pub opens_with_event_end: bool,
    pub opens_at: DateTime<Utc>,
    pub open_days: i32,
    pub closes_at: DateTime<Utc>,
    pub reminder_days_before: Option<i32>,
    pub closed_early_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub respondents: i64,
}

/// The columns of [`SurveyRow`], for `SELECT … FROM surveys s`.
macro_rules! survey_columns {
    () => {
        "s.id, s.event_id, s.questions, s.anonymous, s.opens_with_event_end, s.opens_at, s.open_days,
         s.closes_at, s.reminder_days_before, s.closed_early_at, s.version,
         (SELECT COUNT(*) FROM survey_responses sr WHERE sr.survey_id = s.id) AS respondents"
    };
}
pub(super) use survey_columns;

impl SurveyRow {
    /// When it stops taking answers: its time, or earlier if closed early.
    fn effective_closes_at(&self) -> DateTime<Utc> {
        self.closed_early_at
            .map_or(self.closes_at, |early| early.min(self.closes_at))
    }

    /// Whether it takes answers at `now`. Closed early wins over "not yet
    /// open": an organizer may call a survey off before it opens.
    pub fn state(&self, now: DateTime<Utc>) -> SurveyState {
        if now >= self.effective_closes_at() {
            SurveyState::Closed
        } else if now < self.opens_at {
            SurveyState::NotYetOpen
        } else {
            SurveyState::Open
        }
    }

    pub fn into_survey(self, now: DateTime<Utc>) -> Survey {
        let closes_at = self.effective_closes_at();
        let state = self.state(now);
        Survey {
            id: self.id,
            event_id: self.event_id,
            questions: self.questions.0,
            settings: SurveySettings {
                anonymous: self.anonymous,
                opens_at: (!self.opens_with_event_end).then_some(self.opens_at),
                open_days: u32::try_from(self.open_days).unwrap_or(1),
                reminder_days_before: self
                    .reminder_days_before
                    .and_then(|d| u32::try_from(d).ok()),
            },
            opens_at: self.opens_at,
            closes_at,
            state,
            respondents: self.respondents,
            version: self.version,
        }
    }
}

/// The survey of an event, if it has one.
pub async fn of_event(db: &Database, event_id: i64, now: DateTime<Utc>) -> Result<Option<Survey>> {
    let sql = concat!(
        "SELECT ",
        survey_columns!(),
        " FROM surveys s WHERE s.event_id = $1"
    );
    let row: Option<SurveyRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(event_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(|row| row.into_survey(now)))
}

/// The survey with this id (as in its link).
pub async fn get(db: &Database, survey_id: i64, now: DateTime<Utc>) -> Result<Survey> {
    let sql = concat!(
        "SELECT ",
        survey_columns!(),
        " FROM surveys s WHERE s.id = $1"
    );
    let row: Option<SurveyRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(survey_id)
        .fetch_optional(pool)
        .await?);
    row.map(|row| row.into_survey(now)).ok_or(Error::NotFound)
}

/// When a survey with `settings` opens, closes and reminds, for an event
/// ending at `event_ends_at`.
fn schedule(
    settings: &SurveySettings,
    event_ends_at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>) {
    // Kept to the second, like the event's times (SQLite compares text).
    let opens_at = to_second(settings.opens_at.unwrap_or(event_ends_at));
    let closes_at = opens_at + Duration::days(i64::from(settings.open_days));
    let remind_at = settings
        .reminder_days_before
        .map(|days| closes_at - Duration::days(i64::from(days)));
    (opens_at, closes_at, remind_at)
}

fn check_wording(wording: &Wording, problems: &mut Vec<QuestionProblem>) {
    for text in [&wording.ja, &wording.en] {
        if text.chars().any(char::is_control) {
            problems.push(QuestionProblem::ControlCharacters);
        } else if text.trim().chars().count() > MAX_WORDING_CHARS {
            problems.push(QuestionProblem::TooLong {
                max_chars: MAX_WORDING_CHARS as u32,
            });
        }
    }
}

fn trimmed(wording: &Wording) -> Wording {
    Wording::new(wording.ja.trim(), wording.en.trim())
}

/// Checks a draft and returns its questions as they will be stored:
/// trimmed, choices and scale labels only where the kind has them.
fn checked_questions(draft: &SurveyDraft) -> Result<Vec<Question>> {
    if draft.questions.is_empty() || draft.questions.len() > MAX_QUESTIONS {
        return Err(Error::Invalid(Reason::SurveyQuestionCount {
            max: MAX_QUESTIONS as u32,
        }));
    }
    let settings = &draft.settings;
    if settings.open_days == 0 || settings.open_days > MAX_OPEN_DAYS {
        return Err(Error::Invalid(Reason::SurveyOpenDaysOutOfRange {
            max: MAX_OPEN_DAYS,
        }));
    }
    if settings
        .reminder_days_before
        .is_some_and(|days| days == 0 || days >= settings.open_days)
    {
        return Err(Error::Invalid(Reason::SurveyReminderOutOfRange));
    }
    let mut all_problems = Vec::new();
    let mut questions = Vec::with_capacity(draft.questions.len());
    for (index, question) in draft.questions.iter().enumerate() {
        let mut problems = Vec::new();
        if question.text.is_empty() {
            problems.push(QuestionProblem::TextMissing);
        }
        check_wording(&question.text, &mut problems);
        let kind = question.kind;
        let choices: Vec<Wording> = if kind.has_choices() {
            if question.choices.len() < 2 {
                problems.push(QuestionProblem::TooFewChoices);
            }
            if question.choices.len() > MAX_CHOICES {
                problems.push(QuestionProblem::TooManyChoices {
                    max: MAX_CHOICES as u32,
                });
            }
            if question.choices.iter().any(Wording::is_empty) {
                problems.push(QuestionProblem::ChoiceTextMissing);
            }
            question.choices.iter().map(trimmed).collect()
        } else {
            Vec::new()
        };
        for choice in &choices {
            check_wording(choice, &mut problems);
        }
        let (low_label, high_label) = if kind.scale().is_some() {
            (trimmed(&question.low_label), trimmed(&question.high_label))
        } else {
            (Wording::default(), Wording::default())
        };
        check_wording(&low_label, &mut problems);
        check_wording(&high_label, &mut problems);
        problems.dedup();
        let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
        all_problems.extend(problems.into_iter().map(|p| (position, p)));
        questions.push(Question {
            key: question.key.trim().to_string(),
            kind,
            text: trimmed(&question.text),
            required: question.required,
            choices,
            low_label,
            high_label,
        });
    }
    if !all_problems.is_empty() {
        return Err(Error::Invalid(Reason::SurveyQuestionsInvalid {
            problems: all_problems,
        }));
    }
    Ok(questions)
}

/// Gives each question its key: the one it had if that names a stored
/// question (once per key), otherwise the next free `q{n}`.
fn assign_keys(questions: &mut [Question], stored: &[Question]) {
    let known: HashSet<&str> = stored.iter().map(|q| q.key.as_str()).collect();
    let number = |key: &str| key.strip_prefix('q').and_then(|n| n.parse::<u32>().ok());
    let mut next = stored
        .iter()
        .filter_map(|q| number(&q.key))
        .max()
        .unwrap_or(0)
        + 1;
    let mut taken = HashSet::new();
    for question in questions.iter_mut() {
        if known.contains(question.key.as_str()) && taken.insert(question.key.clone()) {
            continue;
        }
        question.key = format!("q{next}");
        taken.insert(question.key.clone());
        next += 1;
    }
}

/// After the first answer: what the new questions change beyond wording.
fn changes_beyond_wording(
    questions: &[Question],
    stored: &[Question],
) -> std::result::Result<(), Vec<(u32, QuestionProblem)>> {
    let mut problems = Vec::new();
    for (index, question) in questions.iter().enumerate() {
        let same_shape = stored.iter().any(|old| {
            old.key == question.key
                && old.kind == question.kind
                && old.choices.len() == question.choices.len()
        });
        if !same_shape {
            let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
            problems.push((position, QuestionProblem::ChangedAfterAnswers));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[derive(sqlx::FromRow)]
struct EventForSurvey {
    status: String,
    ends_at: DateTime<Utc>,
}

/// Creates the event's survey (`expected_version` None) or saves a new
/// version of it (the version the organizer's form started from). The
/// event must not be cancelled. Audited in the same transaction.
#[tracing::instrument(skip(db, draft))]
pub async fn save(
    db: &Database,
    actor: i64,
    event_id: i64,
    expected_version: Option<i32>,
    draft: &SurveyDraft,
    now: DateTime<Utc>,
) -> Result<Survey> {
    let mut questions = checked_questions(draft)?;
    let mut uow = db.begin_write().await?;
    let event: EventForSurvey = on_tx!(&mut uow, |conn| sqlx::query_as(
        "SELECT status, ends_at FROM events WHERE id = $1"
    )
    .bind(event_id)
    .fetch_optional(&mut *conn)
    .await?)
    .ok_or(Error::NotFound)?;
    if event.status == EventStatus::Cancelled.code() {
        return Err(Error::Conflict(Reason::SurveyForCancelledEvent));
    }
    // The row stays locked until the commit, so no answer slips in between
    // the check for answers below and the save (an answer locks it too).
    let lock_sql = dialect_sql!(
        uow.backend(),
        "SELECT id FROM surveys WHERE event_id = $1",
        lock_rows
    );
    let stored_sql = concat!(
        "SELECT ",
        survey_columns!(),
        " FROM surveys s WHERE s.event_id = $1"
    );
    let stored: Option<SurveyRow> = on_tx!(&mut uow, |conn| {
        sqlx::query_scalar::<_, i64>(lock_sql)
            .bind(event_id)
            .fetch_optional(&mut *conn)
            .await?;
        sqlx::query_as(stored_sql)
            .bind(event_id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let settings = &draft.settings;
    let (opens_at, closes_at, remind_at) = schedule(settings, event.ends_at);

    let (survey_id, action) = match (stored, expected_version) {
        (None, None) => {
            assign_keys(&mut questions, &[]);
            let inserted = on_tx!(&mut uow, |conn| {
                sqlx::query_scalar::<_, i64>(
                "INSERT INTO surveys (event_id, questions, anonymous, opens_with_event_end, opens_at,
                                      open_days, closes_at, reminder_days_before, remind_at,
                                      version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)
                 RETURNING id"
            )
            .bind(event_id)
            .bind(Json(&questions))
            .bind(settings.anonymous)
            .bind(settings.opens_at.is_none())
            .bind(opens_at)
            .bind(settings.open_days as i32)
            .bind(closes_at)
            .bind(settings.reminder_days_before.map(|d| d as i32))
            .bind(remind_at)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            });
            match inserted {
                Ok(id) => (id, AuditAction::SurveyCreated),
                Err(err) if is_unique_violation(&err) => {
                    return Err(Error::Conflict(Reason::SurveyChangedMeanwhile));
                }
                Err(err) => return Err(err.into()),
            }
        }
        (Some(stored), Some(expected)) if stored.version == expected => {
            let before = &stored.questions.0;
            assign_keys(&mut questions, before);
            if stored.respondents > 0 {
                if stored.anonymous != settings.anonymous
                    || before
                        .iter()
                        .any(|old| !questions.iter().any(|q| q.key == old.key))
                {
                    return Err(Error::Conflict(Reason::SurveyFixedByAnswers));
                }
                changes_beyond_wording(&questions, before).map_err(|problems| {
                    Error::Invalid(Reason::SurveyQuestionsInvalid { problems })
                })?;
            }
            on_tx!(&mut uow, |conn| sqlx::query(
                "UPDATE surveys SET questions = $2, anonymous = $3, opens_with_event_end = $4,
                        opens_at = $5, open_days = $6, closes_at = $7, reminder_days_before = $8,
                        remind_at = $9, version = version + 1, updated_at = $10
                 WHERE id = $1"
            )
            .bind(stored.id)
            .bind(Json(&questions))
            .bind(settings.anonymous)
            .bind(settings.opens_at.is_none())
            .bind(opens_at)
            .bind(settings.open_days as i32)
            .bind(closes_at)
            .bind(settings.reminder_days_before.map(|d| d as i32))
            .bind(remind_at)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
            (stored.id, AuditAction::SurveyEdited)
        }
        _ => return Err(Error::Conflict(Reason::SurveyChangedMeanwhile)),
    };
    audit::insert(
        &mut uow,
        Some(actor),
        action,
        &format!("event:{event_id}"),
        json!({
            "survey": survey_id,
            "questions": questions.len(),
            "anonymous": settings.anonymous,
            "opens_at": opens_at,
            "closes_at": closes_at,
        }),
        now,
    )
    .await?;
    uow.commit().await?;
    get(db, survey_id, now).await
}

/// The questions and settings of another event's survey, as a draft for
/// this one: a training run every quarter asks the same questions. The
/// opening time follows the new event's end.
pub async fn draft_copied_from(
    db: &Database,
    source_event_id: i64,
    now: DateTime<Utc>,
) -> Result<SurveyDraft> {
    let source = of_event(db, source_event_id, now)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(SurveyDraft {
        questions: source
            .questions
            .into_iter()
            .map(|q| Question {
                key: String::new(),
                ..q
            })
            .collect(),
        settings: SurveySettings {
            opens_at: None,
            ..source.settings
        },
    })
}

/// Closes the survey now, before its time; answers given so far stay.
#[tracing::instrument(skip(db))]
pub async fn close_now(db: &Database, actor: i64, event_id: i64, now: DateTime<Utc>) -> Result<()> {
    let mut uow = db.begin_write().await?;
    let closed: Option<i64> = on_tx!(&mut uow, |conn| sqlx::query_scalar(
        "UPDATE surveys SET closed_early_at = $2, updated_at = $2
         WHERE event_id = $1 AND closed_early_at IS NULL AND closes_at > $2
         RETURNING id"
    )
    .bind(event_id)
    .bind(to_second(now))
    .fetch_optional(&mut *conn)
    .await?);
    let Some(survey_id) = closed else {
        // No survey, or it is closed already: nothing to do, but say which.
        return match of_event(db, event_id, now).await? {
            None => Err(Error::NotFound),
            Some(_) => Err(Error::Conflict(Reason::SurveyClosed)),
        };
    };
    audit::insert(
        &mut uow,
        Some(actor),
        AuditAction::SurveyClosed,
        &format!("event:{event_id}"),
        json!({ "survey": survey_id, "early": true }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// A step of an event edit: a survey that opens when the event ends moves
/// with a new end, keeping its length and reminder.
pub(crate) async fn follow_event_end(
    uow: &mut UnitOfWork<'_>,
    event_id: i64,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let row: Option<(i32, Option<i32>)> = on_tx!(uow, |conn| sqlx::query_as(
        "SELECT open_days, reminder_days_before FROM surveys
         WHERE event_id = $1 AND opens_with_event_end AND invited_at IS NULL"
    )
    .bind(event_id)
    .fetch_optional(&mut *conn)
    .await?);
    let Some((open_days, reminder_days_before)) = row else {
        return Ok(());
    };
    let settings = SurveySettings {
        anonymous: false,
        opens_at: None,
        open_days: u32::try_from(open_days).unwrap_or(1),
        reminder_days_before: reminder_days_before.and_then(|d| u32::try_from(d).ok()),
    };
    let (opens_at, closes_at, remind_at) = schedule(&settings, ends_at);
    on_tx!(uow, |conn| sqlx::query(
        "UPDATE surveys SET opens_at = $2, closes_at = $3, remind_at = $4 WHERE event_id = $1"
    )
    .bind(event_id)
    .bind(opens_at)
    .bind(closes_at)
    .bind(remind_at)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::QuestionKind;

    fn question(kind: QuestionKind, key: &str) -> Question {
        Question {
            key: key.into(),
            kind,
            text: Wording::new("満足度", "Satisfaction"),
            required: true,
            choices: if kind.has_choices() {
                vec![Wording::new("はい", "Yes"), Wording::new("いいえ", "No")]
            } else {
                vec![]
            },
            low_label: Wording::default(),
            high_label: Wording::default(),
        }
    }

    fn draft(questions: Vec<Question>) -> SurveyDraft {
        SurveyDraft {
            questions,
            settings: SurveySettings::default(),
        }
    }

    #[test]
    fn every_problem_is_named_with_its_question() {
        let mut no_text = question(QuestionKind::Rating, "");
        no_text.text = Wording::new(" ", "");
        let mut one_choice = question(QuestionKind::SingleChoice, "");
        one_choice.choices.truncate(1);
        let mut line_break = question(QuestionKind::ShortText, "");
        line_break.text.en = "two\nlines".into();
        let result = checked_questions(&draft(vec![
            question(QuestionKind::Nps, ""),
            no_text,
            one_choice,
            line_break,
        ]));
        assert_eq!(
            result,
            Err(Error::Invalid(Reason::SurveyQuestionsInvalid {
                problems: vec![
                    (2, QuestionProblem::TextMissing),
                    (3, QuestionProblem::TooFewChoices),
                    (4, QuestionProblem::ControlCharacters),
                ]
            }))
        );
        assert_eq!(
            checked_questions(&draft(vec![])),
            Err(Error::Invalid(Reason::SurveyQuestionCount { max: 30 }))
        );
    }

    #[test]
    fn settings_are_checked() {
        let mut long = draft(vec![question(QuestionKind::Rating, "")]);
        long.settings.open_days = 91;
        assert!(checked_questions(&long).is_err());
        let mut late_reminder = draft(vec![question(QuestionKind::Rating, "")]);
        late_reminder.settings.reminder_days_before = Some(14);
        assert_eq!(
            checked_questions(&late_reminder),
            Err(Error::Invalid(Reason::SurveyReminderOutOfRange))
        );
        late_reminder.settings.reminder_days_before = Some(3);
        assert!(checked_questions(&late_reminder).is_ok());
    }

    #[test]
    fn choices_and_labels_stay_only_where_the_kind_has_them() {
        let mut text = question(QuestionKind::LongText, "");
        text.choices = vec![Wording::new("a", "a")];
        text.low_label = Wording::new("低い", "low");
        let stored = checked_questions(&draft(vec![text])).unwrap();
        assert!(stored[0].choices.is_empty());
        assert_eq!(stored[0].low_label, Wording::default());
    }

    #[test]
    fn keys_survive_reordering_and_new_questions_get_fresh_ones() {
        let stored = vec![
            question(QuestionKind::Rating, "q1"),
            question(QuestionKind::ShortText, "q2"),
        ];
        let mut edited = vec![
            question(QuestionKind::ShortText, "q2"),
            question(QuestionKind::Nps, ""),
            question(QuestionKind::Rating, "q1"),
            // A forged or duplicated key is a new question, not a second q1.
            question(QuestionKind::Rating, "q1"),
            question(QuestionKind::Rating, "x"),
        ];
        assign_keys(&mut edited, &stored);
        let keys: Vec<&str> = edited.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["q2", "q3", "q1", "q4", "q5"]);
    }

    #[test]
    fn after_answers_only_wording_changes() {
        let stored = vec![
            question(QuestionKind::Rating, "q1"),
            question(QuestionKind::SingleChoice, "q2"),
        ];
        let mut reworded = stored.clone();
        reworded[0].text = Wording::new("講師の説明", "The talk");
        reworded.swap(0, 1);
        assert_eq!(changes_beyond_wording(&reworded, &stored), Ok(()));

        let mut retyped = stored.clone();
        retyped[0].kind = QuestionKind::Nps;
        retyped[1].choices.push(Wording::new("たぶん", "Maybe"));
        retyped.push(question(QuestionKind::LongText, "q3"));
        assert_eq!(
            changes_beyond_wording(&retyped, &stored),
            Err(vec![
                (1, QuestionProblem::ChangedAfterAnswers),
                (2, QuestionProblem::ChangedAfterAnswers),
                (3, QuestionProblem::ChangedAfterAnswers),
            ])
        );
    }
}
