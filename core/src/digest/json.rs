//! JSON: the digest itself plus the fields webhook receivers already read
//! (`title`, the Markdown `body`, and the links by name: `triage_url`, `compare_url`,
//! `chart_url`, `chart_image_url`, `run_url`).

use serde_json::{json, Value};

use super::{to_markdown, Digest, LinkKind};

pub fn to_json(d: &Digest) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("body".into(), Value::String(to_markdown(d)));
        for (key, kind) in [
            ("triage_url", LinkKind::Triage),
            ("compare_url", LinkKind::Compare),
            ("chart_url", LinkKind::Chart),
            ("chart_image_url", LinkKind::ChartImage),
            ("run_url", LinkKind::Run),
        ] {
            m.insert(key.into(), json!(d.link(kind)));
        }
    }
    v
}
