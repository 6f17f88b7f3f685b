//! A page of the event list as HTML, written on the server without the view
//! machinery.
//!
//! The list is the busiest page and the same for everyone, so its cards are
//! made once per page of rows and language and kept with the rows in the
//! list cache; every visitor after the first gets them as one string. The
//! browser hydrates them as they are (they hold nothing interactive; the
//! viewer's own marks are added afterwards, see `marks.rs`), so the rows need
//! not travel a second time as hydration data either.
//!
//! Everything here must stay the markup of the Leptos views it replaced:
//! the same classes and test ids. User text goes through [`text`] and
//! [`attribute`], never straight into the string.

use std::fmt::Write;

use tsudoi::model::{EventSummary, Lang, Page};

use super::{ListFilters, availability, titles};
use crate::i18n::texts_for;

/// `page` as the list shows it: its cards and the pager, or the empty state.
pub fn render(page: &Page<EventSummary>, filters: &ListFilters, paged: bool, lang: Lang) -> String {
    let t = texts_for(lang);
    let mut html = String::with_capacity(1024 + page.items.len() * 900);
    if page.items.is_empty() {
        let (title, body) = if filters.is_narrowed() {
            (t.no_events_filtered_title, t.no_events_filtered_text)
        } else {
            (t.no_events_title, t.no_events_text)
        };
        let _ = write!(
            html,
            r#"<section class="empty-state" data-testid="no-events"><h2>{}</h2><p>{}</p><a class="button" href="/">{}</a></section>"#,
            text(title),
            text(body),
            text(t.show_all_events),
        );
        return html;
    }
    html.push_str(r#"<ul class="event-list">"#);
    for event in &page.items {
        card(&mut html, event, lang);
    }
    html.push_str("</ul>");
    let _ = write!(
        html,
        r#"<nav class="pager" aria-label="{}">"#,
        attribute(t.nav_pages)
    );
    if paged {
        let href = filters.href(filters.category.as_deref(), None);
        let _ = write!(
            html,
            r#"<a class="button secondary" href="{}" data-testid="first-page">{}</a>"#,
            attribute(&href),
            text(t.first_page),
        );
    }
    if let Some(cursor) = &page.next {
        let href = filters.href(filters.category.as_deref(), Some(&cursor.encode()));
        let _ = write!(
            html,
            r#"<a class="button next-page" href="{}">{}</a>"#,
            attribute(&href),
            text(t.next_page),
        );
    }
    html.push_str("</nav>");
    html
}

fn card(html: &mut String, event: &EventSummary, lang: Lang) {
    let t = texts_for(lang);
    let start = event.local_start();
    let end = event.local_end();
    let (title, other_title) = titles(event, lang);
    let (available, kind) = availability(t, event);
    let (month, day, weekday) = (t.badge)(start);
    let category = event.category.code();
    let _ = write!(
        html,
        r#"<li class="event-card" data-event-id="{id}"><div class="event-date" aria-hidden="true"><span class="month">{month}</span><span class="day">{day}</span><span class="weekday">{weekday}</span></div><div class="event-body"><span class="badge badge-{category}">{category_name}</span><h2 class="event-title"><a href="/events/{id}">{title}</a></h2>"#,
        id = event.id,
        month = text(&month),
        day = text(&day),
        weekday = text(&weekday),
        category_name = text((t.category)(event.category)),
        title = text(&title),
    );
    if let Some(other) = other_title {
        let _ = write!(html, r#"<p class="event-title-alt">{}</p>"#, text(&other));
    }
    let _ = write!(
        html,
        r#"<p class="event-meta"><time datetime="{datetime}">{start}</time>–{end} · {place}</p></div><p class="availability availability-{kind}">{available}</p></li>"#,
        datetime = attribute(&crate::html_time::datetime_attribute(&start)),
        start = text(&(t.date_time)(start)),
        end = text(&(t.time)(end)),
        place = text(&event.place),
        available = text(&available),
    );
}

fn text(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(text)
}

fn attribute(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(text)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use tsudoi::model::{Category, EventCursor, EventSummary, Lang, Page};

    use super::*;

    fn event(title: &str, place: &str) -> EventSummary {
        EventSummary {
            id: 7,
            title_ja: Some(title.to_string()),
            title_en: Some(title.to_string()),
            category: Category::Seminar,
            place: place.to_string(),
            starts_at: Utc.with_ymd_and_hms(2026, 12, 20, 9, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap(),
            utc_offset_seconds: 9 * 3600,
            capacity: 20,
            seats_taken: 3,
            waitlisted: 0,
        }
    }

    #[test]
    fn markup_in_titles_and_places_stays_text() {
        let page = Page {
            items: vec![event(
                "</a><script>alert('title')</script>",
                "\"><img src=x onerror=alert(1)>",
            )],
            next: None,
        };
        let html = render(&page, &ListFilters::default(), false, Lang::Ja);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;/a&gt;&lt;script&gt;"), "{html}");
    }

    #[test]
    fn a_filter_value_cannot_leave_its_attribute() {
        let page = Page {
            items: vec![event("Kickoff", "Hall")],
            next: Some(EventCursor {
                starts_at: Utc.with_ymd_and_hms(2026, 12, 21, 0, 0, 0).unwrap(),
                id: 9,
            }),
        };
        let filters = ListFilters {
            from: Some(r#""><script>x</script>"#.into()),
            ..ListFilters::default()
        };
        let html = render(&page, &filters, true, Lang::En);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains(r#"data-testid="first-page""#), "{html}");
        assert!(html.contains(r#"class="button next-page""#), "{html}");
    }

    #[test]
    fn an_empty_page_says_why_in_the_viewers_language() {
        let empty = Page {
            items: Vec::new(),
            next: None,
        };
        let narrowed = ListFilters {
            seats: Some("1".into()),
            ..ListFilters::default()
        };
        assert!(
            render(&empty, &ListFilters::default(), false, Lang::Ja)
                .contains(texts_for(Lang::Ja).no_events_title)
        );
        assert!(
            render(&empty, &narrowed, false, Lang::En)
                .contains(texts_for(Lang::En).no_events_filtered_title)
        );
    }
}
