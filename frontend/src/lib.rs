//! The shop's browser entry point, for every page outside the returns portal and the
//! staff console. `scripts/build.sh` compiles this crate to wasm; the page's hydration
//! script calls [`hydrate`] once the module has loaded. It hydrates only the chat widget
//! and the category filter (`app::shop_bundle`), not the whole app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::shop_bundle::hydrate();
}
