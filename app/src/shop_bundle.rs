//! The shop's bundle (`frontend`, what `/` and every page outside the portal and the
//! console load): it hydrates only what a shopper can use on those pages instead of the
//! whole [`App`](crate::App).
//!
//! - The chat widget: hydrated with Leptos from its `<aside class="chat">` down
//!   ([`ChatContent`]), the same component the server rendered.
//! - The category filter: a few lines of DOM code over the server's HTML (the chips'
//!   `data-category`, the cards' `data-category` and `hidden`, the result count), doing
//!   what [`Catalog`](crate::shop)'s signals do in the other bundles.
//!
//! Everything else on these pages is static HTML: links and forms are ordinary ones (a
//! link is a page load; the shop page is the only page here). The bundle thus carries no
//! router, no `<head>` management and no catalog decoding: about a fifth of the wasm.

use leptos::{
    prelude::*,
    wasm_bindgen::{closure::Closure, JsCast},
    web_sys::{Element, Event, HtmlElement},
};

use crate::chat::ChatContent;

/// Hydrates the page; sets `data-hydrated` on `<body>` once done (the browser tests wait
/// for it, as for the other bundles).
pub fn hydrate() {
    let document = document();
    category_filter(&document);
    let mark_hydrated = || {
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    };
    match document.query_selector("aside.chat").ok().flatten() {
        // A fresh hydration context counts serialized-data ids from 0: the widget's
        // resource and `Suspense` are the page's first (`shop::ShopPage` builds the
        // widget before the catalog), so they find what the server sent for them.
        Some(chat) => leptos::mount::hydrate_from(chat.unchecked_into(), move || {
            // Like `App`'s: runs after hydration.
            Effect::new(move |_| mark_hydrated());
            view! { <ChatContent/> }
        })
        .forget(),
        // Not the shop page (a 404): nothing to hydrate.
        None => mark_hydrated(),
    }
}

/// The chips show one category's cards or all (`data-category` absent: "All").
fn category_filter(document: &leptos::web_sys::Document) {
    let Some(filters) = document.query_selector(".filters").ok().flatten() else {
        return;
    };
    let on_click = Closure::<dyn Fn(Event)>::new(|event: Event| {
        let chip = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .and_then(|target| target.closest(".chip").ok().flatten());
        if let Some(chip) = chip {
            show(chip.get_attribute("data-category"));
        }
    });
    let _ = filters.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    on_click.forget();
}

fn show(category: Option<String>) {
    let document = document();
    let each = |selector: &str, f: &mut dyn FnMut(HtmlElement)| {
        if let Ok(nodes) = document.query_selector_all(selector) {
            for i in 0..nodes.length() {
                if let Some(node) = nodes.item(i) {
                    f(node.unchecked_into());
                }
            }
        }
    };
    each(".filters .chip", &mut |chip| {
        let pressed = chip.get_attribute("data-category") == category;
        let _ = chip.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
    });
    let (mut shown, mut total) = (0, 0);
    each("li.product", &mut |card| {
        let hidden = category.is_some() && card.get_attribute("data-category") != category;
        card.set_hidden(hidden);
        total += 1;
        shown += usize::from(!hidden);
    });
    if let Some(count) = document.query_selector(".result-count").ok().flatten() {
        count.set_text_content(Some(&format!("Showing {shown} of {total} products")));
    }
}
