//! The door of one event: staff check people in with the phone's camera, a
//! typed ticket code or a name search; each answer is big and unmistakable,
//! a counter follows, a mistaken check-in can be undone, and when the
//! network drops the page keeps checking people in from its own list and
//! sends the queue when it is back (see `desk`).

mod answer;
#[cfg(feature = "hydrate")]
mod browser;
mod camera;
mod desk;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::checkin::{CheckInCounts, DoorList, DoorRow, QueuedScan, ScanAnswer};
use tsudoi::model::{EventSummary, RegistrationStatus};

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;
use answer::{Answer, NotApplied, RecentScans};
use camera::Camera;
use desk::{Desk, Problem};

/// The caller, if they may work this event's door.
#[cfg(feature = "ssr")]
async fn door_keeper(
    event_id: i64,
) -> Result<
    (
        crate::auth::Viewer,
        crate::server_context::SharedServerContext,
    ),
    AppError,
> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    tsudoi::checkin::require_check_in(&ctx.db, viewer.id, viewer.role, event_id).await?;
    Ok((viewer, ctx))
}

/// A scanned QR code (the signed token it holds).
#[server(endpoint = "door/scan")]
pub async fn door_scan(event_id: i64, token: String) -> Result<ScanAnswer, AppError> {
    let (viewer, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::scan(
        &ctx.db,
        event_id,
        token.trim(),
        viewer.id,
        chrono::Utc::now(),
    )
    .await?)
}

/// A ticket code typed by staff.
#[server(endpoint = "door/code")]
pub async fn door_code(event_id: i64, code: String) -> Result<ScanAnswer, AppError> {
    let (viewer, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::by_code(&ctx.db, event_id, &code, viewer.id, chrono::Utc::now()).await?)
}

/// Takes back a mistaken check-in (audited).
#[server(endpoint = "door/undo")]
pub async fn door_undo(event_id: i64, registration_id: i64) -> Result<(), AppError> {
    let (viewer, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::undo(
        &ctx.db,
        event_id,
        registration_id,
        viewer.id,
        chrono::Utc::now(),
    )
    .await?)
}

/// A person checked in from the name search (no phone, no code).
#[server(endpoint = "door/admit")]
pub async fn door_admit(event_id: i64, registration_id: i64) -> Result<ScanAnswer, AppError> {
    let (viewer, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::by_registration(
        &ctx.db,
        event_id,
        registration_id,
        viewer.id,
        chrono::Utc::now(),
    )
    .await?)
}

/// The event this door belongs to, so staff know they are at the right one.
#[server(endpoint = "door/event", input = GetUrl)]
pub async fn door_event(event_id: i64) -> Result<EventSummary, AppError> {
    door_keeper(event_id).await?;
    crate::pages::event_summary(event_id).await
}

#[server(endpoint = "door/counts", input = GetUrl)]
pub async fn door_counts(event_id: i64) -> Result<CheckInCounts, AppError> {
    let (_, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::counts(&ctx.db, event_id).await?)
}

#[server(endpoint = "door/search", input = GetUrl)]
pub async fn door_search(event_id: i64, q: Option<String>) -> Result<Vec<DoorRow>, AppError> {
    let (_, ctx) = door_keeper(event_id).await?;
    let q = q.unwrap_or_default();
    Ok(tsudoi::checkin::search(&ctx.db, event_id, &q, tsudoi::checkin::MAX_SEARCH_RESULTS).await?)
}

/// Everything a door device needs to keep checking people in offline.
#[server(endpoint = "door/list", input = GetUrl)]
pub async fn download_door_list(event_id: i64) -> Result<DoorList, AppError> {
    let (_, ctx) = door_keeper(event_id).await?;
    Ok(tsudoi::checkin::door_list(&ctx.db, event_id, chrono::Utc::now()).await?)
}

/// Check-ins recorded while offline, applied idempotently; each answer says
/// what happened to the scan at that index.
#[server(endpoint = "door/sync", input = Json)]
pub async fn door_sync(
    event_id: i64,
    scans: Vec<QueuedScan>,
) -> Result<Vec<(usize, ScanAnswer)>, AppError> {
    let (viewer, ctx) = door_keeper(event_id).await?;
    Ok(
        tsudoi::checkin::apply_queued(&ctx.db, event_id, viewer.id, scans, chrono::Utc::now())
            .await?,
    )
}

