//! `/organize/:id/survey`: the organizer builds the event's survey — its
//! questions in both languages and when it opens — and can close it early.
//! The results are on the event's dashboard (`SurveyResultsSection`).
//!
//! A plain form that works without JavaScript: each question is a group of
//! fields (`questions[i][…]`), two empty groups add questions, a number
//! orders them and a tick removes one. The form can start from another
//! event's survey (`?copy_from=ID`).

#![allow(clippy::too_many_arguments)]

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use tsudoi::surveys::SurveySettings;
use tsudoi::surveys::{QuestionKind, QuestionProblem, SurveyResults, SurveyState};

use super::charts::BarChart;
use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::{LoginNeeded, form_error_in_url};

/// Empty question groups offered below the survey's questions.
const BLANK_QUESTIONS: usize = 2;

/// One question's fields as the form holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub text_ja: String,
    #[serde(default)]
    pub text_en: String,
    /// One choice per line.
    #[serde(default)]
    pub choices_ja: String,
    #[serde(default)]
    pub choices_en: String,
    #[serde(default)]
    pub low_ja: String,
    #[serde(default)]
    pub low_en: String,
    #[serde(default)]
    pub high_ja: String,
    #[serde(default)]
    pub high_en: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub remove: Option<String>,
}

/// What the builder page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyBuilder {
    pub event_id: i64,
    pub event_title_ja: Option<String>,
    pub event_title_en: Option<String>,
    pub version: Option<i32>,
    pub respondents: i64,
    pub state: Option<SurveyState>,
    pub questions: Vec<QuestionForm>,
    pub anonymous: bool,
    /// `datetime-local` text in the company zone, empty for "when the event ends".
    pub opens: String,
    pub open_days: String,
    pub reminder_days: String,
    pub zone: String,
    /// The event the questions were copied from, when they were.
    pub copied_from: Option<i64>,
}

#[cfg(feature = "ssr")]
fn question_form(question: &tsudoi::surveys::Question) -> QuestionForm {
    let lines = |pick: fn(&tsudoi::surveys::Wording) -> &str| {
        question
            .choices
            .iter()
            .map(pick)
            .collect::<Vec<_>>()
            .join("\n")
    };
    QuestionForm {
        key: question.key.clone(),
        kind: question.kind.code().to_string(),
        text_ja: question.text.ja.clone(),
        text_en: question.text.en.clone(),
        choices_ja: lines(|w| &w.ja),
        choices_en: lines(|w| &w.en),
        low_ja: question.low_label.ja.clone(),
        low_en: question.low_label.en.clone(),
        high_ja: question.high_label.ja.clone(),
        high_en: question.high_label.en.clone(),
        required: question.required.then(|| "on".to_string()),
        position: String::new(),
        remove: None,
    }
}

#[server(endpoint = "organize/survey", input = GetUrl)]
pub async fn load_survey_builder(
    event_id: i64,
    copy_from: Option<i64>,
) -> Result<SurveyBuilder, AppError> {
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let now = chrono::Utc::now();
    let event = tsudoi::events::manage::get(&ctx.db, ctx.time_zone, event_id).await?;
    let survey = tsudoi::surveys::build::of_event(&ctx.db, event_id, now).await?;
    // A copy fills the form only; nothing is saved until the organizer saves.
    let copied = match copy_from {
        Some(source) => {
            tsudoi::events::manage::may_manage(&ctx.db, viewer.id, viewer.role, source).await?;
            Some(tsudoi::surveys::build::draft_copied_from(&ctx.db, source, now).await?)
        }
        None => None,
    };
    let (questions, settings) = match (&copied, &survey) {
        (Some(draft), _) => (draft.questions.clone(), draft.settings.clone()),
        (None, Some(survey)) => (survey.questions.clone(), survey.settings.clone()),
        (None, None) => (Vec::new(), SurveySettings::default()),
    };
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&ctx.time_zone)
            .format(super::editor::LOCAL_FORMAT)
            .to_string()
    };
    Ok(SurveyBuilder {
        event_id,
        event_title_ja: event.draft.title_ja.clone(),
        event_title_en: event.draft.title_en.clone(),
        version: survey.as_ref().map(|s| s.version),
        respondents: survey.as_ref().map_or(0, |s| s.respondents),
        state: survey.as_ref().map(|s| s.state),
        questions: questions.iter().map(question_form).collect(),
        anonymous: settings.anonymous,
        opens: settings.opens_at.map(local).unwrap_or_default(),
        open_days: settings.open_days.to_string(),
        reminder_days: settings
            .reminder_days_before
            .map(|d| d.to_string())
            .unwrap_or_default(),
        zone: ctx.time_zone.name().to_string(),
        copied_from: copied.is_some().then_some(copy_from).flatten(),
    })
}

