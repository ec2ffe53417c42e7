//! Typed reads from a TOML table, each error naming the dotted key.

use std::time::Duration;

use toml::{Table, Value};

use crate::config::{err, ConfigError};
use crate::duration::parse_duration;

pub(crate) fn reject_unknown(t: &Table, known: &[&str], path: &str) -> Result<(), ConfigError> {
    match t.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(err(
            format!("{path}.{k}"),
            format!("unknown key (known: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

pub(crate) fn opt_str<'a>(
    t: &'a Table,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("{path}.{key}"), "must be a string")),
    }
}

pub(crate) fn req_str<'a>(t: &'a Table, key: &str, path: &str) -> Result<&'a str, ConfigError> {
    opt_str(t, key, path)?.ok_or_else(|| err(format!("{path}.{key}"), "missing"))
}

fn opt_duration(t: &Table, key: &str, path: &str) -> Result<Option<Duration>, ConfigError> {
    match opt_str(t, key, path)? {
        None => Ok(None),
        Some(s) => parse_duration(s)
            .map(Some)
            .map_err(|reason| err(format!("{path}.{key}"), reason)),
    }
}

/// An optional duration within `[min, max_s seconds]`: a typo like `15h` for a scrape
/// interval is caught here rather than producing a useless coverage query.
pub(crate) fn bounded(
    t: &Table,
    key: &str,
    min: Duration,
    max_s: u64,
) -> Result<Option<Duration>, ConfigError> {
    let d = opt_duration(t, key, "metrics")?;
    match d {
        Some(d) if d < min => Err(err(format!("metrics.{key}"), "must be above zero")),
        Some(d) if d > Duration::from_secs(max_s) => {
            Err(err(format!("metrics.{key}"), format!("at most {max_s} s")))
        }
        other => Ok(other),
    }
}

pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
