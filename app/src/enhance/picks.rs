//! The alerts list's bulk form (`form[data-picks]`): the ticked `input.pick` boxes of
//! the rows (`tr[data-alert]`) go into its `ids` field, its `[data-picks-count]` says
//! how many, and its submit button is disabled while none is ticked.

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlButtonElement, HtmlInputElement};

use super::dom;

pub fn on_change(ev: Event) {
    if dom::closest(&ev, "input.pick").is_some() {
        update();
    }
}

/// Brings the bulk form in line with the ticked boxes (also after the list was read
/// again, when no box is ticked any more).
pub fn update() {
    let doc = dom::document();
    let Some(form) = doc.query_selector("form[data-picks]").ok().flatten() else {
        return;
    };
    let ids: Vec<String> = doc
        .query_selector_all("tr[data-alert] input.pick")
        .map(|list| {
            (0..list.length())
                .filter_map(|i| list.item(i)?.dyn_into::<HtmlInputElement>().ok())
                .filter(HtmlInputElement::checked)
                .filter_map(|b| {
                    b.closest("tr[data-alert]")
                        .ok()??
                        .get_attribute("data-alert")
                })
                .collect()
        })
        .unwrap_or_default();
    let find = |css: &str| form.query_selector(css).ok().flatten();
    if let Some(i) = find("input[name=ids]").and_then(|e| e.dyn_into::<HtmlInputElement>().ok()) {
        i.set_value(&ids.join(","));
    }
    if let Some(c) = find("[data-picks-count]") {
        c.set_text_content(Some(&format!("{} selected: ", ids.len())));
    }
    if let Some(b) =
        find("button[type=submit]").and_then(|e: Element| e.dyn_into::<HtmlButtonElement>().ok())
    {
        b.set_disabled(ids.is_empty());
    }
}
