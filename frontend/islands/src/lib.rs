#![recursion_limit = "256"]
//! The WASM entry point of the islands bundle: the page's islands hydrate one by one (Leptos's
//! island script calls each island's own entry after this one); the rest of the page stays
//! the server's HTML.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Before hydration resets them: what was typed into the fields while the WASM loaded.
    app::components::remember_typed();
    leptos::mount::hydrate_islands();
}
