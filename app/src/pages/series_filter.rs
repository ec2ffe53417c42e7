//! The project page's series filter: every whitespace-separated term of the search
//! text must occur (case-insensitively) in the series' benchmark, measure, testbed or
//! params; "only with open alerts" keeps the series with an untriaged or acknowledged
//! alert. Pure, so the server render of `?q=…&open=1` and the live filter in the
//! browser agree.

use perfwatch_core::view::SeriesInfo;

pub fn matches(s: &SeriesInfo, q: &str) -> bool {
    let hay = format!("{} {} {} {}", s.benchmark, s.measure, s.testbed, s.params).to_lowercase();
    q.split_whitespace()
        .all(|t| hay.contains(&t.to_lowercase()))
}

/// The page's query string for a filter (empty parts left out).
pub fn query_string(q: &str, only_open: bool) -> String {
    let mut parts = Vec::new();
    if !q.trim().is_empty() {
        parts.push(format!("q={}", perfwatch_core::chart::encode(q.trim())));
    }
    if only_open {
        parts.push("open=1".to_string());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfwatch_core::units::Direction;

    fn s(bench: &str, measure: &str, testbed: &str, params: &str) -> SeriesInfo {
        SeriesInfo {
            id: 1,
            project: "p".into(),
            benchmark: bench.into(),
            measure: measure.into(),
            unit: "ns".into(),
            display_unit: "ns".into(),
            direction: Direction::Lower,
            testbed: testbed.into(),
            params: params.into(),
        }
    }

    #[test]
    fn every_term_must_match_some_field() {
        let a = s("BenchmarkInsertOne", "time", "linux-amd64", "size=1k");
        assert!(matches(&a, ""));
        assert!(matches(&a, "insert"));
        assert!(matches(&a, "INSERT linux"));
        assert!(matches(&a, "size=1k time"));
        assert!(!matches(&a, "insert darwin"));
        assert!(!matches(&a, "allocs"));
    }

    #[test]
    fn query_strings() {
        assert_eq!(query_string("", false), "");
        assert_eq!(query_string(" find one ", true), "?q=find%20one&open=1");
        assert_eq!(query_string("", true), "?open=1");
    }
}
