//! Anonymizing one person at once (a right-to-erasure request): a page of
//! its own that says what will happen and asks for a ticked confirmation,
//! so it works the same without JavaScript and is never one stray click.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::model::UserSummary;

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::{LoginNeeded, form_error_in_url};

#[server(endpoint = "admin/users/anonymize/preview", input = GetUrl)]
pub async fn person_to_anonymize(user_id: i64) -> Result<UserSummary, AppError> {
    crate::auth::caller::require(tsudoi::access::Permission::AdministerUsers).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::users::find(&ctx.db, user_id).await?)
}

/// `confirmed` is the ticked box; without it nothing happens.
#[server(endpoint = "admin/users/anonymize")]
pub async fn anonymize_person(user_id: i64, confirmed: Option<String>) -> Result<(), AppError> {
    let admin = crate::auth::caller::require(tsudoi::access::Permission::AdministerUsers).await?;
    if confirmed.as_deref() != Some("yes") {
        return Err(tsudoi::Error::Invalid(tsudoi::Reason::AnonymizeNotConfirmed).into());
    }
    let ctx = crate::server_context::server_context()?;
    tsudoi::users::anonymize::anonymize(&ctx.db, Some(admin.id), user_id, chrono::Utc::now())
        .await?;
    Ok(())
}

#[component]
pub fn AnonymizePage() -> impl IntoView {
    let query = use_query_map();
    let t = use_texts();
    let a = &t.admin;
    let anonymize = ServerAction::<AnonymizePerson>::new();
    let person = Resource::new(
        move || {
            (
                query.read().get("id").and_then(|id| id.parse::<i64>().ok()),
                anonymize.version().get(),
            )
        },
        |(id, _)| async move {
            match id {
                Some(id) => person_to_anonymize(id).await,
                None => Err(AppError::from(tsudoi::Error::NotFound)),
            }
        },
    );
    // Without JavaScript a refusal comes back in the address.
    let returned_error = form_error_in_url(<AnonymizePerson as leptos::server_fn::ServerFn>::PATH);
    let outcome = move || {
        match anonymize.value().get() {
        Some(Ok(())) => Some(
            view! { <p class="notice" role="status" data-testid="anonymized">{a.anonymize_done}</p> }
                .into_any(),
        ),
        Some(Err(err)) => Some(
            view! { <p class="error" role="alert" data-testid="anonymize-error">{t.error(&err)}</p> }
                .into_any(),
        ),
        None => returned_error.clone().map(|err| {
            view! { <p class="error" role="alert" data-testid="anonymize-error">{t.error(&err)}</p> }
                .into_any()
        }),
    }
    };
    view! {
        <Title text=a.anonymize_title />
        <div class="page-head">
            <h1>{a.anonymize_title}</h1>
        </div>
        {outcome}
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match person.await {
                    Ok(person) => view! { <Confirmation person anonymize /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/users".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
        <p><a href="/admin/users">{a.back_to_users}</a></p>
    }
}

#[component]
fn Confirmation(person: UserSummary, anonymize: ServerAction<AnonymizePerson>) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let facts = view! {
        <dl class="facts" data-testid="person">
            <dt>{t.name}</dt><dd>{person.display_name.clone()}</dd>
            <dt>{t.email}</dt><dd>{person.email.clone()}</dd>
            <dt>{a.department}</dt><dd>{person.department.clone().unwrap_or_else(|| "—".to_string())}</dd>
        </dl>
    };
    if person.anonymized {
        return view! {
            {facts}
            <p class="notice" data-testid="already-anonymized">{a.anonymize_already}</p>
        }
        .into_any();
    }
    view! {
        {facts}
        <section class="form-card">
            <ul class="consequences">
                {a.anonymize_effects.iter().map(|effect| view! { <li>{*effect}</li> }).collect_view()}
            </ul>
            <ActionForm action=anonymize attr:class="stacked-form">
                <input type="hidden" name="user_id" value=person.id />
                <label class="checkbox">
                    <input type="checkbox" name="confirmed" value="yes" required data-testid="confirm-anonymize" />
                    {a.anonymize_confirm}
                </label>
                <button class="button danger" type="submit" data-testid="anonymize-now">{a.anonymize_button}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
