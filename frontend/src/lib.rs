//! The browser half: hydrates the islands of the server-rendered pages.

// Linked for its islands: each is a wasm-bindgen export the hydration script calls by name.
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    mark_hydrated();
}

/// `<html data-hydrated="ms">`: when, after navigation start, the page became interactive.
/// `make bench` reads it for its time-to-hydrated figure; tests wait on it before clicking.
fn mark_hydrated() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let ms = window.performance().map(|p| p.now()).unwrap_or(0.0);
    if let Some(html) = window.document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("data-hydrated", &format!("{ms:.0}"));
    }
}
