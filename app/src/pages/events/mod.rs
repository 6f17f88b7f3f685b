//! The upcoming-events list: server-rendered from the database, one keyset
//! page at a time. Every filter lives in the URL (shareable, the back button
//! works, and the form works without JavaScript); a quick filter narrows the
//! current page once it is hydrated.
//!
//! The cards themselves are HTML made on the server and kept with the list's
//! rows (`list_html.rs`); the browser adds the viewer's marks (`marks.rs`).

#[cfg(feature = "ssr")]
mod list_html;
#[cfg(feature = "hydrate")]
mod marks;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tsudoi::model::{Category, EventSummary, Lang, Page, RegistrationStatus};

use crate::AppError;
use crate::i18n::{Texts, use_texts};

/// The list's filters as they travel in the URL and to the server function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilters {
    pub category: Option<String>,
    pub q: Option<String>,
    /// `YYYY-MM-DD`, company time zone, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// "1" when only events with free seats are wanted.
    pub seats: Option<String>,
}

impl ListFilters {
    fn from_query(query: &leptos_router::params::ParamsMap) -> ListFilters {
        let get = |key| query.get(key).filter(|v: &String| !v.trim().is_empty());
        ListFilters {
            category: get("category"),
            q: get("q"),
            from: get("from"),
            to: get("to"),
            seats: get("seats"),
        }
    }

    fn is_narrowed(&self) -> bool {
        self.q.is_some() || self.from.is_some() || self.to.is_some() || self.seats.is_some()
    }

    /// `/?…` with these filters, a changed category and an optional cursor.
    fn href(&self, category: Option<&str>, after: Option<&str>) -> String {
        let pairs = [
            ("category", category),
            ("q", self.q.as_deref()),
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("seats", self.seats.as_deref()),
            ("after", after),
        ];
        let query: Vec<String> = pairs
            .into_iter()
            .filter_map(|(key, value)| {
                value.map(|v| format!("{key}={}", leptos_router::location::Url::escape(v)))
            })
            .collect();
        if query.is_empty() {
            "/".to_string()
        } else {
            format!("/?{}", query.join("&"))
        }
    }
}

/// The viewer's registrations among the listed events, once the browser has them.
#[derive(Clone, Copy)]
struct RegisteredMarks(RwSignal<Vec<(i64, RegistrationStatus)>>);

/// The upcoming events the viewer holds a registration for, so the list can
/// mark them; nothing for a visitor. Bounded like "My events", whatever the
/// size of the list.
#[server(endpoint = "me/registered", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_registered_events() -> Result<Vec<(i64, RegistrationStatus)>, AppError> {
    let Some(viewer) = crate::auth::caller::viewer().await? else {
        return Ok(Vec::new());
    };
    let ctx = crate::server_context::server_context()?;
    let upcoming =
        tsudoi::registrations::upcoming(&ctx.db, viewer.id, ctx.time_zone, chrono::Utc::now())
            .await?;
    // Upcoming holds live registrations only.
    Ok(upcoming
        .into_iter()
        .map(|row| (row.event.id, row.status))
        .collect())
}

#[server(endpoint = "events/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_events(
    category: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    seats: Option<String>,
    after: Option<String>,
) -> Result<Page<EventSummary>, AppError> {
    let filters = ListFilters {
        category,
        q,
        from,
        to,
        seats,
    };
    let (filter, after) = upcoming_filter(&filters, after.as_deref())?;
    let ctx = crate::server_context::server_context()?;
    let (page, _served) = ctx
        .list_cache
        .list_upcoming(
            &ctx.db,
            ctx.time_zone,
            chrono::Utc::now(),
            &filter,
            after,
            tsudoi::model::page_size(None),
        )
        .await?;
    Ok(page)
}

/// The same page of the list as HTML in the caller's language, as the list
/// page shows it (see `list_html.rs`).
#[server(endpoint = "events/list_html", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_events_html(
    category: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    seats: Option<String>,
    after: Option<String>,
) -> Result<String, AppError> {
    let filters = ListFilters {
        category,
        q,
        from,
        to,
        seats,
    };
    let (filter, cursor) = upcoming_filter(&filters, after.as_deref())?;
    let paged = cursor.is_some();
    let lang = crate::i18n::request_lang();
    let ctx = crate::server_context::server_context()?;
    let (html, _served) = ctx
        .list_cache
        .rendered(
            &ctx.db,
            ctx.time_zone,
            chrono::Utc::now(),
            &filter,
            cursor,
            tsudoi::model::page_size(None),
            lang,
            |page| list_html::render(page, &filters, paged, lang),
        )
        .await?;
    Ok(html.to_string())
}

/// The core's filter and cursor from the list's URL, or the reason they make no sense.
#[cfg(feature = "ssr")]
fn upcoming_filter(
    filters: &ListFilters,
    after: Option<&str>,
) -> Result<
    (
        tsudoi::events::UpcomingFilter,
        Option<tsudoi::model::EventCursor>,
    ),
    tsudoi::Error,
> {
    use tsudoi::Error;
    let after = match after.filter(|a| !a.is_empty()) {
        Some(text) => Some(
            tsudoi::model::EventCursor::decode(text)
                .ok_or(Error::Invalid(tsudoi::Reason::BrokenLink))?,
        ),
        None => None,
    };
    let category = match filters.category.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => Some(Category::parse(code).ok_or(Error::Invalid(
            tsudoi::Reason::Unknown {
                field: tsudoi::Field::Category,
            },
        ))?),
        None => None,
    };
    let date = |text: Option<&str>| -> Result<Option<chrono::NaiveDate>, Error> {
        match text.filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    Error::Invalid(tsudoi::Reason::NotADate {
                        text: text.chars().filter(|c| !c.is_control()).take(40).collect(),
                    })
                }),
        }
    };
    let filter = tsudoi::events::UpcomingFilter {
        category,
        from: date(filters.from.as_deref())?,
        to: date(filters.to.as_deref())?,
        seats_left_only: filters.seats.is_some(),
        search: filters
            .q
            .as_ref()
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty()),
    };
    Ok((filter, after))
}

