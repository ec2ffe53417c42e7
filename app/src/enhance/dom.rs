//! Small DOM and `fetch` helpers of the enhancement module.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element, Event, Headers, RequestInit, Response, Window};

pub fn window() -> Window {
    web_sys::window().expect("a browser window")
}

pub fn document() -> Document {
    window().document().expect("a document")
}

/// The element the event happened on, or its nearest ancestor matching `css`.
pub fn closest(ev: &Event, css: &str) -> Option<Element> {
    ev.target()?.dyn_into::<Element>().ok()?.closest(css).ok()?
}

/// The current URL (path and query).
pub fn current_url() -> String {
    let l = window().location();
    format!(
        "{}{}",
        l.pathname().unwrap_or_default(),
        l.search().unwrap_or_default()
    )
}

/// GETs (no `body`) or POSTs urlencoded `body` to `url`: the status and the text.
pub async fn fetch(url: &str, body: Option<String>) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    let headers = Headers::new()?;
    if let Some(body) = body {
        init.set_method("POST");
        // JSON: the server function answers with its value, not a redirect.
        headers.set("Accept", "application/json")?;
        headers.set("Content-Type", "application/x-www-form-urlencoded")?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let resp: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(resp.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((resp.status(), text))
}

/// The urlencoded fields of `form`.
pub fn form_body(form: &web_sys::HtmlFormElement) -> Option<String> {
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    Some(String::from(params.to_string()))
}
