//! Formatting for people: dates, changes, short shas.

pub use perfwatch_core::units::{format_value, sig};

/// `2026-11-21 06:30` (UTC) from milliseconds since the epoch.
pub fn datetime(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// `2026-11-21` from milliseconds since the epoch.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn short_sha(sha: &str) -> String {
    sha.chars().take(10).collect()
}

/// `+3.2%` / `-0.4%`.
pub fn pct(p: f64) -> String {
    format!("{}{:.1}%", if p >= 0.0 { "+" } else { "" }, p)
}
