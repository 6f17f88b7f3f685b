//! An event's people for its organizer: search, filter by state, check in by
//! hand, remove (with confirmation), and the CSV export.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::{ByteStream, GetUrl, Streaming};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::checkin::ScanAnswer;
use tsudoi::events::AttendeePage;
use tsudoi::model::RegistrationStatus;

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;
use crate::table_region::TableRegion;

#[server(endpoint = "organize/attendees", input = GetUrl)]
pub async fn list_attendees(
    event_id: i64,
    status: Option<String>,
    q: Option<String>,
    after: Option<String>,
) -> Result<AttendeePage, AppError> {
    super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let filter = tsudoi::events::AttendeeFilter {
        status: status.as_deref().and_then(RegistrationStatus::parse),
        search: q,
    };
    let after = after
        .as_deref()
        .and_then(tsudoi::events::AttendeeCursor::decode);
    Ok(tsudoi::events::attendees::list(&ctx.db, event_id, &filter, after, Some(50)).await?)
}

/// Checks someone in by hand (audited like a scan at the door).
#[server(endpoint = "organize/check-in")]
pub async fn check_in_attendee(
    event_id: i64,
    registration_id: i64,
) -> Result<ScanAnswer, AppError> {
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::checkin::by_registration(
        &ctx.db,
        event_id,
        registration_id,
        viewer.id,
        chrono::Utc::now(),
    )
    .await?)
}

/// Takes back a check-in made by mistake (audited like one at the door).
#[server(endpoint = "organize/undo-check-in")]
pub async fn undo_attendee_check_in(event_id: i64, registration_id: i64) -> Result<(), AppError> {
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::checkin::undo(
        &ctx.db,
        event_id,
        registration_id,
        viewer.id,
        chrono::Utc::now(),
    )
    .await?)
}

/// The event whose people the page lists, so its title can head the page.
#[server(endpoint = "organize/attendees-event", input = GetUrl)]
pub async fn attendees_event(event_id: i64) -> Result<tsudoi::model::EventSummary, AppError> {
    super::manager_of(event_id).await?;
    crate::pages::event_summary(event_id).await
}

/// Takes a registration off the event: the person is told, and the first
/// one waiting moves up.
#[server(endpoint = "organize/remove")]
pub async fn remove_attendee(event_id: i64, registration_id: i64) -> Result<(), AppError> {
    use tsudoi::registrations::{Ending, end, get};
    let viewer = super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    if get(&ctx.db, registration_id).await?.event_id != event_id {
        return Err(tsudoi::Error::NotFound.into());
    }
    let ended = end(
        &ctx.db,
        registration_id,
        Ending::Removed,
        chrono::Utc::now(),
    )
    .await?;
    tsudoi::audit::record(
        &ctx.db,
        Some(viewer.id),
        tsudoi::audit::AuditAction::RegistrationRemoved,
        &format!("registration:{registration_id}"),
        serde_json::json!({ "event_id": event_id, "promoted": ended.promoted }),
    )
    .await?;
    Ok(())
}

/// The attendees as CSV for Excel (UTF-8 with a byte order mark), streamed.
#[server(endpoint = "organize/attendees.csv", input = GetUrl, output = Streaming)]
pub async fn export_attendees(event_id: i64) -> Result<ByteStream<AppError>, AppError> {
    use futures_util::StreamExt;
    super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    crate::server_context::send_as_attachment(
        "text/csv; charset=utf-8",
        &format!("tsudoi-event-{event_id}-attendees.csv"),
    );
    let lang = crate::i18n::request_lang();
    let chunks =
        tsudoi::events::attendees::export_csv(ctx.db.clone(), event_id, ctx.time_zone, lang)
            .map(|chunk| chunk.map(bytes::Bytes::from).map_err(AppError::from));
    Ok(ByteStream::new(chunks))
}

