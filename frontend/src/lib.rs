#![recursion_limit = "256"]
//! The WASM entry point: hydrate the server-rendered app, nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
