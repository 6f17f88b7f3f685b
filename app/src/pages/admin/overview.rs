//! Across all events, for administrators: events and fill rate per month,
//! and the no-show rate per department — grouped SQL, no rows loaded.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use tsudoi::events::Overview;
use tsudoi::surveys::{SurveyOverview, SurveyTotals};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;
use crate::pages::organize::BarChart;
use crate::table_region::TableRegion;

/// The window of both overviews: the last twelve months and the next four.
#[cfg(feature = "ssr")]
fn window(
    ctx: &crate::server_context::ServerContext,
    now: chrono::DateTime<chrono::Utc>,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    use chrono::{Datelike, Months, NaiveDate, TimeZone};
    let today = now.with_timezone(&ctx.time_zone).date_naive();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let start = |day: NaiveDate| {
        ctx.time_zone
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|at| at.with_timezone(&chrono::Utc))
            .unwrap_or(now)
    };
    (
        start(this_month - Months::new(11)),
        start(this_month + Months::new(4)),
    )
}

#[server(endpoint = "admin/survey-overview", input = GetUrl)]
pub async fn load_survey_overview() -> Result<SurveyOverview, AppError> {
    crate::auth::caller::require(tsudoi::access::Permission::ManageAllEvents).await?;
    let ctx = crate::server_context::server_context()?;
    let (from, until) = window(&ctx, chrono::Utc::now());
    Ok(tsudoi::surveys::overview::overview(&ctx.db, ctx.time_zone, from, until).await?)
}

#[server(endpoint = "admin/overview", input = GetUrl)]
pub async fn load_overview() -> Result<Overview, AppError> {
    crate::auth::caller::require(tsudoi::access::Permission::ManageAllEvents).await?;
    let ctx = crate::server_context::server_context()?;
    let now = chrono::Utc::now();
    let (from, until) = window(&ctx, now);
    Ok(tsudoi::events::overview::overview(&ctx.db, ctx.time_zone, from, until, now).await?)
}

fn percent(part: i64, whole: i64) -> String {
    if whole > 0 {
        format!("{:.0} %", 100.0 * part as f64 / whole as f64)
    } else {
        "—".into()
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let t = use_texts();
    let data = Resource::new(|| (), |_| load_overview());
    let surveys = Resource::new(|| (), |_| load_survey_overview());
    view! {
        <Title text=t.organize.overview_title />
        <div class="page-head">
            <h1>{t.organize.overview_title}</h1>
            <a class="button small secondary" href="/admin/retention" data-testid="retention-link">{t.retention.link}</a>
        </div>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => view! { <OverviewView overview /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/overview".to_string() /> }.into_any(),
                }
            })}
            {move || Suspend::new(async move {
                surveys.await.ok().map(|overview| view! { <SurveysView overview /> })
            })}
        </Suspense>
    }
}

fn mean(totals: &SurveyTotals) -> String {
    totals
        .mean_rating_hundredths()
        .map(|m| format!("{}.{:02}", m / 100, m % 100))
        .unwrap_or_else(|| "—".into())
}

#[component]
fn SurveysView(overview: SurveyOverview) -> impl IntoView {
    let t = use_texts();
    let s = &t.surveys;
    let o = &t.organize;
    if overview.months.is_empty() {
        return view! {
            <section class="chart-section" data-testid="survey-overview">
                <h2>{s.overview_months}</h2>
                <p class="hint">{s.no_surveys_yet}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="chart-section" data-testid="survey-overview">
            <h2>{s.overview_months}</h2>
            <TableRegion label=s.overview_months>
                <table class="data-table" data-testid="survey-months">
                    <thead><tr><th scope="col">{o.month}</th><th scope="col">{s.surveys_count}</th><th scope="col">{s.response_rate}</th><th scope="col">{s.mean_rating}</th></tr></thead>
                    <tbody>
                        {overview.months.iter().map(|m| view! {
                            <tr>
                                <td>{m.label.clone().unwrap_or_default()}</td>
                                <td>{m.surveys}</td>
                                <td>{format!("{} ({} / {})", percent(m.respondents, m.checked_in), m.respondents, m.checked_in)}</td>
                                <td>{mean(m)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </TableRegion>
            <h2>{s.overview_departments}</h2>
            <TableRegion label=s.overview_departments>
                <table class="data-table" data-testid="survey-departments">
                    <thead><tr><th scope="col">{o.department}</th><th scope="col">{s.response_rate}</th><th scope="col">{s.mean_rating}</th></tr></thead>
                    <tbody>
                        {overview.departments.iter().map(|d| view! {
                            <tr>
                                <td>{d.label.clone().unwrap_or_else(|| o.no_department.to_string())}</td>
                                <td>{format!("{} ({} / {})", percent(d.respondents, d.checked_in), d.respondents, d.checked_in)}</td>
                                <td>{mean(d)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </TableRegion>
        </section>
    }
    .into_any()
}

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let t = use_texts();
    let o = &t.organize;
    let per_month: Vec<(String, i64)> = overview
        .months
        .iter()
        .map(|m| (m.month.clone(), m.events))
        .collect();
    view! {
        <p class="hint">{o.overview_intro}</p>
        <section class="chart-section">
            <h2>{o.events_per_month}</h2>
            <BarChart rows=per_month testid="chart-months" />
        </section>
        <TableRegion label=o.events_per_month>
            <table class="data-table" data-testid="months">
                <thead><tr><th scope="col">{o.month}</th><th scope="col">{o.events}</th><th scope="col">{o.capacity}</th><th scope="col">{o.fill_rate}</th></tr></thead>
                <tbody>
                    {overview.months.into_iter().map(|m| view! {
                        <tr><td>{m.month}</td><td>{m.events}</td><td>{format!("{} / {}", m.seats_taken, m.capacity)}</td><td>{percent(m.seats_taken, m.capacity)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </TableRegion>
        <section class="chart-section">
            <h2>{o.attendance_title}</h2>
            <TableRegion label=o.attendance_title>
                <table class="data-table" data-testid="attendance">
                    <thead><tr><th scope="col">{o.department}</th><th scope="col">{o.registrations}</th><th scope="col">{o.came}</th><th scope="col">{o.no_show_rate}</th></tr></thead>
                    <tbody>
                        {overview.attendance.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.department.unwrap_or_else(|| o.no_department.to_string())}</td>
                                <td>{d.registered}</td>
                                <td>{d.checked_in}</td>
                                <td>{percent(d.registered - d.checked_in, d.registered)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </TableRegion>
        </section>
    }
}