#[component]
pub fn AttendeesPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let route_id = crate::pages::route_id();
    let id = move || route_id().unwrap_or_default();
    let check_in = ServerAction::<CheckInAttendee>::new();
    let undo = ServerAction::<UndoAttendeeCheckIn>::new();
    let remove = ServerAction::<RemoveAttendee>::new();
    let event = Resource::new(id, attendees_event);
    let page = Resource::new(
        move || {
            let q = query.read();
            (
                id(),
                q.get("status"),
                q.get("q"),
                q.get("after"),
                check_in.version().get(),
                undo.version().get(),
                remove.version().get(),
            )
        },
        |(id, status, q, after, ..)| list_attendees(id, status, q, after),
    );
    let o = &t.organize;
    let lang = crate::i18n::use_lang();
    view! {
        <div class="page-head">
            <h1>
                {o.attendees}
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let title = event.await.ok().map(|event| event.title(lang).to_string());
                        let tab = title.as_ref().map_or_else(|| o.attendees.to_string(), |title| format!("{} · {title}", o.attendees));
                        view! {
                            <Title text=tab />
                            {title.map(|title| view! { <span class="subtitle" data-testid="event-title">{title}</span> })}
                        }
                    })}
                </Suspense>
            </h1>
            <a class="button small secondary" href=move || format!("/organize/{}", id())>{o.dashboard}</a>
            <a class="button small secondary" href=move || format!("/api/organize/attendees.csv?event_id={}", id()) download="" data-testid="export-csv">{o.export_csv}</a>
        </div>
        <form method="get" class="search-form" role="search">
            <label>
                <span class="visually-hidden">{o.search}</span>
                <input type="search" name="q" placeholder=o.search value=move || query.read().get("q").unwrap_or_default() />
            </label>
            <label>
                <span class="visually-hidden">{o.all_states}</span>
                <select name="status">
                    <option value="">{o.all_states}</option>
                    {[RegistrationStatus::Registered, RegistrationStatus::CheckedIn, RegistrationStatus::Waitlisted, RegistrationStatus::Cancelled, RegistrationStatus::Removed]
                        .into_iter()
                        .map(|s| view! { <option value=s.code() selected=move || query.read().get("status").as_deref() == Some(s.code())>{(t.status)(s)}</option> })
                        .collect_view()}
                </select>
            </label>
            <button class="button small" type="submit">{t.apply_filters}</button>
        </form>
        {move || check_in.value().get().and_then(Result::err)
            .or_else(|| undo.value().get().and_then(Result::err))
            .or_else(|| remove.value().get().and_then(Result::err))
            .map(|err| view! {
            <p class="error" role="alert">{t.error(&err)}</p>
        })}
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AttendeeTable page event_id=id() check_in undo remove /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here=format!("/organize/{}/attendees", id()) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AttendeeTable(
    page: AttendeePage,
    event_id: i64,
    check_in: ServerAction<CheckInAttendee>,
    undo: ServerAction<UndoAttendeeCheckIn>,
    remove: ServerAction<RemoveAttendee>,
) -> impl IntoView {
    let t = use_texts();
    let o = &t.organize;
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>{o.nobody_title}</h2>
                <p>{o.nobody_text}</p>
            </section>
        }
        .into_any();
    }
    let next = page.next.map(|cursor| {
        format!(
            "?after={}",
            leptos_router::location::Url::escape(&cursor.encode())
        )
    });
    view! {
        <TableRegion label=o.attendees>
            <table class="data-table stack-on-phone" data-testid="attendees">
                <thead>
                    <tr>
                        <th scope="col">{t.name}</th>
                        <th scope="col">{o.department}</th>
                        <th scope="col">{t.admin.status}</th>
                        <th scope="col">{o.actions}</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|a| {
                        let holds_seat = a.status == RegistrationStatus::Registered;
                        let checked_in = a.status == RegistrationStatus::CheckedIn;
                        let live = matches!(a.status, RegistrationStatus::Registered | RegistrationStatus::Waitlisted);
                        let registration_id = a.registration_id;
                        view! {
                            <tr data-registration=registration_id data-status=a.status.code()>
                                <td><strong>{a.name}</strong><br /><span class="hint">{a.email}</span></td>
                                <td data-label=o.department>{a.department.unwrap_or_default()}</td>
                                <td data-label=t.admin.status>{(t.status)(a.status)}</td>
                                <td><div class="row-actions">
                                    {holds_seat.then(|| view! {
                                        <ActionForm action=check_in attr:class="inline-form">
                                            <input type="hidden" name="event_id" value=event_id />
                                            <input type="hidden" name="registration_id" value=registration_id />
                                            <button class="button small" type="submit">{o.check_in}</button>
                                        </ActionForm>
                                    })}
                                    {checked_in.then(|| view! {
                                        <ActionForm action=undo attr:class="inline-form">
                                            <input type="hidden" name="event_id" value=event_id />
                                            <input type="hidden" name="registration_id" value=registration_id />
                                            <button class="button small secondary" type="submit" data-testid="undo-check-in">{o.undo_check_in}</button>
                                        </ActionForm>
                                    })}
                                    {live.then(|| view! {
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="event_id" value=event_id />
                                            <input type="hidden" name="registration_id" value=registration_id />
                                            <button class="button small danger" type="submit"
                                                on:click=move |ev| {
                                                    if !window().confirm_with_message(o.confirm_remove).unwrap_or(false) {
                                                        ev.prevent_default();
                                                    }
                                                }
                                            >{o.remove}</button>
                                        </ActionForm>
                                    })}
                                </div></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </TableRegion>
        {next.map(|href| view! { <a class="button next-page" href=href>{t.next_page}</a> })}
    }
    .into_any()
}
