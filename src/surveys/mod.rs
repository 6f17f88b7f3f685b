//! Post-event surveys: the organizer builds one per event, it opens when the
//! event ends (or at a chosen time), the people who were checked in are
//! invited by mail, each answers once (and may change the answer while the
//! survey is open), and the organizer reads the results as SQL aggregates.
//!
//! The shapes here travel to the browser, so they compile without the
//! `server` feature. The rules and queries are in the server-only modules:
//! [`build`] (questions and settings, with what may change after the first
//! answer), [`answering`], [`invitations`] (the batch that mails the
//! attendees), [`results`] and [`export`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Lang;

#[cfg(feature = "server")]
pub mod answering;
#[cfg(feature = "server")]
pub mod build;
#[cfg(feature = "server")]
pub mod export;
#[cfg(feature = "server")]
pub mod invitations;
#[cfg(feature = "server")]
pub mod overview;
#[cfg(feature = "server")]
pub mod results;
#[cfg(feature = "server")]
pub mod results_cache;
#[cfg(feature = "server")]
pub mod tallies;

/// Most questions one survey may have.
pub const MAX_QUESTIONS: usize = 30;
/// Most choices one choice question may offer.
pub const MAX_CHOICES: usize = 20;
/// Longest question, choice or scale label, in characters.
pub const MAX_WORDING_CHARS: usize = 300;
/// Longest short answer and longest long answer, in characters.
pub const MAX_SHORT_ANSWER_CHARS: usize = 200;
pub const MAX_LONG_ANSWER_CHARS: usize = 4000;
/// Free-text answers per page of one question.
pub const TEXT_PAGE_SIZE: i64 = 50;
/// How long a survey stays open when the organizer does not say.
pub const DEFAULT_OPEN_DAYS: u32 = 14;
pub const MAX_OPEN_DAYS: u32 = 90;

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1 to 5, with words for both ends.
    Rating,
    SingleChoice,
    MultipleChoice,
    ShortText,
    LongText,
    /// "How likely are you to recommend …": 0 to 10, scored as NPS.
    Nps,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 6] = [
        QuestionKind::Rating,
        QuestionKind::SingleChoice,
        QuestionKind::MultipleChoice,
        QuestionKind::ShortText,
        QuestionKind::LongText,
        QuestionKind::Nps,
    ];

    pub fn code(self) -> &'static str {
        match self {
            QuestionKind::Rating => "rating",
            QuestionKind::SingleChoice => "single_choice",
            QuestionKind::MultipleChoice => "multiple_choice",
            QuestionKind::ShortText => "short_text",
            QuestionKind::LongText => "long_text",
            QuestionKind::Nps => "nps",
        }
    }

    pub fn parse(code: &str) -> Option<QuestionKind> {
        QuestionKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The lowest and highest number of a scale question.
    pub fn scale(self) -> Option<(i64, i64)> {
        match self {
            QuestionKind::Rating => Some((1, 5)),
            QuestionKind::Nps => Some((0, 10)),
            _ => None,
        }
    }

    pub fn has_choices(self) -> bool {
        matches!(
            self,
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice
        )
    }

    pub fn is_text(self) -> bool {
        matches!(self, QuestionKind::ShortText | QuestionKind::LongText)
    }
}

/// A piece of text in Japanese and in English; one of them may be empty,
/// and a reader of that language then sees the other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Wording {
    #[serde(default)]
    pub ja: String,
    #[serde(default)]
    pub en: String,
}

impl Wording {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Wording {
        Wording {
            ja: ja.into(),
            en: en.into(),
        }
    }

    /// The text for a reader of `lang`, or the other language's.
    pub fn read(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Ja => (&self.ja, &self.en),
            Lang::En => (&self.en, &self.ja),
        };
        if first.trim().is_empty() {
            second
        } else {
            first
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ja.trim().is_empty() && self.en.trim().is_empty()
    }
}

/// One question as the organizer built it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Question {
    /// Names the question for life: answers are stored under it, so
    /// reordering or rewording keeps every answer with its question. Given by
    /// the server (`q1`, `q2`, …); a new question arrives with an empty key.
    #[serde(default)]
    pub key: String,
    pub kind: QuestionKind,
    pub text: Wording,
    #[serde(default)]
    pub required: bool,
    /// The choices of a choice question, in order; answers store positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Wording>,
    /// Words for the lowest and highest end of a scale ("poor", "excellent").
    #[serde(default)]
    pub low_label: Wording,
    #[serde(default)]
    pub high_label: Wording,
}

