//! The viewer's own account: who they are, changing their password, and
//! whether they get the day-before reminders.

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
