//! `/api/docs`: the OpenAPI document rendered as one server-side HTML page, with no
//! JavaScript at all (so it runs under a strict Content-Security-Policy and needs no
//! CDN), styled by the site's own stylesheet. Rendered once at start-up from the JSON
//! form of the document, the same bytes `/api/v1/openapi.json` serves.

use std::fmt::Write;
use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use html_escape::encode_text as esc;
use serde_json::Value;

use crate::openapi::DocJson;

/// The rendered page.
#[derive(Clone)]
pub struct DocPage(pub Arc<str>);

/// Same-origin stylesheet only: the page has no script, image or form.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The document as served JSON and as the rendered page.
pub fn prepare(doc: utoipa::openapi::OpenApi) -> (DocJson, DocPage) {
    let value = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    let page = render(&value);
    (DocJson(value.to_string().into()), DocPage(page.into()))
}

/// `GET /api/docs`.
pub async fn page(Extension(page): Extension<DocPage>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        page.0.to_string(),
    )
}

/// Escaped text with `code` spans and blank-line paragraphs (the Markdown the
/// document's descriptions use).
fn prose(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, part) in para.split('`').enumerate() {
            if i % 2 == 1 {
                let _ = write!(out, "<code>{}</code>", esc(part));
            } else {
                out.push_str(&esc(part));
            }
        }
        out.push_str("</p>");
    }
    out
}

/// One line of text with `code` spans.
fn inline(text: &str) -> String {
    let p = prose(text);
    p.strip_prefix("<p>")
        .and_then(|p| p.strip_suffix("</p>"))
        .unwrap_or(&p)
        .replace("</p><p>", " ")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn anchor(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A schema as a short type, with links to named schemas.
fn type_of(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            let sep = if key == "allOf" { " and " } else { " or " };
            return list.iter().map(type_of).collect::<Vec<_>>().join(sep);
        }
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let vs: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect();
        return format!("one of {}", vs.join(", "));
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let base: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!(
                "array of {}",
                s.get("items").map(type_of).unwrap_or_else(|| "any".into())
            ),
            "object" => match s.get("additionalProperties") {
                Some(v @ Value::Object(_)) => format!("map of {}", type_of(v)),
                _ => "object".into(),
            },
            t => match s.get("format").and_then(Value::as_str) {
                Some(f) => format!("{t} ({})", esc(f)),
                None => t.to_string(),
            },
        })
        .collect();
    if base.is_empty() {
        "any JSON".into()
    } else {
        base.join(" or ")
    }
}

fn properties_table(out: &mut String, s: &Value) {
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str(
        "<table class=\"list\"><tr><th>field</th><th>type</th><th>required</th><th>about</th></tr>",
    );
    for (name, p) in props {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            type_of(p),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            esc(str_of(p, "description"))
        );
    }
    out.push_str("</table>");
}

fn example_block(out: &mut String, example: Option<&Value>) {
    if let Some(ex) = example {
        let text = serde_json::to_string_pretty(ex).unwrap_or_default();
        let _ = write!(
            out,
            "<p class=\"muted\">Example</p><pre class=\"report\">{}</pre>",
            esc(&text)
        );
    }
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = anchor(&format!("op-{method}-{path}"));
    let _ = write!(
        out,
        "<section id=\"{id}\"><h3><code>{} {}</code> {}</h3>",
        method.to_uppercase(),
        esc(path),
        inline(str_of(op, "summary"))
    );
    out.push_str(&prose(str_of(op, "description")));
    if let Some(sec) = op.get("security").and_then(Value::as_array) {
        let names: Vec<String> = sec
            .iter()
            .filter_map(Value::as_object)
            .map(|m| match m.keys().next() {
                Some(k) => format!("<code>{}</code>", esc(k)),
                None => "none".into(),
            })
            .collect();
        let _ = write!(out, "<p class=\"muted\">Auth: {}</p>", names.join(" or "));
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        out.push_str("<table class=\"list\"><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>about</th></tr>");
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(str_of(p, "name")),
                esc(str_of(p, "in")),
                p.get("schema").map(type_of).unwrap_or_default(),
                if p.get("required") == Some(&Value::Bool(true)) {
                    "yes"
                } else {
                    ""
                },
                esc(str_of(p, "description"))
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = op.get("requestBody") {
        out.push_str("<h4>Request body</h4>");
        out.push_str(&prose(str_of(body, "description")));
        for (ct, media) in body["content"].as_object().into_iter().flatten() {
            let _ = write!(
                out,
                "<p><code>{}</code>: {}</p>",
                esc(ct),
                media.get("schema").map(type_of).unwrap_or_default()
            );
            example_block(out, media.get("example"));
        }
    }
    out.push_str("<h4>Responses</h4><table class=\"list\"><tr><th>status</th><th>about</th><th>body</th></tr>");
    for (status, r) in op["responses"].as_object().into_iter().flatten() {
        let bodies: Vec<String> = r["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(ct, m)| {
                format!(
                    "<code>{}</code> {}",
                    esc(ct),
                    m.get("schema").map(type_of).unwrap_or_default()
                )
            })
            .collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(status),
            esc(str_of(r, "description")),
            bodies.join("<br>")
        );
    }
    out.push_str("</table></section>");
}

