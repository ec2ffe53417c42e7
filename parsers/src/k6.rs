//! k6 end-of-test summary JSON: the `data` object `handleSummary(data)` receives
//! (`JSON.stringify(data)`), the legacy `--summary-export` file (same metrics, the
//! values inline instead of under `values`), and the machine-readable summary of
//! `--new-machine-readable-summary` (k6 ≥ 1.5: `results.metrics` is an array of
//! `{name, type, contains, values}`; a rate's `matches`/`total` are read as `passes`
//! and `total`). All three give the same series.
//!
//! Benchmark: the metric name; a sub-metric's tags (`http_req_duration{name:POST /x}`)
//! become params. Measure: each summary value (`avg`, `min`, `med`, `max`, `p90`,
//! `p95`, `p99.9`, `count`, `rate`, `passes`, `fails`, `value`), one sample each (k6
//! keeps no raw samples in its summary). Units follow the metric's `contains`: `time` →
//! `ms`, `data` → `B`, else `count`; counter rates are per second (`1/s`, `B/s`); rate
//! metrics (`checks`, `http_req_failed`) are fractions, written as `%`. Direction:
//! trends lower; counters and rates higher unless the metric name says fail/error.
//! Failed thresholds and the test duration go to metadata; groups and checks trees are
//! ignored (the `checks` metric carries their totals).

use serde_json::{Map, Value};

