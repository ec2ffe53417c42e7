//! Collected values → native perfwatch results plus run metadata.
//!
//! Naming: benchmark = measure = the query's name; a `by` query adds the parameter
//! `{label: value}` (e.g. `cpu` with `endpoint=a`), so each label value is its own
//! series while the query stays one benchmark in the UI.

use std::collections::BTreeMap;

use perfwatch_core::model::{ResultInput, RunSubmission};
use perfwatch_core::validate::validate_run;
use serde_json::{json, Map, Value};

use crate::collect::{CollectedValue, Collection};
use crate::config::QuerySpec;

/// One [`ResultInput`] per valid value, and the metadata that explains every value:
/// `metrics_window`, `metrics` (query text, evaluation time, coverage, series count per
/// value) and `invalid_metrics` (each invalid value with its reason).
pub fn to_results(c: &Collection, specs: &[QuerySpec]) -> (Vec<ResultInput>, Map<String, Value>) {
    let mut results = Vec::new();
    let mut described = Vec::with_capacity(c.values.len());
    let mut invalid = Vec::new();
    for v in &c.values {
        described.push(describe(v));
        let invalid_entry = |reason: &str| {
            json!({
                "query": v.query,
                "label": label_json(v),
                "reason": reason,
            })
        };
        if let Some(reason) = &v.invalid {
            invalid.push(invalid_entry(reason));
            continue;
        }
        let (Some(value), Some(spec)) = (v.value, specs.iter().find(|s| s.name == v.query)) else {
            // No value (no data, not required) or a value without its spec: nothing to store.
            continue;
        };
        let mut params = BTreeMap::new();
        if let Some((k, val)) = &v.label {
            params.insert(k.clone(), val.clone());
        }
        let result = ResultInput {
            benchmark: spec.name.clone(),
            measure: spec.name.clone(),
            unit: spec.unit.clone(),
            direction: spec.direction,
            params,
            samples: vec![value],
            percentiles: BTreeMap::new(),
            iterations: None,
        };
        // A label value with a comma, or a negative duration, would make the whole
        // run's submission fail validation: such a value is reported, not submitted.
        match ingest_problem(&result) {
            Some(reason) => invalid.push(invalid_entry(&reason)),
            None => results.push(result),
        }
    }
    let mut meta = Map::new();
    meta.insert(
        "metrics_window".into(),
        json!({
            "start": c.start.to_rfc3339(),
            "end": c.end.to_rfc3339(),
            "seconds": (c.end - c.start).num_milliseconds() as f64 / 1000.0,
        }),
    );
    meta.insert("metrics".into(), Value::Array(described));
    meta.insert("invalid_metrics".into(), Value::Array(invalid));
    (results, meta)
}

/// Why ingest would refuse this result (the same rules as `POST /api/v1/runs`).
fn ingest_problem(r: &ResultInput) -> Option<String> {
    let run = RunSubmission {
        project: "metrics".into(),
        results: vec![r.clone()],
        ..RunSubmission::default()
    };
    validate_run(run).err().map(|e| {
        e.errors
            .iter()
            .map(|f| {
                let field = f.path.strip_prefix("results[0].").unwrap_or(&f.path);
                format!("{field}: {}", f.reason)
            })
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn label_json(v: &CollectedValue) -> Value {
    match &v.label {
        Some((k, val)) => json!({ k: val }),
        None => Value::Null,
    }
}

fn describe(v: &CollectedValue) -> Value {
    json!({
        "query": v.query,
        "label": label_json(v),
        // serde_json turns a non-finite number into null; values are finite or None here.
        "value": v.value,
        "query_text": v.query_text,
        "evaluated_at": v.evaluated_at.to_rfc3339(),
        "window_s": v.window_s,
        "coverage": v.coverage,
        "series_count": v.series_count,
        "invalid": v.invalid,
        "note": v.note,
    })
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod tests;
