//! One event: what, when, where, who organizes it, seats left, and the one
//! action that fits the viewer — register, join the waitlist, cancel, leave
//! the waitlist — or why there is none.
//!
//! The forms post to server functions. Without JavaScript the browser comes
//! back to this page, which then shows the new state; hydrated, the page
//! updates in place, with the button disabled while the request runs (a
//! double click cannot register twice, and the core would not let it anyway).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use tsudoi::events::{EventDetail, RegistrationWindow};
use tsudoi::model::{Lang, RegistrationStatus, Role};

use crate::AppError;
use crate::i18n::{Texts, use_lang, use_texts};
use crate::layout::{form_error_in_url, use_session};
use crate::pages::events::{availability, titles};

/// What registering led to, for the message under the button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Registered {
    Seat,
    Waitlist { position: i64 },
}

#[server(endpoint = "events/detail", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_event(id: i64) -> Result<EventDetail, AppError> {
    use tsudoi::access::Permission;
    let ctx = crate::server_context::server_context()?;
    // The page is public; the viewer only adds their own registration. With
    // the session store down it still shows, as to a visitor.
    let viewer = crate::auth::caller::viewer().await.ok().flatten();
    let can_see_drafts = viewer
        .as_ref()
        .is_some_and(|v| v.may(Permission::ManageAllEvents));
    Ok(tsudoi::events::detail(
        &ctx.db,
        ctx.time_zone,
        id,
        viewer.map(|v| v.id),
        can_see_drafts,
        chrono::Utc::now(),
    )
    .await?)
}

#[server(endpoint = "events/register")]
pub async fn register_for_event(event_id: i64) -> Result<Registered, AppError> {
    use tsudoi::access::Permission;
    let viewer = crate::auth::caller::require(Permission::AttendEvents).await?;
    let ctx = crate::server_context::server_context()?;
    let registration = ctx
        .registrar
        .register(event_id, viewer.id, chrono::Utc::now())
        .await?;
    Ok(match registration.waitlist_position {
        Some(position) if registration.status == RegistrationStatus::Waitlisted => {
            Registered::Waitlist { position }
        }
        _ => Registered::Seat,
    })
}

