//! Tsudoi's web app: routes, pages, components and server functions.
//!
//! Built twice: with `ssr` into the server binary, and with `hydrate` into the
//! wasm bundle that makes the server-rendered pages interactive.

pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server_context;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub use error::AppError;

/// The name of the wasm, js and css files under `/pkg`.
pub const OUTPUT_NAME: &str = "tsudoi";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the moment the page became
    // interactive, for people reading the DOM and for the end-to-end tests.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="tsudoi" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|page: String| if page.is_empty() { "Tsudoi 集い".to_string() } else { format!("{page} · Tsudoi 集い") } />
        <Router>
            <header class="site-header">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"集"</span>
                    <span class="brand-name">"Tsudoi"</span>
                </a>
            </header>
            <main class="site-main">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::events::EventsPage />
                    <Route path=path!("/events") view=pages::events::EventsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the wasm bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
