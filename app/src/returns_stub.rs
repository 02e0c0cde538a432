//! The returns portal's pages as the shop's bundle knows them: the server always renders
//! the real ones and sends the portal's bundle with them, so these only run if a shop
//! page navigated to the portal in the browser, and then load it properly.

use leptos::prelude::*;

/// Reloads the page, which the server answers with the portal's bundle.
#[component]
fn LoadPortal() -> impl IntoView {
    Effect::new(|_| {
        let _ = window().location().reload();
    });
    view! { <p class="loading" role="status">"Loading…"</p> }
}

#[component]
pub fn ReturnsPage() -> impl IntoView {
    view! { <LoadPortal/> }
}

#[component]
pub fn ReturnStatusPage() -> impl IntoView {
    view! { <LoadPortal/> }
}
