//! Reading fields out of a webhook payload by dotted path, so that every error names
//! the exact path that was missing or of the wrong type (`pull_request.head.sha`).

use serde_json::Value;

use crate::events::EventError;

/// The value at `path` (dot-separated object keys), or None when any step is absent
/// or null. GitHub sends `null` for things that are gone (a deleted fork's repo, the
/// head commit of a branch deletion), so absent and null mean the same here.
pub(crate) fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for key in path.split('.') {
        cur = cur.as_object()?.get(key)?;
        if cur.is_null() {
            return None;
        }
    }
    Some(cur)
}

fn wrong(path: &str, expected: &'static str) -> EventError {
    EventError::WrongType {
        path: path.to_string(),
        expected,
    }
}

fn missing(path: &str) -> EventError {
    EventError::Missing(path.to_string())
}

/// A required string.
pub(crate) fn string(root: &Value, path: &str) -> Result<String, EventError> {
    opt_string(root, path)?.ok_or_else(|| missing(path))
}

/// An optional string: absent or null → None; any other non-string is an error.
pub(crate) fn opt_string(root: &Value, path: &str) -> Result<Option<String>, EventError> {
    match get(root, path) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong(path, "a string")),
    }
}

/// A required unsigned integer.
pub(crate) fn uint(root: &Value, path: &str) -> Result<u64, EventError> {
    match get(root, path) {
        None => Err(missing(path)),
        Some(v) => v.as_u64().ok_or_else(|| wrong(path, "an unsigned integer")),
    }
}

/// A boolean that GitHub sometimes leaves out; absent or null → false.
pub(crate) fn flag(root: &Value, path: &str) -> Result<bool, EventError> {
    match get(root, path) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(wrong(path, "a boolean")),
    }
}

/// An optional array: absent or null → empty.
pub(crate) fn array<'a>(root: &'a Value, path: &str) -> Result<&'a [Value], EventError> {
    match get(root, path) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(wrong(path, "an array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_errors() {
        let v = json!({"a": {"b": "x", "n": 3, "f": true, "z": null, "arr": [1]}});
        assert_eq!(string(&v, "a.b"), Ok("x".into()));
        assert_eq!(string(&v, "a.c"), Err(EventError::Missing("a.c".into())));
        assert_eq!(string(&v, "a.z"), Err(EventError::Missing("a.z".into())));
        assert_eq!(
            string(&v, "a.b.c"),
            Err(EventError::Missing("a.b.c".into()))
        );
        assert_eq!(
            string(&v, "a.n"),
            Err(EventError::WrongType {
                path: "a.n".into(),
                expected: "a string"
            })
        );
        assert_eq!(uint(&v, "a.n"), Ok(3));
        assert!(uint(&v, "a.b").is_err());
        assert_eq!(flag(&v, "a.f"), Ok(true));
        assert_eq!(flag(&v, "a.missing"), Ok(false));
        assert!(flag(&v, "a.n").is_err());
        assert_eq!(array(&v, "a.arr").map(<[Value]>::len), Ok(1));
        assert_eq!(array(&v, "a.none").map(<[Value]>::len), Ok(0));
        assert!(array(&v, "a.b").is_err());
    }
}
