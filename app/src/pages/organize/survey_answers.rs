//! `/organize/:id/survey/answers?key=q5&q=…&page=N`: every answer to one
//! free-text question of the event's survey, newest first, a page at a
//! time and searchable. Plain links and a GET form: works without
//! JavaScript.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tsudoi::surveys::{TextAnswerPage, Wording};

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextAnswersView {
    pub event_id: i64,
    pub key: String,
    pub question: Wording,
    pub answers: TextAnswerPage,
    pub page: u32,
    pub pages: u32,
    pub search: String,
    /// An anonymous survey keeps only the day of each answer.
    pub anonymous: bool,
    /// The company zone's offset now, to show the times without a zone database.
    pub utc_offset_seconds: i32,
}

#[server(endpoint = "organize/survey/answers", input = GetUrl)]
pub async fn load_text_answers(
    event_id: i64,
    key: String,
    q: Option<String>,
    page: Option<u32>,
) -> Result<TextAnswersView, AppError> {
    use chrono::{Offset, TimeZone};
    super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let now = chrono::Utc::now();
    let survey = tsudoi::surveys::build::of_event(&ctx.db, event_id, now)
        .await?
        .ok_or(tsudoi::Error::NotFound)?;
    let question = survey
        .question(&key)
        .ok_or(tsudoi::Error::NotFound)?
        .text
        .clone();
    let search = q.unwrap_or_default().trim().to_string();
    let max = tsudoi::events::MAX_SEARCH_CHARS;
    if search.chars().count() > max {
        return Err(tsudoi::Error::Invalid(tsudoi::Reason::SearchTooLong {
            max_chars: max as u32,
        })
        .into());
    }
    // Far past the last page is answered with an empty one, not an error.
    let page = page.unwrap_or(0).min(100_000);
    let answers = tsudoi::surveys::results::text_answers(
        &ctx.db,
        event_id,
        &key,
        None,
        (!search.is_empty()).then_some(search.as_str()),
        page,
        now,
    )
    .await?;
    let size = tsudoi::surveys::TEXT_PAGE_SIZE;
    let pages = u32::try_from((answers.total + size - 1) / size).unwrap_or(u32::MAX);
    Ok(TextAnswersView {
        event_id,
        key,
        question,
        answers,
        page,
        pages,
        search,
        anonymous: survey.settings.anonymous,
        utc_offset_seconds: ctx
            .time_zone
            .offset_from_utc_datetime(&now.naive_utc())
            .fix()
            .local_minus_utc(),
    })
}

#[component]
pub fn SurveyAnswersPage() -> impl IntoView {
    let t = use_texts();
    let route_id = crate::pages::route_id();
    let id = move || route_id().unwrap_or_default();
    let query = use_query_map();
    let params = move || {
        let query = query.read();
        (
            id(),
            query.get("key").unwrap_or_default(),
            query.get("q"),
            query.get("page").and_then(|p| p.parse::<u32>().ok()),
        )
    };
    let data = Resource::new(params, |(id, key, q, page)| {
        load_text_answers(id, key, q, page)
    });
    view! {
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <AnswersView view /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here=format!("/organize/{}", id()) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AnswersView(view: TextAnswersView) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let lang = use_lang();
    let question = view.question.read(lang).to_string();
    let event_id = view.event_id;
    let key = view.key.clone();
    let link = {
        let key = key.clone();
        let search = view.search.clone();
        move |page: u32| {
            let mut url = format!("/organize/{event_id}/survey/answers?key={key}&page={page}");
            if !search.is_empty() {
                url.push_str("&q=");
                url.push_str(&leptos_router::location::Url::escape(&search));
            }
            url
        }
    };
    let previous = (view.page > 0).then(|| link(view.page - 1));
    let next = (view.page + 1 < view.pages).then(|| link(view.page + 1));
    let offset = view.utc_offset_seconds;
    let anonymous = view.anonymous;
    view! {
        <Title text=question.clone() />
        <div class="page-head"><h1>{question}</h1></div>
        <p class="event-meta"><a href=format!("/organize/{event_id}")>{t.organize.dashboard}</a></p>
        <form method="get" action=format!("/organize/{event_id}/survey/answers") class="search-form" role="search">
            <input type="hidden" name="key" value=key.clone() />
            <label class="visually-hidden" for="answer-search">{t.organize.search}</label>
            <input type="search" id="answer-search" name="q" value=view.search.clone() maxlength="100" />
            <button class="button small" type="submit">{t.organize.search}</button>
        </form>
        <p class="count" data-testid="answer-count">{(s.all_texts)(view.answers.total)}</p>
        {if view.answers.items.is_empty() {
            view! { <p class="hint">{s.no_answers_yet}</p> }.into_any()
        } else {
            view! {
                <ol class="text-answers" data-testid="text-answers" start=(view.page as usize * tsudoi::surveys::TEXT_PAGE_SIZE as usize + 1).to_string()>
                    {view.answers.items.into_iter().map(|answer| {
                        let at = tsudoi::model::to_local(answer.submitted_at, offset);
                        view! {
                            <li>
                                <span>{answer.text}</span>
                                " "
                                {if anonymous {
                                    view! { <time class="hint" datetime=at.format("%Y-%m-%d").to_string()>{at.format("%Y-%m-%d").to_string()}</time> }.into_any()
                                } else {
                                    view! { <time class="hint" datetime=crate::html_time::datetime_attribute(&at)>{(t.date_time)(at)}</time> }.into_any()
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }
            .into_any()
        }}
        <nav class="row-actions" aria-label=t.next_page>
            {previous.map(|href| view! { <a class="button small secondary" href=href rel="prev">"←"</a> })}
            {next.map(|href| view! { <a class="button small secondary" href=href rel="next" data-testid="next-answers">{t.next_page}</a> })}
        </nav>
    }
}
