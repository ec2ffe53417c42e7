//! Navigation inside one page without a page load, for the islands that filter their
//! page by its query string (compare, project). Islands mode has no client-side
//! router, so such an island keeps the query in a signal, intercepts clicks on links
//! to its own page and writes the URL with the History API (back/forward included).

use leptos::prelude::*;

/// The query string (without `?`) of a plain left click on a link to `path`, when the
/// click should stay on the page; the default action is then prevented.
pub fn same_page_click(ev: &leptos::ev::MouseEvent, path: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return None;
        }
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        let href = target.closest("a").ok()??.get_attribute("href")?;
        let query = match href.split_once('?') {
            Some((p, q)) if p == path => q.to_string(),
            None if href == path => String::new(),
            _ => return None,
        };
        ev.prevent_default();
        push(&href);
        Some(query)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, path);
        None
    }
}

/// Adds `url` to the history (a new entry, like following a link).
pub fn push(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Replaces the current history entry with `url` (typing in a filter box).
pub fn replace(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Keeps `query` in step with the URL when the user goes back or forward.
pub fn follow_history(query: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::popstate, move |_| {
            let search = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .unwrap_or_default();
            query.set(search.trim_start_matches('?').to_string());
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = query;
}
