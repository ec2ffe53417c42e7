//! Same-page navigation without a page load: a plain left click on a link to the
//! current path inside `data-nav` (compare: filters, sort, picker; project: "only with
//! open alerts"), and typing in a `data-live` text box of a GET form (the project's
//! series filter). The URL changes with the History API and the regions come from the
//! server's render of the new URL; back and forward read the regions again.

use std::cell::Cell;
use std::time::Duration;

use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlFormElement, HtmlInputElement, MouseEvent};

use super::{dom, regions};

pub fn on_click(ev: &Event) {
    let Some(m) = ev.dyn_ref::<MouseEvent>() else {
        return;
    };
    if m.default_prevented()
        || m.button() != 0
        || m.ctrl_key()
        || m.meta_key()
        || m.shift_key()
        || m.alt_key()
    {
        return;
    }
    let Some(link) = dom::closest(ev, "[data-nav] a[href]") else {
        return;
    };
    let href = link.get_attribute("href").unwrap_or_default();
    let path = dom::window().location().pathname().unwrap_or_default();
    if href.split('?').next() != Some(path.as_str()) {
        return;
    }
    ev.prevent_default();
    go(&href, true);
}

pub fn on_input(ev: Event) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .filter(|i| i.has_attribute("data-live"))
    else {
        return;
    };
    let Some(form) = input.form() else { return };
    let Some(query) = dom::form_body(&form) else {
        return;
    };
    let path = form_path(&form);
    set_url(&format!("{path}?{query}"), false);
    // Typing sends one request per pause, not one per key: each render of a big
    // project page costs the server, and only the last answer would be shown.
    let typed = TYPED.with(|t| {
        t.set(t.get().wrapping_add(1));
        t.get()
    });
    leptos::prelude::set_timeout(
        move || {
            if TYPED.with(Cell::get) == typed {
                regions::refresh_current();
            }
        },
        Duration::from_millis(200),
    );
}

thread_local! {
    /// Bumped by every key typed in a live filter.
    static TYPED: Cell<u32> = const { Cell::new(0) };
}

/// The path a GET form submits to.
fn form_path(form: &HtmlFormElement) -> String {
    let action = form.get_attribute("action").unwrap_or_default();
    action.split('?').next().unwrap_or_default().to_string()
}

/// Shows `url` (a new history entry when `push`, else in place of the current one).
fn go(url: &str, push: bool) {
    set_url(url, push);
    let url = url.to_string();
    wasm_bindgen_futures::spawn_local(async move { regions::refresh(&url).await });
}

/// Writes `url` into the address bar (a new history entry when `push`).
fn set_url(url: &str, push: bool) {
    if let Ok(h) = dom::window().history() {
        let null = wasm_bindgen::JsValue::NULL;
        let _ = if push {
            h.push_state_with_url(&null, "", Some(url))
        } else {
            h.replace_state_with_url(&null, "", Some(url))
        };
    }
}

/// Back or forward: the regions of the URL now shown.
pub fn follow_location() {
    let has_regions = dom::document()
        .query_selector("[data-region]")
        .ok()
        .flatten()
        .is_some();
    if has_regions {
        regions::refresh_current();
    }
}
