//! The login form. Works as a plain HTML form without JavaScript; hydrated,
//! it submits in place and shows errors without a reload.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::LogIn;
use crate::layout::use_session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let logged_out = move || query.read().get("logged_out").is_some();
    let log_in = session.log_in;
    // Without JavaScript a failed login comes back as an error in the URL.
    let returned_error =
        crate::layout::form_error_in_url(<LogIn as leptos::server_fn::ServerFn>::PATH);
    let error = move || match log_in.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        Some(Ok(())) => None,
        None => returned_error.as_ref().map(ToString::to_string),
    };
    view! {
        <Title text="Log in" />
        <section class="form-card">
            <h1>"Log in" <span class="subtitle" lang="ja">"ログイン"</span></h1>
            <Show when=logged_out>
                <p class="notice" role="status" data-testid="logged-out">"You are logged out."</p>
            </Show>
            <ActionForm action=log_in attr:class="stacked-form">
                <input type="hidden" name="next" value=next />
                <label>
                    "E-mail address"
                    <input type="email" name="email" autocomplete="username" required />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                {move || error().map(|message| view! { <p class="error" role="alert" data-testid="login-error">{message}</p> })}
                <button class="button" type="submit" disabled=move || log_in.pending().get()>
                    {move || if log_in.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
        </section>
    }
}
