//! The staff console's pages as the returns portal's bundle knows them: the server always
//! renders the real ones and sends the staff bundle with them, so these only run if a
//! portal page navigated to the console in the browser, and then load it properly.

use leptos::prelude::*;

/// Reloads the page, which the server answers with the staff console's bundle.
#[component]
fn LoadConsole() -> impl IntoView {
    Effect::new(|_| {
        let _ = window().location().reload();
    });
    view! { <p class="loading" role="status">"Loading the staff console…"</p> }
}

macro_rules! stand_ins {
    ($($page:ident),* $(,)?) => {
        $(
            #[component]
            pub fn $page() -> impl IntoView {
                view! { <LoadConsole/> }
            }
        )*
    };
}

stand_ins!(
    StaffHomePage,
    StaffConversationsPage,
    StaffTimelinePage,
    StaffOrderPage,
    StaffHandoffsPage,
    StaffReturnsPage,
    StaffMetricsPage,
    StaffWebhooksPage,
    StaffApiKeysPage,
);