/// Cancels a seat or leaves the waitlist; only one's own registration.
#[server(endpoint = "registrations/cancel")]
pub async fn cancel_registration(registration_id: i64) -> Result<(), AppError> {
    use tsudoi::registrations::{Ending, end};
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    end(
        &ctx.db,
        registration_id,
        Ending::Cancelled { by_user: viewer.id },
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}

#[component]
pub fn EventPage() -> impl IntoView {
    let t = use_texts();
    let id = crate::pages::route_id();
    let register = ServerAction::<RegisterForEvent>::new();
    let cancel = ServerAction::<CancelRegistration>::new();
    let detail = Resource::new(
        move || (id(), register.version().get(), cancel.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => load_event(id).await,
                None => Err(AppError::Domain(tsudoi::Error::NotFound)),
            }
        },
    );
    view! {
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <EventView detail register cancel /> }.into_any(),
                    Err(AppError::Domain(tsudoi::Error::NotFound)) => view! { <crate::pages::not_found::NotFound /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventView(
    detail: EventDetail,
    register: ServerAction<RegisterForEvent>,
    cancel: ServerAction<CancelRegistration>,
) -> impl IntoView {
    let t = use_texts();
    let lang = use_lang();
    let event = detail.event.clone();
    let (title, other_title) = titles(&event, lang);
    let start = event.local_start();
    let end = event.local_end();
    let (available, kind) = availability(t, &event);
    let description = match lang {
        Lang::Ja if !detail.description_ja.is_empty() => detail.description_ja.clone(),
        Lang::En if !detail.description_en.is_empty() => detail.description_en.clone(),
        _ => format!("{}{}", detail.description_ja, detail.description_en),
    };
    let ics = format!("/events/{}/calendar.ics", event.id);
    // Door staff, administrators and the event's organizer reach its door from here.
    let session = use_session();
    let organizer_id = detail.organizer_id;
    let event_id = event.id;
    let door_link = move || match session.viewer.get() {
        Some(Ok(Some(viewer)))
            if matches!(viewer.role, Role::Staff | Role::Admin)
                || (viewer.role == Role::Organizer && Some(viewer.id) == organizer_id) =>
        {
            Some(view! {
                <p><a class="button secondary" href=format!("/events/{event_id}/door") data-testid="door-link">{t.door.open_door}</a></p>
            })
        }
        _ => None,
    };
    // Seats and the calendar belong to an event still ahead; once it has
    // begun (or was called off) they would only mislead.
    let ahead = !matches!(
        detail.window,
        RegistrationWindow::Started | RegistrationWindow::Cancelled
    );
    view! {
        <Title text=title.clone() />
        <article class="event-page" data-event-id=event.id>
            <p><a href="/">{"← "}{t.back_to_events}</a></p>
            <span class=format!("badge badge-{}", event.category.code())>{(t.category)(event.category)}</span>
            <h1>{title}</h1>
            {other_title.map(|other| view! { <p class="event-title-alt">{other}</p> })}
            <dl class="facts event-facts">
                <dt>{t.when}</dt>
                <dd><time datetime=crate::html_time::datetime_attribute(&start)>{(t.date_time)(start)}</time>"–"{(t.time)(end)}</dd>
                <dt>{t.place}</dt>
                <dd>{event.place.clone()}</dd>
                {detail.organizer_name.clone().map(|name| view! { <dt>{t.organizer}</dt><dd>{name}</dd> })}
                {ahead.then(|| view! {
                    <dt>{t.availability}</dt>
                    <dd class=format!("availability-{kind}") data-testid="availability">{available}</dd>
                })}
            </dl>
            <ActionPanel detail=detail.clone() register cancel />
            <Transition fallback=|| ()>{door_link}</Transition>
            <div class="description">
                {description.split("\n\n").map(|para| view! { <p>{para.to_string()}</p> }).collect_view()}
            </div>
            {ahead.then(|| view! { <p><a class="calendar-link" href=ics download="" data-testid="ics-link">{t.add_to_calendar}</a></p> })}
        </article>
    }
}

#[component]
fn ActionPanel(
    detail: EventDetail,
    register: ServerAction<RegisterForEvent>,
    cancel: ServerAction<CancelRegistration>,
) -> impl IntoView {
    let t = use_texts();
    let session = use_session();
    let event_id = detail.event.id;
    let full = detail.event.seats_left() <= 0;
    let returned_error = form_error_in_url(<RegisterForEvent as leptos::server_fn::ServerFn>::PATH)
        .or_else(|| form_error_in_url(<CancelRegistration as leptos::server_fn::ServerFn>::PATH));
    // The button pressed is replaced by the next one that fits, which would
    // drop keyboard focus to the page's start: it moves to the answer instead.
    let answer = NodeRef::<leptos::html::P>::new();
    Effect::new(move |_| {
        if let Some(answer) = answer.get()
            && register.version().get_untracked() + cancel.version().get_untracked() > 0
        {
            let _ = answer.focus();
        }
    });
    let message = move || {
        match (register.value().get(), cancel.value().get()) {
        (Some(Err(err)), _) | (_, Some(Err(err))) => Some(view! { <p node_ref=answer tabindex="-1" class="error" role="alert" data-testid="action-error">{t.error(&err)}</p> }.into_any()),
        (Some(Ok(Registered::Seat)), _) if cancel.value().get().is_none() => Some(view! { <p node_ref=answer tabindex="-1" class="notice" role="status" data-testid="action-done">{t.registration_done}</p> }.into_any()),
        (Some(Ok(Registered::Waitlist { .. })), _) if cancel.value().get().is_none() => Some(view! { <p node_ref=answer tabindex="-1" class="notice" role="status" data-testid="action-done">{t.waitlist_done}</p> }.into_any()),
        (_, Some(Ok(()))) => Some(view! { <p node_ref=answer tabindex="-1" class="notice" role="status" data-testid="action-done">{t.cancel_done}</p> }.into_any()),
        _ => returned_error.as_ref().map(|err| view! { <p class="error" role="alert" data-testid="action-error">{t.error(err)}</p> }.into_any()),
    }
    };
    let body = match &detail.mine {
        Some(mine) => {
            let started = matches!(detail.window, RegistrationWindow::Started);
            mine_view(t, mine.id, mine.status, mine.waitlist_position, started, cancel).into_any()
        }
        None => match &detail.window {
            RegistrationWindow::Open => {
                let logged_in = Signal::derive(move || matches!(session.viewer.get(), Some(Ok(Some(_)))));
                let login = format!("/login?next={}", leptos_router::location::Url::escape(&format!("/events/{event_id}")));
                view! {
                    <Show
                        when=move || logged_in.get()
                        fallback=move || view! { <a class="button" href=login.clone() data-testid="login-to-register">{t.log_in_to_register}</a> }
                    >
                        <ActionForm action=register attr:class="inline-form">
                            <input type="hidden" name="event_id" value=event_id />
                            <button class="button" type="submit" data-testid="register" disabled=move || register.pending().get()>
                                {move || if register.pending().get() { t.registering } else if full { t.join_waitlist } else { t.register }}
                            </button>
                        </ActionForm>
                    </Show>
                }
                .into_any()
            }
            window => view! { <p class="window-state" data-testid="window-state">{window_text(t, window)}</p> }.into_any(),
        },
    };
    view! {
        <section class="action-panel" aria-live="polite">
            {body}
            {message}
        </section>
    }
}

fn window_text(t: &Texts, window: &RegistrationWindow) -> String {
    match window {
        RegistrationWindow::NotYetOpen { opens_at } => {
            (t.registration_opens)(&(t.date_time)(opens_at.fixed_offset()))
        }
        RegistrationWindow::Open => String::new(),
        RegistrationWindow::Closed => t.registration_closed.to_string(),
        RegistrationWindow::Started => t.event_started.to_string(),
        RegistrationWindow::Cancelled => t.event_cancelled.to_string(),
    }
}

fn mine_view(
    t: &'static Texts,
    registration_id: i64,
    status: RegistrationStatus,
    position: Option<i64>,
    started: bool,
    cancel: ServerAction<CancelRegistration>,
) -> impl IntoView {
    // Once the event has started nothing can be cancelled (the server
    // refuses too), and a place in line no longer means anything.
    let (state, button) = match status {
        RegistrationStatus::Waitlisted if started => (t.event_started.to_string(), None),
        RegistrationStatus::Registered if started => (t.you_are_registered.to_string(), None),
        RegistrationStatus::Waitlisted => (
            (t.waitlist_position)(position.unwrap_or(0)),
            Some(t.leave_waitlist),
        ),
        RegistrationStatus::CheckedIn => (t.you_are_checked_in.to_string(), None),
        _ => (
            t.you_are_registered.to_string(),
            Some(t.cancel_registration),
        ),
    };
    let ticket = status
        .holds_seat()
        .then(|| format!("/tickets/{registration_id}"));
    view! {
        <p class="my-state" data-testid="my-state">{state}</p>
        {ticket.map(|href| view! { <a class="button" href=href data-testid="ticket-link">{t.view_ticket}</a> })}
        {button.map(|label| view! {
            <ActionForm action=cancel attr:class="inline-form">
                <input type="hidden" name="registration_id" value=registration_id />
                <button
                    class="button secondary"
                    type="submit"
                    data-testid="cancel"
                    disabled=move || cancel.pending().get()
                    on:click=move |ev| {
                        if !window().confirm_with_message(t.confirm_cancel).unwrap_or(true) {
                            ev.prevent_default();
                        }
                    }
                >{label}</button>
            </ActionForm>
        })}
    }
}
