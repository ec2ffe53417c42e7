//! Client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`), as
//! spoken by Prometheus, Thanos, Mimir and VictoriaMetrics.
//!
//! Queries go as POST forms (long PromQL does not hit URL limits). Errors are typed so
//! the work queue knows what to retry, and never carry credentials: the URL may not hold
//! any (checked in config) and secrets only travel in headers.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;

use crate::config::{Auth, PromSource};

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// Connection refused, DNS, timeout: retry later.
    #[error("metrics source unreachable: {0}")]
    Unreachable(String),
    /// A non-success HTTP status without a Prometheus error body (or a 5xx with one).
    #[error("metrics source answered HTTP {status}: {body_excerpt}")]
    Http { status: u16, body_excerpt: String },
    /// Prometheus rejected the query (`bad_data`, `execution`, …): fix the query.
    #[error("query rejected: {0}")]
    Query(String),
    /// The answer is not the JSON the API documents.
    #[error("cannot decode the answer: {0}")]
    Decode(String),
    /// A query template does not expand for this window.
    #[error("query {query}: {reason}")]
    Template { query: String, reason: String },
    /// A query with `empty = "error"` returned nothing.
    #[error("query {query} returned no data (empty = \"error\")")]
    Empty { query: String },
    /// The window is not settled yet: retry at `not_before`.
    #[error("window not settled: query after {}", not_before.to_rfc3339())]
    NotSettled { not_before: DateTime<Utc> },
    /// The run's window is empty or reversed.
    #[error("run window: {0}")]
    Window(String),
    /// The source settings cannot make a client (bad URL or header).
    #[error("metrics source settings: {0}")]
    Config(String),
}

impl SourceError {
    /// Whether trying again later may succeed: outages, 5xx, 429, unsettled windows.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) | Self::NotSettled { .. } => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

/// Labels of one series.
pub type Labels = BTreeMap<String, String>;

/// A decoded query result.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryData {
    /// Instant vector: one value per series.
    Vector(Vec<(Labels, f64)>),
    /// Range vector: `(unix seconds, value)` points per series.
    Matrix(Vec<(Labels, Vec<(f64, f64)>)>),
    Scalar(f64),
    /// A string result (PromQL string literal); carries no measurement.
    String(String),
}

/// A client bound to one source.
#[derive(Debug, Clone)]
pub struct PromClient {
    http: reqwest::Client,
    base: url::Url,
}

impl PromClient {
    pub fn new(src: &PromSource) -> Result<Self, SourceError> {
        let mut base =
            url::Url::parse(&src.base_url).map_err(|e| SourceError::Config(format!("url: {e}")))?;
        // Join relative paths under a prefix such as `/prometheus`.
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &src.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SourceError::Config(format!("header name `{name}` is invalid")))?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                SourceError::Config(format!("header `{name}` has an invalid value"))
            })?;
            headers.insert(n, v);
        }
        if let Some(mut v) = auth_header(&src.auth) {
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let http = reqwest::Client::builder()
            .timeout(src.timeout)
            .connect_timeout(src.timeout.min(Duration::from_secs(5)))
            .default_headers(headers)
            // A redirect would turn the POST into a GET without the query (and could
            // carry the credentials elsewhere): report it instead of following it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SourceError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self { http, base })
    }

    /// Evaluates `query` at instant `time`.
    pub async fn instant(
        &self,
        query: &str,
        time: DateTime<Utc>,
    ) -> Result<QueryData, SourceError> {
        let form = [("query", query.to_string()), ("time", unix(time))];
        self.post("api/v1/query", &form).await
    }

    /// Evaluates `query` at every `step` in `[start, end]`.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<QueryData, SourceError> {
        let form = [
            ("query", query.to_string()),
            ("start", unix(start)),
            ("end", unix(end)),
            ("step", format!("{}", step.as_secs_f64())),
        ];
        self.post("api/v1/query_range", &form).await
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> Result<QueryData, SourceError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| SourceError::Config(format!("url: {e}")))?;
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| excerpt(l.split(['?', '#']).next().unwrap_or_default()))
                .unwrap_or_default();
            return Err(SourceError::Http {
                status,
                body_excerpt: format!("redirects to `{to}`: set the URL to the final address"),
            });
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        decode(status, &bytes)
    }
}

