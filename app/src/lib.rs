//! Tsudoi's web app: routes, pages, components and server functions.
//!
//! Built twice: with `ssr` into the server binary, and with `hydrate` into the
//! wasm bundle that makes the server-rendered pages interactive.

pub mod auth;
pub mod bundle_scripts;
pub mod error;
pub mod form_errors;
pub mod html_time;
pub mod i18n;
pub mod layout;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server_context;
pub mod table_region;
pub mod verbatim;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub use error::AppError;

/// The name of the wasm, js and css files under `/pkg`.
pub const OUTPUT_NAME: &str = "tsudoi";
/// The name of the door page's bundle under `/pkg`: the app built with the
/// `door-bundle` feature, holding the door's route alone.
pub const DOOR_OUTPUT_NAME: &str = "tsudoi-door";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    #[cfg(feature = "ssr")]
    let options = bundle_for_this_page(options);
    let lang = i18n::provide_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <bundle_scripts::BundleScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The door page is opened on phones at the entrance, often on a poor
/// connection, and is the one page there: it gets the small bundle. Every
/// other page gets the whole app.
#[cfg(feature = "ssr")]
fn bundle_for_this_page(mut options: LeptosOptions) -> LeptosOptions {
    // The route axum matched for this request, as the metrics name it.
    let door = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|route| route.as_str() == "/events/{id}/door")
    });
    if door {
        options.output_name = DOOR_OUTPUT_NAME.into();
    }
    options
}

/// Every page gets its own nonce (leptos_axum makes one per request) and a
/// policy that allows only scripts carrying it, plus our own files.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos_axum::ResponseOptions;
    if let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
        && let Ok(value) = axum::http::HeaderValue::from_str(&policy_with_nonce(&nonce.to_string()))
    {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The Content-Security-Policy of HTML pages: scripts only from us or
/// carrying this response's nonce, wasm allowed to compile, no inline styles,
/// no framing, forms only to us.
#[cfg(feature = "ssr")]
pub fn policy_with_nonce(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    i18n::provide_lang();
    layout::provide_session();
    // Effects run only in the browser: this marks the moment the page became
    // interactive, for people reading the DOM and for the end-to-end tests.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="tsudoi" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=document_title />
        <Router>
            <layout::SiteHeader />
            <main class="site-main" id="content" tabindex="-1">
                <PageRoutes />
            </main>
        </Router>
    }
}

/// Every page of the app.
#[cfg(not(feature = "door-bundle"))]
#[component]
fn PageRoutes() -> impl IntoView {
    view! {
        <Routes fallback=pages::not_found::NotFound>
            // In order: the HTML arrives complete, so pages read (and
            // their forms work) without JavaScript.
            <Route path=path!("/") view=pages::events::EventsPage ssr=SsrMode::InOrder />
            <Route path=path!("/events") view=pages::events::EventsPage ssr=SsrMode::InOrder />
            <Route path=path!("/events/:id") view=pages::event::EventPage ssr=SsrMode::Async />
            <Route path=path!("/login") view=pages::login::LoginPage />
            <Route path=path!("/forgot-password") view=pages::password::ForgotPasswordPage />
            <Route path=path!("/password/:token") view=pages::password::SetPasswordPage ssr=SsrMode::Async />
            <Route path=path!("/reminders/stop/:token") view=pages::reminders::StopRemindersPage ssr=SsrMode::Async />
            // Pages behind a login render completely before answering,
            // so the status (401, 403, 503) is known when headers go out.
            <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async />
            <Route path=path!("/events/:id/door") view=pages::door::DoorPage ssr=SsrMode::Async />
            <Route path=path!("/my-events") view=pages::my_events::MyEventsPage ssr=SsrMode::Async />
            <Route path=path!("/tickets/:id") view=pages::ticket::TicketPage ssr=SsrMode::Async />
            <Route path=path!("/surveys/:id") view=pages::survey::SurveyPage ssr=SsrMode::Async />
            <Route path=path!("/admin/users") view=pages::admin::users::UsersPage ssr=SsrMode::Async />
            <Route path=path!("/admin/users/anonymize") view=pages::admin::anonymize::AnonymizePage ssr=SsrMode::Async />
            <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async />
            <Route path=path!("/admin/outbox") view=pages::admin::outbox::OutboxPage ssr=SsrMode::Async />
            <Route path=path!("/admin/outbox/:id") view=pages::admin::outbox::MailPage ssr=SsrMode::Async />
            <Route path=path!("/admin/overview") view=pages::admin::overview::OverviewPage ssr=SsrMode::Async />
            <Route path=path!("/admin/retention") view=pages::admin::retention::RetentionPage ssr=SsrMode::Async />
            <Route path=path!("/organize") view=pages::organize::OrganizePage ssr=SsrMode::Async />
            <Route path=path!("/organize/new") view=pages::organize::NewEventPage ssr=SsrMode::Async />
            <Route path=path!("/organize/:id") view=pages::organize::DashboardPage ssr=SsrMode::Async />
            <Route path=path!("/organize/:id/edit") view=pages::organize::EditEventPage ssr=SsrMode::Async />
            <Route path=path!("/organize/:id/attendees") view=pages::organize::AttendeesPage ssr=SsrMode::Async />
            <Route path=path!("/organize/:id/survey") view=pages::organize::SurveyBuilderPage ssr=SsrMode::Async />
            <Route path=path!("/organize/:id/survey/answers") view=pages::organize::SurveyAnswersPage ssr=SsrMode::Async />
        </Routes>
    }
}

/// The door bundle's one route. Any other address reached from the door
/// page is loaded whole from the server, with the bundle that has its page.
#[cfg(feature = "door-bundle")]
#[component]
fn PageRoutes() -> impl IntoView {
    view! {
        <Routes fallback=pages::elsewhere::LoadWhole>
            <Route path=path!("/events/:id/door") view=pages::door::DoorPage ssr=SsrMode::Async />
        </Routes>
    }
}

/// The tab's title: the page's own, then the product's name.
fn document_title(page: String) -> String {
    verbatim::text(if page.is_empty() {
        "Tsudoi 集い".to_string()
    } else {
        format!("{page} · Tsudoi 集い")
    })
}

/// Entry point of the wasm bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