/// When a survey is open and whose answers it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySettings {
    /// No link between a person and their answers is stored.
    pub anonymous: bool,
    /// When it opens; `None` for "when the event ends" (and it moves with
    /// the event).
    pub opens_at: Option<DateTime<Utc>>,
    /// Days it stays open, 1 to [`MAX_OPEN_DAYS`].
    pub open_days: u32,
    /// One reminder to those who have not answered, this many days before
    /// it closes; fewer than `open_days`.
    pub reminder_days_before: Option<u32>,
}

impl Default for SurveySettings {
    fn default() -> Self {
        SurveySettings {
            anonymous: false,
            opens_at: None,
            open_days: DEFAULT_OPEN_DAYS,
            reminder_days_before: None,
        }
    }
}

/// What the organizer saves: the questions in order and the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDraft {
    pub questions: Vec<Question>,
    pub settings: SurveySettings,
}

/// Whether a survey takes answers now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyState {
    NotYetOpen,
    Open,
    Closed,
}

/// A survey as stored, with its times worked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: i64,
    pub event_id: i64,
    pub questions: Vec<Question>,
    pub settings: SurveySettings,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub state: SurveyState,
    /// How many people answered; once anyone has, only wording may change.
    pub respondents: i64,
    /// Raised by every save; a save names the version it started from.
    pub version: i32,
}

impl Survey {
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key == key)
    }
}

/// One answer, as stored in the JSON of a response: a number for a scale,
/// the positions of the chosen choices (one for a single choice), or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Scale(i64),
    Choices(Vec<u32>),
    Text(String),
}

/// A person's answers by question key; an unanswered optional question is
/// absent.
pub type Answers = BTreeMap<String, Answer>;

/// What is wrong with the answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerProblem {
    Required,
    /// Not a number of the scale, not one of the choices, or several
    /// choices where one is asked for.
    NotAnOption,
    TooLong {
        max_chars: u32,
    },
    ControlCharacters,
}

impl AnswerProblem {
    /// The problem in English, shown at its question.
    pub fn english(self) -> String {
        match self {
            AnswerProblem::Required => "This question needs an answer.".into(),
            AnswerProblem::NotAnOption => "Choose one of the options.".into(),
            AnswerProblem::TooLong { max_chars } => {
                format!("Please keep it to {max_chars} characters.")
            }
            AnswerProblem::ControlCharacters => {
                "The answer holds characters that cannot be shown.".into()
            }
        }
    }
}

/// What is wrong with one question of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionProblem {
    TextMissing,
    TooFewChoices,
    TooManyChoices {
        max: u32,
    },
    ChoiceTextMissing,
    TooLong {
        max_chars: u32,
    },
    ControlCharacters,
    /// After the first answer: the question's kind or its number of choices
    /// changed, or the question is new.
    ChangedAfterAnswers,
}

impl QuestionProblem {
    /// The problem in English, shown at its question in the builder.
    pub fn english(self) -> String {
        match self {
            QuestionProblem::TextMissing => "Write the question in Japanese or English.".into(),
            QuestionProblem::TooFewChoices => "Give at least two choices.".into(),
            QuestionProblem::TooManyChoices { max } => format!("At most {max} choices."),
            QuestionProblem::ChoiceTextMissing => {
                "A choice is empty: write it or remove it.".into()
            }
            QuestionProblem::TooLong { max_chars } => {
                format!("Keep each text to {max_chars} characters.")
            }
            QuestionProblem::ControlCharacters => {
                "Each text is one line without control characters.".into()
            }
            QuestionProblem::ChangedAfterAnswers => {
                "People have answered: only this question's wording can change \
                 (no new question, other kind or number of choices)."
                    .into()
            }
        }
    }
}

/// The survey page of one person: the survey and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyForPerson {
    pub survey: Survey,
    pub event_title: Wording,
    /// Their answers so far (never for an anonymous survey: they are not
    /// linked to the person).
    pub answers: Option<Answers>,
    pub answered: bool,
    /// Opening and closing on the company's clock, ready to show.
    pub opens_local: chrono::DateTime<chrono::FixedOffset>,
    pub closes_local: chrono::DateTime<chrono::FixedOffset>,
}

/// An open survey of an event the person attended, for *My events*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSurvey {
    pub survey_id: i64,
    pub event_id: i64,
    pub event_title: Wording,
    pub answered: bool,
}

/// One question's figures, each an aggregate over the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub key: String,
    /// People who answered this question.
    pub answered: i64,
    /// For a scale: (value, people) for every value of the scale; for a
    /// choice question: (position, people) for every choice.
    pub counts: Vec<(i64, i64)>,
    /// Free-text answers, newest first: the first page.
    pub texts: Vec<TextAnswer>,
}