fn auth_header(auth: &Auth) -> Option<HeaderValue> {
    let text = match auth {
        Auth::None => return None,
        Auth::Bearer(t) => format!("Bearer {t}"),
        Auth::Basic { user, password } => {
            format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
        }
    };
    HeaderValue::from_str(&text).ok()
}

/// Standard base64 for the Basic header (small enough not to need a crate).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Transport errors carry no URL (it could name internal hosts in user-facing text).
fn transport(e: reqwest::Error) -> SourceError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        detail = format!("{detail}: {s}");
        src = s.source();
    }
    SourceError::Unreachable(format!("{kind} ({})", excerpt(&detail)))
}

fn unix(t: DateTime<Utc>) -> String {
    format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)
}

fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct SeriesJson {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
}

/// Turns a status and body into data or a typed error.
pub fn decode(status: u16, body: &[u8]) -> Result<QueryData, SourceError> {
    let text = String::from_utf8_lossy(body);
    let env: Result<Envelope, _> = serde_json::from_slice(body);
    let env = match env {
        Ok(e) => e,
        Err(e) if (200..300).contains(&status) => {
            return Err(SourceError::Decode(format!(
                "not Prometheus API JSON ({e}): {}",
                excerpt(&text)
            )))
        }
        Err(_) => {
            return Err(SourceError::Http {
                status,
                body_excerpt: excerpt(&text),
            })
        }
    };
    if env.status != "success" {
        let kind = env.error_type.unwrap_or_else(|| "error".into());
        let msg = format!("{kind}: {}", env.error.unwrap_or_default());
        // A 5xx with an error body is an outage or overload (timeout, unavailable).
        if status >= 500 || status == 429 {
            return Err(SourceError::Http {
                status,
                body_excerpt: excerpt(&msg),
            });
        }
        return Err(SourceError::Query(msg));
    }
    if !(200..300).contains(&status) {
        return Err(SourceError::Http {
            status,
            body_excerpt: excerpt(&text),
        });
    }
    let data = env
        .data
        .ok_or_else(|| SourceError::Decode("status success without data".into()))?;
    decode_data(data)
}

fn decode_data(d: Data) -> Result<QueryData, SourceError> {
    let bad = |e: serde_json::Error| SourceError::Decode(format!("{} result: {e}", d.result_type));
    match d.result_type.as_str() {
        "vector" => {
            let series: Vec<SeriesJson> = serde_json::from_value(d.result.clone()).map_err(bad)?;
            let mut out = Vec::with_capacity(series.len());
            for s in series {
                let (_, v) = s
                    .value
                    .ok_or_else(|| SourceError::Decode("vector sample without `value`".into()))?;
                out.push((s.metric, number(&v)?));
            }
            Ok(QueryData::Vector(out))
        }
        "matrix" => {
            let series: Vec<SeriesJson> = serde_json::from_value(d.result.clone()).map_err(bad)?;
            let mut out = Vec::with_capacity(series.len());
            for s in series {
                let points = s
                    .values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(t, v)| number(&v).map(|v| (t, v)))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push((s.metric, points));
            }
            Ok(QueryData::Matrix(out))
        }
        "scalar" => {
            let (_, v): (f64, String) = serde_json::from_value(d.result.clone()).map_err(bad)?;
            Ok(QueryData::Scalar(number(&v)?))
        }
        "string" => {
            let (_, v): (f64, String) = serde_json::from_value(d.result.clone()).map_err(bad)?;
            Ok(QueryData::String(v))
        }
        other => Err(SourceError::Decode(format!("unknown resultType `{other}`"))),
    }
}

/// Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`.
fn number(s: &str) -> Result<f64, SourceError> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse::<f64>().map_err(|_| {
            SourceError::Decode(format!("sample value `{}` is not a number", excerpt(s)))
        }),
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
