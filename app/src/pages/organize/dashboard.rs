//! One event's dashboard: seats, waitlist, check-ins (live while the door is
//! busy), no-shows afterwards, registrations by day and by department — every
//! number a SQL aggregate — and the organizer's actions.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tsudoi::events::{EventStats, ManagedEvent};
use tsudoi::model::EventStatus;

use super::charts::BarChart;
use super::{CancelEvent, DuplicateEvent, PublishEvent};
use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub event: ManagedEvent,
    pub stats: EventStats,
    /// The survey's results (for one department when `department` is
    /// given); `None` without a survey.
    pub survey: Option<tsudoi::surveys::SurveyResults>,
}

// One server function for the whole page: a resource started by a part of
// the page that renders late would outlive a client that hung up.
#[server(endpoint = "organize/dashboard", input = GetUrl)]
pub async fn load_dashboard(event_id: i64, department: Option<i64>) -> Result<Dashboard, AppError> {
    super::manager_of(event_id).await?;
    let ctx = crate::server_context::server_context()?;
    let now = chrono::Utc::now();
    let survey = match ctx
        .survey_results
        .get(&ctx.db, event_id, department, now)
        .await
    {
        Ok((results, _)) => Some(results),
        Err(tsudoi::Error::NotFound) => None,
        Err(err) => return Err(err.into()),
    };
    Ok(Dashboard {
        event: tsudoi::events::manage::get(&ctx.db, ctx.time_zone, event_id).await?,
        stats: ctx
            .stats_cache
            .get(&ctx.db, ctx.time_zone, event_id, now)
            .await?
            .0,
        survey,
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let t = use_texts();
    let route_id = crate::pages::route_id();
    let id = move || route_id().unwrap_or_default();
    let query = use_query_map();
    let notified = move || {
        query
            .read()
            .get("notified")
            .and_then(|n| n.parse::<u64>().ok())
    };
    let publish = ServerAction::<PublishEvent>::new();
    let cancel = ServerAction::<CancelEvent>::new();
    let department = move || {
        query
            .read()
            .get("department")
            .and_then(|d| d.trim().parse::<i64>().ok())
    };
    let dashboard = Resource::new(
        move || {
            (
                id(),
                department(),
                publish.version().get(),
                cancel.version().get(),
            )
        },
        |(id, department, ..)| load_dashboard(id, department),
    );
    view! {
        {move || notified().map(|n| view! { <p class="notice" role="status" data-testid="notified">{(t.organize.notified)(n)}</p> })}
        {move || cancel.value().get().and_then(Result::ok).map(|n| view! { <p class="notice" role="status" data-testid="notified">{(t.organize.notified_cancel)(n)}</p> })}
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(data) => view! { <DashboardView data publish cancel /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here=format!("/organize/{}", id()) /> }.into_any(),
                }
            })}
        </Suspense>
        {move || publish.value().get().and_then(Result::err).or_else(|| cancel.value().get().and_then(Result::err)).map(|err| view! {
            <p class="error" role="alert">{t.error(&err)}</p>
        })}
    }
}

#[component]
fn DashboardView(
    data: Dashboard,
    publish: ServerAction<PublishEvent>,
    cancel: ServerAction<CancelEvent>,
) -> impl IntoView {
    let t = use_texts();
    let o = &t.organize;
    let lang = use_lang();
    let duplicate = ServerAction::<DuplicateEvent>::new();
    let Dashboard {
        event,
        stats,
        survey,
    } = data;
    let id = event.id;
    let title = event.draft.title(lang).to_string();
    let rate = if stats.registered > 0 {
        format!(
            "{:.0} %",
            100.0 * stats.checked_in as f64 / stats.registered as f64
        )
    } else {
        "—".to_string()
    };
    let days: Vec<(String, i64)> = stats
        .by_day
        .iter()
        .map(|d| (d.day.format("%Y-%m-%d").to_string(), d.registrations))
        .collect();
    let departments: Vec<(String, i64)> = stats
        .by_department
        .iter()
        .map(|d| {
            (
                d.department
                    .clone()
                    .unwrap_or_else(|| o.no_department.to_string()),
                d.registered,
            )
        })
        .collect();
    let status = event.status;
    let start = event.local_start();
    let place = event.draft.place.clone();
    view! {
        <Title text=title.clone() />
        <div class="page-head">
            <h1>{title}</h1>
            <span class=format!("badge badge-{}", status.code()) data-testid="event-status">{(o.event_status)(status)}</span>
        </div>
        <p class="event-meta" data-testid="dashboard-facts">
            <time datetime=crate::html_time::datetime_attribute(&start)>{(t.date_time)(start)}</time>
            " · "{place}" · "
            <a href=format!("/events/{id}")>{o.public_page}</a>
        </p>
        <nav class="row-actions">
            {(status != EventStatus::Cancelled).then(|| view! {
                <a class="button small secondary" href=format!("/organize/{id}/edit")>{o.edit}</a>
            })}
            <a class="button small secondary" href=format!("/organize/{id}/attendees")>{o.attendees}</a>
            <a class="button small secondary" href=format!("/organize/{id}/survey") data-testid="survey-link">{t.surveys.survey}</a>
            <a class="button small secondary" href=format!("/events/{id}/door")>{o.door}</a>
            <a class="button small secondary" href=format!("/api/organize/attendees.csv?event_id={id}") download="">{o.export_csv}</a>
            {(status == EventStatus::Draft).then(|| view! {
                <ActionForm action=publish attr:class="inline-form">
                    <input type="hidden" name="event_id" value=id />
                    <button class="button small" type="submit" data-testid="publish">{o.publish}</button>
                </ActionForm>
            })}
            <ActionForm action=duplicate attr:class="inline-form">
                <input type="hidden" name="event_id" value=id />
                <button class="button small secondary" type="submit">{o.duplicate}</button>
            </ActionForm>
            // An event that is over can no longer be called off (numbers are known then).
            {(status != EventStatus::Cancelled && stats.no_shows.is_none()).then(|| view! {
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="event_id" value=id />
                    <button class="button small danger" type="submit" data-testid="cancel-event"
                        on:click=move |ev| {
                            if !window().confirm_with_message(o.confirm_cancel).unwrap_or(false) {
                                ev.prevent_default();
                            }
                        }
                    >{o.cancel_event}</button>
                </ActionForm>
            })}
        </nav>
        <dl class="stat-grid" data-testid="stats">
            <div><dt>{o.registered_vs_seats}</dt><dd data-testid="stat-registered" title=(o.registered_of)(stats.registered, stats.capacity)>{stats.registered}<small>{format!(" / {}", stats.capacity)}</small></dd></div>
            <div><dt>{o.waitlisted}</dt><dd data-testid="stat-waitlisted">{stats.waitlisted}</dd></div>
            <div><dt>{o.checked_in}</dt><dd data-testid="stat-checked-in">{stats.checked_in}</dd></div>
            <div><dt>{o.check_in_rate}</dt><dd>{rate}</dd></div>
            <div><dt>{o.cancelled}</dt><dd>{stats.cancelled}</dd></div>
            {stats.no_shows.map(|n| view! { <div><dt>{o.no_shows}</dt><dd data-testid="stat-no-shows">{n}</dd></div> })}
        </dl>
        <section class="chart-section">
            <h2>{o.by_department}</h2>
            <BarChart rows=departments testid="chart-departments" />
        </section>
        <section class="chart-section">
            <h2>{o.by_day}</h2>
            <BarChart rows=days testid="chart-days" />
        </section>
        <super::SurveyResultsSection event_id=id results=survey />
    }
}
