//! Pulling variables out of a JSON answer: `id`, `data.items.0.id`, or a JSON pointer
//! (`/data/items/0/id`).

use serde_json::Value;

/// The value at `path` as text (strings as they are, other values as JSON).
pub fn extract(doc: &Value, path: &str) -> Option<String> {
    let found = if path.starts_with('/') {
        doc.pointer(path)?
    } else {
        let mut v = doc;
        for part in path.split('.') {
            v = match v {
                Value::Object(m) => m.get(part)?,
                Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        v
    };
    Some(match found {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    })
}

/// Every `(variable, path)` of a step from the answer body; the error says which
/// variable failed and why.
pub fn extract_all(
    body: &[u8],
    wanted: &[(String, String)],
) -> Result<Vec<(String, String)>, String> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        let head = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        format!("extract: the answer is not JSON ({e}): {head:?}")
    })?;
    wanted
        .iter()
        .map(|(var, path)| {
            extract(&doc, path)
                .map(|v| (var.clone(), v))
                .ok_or_else(|| format!("extract `{var}`: no value at `{path}` in the answer"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths_and_pointers() {
        let d = json!({"id": 7, "token": "t", "data": {"items": [{"id": "a"}]}, "n": null});
        assert_eq!(extract(&d, "id").as_deref(), Some("7"));
        assert_eq!(extract(&d, "token").as_deref(), Some("t"));
        assert_eq!(extract(&d, "data.items.0.id").as_deref(), Some("a"));
        assert_eq!(extract(&d, "/data/items/0/id").as_deref(), Some("a"));
        assert_eq!(extract(&d, "data.items.1.id"), None);
        assert_eq!(extract(&d, "n"), None);
    }

    #[test]
    fn errors_name_the_variable() {
        let w = vec![("gid".to_string(), "id".to_string())];
        assert!(extract_all(b"not json", &w)
            .unwrap_err()
            .contains("not JSON"));
        assert!(extract_all(b"{}", &w).unwrap_err().contains("`gid`"));
        assert_eq!(
            extract_all(b"{\"id\":3}", &w).unwrap(),
            vec![("gid".into(), "3".into())]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), path in "[a-z0-9./]{0,12}") {
            let _ = extract_all(&body, &[("v".into(), path)]);
        }
    }
}
