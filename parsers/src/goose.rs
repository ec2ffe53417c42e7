//! Goose's JSON report (`--report-file report.json`, the serialised report data):
//! `raw_request_metrics` (per request: counts, response time average/min/max in ms,
//! requests/s), `raw_response_metrics` (per request: `percentile_50` … `percentile_100`
//! in ms), `transaction_metrics` and `scenario_metrics`.
//!
//! Benchmark: `<method> <name>` for requests, `transaction <name>` and `scenario <name>`
//! for the others; read as perfwatch's load series (`latency` with percentiles,
//! `throughput`, `requests`, `failures`, `error_rate`). Scenarios add `iterations`.
//! Errors go to metadata.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::common::{at_path, index_path, key_path, parse_json, Series, J};
use crate::load_common::{percentile_key, LoadSummary};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Goose;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let list = |key: &str| -> Result<&[Value], ParseError> {
        match root.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(v) => Ok(j.arr(v, key)?.as_slice()),
        }
    };
    let name_of = |e: &Map<String, Value>, path: &str| -> Result<String, ParseError> {
        let name = j.req_str(e, "name", path)?;
        Ok(match j.opt_str(e, "method", path)? {
            Some(m) => format!("{m} {name}"),
            None => name.to_string(),
        })
    };
    // Percentiles per request, joined to the request rows by name.
    let mut percentiles: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for (i, e) in list("raw_response_metrics")?.iter().enumerate() {
        let path = index_path("raw_response_metrics", i);
        let e = j.obj(e, &path)?;
        let mut ps = Vec::new();
        for (k, x) in e {
            if let Some(q) = k.strip_prefix("percentile_").and_then(percentile_key_of) {
                ps.push((q, j.num(x, &key_path(&path, k))?));
            }
        }
        percentiles.insert(name_of(e, &path)?, ps);
    }
    let mut series = Series::default();
    for (key, prefix) in [
        ("raw_request_metrics", ""),
        ("transaction_metrics", "transaction "),
        ("scenario_metrics", "scenario "),
    ] {
        for (i, e) in list(key)?.iter().enumerate() {
            let path = index_path(key, i);
            let e = j.obj(e, &path)?;
            let bench = format!("{prefix}{}", name_of(e, &path)?);
            let summary = LoadSummary {
                latency_mean_ms: j.opt_num(e, "response_time_average", &path)?,
                percentiles_ms: percentiles.remove(&bench).unwrap_or_default(),
                requests: match j.opt_num(e, "number_of_requests", &path)? {
                    Some(n) => Some(n),
                    None => j.opt_num(e, "count", &path)?,
                },
                failures: j.opt_num(e, "number_of_failures", &path)?,
                throughput: match j.opt_num(e, "requests_per_second", &path)? {
                    Some(t) => Some(t),
                    None => j.opt_num(e, "count_per_second", &path)?,
                },
            };
            summary
                .add_to(&mut series, &bench)
                .map_err(at_path(F, &path))?;
        }
    }
    let mut metadata = Map::new();
    if let Some(e) = root
        .get("errors")
        .filter(|e| e.as_array().is_some_and(|a| !a.is_empty()))
    {
        metadata.insert("errors".into(), e.clone());
    }
    if let Some(Value::Object(raw)) = root.get("raw_metrics") {
        crate::common::copy_scalars(
            &mut metadata,
            raw,
            &["duration", "maximum_users", "total_users"],
            "",
        );
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn percentile_key_of(q: &str) -> Option<String> {
    percentile_key(q)
}

/// `raw_request_metrics` next to `raw_metrics`.
pub(crate) fn looks_like(m: &Map<String, Value>) -> bool {
    m.contains_key("raw_request_metrics") && m.contains_key("raw_metrics")
}
