//! The organizer's pages: their events, the edit form, each
//! event's dashboard and its attendees. Organizers see their own events,
//! admins every event; the core decides (`events::manage::may_manage`).

mod attendees;
mod charts;
mod dashboard;
mod editor;
mod survey;
mod survey_answers;

pub use attendees::AttendeesPage;
pub use charts::BarChart;
pub use dashboard::DashboardPage;
pub use editor::{EditEventPage, NewEventPage};
pub use survey::{SurveyBuilderPage, SurveyResultsSection};
pub use survey_answers::SurveyAnswersPage;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::events::ManagedPage;

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;

/// The caller, if they organize events at all.
#[cfg(feature = "ssr")]
pub(crate) async fn organizer() -> Result<crate::auth::Viewer, AppError> {
    Ok(crate::auth::caller::require(tsudoi::access::Permission::OrganizeEvents).await?)
}

/// The caller, if they may manage `event_id`.
#[cfg(feature = "ssr")]
pub(crate) async fn manager_of(event_id: i64) -> Result<crate::auth::Viewer, AppError> {
    let viewer = organizer().await?;
    let ctx = crate::server_context::server_context()?;
    tsudoi::events::manage::may_manage(&ctx.db, viewer.id, viewer.role, event_id).await?;
    Ok(viewer)
}

#[server(endpoint = "organize/list", input = GetUrl)]
pub async fn my_managed_events(
    past: Option<String>,
    q: Option<String>,
    from: Option<String>,
) -> Result<ManagedPage, AppError> {
    use tsudoi::events::manage::Period;
    let viewer = organizer().await?;
    let ctx = crate::server_context::server_context()?;
    let from = match from.as_deref().filter(|f| !f.is_empty()) {
        Some(text) => Some(
            tsudoi::model::EventCursor::decode(text)
                .ok_or(tsudoi::Error::Invalid(tsudoi::Reason::BrokenLink))?,
        ),
        None => None,
    };
    let period = if past.is_some() {
        Period::Past
    } else {
        Period::Upcoming
    };
    // Admins see every event; organizers their own.
    let whose = (!viewer.may(tsudoi::access::Permission::ManageAllEvents)).then_some(viewer.id);
    Ok(tsudoi::events::manage::list(
        &ctx.db,
        ctx.time_zone,
        whose,
        period,
        q.as_deref(),
        from,
        Some(30),
        chrono::Utc::now(),
    )
    .await?)
}

#[server(endpoint = "organize/publish")]
pub async fn publish_event(event_id: i64) -> Result<(), AppError> {
    let viewer = manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::events::manage::publish(&ctx.db, viewer.id, event_id, chrono::Utc::now()).await?)
}

#[server(endpoint = "organize/cancel")]
pub async fn cancel_event(event_id: i64) -> Result<u64, AppError> {
    let viewer = manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::events::manage::cancel(&ctx.db, viewer.id, event_id, chrono::Utc::now()).await?)
}

/// Copies an event as a new draft and opens it for editing.
#[server(endpoint = "organize/duplicate")]
pub async fn duplicate_event(event_id: i64) -> Result<i64, AppError> {
    let viewer = manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let id =
        tsudoi::events::manage::duplicate(&ctx.db, viewer.id, event_id, chrono::Utc::now()).await?;
    leptos_axum::redirect(&format!("/organize/{id}/edit"));
    Ok(id)
}

#[component]
pub fn OrganizePage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let page = Resource::new(
        move || {
            let query = query.read();
            (query.get("past"), query.get("q"), query.get("from"))
        },
        |(past, q, from)| my_managed_events(past, q, from),
    );
    let o = &t.organize;
    let past = move || query.read().get("past").is_some();
    let search = move || query.read().get("q").unwrap_or_default();
    let tab = move |to_past: bool| {
        let q = search();
        let mut href = if to_past {
            "/organize?past=1".to_string()
        } else {
            "/organize".to_string()
        };
        if !q.is_empty() {
            href.push_str(if to_past { "&q=" } else { "?q=" });
            href.push_str(&leptos_router::location::Url::escape(&q));
        }
        href
    };
    view! {
        <Title text=o.list_title />
        <div class="page-head">
            <h1>{o.list_title}</h1>
            <a class="button" href="/organize/new" data-testid="new-event">{o.new_event}</a>
        </div>
        <nav class="tabs" aria-label=o.list_title>
            <a class="tab" class:current=move || !past() href=move || tab(false) aria-current=move || (!past()).then_some("page") data-testid="upcoming-tab">{o.upcoming}</a>
            <a class="tab" class:current=past href=move || tab(true) aria-current=move || past().then_some("page") data-testid="past-tab">{o.past}</a>
        </nav>
        <form method="get" action="/organize" class="search-form" role="search">
            {move || past().then(|| view! { <input type="hidden" name="past" value="1" /> })}
            <label>
                <span class="visually-hidden">{o.search_events}</span>
                <input type="search" name="q" value=search placeholder=o.search_events maxlength="100" />
            </label>
            <button class="button small" type="submit">{t.admin.search}</button>
        </form>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <ManagedList page /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/organize".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ManagedList(page: ManagedPage) -> impl IntoView {
    let t = use_texts();
    let o = &t.organize;
    let lang = use_lang();
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>{o.empty_title}</h2>
                <p>{o.empty_text}</p>
            </section>
        }
        .into_any();
    }
    let query = use_query_map();
    let next = page.next.map(|cursor| {
        let query = query.read_untracked();
        let mut href = format!("/organize?from={}", cursor.encode());
        if query.get("past").is_some() {
            href.push_str("&past=1");
        }
        if let Some(q) = query.get("q").filter(|q| !q.is_empty()) {
            href.push_str(&format!("&q={}", leptos_router::location::Url::escape(&q)));
        }
        href
    });
    view! {
        <ul class="my-list" data-testid="managed-events">
            {page.items.into_iter().map(|event| {
                let id = event.id;
                let title = event.draft.title(lang).to_string();
                let when = event.local_start();
                // A cancelled event is kept as it was: nothing to edit (the server refuses too).
                let editable = event.status != tsudoi::model::EventStatus::Cancelled;
                view! {
                    <li class="my-row" data-event=id data-status=event.status.code()>
                        <div>
                            <a href=format!("/organize/{id}")><strong>{title}</strong></a>
                            <p class="my-state">
                                <span class=format!("badge badge-{}", event.status.code())>{(o.event_status)(event.status)}</span>
                                " · "<time datetime=crate::html_time::datetime_attribute(&when)>{(t.date_time)(when)}</time>
                                " · "{(o.registered_of)(i64::from(event.seats_taken), event.draft.capacity)}
                            </p>
                        </div>
                        <div class="row-actions">
                            {editable.then(|| view! { <a class="button small secondary" href=format!("/organize/{id}/edit")>{o.edit}</a> })}
                            <a class="button small secondary" href=format!("/organize/{id}/attendees")>{o.attendees}</a>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
        {next.map(|href| view! { <a class="button next-page" href=href>{t.next_page}</a> })}
    }
    .into_any()
}