use crate::common::{
    at_path, clean_key, clean_param, copy_scalars, index_path, key_path, parse_json, Obs, Params,
    Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::K6;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let mut series = Series::default();
    let mut metadata = Map::new();
    let mut failed_thresholds = Vec::new();
    let mut read = |full_name: &str, m: &Map<String, Value>, path: &str| {
        read_metric(&j, &mut series, &mut failed_thresholds, full_name, m, path)
    };
    match root.get("results") {
        // The machine-readable summary (`--new-machine-readable-summary`, k6 ≥ 1.5):
        // `results.metrics` is an array of `{name, type, contains, values}`.
        Some(results) if !root.contains_key("metrics") => {
            let results = j.obj(results, "results")?;
            let list = j.arr(j.field(results, "metrics", "results")?, "results.metrics")?;
            for (i, m) in list.iter().enumerate() {
                let path = index_path("results.metrics", i);
                let m = j.obj(m, &path)?;
                let name = j.req_str(m, "name", &path)?;
                read(name, m, &path)?;
            }
            if let Some(Value::Object(meta)) = root.get("metadata") {
                copy_scalars(&mut metadata, meta, &["k6Version", "k6_version"], "");
            }
            copy_scalars(&mut metadata, root, &["version"], "summary_");
        }
        _ => {
            let metrics = j.obj(j.field(root, "metrics", "")?, "metrics")?;
            for (full_name, m) in metrics {
                let path = key_path("metrics", full_name);
                read(full_name, j.obj(m, &path)?, &path)?;
            }
        }
    }
    if !failed_thresholds.is_empty() {
        metadata.insert("failed_thresholds".into(), Value::Array(failed_thresholds));
    }
    if let Some(d) = root
        .get("state")
        .and_then(|s| s.get("testRunDurationMs"))
        .filter(|d| d.is_number())
    {
        metadata.insert("test_run_duration_ms".into(), d.clone());
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn read_metric(
    j: &J,
    series: &mut Series,
    failed_thresholds: &mut Vec<Value>,
    full_name: &str,
    m: &Map<String, Value>,
    path: &str,
) -> Result<(), ParseError> {
    let (name, params) = split_tags(full_name);
    let values = match m.get("values") {
        Some(v) => j.obj(v, &key_path(path, "values"))?,
        None => m,
    };
    let kind = match j.opt_str(m, "type", path)? {
        Some(t) => t,
        None => infer_type(values),
    };
    let contains = j
        .opt_str(m, "contains", path)?
        .unwrap_or_else(|| infer_contains(name, kind));
    let base_unit = match contains {
        "time" => "ms",
        "data" => "B",
        _ => "count",
    };
    let bad_when_high = {
        let l = name.to_ascii_lowercase();
        l.contains("fail") || l.contains("error")
    };
    let good_way = if bad_when_high {
        Direction::Lower
    } else {
        Direction::Higher
    };
    let values_path = if m.contains_key("values") {
        key_path(path, "values")
    } else {
        path.to_string()
    };
    for (stat, x) in values {
        // Legacy exports put `thresholds` and `type` next to the values.
        if !x.is_number() {
            continue;
        }
        let vp = key_path(&values_path, stat);
        let mut x = j.num(x, &vp)?;
        let (measure, unit, direction) = stat_measure(kind, stat, base_unit, good_way, &mut x);
        series
            .add(Obs {
                benchmark: name,
                params: &params,
                measure: &measure,
                unit: &unit,
                direction,
                samples: &[x],
                iterations: None,
            })
            .map_err(at_path(F, &vp))?;
    }
    collect_failed_thresholds(failed_thresholds, full_name, m);
    Ok(())
}

/// Measure, unit and direction of statistic `stat` of a metric of type `kind`; a rate's
/// fraction `x` becomes a percentage.
fn stat_measure(
    kind: &str,
    stat: &str,
    base_unit: &str,
    good_way: Direction,
    x: &mut f64,
) -> (String, String, Option<Direction>) {
    let (unit, direction): (String, Option<Direction>) = match (kind, stat) {
        ("trend", "count") => ("count".into(), None),
        ("trend", _) => (base_unit.into(), Some(Direction::Lower)),
        ("counter", "rate") => (rate_unit(base_unit), Some(good_way)),
        ("counter", _) => (base_unit.into(), Some(good_way)),
        ("rate", "rate" | "value") => {
            *x *= 100.0;
            ("%".into(), Some(good_way))
        }
        // `matches` is the new summary's name for `passes`.
        ("rate", "passes" | "matches") => ("count".into(), Some(good_way)),
        ("rate", "fails") => ("count".into(), Some(flip(good_way))),
        ("rate", _) => ("count".into(), None),
        _ => (base_unit.into(), None),
    };
    let measure = match (kind, stat) {
        ("rate", "value") => "rate".to_string(),
        ("rate", "matches") => "passes".to_string(),
        _ => stat_name(stat),
    };
    (measure, unit, direction)
}

/// Thresholds of the metric that failed, as `<metric>: <expression>`.
fn collect_failed_thresholds(failed: &mut Vec<Value>, full_name: &str, m: &Map<String, Value>) {
    let Some(Value::Object(th)) = m.get("thresholds") else {
        return;
    };
    for (expr, state) in th {
        let ok = match state {
            Value::Object(s) => s.get("ok").and_then(Value::as_bool).unwrap_or(true),
            // Legacy export: `"thresholds": {"p(95)<500": false}` where the bool
            // is "failed".
            Value::Bool(failed) => !failed,
            _ => true,
        };
        if !ok {
            failed.push(Value::from(format!("{full_name}: {expr}")));
        }
    }
}

fn flip(d: Direction) -> Direction {
    match d {
        Direction::Lower => Direction::Higher,
        Direction::Higher => Direction::Lower,
    }
}

fn rate_unit(base: &str) -> String {
    match base {
        "count" => "1/s".into(),
        b => format!("{b}/s"),
    }
}

/// `p(99.9)` → `p99.9`; other names as they are.
fn stat_name(stat: &str) -> String {
    match stat.strip_prefix("p(").and_then(|s| s.strip_suffix(')')) {
        Some(q) => format!("p{q}"),
        None => stat.to_string(),
    }
}

/// `http_req_duration{name:POST /x,status:200}` → (`http_req_duration`, {name, status}).
fn split_tags(full: &str) -> (&str, Params) {
    let mut params = Params::new();
    let Some((name, rest)) = full.split_once('{') else {
        return (full, params);
    };
    let inner = rest.strip_suffix('}').unwrap_or(rest);
    for tag in inner.split(',') {
        let (k, v) = tag.split_once(':').unwrap_or((tag, ""));
        let k = clean_key(k.trim());
        if !k.is_empty() {
            params.insert(k, clean_param(v.trim()));
        }
    }
    (name, params)
}

/// Legacy exports carry no `type`: tell it from the value names.
fn infer_type(values: &Map<String, Value>) -> &'static str {
    if values.contains_key("passes") || values.contains_key("fails") {
        "rate"
    } else if values.contains_key("avg") || values.contains_key("med") {
        "trend"
    } else if values.contains_key("count") {
        "counter"
    } else {
        "gauge"
    }
}

/// Legacy exports carry no `contains`: k6's built-in metrics are known.
fn infer_contains(name: &str, kind: &str) -> &'static str {
    if kind == "trend" && (name.starts_with("http_req_") || name.ends_with("_duration")) {
        "time"
    } else if name.starts_with("data_") {
        "data"
    } else {
        "default"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_metric_tags_become_params_and_rates_percent() {
        let input = r#"{"metrics":{
          "http_req_duration{name:POST /groups}":{"type":"trend","contains":"time","values":{"avg":12.5,"p(95)":30}},
          "http_req_failed":{"type":"rate","contains":"default","values":{"rate":0.02,"passes":2,"fails":98}}},
          "state":{"testRunDurationMs":1000}}"#;
        let p = parse(input).unwrap();
        let d = p.results.iter().find(|r| r.measure == "p95").unwrap();
        assert_eq!(d.params["name"], "POST /groups");
        assert_eq!(d.unit, "ms");
        let f = p
            .results
            .iter()
            .find(|r| r.benchmark == "http_req_failed" && r.measure == "rate")
            .unwrap();
        assert_eq!(f.samples, vec![2.0]);
        assert_eq!(f.direction, Some(Direction::Lower));
    }

    #[test]
    fn legacy_summary_export() {
        let input = r#"{"root_group":{},"metrics":{
          "http_req_duration":{"avg":10,"min":1,"med":9,"max":50,"p(90)":20,"p(95)":25,"thresholds":{"p(95)<20":true}},
          "http_reqs":{"count":100,"rate":10},
          "checks":{"passes":9,"fails":1,"value":0.9}}}"#;
        let p = parse(input).unwrap();
        assert!(p
            .results
            .iter()
            .any(|r| r.benchmark == "http_req_duration" && r.measure == "p90" && r.unit == "ms"));
        assert!(p
            .results
            .iter()
            .any(|r| r.benchmark == "http_reqs" && r.measure == "rate" && r.unit == "1/s"));
        assert!(p
            .results
            .iter()
            .any(|r| r.benchmark == "checks" && r.measure == "rate" && r.samples == vec![90.0]));
        assert_eq!(
            p.metadata["failed_thresholds"][0],
            "http_req_duration: p(95)<20"
        );
    }
}
