//! The `[metrics]` table of a job definition file: where the Prometheus-compatible API
//! is, how to authenticate, and which queries to evaluate over a run's window.
//!
//! Every error names the key (`metrics.query[1].query`, indices from 0) and why; unknown
//! keys are errors so a typo never silently drops a setting.

use std::time::Duration;

use perfwatch_core::http_url::HttpUrl;
use perfwatch_core::limits::{MAX_MEASURE, MAX_UNIT};
use perfwatch_core::units::Direction;
use toml::{Table, Value};

use crate::check::{check_keeps_label, check_template};
use crate::keys::{bounded, is_label_name, opt_str, reject_unknown, req_str};

/// A Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics).
#[derive(Debug, Clone, PartialEq)]
pub struct PromSource {
    /// `http://` or `https://` base, possibly with a path prefix (`…/prometheus`).
    pub base_url: String,
    /// Extra request headers (e.g. `X-Scope-OrgID` for Mimir).
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    /// Per-request timeout. Default 10 s.
    pub timeout: Duration,
    /// Don't query a window until `end + settle`, so late scrapes and remote-write lag
    /// have arrived. Default 2 × `scrape_interval` (30 s with the default interval).
    pub settle: Duration,
    /// Expected spacing of samples; the step of the coverage query. Default 15 s.
    pub scrape_interval: Duration,
}

/// How requests authenticate. Secrets come from environment variables named in the
/// file, never from the file itself.
#[derive(Clone, PartialEq, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: String,
    },
    Bearer(String),
}

// Hand-written so a `{:?}` in a log line never prints a secret.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: *** }}"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl PromSource {
    /// A source with the defaults for everything but the URL.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            headers: Vec::new(),
            auth: Auth::None,
            timeout: Duration::from_secs(10),
            settle: Duration::from_secs(30),
            scrape_interval: Duration::from_secs(15),
        }
    }
}

/// One query of a job: evaluated once per run window.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    /// Series name in perfwatch (the result's benchmark and measure).
    pub name: String,
    pub unit: String,
    /// Lower or higher is better; guessed from name and unit downstream when absent.
    pub direction: Option<Direction>,
    /// PromQL with placeholders (see [`crate::template`]).
    pub template: String,
    pub mode: Mode,
    pub on_empty: OnEmpty,
    /// Whether "no data" makes the value invalid. Default true.
    pub required: bool,
}

/// One value per run, or one per value of a label (`sum by (endpoint) (…)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Single,
    ByLabel(String),
}

/// What an empty query result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnEmpty {
    /// Nothing happened, so the value is 0 (error counters).
    Zero,
    /// No value; invalid when the query is required.
    NoData,
    /// The collection fails.
    Error,
}

/// A `[metrics]` table that cannot be used: the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct ConfigError {
    /// Dotted path of the key, e.g. `metrics.query[1].query`.
    pub key: String,
    pub reason: String,
}

pub(crate) fn err(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        reason: reason.into(),
    }
}

const SOURCE_KEYS: &[&str] = &[
    "url",
    "headers",
    "timeout",
    "settle",
    "scrape_interval",
    "bearer_token_env",
    "basic_user",
    "basic_password_env",
    "query",
];
const QUERY_KEYS: &[&str] = &[
    "name",
    "unit",
    "direction",
    "query",
    "by",
    "empty",
    "required",
];

/// Reads the `[metrics]` table (the table itself, not the whole file).
pub fn parse_metrics_table(t: &Table) -> Result<(PromSource, Vec<QuerySpec>), ConfigError> {
    reject_unknown(t, SOURCE_KEYS, "metrics")?;
    let url = req_str(t, "url", "metrics")?;
    let mut src = PromSource::new(check_url(url)?);
    src.timeout = bounded(t, "timeout", Duration::from_millis(1), 600)?.unwrap_or(src.timeout);
    src.scrape_interval = bounded(t, "scrape_interval", Duration::from_millis(1), 86_400)?
        .unwrap_or(src.scrape_interval);
    src.settle = bounded(t, "settle", Duration::ZERO, 7 * 86_400)?
        .unwrap_or(src.scrape_interval.saturating_mul(2));
    src.headers = headers(t)?;
    src.auth = auth(t)?;

    let queries = match t.get("query") {
        None => {
            return Err(err(
                "metrics.query",
                "missing: add at least one [[metrics.query]]",
            ))
        }
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(err(
                "metrics.query",
                "empty: add at least one [[metrics.query]]",
            ))
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(err(
                "metrics.query",
                "must be an array of tables ([[metrics.query]])",
            ))
        }
    };
    let mut specs: Vec<QuerySpec> = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let path = format!("metrics.query[{i}]");
        let Value::Table(q) = q else {
            return Err(err(path, "must be a table"));
        };
        let spec = query(q, &path)?;
        if specs.iter().any(|s| s.name == spec.name) {
            return Err(err(
                format!("{path}.name"),
                format!("`{}` is used twice", spec.name),
            ));
        }
        specs.push(spec);
    }
    Ok((src, specs))
}

