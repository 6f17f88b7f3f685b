//! The viewer's own account: who they are, changing their password,
//! whether they get the day-before reminders, and a download of everything
//! Tsudoi holds about them.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::{ChangePassword, my_account};
use crate::form_errors::{FieldError, FormError, FormLevelError};
use crate::i18n::use_texts;
use crate::layout::{LoginNeeded, form_error_in_url};
use tsudoi::Field;

/// The fields of the password form that show their own errors.
const PASSWORD_FIELDS: &[Field] = &[
    Field::CurrentPassword,
    Field::NewPassword,
    Field::RepeatPassword,
];

/// Everything Tsudoi holds about the caller, as a JSON file to keep.
#[server(endpoint = "me/data.json", input = leptos::server_fn::codec::GetUrl, output = leptos::server_fn::codec::Streaming)]
pub async fn download_own_data()
-> Result<leptos::server_fn::codec::ByteStream<crate::AppError>, crate::AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let data = tsudoi::users::own_data::own_data(&ctx.db, viewer.id, chrono::Utc::now()).await?;
    let file = serde_json::to_vec_pretty(&data).map_err(|error| {
        tracing::error!(%error, "own data not written as JSON");
        crate::AppError::Domain(tsudoi::Error::Internal)
    })?;
    crate::server_context::send_as_attachment(
        "application/json; charset=utf-8",
        "tsudoi-my-data.json",
    );
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use axum::http::{HeaderValue, header};
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(leptos::server_fn::codec::ByteStream::new(
        futures_util::stream::once(
            async move { Ok::<_, crate::AppError>(bytes::Bytes::from(file)) },
        ),
    ))
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |()| my_account());
    let t = use_texts();
    view! {
        <Title text=t.account_title />
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(viewer) => view! {
                        <section class="form-card">
                            <h1>{t.account_title}</h1>
                            <dl class="facts">
                                <dt>{t.name}</dt><dd>{viewer.display_name}</dd>
                                <dt>{t.email}</dt><dd>{viewer.email}</dd>
                                <dt>{t.role_label}</dt><dd>{(t.role)(viewer.role)}</dd>
                            </dl>
                        </section>
                        <crate::pages::reminders::ReminderSetting />
                        <PasswordForm />
                        <section class="form-card" data-testid="own-data">
                            <h2>{t.own_data_title}</h2>
                            <p class="hint">{t.own_data_text}</p>
                            <p><a class="button secondary" href="/api/me/data.json" download="" data-testid="own-data-download">{t.own_data_download}</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/account".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let t = use_texts();
    let returned_error = form_error_in_url(<ChangePassword as leptos::server_fn::ServerFn>::PATH);
    let current_error = Signal::derive(move || {
        change
            .value()
            .get()
            .and_then(|result| result.err())
            .or(returned_error.clone())
    });
    let form = FormError::new(current_error, PASSWORD_FIELDS);
    let changed = move || {
        matches!(change.value().get(), Some(Ok(()))).then(|| {
            view! { <p class="notice" role="status" data-testid="password-changed">{t.password_changed}</p> }
        })
    };
    view! {
        <section class="form-card">
            <h2>{t.change_password}</h2>
            <ActionForm action=change attr:class="stacked-form">
                <label>
                    {t.current_password}
                    <input type="password" name="current" autocomplete="current-password" required
                        aria-invalid=form.invalid(Field::CurrentPassword) aria-describedby=form.described_by(Field::CurrentPassword) />
                    <FieldError form field=Field::CurrentPassword />
                </label>
                <label>
                    {t.new_password}
                    <input type="password" name="new" autocomplete="new-password" minlength="10" required
                        aria-invalid=form.invalid(Field::NewPassword) aria-describedby=form.described_by(Field::NewPassword) />
                    <FieldError form field=Field::NewPassword />
                </label>
                <label>
                    {t.new_password_again}
                    <input type="password" name="repeat" autocomplete="new-password" minlength="10" required
                        aria-invalid=form.invalid(Field::RepeatPassword) aria-describedby=form.described_by(Field::RepeatPassword) />
                    <FieldError form field=Field::RepeatPassword />
                </label>
                <FormLevelError form />
                {changed}
                <button class="button" type="submit" disabled=move || change.pending().get()>{t.change_password}</button>
            </ActionForm>
        </section>
    }
}
