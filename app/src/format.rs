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

/// How long ago `then` was at `now` (ms), in the largest whole unit: `45 s`, `12 min`,
/// `3 h`, `9 d`.
pub fn age(now: i64, then: i64) -> String {
    let s = (now - then).max(0) / 1000;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_in_the_largest_whole_unit() {
        use super::age;
        assert_eq!(age(90_000, 0), "1 min");
        assert_eq!(age(5_000, 0), "5 s");
        assert_eq!(age(3 * 3_600_000 + 5, 0), "3 h");
        assert_eq!(age(9 * 86_400_000, 0), "9 d");
        assert_eq!(age(0, 10), "0 s", "a future time is now");
    }
}
