//! The viewer's own account: who they are, and changing their password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::{ChangePassword, my_account};
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;

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
    let outcome = move || {
        change.value().get().map(|result| match result {
            Ok(()) => view! { <p class="notice" role="status" data-testid="password-changed">{t.password_changed}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
        })
    };
    view! {
        <section class="form-card">
            <h2>{t.change_password}</h2>
            <ActionForm action=change attr:class="stacked-form">
                <label>
                    {t.current_password}
                    <input type="password" name="current" autocomplete="current-password" required />
                </label>
                <label>
                    {t.new_password}
                    <input type="password" name="new" autocomplete="new-password" minlength="10" required />
                </label>
                <label>
                    {t.new_password_again}
                    <input type="password" name="repeat" autocomplete="new-password" minlength="10" required />
                </label>
                {outcome}
                <button class="button" type="submit" disabled=move || change.pending().get()>{t.change_password}</button>
            </ActionForm>
        </section>
    }
}
