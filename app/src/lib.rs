//! The Gapless web UI. One library compiled twice: with `ssr` into the server (pages
//! rendered to HTML, server functions run), with `hydrate` into the browser's wasm.

pub mod chat;
pub mod codec;
pub mod error;
#[cfg(feature = "ssr")]
pub mod port;
#[cfg(feature = "returns")]
pub mod returns;
/// Built without the portal (only the shop's bundle, which hydrates `shop_bundle`, not
/// `App`): these stand in for its pages so that `App` still compiles.
#[cfg(not(feature = "returns"))]
#[path = "returns_stub.rs"]
pub mod returns;
pub mod shop;
/// What the shop's bundle hydrates: the chat widget and the category filter, not `App`.
#[cfg(feature = "hydrate")]
pub mod shop_bundle;
#[cfg(feature = "staff")]
pub mod staff;
/// The returns portal's bundle has no staff console: these stand in for its pages.
#[cfg(not(feature = "staff"))]
#[path = "staff_stub.rs"]
pub mod staff;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    ParamSegment, SsrMode, StaticSegment,
};

/// The wasm bundle of the staff console, beside the shop's (`options.output_name`).
pub const STAFF_BUNDLE: &str = "gapless_staff";
/// The wasm bundle of the returns portal (the shop's pages with the portal's).
pub const RETURNS_BUNDLE: &str = "gapless_returns";

/// Whether `path` is a page of the returns portal (and gets its bundle).
#[cfg(feature = "ssr")]
pub fn is_returns_path(path: &str) -> bool {
    path == "/returns" || path.starts_with("/returns/")
}

/// The bundle a page loads: the staff console's on staff pages, the portal's on returns
/// pages, and on every other page the shop's, which has neither.
#[cfg(feature = "ssr")]
pub fn bundle_for(path: &str) -> Option<&'static str> {
    if staff::is_staff_path(path) {
        Some(STAFF_BUNDLE)
    } else if is_returns_path(path) {
        Some(RETURNS_BUNDLE)
    } else {
        None
    }
}

/// The HTML document around every page, with the bundle [`bundle_for`] its path.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let options = {
        let mut options = options;
        let bundle =
            use_context::<http::request::Parts>().and_then(|parts| bundle_for(parts.uri.path()));
        if let Some(bundle) = bundle {
            options.output_name = std::sync::Arc::from(bundle);
        }
        set_content_security_policy();
        options
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The pages' Content-Security-Policy: scripts only from this origin or inline with this
/// response's nonce (Leptos puts it on the hydration and streaming scripts), the wasm
/// allowed to compile, styles, images and requests from this origin only, no framing,
/// no plugins, forms posting only here.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: end-to-end tests wait for this
    // marker instead of racing the wasm.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/gapless.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="description" content="Order in your own words: the Gapless demo shop."/>
        <Title formatter=|page: String| format!("{page} · Gapless")/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <A href="/" attr:class="brand">"Gapless Outfitters"</A>
                <nav aria-label="Site">
                    // A page load, not a route change: the portal comes with its own
                    // bundle (`rel="external"` makes the router let the browser go).
                    <A href="/returns" attr:rel="external">"Returns"</A>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    // Async: the page is sent once its data is ready, so a failure can
                    // still set the status code and search engines see the products.
                    <Route path=StaticSegment("") view=shop::ShopPage ssr=SsrMode::Async/>
                    <Route
                        path=StaticSegment("returns")
                        view=returns::ReturnsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("returns"), ParamSegment("rma"))
                        view=returns::ReturnStatusPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("staff") view=staff::StaffHomePage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("conversations"))
                        view=staff::StaffConversationsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(
                            StaticSegment("staff"),
                            StaticSegment("conversations"),
                            ParamSegment("id"),
                        )
                        view=staff::StaffTimelinePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("returns"))
                        view=staff::StaffReturnsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("handoffs"))
                        view=staff::StaffHandoffsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("metrics"))
                        view=staff::StaffMetricsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("api-keys"))
                        view=staff::StaffApiKeysPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("webhooks"))
                        view=staff::StaffWebhooksPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("staff"), StaticSegment("orders"), ParamSegment("number"))
                        view=staff::StaffOrderPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"A demo shop running on Gapless."</p>
            </footer>
        </Router>
    }
}

/// Every unknown path: a 404 status, and a way back.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <section class="notice" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><A href="/">"Back to the shop"</A></p>
        </section>
    }
}
