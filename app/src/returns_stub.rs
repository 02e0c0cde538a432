//! The returns portal's pages in an `App` built without the portal. No bundle runs them
//! today: the shop's bundle, the only one without the portal, hydrates `shop_bundle`
//! rather than `App`. Were one to, they would load the portal properly: the server
//! always renders the real pages and sends the portal's bundle with them.

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
