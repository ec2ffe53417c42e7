//! An http(s) URL checked once, for URLs accepted from a user or a setting (webhook
//! URLs, ticket trackers and ticket links, the GitHub API base in the integration and
//! in the GitHub client, a metric source's `url`, a project's `repo_url`, the server's
//! `--public-url`): parsed by the `url`
//! crate, scheme http or https, a host, no whitespace, a length limit; errors name the
//! field.

use std::fmt;

use serde::Serialize;

use crate::{FieldError, ValidationErrors};

/// A valid absolute http(s) URL, kept exactly as given (trimmed) so stored values and
/// the links built from them do not change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl {
    text: String,
    parsed: url::Url,
}

/// Serialised as the text it was given.
impl Serialize for HttpUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The limit when a field does not set its own.
pub const MAX_LEN: usize = 2000;

impl HttpUrl {
    /// Checks `text` as the value of `field` (at most [`MAX_LEN`] characters).
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        Self::parse_max(field, text, MAX_LEN)
    }

    /// As [`HttpUrl::parse`] with the field's own length limit.
    pub fn parse_max(field: &str, text: &str, max: usize) -> Result<Self, FieldError> {
        let t = text.trim();
        let bad = |why: String| FieldError::new(field, format!("must be an http(s) URL: {why}"));
        if t.chars().count() > max {
            return Err(bad(format!("longer than {max} characters")));
        }
        if t.chars().any(char::is_whitespace) {
            return Err(bad("not a URL (contains whitespace)".into()));
        }
        let u = url::Url::parse(t).map_err(|e| bad(format!("not a URL ({e})")))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(bad(format!("scheme `{}` is not http or https", u.scheme())));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(bad("has no host".into()));
        }
        Ok(Self {
            text: t.to_string(),
            parsed: u,
        })
    }

    /// Also refuses a user name or password in the URL, for URLs that end up in logs
    /// and error texts.
    pub fn parse_without_credentials(field: &str, text: &str) -> Result<Self, FieldError> {
        let u = Self::parse(field, text)?;
        let parsed = u.parsed();
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(FieldError::new(
                field,
                "must not contain a user name or password",
            ));
        }
        Ok(u)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// Whether the scheme is https.
    pub fn is_https(&self) -> bool {
        self.parsed.scheme() == "https"
    }

    /// The parsed form (normalised by the `url` crate).
    pub fn parsed(&self) -> &url::Url {
        &self.parsed
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A single field's error as the error list the API answers with (so callers write
/// `HttpUrl::parse(…).map_err(|e| StoreError::Invalid(e.into()))`).
impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self { errors: vec![e] }
    }
}

impl AsRef<str> for HttpUrl {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_as_given() {
        for ok in [
            "https://github.com/org/repo",
            "http://127.0.0.1:8080/hook?x=1",
            "  https://example.atlassian.net  ",
        ] {
            assert_eq!(HttpUrl::parse("url", ok).unwrap().as_str(), ok.trim());
        }
    }

    #[test]
    fn errors_name_the_field_and_the_reason() {
        for (bad, why) in [
            ("ftp://x.example/", "scheme `ftp`"),
            ("github.com/org", "not a URL"),
            ("https://", "not a URL"),
            ("https://a b.example", "whitespace"),
            ("javascript:alert(1)", "scheme `javascript`"),
            ("file:///etc/passwd", "scheme `file`"),
        ] {
            let e = HttpUrl::parse("base_url", bad).unwrap_err();
            assert_eq!(e.path, "base_url");
            assert!(e.reason.contains(why), "{bad}: {}", e.reason);
        }
        let long = format!("https://x.example/{}", "a".repeat(600));
        let e = HttpUrl::parse_max("repo_url", &long, 500).unwrap_err();
        assert!(e.reason.contains("longer than 500"), "{}", e.reason);
    }

    #[test]
    fn credentials_refused_where_asked() {
        assert!(HttpUrl::parse("url", "https://u:p@x.example/").is_ok());
        let e = HttpUrl::parse_without_credentials("metrics.url", "https://u:p@x.example/")
            .unwrap_err();
        assert_eq!(e.path, "metrics.url");
    }
}
