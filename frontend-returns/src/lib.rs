//! The returns portal's browser entry point, loaded on `/returns` pages only: the same
//! hydration as `frontend`, over the app with the portal's pages compiled in.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
