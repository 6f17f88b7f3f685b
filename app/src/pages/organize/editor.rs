//! Creating and editing an event. Times are typed in the company's time zone
//! (`datetime-local` fields) and stored as instants. The form works without
//! JavaScript; saving goes to the event's dashboard.

// `save_event` takes one argument per form field (the form posts them flat,
// with or without JavaScript); the macro copies them into generated code
// that an item-level allow does not reach.
#![allow(clippy::too_many_arguments)]

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use tsudoi::Field;
#[cfg(feature = "ssr")]
use tsudoi::Reason;
use tsudoi::model::{Category, EventStatus};

/// The fields of the event form that show their own errors.
const EVENT_FIELDS: &[Field] = &[
    Field::Title,
    Field::Description,
    Field::Category,
    Field::Place,
    Field::StartsAt,
    Field::EndsAt,
    Field::Capacity,
    Field::RegistrationOpensAt,
    Field::RegistrationClosesAt,
];

use crate::AppError;
use crate::form_errors::{FieldError, FormError, FormLevelError};
use crate::i18n::use_texts;
use crate::layout::{LoginNeeded, form_error_in_url};

/// The form's values, times already in the company zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventForm {
    pub event_id: Option<i64>,
    pub version: Option<i32>,
    pub status: Option<EventStatus>,
    pub title_ja: String,
    pub title_en: String,
    pub description_ja: String,
    pub description_en: String,
    pub category: Option<Category>,
    pub place: String,
    pub starts: String,
    pub ends: String,
    pub capacity: String,
    pub opens: String,
    pub closes: String,
    /// The company zone's name, for the hint under the times.
    pub zone: String,
}

#[cfg(feature = "ssr")]
pub(super) const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M";

#[cfg(feature = "ssr")]
fn form_of(event: &tsudoi::events::ManagedEvent, zone: chrono_tz::Tz) -> EventForm {
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&zone).format(LOCAL_FORMAT).to_string()
    };
    let draft = &event.draft;
    EventForm {
        event_id: Some(event.id),
        version: Some(event.version),
        status: Some(event.status),
        title_ja: draft.title_ja.clone().unwrap_or_default(),
        title_en: draft.title_en.clone().unwrap_or_default(),
        description_ja: draft.description_ja.clone(),
        description_en: draft.description_en.clone(),
        category: Some(draft.category),
        place: draft.place.clone(),
        starts: local(draft.starts_at),
        ends: local(draft.ends_at),
        capacity: draft.capacity.to_string(),
        opens: draft.registration_opens_at.map(local).unwrap_or_default(),
        closes: draft.registration_closes_at.map(local).unwrap_or_default(),
        zone: zone.name().to_string(),
    }
}

/// The form for a new event, or for event `id`.
#[server(endpoint = "organize/event", input = GetUrl)]
pub async fn load_event_form(id: Option<i64>) -> Result<EventForm, AppError> {
    let ctx = crate::server_context::server_context()?;
    match id {
        Some(id) => {
            super::manager_of(id).await?;
            let event = tsudoi::events::manage::get(&ctx.db, ctx.time_zone, id).await?;
            Ok(form_of(&event, ctx.time_zone))
        }
        None => {
            super::organizer().await?;
            Ok(EventForm {
                capacity: "30".into(),
                zone: ctx.time_zone.name().to_string(),
                ..EventForm::default()
            })
        }
    }
}

#[cfg(feature = "ssr")]
pub(super) fn parse_local(
    zone: chrono_tz::Tz,
    text: &str,
    field: Field,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, tsudoi::Error> {
    use chrono::TimeZone;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || tsudoi::Error::Invalid(Reason::NotADateTime { field });
    let naive = chrono::NaiveDateTime::parse_from_str(text, LOCAL_FORMAT)
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| bad())?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|at| Some(at.with_timezone(&chrono::Utc)))
        .ok_or_else(bad)
}

/// Saves the form: creates an event or edits one, then opens its dashboard.
#[server(endpoint = "organize/save")]
pub async fn save_event(
    event_id: Option<i64>,
    version: Option<i32>,
    title_ja: String,
    title_en: String,
    description_ja: String,
    description_en: String,
    category: String,
    place: String,
    starts: String,
    ends: String,
    capacity: String,
    opens: String,
    closes: String,
    publish: Option<String>,
) -> Result<i64, AppError> {
    use tsudoi::Error;
    use tsudoi::events::{EventDraft, manage};
    let ctx = crate::server_context::server_context()?;
    let zone = ctx.time_zone;
    let required = |value: Option<chrono::DateTime<chrono::Utc>>, field: Field| {
        value.ok_or(Error::Invalid(Reason::Missing { field }))
    };
    let draft = EventDraft {
        title_ja: Some(title_ja),
        title_en: Some(title_en),
        description_ja,
        description_en,
        category: Category::parse(&category).ok_or(Error::Invalid(Reason::Missing {
            field: Field::Category,
        }))?,
        place,
        starts_at: required(
            parse_local(zone, &starts, Field::StartsAt)?,
            Field::StartsAt,
        )?,
        ends_at: required(parse_local(zone, &ends, Field::EndsAt)?, Field::EndsAt)?,
        capacity: capacity.trim().parse().map_err(|_| {
            Error::Invalid(Reason::NotAWholeNumber {
                field: Field::Capacity,
            })
        })?,
        registration_opens_at: parse_local(zone, &opens, Field::RegistrationOpensAt)?,
        registration_closes_at: parse_local(zone, &closes, Field::RegistrationClosesAt)?,
    };
    let now = chrono::Utc::now();
    let (id, notified) = match event_id {
        Some(id) => {
            let viewer = super::manager_of(id).await?;
            let version = version.ok_or(Error::Invalid(Reason::IncompleteForm))?;
            let edited = manage::update(&ctx.db, viewer.id, id, version, &draft, now).await?;
            (id, edited.notified)
        }
        None => {
            let viewer = super::organizer().await?;
            let id = manage::create(&ctx.db, viewer.id, &draft, publish.is_some(), now).await?;
            (id, 0)
        }
    };
    // The dashboard says whom the change reached.
    leptos_axum::redirect(&if notified > 0 {
        format!("/organize/{id}?notified={notified}")
    } else {
        format!("/organize/{id}")
    });
    Ok(id)
}

