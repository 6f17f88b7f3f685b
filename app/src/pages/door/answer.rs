//! How the door shows an answer: one colour and a few big words per outcome,
//! readable at arm's length in a queue; the same words in the short list of
//! recent scans and in the list of offline check-ins the server refused.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use tsudoi::checkin::ScanAnswer;

use super::desk::{Desk, Shown};
use tsudoi::model::Lang;

use crate::i18n::{Texts, use_lang, use_texts};

/// Green, yellow or red.
fn kind(answer: &ScanAnswer) -> &'static str {
    match answer {
        ScanAnswer::CheckedIn { .. } => "ok",
        ScanAnswer::AlreadyCheckedIn { .. } => "warn",
        _ => "bad",
    }
}

/// A time as the door device's own clock reads it.
fn clock(t: &Texts, at: DateTime<Utc>) -> String {
    #[cfg(feature = "hydrate")]
    let at = at.with_timezone(&super::browser::local_offset(at));
    #[cfg(not(feature = "hydrate"))]
    let at = at.fixed_offset();
    (t.time)(at)
}

/// The headline and the line under it.
fn words(t: &Texts, answer: &ScanAnswer) -> (String, String) {
    let d = &t.door;
    match answer {
        ScanAnswer::CheckedIn {
            name, department, ..
        } => (
            d.checked_in.to_string(),
            match department {
                Some(department) => format!("{name} · {department}"),
                None => name.clone(),
            },
        ),
        ScanAnswer::AlreadyCheckedIn {
            name, at, by_name, ..
        } => (
            d.already.to_string(),
            (d.already_detail)(name, &clock(t, *at), by_name.as_deref()),
        ),
        ScanAnswer::Cancelled { name } => (d.cancelled.to_string(), name.clone()),
        ScanAnswer::Waitlisted { name } => (d.waitlisted.to_string(), name.clone()),
        ScanAnswer::OtherEvent {
            title_ja, title_en, ..
        } => (d.other_event.to_string(), {
            let (first, second) = match use_lang() {
                Lang::Ja => (title_ja, title_en),
                Lang::En => (title_en, title_ja),
            };
            first.clone().or_else(|| second.clone()).unwrap_or_default()
        }),
        ScanAnswer::Invalid => (d.invalid.to_string(), String::new()),
        ScanAnswer::NotOnDoorList { list_from } => (
            d.not_on_list.to_string(),
            (d.not_on_list_detail)(&clock(t, *list_from)),
        ),
    }
}

/// The big answer.
#[component]
pub fn Answer(shown: Shown) -> impl IntoView {
    let t = use_texts();
    let kind = kind(&shown.answer);
    let (title, detail) = words(t, &shown.answer);
    let queued = shown.offline && matches!(shown.answer, ScanAnswer::CheckedIn { .. });
    view! {
        <div
            class=format!("door-answer door-answer-{kind}")
            role="status"
            data-testid="door-answer"
            data-kind=kind
            data-number=shown.number
            data-offline=shown.offline.to_string()
            data-frame-at=shown.frame_at.map(|at| at.to_string())
        >
            <p class="door-answer-title">{title}</p>
            <p class="door-answer-detail">{detail}</p>
            {queued.then(|| view! { <p class="door-answer-note">{t.door.recorded_offline}</p> })}
        </div>
    }
}

/// The last few answers, newest first, so staff can look back at a queue.
#[component]
pub fn RecentScans(desk: Desk) -> impl IntoView {
    let t = use_texts();
    view! {
        <Show when=move || desk.recent.with(|r| r.len() > 1)>
            <h2 class="door-subhead">{t.door.recent_title}</h2>
            <ol class="door-recent" data-testid="door-recent">
                {move || desk.recent.get().into_iter().map(|shown| {
                    let (title, detail) = words(t, &shown.answer);
                    view! {
                        <li class=format!("door-recent-{}", kind(&shown.answer)) data-kind=kind(&shown.answer)>
                            <strong>{title}</strong>" "<span>{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </Show>
    }
}

/// Check-ins recorded offline that the server did not apply (cancelled
/// meanwhile, …): staff need to find those people.
#[component]
pub fn NotApplied(desk: Desk) -> impl IntoView {
    let t = use_texts();
    view! {
        <Show when=move || desk.not_applied.with(|n| !n.is_empty())>
            <div class="door-not-applied" role="alert" data-testid="door-not-applied">
                <h2 class="door-subhead">{t.door.not_applied_title}</h2>
                <ul>
                    {move || desk.not_applied.get().into_iter().map(|answer| {
                        let (title, detail) = words(t, &answer);
                        view! { <li data-kind=kind(&answer)><strong>{title}</strong>" "<span>{detail}</span></li> }
                    }).collect_view()}
                </ul>
                <button class="button small secondary" type="button" on:click=move |_| desk.dismiss_not_applied()>
                    {t.door.dismiss}
                </button>
            </div>
        </Show>
    }
}
