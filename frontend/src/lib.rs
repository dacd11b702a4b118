#![recursion_limit = "256"]
//! The WASM entry point: hydrate the server-rendered app, nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Before hydration resets them: what was typed into the fields while the WASM loaded.
    app::components::remember_typed();
    leptos::mount::hydrate_body(app::App);
}
