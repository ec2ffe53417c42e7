//! `form[data-post]`: a server function called with `fetch` instead of a page load.
//! The form's fields are urlencoded (what the server function reads before hydration
//! too). On success the page's regions are read again, then the answer is shown in
//! the element `data-result` names:
//!
//! - `data-ok`: the message, `{}` standing for the answer's value and `{field}` for a
//!   field of an object answer; `data-ok-one` when the value is 1, `data-ok-false`
//!   when it is `false`;
//! - `data-ok-link` (`/jobs/{}`): the value as a link there; `data-ok-code`: as code;
//! - `data-ok-testid`, `data-err-testid`: the message's `data-testid`.
//!
//! A failure shows the server function's error (`AppError`'s words, naming the field).

use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlFormElement};

use super::{dom, regions};
use crate::api_error::AppError;

pub fn on_submit(ev: Event) {
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        .filter(|f| f.has_attribute("data-post"))
    else {
        return;
    };
    ev.prevent_default();
    let Some(body) = dom::form_body(&form) else {
        return;
    };
    let url = form.get_attribute("action").unwrap_or_default();
    wasm_bindgen_futures::spawn_local(async move {
        let answer = match dom::fetch(&url, Some(body)).await {
            Ok((status, text)) if (200..300).contains(&status) => Ok(text),
            Ok((_, text)) => Err(serde_json::from_str::<AppError>(&text)
                .map(|e| e.to_string())
                .unwrap_or(text)),
            Err(_) => Err("the request failed; try again".to_string()),
        };
        if answer.is_ok() {
            regions::refresh(&dom::current_url()).await;
        }
        show(&form, answer);
    });
}

/// Writes the answer into the form's result element.
fn show(form: &HtmlFormElement, answer: Result<String, String>) {
    let doc = dom::document();
    let Some(target) = form
        .get_attribute("data-result")
        .and_then(|id| doc.get_element_by_id(&id))
    else {
        return;
    };
    target.set_inner_html("");
    let Ok(msg) = doc.create_element("span") else {
        return;
    };
    let attr = |name: &str| form.get_attribute(name);
    match answer {
        Ok(text) => {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let template = match &value {
                Value::Number(n) if n.as_i64() == Some(1) => attr("data-ok-one"),
                Value::Bool(false) => attr("data-ok-false"),
                _ => None,
            }
            .or_else(|| attr("data-ok"))
            .unwrap_or_else(|| "Done.".into());
            let _ = msg.set_attribute("class", "note");
            if let Some(id) = attr("data-ok-testid") {
                let _ = msg.set_attribute("data-testid", &id);
            }
            fill(&msg, &template, &value, form);
        }
        Err(e) => {
            let _ = msg.set_attribute("class", "error");
            if let Some(id) = attr("data-err-testid") {
                let _ = msg.set_attribute("data-testid", &id);
            }
            msg.set_text_content(Some(&e));
        }
    }
    let _ = target.append_child(&msg);
}

/// `template` with the answer put in: named fields as text, `{}` as text, a link or
/// code.
fn fill(msg: &Element, template: &str, value: &Value, form: &HtmlFormElement) {
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let mut text = template.to_string();
    if let Value::Object(fields) = value {
        for (k, v) in fields {
            text = text.replace(&format!("{{{k}}}"), &scalar(v));
        }
    }
    let shown = scalar(value);
    let (before, after) = text.split_once("{}").unwrap_or((text.as_str(), ""));
    let doc = dom::document();
    let _ = msg.append_with_str_1(before);
    if text.contains("{}") {
        let link = form.get_attribute("data-ok-link");
        let tag = if link.is_some() {
            "a"
        } else if form.has_attribute("data-ok-code") {
            "code"
        } else {
            "span"
        };
        if let Ok(v) = doc.create_element(tag) {
            v.set_text_content(Some(&shown));
            if let Some(l) = link {
                let _ = v.set_attribute("href", &l.replace("{}", &shown));
            }
            if let Some(c) = form.get_attribute("data-ok-code") {
                let _ = v.set_attribute("class", "secret");
                let _ = v.set_attribute("data-testid", &c);
            }
            let _ = msg.append_with_node_1(&v);
        }
    }
    let _ = msg.append_with_str_1(after);
}