#[component]
pub fn DoorPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    // The desk belongs to one event: read once, not tracked.
    let event_id = untrack(crate::pages::route_id()).unwrap_or_default();
    let desk = Desk::new(event_id);
    Effect::new(move || untrack(|| desk.start()));
    let undo = ServerAction::<DoorUndo>::new();
    let admit = ServerAction::<DoorAdmit>::new();
    // Only the answer to the latest of the two list actions is shown.
    let latest_is_undo = RwSignal::new(false);
    Effect::new(move || {
        if undo.value().get().is_some() {
            latest_is_undo.set(true);
        }
    });
    Effect::new(move || {
        if admit.value().get().is_some() {
            latest_is_undo.set(false);
        }
    });
    // Asked once: whether this person may work this door at all, and which
    // event it is. Nothing of the door is shown to someone who may not.
    let event = Resource::new(|| (), move |_| door_event(event_id));
    Effect::new(move || {
        if let Some(Ok(())) = undo.value().get()
            && let Some(input) = undo.input().get_untracked()
        {
            desk.undone(input.registration_id);
        }
    });
    let counts = Resource::new(
        move || {
            (
                desk.server_changed.get(),
                undo.version().get(),
                admit.version().get(),
            )
        },
        move |_| door_counts(event_id),
    );
    let found = Resource::new(
        move || {
            (
                query.read().get("q"),
                desk.server_changed.get(),
                undo.version().get(),
                admit.version().get(),
            )
        },
        move |(q, ..)| door_search(event_id, q),
    );
    let code_input = NodeRef::<leptos::html::Input>::new();
    let submit_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = code_input.get_untracked()
            && desk.submit(input.value(), None)
        {
            input.set_value("");
        }
    };
    // The camera pauses while the desk is busy, so a code it reads is taken.
    let on_code = Callback::new(move |(text, frame_at): (String, f64)| {
        desk.submit(text, Some(frame_at));
    });
    let lang = use_lang();
    view! {
        <Title text=t.door.title />
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Err(error @ AppError::Domain(_)) => view! {
                        <section class="door" data-testid="door">
                            <h1>{t.door.title}</h1>
                            <LoginNeeded error here=format!("/events/{event_id}/door") />
                        </section>
                    }.into_any(),
                    known => {
                        let heading = known.ok().map(|event| crate::pages::events::titles(&event, lang).0);
                        view! {
                            // "ready" once this device holds a door list: scanning works offline from then on.
                            <section class="door" data-testid="door" data-list=move || desk.local_counts.get().map(|_| "ready")>
                                <div class="page-head">
                                    <div>
                                        <h1>{t.door.title}</h1>
                                        {heading.map(|title| view! {
                                            <p class="door-event" data-testid="door-event">
                                                <a href=format!("/events/{event_id}")>{title}</a>
                                            </p>
                                        })}
                                    </div>
                                    <Suspense fallback=|| ()>
                                        {move || Suspend::new(async move {
                                            let from_server = counts.await.ok();
                                            let shown = move || {
                                                let local = desk.local_counts.get();
                                                if desk.online.get() { from_server.or(local) } else { local.or(from_server) }
                                            };
                                            view! {
                                                <p class="door-count" data-testid="door-count">
                                                    {move || shown().map(|c: CheckInCounts| (t.door.count)(c.checked_in, c.registered_total))}
                                                </p>
                                            }
                                        })}
                                    </Suspense>
                                </div>
                                <NetworkState desk />
                                <Camera on_code paused=desk.busy.into() />
                                <form method="post" action=DoorCode::url() class="door-code-form" on:submit=submit_code>
                                    <input type="hidden" name="event_id" value=event_id />
                                    <label>
                                        {t.door.code_label}
                                        <input type="text" name="code" node_ref=code_input autocomplete="off" autocapitalize="characters" inputmode="text" required autofocus data-testid="door-code" />
                                    </label>
                                    <button class="button" type="submit" disabled=move || desk.busy.get()>{t.door.check_in}</button>
                                </form>
                                {move || desk.shown.get().map(|shown| view! { <Answer shown /> })}
                                {move || desk.problem.get().map(|problem| view! {
                                    <p class="error" role="alert">
                                        {match problem {
                                            Problem::Failed(err) => t.error(&err),
                                            Problem::NoList => t.door.no_list.to_string(),
                                        }}
                                    </p>
                                })}
                                {move || undo.value().get().filter(|_| latest_is_undo.get()).map(|result| match result {
                                    Ok(()) => view! { <p class="notice" role="status" data-testid="door-undone">{t.door.undone}</p> }.into_any(),
                                    Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                                })}
                                {move || admit.value().get().filter(|_| !latest_is_undo.get()).map(|result| match result {
                                    Ok(answer) => view! { <p class="notice" role="status" data-testid="door-admitted">{admitted_text(t, &answer)}</p> }.into_any(),
                                    Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                                })}
                                <NotApplied desk />
                                <RecentScans desk />
                                <form method="get" class="search-form door-search" role="search">
                                    <label>
                                        <span class="visually-hidden">{t.door.search_label}</span>
                                        <input type="search" name="q" placeholder=t.door.search_label value=move || query.read().get("q").unwrap_or_default() data-testid="door-search" />
                                    </label>
                                    <button class="button small" type="submit">{t.apply_filters}</button>
                                </form>
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        found.await.ok().map(|rows| view! { <DoorRows rows event_id undo admit /> })
                                    })}
                                </Suspense>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// What a check-in from the name search did, in a sentence.
