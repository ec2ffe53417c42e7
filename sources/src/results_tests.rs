use super::*;
use chrono::{TimeZone, Utc};
use perfwatch_core::units::Direction;

use crate::config::{Mode, OnEmpty};

fn value(
    query: &str,
    label: Option<&str>,
    value: Option<f64>,
    invalid: Option<&str>,
) -> CollectedValue {
    CollectedValue {
        query: query.into(),
        label: label.map(|l| ("endpoint".to_string(), l.to_string())),
        value,
        query_text: format!("{query} text"),
        evaluated_at: Utc
            .timestamp_opt(1_796_000_093, 0)
            .single()
            .unwrap_or_default(),
        window_s: 93.0,
        series_count: 1,
        coverage: 1.0,
        invalid: invalid.map(String::from),
        note: None,
    }
}

fn spec(name: &str, mode: Mode) -> QuerySpec {
    QuerySpec {
        name: name.into(),
        unit: "s".into(),
        direction: Some(Direction::Lower),
        template: "up".into(),
        mode,
        on_empty: OnEmpty::NoData,
        required: true,
    }
}

#[test]
fn valid_values_become_results_and_every_value_is_described() {
    let c = Collection {
        start: Utc
            .timestamp_opt(1_796_000_000, 0)
            .single()
            .unwrap_or_default(),
        end: Utc
            .timestamp_opt(1_796_000_093, 0)
            .single()
            .unwrap_or_default(),
        values: vec![
            value("p99", None, Some(0.75), None),
            value("cpu", Some("a"), Some(1.5), None),
            value("cpu", Some("b"), Some(0.5), Some("coverage 0.6 < 0.95")),
            value("opt", None, None, None),
        ],
    };
    let specs = [
        spec("p99", Mode::Single),
        spec("cpu", Mode::ByLabel("endpoint".into())),
        spec("opt", Mode::Single),
    ];
    let (results, meta) = to_results(&c, &specs);
    assert_eq!(results.len(), 2);
    assert_eq!(
        (results[0].benchmark.as_str(), results[0].measure.as_str()),
        ("p99", "p99")
    );
    assert_eq!(results[0].samples, vec![0.75]);
    assert_eq!(results[0].direction, Some(Direction::Lower));
    assert!(results[0].params.is_empty());
    assert_eq!(
        results[1].params.get("endpoint").map(String::as_str),
        Some("a")
    );
    assert_eq!(meta["metrics_window"]["seconds"], 93.0);
    assert_eq!(meta["metrics"].as_array().map(Vec::len), Some(4));
    assert_eq!(meta["metrics"][1]["query_text"], "cpu text");
    assert_eq!(meta["metrics"][1]["label"]["endpoint"], "a");
    let invalid = &meta["invalid_metrics"];
    assert_eq!(invalid.as_array().map(Vec::len), Some(1));
    assert_eq!(invalid[0]["reason"], "coverage 0.6 < 0.95");
    assert_eq!(invalid[0]["label"]["endpoint"], "b");
}

#[test]
fn values_ingest_would_refuse_are_reported_instead() {
    let c = Collection {
        start: Utc
            .timestamp_opt(1_796_000_000, 0)
            .single()
            .unwrap_or_default(),
        end: Utc
            .timestamp_opt(1_796_000_093, 0)
            .single()
            .unwrap_or_default(),
        values: vec![
            value("cpu", Some("GET /a,b"), Some(1.0), None),
            value("lat", None, Some(-2.0), None),
        ],
    };
    let specs = [
        spec("cpu", Mode::ByLabel("endpoint".into())),
        spec("lat", Mode::Single),
    ];
    let (results, meta) = to_results(&c, &specs);
    assert!(results.is_empty(), "{results:?}");
    let invalid = meta["invalid_metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(invalid.len(), 2);
    assert!(
        invalid[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("params.endpoint"),
        "{invalid:?}"
    );
    assert!(
        invalid[1]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("samples"),
        "{invalid:?}"
    );
}