/// The whole page: overview, auth schemes, operations by tag, then every schema.
pub fn render(doc: &Value) -> String {
    let info = &doc["info"];
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — API docs</title>\
<link rel=\"stylesheet\" href=\"/pkg/perfwatch.css\"></head><body><main><h1>{}</h1>",
        esc(str_of(info, "title")),
        esc(str_of(info, "title"))
    );
    out.push_str(&prose(str_of(info, "description")));
    out.push_str("<p>Machine-readable: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>");
    auth_schemes(&mut out, doc);
    routes_by_tag(&mut out, doc);
    schemas(&mut out, doc);
    out.push_str("</main></body></html>");
    out
}

/// The table of authentication schemes.
fn auth_schemes(out: &mut String, doc: &Value) {
    out.push_str("<h2 id=\"auth\">Authentication</h2><table class=\"list\"><tr><th>scheme</th><th>how</th><th>about</th></tr>");
    for (name, s) in doc["components"]["securitySchemes"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let how = match str_of(s, "type") {
            "http" => format!("HTTP {}", str_of(s, "scheme")),
            "apiKey" => format!(
                "{} <code>{}</code>",
                str_of(s, "in"),
                esc(str_of(s, "name"))
            ),
            t => t.to_string(),
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{how}</td><td>{}</td></tr>",
            esc(name),
            prose(str_of(s, "description"))
        );
    }
    out.push_str("</table>");
}

/// Operations grouped by their first tag, in the order the tags are declared: a table
/// of contents, then each tag's operations in full.
fn routes_by_tag(out: &mut String, doc: &Value) {
    let mut ops: Vec<(String, &str, &str, &Value)> = vec![];
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if let Some(op) = item.get(method) {
                let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
                ops.push((tag, method, path.as_str(), op));
            }
        }
    }
    let tags: Vec<(&str, &str)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (str_of(t, "name"), str_of(t, "description")))
        .collect();
    out.push_str("<h2>Routes</h2><ul>");
    for (tag, about) in &tags {
        let _ = write!(
            out,
            "<li><a href=\"#tag-{}\">{}</a> — {}<ul>",
            anchor(tag),
            esc(tag),
            esc(about)
        );
        for (_, method, path, op) in ops.iter().filter(|o| o.0 == *tag) {
            let _ = write!(
                out,
                "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
                anchor(&format!("op-{method}-{path}")),
                method.to_uppercase(),
                esc(path),
                inline(str_of(op, "summary"))
            );
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ul>");
    for (tag, about) in &tags {
        let _ = write!(
            out,
            "<h2 id=\"tag-{}\">{}</h2><p class=\"muted\">{}</p>",
            anchor(tag),
            esc(tag),
            esc(about)
        );
        for (_, method, path, op) in ops.iter().filter(|o| o.0 == *tag) {
            operation(out, method, path, op);
        }
    }
}

/// Every schema with its properties (or its type) and example.
fn schemas(out: &mut String, doc: &Value) {
    out.push_str("<h2 id=\"schemas\">Schemas</h2>");
    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = write!(
            out,
            "<section id=\"schema-{}\"><h3>{}</h3>",
            anchor(name),
            esc(name)
        );
        out.push_str(&prose(str_of(s, "description")));
        if s.get("properties").is_some() {
            properties_table(out, s);
        } else {
            let _ = write!(out, "<p>{}</p>", type_of(s));
        }
        example_block(out, s.get("example"));
        out.push_str("</section>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_escaped_and_code_spans_kept() {
        assert_eq!(
            prose("a <b> `x<y>`\n\nnext"),
            "<p>a &lt;b&gt; <code>x&lt;y&gt;</code></p><p>next</p>"
        );
    }

    #[test]
    fn types_link_named_schemas_and_spell_out_nullable_arrays() {
        let s = serde_json::json!({"type": ["array", "null"], "items": {"$ref": "#/components/schemas/Point"}});
        assert_eq!(
            type_of(&s),
            "array of <a href=\"#schema-Point\">Point</a> or null"
        );
    }
}
