//! `/surveys/:id`: a person who attended answers the event's survey, on one
//! page built for a phone. A plain form, so it works without JavaScript;
//! with it, a problem is shown at its question without leaving the page and
//! the answers stay as typed. Without it the refused form comes back through
//! a redirect, and the answers given are kept in the session for that one
//! page load (see `refused_answers`).
//!
//! Field names: `answers[q1]` for a question's one value, and
//! `answers[q3c0]`, `answers[q3c2]`, … for the ticked choices of a
//! multiple-choice question (question keys are `q` and digits, so the `c`
//! separates them unambiguously).

use std::collections::HashMap;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use tsudoi::model::Lang;
use tsudoi::surveys::{
    Answer, AnswerProblem, Question, QuestionKind, SurveyForPerson, SurveyState,
};

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::{LoginNeeded, form_error_in_url};

#[server(endpoint = "surveys/page", input = GetUrl)]
pub async fn survey_to_answer(survey_id: i64) -> Result<SurveyForPerson, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let mut page = tsudoi::surveys::answering::for_person(
        &ctx.db,
        ctx.time_zone,
        survey_id,
        viewer.id,
        chrono::Utc::now(),
    )
    .await?;
    if let Some(given) = refused_answers::take(survey_id).await {
        page.answers = Some(given);
    }
    Ok(page)
}

/// Stores the caller's answers; `true` for a first answer, `false` for a change.
#[server(endpoint = "surveys/answer")]
pub async fn answer_survey(
    survey_id: i64,
    answers: Option<HashMap<String, String>>,
) -> Result<bool, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let pairs: Vec<(String, String)> = answers
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| match name.split_once('c') {
            Some((key, choice)) if key.starts_with('q') => (key.to_string(), choice.to_string()),
            _ => (name, value),
        })
        .collect();
    let now = chrono::Utc::now();
    let outcome = tsudoi::surveys::answering::submit(
        &ctx.db,
        ctx.time_zone,
        survey_id,
        viewer.id,
        &pairs,
        now,
    )
    .await;
    match outcome {
        Ok(outcome) => {
            refused_answers::forget().await;
            Ok(outcome == tsudoi::surveys::answering::Submitted::Answered)
        }
        Err(error) => {
            if matches!(
                error,
                tsudoi::Error::Invalid(tsudoi::Reason::SurveyAnswersInvalid { .. })
            ) && let Ok(survey) = tsudoi::surveys::build::get(&ctx.db, survey_id, now).await
            {
                let given = tsudoi::surveys::answering::as_given(&survey.questions, &pairs);
                refused_answers::keep(survey_id, given).await;
            }
            Err(error.into())
        }
    }
}

/// The answers of a refused form, kept in the session until the survey page
/// that shows the problems reads them once. Only the latest form is kept;
/// a session that cannot be written loses them, nothing else.
#[cfg(feature = "ssr")]
mod refused_answers {
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;
    use tsudoi::surveys::Answers;

    const KEY: &str = "refused_survey_answers";

    #[derive(Serialize, Deserialize)]
    struct Refused {
        survey_id: i64,
        answers: Answers,
    }

    async fn session() -> Option<Session> {
        leptos_axum::extract::<Session>().await.ok()
    }

    pub async fn keep(survey_id: i64, answers: Answers) {
        if let Some(session) = session().await
            && let Err(error) = session.insert(KEY, Refused { survey_id, answers }).await
        {
            tracing::warn!(%error, "could not keep the refused survey answers");
        }
    }

    pub async fn take(survey_id: i64) -> Option<Answers> {
        let session = session().await?;
        let refused: Refused = session.get(KEY).await.ok().flatten()?;
        if refused.survey_id != survey_id {
            return None;
        }
        let _ = session.remove::<Refused>(KEY).await;
        Some(refused.answers)
    }

    pub async fn forget() {
        if let Some(session) = session().await {
            let _ = session.remove::<Refused>(KEY).await;
        }
    }
}

/// The problems of a refused submission, by question key.
fn problems_of(error: &Option<AppError>) -> HashMap<String, AnswerProblem> {
    match error {
        Some(AppError::Domain(tsudoi::Error::Invalid(tsudoi::Reason::SurveyAnswersInvalid {
            problems,
        }))) => problems.iter().cloned().collect(),
        _ => HashMap::new(),
    }
}