#[component]
pub fn NewEventPage() -> impl IntoView {
    let form = Resource::new(|| (), |_| load_event_form(None));
    view! { <Editor form here="/organize/new".to_string() /> }
}

#[component]
pub fn EditEventPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let form = Resource::new(id, load_event_form);
    view! { <Editor form here=format!("/organize/{}/edit", id().unwrap_or_default()) /> }
}

#[component]
fn Editor(form: Resource<Result<EventForm, AppError>>, here: String) -> impl IntoView {
    let t = use_texts();
    view! {
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || {
                let here = here.clone();
                Suspend::new(async move {
                    match form.await {
                        Ok(values) => view! { <EventFormView values /> }.into_any(),
                        Err(error) => view! { <LoginNeeded error here /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn EventFormView(values: EventForm) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let t = use_texts();
    let o = &t.organize;
    let save = ServerAction::<SaveEvent>::new();
    let returned_error = form_error_in_url(SaveEvent::PATH);
    let current_error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(|result| result.err())
            .or(returned_error.clone())
    });
    let form = FormError::new(current_error, EVENT_FIELDS);
    let editing = values.event_id.is_some();
    let title = if editing { o.edit_title } else { o.new_title };
    let category = values.category;
    view! {
        <Title text=title />
        <div class="page-head"><h1>{title}</h1></div>
        <ActionForm action=save attr:class="event-form" attr:data-testid="event-form">
            {values.event_id.map(|id| view! { <input type="hidden" name="event_id" value=id /> })}
            {values.version.map(|v| view! { <input type="hidden" name="version" value=v /> })}
            <div class="form-grid">
                <label>{o.title_ja}<input type="text" name="title_ja" value=values.title_ja maxlength="200"
                    aria-invalid=form.invalid(Field::Title) aria-describedby=form.described_by(Field::Title) />
                    <FieldError form field=Field::Title /></label>
                <label>{o.title_en}<input type="text" name="title_en" value=values.title_en maxlength="200" /></label>
                <label>{o.description_ja}<textarea name="description_ja" rows="4"
                    aria-invalid=form.invalid(Field::Description) aria-describedby=form.described_by(Field::Description)>{crate::verbatim::text(values.description_ja)}</textarea>
                    <FieldError form field=Field::Description /></label>
                <label>{o.description_en}<textarea name="description_en" rows="4">{crate::verbatim::text(values.description_en)}</textarea></label>
                <label>{o.category}
                    <select name="category" required aria-invalid=form.invalid(Field::Category) aria-describedby=form.described_by(Field::Category)>
                        // Empty first: `required` then stops a form sent without a
                        // choice, instead of every new event becoming the first category.
                        <option value="" selected=category.is_none()>{o.choose_category}</option>
                        {Category::ALL.into_iter().map(|c| view! {
                            <option value=c.code() selected=category == Some(c)>{(t.category)(c)}</option>
                        }).collect_view()}
                    </select>
                    <FieldError form field=Field::Category />
                </label>
                <label>{o.place}<input type="text" name="place" value=values.place maxlength="200" required
                    aria-invalid=form.invalid(Field::Place) aria-describedby=form.described_by(Field::Place) />
                    <FieldError form field=Field::Place /></label>
                <label>{o.starts}<input type="datetime-local" name="starts" value=values.starts required
                    aria-invalid=form.invalid(Field::StartsAt) aria-describedby=form.described_by(Field::StartsAt) />
                    <FieldError form field=Field::StartsAt /></label>
                <label>{o.ends}<input type="datetime-local" name="ends" value=values.ends required
                    aria-invalid=form.invalid(Field::EndsAt) aria-describedby=form.described_by(Field::EndsAt) />
                    <FieldError form field=Field::EndsAt /></label>
                <label>{o.capacity}<input type="number" name="capacity" min="0" max="100000" value=values.capacity required
                    aria-invalid=form.invalid(Field::Capacity) aria-describedby=form.described_by(Field::Capacity) />
                    <FieldError form field=Field::Capacity /></label>
                <label>{o.opens}" ("{o.optional}")"<input type="datetime-local" name="opens" value=values.opens
                    aria-invalid=form.invalid(Field::RegistrationOpensAt) aria-describedby=form.described_by(Field::RegistrationOpensAt) />
                    <FieldError form field=Field::RegistrationOpensAt /></label>
                <label>{o.closes}" ("{o.optional}")"<input type="datetime-local" name="closes" value=values.closes
                    aria-invalid=form.invalid(Field::RegistrationClosesAt) aria-describedby=form.described_by(Field::RegistrationClosesAt) />
                    <FieldError form field=Field::RegistrationClosesAt /></label>
            </div>
            <p class="hint">{(o.times_in)(&values.zone)}</p>
            {(!editing).then(|| view! {
                <label class="checkbox"><input type="checkbox" name="publish" value="yes" />" "{o.publish_now}</label>
            })}
            <button class="button" type="submit" data-testid="save-event" disabled=move || save.pending().get()>{o.save}</button>
        </ActionForm>
        <FormLevelError form />
    }
}