fn query(q: &Table, path: &str) -> Result<QuerySpec, ConfigError> {
    reject_unknown(q, QUERY_KEYS, path)?;
    // The name and unit become a result's benchmark, measure and unit: same limits.
    let name = req_str(q, "name", path)?.trim().to_string();
    check_text(&name, MAX_MEASURE, &format!("{path}.name"))?;
    let unit = req_str(q, "unit", path)?.trim().to_string();
    check_text(&unit, MAX_UNIT, &format!("{path}.unit"))?;
    let direction = match opt_str(q, "direction", path)? {
        None => None,
        Some(d) => Some(Direction::parse(d).ok_or_else(|| {
            err(
                format!("{path}.direction"),
                format!("`{d}`: expected lower or higher"),
            )
        })?),
    };
    let template = req_str(q, "query", path)?.to_string();
    check_template(&template).map_err(|e| err(format!("{path}.query"), e.to_string()))?;
    let mode = match opt_str(q, "by", path)? {
        None => Mode::Single,
        Some(l) if is_label_name(l) => {
            check_keeps_label(&template, l)
                .map_err(|e| err(format!("{path}.by"), e.to_string()))?;
            Mode::ByLabel(l.to_string())
        }
        Some(l) => {
            return Err(err(
                format!("{path}.by"),
                format!("`{l}` is not a label name"),
            ));
        }
    };
    let on_empty = match opt_str(q, "empty", path)?.unwrap_or("no_data") {
        "zero" => OnEmpty::Zero,
        "no_data" => OnEmpty::NoData,
        "error" => OnEmpty::Error,
        other => {
            return Err(err(
                format!("{path}.empty"),
                format!("`{other}`: expected zero, no_data or error"),
            ))
        }
    };
    let required = match q.get("required") {
        None => true,
        Some(Value::Boolean(b)) => *b,
        Some(_) => return Err(err(format!("{path}.required"), "must be true or false")),
    };
    Ok(QuerySpec {
        name,
        unit,
        direction,
        template,
        mode,
        on_empty,
        required,
    })
}

fn check_text(value: &str, max: usize, key: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        Err(err(key, "must not be empty"))
    } else if value.chars().count() > max {
        Err(err(key, format!("longer than {max} characters")))
    } else if value.chars().any(char::is_control) {
        Err(err(key, "must not contain control characters"))
    } else {
        Ok(())
    }
}

fn check_url(url: &str) -> Result<String, ConfigError> {
    let url = HttpUrl::parse("metrics.url", url).map_err(|e| err(e.path, e.reason))?;
    let parsed = url.parsed();
    // Credentials in the URL would end up in logs and error texts.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(err(
            "metrics.url",
            "must not hold credentials: use basic_user/basic_password_env or bearer_token_env",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(err("metrics.url", "must not have a query or fragment"));
    }
    Ok(url.into_string())
}

fn headers(t: &Table) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(v) = t.get("headers") else {
        return Ok(Vec::new());
    };
    let Value::Table(h) = v else {
        return Err(err(
            "metrics.headers",
            "must be a table of name = \"value\"",
        ));
    };
    let mut out = Vec::new();
    for (name, value) in h {
        let key = format!("metrics.headers.{name}");
        let Value::String(value) = value else {
            return Err(err(key, "must be a string"));
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(err(key, "not a valid header name"));
        }
        if name.eq_ignore_ascii_case("authorization") {
            return Err(err(
                key,
                "secrets don't belong in the file: use bearer_token_env or basic_password_env",
            ));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(err(key, "value holds control characters"));
        }
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}

fn auth(t: &Table) -> Result<Auth, ConfigError> {
    let bearer = opt_str(t, "bearer_token_env", "metrics")?;
    let user = opt_str(t, "basic_user", "metrics")?;
    let pass_env = opt_str(t, "basic_password_env", "metrics")?;
    match (bearer, user, pass_env) {
        (None, None, None) => Ok(Auth::None),
        (Some(var), None, None) => Ok(Auth::Bearer(env_secret(var, "metrics.bearer_token_env")?)),
        (None, Some(user), Some(var)) => Ok(Auth::Basic {
            user: user.to_string(),
            password: env_secret(var, "metrics.basic_password_env")?,
        }),
        (None, Some(_), None) => Err(err(
            "metrics.basic_password_env",
            "missing: basic_user needs it",
        )),
        (None, None, Some(_)) => Err(err(
            "metrics.basic_user",
            "missing: basic_password_env needs it",
        )),
        (Some(_), _, _) => Err(err(
            "metrics.bearer_token_env",
            "choose bearer or basic authentication, not both",
        )),
    }
}

/// Reads a secret from the environment; the error names the variable, never a value.
fn env_secret(var: &str, key: &str) -> Result<String, ConfigError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(err(key, format!("environment variable {var} is empty"))),
        Err(_) => Err(err(key, format!("environment variable {var} is not set"))),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
