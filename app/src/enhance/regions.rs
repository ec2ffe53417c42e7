//! Regions: the parts of a page (`data-region="NAME"`) that are replaced by the same
//! region of a fresh server render, after an action or a same-page navigation. The
//! server renders a page in well under 100 ms, so reading the page again costs less
//! than shipping its views to the browser. A region holding islands (`data-keep`) is
//! never replaced (its islands would lose their handlers); when its `data-key`
//! changes (other running jobs), the page is loaded again instead.

use std::cell::Cell;
use std::time::Duration;

use wasm_bindgen::JsCast;
use web_sys::{DomParser, Element, SupportedType};

use super::dom;

thread_local! {
    /// Bumped by every refresh: an answer older than the newest request is dropped
    /// (typing fast in a live filter sends several).
    static LATEST: Cell<u32> = const { Cell::new(0) };
}

/// Reads the current URL again and replaces the regions.
pub fn refresh_current() {
    let url = dom::current_url();
    wasm_bindgen_futures::spawn_local(async move { refresh(&url).await });
}

/// Reads `url` and replaces every region of the page with the same region of it.
pub async fn refresh(url: &str) {
    let ticket = LATEST.with(|l| {
        l.set(l.get().wrapping_add(1));
        l.get()
    });
    let Ok((200, html)) = dom::fetch(url, None).await else {
        return;
    };
    if LATEST.with(Cell::get) != ticket {
        return;
    }
    let Ok(parser) = DomParser::new() else { return };
    let Ok(fresh) = parser.parse_from_string(&html, SupportedType::TextHtml) else {
        return;
    };
    let doc = dom::document();
    doc.set_title(&fresh.title());
    let Ok(list) = doc.query_selector_all("[data-region]") else {
        return;
    };
    for i in 0..list.length() {
        let Some(old) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let name = old.get_attribute("data-region").unwrap_or_default();
        let new = fresh
            .query_selector(&format!("[data-region=\"{name}\"]"))
            .ok()
            .flatten();
        if old.has_attribute("data-keep") {
            let key = |e: Option<&Element>| e.and_then(|e| e.get_attribute("data-key"));
            if key(Some(&old)) != key(new.as_ref()) {
                let _ = dom::window().location().reload();
                return;
            }
            continue;
        }
        old.set_inner_html(&new.map(|n| n.inner_html()).unwrap_or_default());
    }
    super::picks::update();
}

/// Regions with `data-refresh-every="SECONDS"` are read again that often (the queue).
pub fn start_timers() {
    let Ok(list) = dom::document().query_selector_all("[data-refresh-every]") else {
        return;
    };
    let every = (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .filter_map(|e| e.get_attribute("data-refresh-every")?.parse::<u64>().ok())
        .min();
    if let Some(s) = every {
        let _ = leptos::prelude::set_interval_with_handle(
            refresh_current,
            Duration::from_secs(s.max(5)),
        );
    }
}
