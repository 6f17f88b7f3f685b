//! The viewer's own account: who they are, and changing their password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::{ChangePassword, my_account};
use crate::layout::LoginNeeded;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |()| my_account());
    view! {
        <Title text="Your account" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(viewer) => view! {
                        <section class="form-card">
                            <h1>"Your account"</h1>
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{viewer.display_name}</dd>
                                <dt>"E-mail"</dt><dd>{viewer.email}</dd>
                                <dt>"Role"</dt><dd>{viewer.role.code()}</dd>
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
    let outcome = move || {
        change.value().get().map(|result| match result {
            Ok(()) => view! { <p class="notice" role="status" data-testid="password-changed">"Your password has been changed."</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <section class="form-card">
            <h2>"Change password"</h2>
            <ActionForm action=change attr:class="stacked-form">
                <label>
                    "Current password"
                    <input type="password" name="current" autocomplete="current-password" required />
                </label>
                <label>
                    "New password (at least 10 characters)"
                    <input type="password" name="new" autocomplete="new-password" minlength="10" required />
                </label>
                <label>
                    "New password again"
                    <input type="password" name="repeat" autocomplete="new-password" minlength="10" required />
                </label>
                {outcome}
                <button class="button" type="submit" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
    }
}
