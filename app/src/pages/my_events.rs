//! My events: upcoming and past registrations with their state, a link to each
//! ticket, cancelling, and the personal calendar feed.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use tsudoi::model::RegistrationStatus;
use tsudoi::registrations::{MyEventRow, MyEvents};

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;
use crate::pages::event::CancelRegistration;
use crate::pages::events::titles;

#[server(endpoint = "me/events", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_my_events() -> Result<MyEvents, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::registrations::mine(&ctx.db, viewer.id, ctx.time_zone, chrono::Utc::now()).await?)
}

/// Surveys of events the viewer attended that wait for an answer.
#[server(endpoint = "me/surveys", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_open_surveys() -> Result<Vec<tsudoi::surveys::OpenSurvey>, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::surveys::answering::open_for_person(&ctx.db, viewer.id, chrono::Utc::now()).await?)
}

/// The address of the viewer's personal calendar feed (made on first use).
#[server(endpoint = "me/calendar", input = leptos::server_fn::codec::GetUrl)]
pub async fn calendar_feed() -> Result<String, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let token = tsudoi::calendar::feed_token(&ctx.db, viewer.id).await?;
    Ok(format!("{}/calendar/{token}.ics", ctx.public_url))
}

/// Replaces the feed address; calendars using the old one stop updating.
#[server(endpoint = "me/calendar/renew")]
pub async fn renew_calendar_feed() -> Result<String, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let token = tsudoi::calendar::revoke_feed_token(&ctx.db, viewer.id).await?;
    Ok(format!("{}/calendar/{token}.ics", ctx.public_url))
}

#[component]
pub fn MyEventsPage() -> impl IntoView {
    let t = use_texts();
    let cancel = ServerAction::<CancelRegistration>::new();
    let renew = ServerAction::<RenewCalendarFeed>::new();
    let events = Resource::new(move || cancel.version().get(), |_| load_my_events());
    let feed = Resource::new(move || renew.version().get(), |_| calendar_feed());
    let surveys = Resource::new(|| (), |_| my_open_surveys());
    view! {
        <Title text=t.my_events_title />
        <div class="page-head"><h1>{t.my_events_title}</h1></div>
        {move || cancel.value().get().map(|result| match result {
            Ok(()) => view! { <p class="notice" role="status" data-testid="action-done">{t.cancel_done}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                surveys.await.ok().filter(|list| !list.is_empty()).map(|list| view! { <SurveysWaiting list /> })
            })}
        </Suspense>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(mine) => view! { <MyEventLists mine cancel /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/my-events".to_string() /> }.into_any(),
                }
            })}
            {move || Suspend::new(async move {
                feed.await.ok().map(|url| view! { <FeedPanel url renew /> })
            })}
        </Suspense>
    }
}

#[component]
fn MyEventLists(mine: MyEvents, cancel: ServerAction<CancelRegistration>) -> impl IntoView {
    let t = use_texts();
    let upcoming = if mine.upcoming.is_empty() {
        view! {
            <section class="empty-state" data-testid="no-registrations">
                <h2>{t.no_registrations_title}</h2>
                <p>{t.no_registrations_text}</p>
                <a class="button" href="/">{t.show_all_events}</a>
            </section>
        }
        .into_any()
    } else {
        view! {
            <ul class="my-list" data-testid="upcoming">
                {mine.upcoming.into_iter().map(|row| view! { <MyRow row upcoming=true cancel /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let past = if mine.past.is_empty() {
        view! { <p class="hint">{t.no_past_events}</p> }.into_any()
    } else {
        view! {
            <ul class="my-list past" data-testid="past">
                {mine.past.into_iter().map(|row| view! { <MyRow row upcoming=false cancel /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h2>{t.upcoming}</h2>
        {upcoming}
        <h2>{t.past}</h2>
        {past}
    }
}

#[component]
fn MyRow(
    row: MyEventRow,
    /// Listed under upcoming: only then can it still be cancelled. (The
    /// browser build has no clock of its own to decide that.)
    upcoming: bool,
    cancel: ServerAction<CancelRegistration>,
) -> impl IntoView {
    let t = use_texts();
    let lang = use_lang();
    let (title, _) = titles(&row.event, lang);
    let start = row.event.local_start();
    let state = match (row.event_status, row.status, row.waitlist_position) {
        (tsudoi::model::EventStatus::Cancelled, ..) => t.event_cancelled.to_string(),
        (_, RegistrationStatus::Waitlisted, Some(n)) if row.can_cancel => (t.waitlist_position)(n),
        (_, status, _) => (t.status)(status).to_string(),
    };
    let live = row.can_cancel && upcoming;
    let ticket = row
        .status
        .holds_seat()
        .then(|| format!("/tickets/{}", row.registration_id));
    let registration_id = row.registration_id;
    view! {
        <li class="my-row" data-event-id=row.event.id data-status=row.status.code()>
            <div>
                <a class="my-title" href=format!("/events/{}", row.event.id)>{title}</a>
                <p class="event-meta"><time datetime=crate::html_time::datetime_attribute(&start)>{(t.date_time)(start)}</time>" · "{row.event.place.clone()}</p>
                <p class=format!("my-state state-{}", row.status.code())>{state}</p>
            </div>
            <div class="my-actions">
                {ticket.map(|href| view! { <a class="button small" href=href>{t.view_ticket}</a> })}
                {live.then(|| view! {
                    <ActionForm action=cancel attr:class="inline-form">
                        <input type="hidden" name="registration_id" value=registration_id />
                        <button
                            class="button small secondary"
                            type="submit"
                            on:click=move |ev| {
                                if !window().confirm_with_message(t.confirm_cancel).unwrap_or(true) {
                                    ev.prevent_default();
                                }
                            }
                        >{if row.status == RegistrationStatus::Waitlisted { t.leave_waitlist } else { t.cancel_registration }}</button>
                    </ActionForm>
                })}
            </div>
        </li>
    }
}

#[component]
fn SurveysWaiting(list: Vec<tsudoi::surveys::OpenSurvey>) -> impl IntoView {
    let t = use_texts();
    let lang = use_lang();
    view! {
        <section class="form-card" data-testid="surveys-waiting">
            <h2>{t.surveys.waiting_for_you}</h2>
            <ul class="my-list">
                {list.into_iter().map(|survey| view! {
                    <li class="my-row" data-survey=survey.survey_id data-event=survey.event_id>
                        <span class="my-title">{survey.event_title.read(lang).to_string()}</span>
                        <a class="button small" href=format!("/surveys/{}", survey.survey_id)>
                            {if survey.answered { t.surveys.answered_change } else { t.surveys.answer_now }}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn FeedPanel(url: String, renew: ServerAction<RenewCalendarFeed>) -> impl IntoView {
    let t = use_texts();
    view! {
        <section class="form-card feed">
            <h2>{t.calendar_feed_title}</h2>
            <p class="hint">{t.calendar_feed_text}</p>
            <input type="text" readonly value=url class="feed-url" aria-label=t.calendar_feed_title data-testid="feed-url" />
            <ActionForm action=renew attr:class="inline-form">
                <button
                    class="button small secondary"
                    type="submit"
                    on:click=move |ev| {
                        if !window().confirm_with_message(t.confirm_renew_feed).unwrap_or(true) {
                            ev.prevent_default();
                        }
                    }
                >{t.calendar_feed_renew}</button>
            </ActionForm>
        </section>
    }
}