#[component]
pub fn SurveyPage() -> impl IntoView {
    let t = use_texts();
    let id = crate::pages::route_id();
    let answer = ServerAction::<AnswerSurvey>::new();
    // Read again only after a save, so answers being corrected stay as typed.
    let saved = Memo::new(move |_| {
        answer
            .value()
            .get()
            .map(|outcome| outcome.is_ok())
            .unwrap_or(false)
    });
    let page = Resource::new(
        move || (id(), saved.get()),
        |(id, _)| async move {
            match id {
                Some(id) => survey_to_answer(id).await,
                None => Err(AppError::Domain(tsudoi::Error::NotFound)),
            }
        },
    );
    let returned_error = form_error_in_url(<AnswerSurvey as leptos::server_fn::ServerFn>::PATH);
    view! {
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || {
                let returned_error = returned_error.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <SurveyForm page answer returned_error /> }.into_any(),
                        Err(AppError::Domain(tsudoi::Error::Conflict(
                            tsudoi::Reason::SurveyOnlyForAttendees,
                        ))) => view! { <NotForYou /> }.into_any(),
                        Err(error) => view! {
                            <LoginNeeded error here=format!("/surveys/{}", id().unwrap_or_default()) />
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// For a person who was not checked in: why, and where to go instead.
#[component]
fn NotForYou() -> impl IntoView {
    let t = use_texts();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    let reason = tsudoi::Reason::SurveyOnlyForAttendees;
    view! {
        <Title text=t.surveys.not_for_you_title />
        <section class="empty-state" role="alert" data-testid="survey-not-for-you">
            <h1>{t.surveys.not_for_you_title}</h1>
            <p>{t.error(&AppError::Domain(tsudoi::Error::Conflict(reason)))}</p>
            <p><a class="button secondary" href="/my-events">{t.surveys.to_my_events}</a></p>
        </section>
    }
}

#[component]
fn SurveyForm(
    page: SurveyForPerson,
    answer: ServerAction<AnswerSurvey>,
    returned_error: Option<AppError>,
) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let lang = use_lang();
    let survey = page.survey.clone();
    let title = page.event_title.read(lang).to_string();
    let open = survey.state == SurveyState::Open;
    let anonymous = survey.settings.anonymous;
    // An anonymous answer is final: the page only says thank you.
    let takes_answers = open && !(anonymous && page.answered);
    let stored = page.answers.clone().unwrap_or_default();
    let error = Signal::derive(move || {
        answer
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| returned_error.clone())
    });
    let problems = Memo::new(move |_| problems_of(&error.get()));
    let just_saved = move || answer.value().get().is_some_and(|r| r.is_ok());
    let opens = (t.date_time)(page.opens_local);
    let closes = (t.date_time)(page.closes_local);
    let state_line = match survey.state {
        SurveyState::NotYetOpen => (s.opens_on)(&opens),
        SurveyState::Closed => s.closed.to_string(),
        SurveyState::Open if page.answered && anonymous => s.answered_anonymously.to_string(),
        SurveyState::Open if page.answered => (s.change_until)(&closes),
        SurveyState::Open => (s.open_until)(&closes),
    };
    let questions = survey.questions.clone();
    let survey_id = survey.id;
    let answered = page.answered;
    view! {
        <Title text=(s.title)(&title) />
        <article class="survey" data-testid="survey">
            <h1>{(s.title)(&title)}</h1>
            <p class="hint" data-testid="survey-privacy">{if anonymous { s.anonymous_note } else { s.named_note }}</p>
            <p role="status" data-testid="survey-state" data-state=format!("{:?}", survey.state)>
                {move || if just_saved() { s.saved.to_string() } else { state_line.clone() }}
            </p>
            {takes_answers.then(|| view! {
                <ActionForm action=answer attr:class="survey-form" attr:novalidate=true>
                    <input type="hidden" name="survey_id" value=survey_id />
                    {move || (!problems.get().is_empty()).then(|| view! {
                        <p class="error" role="alert" data-testid="survey-error">{s.fix_below}</p>
                    })}
                    {move || error.get().filter(|e| problems_of(&Some(e.clone())).is_empty()).map(|e| view! {
                        <p class="error" role="alert" data-testid="form-error">{t.error(&e)}</p>
                    })}
                    {questions.iter().enumerate().map(|(index, question)| {
                        let key = question.key.clone();
                        let problem = Signal::derive(move || problems.get().get(&key).copied());
                        view! {
                            <QuestionField
                                number=index + 1
                                question=question.clone()
                                given=stored.get(&question.key).cloned()
                                lang
                                problem
                            />
                        }
                    }).collect_view()}
                    <button class="button" type="submit" data-testid="send-answers"
                        disabled=move || answer.pending().get()>
                        {move || if answer.pending().get() { s.sending } else if answered || just_saved() { s.update } else { s.send }}
                    </button>
                </ActionForm>
            })}
            <p><a href="/my-events">{s.to_my_events}</a></p>
        </article>
    }
}

/// One question as a fieldset: its text, its control, and its problem.
#[component]
fn QuestionField(
    number: usize,
    question: Question,
    given: Option<Answer>,
    lang: Lang,
    problem: Signal<Option<AnswerProblem>>,
) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let key = question.key.clone();
    let message_id = format!("problem-{key}");
    let hint_id = format!("hint-{key}");
    let described = {
        let message_id = message_id.clone();
        move || problem.get().map(|_| message_id.clone())
    };
    let field_name = format!("answers[{key}]");
    let control = match question.kind {
        QuestionKind::Rating | QuestionKind::Nps => {
            let (low, high) = question.kind.scale().unwrap_or((1, 5));
            let chosen = match given {
                Some(Answer::Scale(n)) => Some(n),
                _ => None,
            };
            let (low_words, high_words) = if question.kind == QuestionKind::Nps
                && question.low_label.is_empty()
                && question.high_label.is_empty()
            {
                (s.not_likely.to_string(), s.very_likely.to_string())
            } else {
                (
                    question.low_label.read(lang).to_string(),
                    question.high_label.read(lang).to_string(),
                )
            };
            view! {
                <div class=format!("scale scale-{}", high - low + 1)>
                    {(low..=high).map(|n| view! {
                        <label class="scale-point">
                            <input type="radio" name=field_name.clone() value=n.to_string()
                                checked=chosen == Some(n) required=question.required
                                aria-describedby=described.clone() />
                            <span>{n}</span>
                        </label>
                    }).collect_view()}
                </div>
                {(!low_words.is_empty() || !high_words.is_empty()).then(|| view! {
                    <p class="scale-ends" id=hint_id.clone()>
                        <span>{(!low_words.is_empty()).then(|| format!("{low} = {low_words}"))}</span>
                        <span>{(!high_words.is_empty()).then(|| format!("{high} = {high_words}"))}</span>
                    </p>
                })}
            }
            .into_any()
        }
        QuestionKind::SingleChoice => {
            let chosen: Vec<u32> = match given {
                Some(Answer::Choices(c)) => c,
                _ => vec![],
            };
            view! {
                <div class="choices">
                    {question.choices.iter().enumerate().map(|(i, choice)| view! {
                        <label class="choice">
                            <input type="radio" name=field_name.clone() value=i.to_string()
                                checked=chosen.contains(&(i as u32)) required=question.required
                                aria-describedby=described.clone() />
                            <span>{choice.read(lang).to_string()}</span>
                        </label>
                    }).collect_view()}
                </div>
            }
            .into_any()
        }
        QuestionKind::MultipleChoice => {
            let chosen: Vec<u32> = match given {
                Some(Answer::Choices(c)) => c,
                _ => vec![],
            };
            view! {
                <p class="hint" id=hint_id.clone()>{s.choose_any}</p>
                <div class="choices">
                    {question.choices.iter().enumerate().map(|(i, choice)| view! {
                        <label class="choice">
                            <input type="checkbox" name=format!("answers[{key}c{i}]") value="on"
                                checked=chosen.contains(&(i as u32))
                                aria-describedby=described.clone() />
                            <span>{choice.read(lang).to_string()}</span>
                        </label>
                    }).collect_view()}
                </div>
            }
            .into_any()
        }
        QuestionKind::ShortText | QuestionKind::LongText => {
            let text = match given {
                Some(Answer::Text(text)) => text,
                _ => String::new(),
            };
            let id = format!("answer-{key}");
            if question.kind == QuestionKind::ShortText {
                view! {
                    <input type="text" id=id name=field_name.clone() value=text
                        maxlength=tsudoi::surveys::MAX_SHORT_ANSWER_CHARS.to_string()
                        required=question.required aria-describedby=described.clone()
                        aria-invalid=move || problem.get().map(|_| "true") />
                }
                .into_any()
            } else {
                view! {
                    <textarea id=id name=field_name.clone() rows="5"
                        maxlength=tsudoi::surveys::MAX_LONG_ANSWER_CHARS.to_string()
                        required=question.required aria-describedby=described.clone()
                        aria-invalid=move || problem.get().map(|_| "true")>{text}</textarea>
                }
                .into_any()
            }
        }
    };
    let text = question.text.read(lang).to_string();
    let is_text = question.kind.is_text();
    let label_for = format!("answer-{key}");
    let testid = format!("question-{key}");
    let problem_testid = format!("problem-{key}");
    view! {
        <fieldset class="question" data-testid=testid data-kind=question.kind.code()
            class:has-problem=move || problem.get().is_some()>
            <legend>
                <span class="question-number">{number}". "</span>
                {if is_text {
                    view! { <label for=label_for>{text}</label> }.into_any()
                } else {
                    view! { <span>{text}</span> }.into_any()
                }}
                {question.required.then(|| view! { <span class="required">{format!(" ({})", s.required)}</span> })}
            </legend>
            {control}
            {move || problem.get().map(|p| view! {
                <p class="field-error" role="alert" id=message_id.clone() data-testid=problem_testid.clone()>
                    {(s.problem)(p)}
                </p>
            })}
        </fieldset>
    }
}