fn admitted_text(t: &crate::i18n::Texts, answer: &ScanAnswer) -> String {
    match answer {
        ScanAnswer::CheckedIn { name, .. } => (t.door.admitted)(name),
        ScanAnswer::AlreadyCheckedIn { name, .. } => format!("{} — {name}", t.door.already),
        ScanAnswer::Cancelled { name } => format!("{} — {name}", t.door.cancelled),
        ScanAnswer::Waitlisted { name } => format!("{} — {name}", t.door.waitlisted),
        _ => t.door.invalid.to_string(),
    }
}

/// Offline, or sending what was queued offline: staff must know.
#[component]
fn NetworkState(desk: Desk) -> impl IntoView {
    let t = use_texts();
    move || {
        let queued = desk.queued.get();
        if !desk.online.get() {
            Some(
                view! { <p class="door-network door-offline" role="status" data-testid="door-offline">{(t.door.offline)(queued)}</p> },
            )
        } else if queued > 0 {
            Some(
                view! { <p class="door-network" role="status" data-testid="door-sending">{(t.door.sending)(queued)}</p> },
            )
        } else {
            None
        }
    }
}

#[component]
fn DoorRows(
    rows: Vec<DoorRow>,
    event_id: i64,
    undo: ServerAction<DoorUndo>,
    admit: ServerAction<DoorAdmit>,
) -> impl IntoView {
    let t = use_texts();
    view! {
        <ul class="my-list">
            {rows.into_iter().map(|row| {
                let checked_in = row.checked_in_at.is_some();
                view! {
                    <li class="my-row" data-registration=row.registration_id>
                        <div>
                            <strong>{row.name}</strong>
                            {row.department.map(|d| view! { <span class="hint">" · "{d}</span> })}
                            <p class="my-state">{(t.status)(row.status)}</p>
                        </div>
                        {(row.status == RegistrationStatus::Registered).then(|| view! {
                            <ActionForm action=admit attr:class="inline-form">
                                <input type="hidden" name="event_id" value=event_id />
                                <input type="hidden" name="registration_id" value=row.registration_id />
                                <button class="button small" type="submit" data-testid="door-admit">{t.door.check_in}</button>
                            </ActionForm>
                        })}
                        {checked_in.then(|| view! {
                            <ActionForm action=undo attr:class="inline-form">
                                <input type="hidden" name="event_id" value=event_id />
                                <input type="hidden" name="registration_id" value=row.registration_id />
                                <button class="button small secondary" type="submit" data-testid="door-undo">{t.door.undo}</button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
