//! The browser entry point: hydrates the page the server rendered.

// Leptos view types nest deeply; computing their layout needs more than the default depth.
#![recursion_limit = "256"]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: a page opened on a lazy route (pages/lazy.rs) waits for its code first.
    leptos::mount::hydrate_lazy(cloister_app::App);
}
