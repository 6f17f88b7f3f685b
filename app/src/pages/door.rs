//! The door of one event: staff check people in. This first version takes a
//! typed ticket code or a name search, shows a big unmistakable answer, keeps
//! a live counter, and can undo a mistaken check-in. Camera scanning and the
//! offline queue build on the same server functions (`door/scan`,
//! `door/list`, `door/sync`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use tsudoi::checkin::{CheckInCounts, DoorList, DoorRow, QueuedScan, ScanAnswer};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;

/// The caller, if they may work this event's door.
#[cfg(feature = "ssr")]
async fn door_keeper(
    event_id: i64,
) -> Result<(crate::auth::Viewer, crate::server_context::ServerContext), AppError> {
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
    let params = use_params_map();
    let query = use_query_map();
    let event_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let code = ServerAction::<DoorCode>::new();
    let undo = ServerAction::<DoorUndo>::new();
    let counts = Resource::new(
        move || (event_id(), code.version().get(), undo.version().get()),
        |(id, ..)| door_counts(id),
    );
    let found = Resource::new(
        move || {
            (
                event_id(),
                query.read().get("q"),
                code.version().get(),
                undo.version().get(),
            )
        },
        |(id, q, ..)| door_search(id, q),
    );
    view! {
        <Title text=t.door.title />
        <section class="door" data-testid="door">
            <div class="page-head">
                <h1>{t.door.title}</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match counts.await {
                            Ok(c) => view! {
                                <p class="door-count" data-testid="door-count">{(t.door.count)(c.checked_in, c.registered_total)}</p>
                            }.into_any(),
                            Err(error) => view! { <LoginNeeded error here=format!("/events/{}/door", event_id()) /> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
            <ActionForm action=code attr:class="door-code-form">
                <input type="hidden" name="event_id" value=event_id />
                <label>
                    {t.door.code_label}
                    <input type="text" name="code" autocomplete="off" autocapitalize="characters" inputmode="text" required data-testid="door-code" />
                </label>
                <button class="button" type="submit" disabled=move || code.pending().get()>{t.door.check_in}</button>
            </ActionForm>
            {move || code.value().get().map(|result| match result {
                Ok(answer) => view! { <Answer answer /> }.into_any(),
                Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
            })}
            {move || undo.value().get().and_then(|result| result.err()).map(|err| view! { <p class="error" role="alert">{t.error(&err)}</p> })}
            <form method="get" class="search-form door-search" role="search">
                <label>
                    <span class="visually-hidden">{t.door.search_label}</span>
                    <input type="search" name="q" placeholder=t.door.search_label value=move || query.read().get("q").unwrap_or_default() />
                </label>
                <button class="button small" type="submit">{t.apply_filters}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    found.await.ok().map(|rows| view! { <DoorRows rows event_id=event_id() undo /> })
                })}
            </Suspense>
        </section>
    }
}

/// The big answer: colour and words that cannot be mistaken at a glance.
#[component]
fn Answer(answer: ScanAnswer) -> impl IntoView {
    let t = use_texts();
    let d = &t.door;
    let (kind, title, detail) = match &answer {
        ScanAnswer::CheckedIn {
            name, department, ..
        } => (
            "ok",
            d.checked_in.to_string(),
            format!(
                "{name}{}",
                department
                    .as_deref()
                    .map(|x| format!(" · {x}"))
                    .unwrap_or_default()
            ),
        ),
        ScanAnswer::AlreadyCheckedIn {
            name, at, by_name, ..
        } => (
            "warn",
            d.already.to_string(),
            (d.already_detail)(name, &(t.time)(at.fixed_offset()), by_name.as_deref()),
        ),
        ScanAnswer::Cancelled { name } => ("bad", d.cancelled.to_string(), name.clone()),
        ScanAnswer::Waitlisted { name } => ("bad", d.waitlisted.to_string(), name.clone()),
        ScanAnswer::OtherEvent {
            title_ja, title_en, ..
        } => (
            "bad",
            d.other_event.to_string(),
            title_en
                .clone()
                .or_else(|| title_ja.clone())
                .unwrap_or_default(),
        ),
        ScanAnswer::Invalid => ("bad", d.invalid.to_string(), String::new()),
    };
    view! {
        <div class=format!("door-answer door-answer-{kind}") role="status" data-testid="door-answer" data-kind=kind>
            <p class="door-answer-title">{title}</p>
            <p class="door-answer-detail">{detail}</p>
        </div>
    }
}

#[component]
fn DoorRows(rows: Vec<DoorRow>, event_id: i64, undo: ServerAction<DoorUndo>) -> impl IntoView {
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
                        {checked_in.then(|| view! {
                            <ActionForm action=undo attr:class="inline-form">
                                <input type="hidden" name="event_id" value=event_id />
                                <input type="hidden" name="registration_id" value=row.registration_id />
                                <button class="button small secondary" type="submit">{t.door.undo}</button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
