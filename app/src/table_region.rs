//! Wide tables on narrow screens.

use leptos::prelude::*;

/// A table that scrolls sideways when the screen is narrower than it. A
/// keyboard can scroll only what can take focus, so the region takes focus
/// and is named (screen readers announce it as the region it is).
#[component]
pub fn TableRegion(
    /// What the table holds, as its heading or the page says it.
    label: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap" role="region" aria-label=label tabindex="0">
            {children()}
        </div>
    }
}
