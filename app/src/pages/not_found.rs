use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let t = crate::i18n::use_texts();
    view! {
        <Title text=t.not_found_title />
        <section class="empty-state">
            <h1>{t.not_found_title}</h1>
            <a class="button" href="/">{t.back_to_events}</a>
        </section>
    }
}
