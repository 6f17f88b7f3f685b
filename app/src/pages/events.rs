//! The upcoming-events list: server-rendered from the database, one keyset
//! page at a time, with a quick filter that works once the page is hydrated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::model::{Category, EventSummary, Lang, Page};

use crate::AppError;

#[server(endpoint = "events/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_events(
    after: Option<String>,
    category: Option<String>,
) -> Result<Page<EventSummary>, AppError> {
    use tsudoi::events::{UpcomingFilter, list_upcoming};

    let ctx = crate::server_context::server_context()?;
    let after = match after.as_deref().filter(|a| !a.is_empty()) {
        Some(text) => Some(
            tsudoi::model::EventCursor::decode(text)
                .ok_or_else(|| tsudoi::Error::Invalid("This page link is broken.".into()))?,
        ),
        None => None,
    };
    let category = match category.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => Some(
            Category::parse(code)
                .ok_or_else(|| tsudoi::Error::Invalid(format!("Unknown category “{code}”.")))?,
        ),
        None => None,
    };
    let filter = UpcomingFilter { category };
    let page_size = tsudoi::model::page_size(None);
    Ok(list_upcoming(
        &ctx.db,
        ctx.time_zone,
        chrono::Utc::now(),
        &filter,
        after,
        page_size,
    )
    .await?)
}

fn category_label(category: Category) -> &'static str {
    match category {
        Category::Seminar => "Seminar",
        Category::Training => "Training",
        Category::Social => "Social",
        Category::Townhall => "Town hall",
        Category::Workshop => "Workshop",
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let after = move || query.read().get("after");
    let category = move || query.read().get("category");
    let events = Resource::new(
        move || (after(), category()),
        |(after, category)| list_events(after, category),
    );
    let (needle, set_needle) = signal(String::new());

    view! {
        <Title text="Upcoming events" />
        <div class="page-head">
            <h1>"Upcoming events" <span class="subtitle" lang="ja">"今後のイベント"</span></h1>
            <label class="quick-filter">
                <span class="visually-hidden">"Filter this page"</span>
                <input
                    type="search"
                    placeholder="Filter this page… / 絞り込み"
                    prop:value=needle
                    on:input=move |ev| set_needle.set(event_target_value(&ev))
                    data-testid="quick-filter"
                />
            </label>
        </div>
        <nav class="chips" aria-label="Categories">
            <CategoryChip code=None label="All" current=Signal::derive(category) />
            {Category::ALL
                .into_iter()
                .map(|c| view! { <CategoryChip code=Some(c.code()) label=category_label(c) current=Signal::derive(category) /> })
                .collect_view()}
        </nav>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) => view! { <EventList page needle category=category() /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CategoryChip(
    code: Option<&'static str>,
    label: &'static str,
    current: Signal<Option<String>>,
) -> impl IntoView {
    let href = code.map_or_else(|| "/".to_string(), |c| format!("/?category={c}"));
    let selected = move || current.get().as_deref() == code;
    view! {
        <a class="chip" href=href aria-current=move || selected().then_some("page")>
            {label}
        </a>
    }
}

fn matches(event: &EventSummary, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    needle.is_empty()
        || [
            event.title_ja.as_deref(),
            event.title_en.as_deref(),
            Some(event.place.as_str()),
        ]
        .into_iter()
        .flatten()
        .any(|text| text.to_lowercase().contains(&needle))
}

#[component]
fn EventList(
    page: Page<EventSummary>,
    needle: ReadSignal<String>,
    category: Option<String>,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>"No upcoming events here yet"</h2>
                <p>"Nothing is planned in this category for now. Try another category, or check back soon."</p>
                <a class="button" href="/">"Show all events"</a>
            </section>
        }
        .into_any();
    }
    let total = page.items.len();
    let items = StoredValue::new(page.items.clone());
    let shown = move || {
        items.with_value(|items| items.iter().filter(|e| matches(e, &needle.get())).count())
    };
    let next = page.next.map(|cursor| cursor.encode());
    view! {
        <p class="count" data-testid="shown-count" aria-live="polite">
            {move || format!("Showing {} of {} on this page", shown(), total)}
        </p>
        <ul class="event-list">
            {page
                .items
                .into_iter()
                .map(|event| {
                    let haystack = event.clone();
                    let hidden = move || !matches(&haystack, &needle.get());
                    view! { <EventCard event hidden=Signal::derive(hidden) /> }
                })
                .collect_view()}
        </ul>
        {next.map(|cursor| {
            let href = match category {
                Some(c) => format!("/?category={c}&after={cursor}"),
                None => format!("/?after={cursor}"),
            };
            view! { <a class="button next-page" href=href>"Next page →"</a> }
        })}
    }
    .into_any()
}

#[component]
fn EventCard(event: EventSummary, hidden: Signal<bool>) -> impl IntoView {
    let start = event.local_start();
    let end = event.local_end();
    let title = event.title(Lang::En).to_string();
    let other_title = event.title_ja.clone().filter(|ja| *ja != title);
    let seats = event.seats_left();
    let availability = if seats > 0 {
        (format!("{seats} of {} seats left", event.capacity), "seats")
    } else if event.waitlisted > 0 {
        (
            format!("Full · {} on the waitlist", event.waitlisted),
            "full",
        )
    } else {
        ("Full · waitlist open".to_string(), "full")
    };
    view! {
        <li class="event-card" class:hidden=hidden data-event-id=event.id>
            <div class="event-date" aria-hidden="true">
                <span class="month">{start.format("%b").to_string()}</span>
                <span class="day">{start.format("%-d").to_string()}</span>
                <span class="weekday">{start.format("%a").to_string()}</span>
            </div>
            <div class="event-body">
                <span class=format!("badge badge-{}", event.category.code())>{category_label(event.category)}</span>
                <h2 class="event-title">{title}</h2>
                {other_title.map(|ja| view! { <p class="event-title-alt" lang="ja">{ja}</p> })}
                <p class="event-meta">
                    <time datetime=start.to_rfc3339()>{start.format("%a %-d %b %Y, %H:%M").to_string()}</time>
                    "–"
                    {end.format("%H:%M").to_string()}
                    " · "
                    {event.place.clone()}
                </p>
            </div>
            <p class=format!("availability availability-{}", availability.1)>{availability.0}</p>
        </li>
    }
}
