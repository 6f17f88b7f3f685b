//! Data retention for administrators: the limits in force, what the next
//! daily run will archive and remove (the same plan as
//! `tsudoi retention --dry-run`), and what the last run did.

use chrono::{DateTime, FixedOffset};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;
use crate::table_region::TableRegion;

/// Events listed on the page; the totals count all of them.
#[cfg(feature = "ssr")]
const EVENTS_SHOWN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionView {
    pub retention_months: u32,
    pub mail_keep_days: u32,
    pub audit_keep_months: u32,
    pub anonymize_after_days: u32,
    /// Events that ended before this are past retention.
    pub cutoff: DateTime<FixedOffset>,
    pub events: Vec<PlannedEvent>,
    pub event_count: usize,
    pub registrations: i64,
    pub survey_respondents: i64,
    pub people_to_anonymize: i64,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedEvent {
    pub id: i64,
    pub title: String,
    pub ended_at: DateTime<FixedOffset>,
    pub registrations: i64,
    pub checked_in: i64,
    pub survey_respondents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub started_at: DateTime<FixedOffset>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub archive: Option<String>,
    pub events: i64,
    pub registrations: i64,
    pub mail: i64,
    pub audit_entries: i64,
    pub people_anonymized: i64,
}

#[server(endpoint = "admin/retention", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_retention() -> Result<RetentionView, AppError> {
    let viewer = crate::auth::caller::require(tsudoi::access::Permission::AdministerUsers).await?;
    let ctx = crate::server_context::server_context()?;
    let settings = &ctx.retention;
    let now = chrono::Utc::now();
    let plan = tsudoi::retention::plan(&ctx.db, now, settings.months).await?;
    let people_to_anonymize =
        tsudoi::users::anonymize::leavers_due(&ctx.db, settings.anonymize_after_days, now).await?;
    let last_run = tsudoi::retention::job::last_run(&ctx.db).await?;
    let japanese = viewer.lang == tsudoi::model::Lang::Ja;
    // Shown in the company's time zone.
    let local = |at: DateTime<chrono::Utc>| at.with_timezone(&ctx.time_zone).fixed_offset();
    Ok(RetentionView {
        retention_months: settings.months,
        mail_keep_days: settings.mail_keep_days,
        audit_keep_months: settings.audit_keep_months,
        anonymize_after_days: settings.anonymize_after_days,
        cutoff: local(plan.cutoff),
        event_count: plan.events.len(),
        registrations: plan.totals.registrations,
        survey_respondents: plan.totals.survey_respondents,
        events: plan
            .events
            .into_iter()
            .take(EVENTS_SHOWN)
            .map(|event| {
                let (first, second) = if japanese {
                    (event.title_ja, event.title_en)
                } else {
                    (event.title_en, event.title_ja)
                };
                PlannedEvent {
                    id: event.event_id,
                    title: first.or(second).unwrap_or_default(),
                    ended_at: local(event.ended_at),
                    registrations: event.rows.registrations,
                    checked_in: event.rows.checked_in,
                    survey_respondents: event.rows.survey_respondents,
                }
            })
            .collect(),
        people_to_anonymize,
        last_run: last_run.map(|run| LastRun {
            started_at: local(run.started_at),
            finished_at: run.finished_at.map(local),
            archive: run.archive,
            events: run.events,
            registrations: run.registrations,
            mail: run.mail,
            audit_entries: run.audit_entries,
            people_anonymized: run.people_anonymized,
        }),
    })
}

#[component]
pub fn RetentionPage() -> impl IntoView {
    let t = use_texts();
    let r = &t.retention;
    let data = Resource::new(|| (), |_| load_retention());
    view! {
        <Title text=r.title />
        <div class="page-head"><h1>{r.title}</h1></div>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <RetentionDetails view /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/retention".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RetentionDetails(view: RetentionView) -> impl IntoView {
    let t = use_texts();
    let r = &t.retention;
    let date = move |at: DateTime<FixedOffset>| (t.date_time)(at);
    let next = if view.event_count == 0 {
        view! {
            <p class="empty-state" data-testid="nothing-due">{r.nothing_due}</p>
        }
        .into_any()
    } else {
        let more = view.event_count.saturating_sub(view.events.len());
        view! {
            <p data-testid="due-summary">{(r.due_summary)(view.event_count, view.registrations, view.survey_respondents)}</p>
            <TableRegion label=r.next_run>
                <table class="data-table stack-on-phone" data-testid="due-events">
                    <thead>
                        <tr>
                            <th scope="col">{r.event}</th>
                            <th scope="col">{r.ended}</th>
                            <th scope="col" class="number">{r.registrations}</th>
                            <th scope="col" class="number">{r.checked_in}</th>
                            <th scope="col" class="number">{r.respondents}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view.events.into_iter().map(|event| view! {
                            <tr>
                                <td><a href=format!("/organize/events/{}", event.id)>{event.title}</a></td>
                                <td data-label=r.ended>{date(event.ended_at)}</td>
                                <td data-label=r.registrations class="number">{event.registrations}</td>
                                <td data-label=r.checked_in class="number">{event.checked_in}</td>
                                <td data-label=r.respondents class="number">{event.survey_respondents}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </TableRegion>
            {(more > 0).then(|| view! { <p class="muted">{(r.and_more)(more)}</p> })}
        }
        .into_any()
    };
    let last = match view.last_run {
        None => view! { <p data-testid="last-run">{r.never_ran}</p> }.into_any(),
        Some(run) => match run.finished_at {
            None => view! { <p data-testid="last-run">{(r.running_since)(date(run.started_at))}</p> }.into_any(),
            Some(finished) => view! {
                <dl class="facts" data-testid="last-run">
                    <dt>{r.finished}</dt><dd>{date(finished)}</dd>
                    <dt>{r.events_archived}</dt><dd>{run.events}</dd>
                    <dt>{r.registrations}</dt><dd>{run.registrations}</dd>
                    <dt>{r.mail_removed}</dt><dd>{run.mail}</dd>
                    <dt>{r.audit_removed}</dt><dd>{run.audit_entries}</dd>
                    <dt>{r.people_anonymized}</dt><dd>{run.people_anonymized}</dd>
                    <dt>{r.archive}</dt><dd>{run.archive.unwrap_or_else(|| r.no_archive.to_string())}</dd>
                </dl>
            }
            .into_any(),
        },
    };
    view! {
        <section class="form-card">
            <h2>{r.limits}</h2>
            <dl class="facts" data-testid="limits">
                <dt>{r.events_after}</dt><dd>{(r.months)(view.retention_months)}</dd>
                <dt>{r.mail_after}</dt><dd>{(r.days)(view.mail_keep_days)}</dd>
                <dt>{r.audit_after}</dt><dd>{(r.months)(view.audit_keep_months)}</dd>
                <dt>{r.anonymize_after}</dt><dd>{(r.days)(view.anonymize_after_days)}</dd>
            </dl>
            <p class="muted">{r.explanation}</p>
        </section>
        <section>
            <h2>{r.next_run}</h2>
            <p class="muted">{(r.cutoff)(date(view.cutoff))}</p>
            {next}
            <p data-testid="leavers">{(r.people_due)(view.people_to_anonymize)}</p>
        </section>
        <section>
            <h2>{r.last_run}</h2>
            {last}
        </section>
    }
}
