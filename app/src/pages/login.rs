//! The login form. Works as a plain HTML form without JavaScript; hydrated,
//! it submits in place and shows errors without a reload.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::LogIn;
use crate::i18n::use_texts;
use crate::layout::use_session;

/// How to get into a demo database (made by `tsudoi seed-demo`): each
/// role's account and the shared password. Nothing for a real installation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoLogin {
    pub accounts: Vec<(tsudoi::model::Role, String)>,
    pub password: String,
}

#[server(endpoint = "demo/accounts", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_demo_accounts() -> Result<Option<DemoLogin>, crate::error::AppError> {
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::demo::login_hint(&ctx.db)
        .await?
        .map(|login| DemoLogin {
            accounts: login.accounts,
            password: login.password,
        }))
}

#[component]
fn DemoAccountsHint() -> impl IntoView {
    let t = use_texts();
    let hint = Resource::new(|| (), |_| load_demo_accounts());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                hint.get()
                    .and_then(Result::ok)
                    .flatten()
                    .map(|demo| {
                        view! {
                            <aside class="notice demo-accounts" data-testid="demo-accounts" aria-labelledby="demo-accounts-title">
                                <h2 id="demo-accounts-title">{t.demo_accounts_title}</h2>
                                <p>{t.demo_accounts_text}</p>
                                <dl>
                                    {demo
                                        .accounts
                                        .into_iter()
                                        .map(|(role, email)| {
                                            view! {
                                                <dt>{(t.role)(role)}</dt>
                                                <dd data-role=role.code()><code>{email}</code></dd>
                                            }
                                        })
                                        .collect_view()}
                                    <dt>{t.password}</dt>
                                    <dd><code data-testid="demo-password">{demo.password}</code></dd>
                                </dl>
                            </aside>
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let t = use_texts();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let logged_out = move || query.read().get("logged_out").is_some();
    let log_in = session.log_in;
    // Without JavaScript a failed login comes back as an error in the URL.
    let returned_error =
        crate::layout::form_error_in_url(<LogIn as leptos::server_fn::ServerFn>::PATH);
    let error = move || match log_in.value().get() {
        Some(Err(err)) => Some(t.error(&err)),
        Some(Ok(_)) => None,
        None => returned_error.as_ref().map(|err| t.error(err)),
    };
    Effect::new(move |_| {
        if let Some(Ok(next)) = log_in.value().get() {
            let _ = window().location().set_href(&next);
        }
    });
    view! {
        <Title text=t.login_title />
        <section class="form-card">
            <h1>{t.login_title}</h1>
            <Show when=logged_out>
                <p class="notice" role="status" data-testid="logged-out">{t.logged_out}</p>
            </Show>
            <ActionForm action=log_in attr:class="stacked-form">
                <input type="hidden" name="next" value=next />
                <label>
                    {t.email}
                    <input type="email" name="email" autocomplete="username" required />
                </label>
                <label>
                    {t.password}
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                {move || error().map(|message| view! { <p class="error" role="alert" data-testid="login-error">{message}</p> })}
                <button class="button" type="submit" disabled=move || log_in.pending().get()>
                    {move || if log_in.pending().get() { t.logging_in } else { t.log_in }}
                </button>
            </ActionForm>
            <p class="form-aside"><a href="/forgot-password" data-testid="forgot-password">{t.password_links.forgot_link}</a></p>
            <DemoAccountsHint />
        </section>
    }
}
