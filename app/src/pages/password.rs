//! Passwords without the old one: asking for a link ("forgot your
//! password?") and the page a mailed link opens, for an invitation or a
//! reset. Both work as plain HTML forms without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use tsudoi::Field;

use crate::auth::{RequestPasswordReset, UsePasswordLink, password_link};
use crate::form_errors::{FieldError, FormError, FormLevelError};
use crate::i18n::use_texts;
use crate::layout::form_error_in_url;

const EMAIL_FIELDS: &[Field] = &[Field::Email];
const NEW_PASSWORD_FIELDS: &[Field] = &[Field::NewPassword, Field::RepeatPassword];

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let t = use_texts();
    let p = &t.password_links;
    let query = use_query_map();
    let request = ServerAction::<RequestPasswordReset>::new();
    let returned_error =
        form_error_in_url(<RequestPasswordReset as leptos::server_fn::ServerFn>::PATH);
    let current_error = Signal::derive(move || {
        request
            .value()
            .get()
            .and_then(|result| result.err())
            .or(returned_error.clone())
    });
    let form = FormError::new(current_error, EMAIL_FIELDS);
    let sent =
        move || matches!(request.value().get(), Some(Ok(()))) || query.read().get("sent").is_some();
    view! {
        <Title text=p.forgot_title />
        <section class="form-card">
            <h1>{p.forgot_title}</h1>
            <p>{p.forgot_text}</p>
            <Show when=sent>
                <p class="notice" role="status" data-testid="reset-sent">{p.sent}</p>
            </Show>
            <ActionForm action=request attr:class="stacked-form">
                <label>
                    {t.email}
                    <input type="email" name="email" autocomplete="username" required maxlength="254"
                        aria-invalid=form.invalid(Field::Email) aria-describedby=form.described_by(Field::Email) />
                    <FieldError form field=Field::Email />
                </label>
                <FormLevelError form />
                <button class="button" type="submit" disabled=move || request.pending().get()>
                    {move || if request.pending().get() { p.sending } else { p.send_link }}
                </button>
            </ActionForm>
            <p><a href="/login">{p.back_to_login}</a></p>
        </section>
    }
}

#[component]
pub fn SetPasswordPage() -> impl IntoView {
    let t = use_texts();
    let p = &t.password_links;
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new(token, password_link);
    view! {
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(link) => {
                        let title = if link.invitation { p.invitation_title } else { p.reset_title };
                        view! {
                            <Title text=title />
                            <section class="form-card">
                                <h1>{title}</h1>
                                <p data-testid="link-holder">{(p.for_whom)(&link.display_name, &link.email)}</p>
                                <p class="hint">{(p.valid_until)(&(t.date_time)(link.expires_at))}</p>
                                <NewPasswordForm token=token() email=link.email />
                            </section>
                        }
                        .into_any()
                    }
                    Err(error) => view! {
                        <Title text=p.unusable_title />
                        <section class="form-card" data-testid="link-unusable">
                            <h1>{p.unusable_title}</h1>
                            <p role="alert">{t.error(&error)}</p>
                            <p><a class="button" href="/forgot-password">{p.ask_again}</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewPasswordForm(token: String, email: String) -> impl IntoView {
    let t = use_texts();
    let p = &t.password_links;
    let set = ServerAction::<UsePasswordLink>::new();
    let returned_error = form_error_in_url(<UsePasswordLink as leptos::server_fn::ServerFn>::PATH);
    let current_error = Signal::derive(move || {
        set.value()
            .get()
            .and_then(|result| result.err())
            .or(returned_error.clone())
    });
    let form = FormError::new(current_error, NEW_PASSWORD_FIELDS);
    // In full, so the page comes in the person's saved language.
    Effect::new(move |_| {
        if let Some(Ok(next)) = set.value().get() {
            let _ = window().location().set_href(&next);
        }
    });
    view! {
        <ActionForm action=set attr:class="stacked-form">
            <input type="hidden" name="token" value=token />
            // For password managers: the account the new password belongs to.
            <input type="email" name="username" value=email autocomplete="username" readonly hidden />
            <label>
                {t.new_password}
                <input type="password" name="new" autocomplete="new-password" minlength="10" required autofocus
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
            <button class="button" type="submit" disabled=move || set.pending().get()>{p.set_and_sign_in}</button>
        </ActionForm>
    }
}
