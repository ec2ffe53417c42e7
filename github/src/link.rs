//! The `Link` header of GitHub's paginated answers:
//! `<https://api.github.com/…&page=2>; rel="next", <…&page=5>; rel="last"`.

use reqwest::header::{HeaderMap, LINK};

/// The URL with `rel="next"`, if any.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                let rel = p.strip_prefix("rel=").map(|r| r.trim_matches('"'));
                rel.is_some_and(|r| r.split_whitespace().any(|x| x == "next"))
            });
            is_next.then(|| url.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn link(v: &str) -> Option<String> {
        let mut h = HeaderMap::new();
        h.insert(LINK, HeaderValue::from_str(v).unwrap());
        next_link(&h)
    }

    #[test]
    fn finds_next() {
        let v = r#"<https://api.github.com/r?page=1>; rel="prev", <https://api.github.com/r?page=3>; rel="next", <https://api.github.com/r?page=5>; rel="last""#;
        assert_eq!(link(v).as_deref(), Some("https://api.github.com/r?page=3"));
        assert_eq!(link(r#"<http://x/?page=9>; rel="last""#), None);
        assert_eq!(link("garbage"), None);
        assert_eq!(
            link(r#"<http://x/2>;rel=next"#).as_deref(),
            Some("http://x/2")
        );
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
