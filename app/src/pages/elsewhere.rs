//! Where the door bundle ends: it holds the door page alone, so a link from
//! there to any other page loads that page whole from the server.

use leptos::prelude::*;

#[component]
pub fn LoadWhole() -> impl IntoView {
    // The router has already put the new address in the location bar.
    Effect::new(|_| {
        let _ = window().location().reload();
    });
    view! { <p class="loading" aria-busy="true">{crate::i18n::use_texts().loading}</p> }
}