/// The list's HTML as the page's resource holds it. It reaches the browser
/// once, as the page's own markup: written into the hydration data it would
/// be sent twice, so it is written there as nothing, and the browser hydrates
/// the cards already in the page. After a navigation in the browser it holds
/// the HTML fetched from `list_events_html`.
#[derive(Clone, Debug, Default, PartialEq)]
struct ListHtml(String);

impl Serialize for ListHtml {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for ListHtml {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <()>::deserialize(deserializer)?;
        Ok(ListHtml::default())
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let filters = Memo::new(move |_| ListFilters::from_query(&query.read()));
    let after = move || query.read().get("after");
    let events = Resource::new(
        move || (filters.get(), after()),
        |(f, after)| async move {
            list_events_html(f.category, f.q, f.from, f.to, f.seats, after)
                .await
                .map(ListHtml)
        },
    );
    let category = Signal::derive(move || filters.get().category);
    // Fetched in the browser only, after the page is there: the list itself
    // is the same for everyone (and cached so), the marks are the viewer's.
    // An effect, not a resource: a resource read inside the list's Suspense
    // would hold the server's rendering of the list back.
    let registered = RegisteredMarks(RwSignal::new(Vec::new()));
    Effect::new(move || {
        leptos::task::spawn_local(async move {
            if let Ok(rows) = my_registered_events().await {
                registered.0.set(rows);
            }
        });
    });
    provide_context(registered);

    view! {
        <Title text=t.events_title />
        <div class="page-head">
            <h1>{t.events_title}</h1>
        </div>
        <FilterForm filters />
        <nav class="chips" aria-label=t.nav_categories>
            <CategoryChip code=None label=t.all_categories current=category filters />
            {Category::ALL
                .into_iter()
                .map(|c| view! { <CategoryChip code=Some(c.code()) label=(t.category)(c) current=category filters /> })
                .collect_view()}
        </nav>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(html) => view! { <EventList html /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A plain GET form: the filters end up in the URL with or without JavaScript.
#[component]
fn FilterForm(filters: Memo<ListFilters>) -> impl IntoView {
    let t = use_texts();
    let current = move || filters.get();
    view! {
        <form method="get" action="/" class="filter-form" role="search" data-testid="filter-form">
            {move || current().category.map(|c| view! { <input type="hidden" name="category" value=c /> })}
            <label class="grow">
                <span>{t.search_label}</span>
                <input type="search" name="q" placeholder=t.search_placeholder value=move || current().q.unwrap_or_default() />
            </label>
            <button class="button small" type="submit">{t.apply_filters}</button>
            // Folded until wanted, so on a phone the first event stays on the first screen.
            <details class="more-filters" open=move || { let f = current(); f.from.is_some() || f.to.is_some() || f.seats.is_some() }>
                <summary>{t.more_filters}</summary>
                <div class="more-filters-fields">
                    <label>
                        <span>{t.from_label}</span>
                        <input type="date" name="from" value=move || current().from.unwrap_or_default() />
                    </label>
                    <label>
                        <span>{t.to_label}</span>
                        <input type="date" name="to" value=move || current().to.unwrap_or_default() />
                    </label>
                    <label class="checkbox">
                        <input type="checkbox" name="seats" value="1" checked=move || current().seats.is_some() />
                        <span>{t.seats_left_only}</span>
                    </label>
                </div>
            </details>
            <Show when=move || current().is_narrowed()>
                <a class="clear-link" href=move || ListFilters { category: current().category, ..Default::default() }.href(current().category.as_deref(), None)>
                    {t.clear_filters}
                </a>
            </Show>
        </form>
    }
}

#[component]
fn CategoryChip(
    code: Option<&'static str>,
    label: &'static str,
    current: Signal<Option<String>>,
    filters: Memo<ListFilters>,
) -> impl IntoView {
    let href = move || filters.get().href(code, None);
    let selected = move || current.get().as_deref() == code;
    view! {
        <a class="chip" href=href aria-current=move || selected().then_some("page")>
            {label}
        </a>
    }
}

/// The cards and the pager, as the server wrote them, with the viewer's marks.
#[component]
fn EventList(html: ListHtml) -> impl IntoView {
    let list = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let t = use_texts();
        let registered = use_context::<RegisteredMarks>();
        Effect::new(move || {
            let (Some(list), Some(marks)) = (list.get(), registered) else {
                return;
            };
            marks.0.with(|rows| marks::show(&list, rows, t));
        });
    }
    view! { <div class="event-list-page" node_ref=list inner_html=html.0></div> }
}

/// "3 of 20 seats left" / "Full · 4 on the waitlist", and whether it is full.
pub fn availability(t: &Texts, event: &EventSummary) -> (String, &'static str) {
    let seats = event.seats_left();
    if seats > 0 {
        ((t.seats_left)(seats, event.capacity), "seats")
    } else if event.waitlisted > 0 {
        ((t.full_with_waitlist)(event.waitlisted), "full")
    } else {
        (t.full_waitlist_open.to_string(), "full")
    }
}

/// The title in the viewer's language, and the other one when it differs.
pub fn titles(event: &EventSummary, lang: Lang) -> (String, Option<String>) {
    let title = event.title(lang).to_string();
    let other = Some(event.title(lang.other()).to_string()).filter(|other| *other != title);
    (title, other)
}