impl QuestionResult {
    /// Mean of a scale in hundredths (4.25 → 425), `None` without answers.
    pub fn mean_hundredths(&self) -> Option<i64> {
        let (sum, n) = self
            .counts
            .iter()
            .fold((0, 0), |(sum, n), (value, people)| {
                (sum + value * people, n + people)
            });
        (n > 0).then(|| (sum * 100 + n / 2).div_euclid(n))
    }

    /// NPS: percent of 9–10 minus percent of 0–6, rounded; `None` without answers.
    pub fn net_promoter_score(&self) -> Option<i64> {
        let n: i64 = self.counts.iter().map(|(_, people)| people).sum();
        let promoters: i64 = self
            .counts
            .iter()
            .filter(|(v, _)| *v >= 9)
            .map(|(_, p)| p)
            .sum();
        let detractors: i64 = self
            .counts
            .iter()
            .filter(|(v, _)| *v <= 6)
            .map(|(_, p)| p)
            .sum();
        (n > 0).then(|| ((promoters - detractors) * 100 * 2 + n).div_euclid(2 * n))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextAnswer {
    pub response_id: i64,
    pub text: String,
    pub submitted_at: DateTime<Utc>,
}

/// Response rate of one department: checked-in people and how many answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentRate {
    pub department_id: Option<i64>,
    pub department: Option<String>,
    pub checked_in: i64,
    pub respondents: i64,
}

/// Everything the results part of the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResults {
    pub survey: Survey,
    /// The department the figures are narrowed to, if any.
    pub department_id: Option<i64>,
    pub checked_in: i64,
    pub respondents: i64,
    pub questions: Vec<QuestionResult>,
    /// Every department with someone checked in, largest first.
    pub departments: Vec<DepartmentRate>,
}

/// Surveys across events, for administrators: per month of the events'
/// start and per department, the response rate and the mean of every
/// 1–5 rating answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyOverview {
    pub months: Vec<SurveyTotals>,
    pub departments: Vec<SurveyTotals>,
}

/// One month (`label` "2026-12") or one department (`label` its name,
/// `None` for people without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyTotals {
    pub label: Option<String>,
    /// Events with a survey (months only).
    pub surveys: i64,
    pub checked_in: i64,
    pub respondents: i64,
    pub rating_sum: i64,
    pub ratings: i64,
}

impl SurveyTotals {
    /// Mean rating in hundredths (4.25 → 425), `None` without ratings.
    pub fn mean_rating_hundredths(&self) -> Option<i64> {
        (self.ratings > 0)
            .then(|| (self.rating_sum * 100 + self.ratings / 2).div_euclid(self.ratings))
    }
}

/// A page of one question's free-text answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextAnswerPage {
    pub items: Vec<TextAnswer>,
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_stored_as_plain_json() {
        let mut answers = Answers::new();
        answers.insert("q1".into(), Answer::Scale(4));
        answers.insert("q2".into(), Answer::Choices(vec![0, 2]));
        answers.insert("q3".into(), Answer::Text("良かった".into()));
        let json = serde_json::to_string(&answers).unwrap();
        assert_eq!(json, r#"{"q1":4,"q2":[0,2],"q3":"良かった"}"#);
        assert_eq!(serde_json::from_str::<Answers>(&json).unwrap(), answers);
    }

    #[test]
    fn mean_and_net_promoter_score() {
        let result = |counts: Vec<(i64, i64)>| QuestionResult {
            key: "q".into(),
            answered: counts.iter().map(|c| c.1).sum(),
            counts,
            texts: vec![],
        };
        assert_eq!(
            result(vec![(1, 0), (2, 0), (3, 1), (4, 2), (5, 1)]).mean_hundredths(),
            Some(400)
        );
        assert_eq!(result(vec![(1, 2), (2, 1)]).mean_hundredths(), Some(133));
        assert_eq!(result(vec![(1, 0)]).mean_hundredths(), None);
        // 2 promoters, 1 passive, 1 detractor of 4: 50 % − 25 % = 25.
        let nps = result(vec![(10, 1), (9, 1), (8, 1), (3, 1)]);
        assert_eq!(nps.net_promoter_score(), Some(25));
        assert_eq!(result(vec![(0, 3)]).net_promoter_score(), Some(-100));
        assert_eq!(result(vec![]).net_promoter_score(), None);
    }

    #[test]
    fn wording_falls_back_to_the_other_language() {
        let only_japanese = Wording::new("満足度", "");
        assert_eq!(only_japanese.read(Lang::En), "満足度");
        assert_eq!(
            Wording::new("満足度", "Satisfaction").read(Lang::En),
            "Satisfaction"
        );
    }
}
