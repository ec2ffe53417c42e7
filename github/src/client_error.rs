//! Errors of the REST client, and how a GitHub response maps onto them: the outbox
//! that drives the client retries transient failures, waits out rate limits and gives
//! up on permanent ones, so the classification decides what happens to a report.

use chrono::{DateTime, Duration, Utc};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// Longest GitHub error message kept, so a huge HTML error page does not end up in
/// the database or a log line.
const MESSAGE_MAX: usize = 500;

/// Why a GitHub API call failed. Never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// GitHub's rate limit is spent; try again at `retry_at`.
    #[error("rate limited by GitHub until {retry_at}")]
    RateLimited {
        /// When the limit resets (or Retry-After elapses).
        retry_at: DateTime<Utc>,
    },
    /// A failure that may pass: 5xx, connection errors, timeouts.
    #[error("transient GitHub error: {0}")]
    Transient(String),
    /// A 4xx GitHub will answer the same way next time.
    #[error("GitHub refused the request ({status}): {message}")]
    Permanent {
        /// HTTP status.
        status: u16,
        /// GitHub's `message` (or the start of the body).
        message: String,
    },
    /// A success answer whose body is not what the API documents.
    #[error("unexpected GitHub response: {0}")]
    Decode(String),
    /// Bad configuration or arguments (API base URL, private key, repository name);
    /// caught before any request is sent.
    #[error("invalid GitHub client input: {0}")]
    Invalid(String),
}

impl ClientError {
    /// True when the same call may succeed later (rate limit or transient failure).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::RateLimited { .. } | ClientError::Transient(_)
        )
    }

    /// The error for a failed request that got no HTTP answer.
    pub(crate) fn from_reqwest(e: &reqwest::Error) -> ClientError {
        // Without the URL: it carries no secret, but it is noise next to the path the
        // caller already knows.
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        ClientError::Transient(format!("{kind}: {}", source_chain(e)))
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cur = inner.source();
    }
    text
}

/// Maps a non-success response to an error. `body` is the raw response body.
pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> ClientError {
    let code = status.as_u16();
    if code == 403 || code == 429 {
        if let Some(retry_at) = rate_limit_reset(headers, now) {
            return ClientError::RateLimited { retry_at };
        }
        if code == 429 {
            // GitHub's advice for a secondary limit without headers: wait a minute.
            return ClientError::RateLimited {
                retry_at: now + Duration::seconds(60),
            };
        }
    }
    let message = message_of(body);
    if status.is_server_error() || code == 408 {
        ClientError::Transient(format!("HTTP {code}: {message}"))
    } else {
        ClientError::Permanent {
            status: code,
            message,
        }
    }
}

/// When a rate-limited call may be retried: `Retry-After` (secondary limits) wins,
/// then `x-ratelimit-reset` when `x-ratelimit-remaining` is 0 (primary limit).
fn rate_limit_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(after) = text("retry-after") {
        if let Ok(secs) = after.parse::<u32>() {
            return Some(now + Duration::seconds(i64::from(secs)));
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(after) {
            return Some(at.with_timezone(&Utc));
        }
    }
    if text("x-ratelimit-remaining") == Some("0") {
        let reset = text("x-ratelimit-reset")?.parse::<i64>().ok()?;
        return DateTime::from_timestamp(reset, 0);
    }
    None
}

/// GitHub's `message` field, or else the start of the body as text.
fn message_of(body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let text = match parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(|m| m.as_str())
    {
        Some(m) => m.to_string(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let cut: String = text.chars().take(MESSAGE_MAX).collect();
    if cut.is_empty() {
        "(empty body)".to_string()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn classification() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        let s = |c| StatusCode::from_u16(c).unwrap();
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "5000"),
        ]);
        assert_eq!(
            classify(s(403), &primary, b"{}", now),
            ClientError::RateLimited {
                retry_at: DateTime::from_timestamp(5000, 0).unwrap()
            }
        );
        let secondary = headers(&[("retry-after", "30")]);
        assert_eq!(
            classify(s(429), &secondary, b"", now),
            ClientError::RateLimited {
                retry_at: now + Duration::seconds(30)
            }
        );
        assert!(classify(s(429), &HeaderMap::new(), b"", now).is_retryable());
        // A 403 with quota left is a permission problem, not a rate limit.
        let left = headers(&[
            ("x-ratelimit-remaining", "10"),
            ("x-ratelimit-reset", "5000"),
        ]);
        assert_eq!(
            classify(
                s(403),
                &left,
                br#"{"message":"Resource not accessible"}"#,
                now
            ),
            ClientError::Permanent {
                status: 403,
                message: "Resource not accessible".into()
            }
        );
        let e = classify(s(502), &HeaderMap::new(), b"<html>bad gateway</html>", now);
        assert!(matches!(e, ClientError::Transient(_)) && e.is_retryable());
        let e = classify(s(404), &HeaderMap::new(), &vec![b'x'; 10_000], now);
        assert!(
            matches!(&e, ClientError::Permanent { status: 404, message } if message.len() == MESSAGE_MAX)
        );
        assert!(!e.is_retryable());
        assert!(!ClientError::Decode("x".into()).is_retryable());
    }
}
