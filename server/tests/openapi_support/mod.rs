//! Shared by the OpenAPI tests: the served document, its operations, and checking an
//! answer against the schema the document gives for it.

#![allow(dead_code)]

use serde_json::{json, Value};

/// Routes documented outside `/api/v1` (the webhook endpoints that are not under it).
pub const OUTSIDE_API: &[&str] = &["/csp-report"];

/// Methods a route may have; HEAD and OPTIONS are answered by the router itself.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Whether a router path is one the document must cover.
pub fn in_scope(path: &str) -> bool {
    (path.starts_with("/api/v1/") && !path.contains("__private__")) || OUTSIDE_API.contains(&path)
}

pub async fn fetch_document(base: &str) -> Value {
    let res = reqwest::get(format!("{base}/api/v1/openapi.json"))
        .await
        .expect("GET openapi.json");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = res.json().await.expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0", "an OpenAPI 3.1 document");
    doc
}

/// Every documented (METHOD, path).
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m.to_lowercase()).is_some() {
                ops.push((m.to_string(), path.clone()));
            }
        }
    }
    ops
}

pub fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_lowercase()]
}

/// Fills `{name}` segments from `values` (unknown names get `1`).
pub fn fill(path: &str, values: &dyn Fn(&str, &str) -> Option<String>) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => values(path, name).unwrap_or_else(|| "1".into()),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks `body` against the schema documented for `status` of the operation (JSON
/// answers only). Panics, naming the route, when the status is undocumented or the
/// body does not validate.
pub fn check_answer(doc: &Value, method: &str, path: &str, status: u16, ct: &str, body: &[u8]) {
    let op = operation(doc, method, path);
    let resp = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path} answered {status}, which it does not document"));
    let Some(content) = resp.get("content").and_then(Value::as_object) else {
        return;
    };
    let ct = ct.split(';').next().unwrap_or("").trim();
    let media = content
        .get(ct)
        .unwrap_or_else(|| panic!("{method} {path} {status}: content type {ct} not documented"));
    if ct != "application/json" {
        return;
    }
    let instance: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON: {e}"));
    validate(doc, &media["schema"], &instance)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: {e}\nbody: {instance}"));
}

/// Validates `instance` against `schema`, whose `$ref`s point into the document's
/// components.
pub fn validate(doc: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    let mut components = doc["components"].clone();
    closed(&mut components);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "allOf": [schema],
    });
    let v = jsonschema::validator_for(&root).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Makes every object schema with listed properties refuse others, so that a field
/// the server sends but the document does not describe fails the check.
fn closed(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, x) in m.iter_mut() {
                closed(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(closed),
        _ => {}
    }
}
