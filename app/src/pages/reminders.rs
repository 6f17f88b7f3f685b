//! The day-before reminders: the setting on *My account*, and the page the
//! link in every reminder opens, which stops them without signing in. (The
//! same address also takes a mail client's one-click POST; the server
//! answers that itself.)

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::form_error_in_url;

/// Whom a stop link is for, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopLinkView {
    pub email: String,
    pub wants_reminders: bool,
}

#[server(endpoint = "reminders/link", input = leptos::server_fn::codec::GetUrl)]
pub async fn stop_link(token: String) -> Result<StopLinkView, AppError> {
    let ctx = crate::server_context::server_context()?;
    let holder = tsudoi::users::reminder_preference::holder(&ctx.db, &token).await?;
    Ok(StopLinkView {
        email: holder.email,
        wants_reminders: holder.wants_reminders,
    })
}

/// Stops the reminders of the link's person; no sign-in, the link is the key.
#[server(endpoint = "reminders/stop")]
pub async fn stop_reminders(token: String) -> Result<(), AppError> {
    let ctx = crate::server_context::server_context()?;
    tsudoi::users::reminder_preference::stop_with_link(&ctx.db, &token).await?;
    Ok(())
}

#[server(endpoint = "reminders/mine", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_reminders() -> Result<bool, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::users::reminder_preference::wants(&ctx.db, viewer.id).await?)
}

#[server(endpoint = "reminders/set")]
pub async fn set_my_reminders(wants: bool) -> Result<(), AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    tsudoi::users::reminder_preference::set(&ctx.db, viewer.id, wants).await?;
    Ok(())
}

/// `/reminders/stop/:token`: what the link does, and a button that does it.
#[component]
pub fn StopRemindersPage() -> impl IntoView {
    let t = use_texts();
    let r = &t.reminders;
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let stop = ServerAction::<StopReminders>::new();
    let link = Resource::new(
        move || (token(), stop.version().get()),
        |(token, _)| stop_link(token),
    );
    let returned_error = form_error_in_url(<StopReminders as leptos::server_fn::ServerFn>::PATH);
    view! {
        <Title text=r.stop_title />
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || {
                let error = stop.value().get().and_then(Result::err).or(returned_error.clone());
                Suspend::new(async move {
                match link.await {
                    Ok(link) if link.wants_reminders => view! {
                        <section class="form-card" data-testid="stop-reminders">
                            <h1>{r.stop_title}</h1>
                            <p>{(r.stop_question)(&link.email)}</p>
                            <p class="hint">{r.always_sent}</p>
                            {error.map(|error| view! { <p class="error" role="alert">{t.error(&error)}</p> })}
                            <ActionForm action=stop attr:class="stacked-form">
                                <input type="hidden" name="token" value=token() />
                                <button class="button" type="submit" disabled=move || stop.pending().get()>{r.stop}</button>
                            </ActionForm>
                        </section>
                    }
                    .into_any(),
                    Ok(link) => view! {
                        <section class="form-card" data-testid="reminders-stopped">
                            <h1>{r.stop_title}</h1>
                            <p role="status">{(r.stopped)(&link.email)}</p>
                            <p class="hint">{r.always_sent}</p>
                            <p>{r.undo_in_account}" "<a href="/account">{r.to_account}</a></p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <section class="form-card" data-testid="link-unusable">
                            <h1>{r.stop_title}</h1>
                            <p role="alert">{t.error(&error)}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}}
        </Suspense>
    }
}

/// The setting on *My account*: the state in words, and one button that
/// turns it the other way (a plain form, so it works without JavaScript).
#[component]
pub fn ReminderSetting() -> impl IntoView {
    let t = use_texts();
    let r = &t.reminders;
    let set = ServerAction::<SetMyReminders>::new();
    let wants = Resource::new(move || set.version().get(), |_| my_reminders());
    view! {
        <section class="form-card" data-testid="reminder-setting">
            <h2>{r.setting_title}</h2>
            <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match wants.await {
                        Ok(on) => view! {
                            <p role="status" data-testid="reminders-state" data-on=on.to_string()>{if on { r.are_on } else { r.are_off }}</p>
                            <p class="hint">{r.always_sent}</p>
                            <ActionForm action=set attr:class="stacked-form">
                                <input type="hidden" name="wants" value=(!on).to_string() />
                                <button class="button secondary" type="submit" disabled=move || set.pending().get()>
                                    {if on { r.turn_off } else { r.turn_on }}
                                </button>
                            </ActionForm>
                        }
                        .into_any(),
                        Err(error) => view! { <p class="error" role="alert">{t.error(&error)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