/// The questions of the form, in the order their positions give, without
/// removed ones and without empty new groups; each with the index of its
/// group in the form, so a problem is shown where it was typed.
#[cfg(feature = "ssr")]
fn questions_of(
    forms: Vec<QuestionForm>,
) -> Result<Vec<(usize, tsudoi::surveys::Question)>, tsudoi::Error> {
    use tsudoi::surveys::{Question, Wording};
    let mut kept: Vec<(f64, usize, Question)> = Vec::new();
    for (index, form) in forms.into_iter().enumerate() {
        let empty = form.text_ja.trim().is_empty() && form.text_en.trim().is_empty();
        if form.remove.is_some() || (form.key.is_empty() && empty) {
            continue;
        }
        let kind = QuestionKind::parse(&form.kind)
            .ok_or(tsudoi::Error::Invalid(tsudoi::Reason::IncompleteForm))?;
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        };
        let (ja, en) = (lines(&form.choices_ja), lines(&form.choices_en));
        let choices = (0..ja.len().max(en.len()))
            .map(|i| {
                Wording::new(
                    ja.get(i).cloned().unwrap_or_default(),
                    en.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect();
        // A position typed as a number orders the question; otherwise it
        // keeps its place.
        let position = form
            .position
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .unwrap_or(index as f64 + 1.0);
        kept.push((
            position,
            index,
            Question {
                key: form.key,
                kind,
                text: Wording::new(form.text_ja, form.text_en),
                required: form.required.is_some(),
                choices,
                low_label: Wording::new(form.low_ja, form.low_en),
                high_label: Wording::new(form.high_ja, form.high_en),
            },
        ));
    }
    kept.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(kept.into_iter().map(|(_, index, q)| (index, q)).collect())
}

#[server(endpoint = "organize/survey/save")]
pub async fn save_survey(
    event_id: i64,
    version: Option<i32>,
    questions: Option<Vec<QuestionForm>>,
    anonymous: Option<String>,
    opens: String,
    open_days: String,
    reminder_days: String,
) -> Result<(), AppError> {
    use tsudoi::{Error, Field, Reason};
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let number = |text: &str, field: Field| -> Result<Option<u32>, Error> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u32>()
            .map(Some)
            .map_err(|_| Error::Invalid(Reason::NotAWholeNumber { field }))
    };
    let (groups, questions): (Vec<usize>, Vec<_>) = questions_of(questions.unwrap_or_default())?
        .into_iter()
        .unzip();
    let draft = tsudoi::surveys::SurveyDraft {
        questions,
        settings: SurveySettings {
            anonymous: anonymous.is_some(),
            opens_at: super::editor::parse_local(ctx.time_zone, &opens, Field::SurveyOpensAt)?,
            open_days: number(&open_days, Field::OpenDays)?
                .unwrap_or(tsudoi::surveys::DEFAULT_OPEN_DAYS),
            reminder_days_before: number(&reminder_days, Field::ReminderDays)?,
        },
    };
    let saved = tsudoi::surveys::build::save(
        &ctx.db,
        viewer.id,
        event_id,
        version,
        &draft,
        chrono::Utc::now(),
    )
    .await;
    // The core numbers the questions it was given; the form's groups are
    // numbered with the empty and removed ones.
    if let Err(Error::Invalid(Reason::SurveyQuestionsInvalid { problems })) = saved {
        let problems = problems
            .into_iter()
            .map(|(position, problem)| {
                let group = groups
                    .get((position as usize).saturating_sub(1))
                    .copied()
                    .unwrap_or(0);
                (group as u32 + 1, problem)
            })
            .collect();
        return Err(Error::Invalid(Reason::SurveyQuestionsInvalid { problems }).into());
    }
    saved?;
    leptos_axum::redirect(&format!("/organize/{event_id}/survey?saved=1"));
    Ok(())
}

#[server(endpoint = "organize/survey/close")]
pub async fn close_survey(event_id: i64) -> Result<(), AppError> {
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    tsudoi::surveys::build::close_now(&ctx.db, viewer.id, event_id, chrono::Utc::now()).await?;
    Ok(())
}

#[component]
pub fn SurveyBuilderPage() -> impl IntoView {
    let t = use_texts();
    let route_id = crate::pages::route_id();
    let id = move || route_id().unwrap_or_default();
    let query = use_query_map();
    let copy_from = move || {
        query
            .read()
            .get("copy_from")
            .and_then(|n| n.trim().parse::<i64>().ok())
    };
    let save = ServerAction::<SaveSurvey>::new();
    let close = ServerAction::<CloseSurvey>::new();
    // Counts the saves that succeeded: the form is read again after those
    // (new questions get their keys, the version moves on), never after a
    // refused one, whose typing stays as it was.
    let saves = Memo::new(move |previous: Option<&usize>| {
        let version = save.version().get();
        match save.value().get() {
            Some(Ok(())) => version,
            _ => previous.copied().unwrap_or(0),
        }
    });
    // Said after a save: with JavaScript from the action, without it from
    // the address the save redirected to.
    let saved = Signal::derive(move || {
        matches!(save.value().get(), Some(Ok(()))) || query.read().get("saved").is_some()
    });
    let builder = Resource::new(
        move || (id(), copy_from(), close.version().get(), saves.get()),
        |(id, copy_from, ..)| load_survey_builder(id, copy_from),
    );
    let returned_error = form_error_in_url(<SaveSurvey as leptos::server_fn::ServerFn>::PATH);
    view! {
        <Title text=t.surveys.builder_title />
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || {
                let returned_error = returned_error.clone();
                Suspend::new(async move {
                    match builder.await {
                        Ok(data) => view! { <BuilderForm data save close saved returned_error /> }.into_any(),
                        Err(error) => view! { <LoginNeeded error here=format!("/organize/{}/survey", id()) /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn BuilderForm(
    data: SurveyBuilder,
    save: ServerAction<SaveSurvey>,
    close: ServerAction<CloseSurvey>,
    saved: Signal<bool>,
    returned_error: Option<AppError>,
) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let lang = use_lang();
    let title = lang
        .pick(
            data.event_title_ja.as_deref(),
            data.event_title_en.as_deref(),
        )
        .to_string();
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| returned_error.clone())
    });
    let problems = Memo::new(move |_| match error.get() {
        Some(AppError::Domain(tsudoi::Error::Invalid(
            tsudoi::Reason::SurveyQuestionsInvalid { problems },
        ))) => problems,
        _ => Vec::new(),
    });
    let event_id = data.event_id;
    let fixed = data.respondents > 0;
    let mut groups = data.questions.clone();
    if !fixed {
        groups.extend(std::iter::repeat_n(
            QuestionForm::default(),
            BLANK_QUESTIONS,
        ));
    }
    let open = data.state.is_some_and(|s| s != SurveyState::Closed);
    view! {
        <div class="page-head">
            <h1>{format!("{} — {}", s.builder_title, title)}</h1>
        </div>
        <p class="event-meta"><a href=format!("/organize/{event_id}")>{t.organize.dashboard}</a></p>
        <p class="hint">{s.builder_intro}</p>
        {move || saved.get().then(|| view! { <p class="notice" role="status" data-testid="survey-saved">{s.saved_survey}</p> })}
        {fixed.then(|| view! { <p class="notice" role="status" data-testid="survey-fixed">{(s.fixed_by_answers)(data.respondents)}</p> })}
        {data.copied_from.map(|n| view! { <p class="notice" role="status" data-testid="survey-copied">{format!("#{n} → {}", s.copy)}</p> })}
        {move || error.get().filter(|_| problems.get().is_empty()).map(|e| view! {
            <p class="error" role="alert" data-testid="form-error">{t.error(&e)}</p>
        })}
        {move || (!problems.get().is_empty()).then(|| view! {
            <p class="error" role="alert" data-testid="survey-error">{error.get().map(|e| t.error(&e))}</p>
        })}
        <ActionForm action=save attr:class="survey-builder" attr:novalidate=true>
            <input type="hidden" name="event_id" value=event_id />
            {data.version.map(|v| view! { <input type="hidden" name="version" value=v /> })}
            {groups.into_iter().enumerate().map(|(index, form)| {
                let problems_here = Signal::derive(move || {
                    problems.get().into_iter()
                        .filter(|(position, _)| *position as usize == index + 1)
                        .map(|(_, p)| p)
                        .collect::<Vec<QuestionProblem>>()
                });
                view! { <QuestionGroup index form fixed problems=problems_here /> }
            }).collect_view()}
            <fieldset class="survey-settings">
                <legend>{s.settings}</legend>
                <label class="check">
                    <input type="checkbox" name="anonymous" value="on" checked=data.anonymous disabled=fixed />
                    {s.anonymous}
                </label>
                // A disabled box is not posted; the setting cannot change once answered.
                {(fixed && data.anonymous).then(|| view! { <input type="hidden" name="anonymous" value="on" /> })}
                <p class="hint">{s.anonymous_hint}</p>
                <label>{s.opens}<input type="datetime-local" name="opens" value=data.opens.clone() /></label>
                <p class="hint">{s.opens_hint}" ("{data.zone.clone()}")"</p>
                <label>{s.open_days}<input type="number" name="open_days" min="1" max="90" inputmode="numeric" value=data.open_days.clone() /></label>
                <label>{s.reminder_days}<input type="number" name="reminder_days" min="1" max="89" inputmode="numeric" value=data.reminder_days.clone() /></label>
                <p class="hint">{s.reminder_hint}</p>
            </fieldset>
            <button class="button" type="submit" data-testid="save-survey" disabled=move || save.pending().get()>{s.save}</button>
        </ActionForm>
        {(!fixed).then(|| view! {
            <form method="get" action=format!("/organize/{event_id}/survey") class="stacked-form copy-survey">
                <label>{s.copy_from}<input type="number" name="copy_from" min="1" inputmode="numeric" /></label>
                <p class="hint">{s.copy_hint}</p>
                <button class="button secondary" type="submit">{s.copy}</button>
            </form>
        })}
        {open.then(|| view! {
            <ActionForm action=close attr:class="inline-form">
                <input type="hidden" name="event_id" value=event_id />
                <button class="button danger" type="submit" data-testid="close-survey"
                    on:click=move |ev| {
                        if !window().confirm_with_message(s.confirm_close).unwrap_or(false) {
                            ev.prevent_default();
                        }
                    }
                >{s.close_now}</button>
            </ActionForm>
        })}
    }
}

/// One question's fields.
#[component]
fn QuestionGroup(
    index: usize,
    form: QuestionForm,
    fixed: bool,
    problems: Signal<Vec<QuestionProblem>>,
) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let name = move |field: &str| format!("questions[{index}][{field}]");
    let is_new = form.key.is_empty();
    let kind = QuestionKind::parse(&form.kind).unwrap_or(QuestionKind::Rating);
    let problem_id = format!("question-problems-{index}");
    let legend = if is_new {
        s.new_question.to_string()
    } else {
        (s.question_n)(index + 1)
    };
    view! {
        <fieldset class="question-group" data-testid=format!("question-group-{index}")
            aria-describedby=move || (!problems.get().is_empty()).then(|| problem_id.clone())>
            <legend>{legend}</legend>
            {move || {
                let list = problems.get();
                (!list.is_empty()).then(|| view! {
                    <ul class="field-error" role="alert" id=format!("question-problems-{index}")>
                        {list.into_iter().map(|p| view! { <li>{(s.question_problem)(p)}</li> }).collect_view()}
                    </ul>
                })
            }}
            <input type="hidden" name=name("key") value=form.key.clone() />
            {is_new.then(|| view! { <p class="hint">{s.leave_empty}</p> })}
            <label>{s.kind}
                <select name=name("kind") disabled=fixed>
                    {QuestionKind::ALL.into_iter().map(|k| view! {
                        <option value=k.code() selected=k == kind>{(s.kind_name)(k)}</option>
                    }).collect_view()}
                </select>
            </label>
            // A disabled select is not posted; the kind is fixed once answered.
            {fixed.then(|| view! { <input type="hidden" name=name("kind") value=kind.code() /> })}
            <label>{s.question_ja}<input type="text" name=name("text_ja") value=form.text_ja.clone() maxlength="300" /></label>
            <label>{s.question_en}<input type="text" name=name("text_en") value=form.text_en.clone() maxlength="300" /></label>
            <div class="two-columns">
                <label>{s.choices_ja}<textarea name=name("choices_ja") rows="3">{form.choices_ja.clone()}</textarea></label>
                <label>{s.choices_en}<textarea name=name("choices_en") rows="3">{form.choices_en.clone()}</textarea></label>
            </div>
            <p class="hint">{s.one_per_line}</p>
            <div class="two-columns">
                <label>{s.low_label}{s.in_ja}<input type="text" name=name("low_ja") value=form.low_ja.clone() maxlength="300" lang="ja" /></label>
                <label>{s.low_label}{s.in_en}<input type="text" name=name("low_en") value=form.low_en.clone() maxlength="300" lang="en" /></label>
                <label>{s.high_label}{s.in_ja}<input type="text" name=name("high_ja") value=form.high_ja.clone() maxlength="300" lang="ja" /></label>
                <label>{s.high_label}{s.in_en}<input type="text" name=name("high_en") value=form.high_en.clone() maxlength="300" lang="en" /></label>
            </div>
            <div class="question-options">
                <label class="check"><input type="checkbox" name=name("required") value="on" checked=form.required.is_some() />{s.is_required}</label>
                <label class="position">{s.position}<input type="number" name=name("position") value=(index + 1).to_string() inputmode="numeric" /></label>
                {(!is_new && !fixed).then(|| view! {
                    <label class="check"><input type="checkbox" name=name("remove") value="on" />{s.remove}</label>
                })}
            </div>
        </fieldset>
    }
}

/// The answers as CSV for Excel (UTF-8 with a byte order mark), streamed.
#[server(endpoint = "organize/survey.csv", input = GetUrl, output = leptos::server_fn::codec::Streaming)]
pub async fn export_survey(
    event_id: i64,
) -> Result<leptos::server_fn::codec::ByteStream<AppError>, AppError> {
    use futures_util::StreamExt;
    super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let survey = tsudoi::surveys::build::of_event(&ctx.db, event_id, chrono::Utc::now())
        .await?
        .ok_or(tsudoi::Error::NotFound)?;
    crate::server_context::send_as_attachment(
        "text/csv; charset=utf-8",
        &format!("tsudoi-event-{event_id}-survey.csv"),
    );
    let lang = crate::i18n::request_lang();
    let chunks = tsudoi::surveys::export::export_csv(ctx.db.clone(), survey, ctx.time_zone, lang)
        .map(|chunk| chunk.map(bytes::Bytes::from).map_err(AppError::from));
    Ok(leptos::server_fn::codec::ByteStream::new(chunks))
}

/// The survey part of the dashboard: the rate, each question's figures,
/// and the same narrowed to one department (loaded with the dashboard).
#[component]
pub fn SurveyResultsSection(event_id: i64, results: Option<SurveyResults>) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    view! {
        <section class="survey-results" data-testid="survey-results">
            <h2>{s.results}</h2>
            {match results {
                Some(results) => view! { <ResultsView results /> }.into_any(),
                None => view! {
                    <p data-testid="no-survey">{s.no_survey}</p>
                    <p><a class="button small" href=format!("/organize/{event_id}/survey") data-testid="build-survey">{s.build_survey}</a></p>
                }
                .into_any(),
            }}
        </section>
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole > 0 {
        format!("{:.0} %", 100.0 * part as f64 / whole as f64)
    } else {
        "—".to_string()
    }
}

#[component]
fn ResultsView(results: SurveyResults) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let lang = use_lang();
    let survey = results.survey.clone();
    let event_id = survey.event_id;
    let chosen = results.department_id;
    let departments = results.departments.clone();
    let rates: Vec<(String, i64)> = departments
        .iter()
        .map(|d| {
            let name = d
                .department
                .clone()
                .unwrap_or_else(|| t.organize.no_department.to_string());
            (
                format!("{name} ({}/{})", d.respondents, d.checked_in),
                if d.checked_in > 0 {
                    100 * d.respondents / d.checked_in
                } else {
                    0
                },
            )
        })
        .collect();
    view! {
        <p class="event-meta">
            <span class="badge" data-testid="survey-state">{(s.state)(survey.state)}</span>
            " "
            <a href=format!("/organize/{event_id}/survey") data-testid="edit-survey">{s.edit_survey}</a>
            " · "
            <a href=format!("/api/organize/survey.csv?event_id={event_id}") download="" data-testid="survey-csv">{s.download_answers}</a>
        </p>
        <dl class="stat-grid">
            <div>
                <dt>{s.response_rate}</dt>
                <dd data-testid="survey-rate" title=(s.respondents_of)(results.respondents, results.checked_in)>
                    {percent(results.respondents, results.checked_in)}
                    <small class="rate-detail">{(s.respondents_of)(results.respondents, results.checked_in)}</small>
                </dd>
            </div>
        </dl>
        <form method="get" action=format!("/organize/{event_id}") class="inline-form department-filter">
            <label>{s.department}
                <select name="department">
                    <option value="" selected=chosen.is_none()>{s.all_departments}</option>
                    {departments.iter().filter_map(|d| d.department_id.map(|id| (id, d.department.clone().unwrap_or_default()))).map(|(id, name)| view! {
                        <option value=id.to_string() selected=chosen == Some(id)>{name}</option>
                    }).collect_view()}
                </select>
            </label>
            <button class="button small secondary" type="submit">{s.show}</button>
        </form>
        {chosen.is_none().then(|| view! {
            <section class="chart-section">
                <h3>{s.rate_by_department}" (%)"</h3>
                <BarChart rows=rates testid="chart-survey-departments" />
            </section>
        })}
        {results.questions.iter().zip(survey.questions.iter()).enumerate().map(|(index, (result, question))| {
            let heading = format!("{}. {}", index + 1, question.text.read(lang));
            let summary = match question.kind {
                QuestionKind::Rating => result.mean_hundredths().map(|m| format!("{}: {}.{:02}", s.mean, m / 100, m % 100)),
                QuestionKind::Nps => result.net_promoter_score().map(|n| format!("{}: {n:+}", s.nps)),
                _ => None,
            };
            let rows: Vec<(String, i64)> = result.counts.iter().map(|(value, n)| {
                let label = if question.kind.has_choices() {
                    question.choices.get(*value as usize).map(|c| c.read(lang).to_string()).unwrap_or_default()
                } else {
                    value.to_string()
                };
                (label, *n)
            }).collect();
            let texts = result.texts.clone();
            view! {
                <section class="chart-section survey-question" data-testid=format!("result-{}", result.key)>
                    <h3>{heading}</h3>
                    <p class="hint">{(s.answered_n)(result.answered)}{summary.map(|m| format!(" · {m}"))}</p>
                    {if question.kind.is_text() {
                        if texts.is_empty() {
                            view! { <p class="hint">{s.no_answers_yet}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="text-answers" aria-label=s.latest_texts>
                                    {texts.into_iter().map(|a| view! { <li>{a.text}</li> }).collect_view()}
                                </ul>
                                <p><a href=format!("/organize/{event_id}/survey/answers?key={}", result.key) data-testid="all-answers">{(s.all_texts)(result.answered)}</a></p>
                            }
                            .into_any()
                        }
                    } else {
                        view! { <BarChart rows testid="chart-answers" /> }.into_any()
                    }}
                </section>
            }
        }).collect_view()}
    }
}
