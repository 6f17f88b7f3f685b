//! The organizer's pages: their events, the edit form, each
//! event's dashboard and its attendees. Organizers see their own events,
//! admins every event; the core decides (`events::manage::may_manage`).

mod attendees;
mod charts;
mod dashboard;
mod editor;

pub use attendees::AttendeesPage;
pub use charts::BarChart;
pub use dashboard::DashboardPage;
pub use editor::{EditEventPage, NewEventPage};

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
pub async fn my_managed_events(before: Option<String>) -> Result<ManagedPage, AppError> {
    let viewer = organizer().await?;
    let ctx = crate::server_context::server_context()?;
    let before = before
        .as_deref()
        .and_then(tsudoi::model::EventCursor::decode);
    // Admins see every event; organizers their own.
    let whose = (!viewer.may(tsudoi::access::Permission::ManageAllEvents)).then_some(viewer.id);
    Ok(tsudoi::events::manage::list(&ctx.db, ctx.time_zone, whose, before, Some(30)).await?)
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
    let page = Resource::new(move || query.read().get("before"), my_managed_events);
    view! {
        <Title text=t.organize.list_title />
        <div class="page-head">
            <h1>{t.organize.list_title}</h1>
            <a class="button" href="/organize/new" data-testid="new-event">{t.organize.new_event}</a>
        </div>
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
    let next = page
        .next
        .map(|cursor| format!("/organize?before={}", cursor.encode()));
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
                                " · "<time datetime=when.to_rfc3339()>{(t.date_time)(when)}</time>
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
