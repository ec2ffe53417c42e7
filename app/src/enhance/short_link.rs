//! "Copy short link" on the comparison page (`button[data-short-link]` with
//! `data-slug` and `data-query`): creates the short link, copies it, and shows it next
//! to the button (also when the clipboard refuses, so it can be copied by hand).

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlButtonElement};

use super::dom;
use crate::api_error::AppError;

/// Handles a click on the button; false when the click was not on one.
pub fn on_click(ev: &Event) -> bool {
    let Some(button) = dom::closest(ev, "button[data-short-link]") else {
        return false;
    };
    let Ok(button) = button.dyn_into::<HtmlButtonElement>() else {
        return false;
    };
    let Some(out) = button
        .closest(".short-link")
        .ok()
        .flatten()
        .and_then(|s| s.query_selector("[data-short-link-result]").ok().flatten())
    else {
        return true;
    };
    let field = |k: &str| button.get_attribute(k).unwrap_or_default();
    let body = format!(
        "slug={}&query={}",
        perfwatch_core::chart::encode(&field("data-slug")),
        perfwatch_core::chart::encode(&field("data-query"))
    );
    button.set_disabled(true);
    wasm_bindgen_futures::spawn_local(async move {
        let answer = dom::fetch("/fn/create_short_link", Some(body)).await;
        out.set_inner_html("");
        match answer {
            Ok((200, text)) => {
                let path: String = serde_json::from_str(&text).unwrap_or_default();
                let origin = dom::window().location().origin().unwrap_or_default();
                let url = format!("{origin}{path}");
                let copied = copy(&url).await;
                let words = if copied {
                    " copied"
                } else {
                    " (copy it by hand)"
                };
                add(&out, "a", "short-link", "", &url, Some(&url));
                add(&out, "span", "short-link-copied", "muted", words, None);
            }
            Ok((_, text)) => {
                let e = serde_json::from_str::<AppError>(&text)
                    .map(|e| e.to_string())
                    .unwrap_or(text);
                add(&out, "span", "short-link-error", "error", &e, None);
            }
            Err(_) => add(
                &out,
                "span",
                "short-link-error",
                "error",
                "the request failed",
                None,
            ),
        }
        button.set_disabled(false);
    });
    true
}

async fn copy(text: &str) -> bool {
    let promise = dom::window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

fn add(parent: &Element, tag: &str, testid: &str, class: &str, text: &str, href: Option<&str>) {
    let Ok(e) = dom::document().create_element(tag) else {
        return;
    };
    let _ = e.set_attribute("data-testid", testid);
    if !class.is_empty() {
        let _ = e.set_attribute("class", class);
    }
    if let Some(h) = href {
        let _ = e.set_attribute("href", h);
    }
    e.set_text_content(Some(text));
    let _ = parent.append_child(&e);
}
