//! What every page shares: who is logged in, and the header that shows it.

use leptos::form::ActionForm;
use leptos::prelude::*;
use tsudoi::access::Permission;

use crate::AppError;
use crate::auth::{LogIn, LogOut, Viewer, current_viewer};
use crate::i18n::{texts_for, use_lang, use_texts};

/// The login state of the page, refreshed whenever someone logs in or out
/// through the actions below, so the header follows without a reload.
#[derive(Clone, Copy)]
pub struct SessionState {
    pub viewer: Resource<Result<Option<Viewer>, AppError>>,
    pub log_in: ServerAction<LogIn>,
    pub log_out: ServerAction<LogOut>,
}

pub fn provide_session() {
    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    let viewer = Resource::new(
        move || (log_in.version().get(), log_out.version().get()),
        |_| current_viewer(),
    );
    provide_context(SessionState {
        viewer,
        log_in,
        log_out,
    });
}

pub fn use_session() -> SessionState {
    expect_context::<SessionState>()
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    let t = use_texts();
    view! {
        <a class="skip-link" href="#content">{t.skip_to_content}</a>
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"集"</span>
                <span class="brand-name">"Tsudoi"</span>
            </a>
            <nav class="site-nav" aria-label=t.nav_account>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.viewer.await {
                            Ok(Some(viewer)) => view! { <ViewerMenu viewer log_out=session.log_out /> }.into_any(),
                            _ => view! { <a class="nav-link" href="/login">{t.log_in}</a> }.into_any(),
                        }
                    })}
                </Transition>
                <LanguageSwitch />
            </nav>
        </header>
    }
}

/// A plain form: with or without JavaScript the browser posts, comes back to
/// this page, and the page is rendered in the other language.
#[component]
fn LanguageSwitch() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let other = use_lang().other();
    view! {
        <form method="post" action=crate::i18n::SetLanguage::PATH class="inline-form">
            <input type="hidden" name="lang" value=other.code() />
            <button class="nav-button" type="submit" lang=other.code() data-testid="switch-language">
                {texts_for(other).lang_name}
            </button>
        </form>
    }
}

#[component]
fn ViewerMenu(viewer: Viewer, log_out: ServerAction<LogOut>) -> impl IntoView {
    let t = use_texts();
    let admin = viewer.may(Permission::AdministerUsers);
    let organizer = viewer.may(Permission::OrganizeEvents);
    view! {
        <a class="nav-link" href="/my-events" data-testid="my-events-link">{t.nav_my_events}</a>
        {organizer.then(|| view! { <a class="nav-link" href="/organize" data-testid="organize-link">{t.organize.nav}</a> })}
        {admin.then(|| view! {
            <a class="nav-link" href="/admin/users">{t.nav_users}</a>
            <a class="nav-link" href="/admin/audit">{t.nav_audit}</a>
            <a class="nav-link" href="/admin/outbox">{t.nav_outbox}</a>
            <a class="nav-link" href="/admin/overview">{t.organize.overview_title}</a>
        })}
        <a class="nav-link viewer-name" href="/account" data-testid="viewer-name">{viewer.display_name}</a>
        <ActionForm action=log_out attr:class="inline-form">
            <button class="nav-button" type="submit" data-testid="log-out">{t.log_out}</button>
        </ActionForm>
    }
}

/// For pages that need a login: the reason it is missing, as a helpful panel.
#[component]
pub fn LoginNeeded(error: AppError, here: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (AppError::Domain(domain), Some(response)) =
        (&error, use_context::<leptos_axum::ResponseOptions>())
        && let Ok(status) = axum::http::StatusCode::from_u16(crate::error::http_status(domain))
    {
        response.set_status(status);
    }
    let t = use_texts();
    let (title, text) = match &error {
        AppError::Domain(tsudoi::Error::LoginRequired) => {
            (t.please_log_in, t.please_log_in_text.to_string())
        }
        AppError::Domain(tsudoi::Error::Forbidden) => {
            (t.not_for_your_role, t.not_for_your_role_text.to_string())
        }
        AppError::Domain(tsudoi::Error::Unavailable) => {
            (t.unavailable_title, t.unavailable_text.to_string())
        }
        other => (t.something_wrong, t.error(other)),
    };
    let login_link = matches!(error, AppError::Domain(tsudoi::Error::LoginRequired)).then(|| {
        format!(
            "/login?next={}",
            leptos_router::location::Url::escape(&here)
        )
    });
    view! {
        // Every document needs a title, the refusal too (the page that was
        // asked for never rendered its own).
        <leptos_meta::Title text=title />
        <section class="empty-state" role="alert" data-testid="login-needed">
            <h1>{title}</h1>
            <p>{text}</p>
            {login_link.map(|href| view! { <a class="button" href=href>{t.log_in}</a> })}
        </section>
    }
}

/// The error a server function returned to a form posted without JavaScript:
/// the browser was sent back to the form with it in the URL.
pub fn form_error_in_url(server_fn_path: &str) -> Option<AppError> {
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<ServerActionError>()
        .filter(|error| error.path() == server_fn_path)
        .map(|error| ServerFnUrlError::<AppError>::decode_err(error.err()))
}
